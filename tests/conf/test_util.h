// Helpers for the conf tests: a temporary directory removed at the end of the
// test, and whole file reads and writes.
#ifndef KISCSI_TESTS_CONF_TEST_UTIL_H_
#define KISCSI_TESTS_CONF_TEST_UTIL_H_

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace kiscsi::conf::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
        "/kiscsi_conf_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = pattern;
  }
  ~TempDir() {
    ::nftw(
        path_.c_str(),
        [](const char* path, const struct stat*, int, struct FTW*) {
          return std::remove(path);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteWholeFile(const std::string& path,
                           const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// tests/conf/testdata/NAME
inline std::string TestData(const std::string& name) {
  return ReadWholeFile(std::string(KISCSI_CONF_TESTDATA) + "/" + name);
}

}  // namespace kiscsi::conf::testing

#endif  // KISCSI_TESTS_CONF_TEST_UTIL_H_
