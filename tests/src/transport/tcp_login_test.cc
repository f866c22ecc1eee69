#include "src/transport/tcp_login.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/base/unique_fd.h"
#include "tests/fake_target/fake_target.h"

namespace kiscsi {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTarget[] = "iqn.2026-01.test:disk1";
constexpr char kInitiator[] = "iqn.2026-01.test:initiator";
constexpr absl::Duration kTimeout = absl::Seconds(5);

LoginConfig NormalLogin(const std::string& target = kTarget) {
  LoginConfig config;
  config.initiator_name = kInitiator;
  config.target_name = target;
  config.isid = {0x80, 0x12, 0x34, 0x56, 0x00, 0x01};
  config.itt = 7;
  config.cmdsn = 100;
  return config;
}

std::unique_ptr<FakeTarget> StartTarget(FakeTargetConfig config) {
  if (config.targets.empty()) config.targets = {{kTarget, {}}};
  absl::StatusOr<std::unique_ptr<FakeTarget>> target =
      FakeTarget::Start(std::move(config));
  EXPECT_TRUE(target.ok()) << target.status();
  return target.ok() ? *std::move(target) : nullptr;
}

// A loopback port nobody listens on: bound once for an ephemeral number, then
// closed.
uint16_t UnusedPort() {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                 sizeof(address)),
            0);
  socklen_t length = sizeof(address);
  EXPECT_EQ(
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  return ntohs(address.sin_port);
}

TEST(LoginOverTcpTest, LogsInNegotiatesAndLogsOut) {
  auto target = StartTarget({});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->portal, target->portal());
  EXPECT_TRUE(login->redirects.empty());
  EXPECT_EQ(login->result.tsih, 0x0101);
  // The target declared 8192; the initiator sends no larger segments.
  EXPECT_EQ(login->result.params.max_xmit_data_segment_length, 8192u);
  EXPECT_EQ(login->result.params.target_portal_group_tag, 1);
  EXPECT_THAT(target->record().login_keys,
              Contains(TextPair{"InitiatorName", kInitiator}));
  EXPECT_THAT(target->record().login_keys,
              Contains(TextPair{"TargetName", kTarget}));

  EXPECT_TRUE(LogoutOverChannel(*login->channel, login->result.exp_cmdsn,
                                login->result.statsn + 1, 8, kTimeout)
                  .ok());
  EXPECT_EQ(target->record().logins, 1);
  EXPECT_EQ(target->record().logouts, 1);
}

TEST(LoginOverTcpTest, NegotiatedDigestsProtectLaterPdus) {
  auto target = StartTarget({});
  LoginConfig config = NormalLogin();
  config.operational.header_digest = DigestPreference::kCrc32c;
  config.operational.data_digest = DigestPreference::kCrc32c;
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), config, kTimeout);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_TRUE(login->result.params.header_digest);
  EXPECT_TRUE(login->result.params.data_digest);
  // The target now checks and sends CRC32C: a logout only completes if both
  // sides agree.
  EXPECT_TRUE(LogoutOverChannel(*login->channel, login->result.exp_cmdsn,
                                login->result.statsn + 1, 8, kTimeout)
                  .ok());
  EXPECT_EQ(target->record().logouts, 1);
}

TEST(LoginOverTcpTest, LogoutSkipsUnsolicitedNopIn) {
  auto target = StartTarget({.nop_in_before_answers = true});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_TRUE(LogoutOverChannel(*login->channel, login->result.exp_cmdsn,
                                login->result.statsn + 1, 8, kTimeout)
                  .ok());
}

TEST(LoginOverTcpTest, FollowsTemporaryRedirect) {
  auto destination = StartTarget({});
  auto target = StartTarget({.redirect_to = destination->portal()});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->portal, destination->portal());
  EXPECT_THAT(login->redirects, ElementsAre(destination->portal()));
  EXPECT_EQ(target->record().logins, 0);
  EXPECT_EQ(destination->record().logins, 1);
}

TEST(LoginOverTcpTest, FollowsPermanentRedirect) {
  auto destination = StartTarget({});
  auto target = StartTarget(
      {.redirect_to = destination->portal(), .redirect_permanent = true});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->portal, destination->portal());
  EXPECT_THAT(login->redirects, ElementsAre(destination->portal()));
}

