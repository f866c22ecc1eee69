#include "src/daemon/root_storage.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

#ifndef PR_GET_IO_FLUSHER
#define PR_GET_IO_FLUSHER 58
#endif

namespace kiscsi::daemon {
namespace {

// A field of /proc/self/status in kB ("VmLck:  1234 kB"), -1 when absent.
long StatusKb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// The sanitizers' runtimes make mlockall a no-op that succeeds (locking their
// shadow memory would take all of it), so there is nothing to see there.
#if defined(__SANITIZE_ADDRESS__)
#define KISCSI_MLOCK_IS_A_NO_OP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define KISCSI_MLOCK_IS_A_NO_OP 1
#endif
#endif

TEST(RootStorageTest, LocksTheWholeProgramInMemory) {
#ifdef KISCSI_MLOCK_IS_A_NO_OP
  GTEST_SKIP() << "mlockall does nothing under the sanitizers";
#endif
  if (::geteuid() != 0)
    GTEST_SKIP() << "mlockall of a whole program needs root";
  absl::Status locked = LockInMemory();
  ASSERT_TRUE(locked.ok()) << locked.message();
  // The program's code is locked: at least the test binary's text, far more
  // than a page.
  EXPECT_GT(StatusKb("VmLck"), 1024);
  // Memory mapped afterwards is locked (MCL_FUTURE), but only as it is
  // touched (MCL_ONFAULT): a 4 MiB reservation is not made resident at once.
  constexpr size_t kSize = 4 << 20;
  const long locked_before = StatusKb("VmLck");
  const long resident_before = StatusKb("RssAnon");
  void* more = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(more, MAP_FAILED);
  EXPECT_GE(StatusKb("VmLck") - locked_before, 4096);
  EXPECT_LT(StatusKb("RssAnon") - resident_before, 1024);
  std::memset(more, 1, kSize);
  EXPECT_GE(StatusKb("RssAnon") - resident_before, 4096);
  ::munmap(more, kSize);
  ::munlockall();
}

TEST(RootStorageTest, IoFlusherIsSetOrRefusedForLackOfPrivilege) {
  absl::Status marked = MarkIoFlusher();
  if (marked.ok()) {
    EXPECT_EQ(::prctl(PR_GET_IO_FLUSHER, 0, 0, 0, 0), 1);
  } else {
    // Containers without CAP_SYS_RESOURCE (this machine's CI sandbox among
    // them).
    EXPECT_EQ(marked.code(), absl::StatusCode::kPermissionDenied)
        << marked.message();
  }
}

}  // namespace
}  // namespace kiscsi::daemon
