// Temporary directories for tests that are gone when the test binary exits,
// whichever test made them and however it ended (a failed ASSERT included):
// a test run leaves nothing in /tmp.
//
//   const std::string dir = MakeScratchDir("kiscsi_ipc");  // $TEST_TMPDIR or
//   /tmp
#ifndef KISCSI_TESTS_SRC_BASE_TEMP_DIR_H_
#define KISCSI_TESTS_SRC_BASE_TEMP_DIR_H_

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gtest/gtest.h"

namespace kiscsi {
namespace scratch_dir_internal {

// Removes the directories at exit, in the process that made them only (a
// forked child that exits must not take its parent's directories along).
class Registry {
 public:
  ~Registry() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Entry& entry : entries_) {
      if (entry.owner != ::getpid()) continue;
      std::error_code ignored;
      std::filesystem::remove_all(entry.path, ignored);
    }
  }
  void Add(std::string path) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_back(Entry{std::move(path), ::getpid()});
  }

 private:
  struct Entry {
    std::string path;
    pid_t owner;
  };
  std::mutex mutex_;
  std::vector<Entry> entries_;
};

inline Registry& Dirs() {
  static Registry registry;
  return registry;
}

}  // namespace scratch_dir_internal

// A new directory "<gtest's TempDir>/<prefix>.XXXXXX", removed with all it
// holds when the process exits normally.
inline std::string MakeScratchDir(std::string_view prefix) {
  std::string pattern =
      ::testing::TempDir() + "/" + std::string(prefix) + ".XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
    return pattern;
  }
  scratch_dir_internal::Dirs().Add(pattern);
  return pattern;
}

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_BASE_TEMP_DIR_H_
