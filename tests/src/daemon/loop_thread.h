// Runs an EventLoop on a thread of its own, so that a test can drive blocking
// clients against a server living on the loop.
#ifndef KISCSI_TESTS_SRC_DAEMON_LOOP_THREAD_H_
#define KISCSI_TESTS_SRC_DAEMON_LOOP_THREAD_H_

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"

namespace kiscsi::daemon::testing {

class LoopThread {
 public:
  // Set up everything on `loop` before constructing this; after that, touch
  // the loop's objects only from its callbacks until Join() returned.
  explicit LoopThread(EventLoop& loop) : loop_(loop) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    wake_read_.Reset(fds[0]);
    wake_write_.Reset(fds[1]);
    EXPECT_TRUE(loop_
                    .AddFd(wake_read_.get(), EPOLLIN,
                           [this](uint32_t) { stopped_ = true; })
                    .ok());
    thread_ = std::thread([this] {
      // Bounded, so that a broken test fails instead of hanging.
      absl::Status status =
          loop_.RunUntil([this] { return stopped_; }, absl::Seconds(60));
      EXPECT_TRUE(status.ok()) << status;
    });
  }
  ~LoopThread() { Join(); }

  // Stops the loop and waits for the thread.
  void Join() {
    if (!thread_.joinable()) return;
    const char byte = 0;
    EXPECT_EQ(::write(wake_write_.get(), &byte, 1), 1);
    thread_.join();
    loop_.RemoveFd(wake_read_.get());
  }

 private:
  EventLoop& loop_;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  bool stopped_ = false;  // written and read on the loop thread only
  std::thread thread_;
};

}  // namespace kiscsi::daemon::testing

#endif  // KISCSI_TESTS_SRC_DAEMON_LOOP_THREAD_H_
