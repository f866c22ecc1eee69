#include "src/base/event_loop.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/monotonic.h"

namespace kiscsi {
namespace {

constexpr int kMaxEventsPerRound = 64;

class MonotonicClockImpl : public Clock {
 public:
  absl::Time Now() const override { return MonotonicNow(); }
};

// Milliseconds for epoll_wait, rounded up so a wait never ends just short.
int WaitMs(absl::Duration wait) {
  if (wait < absl::ZeroDuration() || wait == absl::InfiniteDuration())
    return -1;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

Clock& MonotonicClock() {
  static MonotonicClockImpl* const clock = new MonotonicClockImpl();
  return *clock;
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(Clock& clock) {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return ErrnoStatus(errno, "epoll_create1");
  UniqueFd timer(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer.valid()) return ErrnoStatus(errno, "timerfd_create");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = 0;  // registration 0 is the timerfd
  if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, timer.get(), &event) != 0)
    return ErrnoStatus(errno, "epoll_ctl add timerfd");
  return std::unique_ptr<EventLoop>(
      new EventLoop(clock, std::move(epoll), std::move(timer)));
}

EventLoop::EventLoop(Clock& clock, UniqueFd epoll, UniqueFd timer)
    : clock_(clock), epoll_(std::move(epoll)), timerfd_(std::move(timer)) {}

EventLoop::~EventLoop() = default;

absl::Status EventLoop::AddFd(int fd, uint32_t events, FdCallback callback) {
  if (fds_.contains(fd)) {
    return absl::AlreadyExistsError(
        absl::StrCat("fd ", fd, " is already registered"));
  }
  const uint64_t id = next_registration_++;
  epoll_event event{};
  event.events = events;
  event.data.u64 = id;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
    return ErrnoStatus(errno, absl::StrCat("epoll_ctl add fd ", fd));
  registrations_[id] =
      std::make_shared<FdEntry>(FdEntry{fd, std::move(callback)});
  fds_[fd] = id;
  return absl::OkStatus();
}

absl::Status EventLoop::ModifyFd(int fd, uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end())
    return absl::NotFoundError(absl::StrCat("fd ", fd, " is not registered"));
  epoll_event event{};
  event.events = events;
  event.data.u64 = it->second;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0)
    return ErrnoStatus(errno, absl::StrCat("epoll_ctl modify fd ", fd));
  return absl::OkStatus();
}

void EventLoop::RemoveFd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  // Fails only if the fd was closed first, which removed it from epoll anyway.
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  registrations_.erase(it->second);
  fds_.erase(it);
}

EventLoop::TimerId EventLoop::AddTimer(absl::Duration delay,
                                       TimerCallback callback) {
  if (delay < absl::ZeroDuration()) delay = absl::ZeroDuration();
  const TimerId id = next_timer_++;
  const absl::Time deadline = clock_.Now() + delay;
  const bool earliest =
      timers_.empty() || deadline < timers_.begin()->first.first;
  timers_.emplace(std::make_pair(deadline, id), std::move(callback));
  timer_deadlines_[id] = deadline;
  if (earliest) {
    // A failure here leaves the timer to the next RunOnce's check.
    ArmTimerFd().IgnoreError();
  }
  return id;
}

bool EventLoop::CancelTimer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  return true;
}

absl::Status EventLoop::ArmTimerFd() {
  itimerspec spec{};
  if (!timers_.empty()) {
    absl::Duration left = timers_.begin()->first.first - clock_.Now();
    // An all-zero it_value disarms; a due timer needs the smallest delay.
    if (left < absl::Nanoseconds(1)) left = absl::Nanoseconds(1);
    spec.it_value = absl::ToTimespec(left);
  }
  if (timerfd_settime(timerfd_.get(), 0, &spec, nullptr) != 0)
    return ErrnoStatus(errno, "timerfd_settime");
  return absl::OkStatus();
}

void EventLoop::FireDueTimers() {
  const absl::Time now = clock_.Now();
  const TimerId limit = next_timer_;  // timers added from here wait a round
  while (!timers_.empty()) {
    auto it = timers_.begin();
    if (it->first.first > now || it->first.second >= limit) break;
    TimerCallback callback = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    callback();
  }
}

absl::Status EventLoop::RunOnce(absl::Duration max_wait) {
  epoll_event events[kMaxEventsPerRound];
  int ready =
      epoll_wait(epoll_.get(), events, kMaxEventsPerRound, WaitMs(max_wait));
  if (ready < 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "epoll_wait");
    ready = 0;
  }
  for (int i = 0; i < ready; ++i) {
    const uint64_t id = events[i].data.u64;
    if (id == 0) {
      uint64_t expirations = 0;
      // Nothing to read (EAGAIN) is fine: the deadlines decide what fires.
      [[maybe_unused]] const ssize_t n =
          read(timerfd_.get(), &expirations, sizeof(expirations));
      continue;
    }
    auto it = registrations_.find(id);
    if (it == registrations_.end()) continue;  // removed during this round
    // Holds the callback alive even if it removes its own registration.
    const std::shared_ptr<FdEntry> entry = it->second;
    entry->callback(events[i].events);
  }
  FireDueTimers();
  return ArmTimerFd();
}

absl::Status EventLoop::Run() {
  stopped_ = false;
  while (!stopped_) {
    absl::Status status = RunOnce(absl::InfiniteDuration());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status EventLoop::RunUntil(absl::FunctionRef<bool()> done,
                                 absl::Duration timeout) {
  const absl::Time deadline = clock_.Now() + timeout;
  while (!done()) {
    const absl::Duration left = deadline - clock_.Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("not done after ", absl::FormatDuration(timeout)));
    }
    absl::Status status = RunOnce(left);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace kiscsi
