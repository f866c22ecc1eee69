#include "src/base/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<EventLoop> MakeLoop(Clock& clock = MonotonicClock()) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(clock);
  EXPECT_TRUE(loop.ok()) << loop.status();
  return *std::move(loop);
}

UniqueFd MakeEventFd() { return UniqueFd(eventfd(0, EFD_NONBLOCK)); }

void Signal(const UniqueFd& fd) {
  const uint64_t one = 1;
  ASSERT_EQ(write(fd.get(), &one, sizeof(one)), 8);
}

void Drain(const UniqueFd& fd) {
  uint64_t value = 0;
  ASSERT_EQ(read(fd.get(), &value, sizeof(value)), 8);
}

TEST(EventLoopTest, DispatchesReadableFd) {
  auto loop = MakeLoop();
  UniqueFd fd = MakeEventFd();
  int calls = 0;
  ASSERT_TRUE(loop->AddFd(fd.get(), EPOLLIN,
                          [&](uint32_t events) {
                            EXPECT_TRUE(events & EPOLLIN);
                            Drain(fd);
                            ++calls;
                          })
                  .ok());
  EXPECT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(calls, 0);
  Signal(fd);
  EXPECT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop->AddFd(fd.get(), EPOLLIN, [](uint32_t) {}).ok());
}

TEST(EventLoopTest, ModifyFdChangesInterest) {
  auto loop = MakeLoop();
  UniqueFd fd = MakeEventFd();
  std::vector<uint32_t> seen;
  ASSERT_TRUE(
      loop->AddFd(fd.get(), 0, [&](uint32_t events) { seen.push_back(events); })
          .ok());
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_TRUE(seen.empty());
  ASSERT_TRUE(loop->ModifyFd(fd.get(), EPOLLOUT).ok());
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_THAT(seen, ElementsAre(static_cast<uint32_t>(EPOLLOUT)));
  EXPECT_FALSE(loop->ModifyFd(12345, EPOLLIN).ok());
}

TEST(EventLoopTest, CallbackRemovingItselfAndAnotherReadyFd) {
  auto loop = MakeLoop();
  UniqueFd a = MakeEventFd();
  UniqueFd b = MakeEventFd();
  int a_calls = 0;
  int b_calls = 0;
  // Whichever runs first removes both; the other must not run in that round.
  auto remove_both = [&] {
    loop->RemoveFd(a.get());
    loop->RemoveFd(b.get());
  };
  ASSERT_TRUE(loop->AddFd(a.get(), EPOLLIN,
                          [&](uint32_t) {
                            ++a_calls;
                            remove_both();
                          })
                  .ok());
  ASSERT_TRUE(loop->AddFd(b.get(), EPOLLIN,
                          [&](uint32_t) {
                            ++b_calls;
                            remove_both();
                          })
                  .ok());
  Signal(a);
  Signal(b);
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(a_calls + b_calls, 1);
  EXPECT_EQ(loop->fd_count(), 0u);
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(a_calls + b_calls, 1);
}

TEST(EventLoopTest, ReRegisteredFdGetsOnlyNewCallback) {
  auto loop = MakeLoop();
  UniqueFd fd = MakeEventFd();
  std::vector<std::string> calls;
  ASSERT_TRUE(loop->AddFd(fd.get(), EPOLLIN,
                          [&](uint32_t) {
                            calls.push_back("old");
                            loop->RemoveFd(fd.get());
                            ASSERT_TRUE(loop->AddFd(fd.get(), EPOLLIN,
                                                    [&](uint32_t) {
                                                      calls.push_back("new");
                                                      Drain(fd);
                                                    })
                                            .ok());
                          })
                  .ok());
  Signal(fd);
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_THAT(calls, ElementsAre("old", "new"));
}

TEST(EventLoopTest, TimersFireInDeadlineOrder) {
  auto loop = MakeLoop();
  std::vector<int> fired;
  // Taken before the timers are added: each one's deadline counts from then.
  const absl::Time start = loop->Now();
  loop->AddTimer(absl::Milliseconds(30), [&] { fired.push_back(30); });
  loop->AddTimer(absl::Milliseconds(10), [&] { fired.push_back(10); });
  loop->AddTimer(absl::Milliseconds(20), [&] { fired.push_back(20); });
  ASSERT_TRUE(
      loop->RunUntil([&] { return fired.size() == 3; }, absl::Seconds(5)).ok());
  EXPECT_THAT(fired, ElementsAre(10, 20, 30));
  EXPECT_GE(loop->Now() - start, absl::Milliseconds(30));
  EXPECT_EQ(loop->timer_count(), 0u);
}

TEST(EventLoopTest, CancelledTimerDoesNotFire) {
  auto loop = MakeLoop();
  bool fired = false;
  bool other = false;
  const EventLoop::TimerId id =
      loop->AddTimer(absl::Milliseconds(5), [&] { fired = true; });
  loop->AddTimer(absl::Milliseconds(20), [&] { other = true; });
  EXPECT_TRUE(loop->CancelTimer(id));
  EXPECT_FALSE(loop->CancelTimer(id));
  ASSERT_TRUE(loop->RunUntil([&] { return other; }, absl::Seconds(5)).ok());
  EXPECT_FALSE(fired);
}

TEST(EventLoopTest, TimerCallbacksCanCancelAndAddTimers) {
  FakeClock clock;
  auto loop = MakeLoop(clock);
  std::vector<std::string> fired;
  EventLoop::TimerId second = 0;
  loop->AddTimer(absl::Milliseconds(10), [&] {
    fired.push_back("first");
    EXPECT_TRUE(loop->CancelTimer(second));
    // Due at once, but it waits for the next round.
    loop->AddTimer(absl::ZeroDuration(), [&] { fired.push_back("added"); });
  });
  second = loop->AddTimer(absl::Milliseconds(10),
                          [&] { fired.push_back("second"); });
  clock.Advance(absl::Milliseconds(10));
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_THAT(fired, ElementsAre("first"));
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_THAT(fired, ElementsAre("first", "added"));
}

TEST(EventLoopTest, FakeClockDecidesWhatIsDue) {
  FakeClock clock;
  auto loop = MakeLoop(clock);
  int fired = 0;
  loop->AddTimer(absl::Seconds(3600), [&] { ++fired; });
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(fired, 0);
  clock.Advance(absl::Seconds(3599));
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(fired, 0);
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(fired, 1);
}

TEST(EventLoopTest, RunUntilTimesOut) {
  auto loop = MakeLoop();
  const absl::Time start = loop->Now();
  const absl::Status status =
      loop->RunUntil([] { return false; }, absl::Milliseconds(20));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(loop->Now() - start, absl::Milliseconds(20));
}

TEST(EventLoopTest, StopEndsRun) {
  auto loop = MakeLoop();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      loop->Stop();
    } else {
      loop->AddTimer(absl::Milliseconds(1), tick);
    }
  };
  loop->AddTimer(absl::Milliseconds(1), tick);
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(ticks, 3);
}

}  // namespace
}  // namespace kiscsi
