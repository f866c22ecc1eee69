// Runs the built kiscsi-udev as udev would, against a fake sysfs tree and a
// temporary /etc/iscsi.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/host/subprocess.h"
#include "tests/src/udev/fake_sysfs.h"

namespace kiscsi::udev {
namespace {

using ::kiscsi::testing::ProcessResult;
using ::kiscsi::testing::RunProcess;
using testing::AddIscsiDisk;
using ::testing::HasSubstr;
using testing::kDiskDevpath;
using testing::kScsiDevpath;
using testing::ReadFile;
using ::testing::StartsWith;
using testing::TempDir;
using testing::WriteFile;

class KiscsiUdevTest : public ::testing::Test {
 protected:
  void SetUp() override { AddIscsiDisk(sysfs_.path()); }

  ProcessResult Run(std::vector<std::string> args,
                    std::vector<std::string> env = {}) {
    args.insert(args.begin(), KISCSI_UDEV_PATH);
    env.push_back("KISCSI_SYSFS=" + sysfs_.path());
    env.push_back("KISCSI_SYSCONFDIR=" + etc_.path());
    return RunProcess(args, env);
  }
  std::string Sys(const std::string& path) { return sysfs_.path() + path; }

  TempDir sysfs_;
  TempDir etc_;
};

TEST_F(KiscsiUdevTest, SetsTheTimeoutAndSaysSo) {
  WriteFile(etc_.path() + "/iscsid.conf", "kiscsi.disk.timeout = 60\n");
  ProcessResult result = Run({kScsiDevpath});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out,
            "kiscsi-udev: 0:0:0:1 (session1 iqn.2026-12.test.boot:root): "
            "timeout 60 s\n");
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "60");
}

TEST_F(KiscsiUdevTest, TakesDevpathFromTheEnvironment) {
  // No iscsid.conf: the scheduler default (none) applies, the timeout stays.
  ProcessResult result = Run({}, {std::string("DEVPATH=") + kDiskDevpath});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "kiscsi-udev: sda: scheduler none\n");
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/queue/scheduler"), "none");

  result = Run({}, {std::string("DEVPATH=") + kScsiDevpath});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
}

TEST_F(KiscsiUdevTest, ConfigTyposAreWarnings) {
  WriteFile(etc_.path() + "/iscsid.conf",
            "kiscsi.disk.timeout = 60\nkiscsi.disk.schedular = none\n");
  ProcessResult result = Run({kScsiDevpath});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("timeout 60 s"));
  EXPECT_EQ(result.err, "kiscsi-udev: warning: " + etc_.path() +
                            "/iscsid.conf:2: unknown key "
                            "'kiscsi.disk.schedular' (did you mean "
                            "'kiscsi.disk.scheduler'?)\n");
}

TEST_F(KiscsiUdevTest, ErrorsGoToStderrAndStillExitZero) {
  // An invalid value: nothing is changed.
  WriteFile(etc_.path() + "/iscsid.conf", "kiscsi.disk.timeout = lots\n");
  ProcessResult result = Run({kScsiDevpath});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, StartsWith("kiscsi-udev: error: "));
  EXPECT_THAT(result.err, HasSubstr("invalid value 'lots'"));
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");

  // A device whose attributes are gone.
  WriteFile(etc_.path() + "/iscsid.conf", "kiscsi.disk.timeout = 60\n");
  const std::string gone =
      "/devices/platform/host0/session1/target0:0:0/0:0:0:2";
  result = Run({gone});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, StartsWith("kiscsi-udev: error: " + gone + ": "));
  EXPECT_THAT(result.err, HasSubstr(Sys(gone) + "/type"));

  // No devpath at all, and a bad option.
  result = Run({});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("no DEVPATH"));
  result = Run({"--bogus"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.err, HasSubstr("unknown option '--bogus'"));
}

TEST_F(KiscsiUdevTest, HelpAndVersion) {
  for (const char* option : {"-h", "--help"}) {
    ProcessResult result = Run({option});
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(result.out, StartsWith("Usage: kiscsi-udev [DEVPATH]\n"));
  }
  for (const char* option : {"-V", "--version"}) {
    ProcessResult result = Run({option});
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_THAT(result.out, StartsWith("kiscsi-udev version "));
  }
}

}  // namespace
}  // namespace kiscsi::udev
