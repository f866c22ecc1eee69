// The IPC server on a real unix socket in a temporary directory, its loop on a
// thread of its own, driven by IpcClients and raw connections.
#include "src/daemon/ipc_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/ipc/ipc_client.h"
#include "tests/src/daemon/loop_thread.h"
#include "tests/src/ipc/socket_testing.h"

namespace kiscsi::daemon {
namespace {

using ipc::testing::MakeTempDir;
using ipc::testing::RawConnection;
using ipc::testing::ReplyIn;
using ::testing::HasSubstr;

ipc::Reply Lines(std::vector<std::string> lines) {
  ipc::Reply reply;
  reply.out_lines = std::move(lines);
  return reply;
}

// Runs on the loop thread only.
//   Ping:         answers at once.
//   Login:        shows "logging in to TARGET" as progress, then is held
//                 until a Logout releases it (a slow operation).
//   Logout:       answers every held Login, then itself.
//   LogoutAll:    drops its callback without answering.
//   LoginAll:     answers twice.
//   Stats:        without a sid: answers from a timer 20 ms later; sid 0:
//                 answers with more than a message can hold; else answers
//                 with an error.
//   Reload:       answers "held N", the number of held logins.
class FakeHandler : public CommandHandler {
 public:
  explicit FakeHandler(EventLoop& loop) : loop_(loop) {}

  void Ping(ReplyCallback done) override { done(Lines({"pong"})); }
  void Login(const ipc::LoginRequest& request, ProgressCallback progress,
             ReplyCallback done) override {
    const std::string target = request.nodes.target.value_or("");
    progress({"logging in to " + target});
    held_.push_back({target, std::move(done)});
  }
  void Logout(const ipc::LogoutRequest&, ReplyCallback done) override {
    const size_t released = held_.size();
    for (auto& [target, login] : held_) login(Lines({"logged in " + target}));
    held_.clear();
    done(Lines({"released " + std::to_string(released)}));
  }
  void LogoutAll(const ipc::LogoutAllRequest&, ReplyCallback) override {}
  void LoginAll(const ipc::LoginAllRequest&, ProgressCallback,
                ReplyCallback done) override {
    done(Lines({"first"}));
    done(Lines({"second"}));
  }
  void Stats(const ipc::StatsRequest& request, ReplyCallback done) override {
    if (!request.sid.has_value()) {
      auto shared = std::make_shared<ReplyCallback>(std::move(done));
      loop_.AddTimer(absl::Milliseconds(20),
                     [shared] { (*shared)(Lines({"counted"})); });
      return;
    }
    if (*request.sid == 0) {
      return done(Lines(std::vector<std::string>(ipc::kMaxPayloadLength / 1000,
                                                 std::string(1000, 's'))));
    }
    done(ipc::ReplyFromStatus(WithExitCode(
        absl::NotFoundError("no session " + std::to_string(*request.sid)),
        ExitCode::kSessionNotFound)));
  }
  void Reload(ReplyCallback done) override {
    done(Lines({"held " + std::to_string(held_.size())}));
  }

  // Answers the held logins from outside the loop: only after it stopped.
  std::vector<std::pair<std::string, ReplyCallback>> TakeHeld() {
    return std::move(held_);
  }

 private:
  EventLoop& loop_;
  std::vector<std::pair<std::string, ReplyCallback>> held_;
};

class IpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    handler_ = std::make_unique<FakeHandler>(*loop_);
  }

