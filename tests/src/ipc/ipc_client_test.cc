// IpcClient against scripted fake daemons: replies, timeouts, garbage and
// connection failures, each mapped to iscsiadm's exit code.
#include "src/ipc/ipc_client.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/src/ipc/socket_testing.h"

namespace kiscsi::ipc {
namespace {

using ::testing::HasSubstr;
using testing::ListenAt;
using testing::MakeTempDir;
using testing::RawConnection;

// Accepts one connection in a thread, reads one request and hands it to
// `script`, which answers (or not) on the connection.
class FakeDaemon {
 public:
  using Script = std::function<void(RawConnection&, const Message&)>;

  FakeDaemon(const std::string& path, Script script)
      : listener_(ListenAt(path)), thread_([this, script] {
          UniqueFd fd(
              ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
          RawConnection connection(std::move(fd));
          std::optional<Message> request = connection.Read();
          if (!request.has_value()) return;
          request_ = *request;
          script(connection, *request);
          // Hold the connection until the client is done with it.
          connection.ClosedWithin(absl::Seconds(10));
        }) {}
  ~FakeDaemon() { thread_.join(); }

  // The request received (valid once the client's call returned).
  const Message& request() const { return request_; }

 private:
  UniqueFd listener_;
  Message request_;
  std::thread thread_;
};

std::vector<uint8_t> ReplyBytes(uint32_t id, const Reply& reply) {
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(id, reply);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

class IpcClientTest : public ::testing::Test {
 protected:
  std::string dir_ = MakeTempDir();
  std::string path_ = dir_ + "/kiscsid.sock";
};

TEST_F(IpcClientTest, NoDaemon) {
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Milliseconds(500));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().message(),
            "could not connect to kiscsid at " + path_ +
                ": is it running? (systemctl start kiscsid)");
  EXPECT_EQ(ExitCodeOf(client.status()), ExitCode::kDaemonConnect);
}

TEST_F(IpcClientTest, StaleSocketFile) {
  ListenAt(path_);  // closed again at once: nobody listens any more
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Milliseconds(500));
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("is it running?"));
  EXPECT_EQ(ExitCodeOf(client.status()), ExitCode::kDaemonConnect);
}

TEST_F(IpcClientTest, SocketWithoutPermission) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may connect to any socket";
  UniqueFd listener = ListenAt(path_);
  ASSERT_EQ(::chmod(path_.c_str(), 0), 0);
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Milliseconds(500));
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("permission denied"));
  EXPECT_EQ(ExitCodeOf(client.status()), ExitCode::kAccessDenied);
}

TEST_F(IpcClientTest, FullAcceptQueueTimesOut) {
  UniqueFd listener = ListenAt(path_, /*backlog=*/0);
  absl::StatusOr<IpcClient> first =
      IpcClient::Connect(path_, absl::Milliseconds(500));
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<IpcClient> second =
      IpcClient::Connect(path_, absl::Milliseconds(100));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(ExitCodeOf(second.status()), ExitCode::kDaemonTimeout);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(90));
}

