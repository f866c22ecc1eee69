#include "src/base/dir_watch.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/src/base/loop_testing.h"

namespace kiscsi {
namespace {

class DirWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-dirwatch-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(DirWatchTest, NewEntryCallsBack) {
  int calls = 0;
  absl::StatusOr<std::unique_ptr<DirWatch>> watch =
      DirWatch::Create(*loop_, dir_, [&] { ++calls; });
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(calls, 0);
  std::ofstream(dir_ + "/sda") << "";
  std::ofstream(dir_ + "/sdb") << "";
  EXPECT_TRUE(PollUntil(*loop_, [&] { return calls > 0; }));
  // Both entries' events were drained: no more wake-ups without a change.
  const int after = calls;
  ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(20)).ok());
  EXPECT_EQ(calls, after);
  std::filesystem::create_directory(dir_ + "/disk");
  EXPECT_TRUE(PollUntil(*loop_, [&] { return calls > after; }));
}

TEST_F(DirWatchTest, CallbackMayDestroyTheWatch) {
  std::unique_ptr<DirWatch> watch;
  int calls = 0;
  absl::StatusOr<std::unique_ptr<DirWatch>> made =
      DirWatch::Create(*loop_, dir_, [&] {
        ++calls;
        watch.reset();
      });
  ASSERT_TRUE(made.ok());
  watch = *std::move(made);
  std::ofstream(dir_ + "/sda") << "";
  EXPECT_TRUE(PollUntil(*loop_, [&] { return watch == nullptr; }));
  std::ofstream(dir_ + "/sdb") << "";
  ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(20)).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(DirWatchTest, MissingDirIsAnError) {
  absl::StatusOr<std::unique_ptr<DirWatch>> watch =
      DirWatch::Create(*loop_, dir_ + "/none", [] {});
  ASSERT_FALSE(watch.ok());
  EXPECT_NE(watch.status().message().find("/none"), std::string::npos);
}

}  // namespace
}  // namespace kiscsi