  void Start(IpcServerOptions options = Options()) {
    absl::StatusOr<UniqueFd> listener = ListenOnPath(path_);
    ASSERT_TRUE(listener.ok()) << listener.status();
    absl::StatusOr<std::unique_ptr<IpcServer>> server =
        IpcServer::Create(*loop_, std::move(*listener), *handler_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::make_unique<testing::LoopThread>(*loop_);
  }

  // Stops the loop; the server and handler may be inspected afterwards.
  void Stop() { thread_.reset(); }

  void TearDown() override {
    Stop();
    SetLogSinkForTesting(nullptr);
    server_.reset();
  }

  static IpcServerOptions Options() {
    IpcServerOptions options;
    options.allowed_uid = ::getuid();
    return options;
  }

  ipc::IpcClient Connect() {
    absl::StatusOr<ipc::IpcClient> client =
        ipc::IpcClient::Connect(path_, absl::Seconds(5));
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(*client);
  }

  ipc::Reply Call(ipc::IpcClient& client, const ipc::Request& request) {
    absl::StatusOr<ipc::Reply> reply = client.Call(request, absl::Seconds(10));
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : ipc::Reply{};
  }

  // Waits until the handler holds `count` logins (sent on other connections,
  // which the loop may read in any order).
  void WaitUntilHeld(size_t count) {
    ipc::IpcClient client = Connect();
    const std::vector<std::string> wanted = {"held " + std::to_string(count)};
    for (int attempt = 0; attempt < 1000; ++attempt) {
      if (Call(client, ipc::ReloadRequest{}).out_lines == wanted) return;
      ::usleep(2000);
    }
    ADD_FAILURE() << "the handler never held " << count << " logins";
  }

  // A Ping whose payload is 3 bytes of garbage: not even a field header.
  static std::vector<uint8_t> Malformed(uint32_t id) {
    std::vector<uint8_t> bytes = Encode(id, ipc::PingRequest{});
    bytes[15] = 3;  // the payload length, big-endian
    bytes.insert(bytes.end(), {1, 2, 3});
    return bytes;
  }

  static std::vector<uint8_t> Encode(uint32_t id, const ipc::Request& request) {
    absl::StatusOr<std::vector<uint8_t>> bytes =
        ipc::EncodeRequest(id, request);
    EXPECT_TRUE(bytes.ok());
    return *bytes;
  }

  std::string dir_ = MakeTempDir();
  std::string path_ = dir_ + "/kiscsid.sock";
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeHandler> handler_;
  std::unique_ptr<IpcServer> server_;
  std::unique_ptr<testing::LoopThread> thread_;
};

TEST_F(IpcServerTest, Ping) {
  Start();
  ipc::IpcClient client = Connect();
  EXPECT_EQ(Call(client, ipc::PingRequest{}).out_lines,
            std::vector<std::string>{"pong"});
  // The connection serves one request after another.
  EXPECT_EQ(Call(client, ipc::PingRequest{}).out_lines,
            std::vector<std::string>{"pong"});
}

TEST_F(IpcServerTest, ManyClientsAtOnce) {
  Start();
  constexpr int kClients = 8;
  constexpr int kCalls = 25;
  std::vector<int> answered(kClients, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([this, i, &answered] {
      ipc::IpcClient client = Connect();
      for (int call = 0; call < kCalls; ++call) {
        if (Call(client, ipc::PingRequest{}).out_lines ==
            std::vector<std::string>{"pong"}) {
          ++answered[i];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(answered, ::testing::Each(kCalls));
}

TEST_F(IpcServerTest, SlowRequestDoesNotBlockOthers) {
  Start();
  ipc::Reply login_reply;
  std::thread slow([this, &login_reply] {
    ipc::IpcClient client = Connect();
    login_reply = Call(client, ipc::LoginRequest{{"iqn.slow", "192.0.2.1", 3260,
                                                  std::nullopt, "default"}});
  });
  // The login is held; a Ping from another client is answered meanwhile.
  ipc::IpcClient other = Connect();
  EXPECT_EQ(Call(other, ipc::PingRequest{}).out_lines,
            std::vector<std::string>{"pong"});
  WaitUntilHeld(1);
  EXPECT_EQ(Call(other, ipc::LogoutRequest{1}).out_lines,
            std::vector<std::string>{"released 1"});
  slow.join();
  // Not asked for progress: the progress line opens the reply.
  EXPECT_EQ(login_reply.out_lines,
            (std::vector<std::string>{"logging in to iqn.slow",
                                      "logged in iqn.slow"}));
}

TEST_F(IpcServerTest, ProgressIsSentWhileTheRequestRuns) {
  Start();
  RawConnection connection(path_);
  ipc::LoginRequest login;
  login.nodes.target = "iqn.slow";
  login.progress = true;
  connection.Send(Encode(5, login));
  // The login is held, and its progress line has come already.
  std::optional<ipc::Message> progress = connection.Read();
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->header.type, ipc::MessageType::kProgress);
  EXPECT_EQ(progress->header.request_id, 5u);
  absl::StatusOr<std::vector<std::string>> lines =
      ipc::DecodeProgress(progress->payload);
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(*lines, std::vector<std::string>{"logging in to iqn.slow"});
  WaitUntilHeld(1);
  ipc::IpcClient other = Connect();
  EXPECT_EQ(Call(other, ipc::LogoutRequest{1}).out_lines,
            std::vector<std::string>{"released 1"});
  // The reply does not repeat it.
  std::optional<ipc::Message> reply = connection.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->header.type, ipc::MessageType::kReply);
  EXPECT_EQ(ReplyIn(*reply).out_lines,
            std::vector<std::string>{"logged in iqn.slow"});
}

TEST_F(IpcServerTest, ClientHandsProgressLinesOverBeforeTheReply) {
  Start();
  std::vector<std::string> seen;  // progress, then the reply's lines
  std::thread slow([this, &seen] {
    ipc::IpcClient client = Connect();
    ipc::LoginRequest login;
    login.nodes.target = "iqn.slow";
    login.progress = true;
    absl::StatusOr<ipc::Reply> reply = client.Call(
        login, absl::Seconds(10), [&seen](const std::vector<std::string>& l) {
          seen.insert(seen.end(), l.begin(), l.end());
        });
    ASSERT_TRUE(reply.ok()) << reply.status();
    seen.insert(seen.end(), reply->out_lines.begin(), reply->out_lines.end());
  });
  WaitUntilHeld(1);
  ipc::IpcClient other = Connect();
  Call(other, ipc::LogoutRequest{1});
  slow.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"logging in to iqn.slow",
                                            "logged in iqn.slow"}));
}

TEST_F(IpcServerTest, AsynchronousReplyFromATimer) {
  Start();
  ipc::IpcClient client = Connect();
  EXPECT_EQ(Call(client, ipc::StatsRequest{}).out_lines,
            std::vector<std::string>{"counted"});
}

TEST_F(IpcServerTest, PipelinedRequestsAreAnsweredInCompletionOrder) {
  Start();
  RawConnection connection(path_);
  std::vector<uint8_t> bytes = Encode(1, ipc::StatsRequest{});
  std::vector<uint8_t> ping = Encode(2, ipc::PingRequest{});
  bytes.insert(bytes.end(), ping.begin(), ping.end());
  connection.Send(bytes);
  std::optional<ipc::Message> first = connection.Read();
  std::optional<ipc::Message> second = connection.Read();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->header.request_id, 2u);
  EXPECT_EQ(second->header.request_id, 1u);
  EXPECT_EQ(ReplyIn(*second).out_lines, std::vector<std::string>{"counted"});
}

