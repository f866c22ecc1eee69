// kiscsiadm's -h text and its manual against the parser's own tables: every
// option letter, long name and mode the parser accepts is documented in
// UsageText(), in the man page's SYNOPSIS (letters, modes) and in its OPTIONS
// (letters, long names), and neither mentions an option the parser lacks.
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/programs/kiscsiadm/options.h"

namespace kiscsi {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;

std::string ReadManPage() {
  std::ifstream in(MAN_DIR "/kiscsiadm.8");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The man page as a reader sees it: "\-" is '-', font changes (\fB, \fI,
// \fR, \fP) and "\e" vanish.
std::string Unroff(const std::string& roff) {
  std::string out;
  for (size_t i = 0; i < roff.size(); ++i) {
    if (roff[i] == '\\' && i + 1 < roff.size()) {
      if (roff[i + 1] == '-') {
        out += '-';
        ++i;
        continue;
      }
      if (roff[i + 1] == 'f' && i + 2 < roff.size()) {
        i += 2;
        continue;
      }
      if (roff[i + 1] == 'e') {
        ++i;
        continue;
      }
    }
    out += roff[i];
  }
  return out;
}

// The text of section `name` (".SH NAME" up to the next ".SH").
std::string Section(const std::string& roff, const std::string& name) {
  const std::string head = ".SH " + name + "\n";
  size_t start = roff.find(head);
  if (start == std::string::npos) return "";
  start += head.size();
  size_t end = roff.find("\n.SH ", start);
  return roff.substr(start, end == std::string::npos ? end : end - start + 1);
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Options written in `text`: "-X" and "--long" that stand as words (not the
// '-' inside "2026-11" or "0-8").
struct Mentioned {
  std::set<char> letters;
  std::set<std::string> long_names;
};

Mentioned FindOptions(const std::string& text) {
  Mentioned found;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '-' || (i > 0 && IsWordChar(text[i - 1]))) continue;
    if (text.compare(i, 2, "--") == 0) {
      size_t end = i + 2;
      while (end < text.size() && IsWordChar(text[end])) ++end;
      if (end > i + 2) found.long_names.insert(text.substr(i + 2, end - i - 2));
      i = end;
      continue;
    }
    if (i + 1 < text.size() &&
        std::isalpha(static_cast<unsigned char>(text[i + 1])) &&
        (i + 2 >= text.size() || !IsWordChar(text[i + 2]))) {
      found.letters.insert(text[i + 1]);
    }
  }
  return found;
}

// "-m MODE" written as a word in `text`.
bool MentionsMode(const std::string& text, const std::string& mode) {
  const std::string needle = "-m " + mode;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    size_t end = at + needle.size();
    if (end >= text.size() || !IsWordChar(text[end])) return true;
  }
  return false;
}

std::set<char> Letters(const std::vector<OptionInfo>& options) {
  std::set<char> letters;
  for (const OptionInfo& o : options) {
    if (o.letter != 0) letters.insert(o.letter);
  }
  return letters;
}

std::set<std::string> LongNames(const std::vector<OptionInfo>& options) {
  std::set<std::string> names;
  for (const OptionInfo& o : options) {
    names.insert(o.long_names.begin(), o.long_names.end());
  }
  return names;
}

TEST(HelpTest, OptionTableIsTheParsers) {
  std::vector<OptionInfo> options = AcceptedOptions();
  // Spot checks that the table is read from getopt's, not written anew.
  std::set<char> letters = Letters(options);
  for (char c : std::string("mtpTIonvPluLUSsRDrdhV")) {
    EXPECT_THAT(letters, Contains(c));
  }
  EXPECT_THAT(LongNames(options), Contains("probe"));
  bool found_mode = false;
  for (const OptionInfo& o : options) {
    if (o.letter == 'm') {
      found_mode = true;
      EXPECT_TRUE(o.takes_value);
      EXPECT_EQ(o.long_names, std::vector<std::string>{"mode"});
    }
    if (o.letter == 'l') {
      EXPECT_FALSE(o.takes_value);
    }
    // Every letter has iscsiadm's long name too.
    if (o.letter != 0) {
      EXPECT_FALSE(o.long_names.empty()) << o.letter;
    }
  }
  EXPECT_TRUE(found_mode);
  EXPECT_EQ(AcceptedModes(),
            (std::vector<std::string>{"discovery", "discoverydb", "node",
                                      "session", "iface", "fw", "host"}));
}

TEST(HelpTest, EveryModeAndOptionIsInTheHelp) {
  const std::string usage = UsageText();
  Mentioned mentioned = FindOptions(usage);
  for (const OptionInfo& o : AcceptedOptions()) {
    if (o.letter != 0) {
      EXPECT_THAT(mentioned.letters, Contains(o.letter))
          << "-" << o.letter << " is missing from kiscsiadm -h";
    }
    for (const std::string& name : o.long_names) {
      EXPECT_THAT(mentioned.long_names, Contains(name))
          << "--" << name << " is missing from kiscsiadm -h";
    }
  }
  for (const std::string& mode : AcceptedModes()) {
    EXPECT_TRUE(MentionsMode(usage, mode))
        << "-m " << mode << " is missing from kiscsiadm -h";
  }
}

TEST(HelpTest, HelpNamesNoOptionTheParserLacks) {
  Mentioned mentioned = FindOptions(UsageText());
  std::vector<OptionInfo> options = AcceptedOptions();
  std::set<char> letters = Letters(options);
  std::set<std::string> names = LongNames(options);
  for (char c : mentioned.letters) {
    EXPECT_THAT(letters, Contains(c)) << "-h mentions -" << c;
  }
  for (const std::string& name : mentioned.long_names) {
    EXPECT_THAT(names, Contains(name)) << "-h mentions --" << name;
  }
}

TEST(HelpTest, EveryModeAndOptionIsInTheManPage) {
  const std::string roff = ReadManPage();
  ASSERT_FALSE(roff.empty()) << "cannot read " MAN_DIR "/kiscsiadm.8";
  const std::string synopsis = Unroff(Section(roff, "SYNOPSIS"));
  const std::string options_section = Unroff(Section(roff, "OPTIONS"));
  ASSERT_FALSE(synopsis.empty());
  ASSERT_FALSE(options_section.empty());
  Mentioned in_synopsis = FindOptions(synopsis);
  Mentioned in_options = FindOptions(options_section);
  for (const OptionInfo& o : AcceptedOptions()) {
    if (o.letter != 0) {
      EXPECT_THAT(in_synopsis.letters, Contains(o.letter))
          << "-" << o.letter << " is missing from the SYNOPSIS";
      EXPECT_THAT(in_options.letters, Contains(o.letter))
          << "-" << o.letter << " is missing from OPTIONS";
    } else {
      for (const std::string& name : o.long_names) {
        EXPECT_THAT(in_synopsis.long_names, Contains(name))
            << "--" << name << " is missing from the SYNOPSIS";
      }
    }
    for (const std::string& name : o.long_names) {
      EXPECT_THAT(in_options.long_names, Contains(name))
          << "--" << name << " is missing from OPTIONS";
    }
  }
  for (const std::string& mode : AcceptedModes()) {
    EXPECT_TRUE(MentionsMode(synopsis, mode))
        << "-m " << mode << " is missing from the SYNOPSIS";
  }
}

TEST(HelpTest, ManPageNamesNoOptionTheParserLacks) {
  const std::string roff = ReadManPage();
  std::vector<OptionInfo> options = AcceptedOptions();
  std::set<char> letters = Letters(options);
  std::set<std::string> names = LongNames(options);
  // (MODES may name other programs' options, e.g. "iscsistart -f".)
  for (const char* section : {"SYNOPSIS", "OPTIONS"}) {
    Mentioned mentioned = FindOptions(Unroff(Section(roff, section)));
    for (char c : mentioned.letters) {
      EXPECT_THAT(letters, Contains(c)) << section << " mentions -" << c;
    }
    for (const std::string& name : mentioned.long_names) {
      EXPECT_THAT(names, Contains(name)) << section << " mentions --" << name;
    }
  }
}

// The helpers above must see what a reader sees, or the checks pass vacuously.
TEST(HelpTest, FindOptionsReadsWordsOnly) {
  Mentioned m = FindOptions("[-p IP] -l|-u --probe iqn.2026-11.x 0-8 -sfoo");
  EXPECT_EQ(m.letters, (std::set<char>{'p', 'l', 'u'}));
  EXPECT_EQ(m.long_names, (std::set<std::string>{"probe"}));
  EXPECT_EQ(Unroff(R"(.BR \-p ", " \-\-portal =\fIIP\fR)"),
            R"(.BR -p ", " --portal =IP)");
  EXPECT_TRUE(MentionsMode("x -m discoverydb y", "discoverydb"));
  EXPECT_FALSE(MentionsMode("x -m discoverydb y", "discovery"));
  EXPECT_THAT(Section(".SH A\none\n.SH B\ntwo\n", "A"), "one\n");
  EXPECT_THAT(Section(".SH A\none\n", "B"), IsEmpty());
}

}  // namespace
}  // namespace kiscsi
