#include "src/transport/tcp_connect.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/transport/pdu_channel.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

// A socket on 127.0.0.1 with an ephemeral port; listening if `backlog` is set.
struct LocalSocket {
  explicit LocalSocket(std::optional<int> backlog) {
    fd = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(
        bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)),
        0);
    socklen_t length = sizeof(address);
    EXPECT_EQ(
        getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length),
        0);
    port = ntohs(address.sin_port);
    if (backlog.has_value()) {
      EXPECT_EQ(listen(fd.get(), *backlog), 0);
    }
  }
  Portal portal() const { return {"127.0.0.1", port}; }
  UniqueFd fd;
  uint16_t port = 0;
};

class TcpConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
  }

  absl::StatusOr<UniqueFd> Connect(const Portal& portal,
                                   ConnectOptions options) {
    std::optional<absl::StatusOr<UniqueFd>> outcome;
    TcpConnector connector(
        *loop_, portal, options,
        [&](absl::StatusOr<UniqueFd> fd) { outcome = std::move(fd); });
    connector.Start();
    EXPECT_FALSE(outcome.has_value());  // never from inside Start()
    EXPECT_TRUE(
        loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(10))
            .ok());
    if (!outcome.has_value()) return absl::InternalError("no outcome");
    return *std::move(outcome);
  }

  // A listener whose accept queue is full: further SYNs go unanswered, so a
  // connect to it hangs like one to a blackholed portal.
  std::unique_ptr<LocalSocket> FullListener() {
    auto listener = std::make_unique<LocalSocket>(0);
    for (int i = 0; i < 4; ++i) {
      UniqueFd client(
          socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      const Portal portal = listener->portal();
      std::vector<SocketAddress> addresses = *ResolvePortal(portal);
      connect(client.get(), addresses[0].get(), addresses[0].length);
      fillers_.push_back(std::move(client));
    }
    return listener;
  }

  std::unique_ptr<EventLoop> loop_;
  std::vector<UniqueFd> fillers_;
};

TEST_F(TcpConnectorTest, ConnectsWithNoDelayAndNonBlocking) {
  LocalSocket listener(16);
  absl::StatusOr<UniqueFd> fd = Connect(listener.portal(), {});
  ASSERT_TRUE(fd.ok()) << fd.status();
  int nodelay = 0;
  socklen_t length = sizeof(nodelay);
  ASSERT_EQ(getsockopt(fd->get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &length),
            0);
  EXPECT_EQ(nodelay, 1);
  EXPECT_NE(fcntl(fd->get(), F_GETFL) & O_NONBLOCK, 0);
  // The peer is the listener.
  sockaddr_in peer{};
  length = sizeof(peer);
  ASSERT_EQ(getpeername(fd->get(), reinterpret_cast<sockaddr*>(&peer), &length),
            0);
  EXPECT_EQ(ntohs(peer.sin_port), listener.port);
  EXPECT_EQ(loop_->fd_count(), 0u);
  EXPECT_EQ(loop_->timer_count(), 0u);
}

TEST_F(TcpConnectorTest, RefusedIsATransportError) {
  LocalSocket closed(std::nullopt);  // bound, not listening: refuses
  absl::StatusOr<UniqueFd> fd = Connect(closed.portal(), {});
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(ExitCodeOf(fd.status()), ExitCode::kTransport);
  EXPECT_THAT(fd.status().message(),
              HasSubstr(absl::StrCat("cannot connect to 127.0.0.1:",
                                     closed.port, ": Connection refused")));
  EXPECT_EQ(loop_->fd_count(), 0u);
}

TEST_F(TcpConnectorTest, PerAddressTimeoutEndsAnUnansweredConnect) {
  std::unique_ptr<LocalSocket> full = FullListener();
  const absl::Time start = absl::Now();
  absl::StatusOr<UniqueFd> fd =
      Connect(full->portal(), {.per_address_timeout = absl::Milliseconds(150),
                               .timeout = std::nullopt});
  ASSERT_FALSE(fd.ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  EXPECT_EQ(ExitCodeOf(fd.status()), ExitCode::kTransportTimeout);
  EXPECT_THAT(fd.status().message(), HasSubstr("no answer within 150 ms"));
  EXPECT_EQ(loop_->fd_count(), 0u);
  EXPECT_EQ(loop_->timer_count(), 0u);
}

TEST_F(TcpConnectorTest, OverallTimeoutEndsTheAttempt) {
  std::unique_ptr<LocalSocket> full = FullListener();
  absl::StatusOr<UniqueFd> fd =
      Connect(full->portal(), {.per_address_timeout = std::nullopt,
                               .timeout = absl::Milliseconds(100)});
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(ExitCodeOf(fd.status()), ExitCode::kTransportTimeout);
  EXPECT_THAT(fd.status().message(), HasSubstr("timed out after 100 ms"));
}

TEST_F(TcpConnectorTest, TriesTheNextAddressAfterARefusal) {
  LocalSocket closed(std::nullopt);
  LocalSocket listener(16);
  std::vector<SocketAddress> addresses = *ResolvePortal(closed.portal());
  std::vector<SocketAddress> second = *ResolvePortal(listener.portal());
  addresses.push_back(second[0]);
  std::optional<absl::StatusOr<UniqueFd>> outcome;
  TcpConnector connector(
      *loop_, closed.portal(), {},
      [&](absl::StatusOr<UniqueFd> fd) { outcome = std::move(fd); });
  connector.StartWith(std::move(addresses));
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(10))
          .ok());
  EXPECT_TRUE(outcome->ok()) << outcome->status();
}

TEST_F(TcpConnectorTest, DestroyedUnfinishedCallsNothingAndLeavesNothing) {
  std::unique_ptr<LocalSocket> full = FullListener();
  bool called = false;
  {
    TcpConnector connector(*loop_, full->portal(), {},
                           [&](absl::StatusOr<UniqueFd>) { called = true; });
    connector.Start();
    EXPECT_TRUE(connector.in_flight());
  }
  ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(20)).ok());
  EXPECT_FALSE(called);
  EXPECT_EQ(loop_->fd_count(), 0u);
  EXPECT_EQ(loop_->timer_count(), 0u);
}

TEST(ConnectTcpTest, BlockingFormConnectsAndReportsRefusal) {
  LocalSocket listener(16);
  absl::StatusOr<std::unique_ptr<TcpPduChannel>> channel =
      ConnectTcp(listener.portal(), absl::Seconds(5));
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ((*channel)->peer(), absl::StrCat("127.0.0.1:", listener.port));

  LocalSocket closed(std::nullopt);
  channel = ConnectTcp(closed.portal(), absl::Seconds(5));
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(ExitCodeOf(channel.status()), ExitCode::kTransport);
  EXPECT_THAT(channel.status().message(), HasSubstr("Connection refused"));
}

}  // namespace
}  // namespace kiscsi
