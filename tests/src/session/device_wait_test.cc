#include "src/session/device_wait.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/src/base/loop_testing.h"
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

class DeviceWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_.sysfs_root = root_ + "/sys";
    paths_.dev_root = root_ + "/dev";
    paths_.device_poll_interval = absl::Milliseconds(5);
    std::filesystem::create_directories(paths_.dev_root);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
  }

  // Session 1's LUN 2:0:0:0, a disk in `state`, attached as `block`.
  std::string AddDisk(const std::string& state, const std::string& block) {
    const std::string lun = paths_.sysfs_root +
                            "/class/iscsi_session/session1/device/target2:0:0/"
                            "2:0:0:0";
    WriteFile(lun + "/type", "0\n");
    WriteFile(lun + "/state", state + "\n");
    std::filesystem::create_directories(lun + "/block/" + block);
    return lun;
  }

  absl::StatusOr<DeviceWaitResult> Run(DeviceWait::Options options) {
    std::optional<absl::StatusOr<DeviceWaitResult>> outcome;
    DeviceWait wait(*loop_, paths_, 1, 2, options, "session 1",
                    [&](absl::StatusOr<DeviceWaitResult> result) {
                      outcome = std::move(result);
                    });
    wait.Start();
    EXPECT_TRUE(PollUntil(*loop_, [&] { return outcome.has_value(); }));
    if (!outcome.has_value()) return absl::InternalError("no outcome");
    return *std::move(outcome);
  }

  const std::string root_ = MakeScratchDir("kiscsi_device_wait");
  SessionPaths paths_;
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(DeviceWaitTest, ScansTheHostAndWaitsForTheDeviceNode) {
  WriteFile(paths_.sysfs_root + "/class/scsi_host/host2/scan", "");
  AddDisk("running", "sdq");
  // The node appears a little later, as udev makes it.
  loop_->AddTimer(absl::Milliseconds(30),
                  [&] { WriteFile(paths_.dev_root + "/sdq", ""); });
  absl::StatusOr<DeviceWaitResult> result = Run({});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->devices_ready);
  ASSERT_EQ(result->devices.size(), 1u);
  EXPECT_EQ(result->devices[0].block, "sdq");
  EXPECT_EQ(ReadFile(paths_.sysfs_root + "/class/scsi_host/host2/scan"),
            "- - -");
}

TEST_F(DeviceWaitTest, MissingNodeAfterTheTimeoutIsNotAFailure) {
  WriteFile(paths_.sysfs_root + "/class/scsi_host/host2/scan", "");
  AddDisk("running", "sdq");
  DeviceWait::Options options;
  options.device_timeout = absl::Milliseconds(40);
  absl::StatusOr<DeviceWaitResult> result = Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->devices_ready);
  EXPECT_EQ(result->devices.size(), 1u);
}

TEST_F(DeviceWaitTest, ScanThatCannotBeWrittenFailsAtTheScanStep) {
  std::optional<absl::StatusOr<DeviceWaitResult>> outcome;
  DeviceWait wait(*loop_, paths_, 1, 2, {}, "session 1",
                  [&](absl::StatusOr<DeviceWaitResult> result) {
                    outcome = std::move(result);
                  });
  wait.Start();
  ASSERT_TRUE(PollUntil(*loop_, [&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(wait.step(), "scan");
  EXPECT_EQ(ExitCodeOf(outcome->status()), ExitCode::kSysfsLookup);
  EXPECT_THAT(outcome->status().message(), HasSubstr("host2/scan"));
}

TEST_F(DeviceWaitTest, ReinstatedSessionRevivesOfflineDevicesWithoutAScan) {
  const std::string lun = AddDisk("transport-offline", "sdq");
  WriteFile(paths_.dev_root + "/sdq", "");
  DeviceWait::Options options;
  options.reinstated = true;
  absl::StatusOr<DeviceWaitResult> result = Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->revived.size(), 1u);
  EXPECT_EQ(result->revived[0].state, "transport-offline");
  EXPECT_EQ(ReadFile(lun + "/state"), "running");
  EXPECT_TRUE(result->devices_ready);
  // No scan attribute was made or written.
  EXPECT_FALSE(std::filesystem::exists(paths_.sysfs_root +
                                       "/class/scsi_host/host2/scan"));
}

}  // namespace
}  // namespace kiscsi
