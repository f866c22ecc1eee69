// Runs one blocking function on a thread of its own and hands its result to
// an EventLoop, so the loop's thread never waits for it.
//
// For the few system calls that block for long and have no non-blocking form,
// such as writing a SCSI host's sysfs "scan" attribute, which returns only
// after the kernel has scanned the target. Every call gets a detached thread
// and an eventfd registered on the loop; there is no pool, these calls are
// few.
//
// Lifetime: `work` runs on the new thread and must own everything it touches
// (copy paths and numbers in; no pointers to objects of the loop's thread).
// `done` runs on the loop's thread after `work` returned, unless the
// BlockingCall was destroyed first: then `done` never runs, and the thread,
// whose blocking call cannot be interrupted, finishes `work` and exits
// touching only what it owns. The loop must outlive the BlockingCall.
//
// The thread starts with every signal blocked: signals stay with the thread
// that handles them (the daemon's signalfd).
#ifndef KISCSI_SRC_BASE_BLOCKING_CALL_H_
#define KISCSI_SRC_BASE_BLOCKING_CALL_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "src/base/event_loop.h"

namespace kiscsi {

class BlockingCall {
 public:
  // Starts `work` on a new thread; `done` then gets its result on `loop`'s
  // thread, never from inside Start(), and may destroy the BlockingCall.
  // Fails if no eventfd or thread can be had.
  template <typename T>
  static absl::StatusOr<std::unique_ptr<BlockingCall>> Start(
      EventLoop& loop, absl::AnyInvocable<T()> work,
      absl::AnyInvocable<void(T)> done) {
    // Written by the thread before it signals, read by the loop after.
    auto result = std::make_shared<std::optional<T>>();
    return StartThread(
        loop,
        [work = std::move(work), result]() mutable { result->emplace(work()); },
        [done = std::move(done), result]() mutable {
          done(std::move(**result));
        });
  }

  // Before `done` ran: it never will (see above).
  ~BlockingCall();
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;

  // Threads of this process's calls that have not finished yet: not returned
  // from `work`, or not yet let go of what they hold (for tests and logs).
  static int ThreadsRunning();

 private:
  struct Shared;
  struct ThreadStart;

  static void* RunThread(void* arg);
  static absl::StatusOr<std::unique_ptr<BlockingCall>> StartThread(
      EventLoop& loop, absl::AnyInvocable<void()> work,
      absl::AnyInvocable<void()> done);
  BlockingCall(EventLoop& loop, std::shared_ptr<Shared> shared,
               absl::AnyInvocable<void()> done);
  void OnSignalled();

  EventLoop& loop_;
  std::shared_ptr<Shared> shared_;
  absl::AnyInvocable<void()> done_;
  bool registered_ = false;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_BLOCKING_CALL_H_
