// A single-threaded epoll event loop with millisecond timers.
//
// Everything that waits in the daemon and in the initramfs tool waits here:
// file descriptors (sockets, the NETLINK_ISCSI event socket) and timers (login
// and logout timeouts, polls for device nodes). Callbacks run on the thread
// that calls Run()/RunOnce()/RunUntil(), one at a time, so code driven by the
// loop needs no locks.
//
// Callbacks may add, modify and remove descriptors and timers freely, including
// their own: a descriptor removed during dispatch gets no further callbacks
// from the events already collected, a callback that removes itself stays alive
// until it returns, and a timer added while timers fire waits for the next
// round (so a zero-delay timer that re-adds itself cannot starve descriptors).
//
// Timers run against a Clock. The real clock is CLOCK_MONOTONIC (wall-clock
// steps do not move deadlines); tests inject a FakeClock, advance it and call
// RunOnce(absl::ZeroDuration()) to fire what became due.
#ifndef KISCSI_SRC_BASE_EVENT_LOOP_H_
#define KISCSI_SRC_BASE_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/base/unique_fd.h"

namespace kiscsi {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// CLOCK_MONOTONIC as an absl::Time (only differences are meaningful).
Clock& MonotonicClock();

// A clock that moves only when told to.
class FakeClock : public Clock {
 public:
  absl::Time Now() const override { return now_; }
  void Advance(absl::Duration by) { now_ += by; }

 private:
  absl::Time now_ = absl::UnixEpoch();
};

class EventLoop {
 public:
  using TimerId = uint64_t;
  // Receives the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLERR, ...).
  using FdCallback = std::function<void(uint32_t events)>;
  using TimerCallback = std::function<void()>;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(
      Clock& clock = MonotonicClock());
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // `events` is an epoll mask (level-triggered). One registration per fd.
  absl::Status AddFd(int fd, uint32_t events, FdCallback callback);
  absl::Status ModifyFd(int fd, uint32_t events);
  // Unknown descriptors are ignored. Remove a descriptor before closing it.
  void RemoveFd(int fd);

  // Runs `callback` once, `delay` from now (negative counts as zero).
  TimerId AddTimer(absl::Duration delay, TimerCallback callback);
  // False if the timer already fired or was cancelled.
  bool CancelTimer(TimerId id);

  absl::Time Now() const { return clock_.Now(); }

  // Dispatches until Stop() is called.
  absl::Status Run();
  // Makes Run() return after the callback in progress.
  void Stop() { stopped_ = true; }
  // Waits at most `max_wait` (a negative value: no bound) for events, then
  // dispatches the ready descriptors and the due timers once.
  absl::Status RunOnce(absl::Duration max_wait);
  // Dispatches until `done()` is true (checked before every round) or
  // `timeout` has passed on the clock: DeadlineExceeded then.
  absl::Status RunUntil(absl::FunctionRef<bool()> done, absl::Duration timeout);

  size_t fd_count() const { return fds_.size(); }
  size_t timer_count() const { return timers_.size(); }

 private:
  struct FdEntry {
    int fd;
    FdCallback callback;
  };

  EventLoop(Clock& clock, UniqueFd epoll, UniqueFd timer);
  absl::Status ArmTimerFd();
  void FireDueTimers();

  Clock& clock_;
  UniqueFd epoll_;
  UniqueFd timerfd_;
  bool stopped_ = false;
  // Registrations by id (the epoll data), and the id of each registered fd.
  uint64_t next_registration_ = 1;
  absl::flat_hash_map<uint64_t, std::shared_ptr<FdEntry>> registrations_;
  absl::flat_hash_map<int, uint64_t> fds_;
  // Pending timers in firing order, and each id's deadline for cancellation.
  TimerId next_timer_ = 1;
  std::map<std::pair<absl::Time, TimerId>, TimerCallback> timers_;
  absl::flat_hash_map<TimerId, absl::Time> timer_deadlines_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_EVENT_LOOP_H_