TEST_F(IpcClientTest, CallReturnsTheReply) {
  Reply answer;
  answer.out_lines = {"line 1", "line 2"};
  FakeDaemon daemon(path_, [&answer](RawConnection& c, const Message& m) {
    c.Send(ReplyBytes(m.header.request_id, answer));
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  const LoginRequest login{
      {"iqn.x", "192.0.2.1", 3260, std::nullopt, "default"}};
  absl::StatusOr<Reply> reply = client->Call(login, absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, answer);
  absl::StatusOr<Request> sent =
      DecodeRequest(daemon.request().header, daemon.request().payload);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, Request(login));
  EXPECT_EQ(daemon.request().header.request_id, 1u);
}

TEST_F(IpcClientTest, ProgressLinesArriveBeforeTheReply) {
  Reply answer;
  answer.out_lines = {"Login to x successful."};
  FakeDaemon daemon(path_, [&answer](RawConnection& c, const Message& m) {
    absl::StatusOr<std::vector<uint8_t>> progress =
        EncodeProgress(m.header.request_id, {"Logging in to x"});
    ASSERT_TRUE(progress.ok());
    std::vector<uint8_t> bytes = *progress;
    const std::vector<uint8_t> reply = ReplyBytes(m.header.request_id, answer);
    bytes.insert(bytes.end(), reply.begin(), reply.end());
    c.Send(bytes);
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::string> progress;
  LoginRequest login;
  login.progress = true;
  absl::StatusOr<Reply> reply = client->Call(
      login, absl::Seconds(5), [&progress](const std::vector<std::string>& l) {
        progress.insert(progress.end(), l.begin(), l.end());
      });
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(progress, std::vector<std::string>{"Logging in to x"});
  EXPECT_EQ(*reply, answer);
}

TEST_F(IpcClientTest, ProgressForAnotherRequestIsAnError) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    absl::StatusOr<std::vector<uint8_t>> progress =
        EncodeProgress(m.header.request_id + 1, {"Logging in to x"});
    ASSERT_TRUE(progress.ok());
    c.Send(*progress);
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<Reply> reply =
      client->Call(LoginRequest{}, absl::Seconds(5),
                   [](const std::vector<std::string>&) { FAIL(); });
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonComm);
}

// Every request is on its way before the first reply (the daemon works on
// them side by side); replies in any order come back in the requests' order.
TEST_F(IpcClientTest, CallAllPipelinesAndKeepsTheOrder) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& first) {
    std::vector<uint32_t> ids = {first.header.request_id};
    for (int i = 0; i < 2; ++i) {
      std::optional<Message> next = c.Read();
      ASSERT_TRUE(next.has_value());
      ids.push_back(next->header.request_id);
    }
    for (uint32_t id : ids) {
      absl::StatusOr<std::vector<uint8_t>> progress =
          EncodeProgress(id, {absl::StrCat("Logging in to ", id)});
      ASSERT_TRUE(progress.ok());
      c.Send(*progress);
    }
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      Reply reply;
      reply.out_lines = {absl::StrCat("Login ", *it)};
      c.Send(ReplyBytes(*it, reply));
    }
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  std::vector<std::string> progress;
  absl::StatusOr<std::vector<Reply>> replies = client->CallAll(
      {LoginRequest{}, LoginRequest{}, LoginRequest{}}, absl::Seconds(5),
      [&progress](const std::vector<std::string>& lines) {
        progress.insert(progress.end(), lines.begin(), lines.end());
      });
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(progress,
            (std::vector<std::string>{"Logging in to 1", "Logging in to 2",
                                      "Logging in to 3"}));
  ASSERT_EQ(replies->size(), 3u);
  for (size_t i = 0; i < replies->size(); ++i) {
    EXPECT_EQ((*replies)[i].out_lines,
              std::vector<std::string>{absl::StrCat("Login ", i + 1)});
  }
}

// More requests than the daemon takes at once: the next one goes out as a
// reply makes room, never more than kMaxRequestsInFlight unanswered.
TEST_F(IpcClientTest, CallAllStaysWithinTheInFlightLimit) {
  constexpr size_t kRequests = kMaxRequestsInFlight + 4;
  size_t most_unanswered = 0;
  FakeDaemon daemon(path_, [&](RawConnection& c, const Message& first) {
    std::vector<uint32_t> unanswered = {first.header.request_id};
    size_t received = 1;
    while (received < kMaxRequestsInFlight) {
      std::optional<Message> next = c.Read();
      ASSERT_TRUE(next.has_value());
      unanswered.push_back(next->header.request_id);
      ++received;
    }
    while (!unanswered.empty()) {
      most_unanswered = std::max(most_unanswered, unanswered.size());
      if (unanswered.size() == kMaxRequestsInFlight) {
        // The client waits for room.
        EXPECT_FALSE(c.Read(absl::Milliseconds(50)).has_value());
      }
      c.Send(ReplyBytes(unanswered.front(), Reply{}));
      unanswered.erase(unanswered.begin());
      if (received < kRequests) {
        std::optional<Message> next = c.Read();
        ASSERT_TRUE(next.has_value());
        unanswered.push_back(next->header.request_id);
        ++received;
      }
    }
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::vector<Reply>> replies = client->CallAll(
      std::vector<Request>(kRequests, PingRequest{}), absl::Seconds(10));
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(replies->size(), kRequests);
  EXPECT_EQ(most_unanswered, kMaxRequestsInFlight);
}

TEST_F(IpcClientTest, RequestIdZeroAnswersEveryOpenRequest) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    c.Send(ReplyBytes(m.header.request_id, Reply{}));
    c.Send(ReplyBytes(
        0, ReplyFromStatus(WithExitCode(absl::InvalidArgumentError("bad magic"),
                                        ExitCode::kDaemonComm))));
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::vector<Reply>> replies = client->CallAll(
      {PingRequest{}, PingRequest{}, PingRequest{}}, absl::Seconds(5));
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[0].exit_code, ExitCode::kSuccess);
  EXPECT_EQ((*replies)[1].exit_code, ExitCode::kDaemonComm);
  EXPECT_EQ((*replies)[2].exit_code, ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, ErrorReplyIsAnOkCall) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    c.Send(ReplyBytes(
        m.header.request_id,
        ReplyFromStatus(WithExitCode(absl::NotFoundError("No session found."),
                                     ExitCode::kSessionNotFound))));
  });
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok());
  absl::StatusOr<Reply> reply =
      client->Call(LogoutRequest{3}, absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  absl::Status status = ReplyStatus(*reply);
  EXPECT_EQ(status.message(), "No session found.");
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kSessionNotFound);
}

