// sd_notify to a datagram socket the test owns, and socket activation with
// descriptors placed where systemd puts them (fd 3 onwards).
#include "src/daemon/systemd.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/src/daemon/notify_socket.h"
#include "tests/src/ipc/socket_testing.h"

namespace kiscsi::daemon {
namespace {

using ipc::testing::ListenAt;
using ipc::testing::MakeTempDir;
using ::testing::HasSubstr;
using testing::NotifySocket;

class SdNotifyTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("NOTIFY_SOCKET"); }
};

TEST_F(SdNotifyTest, WithoutNotifySocketDoesNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(SdNotify("READY=1").ok());
}

TEST_F(SdNotifyTest, SendsToAPath) {
  NotifySocket socket(MakeTempDir() + "/notify");
  ::setenv("NOTIFY_SOCKET", socket.name().c_str(), 1);
  ASSERT_TRUE(SdNotify("READY=1\nSTATUS=Serving").ok());
  EXPECT_EQ(socket.Receive(), "READY=1\nSTATUS=Serving");
  ASSERT_TRUE(SdNotify("STOPPING=1").ok());
  EXPECT_EQ(socket.Receive(), "STOPPING=1");
}

TEST_F(SdNotifyTest, SendsToAnAbstractName) {
  NotifySocket socket(absl::StrCat("@kiscsi-test-notify-", ::getpid()));
  ::setenv("NOTIFY_SOCKET", socket.name().c_str(), 1);
  ASSERT_TRUE(SdNotify("READY=1").ok());
  EXPECT_EQ(socket.Receive(), "READY=1");
}

TEST_F(SdNotifyTest, RejectsAnUnsupportedAddress) {
  ::setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
  absl::Status status = SdNotify("READY=1");
  EXPECT_THAT(status.message(), HasSubstr("unsupported NOTIFY_SOCKET"));
}

TEST_F(SdNotifyTest, ReportsAMissingListener) {
  const std::string path = MakeTempDir() + "/nobody";
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  absl::Status status = SdNotify("READY=1");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(path));
}

// Puts descriptors at fd 3, 4, ... as systemd does, and puts back whatever
// the test process had there.
class PassedFds {
 public:
  explicit PassedFds(std::vector<UniqueFd> fds) {
    // Out of the way first: the sockets themselves may sit at fd 3 or 4.
    std::vector<UniqueFd> high;
    for (UniqueFd& fd : fds) {
      high.emplace_back(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 100));
    }
    fds.clear();
    for (size_t i = 0; i < high.size(); ++i) {
      const int target = kListenFdsStart + static_cast<int>(i);
      saved_.push_back(::fcntl(target, F_GETFD) >= 0
                           ? ::fcntl(target, F_DUPFD_CLOEXEC, 100)
                           : -1);
      EXPECT_EQ(::dup2(high[i].get(), target), target);
    }
  }
  ~PassedFds() {
    for (size_t i = 0; i < saved_.size(); ++i) {
      const int target = kListenFdsStart + static_cast<int>(i);
      if (saved_[i] >= 0) {
        ::dup2(saved_[i], target);
        ::close(saved_[i]);
      } else {
        ::close(target);
      }
    }
  }

 private:
  std::vector<int> saved_;
};

class ListenFdsTest : public ::testing::Test {
 protected:
  void SetEnv(const std::string& pid, const std::string& count,
              const std::string& names = "") {
    ::setenv("LISTEN_PID", pid.c_str(), 1);
    ::setenv("LISTEN_FDS", count.c_str(), 1);
    if (!names.empty()) ::setenv("LISTEN_FDNAMES", names.c_str(), 1);
  }
  static std::string Self() { return std::to_string(::getpid()); }
  static bool EnvCleared() {
    return ::getenv("LISTEN_PID") == nullptr &&
           ::getenv("LISTEN_FDS") == nullptr &&
           ::getenv("LISTEN_FDNAMES") == nullptr;
  }
  void TearDown() override {
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }

  std::string dir_ = MakeTempDir();
};

