// A fake sysfs tree for kiscsi-udev's tests: regular files stand for the
// attributes of an iSCSI session's SCSI device and its block disk.
#ifndef KISCSI_TESTS_SRC_UDEV_FAKE_SYSFS_H_
#define KISCSI_TESTS_SRC_UDEV_FAKE_SYSFS_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/src/session/sysfs_session_writer.h"

namespace kiscsi::udev::testing {

inline constexpr char kTarget[] = "iqn.2026-12.test.boot:root";
// udev's DEVPATH of session 1's LUN 1 and of its disk.
inline constexpr char kScsiDevpath[] =
    "/devices/platform/host0/session1/target0:0:0/0:0:0:1";
inline constexpr char kDiskDevpath[] =
    "/devices/platform/host0/session1/target0:0:0/0:0:0:1/block/sda";

// A temporary directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kiscsi_udev_test.XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Under `root`: the SCSI device at `scsi_devpath` with `type`, the kernel's
// default timeout (30) and, when `disk` is given, its block disk with the
// default scheduler ("[mq-deadline] none").
inline void AddScsiDevice(const std::string& root,
                          const std::string& scsi_devpath, int type,
                          const std::string& disk = "") {
  const std::string dir = root + scsi_devpath;
  WriteFile(dir + "/type", std::to_string(type) + "\n");
  WriteFile(dir + "/timeout", "30\n");
  if (!disk.empty()) {
    WriteFile(dir + "/block/" + disk + "/queue/scheduler",
              "[mq-deadline] none\n");
  }
}

// Session 1 (kTarget at 10.0.2.2:3261, tpgt 1) with LUN 1 of type 0 as sda.
inline void AddIscsiDisk(const std::string& root, int type = 0) {
  WriteSysfsSession(root, 1, kTarget, "10.0.2.2", 3261);
  AddScsiDevice(root, kScsiDevpath, type, "sda");
}

}  // namespace kiscsi::udev::testing

#endif  // KISCSI_TESTS_SRC_UDEV_FAKE_SYSFS_H_
