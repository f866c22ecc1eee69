#include "conf/db_lock.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi::conf {
namespace {

using ::testing::HasSubstr;

class DbLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-lock-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    dir_ = root_ + "/lock/iscsi";  // made, parents too, by the first Acquire
    setenv("KISCSI_LOCKDIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("KISCSI_LOCKDIR");
    std::filesystem::remove_all(root_);
  }
  bool Held() const { return std::filesystem::exists(dir_ + "/lock.write"); }

  std::string root_;
  std::string dir_;
};

TEST_F(DbLockTest, HeldWhileTheObjectLivesAndNestedAcquiresOnlyCount) {
  {
    absl::StatusOr<DbLock> outer = DbLock::Acquire();
    ASSERT_TRUE(outer.ok()) << outer.status();
    EXPECT_TRUE(Held());
    EXPECT_EQ(std::filesystem::hard_link_count(dir_ + "/lock"), 2u);
    {
      absl::StatusOr<DbLock> inner = DbLock::Acquire(absl::ZeroDuration());
      ASSERT_TRUE(inner.ok()) << inner.status();
    }
    EXPECT_TRUE(Held());  // the inner release kept the outer lock
  }
  EXPECT_FALSE(Held());
}

// The lock of a coexisting iscsiadm, or of a writer that crashed: a clear
// error naming the file once the wait is over, never a write without it.
TEST_F(DbLockTest, AnotherWritersLockIsWaitedForThenReported) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/lock").close();
  std::filesystem::create_hard_link(dir_ + "/lock", dir_ + "/lock.write");
  absl::StatusOr<DbLock> lock = DbLock::Acquire(absl::Milliseconds(50));
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(ExitCodeOf(lock.status()), ExitCode::kDatabase);
  EXPECT_THAT(lock.status().message(), HasSubstr(dir_ + "/lock.write"));
  std::filesystem::remove(dir_ + "/lock.write");
  EXPECT_TRUE(DbLock::Acquire(absl::Milliseconds(50)).ok());
}

TEST_F(DbLockTest, AWaiterGetsTheLockWhenItIsReleased) {
  std::atomic<bool> got{false};
  std::thread waiter;
  {
    absl::StatusOr<DbLock> held = DbLock::Acquire();
    ASSERT_TRUE(held.ok());
    waiter = std::thread([&] {
      absl::StatusOr<DbLock> lock = DbLock::Acquire(absl::Seconds(10));
      got = lock.ok();
    });
    usleep(50'000);
    EXPECT_FALSE(got);  // still waiting while the lock is held
  }
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(Held());
}

}  // namespace
}  // namespace kiscsi::conf
