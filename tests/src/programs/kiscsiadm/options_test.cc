#include "src/programs/kiscsiadm/options.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kiscsiadm");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseOptions(static_cast<int>(args.size()), argv.data());
}

TEST(OptionsTest, IscsiadmDiscoveryLine) {
  auto o = Parse({"-m", "discovery", "-t", "st", "-p", "10.0.0.1:3260,1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, Mode::kDiscovery);
  EXPECT_EQ(o->type, "sendtargets");
  EXPECT_EQ(o->portal, "10.0.0.1:3260,1");
}

TEST(OptionsTest, LongOptionsAsScriptsWriteThem) {
  auto o = Parse({"--mode", "node", "--targetname", "iqn.x:y", "--portal",
                  "10.0.0.1", "--op=update", "--name", "node.startup",
                  "--value", "automatic"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, Mode::kNode);
  EXPECT_EQ(o->target_name, "iqn.x:y");
  EXPECT_TRUE(o->HasOp(Op::kUpdate));
  EXPECT_THAT(o->settings, ElementsAre(Pair("node.startup", "automatic")));
}

// CHAP set up in one call, as consumers do: every pair, in order.
TEST(OptionsTest, SeveralNameValuePairsKeepTheirOrder) {
  auto o =
      Parse({"-m", "node", "-o", "update", "-n", "node.session.auth.authmethod",
             "-v", "CHAP", "-n", "node.session.auth.username", "-v", "u",
             "--name", "node.session.auth.password", "--value", "p"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_THAT(o->settings,
              ElementsAre(Pair("node.session.auth.authmethod", "CHAP"),
                          Pair("node.session.auth.username", "u"),
                          Pair("node.session.auth.password", "p")));
}

TEST(OptionsTest, UnpairedNameOrValueIsRefused) {
  EXPECT_EQ(
      ExitCodeOf(Parse({"-m", "node", "-o", "update", "-n", "a"}).status()),
      ExitCode::kInvalid);
  EXPECT_EQ(
      ExitCodeOf(Parse({"-m", "node", "-o", "update", "-v", "x"}).status()),
      ExitCode::kInvalid);
  EXPECT_EQ(ExitCodeOf(Parse({"-m", "node", "-o", "update", "-n", "a", "-n",
                              "b", "-v", "x"})
                           .status()),
            ExitCode::kInvalid);
}

TEST(OptionsTest, SeveralOpsAndFlags) {
  auto o = Parse({"-m", "node", "-o", "new", "-o", "delete", "-S", "-P", "1",
                  "--probe", "-L", "all"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->HasOp(Op::kNew));
  EXPECT_TRUE(o->HasOp(Op::kDelete));
  EXPECT_FALSE(o->HasOp(Op::kShow));
  EXPECT_TRUE(o->show_secrets);
  EXPECT_EQ(o->print_level, 1);
  EXPECT_TRUE(o->probe);
  EXPECT_EQ(o->login_all, "all");
}

TEST(OptionsTest, ParsingTwiceStartsAfresh) {
  ASSERT_TRUE(Parse({"-m", "node", "-l"}).ok());
  auto o = Parse({"-m", "session"});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->login);
  EXPECT_EQ(o->mode, Mode::kSession);
}

TEST(OptionsTest, ErrorsAreInvalidParameters) {
  auto bad_mode = Parse({"-m", "nodes"});
  EXPECT_EQ(ExitCodeOf(bad_mode.status()), ExitCode::kInvalid);
  EXPECT_EQ(bad_mode.status().message(), "invalid mode 'nodes'");

  auto bad_op = Parse({"-m", "node", "-o", "remove"});
  EXPECT_EQ(ExitCodeOf(bad_op.status()), ExitCode::kInvalid);

  auto missing = Parse({"-m"});
  EXPECT_EQ(ExitCodeOf(missing.status()), ExitCode::kInvalid);
  EXPECT_THAT(std::string(missing.status().message()),
              ::testing::HasSubstr("requires an argument"));

  auto unknown = Parse({"-m", "node", "--frobnicate"});
  EXPECT_EQ(ExitCodeOf(unknown.status()), ExitCode::kInvalid);

  auto stray = Parse({"-m", "node", "extra"});
  EXPECT_EQ(ExitCodeOf(stray.status()), ExitCode::kInvalid);

  auto half_update = Parse({"-m", "node", "-o", "update", "-n", "x"});
  EXPECT_EQ(ExitCodeOf(half_update.status()), ExitCode::kInvalid);
}

TEST(OptionsTest, UnknownDiscoveryTypeHasItsOwnExitCode) {
  auto o = Parse({"-m", "discovery", "-t", "slp", "-p", "10.0.0.1"});
  EXPECT_EQ(ExitCodeOf(o.status()), ExitCode::kUnknownDiscoveryType);
}

}  // namespace
}  // namespace kiscsi
