// A SCSI host scan attribute that blocks like the kernel's, for tests.
#ifndef KISCSI_TESTS_SRC_SESSION_BLOCKING_SCAN_H_
#define KISCSI_TESTS_SRC_SESSION_BLOCKING_SCAN_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/base/unique_fd.h"

namespace kiscsi {

// The scan attribute as a FIFO nobody reads: the worker's open() blocks, as
// the write of a real scan attribute does while the kernel scans.
class BlockingScan {
 public:
  BlockingScan(const std::string& sysfs_root, uint32_t host_no)
      : path_(absl::StrCat(sysfs_root, "/class/scsi_host/host", host_no,
                           "/scan")) {
    std::filesystem::create_directories(
        std::filesystem::path(path_).parent_path());
    EXPECT_EQ(mkfifo(path_.c_str(), 0600), 0) << path_;
  }
  // Lets the scan through: the blocked open() returns once a reader exists.
  void Release() {
    reader_.Reset(open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    EXPECT_TRUE(reader_.valid()) << path_;
  }
  // Closes the reader: the next scan blocks again.
  void Block() { reader_.Reset(); }
  std::string Written() {
    char buffer[16] = {};
    const ssize_t n = read(reader_.get(), buffer, sizeof(buffer));
    return n > 0 ? std::string(buffer, n) : "";
  }

 private:
  std::string path_;
  UniqueFd reader_;
};

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_SESSION_BLOCKING_SCAN_H_