TEST(LoginOverTcpTest, RedirectLoopIsBounded) {
  auto target = StartTarget({.redirect_to_self = true});
  absl::StatusOr<TcpLoginOutcome> login = LoginOverTcp(
      target->portal(), NormalLogin(), kTimeout, /*max_redirects=*/3);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kFatalLogin);
  const std::string p = FormatPortal(target->portal(), ':');
  EXPECT_EQ(std::string(login.status().message()),
            "too many redirects (3): " + p + " -> " + p + " -> " + p + " -> " +
                p + " -> " + p);
  EXPECT_EQ(target->record().connections, 4);
}

TEST(LoginOverTcpTest, DefaultRedirectLimitIsEight) {
  auto target = StartTarget({.redirect_to_self = true});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kFatalLogin);
  EXPECT_THAT(login.status().message(), HasSubstr("too many redirects (8)"));
  EXPECT_EQ(target->record().connections, 9);
}

TEST(LoginOverTcpTest, UnknownOpcodeIsALoginError) {
  auto target =
      StartTarget({.malformed_login_response = FakeMalformedReply::kBadOpcode});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kLogin);
  EXPECT_THAT(login.status().message(), HasSubstr("unexpected opcode 0x1b"));
  EXPECT_THAT(login.status().message(), HasSubstr("during login"));
}

TEST(LoginOverTcpTest, RejectedLoginRequest) {
  auto target = StartTarget({.reject_login = true});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kLogin);
  EXPECT_THAT(login.status().message(),
              HasSubstr("rejected the Login Request (protocol error)"));
}

TEST(LoginOverTcpTest, TruncatedResponseThenCloseIsAConnectionError) {
  auto target =
      StartTarget({.malformed_login_response = FakeMalformedReply::kTruncated});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kTransport);
  EXPECT_THAT(login.status().message(),
              HasSubstr("connection closed by target during login"));
}

TEST(LoginOverTcpTest, OversizedLoginResponseIsRefused) {
  auto target = StartTarget({.oversized_login_response = true});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kTransport);
  EXPECT_THAT(login.status().message(), HasSubstr("over the limit of 8192"));
}

TEST(LoginOverTcpTest, ConnectionClosedDuringLogin) {
  auto target = StartTarget({.close_during_login = true});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kTransport);
  EXPECT_THAT(login.status().message(),
              HasSubstr("connection closed by target during login"));
}

TEST(LoginOverTcpTest, SlowTargetBeyondLoginTimeout) {
  auto target = StartTarget({.answer_delay_ms = 400});
  const absl::Time start = absl::Now();
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), absl::Milliseconds(150));
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kTransportTimeout);
  EXPECT_THAT(login.status().message(), HasSubstr("timed out after 150 ms"));
  EXPECT_THAT(login.status().message(),
              HasSubstr("waiting for a Login Response"));
  EXPECT_GE(elapsed, absl::Milliseconds(140));
  EXPECT_LT(elapsed, absl::Milliseconds(390));
}

TEST(LoginOverTcpTest, SlowTargetWithinLoginTimeout) {
  auto target = StartTarget({.answer_delay_ms = 30});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), absl::Seconds(5));
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(target->record().logins, 1);
}

TEST(LoginOverTcpTest, ConnectionRefused) {
  const Portal portal{"127.0.0.1", UnusedPort()};
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(portal, NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kTransport);
  EXPECT_EQ(std::string(login.status().message()),
            "cannot connect to " + FormatPortal(portal, ':') +
                ": Connection refused");
}

TEST(LoginOverTcpTest, UnknownTargetIsANonRetryableFailure) {
  auto target = StartTarget({});
  absl::StatusOr<TcpLoginOutcome> login = LoginOverTcp(
      target->portal(), NormalLogin("iqn.2026-01.test:missing"), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kFatalLogin);
  EXPECT_THAT(login.status().message(), HasSubstr("iqn.2026-01.test:missing"));
}

TEST(LoginOverTcpTest, ServiceUnavailableIsRetryable) {
  auto target =
      StartTarget({.login_status_class = 3, .login_status_detail = 1});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kAgain);
  EXPECT_THAT(login.status().message(), HasSubstr("service unavailable"));
}

TEST(LoginOverTcpTest, InitiatorNotOnTheAclIsAnAuthorizationFailure) {
  auto target =
      StartTarget({.accepted_initiator = "iqn.2026-01.test:someone-else"});
  absl::StatusOr<TcpLoginOutcome> login =
      LoginOverTcp(target->portal(), NormalLogin(), kTimeout);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(ExitCodeOf(login.status()), ExitCode::kLoginAuthFailed);
  EXPECT_THAT(login.status().message(), HasSubstr("authorization failed"));
}

}  // namespace
}  // namespace kiscsi