TEST_F(ListenFdsTest, NoneWithoutTheVariables) {
  absl::StatusOr<std::vector<ListenFd>> fds = TakeListenFds();
  ASSERT_TRUE(fds.ok());
  EXPECT_TRUE(fds->empty());
}

TEST_F(ListenFdsTest, NoneForAnotherProcess) {
  SetEnv(std::to_string(::getpid() + 1), "1", "kiscsid.socket");
  absl::StatusOr<std::vector<ListenFd>> fds = TakeListenFds();
  ASSERT_TRUE(fds.ok());
  EXPECT_TRUE(fds->empty());
  EXPECT_TRUE(EnvCleared());
}

TEST_F(ListenFdsTest, MalformedVariables) {
  SetEnv("12x", "1");
  EXPECT_THAT(TakeListenFds().status().message(),
              HasSubstr("invalid LISTEN_PID '12x'"));
  EXPECT_TRUE(EnvCleared());
  SetEnv(Self(), "-1");
  EXPECT_THAT(TakeListenFds().status().message(),
              HasSubstr("invalid LISTEN_FDS '-1'"));
  SetEnv(Self(), "100000");
  EXPECT_FALSE(TakeListenFds().ok());
}

TEST_F(ListenFdsTest, TakesThePassedSocket) {
  const std::string path = dir_ + "/kiscsid.sock";
  std::vector<UniqueFd> fds;
  fds.push_back(ListenAt(path));
  PassedFds passed(std::move(fds));
  SetEnv(Self(), "1", "kiscsid.socket");
  absl::StatusOr<std::vector<ListenFd>> taken = TakeListenFds();
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_TRUE(EnvCleared());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].fd.get(), kListenFdsStart);
  EXPECT_EQ((*taken)[0].name, "kiscsid.socket");
  EXPECT_EQ(::fcntl(kListenFdsStart, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

  absl::StatusOr<UniqueFd> listener = PickListener(std::move(*taken));
  ASSERT_TRUE(listener.ok()) << listener.status();
  ipc::testing::RawConnection connection(path);
  EXPECT_TRUE(connection.connected());
  listener->Release();  // fd 3 is restored by PassedFds
}

TEST_F(ListenFdsTest, PicksTheFirstAndClosesTheOthers) {
  std::vector<UniqueFd> fds;
  fds.push_back(ListenAt(dir_ + "/a.sock"));
  fds.push_back(ListenAt(dir_ + "/b.sock"));
  PassedFds passed(std::move(fds));
  SetEnv(Self(), "2", "a:b");
  absl::StatusOr<std::vector<ListenFd>> taken = TakeListenFds();
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[1].name, "b");
  absl::StatusOr<UniqueFd> listener = PickListener(std::move(*taken));
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ(listener->get(), kListenFdsStart);
  EXPECT_LT(::fcntl(kListenFdsStart + 1, F_GETFD), 0);  // closed
  listener->Release();
}

TEST_F(ListenFdsTest, MissingNamesAreUnknown) {
  std::vector<UniqueFd> fds;
  fds.push_back(ListenAt(dir_ + "/a.sock"));
  PassedFds passed(std::move(fds));
  SetEnv(Self(), "1");
  absl::StatusOr<std::vector<ListenFd>> taken = TakeListenFds();
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].name, "unknown");
  (*taken)[0].fd.Release();
}

TEST(PickListenerTest, RefusesWhatIsNotAListeningStreamSocket) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd other(pair[1]);
  std::vector<ListenFd> fds;
  fds.push_back(ListenFd{UniqueFd(pair[0]), "kiscsid.socket"});
  absl::StatusOr<UniqueFd> listener = PickListener(std::move(fds));
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(listener.status().message(),
              HasSubstr("is not a listening unix stream socket"));

  std::vector<ListenFd> datagram;
  datagram.push_back(
      ListenFd{UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)), "d"});
  EXPECT_FALSE(PickListener(std::move(datagram)).ok());
  EXPECT_FALSE(PickListener({}).ok());
}

}  // namespace
}  // namespace kiscsi::daemon
