// Installed under open-iscsi's names (KISCSI_OPEN_ISCSI_NAMES), the programs
// speak as iscsistart and iscsid: every line a script reads says the name the
// program was run as.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/host/subprocess.h"

namespace kiscsi {
namespace {

using ::kiscsi::testing::ProcessResult;
using ::kiscsi::testing::RunProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class ProgramNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-names-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Link(const char* target, const std::string& name) {
    const std::string path = dir_ + "/" + name;
    EXPECT_EQ(symlink(target, path.c_str()), 0);
    return path;
  }
  std::string dir_;
};

TEST_F(ProgramNamesTest, KiscsistartAsIscsistart) {
  const std::string start = Link(KISCSISTART_PATH, "iscsistart");
  ProcessResult version = RunProcess({start, "-v"});
  EXPECT_EQ(version.out, "iscsistart version " KISCSI_VERSION "\n");
  // No firmware table in an empty sysfs: iscsistart's exit status, our name.
  ProcessResult f = RunProcess({start, "-f"}, {"KISCSI_SYSFS=" + dir_});
  EXPECT_EQ(f.exit_code, 21);
  EXPECT_THAT(f.err, StartsWith("iscsistart: "));
  EXPECT_THAT(f.out + f.err, Not(HasSubstr("kiscsistart")));
  ProcessResult bad = RunProcess({start, "-x"});
  EXPECT_EQ(bad.exit_code, 7);
  EXPECT_THAT(bad.err, StartsWith("iscsistart: unrecognized option '-x'"));
  ProcessResult help = RunProcess({start, "-h"});
  EXPECT_THAT(help.out, StartsWith("Usage: iscsistart "));
  EXPECT_THAT(help.out, Not(HasSubstr("kiscsistart")));
}

TEST_F(ProgramNamesTest, KiscsidAsIscsidAndAsARootStorageDaemon) {
  ProcessResult version = RunProcess({Link(KISCSID_PATH, "iscsid"), "-v"});
  EXPECT_EQ(version.out, "iscsid version " KISCSI_VERSION "\n");
  ProcessResult help = RunProcess({dir_ + "/iscsid", "--help"});
  EXPECT_THAT(help.out, StartsWith("Usage: iscsid "));
  EXPECT_THAT(help.out, Not(HasSubstr("kiscsid")));
  // systemd's '@' mark for a daemon that must outlive the final kill.
  ProcessResult marked = RunProcess({Link(KISCSID_PATH, "@iscsid"), "--bogus"});
  EXPECT_THAT(marked.err, StartsWith("iscsid: "));
}

}  // namespace
}  // namespace kiscsi