// More slow requests than the server works on at once, through one client:
// every one is served, none refused as too many in flight.
TEST_F(IpcServerTest, CallAllBeyondTheInFlightLimit) {
  Start();
  ipc::IpcClient client = Connect();
  constexpr size_t kRequests = ipc::kMaxRequestsInFlight + 4;
  absl::StatusOr<std::vector<ipc::Reply>> replies =
      client.CallAll(std::vector<ipc::Request>(kRequests, ipc::StatsRequest{}),
                     absl::Seconds(10));
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), kRequests);
  for (const ipc::Reply& reply : *replies) {
    EXPECT_EQ(reply.out_lines, std::vector<std::string>{"counted"});
  }
}

TEST_F(IpcServerTest, ErrorReplyFromTheHandler) {
  Start();
  ipc::IpcClient client = Connect();
  absl::Status status = ipc::ReplyStatus(Call(client, ipc::StatsRequest{4}));
  EXPECT_EQ(status.message(), "no session 4");
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kSessionNotFound);
}

TEST_F(IpcServerTest, MalformedRequestGetsAnErrorAndTheConnectionStays) {
  Start();
  RawConnection connection(path_);
  connection.Send(Malformed(7));
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.request_id, 7u);
  ipc::Reply reply = ReplyIn(*message);
  EXPECT_EQ(reply.exit_code, ExitCode::kDaemonComm);
  EXPECT_THAT(reply.message, HasSubstr("truncated field header"));

  connection.Send(Encode(8, ipc::PingRequest{}));
  message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.request_id, 8u);
  EXPECT_EQ(ReplyIn(*message).out_lines, std::vector<std::string>{"pong"});
}

