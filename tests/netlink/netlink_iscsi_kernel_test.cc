// What of NetlinkIscsiKernel runs without an iSCSI kernel: the transport
// handle from sysfs (with modprobe) and the error when the kernel lacks the
// transport. Requests themselves are tested in the VM.
#include "netlink/netlink_iscsi_kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/uevent_codec.h"
#include "src/base/exit_code.h"
#include "tests/src/base/temp_dir.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

std::string MakeTempDir() { return MakeScratchDir("netlink_test"); }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void MakeHandle(const std::string& sysfs, const std::string& text) {
  std::filesystem::create_directories(sysfs + "/class/iscsi_transport/tcp");
  WriteFile(sysfs + "/class/iscsi_transport/tcp/handle", text);
}

TEST(ReadTransportHandleTest, ReadsTheDecimalHandle) {
  const std::string sysfs = MakeTempDir();
  MakeHandle(sysfs, "18446744072637906944\n");
  absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, "");
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_EQ(*handle, 18446744072637906944u);
}

TEST(ReadTransportHandleTest, MissingTransportIsExitCode12) {
  const std::string sysfs = MakeTempDir();
  absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, "");
  ASSERT_FALSE(handle.ok());
  EXPECT_EQ(ExitCodeOf(handle.status()), ExitCode::kTransportNotFound);
  EXPECT_THAT(handle.status().message(),
              HasSubstr(sysfs + "/class/iscsi_transport/tcp/handle"));
  EXPECT_THAT(handle.status().message(), HasSubstr("iscsi_tcp"));
}

TEST(ReadTransportHandleTest, LoadsTheModuleWhenTheTransportIsMissing) {
  const std::string sysfs = MakeTempDir();
  const std::string modprobe = sysfs + "/modprobe";
  WriteFile(modprobe,
            "#!/bin/sh\n"
            "echo \"$@\" > " +
                sysfs +
                "/modprobe.args\n"
                "mkdir -p " +
                sysfs +
                "/class/iscsi_transport/tcp\n"
                "echo 4242 > " +
                sysfs + "/class/iscsi_transport/tcp/handle\n");
  ASSERT_EQ(chmod(modprobe.c_str(), 0755), 0);
  absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, modprobe);
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_EQ(*handle, 4242u);
  EXPECT_EQ(ReadFile(sysfs + "/modprobe.args"), "-q iscsi_tcp\n");
}

TEST(ReadTransportHandleTest, ModprobeThatFailsStillGivesExitCode12) {
  const std::string sysfs = MakeTempDir();
  const std::string modprobe = sysfs + "/modprobe";
  WriteFile(modprobe, "#!/bin/sh\nexit 1\n");
  ASSERT_EQ(chmod(modprobe.c_str(), 0755), 0);
  for (const std::string& path : {modprobe, sysfs + "/no-such-modprobe"}) {
    absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, path);
    ASSERT_FALSE(handle.ok()) << path;
    EXPECT_EQ(ExitCodeOf(handle.status()), ExitCode::kTransportNotFound);
  }
}

TEST(ReadTransportHandleTest, ModprobeRunsOncePerProcess) {
  // A daemon asks for the transport on every login: where iscsi_tcp cannot
  // load, 20 logins ran modprobe 20 times; now once.
  const std::string sysfs = MakeTempDir();
  const std::string modprobe = sysfs + "/modprobe";
  WriteFile(modprobe, "#!/bin/sh\necho run >> " + sysfs + "/runs\nexit 1\n");
  ASSERT_EQ(chmod(modprobe.c_str(), 0755), 0);
  for (int login = 0; login < 20; ++login) {
    absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, modprobe);
    ASSERT_FALSE(handle.ok());
    EXPECT_EQ(ExitCodeOf(handle.status()), ExitCode::kTransportNotFound);
  }
  EXPECT_EQ(ReadFile(sysfs + "/runs"), "run\n");
  // Once the module is there (loaded by hand), the handle is found.
  MakeHandle(sysfs, "7\n");
  absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, modprobe);
  ASSERT_TRUE(handle.ok()) << handle.status();
  EXPECT_EQ(*handle, 7u);
}

TEST(ReadTransportHandleTest, NoModprobeWhenTheTransportIsThere) {
  const std::string sysfs = MakeTempDir();
  const std::string modprobe = sysfs + "/modprobe";
  WriteFile(modprobe, "#!/bin/sh\necho run >> " + sysfs + "/runs\n");
  ASSERT_EQ(chmod(modprobe.c_str(), 0755), 0);
  MakeHandle(sysfs, "9\n");
  for (int login = 0; login < 5; ++login) {
    absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, modprobe);
    ASSERT_TRUE(handle.ok()) << handle.status();
  }
  EXPECT_FALSE(std::filesystem::exists(sysfs + "/runs"));
}

TEST(ReadTransportHandleTest, GarbageHandleIsAnError) {
  const std::string sysfs = MakeTempDir();
  MakeHandle(sysfs, "0xdead\n");
  absl::StatusOr<uint64_t> handle = ReadTransportHandle(sysfs, "");
  ASSERT_FALSE(handle.ok());
  EXPECT_THAT(handle.status().message(), HasSubstr("not a decimal number"));
  EXPECT_THAT(handle.status().message(), HasSubstr("0xdead"));
}

TEST(NetlinkIscsiKernelTest, OpenWithoutIscsiKernelSupport) {
  const int probe = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, kNetlinkIscsi);
  const int probe_errno = errno;
  if (probe >= 0) {
    close(probe);
    GTEST_SKIP() << "this kernel has NETLINK_ISCSI; covered by the VM tests";
  }
  ASSERT_EQ(probe_errno, EPROTONOSUPPORT);
  absl::StatusOr<std::unique_ptr<NetlinkIscsiKernel>> kernel =
      NetlinkIscsiKernel::Open(1234);
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(ExitCodeOf(kernel.status()), ExitCode::kTransportNotFound);
  EXPECT_THAT(kernel.status().message(),
              HasSubstr("no iSCSI transport (load scsi_transport_iscsi / "
                        "iscsi_tcp)"));
}

}  // namespace
}  // namespace kiscsi
