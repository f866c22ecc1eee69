#include "src/base/blocking_call.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "src/base/errno_status.h"
#include "src/base/status_macros.h"
#include "src/base/unique_fd.h"

namespace kiscsi {

// What the thread and the loop's side share; the eventfd stays open until
// both have let go, so the thread's signal never hits a closed (or reused)
// descriptor.
struct BlockingCall::Shared {
  UniqueFd event;
  std::atomic<bool> returned{false};
};

struct BlockingCall::ThreadStart {
  std::shared_ptr<Shared> shared;
  absl::AnyInvocable<void()> work;
};

namespace {
std::atomic<int> threads_running{0};
}  // namespace

void* BlockingCall::RunThread(void* arg) {
  {
    std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
    start->work();
    start->work = nullptr;  // what it captured goes here, on this thread
    start->shared->returned.store(true, std::memory_order_release);
    const uint64_t one = 1;
    // Cannot fail on an eventfd short of 2^64 - 1 pending signals.
    [[maybe_unused]] const ssize_t n =
        write(start->shared->event.get(), &one, sizeof(one));
  }
  threads_running.fetch_sub(1, std::memory_order_acq_rel);
  return nullptr;
}

int BlockingCall::ThreadsRunning() {
  return threads_running.load(std::memory_order_acquire);
}

BlockingCall::BlockingCall(EventLoop& loop, std::shared_ptr<Shared> shared,
                           absl::AnyInvocable<void()> done)
    : loop_(loop), shared_(std::move(shared)), done_(std::move(done)) {}

BlockingCall::~BlockingCall() {
  if (registered_) loop_.RemoveFd(shared_->event.get());
}

absl::StatusOr<std::unique_ptr<BlockingCall>> BlockingCall::StartThread(
    EventLoop& loop, absl::AnyInvocable<void()> work,
    absl::AnyInvocable<void()> done) {
  auto shared = std::make_shared<Shared>();
  shared->event.Reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!shared->event.valid()) return ErrnoStatus(errno, "eventfd");
  std::unique_ptr<BlockingCall> call(
      new BlockingCall(loop, shared, std::move(done)));
  BlockingCall* raw = call.get();
  RETURN_IF_ERROR(loop.AddFd(shared->event.get(), EPOLLIN,
                             [raw](uint32_t) { raw->OnSignalled(); }));
  call->registered_ = true;

  auto start = std::make_unique<ThreadStart>(
      ThreadStart{std::move(shared), std::move(work)});
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the new thread inherits it
  threads_running.fetch_add(1, std::memory_order_acq_rel);
  pthread_t thread;
  const int error =
      pthread_create(&thread, &attributes, RunThread, start.get());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attributes);
  if (error != 0) {
    threads_running.fetch_sub(1, std::memory_order_acq_rel);
    return ErrnoStatus(error, "pthread_create");  // `call` unregisters
  }
  start.release();  // the thread's now
  return call;
}

void BlockingCall::OnSignalled() {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n =
      read(shared_->event.get(), &count, sizeof(count));
  if (!shared_->returned.load(std::memory_order_acquire)) return;
  loop_.RemoveFd(shared_->event.get());
  registered_ = false;
  absl::AnyInvocable<void()> done = std::move(done_);
  done();  // may destroy this object: nothing after it
}

}  // namespace kiscsi