TEST_F(IpcServerTest, MalformedRequestFloodIsLoggedBriefly) {
  // Every malformed request used to log a warning (821k lines in 15 s from
  // one client): now a few per second per client, then a count.
  // Shared with the sink, which TearDown removes.
  auto taken = std::make_shared<std::vector<std::string>>();
  SetLogSinkForTesting([taken](LogLevel level, std::string_view line) {
    if (level == LogLevel::kWarning) taken->emplace_back(line);
  });
  const std::vector<std::string>& warnings = *taken;
  Start();
  RawConnection connection(path_);
  constexpr int kRequests = 3000;
  for (int round = 0; round < 2; ++round) {
    std::vector<uint8_t> bytes;
    for (int i = 1; i <= kRequests / 2; ++i) {
      std::vector<uint8_t> bad = Malformed(i);
      bytes.insert(bytes.end(), bad.begin(), bad.end());
    }
    connection.Send(bytes);
    for (int i = 1; i <= kRequests / 2; ++i) {
      std::optional<ipc::Message> message = connection.Read();
      ASSERT_TRUE(message.has_value()) << i;
      ASSERT_EQ(ReplyIn(*message).exit_code, ExitCode::kDaemonComm);
    }
  }
  // The connection's close reports what was held back.
  connection = RawConnection(UniqueFd());
  for (int attempt = 0; attempt < 500; ++attempt) {
    Stop();
    if (server_->client_count() == 0) break;
    thread_ = std::make_unique<testing::LoopThread>(*loop_);
    ::usleep(10 * 1000);
  }
  SetLogSinkForTesting(nullptr);
  // Every request is accounted for: logged, or counted as suppressed.
  uint64_t accounted = 0;
  for (const std::string& line : warnings) {
    const size_t open = line.rfind(" (");
    if (line.find("similar message") != std::string::npos) {
      accounted += std::stoull(line.substr(open + 2));
    }
    if (line.find("truncated field header") != std::string::npos) ++accounted;
  }
  RecordProperty("warning_lines", std::to_string(warnings.size()));
  EXPECT_LE(warnings.size(), 20u);
  EXPECT_EQ(accounted, static_cast<uint64_t>(kRequests));
  ASSERT_FALSE(warnings.empty());
  EXPECT_THAT(warnings.back(), HasSubstr("similar messages suppressed"));
}

TEST_F(IpcServerTest, ClientThatDoesNotReadIsNotReadEither) {
  // A client pipelining requests without reading its replies made the
  // daemon buffer every reply (5 MB -> 32 MB RSS, never given back): now it
  // stops reading that client while kMaxPendingOutput bytes wait.
  Start();
  RawConnection connection(path_);
  constexpr uint32_t kRequests = 200000;
  std::vector<uint8_t> bytes;
  for (uint32_t i = 1; i <= kRequests; ++i) {
    std::vector<uint8_t> ping = Encode(i, ipc::PingRequest{});
    bytes.insert(bytes.end(), ping.begin(), ping.end());
  }
  // Blocks once the daemon stops reading.
  std::thread sender([&connection, &bytes] { connection.Send(bytes); });
  // Until the daemon's buffer stops growing.
  size_t buffered = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    ::usleep(100 * 1000);
    Stop();
    const size_t now = server_->output_buffer_bytes();
    thread_ = std::make_unique<testing::LoopThread>(*loop_);
    if (now == buffered && now > 0) break;
    buffered = now;
  }
  RecordProperty("buffered_bytes", std::to_string(buffered));
  EXPECT_LE(buffered, 2 * IpcServer::kMaxPendingOutput);
  // Every request is answered, in order, as the client reads.
  for (uint32_t i = 1; i <= kRequests; ++i) {
    std::optional<ipc::Message> message = connection.Read();
    ASSERT_TRUE(message.has_value()) << i;
    ASSERT_EQ(message->header.request_id, i);
  }
  sender.join();
  // And the memory is given back.
  ipc::IpcClient other = Connect();
  Call(other, ipc::PingRequest{});
  Stop();
  EXPECT_LE(server_->output_buffer_bytes(), IpcServer::kMaxPendingOutput);
}

