#include "src/base/blocking_call.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/src/base/loop_testing.h"

namespace kiscsi {
namespace {

// What a blocked `work` waits on; shared, so it outlives whoever drops it
// first.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    opened_.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    opened_.wait(lock, [this] { return open_; });
  }
  int waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable opened_;
  bool open_ = false;
  int waiting_ = 0;
};

std::unique_ptr<EventLoop> MakeLoop() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status();
  return *std::move(loop);
}

TEST(BlockingCallTest, DeliversTheResultOnTheLoopThread) {
  auto loop = MakeLoop();
  std::optional<std::thread::id> delivered_on;
  std::optional<int> result;
  auto worker_id = std::make_shared<std::thread::id>();
  auto call = BlockingCall::Start<int>(
      *loop,
      [worker_id] {
        *worker_id = std::this_thread::get_id();
        return 42;
      },
      [&](int value) {
        delivered_on = std::this_thread::get_id();
        result = value;
      });
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_FALSE(result.has_value());  // never from inside Start()
  ASSERT_TRUE(PollUntil(*loop, [&] { return result.has_value(); }));
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(*delivered_on, std::this_thread::get_id());
  EXPECT_NE(*worker_id, std::this_thread::get_id());
  EXPECT_EQ(loop->fd_count(), 0u);
  ASSERT_TRUE(
      PollUntil(*loop, [] { return BlockingCall::ThreadsRunning() == 0; }));
}

TEST(BlockingCallTest, TimersRunWhileTheWorkBlocks) {
  auto loop = MakeLoop();
  auto gate = std::make_shared<Gate>();
  bool done = false;
  auto call = BlockingCall::Start<int>(
      *loop,
      [gate] {
        gate->Pass();
        return 1;
      },
      [&](int) { done = true; });
  ASSERT_TRUE(call.ok()) << call.status();
  Ticker ticker(*loop);
  ASSERT_TRUE(PollUntil(*loop, [&] { return ticker.ticks() >= 20; }));
  EXPECT_FALSE(done);
  EXPECT_EQ(gate->waiting(), 1);
  gate->Open();
  ASSERT_TRUE(PollUntil(*loop, [&] { return done; }));
}

TEST(BlockingCallTest, DestroyedWhileTheWorkBlocksDropsTheCompletion) {
  auto loop = MakeLoop();
  auto gate = std::make_shared<Gate>();
  auto captured = std::make_shared<int>(7);
  bool done = false;
  auto call = BlockingCall::Start<std::vector<int>>(
      *loop,
      [gate] {
        gate->Pass();
        return std::vector<int>(1000, 1);  // heap memory made on the thread
      },
      [&done, captured](std::vector<int>) { done = true; });
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(PollUntil(*loop, [&] { return gate->waiting() == 1; }));
  call->reset();
  EXPECT_EQ(captured.use_count(), 1);  // `done` is gone already
  EXPECT_EQ(loop->fd_count(), 0u);
  gate->Open();
  ASSERT_TRUE(
      PollUntil(*loop, [] { return BlockingCall::ThreadsRunning() == 0; }));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(loop->RunOnce(absl::Milliseconds(1)).ok());
  EXPECT_FALSE(done);
}

TEST(BlockingCallTest, DoneMayDestroyTheCall) {
  auto loop = MakeLoop();
  std::unique_ptr<BlockingCall> call;
  bool done = false;
  auto started = BlockingCall::Start<int>(
      *loop, [] { return 3; },
      [&](int value) {
        EXPECT_EQ(value, 3);
        call.reset();
        done = true;
      });
  ASSERT_TRUE(started.ok()) << started.status();
  call = *std::move(started);
  ASSERT_TRUE(PollUntil(*loop, [&] { return done; }));
  EXPECT_EQ(call, nullptr);
}

TEST(BlockingCallTest, ManyCallsBlockAtOnce) {
  constexpr int kCalls = 8;
  auto loop = MakeLoop();
  auto gate = std::make_shared<Gate>();
  std::vector<std::unique_ptr<BlockingCall>> calls;
  std::vector<int> results;
  for (int i = 0; i < kCalls; ++i) {
    auto call = BlockingCall::Start<int>(
        *loop,
        [gate, i] {
          gate->Pass();
          return i;
        },
        [&results](int value) { results.push_back(value); });
    ASSERT_TRUE(call.ok()) << call.status();
    calls.push_back(*std::move(call));
  }
  ASSERT_TRUE(PollUntil(*loop, [&] { return gate->waiting() == kCalls; }));
  EXPECT_EQ(BlockingCall::ThreadsRunning(), kCalls);
  EXPECT_TRUE(results.empty());
  gate->Open();
  ASSERT_TRUE(PollUntil(
      *loop, [&] { return results.size() == static_cast<size_t>(kCalls); }));
}

}  // namespace
}  // namespace kiscsi
