#include "src/session/sysfs_writer.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/session/sysfs_sessions.h"
#include "tests/src/base/temp_dir.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SysfsWriterTest : public ::testing::Test {
 protected:
  const std::string root_ = MakeScratchDir("kiscsi_sysfs_writer");
};

TEST_F(SysfsWriterTest, HostScanWritesEveryChannelTargetAndLun) {
  const std::string scan = root_ + "/class/scsi_host/host3/scan";
  EXPECT_EQ(ScsiHostScanPath(root_, 3), scan);
  WriteFile(scan, "");
  ASSERT_TRUE(ScanScsiHost(root_, 3).ok());
  EXPECT_EQ(ReadFile(scan), "- - -");
}

TEST_F(SysfsWriterTest, MissingAttributeNamesTheFileAndTheErrno) {
  const absl::Status status = ScanScsiHost(root_, 9);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kSysfsLookup);
  EXPECT_THAT(status.message(),
              HasSubstr(absl::StrCat("write '- - -' to ", root_,
                                     "/class/scsi_host/host9/scan: No such "
                                     "file or directory")));
}

TEST_F(SysfsWriterTest, DeviceStateIsReplacedWhereTheReaderFindsIt) {
  SysfsDevice device;
  device.host = 2;
  device.lun = 1;
  const std::string dir = SessionDeviceDir(root_, 5, device);
  EXPECT_EQ(dir, root_ +
                     "/class/iscsi_session/session5/device/target2:0:0/"
                     "2:0:0:1");
  EXPECT_EQ(DeviceHctl(device), "2:0:0:1");
  WriteFile(dir + "/type", "0\n");
  WriteFile(dir + "/state", "transport-offline\n");
  ASSERT_TRUE(SetScsiDeviceState(dir, "running").ok());
  EXPECT_EQ(ReadFile(dir + "/state"), "running");
  // The session reader sees the device back to running.
  std::vector<SysfsDevice> devices = ReadSessionDevices(root_, 5);
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].state, "running");
}

TEST_F(SysfsWriterTest, RescanAndTimeout) {
  const std::string dir = root_ + "/dev0";
  WriteFile(dir + "/rescan", "");
  WriteFile(dir + "/timeout", "30\n");
  ASSERT_TRUE(RescanScsiDevice(dir).ok());
  ASSERT_TRUE(SetScsiDeviceTimeout(dir, 120).ok());
  EXPECT_EQ(ReadFile(dir + "/rescan"), "1");
  EXPECT_EQ(ReadFile(dir + "/timeout"), "120");
  EXPECT_EQ(ExitCodeOf(SetScsiDeviceTimeout(root_ + "/nodev", 5)),
            ExitCode::kSysfsLookup);
}

}  // namespace
}  // namespace kiscsi