TEST_F(IpcServerTest, UnknownRequestType) {
  Start();
  RawConnection connection(path_);
  std::vector<uint8_t> bytes = Encode(3, ipc::PingRequest{});
  bytes[7] = 99;
  connection.Send(bytes);
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(ReplyIn(*message).exit_code, ExitCode::kInvalidRequest);
}

TEST_F(IpcServerTest, OlderClientGetsAVersionMismatchReply) {
  Start();
  RawConnection connection(path_);
  std::vector<uint8_t> bytes = Encode(4, ipc::PingRequest{});
  bytes[5] = 2;  // version 2
  connection.Send(bytes);
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.version, ipc::kProtocolVersion);
  EXPECT_EQ(message->header.request_id, 4u);
  ipc::Reply reply = ReplyIn(*message);
  EXPECT_EQ(reply.message,
            "kiscsiadm speaks protocol 2, kiscsid 1: restart kiscsid after "
            "upgrading");
  EXPECT_EQ(reply.exit_code, ExitCode::kDaemonComm);
}

TEST_F(IpcServerTest, BadMagicGetsAnErrorAndTheConnectionCloses) {
  Start();
  RawConnection connection(path_);
  connection.Send(std::vector<uint8_t>(16, 'x'));
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.request_id, 0u);
  EXPECT_THAT(ReplyIn(*message).message, HasSubstr("bad magic"));
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(5)));
}

TEST_F(IpcServerTest, OversizedRequestIsRefusedBeforeItsPayload) {
  Start();
  RawConnection connection(path_);
  std::vector<uint8_t> bytes = Encode(5, ipc::PingRequest{});
  bytes[12] = 0x7f;  // a payload of almost 2 GiB, never sent
  connection.Send(bytes);
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  ipc::Reply reply = ReplyIn(*message);
  EXPECT_THAT(reply.message, HasSubstr("exceeds the limit"));
  EXPECT_EQ(reply.exit_code, ExitCode::kDaemonComm);
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(5)));
}

TEST_F(IpcServerTest, AllowedUidIsServed) {
  // The fixture allows getuid(), the uid of this process: Ping works (as in
  // every other test); the refusal of another uid is below.
  Start();
  ipc::IpcClient client = Connect();
  EXPECT_TRUE(ipc::ReplyStatus(Call(client, ipc::PingRequest{})).ok());
}

TEST_F(IpcServerTest, OtherUidIsRefused) {
  IpcServerOptions options = Options();
  options.allowed_uid = ::getuid() + 1;
  Start(options);
  ipc::IpcClient client = Connect();
  absl::Status status = ipc::ReplyStatus(Call(client, ipc::PingRequest{}));
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kAccessDenied);
  EXPECT_EQ(status.message(), "kiscsid takes commands from uid " +
                                  std::to_string(::getuid() + 1) +
                                  " only, not from uid " +
                                  std::to_string(::getuid()));
  // The daemon closed the connection after refusing.
  absl::StatusOr<ipc::Reply> again =
      client.Call(ipc::PingRequest{}, absl::Seconds(5));
  EXPECT_EQ(ExitCodeOf(again.status()), ExitCode::kDaemonComm);
}

TEST_F(IpcServerTest, TooManyRequestsInFlight) {
  IpcServerOptions options = Options();
  options.max_requests_per_client = 1;
  Start(options);
  RawConnection connection(path_);
  std::vector<uint8_t> bytes = Encode(
      1,
      ipc::LoginRequest{{"iqn.a", "192.0.2.1", 3260, std::nullopt, "default"}});
  std::vector<uint8_t> second = Encode(
      2,
      ipc::LoginRequest{{"iqn.b", "192.0.2.1", 3260, std::nullopt, "default"}});
  bytes.insert(bytes.end(), second.begin(), second.end());
  connection.Send(bytes);
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.request_id, 2u);
  EXPECT_EQ(ReplyIn(*message).exit_code, ExitCode::kBusy);
  // Releasing the first login answers it on the same connection.
  ipc::IpcClient other = Connect();
  EXPECT_EQ(Call(other, ipc::LogoutRequest{1}).out_lines,
            std::vector<std::string>{"released 1"});
  message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.request_id, 1u);
}

