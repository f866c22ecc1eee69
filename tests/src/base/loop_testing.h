// Test helpers around an EventLoop: waiting for what no event of the loop
// announces (another thread's progress, such as a BlockingCall's thread
// exiting), and a ticking timer that shows the loop is not blocked.
#ifndef KISCSI_TESTS_SRC_BASE_LOOP_TESTING_H_
#define KISCSI_TESTS_SRC_BASE_LOOP_TESTING_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/base/event_loop.h"

namespace kiscsi {

// Dispatches `loop` in rounds of at most 5 ms until `condition` holds; false
// after `timeout` of real time (whatever the loop's clock) or a loop failure.
inline bool PollUntil(EventLoop& loop, const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    if (!loop.RunOnce(absl::Milliseconds(5)).ok()) return false;
  }
  return true;
}

// Counts the rounds of a 1 ms timer on `loop` from construction on.
class Ticker {
 public:
  explicit Ticker(EventLoop& loop) : loop_(loop) { Arm(); }
  ~Ticker() { loop_.CancelTimer(timer_); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  int ticks() const { return ticks_; }

 private:
  void Arm() {
    timer_ = loop_.AddTimer(absl::Milliseconds(1), [this] {
      ++ticks_;
      Arm();
    });
  }

  EventLoop& loop_;
  EventLoop::TimerId timer_ = 0;
  int ticks_ = 0;
};

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_BASE_LOOP_TESTING_H_
