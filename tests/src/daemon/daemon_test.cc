// The daemon frame in-process: readiness and reload notifications on a
// datagram socket the test owns, SIGHUP reloads, SIGTERM and SIGINT stop it.
// The frame runs on the test's main thread; a helper thread plays systemd and
// the administrator.
#include "src/daemon/daemon.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/ipc/ipc_client.h"
#include "tests/src/daemon/notify_socket.h"
#include "tests/src/ipc/socket_testing.h"

namespace kiscsi::daemon {
namespace {

using ipc::testing::MakeTempDir;
using testing::NotifySocket;
using ::testing::StartsWith;

// Pings and reloads; everything else is not needed here.
class CountingHandler : public CommandHandler {
 public:
  void Ping(ReplyCallback done) override { done(ipc::Reply{}); }
  void Login(const ipc::LoginRequest&, ProgressCallback,
             ReplyCallback done) override {
    Unused(std::move(done));
  }
  void Logout(const ipc::LogoutRequest&, ReplyCallback done) override {
    Unused(std::move(done));
  }
  void LogoutAll(const ipc::LogoutAllRequest&, ReplyCallback done) override {
    Unused(std::move(done));
  }
  void LoginAll(const ipc::LoginAllRequest&, ProgressCallback,
                ReplyCallback done) override {
    Unused(std::move(done));
  }
  void Stats(const ipc::StatsRequest&, ReplyCallback done) override {
    Unused(std::move(done));
  }
  void Reload(ReplyCallback done) override {
    ++reloads;
    done(ipc::Reply{});
  }

  std::atomic<int> reloads{0};

 private:
  static void Unused(ReplyCallback done) {
    done(ipc::ReplyFromStatus(absl::UnimplementedError("unused")));
  }
};

bool Blocked(int signal) {
  sigset_t mask;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  return sigismember(&mask, signal) == 1;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("NOTIFY_SOCKET", notify_.name().c_str(), 1);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    absl::StatusOr<UniqueFd> listener = ListenOnPath(path_);
    ASSERT_TRUE(listener.ok()) << listener.status();
    IpcServerOptions options;
    options.allowed_uid = ::getuid();
    absl::StatusOr<std::unique_ptr<Daemon>> daemon =
        Daemon::Create(*loop_, std::move(*listener), handler_, options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = std::move(*daemon);
    // A broken test fails instead of hanging.
    loop_->AddTimer(absl::Seconds(30), [this] {
      ADD_FAILURE() << "the daemon did not stop";
      loop_->Stop();
    });
  }

  void TearDown() override {
    daemon_.reset();
    ::unsetenv("NOTIFY_SOCKET");
  }

  std::vector<std::string> notifications_;  // filled by the helper thread
  std::string dir_ = MakeTempDir();
  std::string path_ = dir_ + "/kiscsid.sock";
  NotifySocket notify_{dir_ + "/notify"};
  CountingHandler handler_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTest, ReadyReloadAndStop) {
  EXPECT_TRUE(Blocked(SIGTERM) && Blocked(SIGINT) && Blocked(SIGHUP));
  bool pinged = false;
  std::thread admin([this, &pinged] {
    auto next = [this] {
      notifications_.push_back(notify_.Receive().value_or("(nothing)"));
    };
    next();  // READY=1
    absl::StatusOr<ipc::IpcClient> client =
        ipc::IpcClient::Connect(path_, absl::Seconds(5));
    pinged =
        client.ok() && client->Call(ipc::PingRequest{}, absl::Seconds(5)).ok();
    ::kill(::getpid(), SIGHUP);
    next();  // RELOADING=1
    next();  // READY=1
    ::kill(::getpid(), SIGTERM);
    next();  // STOPPING=1
  });
  absl::Status status = daemon_->Run();
  admin.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(pinged);
  EXPECT_EQ(handler_.reloads, 1);
  ASSERT_EQ(notifications_.size(), 4u);
  EXPECT_EQ(notifications_[0], "READY=1\nSTATUS=Serving kiscsiadm requests");
  EXPECT_THAT(notifications_[1], StartsWith("RELOADING=1\nMONOTONIC_USEC="));
  EXPECT_EQ(notifications_[2], notifications_[0]);
  EXPECT_EQ(notifications_[3], "STOPPING=1");
}

TEST_F(DaemonTest, SigintStopsToo) {
  std::thread admin([this] {
    notify_.Receive();  // READY=1
    ::kill(::getpid(), SIGINT);
  });
  absl::Status status = daemon_->Run();
  admin.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(notify_.Receive(), "STOPPING=1");
}

TEST_F(DaemonTest, DestructionRestoresTheSignalMask) {
  // A signal that arrives after the loop stopped must not kill the process
  // when the mask is restored.
  ::kill(::getpid(), SIGTERM);
  daemon_.reset();
  EXPECT_FALSE(Blocked(SIGTERM));
  EXPECT_FALSE(Blocked(SIGHUP));
}

}  // namespace
}  // namespace kiscsi::daemon