TEST_F(IpcServerTest, IdleConnectionsMakeRoomForANewClient) {
  // max_clients idle connections used to lock every other client out until
  // the idle timeout (60 s): the newcomer was closed at once. Now the one
  // idle the longest is closed instead.
  IpcServerOptions options = Options();
  options.max_clients = 4;
  Start(options);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawConnection>(path_));
    // One at a time, so that their order is known.
    idle.back()->Send(Encode(1, ipc::PingRequest{}));
    ASSERT_TRUE(idle.back()->Read().has_value());
  }
  ipc::IpcClient client = Connect();
  EXPECT_EQ(Call(client, ipc::PingRequest{}).out_lines,
            std::vector<std::string>{"pong"});
  EXPECT_TRUE(idle[0]->ClosedWithin(absl::Seconds(5)));
  // The others still serve.
  for (int i = 1; i < 4; ++i) {
    idle[i]->Send(Encode(2, ipc::PingRequest{}));
    std::optional<ipc::Message> message = idle[i]->Read();
    ASSERT_TRUE(message.has_value()) << i;
    EXPECT_EQ(ReplyIn(*message).out_lines, std::vector<std::string>{"pong"});
  }
}

TEST_F(IpcServerTest, TooManyBusyConnectionsAreRefusedClearly) {
  IpcServerOptions options = Options();
  options.max_clients = 2;
  Start(options);
  std::vector<std::unique_ptr<RawConnection>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(std::make_unique<RawConnection>(path_));
    ipc::LoginRequest login;
    login.nodes.target = "iqn.slow" + std::to_string(i);
    login.progress = true;
    busy.back()->Send(Encode(1, login));
    // Its progress line: the login is held.
    std::optional<ipc::Message> progress = busy.back()->Read();
    ASSERT_TRUE(progress.has_value());
    ASSERT_EQ(progress->header.type, ipc::MessageType::kProgress);
  }
  // Every connection has a request running: the newcomer is told why, not
  // reset ("Connection reset by peer", exit 18).
  ipc::IpcClient refused = Connect();
  absl::StatusOr<ipc::Reply> reply =
      refused.Call(ipc::PingRequest{}, absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  absl::Status status = ipc::ReplyStatus(*reply);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kBusy);
  EXPECT_THAT(status.message(), HasSubstr("too many connections"));
  // The busy connections are untouched.
  for (auto& connection : busy) {
    EXPECT_FALSE(connection->ClosedWithin(absl::Milliseconds(50)));
  }
}

TEST_F(IpcServerTest, IdleConnectionIsClosed) {
  IpcServerOptions options = Options();
  options.idle_timeout = absl::Milliseconds(50);
  Start(options);
  RawConnection idle(path_);
  EXPECT_TRUE(idle.ClosedWithin(absl::Seconds(5)));
  // A partial message does not count as activity.
  RawConnection partial(path_);
  std::vector<uint8_t> bytes = Encode(1, ipc::PingRequest{});
  bytes.resize(10);
  partial.Send(bytes);
  EXPECT_TRUE(partial.ClosedWithin(absl::Seconds(5)));
}

TEST_F(IpcServerTest, ConnectionWithARequestInFlightIsNotIdle) {
  IpcServerOptions options = Options();
  options.idle_timeout = absl::Milliseconds(50);
  Start(options);
  RawConnection connection(path_);
  connection.Send(Encode(1, ipc::LoginRequest{{"iqn.a", "192.0.2.1", 3260,
                                               std::nullopt, "default"}}));
  WaitUntilHeld(1);
  EXPECT_FALSE(connection.ClosedWithin(absl::Milliseconds(200)));
  ipc::IpcClient other = Connect();
  Call(other, ipc::LogoutRequest{1});
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.request_id, 1u);
}