TEST_F(IpcClientTest, RequestIdZeroAnswersAnUnreadableMessage) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message&) {
    c.Send(ReplyBytes(
        0, ReplyFromStatus(WithExitCode(absl::InvalidArgumentError("bad magic"),
                                        ExitCode::kDaemonComm))));
  });
  absl::StatusOr<Reply> reply = IpcClient::Connect(path_, absl::Seconds(5))
                                    ->Call(PingRequest{}, absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->exit_code, ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, NoAnswerTimesOut) {
  FakeDaemon daemon(path_, [](RawConnection&, const Message&) {});
  absl::StatusOr<IpcClient> client =
      IpcClient::Connect(path_, absl::Seconds(5));
  ASSERT_TRUE(client.ok());
  const absl::Time start = absl::Now();
  absl::StatusOr<Reply> reply =
      client->Call(PingRequest{}, absl::Milliseconds(100));
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message(),
            "kiscsid did not answer the Ping request within 100 ms");
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonTimeout);
  EXPECT_GE(elapsed, absl::Milliseconds(100));
  EXPECT_LT(elapsed, absl::Seconds(5));
  // The connection is given up after a failed call.
  absl::StatusOr<Reply> again =
      client->Call(PingRequest{}, absl::Milliseconds(100));
  EXPECT_THAT(again.status().message(),
              HasSubstr("connection closed after an error"));
  EXPECT_EQ(ExitCodeOf(again.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, ClosedWithoutReply) {
  // The script closes the connection by shutting it down.
  FakeDaemon daemon(path_, [](RawConnection& c, const Message&) {
    ::shutdown(c.fd(), SHUT_RDWR);
  });
  absl::StatusOr<Reply> reply = IpcClient::Connect(path_, absl::Seconds(5))
                                    ->Call(PingRequest{}, absl::Seconds(5));
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(),
              HasSubstr("connection closed without a reply"));
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, GarbageReply) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message&) {
    c.Send(std::vector<uint8_t>(32, 'x'));
  });
  absl::StatusOr<Reply> reply = IpcClient::Connect(path_, absl::Seconds(5))
                                    ->Call(PingRequest{}, absl::Seconds(5));
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr("bad magic"));
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, ReplyToAnotherRequest) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    c.Send(ReplyBytes(m.header.request_id + 1, Reply{}));
  });
  absl::StatusOr<Reply> reply = IpcClient::Connect(path_, absl::Seconds(5))
                                    ->Call(PingRequest{}, absl::Seconds(5));
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(),
              HasSubstr("reply to request 2, expected 1"));
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, NewerDaemon) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    std::vector<uint8_t> bytes = ReplyBytes(m.header.request_id, Reply{});
    bytes[5] = 2;  // version 2
    c.Send(bytes);
  });
  absl::StatusOr<Reply> reply = IpcClient::Connect(path_, absl::Seconds(5))
                                    ->Call(PingRequest{}, absl::Seconds(5));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message(),
            "kiscsiadm speaks protocol 1, kiscsid 2: use the kiscsiadm "
            "installed with the running kiscsid");
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, MalformedReplyPayload) {
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    std::vector<uint8_t> bytes = ReplyBytes(m.header.request_id, Reply{});
    bytes.resize(kHeaderSize + 3);  // a truncated field header
    bytes[15] = 3;
    c.Send(bytes);
  });
  absl::StatusOr<Reply> reply = IpcClient::Connect(path_, absl::Seconds(5))
                                    ->Call(PingRequest{}, absl::Seconds(5));
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr("truncated field header"));
  EXPECT_EQ(ExitCodeOf(reply.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcClientTest, CallDaemonUsesTheRunDir) {
  ASSERT_EQ(::setenv("KISCSI_RUNDIR", dir_.c_str(), 1), 0);
  EXPECT_EQ(DaemonSocketPath(), path_);
  FakeDaemon daemon(path_, [](RawConnection& c, const Message& m) {
    c.Send(ReplyBytes(m.header.request_id, Reply{}));
  });
  absl::StatusOr<Reply> reply = CallDaemon(ReloadRequest{}, absl::Seconds(5));
  ::unsetenv("KISCSI_RUNDIR");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(daemon.request().header.type, MessageType::kReload);
}

}  // namespace
}  // namespace kiscsi::ipc
