// Waiting in tests for what no event of the loop announces (another thread's
// progress, such as a BlockingCall's thread exiting).
#ifndef KISCSI_TESTS_SRC_BASE_POLL_UNTIL_H_
#define KISCSI_TESTS_SRC_BASE_POLL_UNTIL_H_

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

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_BASE_POLL_UNTIL_H_
