// The iscsid.conf that `cmake --install` ships (contrib/iscsid.conf): it must
// load without a warning, set nothing, and every commented-out setting in it
// must be a real key, with its real default ("#key = value" lines) or a valid
// example value ("#   key = value" lines), so the file cannot drift from
// conf/record.cc's tables.
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "conf/iscsid_conf.h"
#include "conf/record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiscsi::conf {
namespace {

using ::testing::IsEmpty;

struct Setting {
  int line = 0;
  std::string key;
  std::string value;
  std::string text;  // the line without its comment marker
};

std::string ShippedText() {
  std::ifstream in(KISCSI_SHIPPED_ISCSID_CONF);
  EXPECT_TRUE(in) << "cannot read " << KISCSI_SHIPPED_ISCSID_CONF;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "#key = value" (`indent` 0, a default) or "#   key = value" (`indent` 3, an
// example): the commented-out settings of the file.
std::vector<Setting> CommentedSettings(const std::string& text, size_t indent) {
  std::vector<Setting> settings;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  const std::string marker = "#" + std::string(indent, ' ');
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind(marker, 0) != 0 || line.size() <= marker.size()) continue;
    std::string rest = line.substr(marker.size());
    if (rest[0] == ' ' || rest[0] == '#') continue;
    // A setting is "key = value" with a key of letters, digits, ".", "_",
    // "[", "]" and "-"; any other commented line is prose.
    size_t equals = rest.find(" =");
    if (equals == std::string::npos) continue;
    std::string key = rest.substr(0, equals);
    if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._[]-") !=
        std::string::npos) {
      continue;
    }
    std::string value = rest.substr(equals + 2);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    settings.push_back({number, key, value, rest});
  }
  return settings;
}

std::string JoinLines(const std::vector<Setting>& settings) {
  std::string text;
  for (const Setting& setting : settings) text += setting.text + "\n";
  return text;
}

TEST(ShippedIscsidConfTest, LoadsWithoutDiagnosticsAndSetsNothing) {
  absl::StatusOr<LoadedIscsidConf> loaded =
      LoadIscsidConf(KISCSI_SHIPPED_ISCSID_CONF);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<std::string> messages;
  for (const Diagnostic& d : loaded->diagnostics) messages.push_back(d.message);
  EXPECT_THAT(messages, IsEmpty());
  const Record defaults = DefaultRecord(RecordKind::kIscsidConf);
  for (const auto& [key, value] : defaults.entries()) {
    EXPECT_FALSE(loaded->conf.IsSet(key)) << key << " is set, not commented";
  }
}

TEST(ShippedIscsidConfTest, EveryCommentedDefaultIsTheRealDefault) {
  const std::vector<Setting> defaults = CommentedSettings(ShippedText(), 0);
  // Most of open-iscsi's iscsid.conf keys are there (a format change that
  // made the parser above find none must not pass).
  ASSERT_GE(defaults.size(), 40u);
  absl::StatusOr<LoadedIscsidConf> uncommented =
      ParseIscsidConf(JoinLines(defaults), "iscsid.conf defaults");
  ASSERT_TRUE(uncommented.ok()) << uncommented.status();
  std::vector<std::string> messages;
  for (const Diagnostic& d : uncommented->diagnostics) {
    messages.push_back(d.message);
  }
  EXPECT_THAT(messages, IsEmpty());
  const Record default_record = DefaultRecord(RecordKind::kIscsidConf);
  for (const Setting& setting : defaults) {
    const KeySpec* spec = FindKeySpec(RecordKind::kIscsidConf, setting.key);
    if (spec == nullptr) {
      ADD_FAILURE() << "line " << setting.line << ": unknown " << setting.key;
      continue;
    }
    EXPECT_EQ(setting.key, CanonicalKeyName(setting.key))
        << "line " << setting.line << ": an old alias";
    EXPECT_EQ(setting.value, default_record.Get(setting.key))
        << "line " << setting.line << ": " << setting.key
        << " is shown with a value that is not its default";
  }
}

TEST(ShippedIscsidConfTest, EveryExampleIsValid) {
  const std::vector<Setting> examples = CommentedSettings(ShippedText(), 3);
  ASSERT_GE(examples.size(), 10u);
  for (const Setting& setting : examples) {
    EXPECT_NE(FindKeySpec(RecordKind::kIscsidConf, setting.key), nullptr)
        << "line " << setting.line << ": " << setting.key;
  }
  absl::StatusOr<LoadedIscsidConf> uncommented =
      ParseIscsidConf(JoinLines(examples), "iscsid.conf examples");
  ASSERT_TRUE(uncommented.ok()) << uncommented.status();
  std::vector<std::string> messages;
  for (const Diagnostic& d : uncommented->diagnostics) {
    messages.push_back(d.message);
  }
  EXPECT_THAT(messages, IsEmpty());
}

TEST(ShippedIscsidConfTest, HasTheRootDiskRecipe) {
  absl::StatusOr<LoadedIscsidConf> recipe = ParseIscsidConf(
      JoinLines(CommentedSettings(ShippedText(), 3)), "iscsid.conf examples");
  ASSERT_TRUE(recipe.ok()) << recipe.status();
  EXPECT_EQ(recipe->conf.GetInt("node.conn[0].timeo.noop_out_interval"), 0);
  EXPECT_EQ(recipe->conf.GetInt("node.conn[0].timeo.noop_out_timeout"), 0);
  EXPECT_EQ(recipe->conf.GetInt("node.session.timeo.replacement_timeout"),
            86400);
}

// Keys only iscsid.conf has (kiscsi's own among them) are all documented.
TEST(ShippedIscsidConfTest, MentionsEveryDaemonKey) {
  const std::string text = ShippedText();
  for (const KeySpec& spec : DaemonKeys()) {
    EXPECT_NE(text.find(std::string(spec.name)), std::string::npos)
        << spec.name;
  }
}

}  // namespace
}  // namespace kiscsi::conf