TEST_F(IpcServerTest, DroppedCallbackAnswersWithAnInternalError) {
  Start();
  ipc::IpcClient client = Connect();
  absl::Status status = ipc::ReplyStatus(
      Call(client, ipc::LogoutAllRequest{ipc::StartupFilter::kAll}));
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("dropped the LogoutAll request"));
}

TEST_F(IpcServerTest, SecondAnswerIsDropped) {
  Start();
  ipc::IpcClient client = Connect();
  EXPECT_EQ(Call(client, ipc::LoginAllRequest{}).out_lines,
            std::vector<std::string>{"first"});
  // The next reply on the connection belongs to the next request.
  EXPECT_EQ(Call(client, ipc::PingRequest{}).out_lines,
            std::vector<std::string>{"pong"});
}

TEST_F(IpcServerTest, ReplyTooLargeBecomesAnError) {
  Start();
  ipc::IpcClient client = Connect();
  absl::Status status = ipc::ReplyStatus(Call(client, ipc::StatsRequest{0}));
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("could not send its reply"));
}

TEST_F(IpcServerTest, ClientGoneBeforeTheReply) {
  Start();
  {
    RawConnection connection(path_);
    connection.Send(Encode(1, ipc::LoginRequest{{"iqn.a", "192.0.2.1", 3260,
                                                 std::nullopt, "default"}}));
    WaitUntilHeld(1);
  }
  // The login's reply goes nowhere; the daemon carries on.
  ipc::IpcClient client = Connect();
  EXPECT_EQ(Call(client, ipc::LogoutRequest{1}).out_lines,
            std::vector<std::string>{"released 1"});
}

TEST_F(IpcServerTest, ReplyAfterTheServerIsGoneIsDropped) {
  Start();
  RawConnection connection(path_);
  connection.Send(Encode(1, ipc::LoginRequest{{"iqn.a", "192.0.2.1", 3260,
                                               std::nullopt, "default"}}));
  WaitUntilHeld(1);
  Stop();
  server_.reset();
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(5)));
  std::vector<std::pair<std::string, ReplyCallback>> held =
      handler_->TakeHeld();
  ASSERT_EQ(held.size(), 1u);
  held[0].second(ipc::Reply{});  // must not touch the destroyed server
}

TEST_F(IpcServerTest, HalfClosedClientStillGetsItsReply) {
  Start();
  RawConnection connection(path_);
  connection.Send(Encode(1, ipc::StatsRequest{}));
  ASSERT_EQ(::shutdown(connection.fd(), SHUT_WR), 0);
  std::optional<ipc::Message> message = connection.Read();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(ReplyIn(*message).out_lines, std::vector<std::string>{"counted"});
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(5)));
}

TEST(ListenOnPathTest, CreatesARootOnlySocket) {
  const std::string path = MakeTempDir() + "/kiscsid.sock";
  absl::StatusOr<UniqueFd> listener = ListenOnPath(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ListenOnPathTest, ReplacesAStaleSocket) {
  const std::string path = MakeTempDir() + "/kiscsid.sock";
  ASSERT_TRUE(ListenOnPath(path).ok());  // closed at once: stale
  absl::StatusOr<UniqueFd> listener = ListenOnPath(path);
  ASSERT_TRUE(listener.ok()) << listener.status();
  RawConnection connection(path);
  EXPECT_TRUE(connection.connected());
}

TEST(ListenOnPathTest, RefusesWhileADaemonAnswers) {
  const std::string path = MakeTempDir() + "/kiscsid.sock";
  absl::StatusOr<UniqueFd> running = ListenOnPath(path);
  ASSERT_TRUE(running.ok());
  absl::StatusOr<UniqueFd> second = ListenOnPath(path);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("already running"));
}

TEST(ListenOnPathTest, RefusesToReplaceAFile) {
  const std::string path = MakeTempDir() + "/kiscsid.sock";
  std::ofstream(path) << "not a socket";
  absl::StatusOr<UniqueFd> listener = ListenOnPath(path);
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(listener.status().message(), HasSubstr("is not a socket"));
}

}  // namespace
}  // namespace kiscsi::daemon
