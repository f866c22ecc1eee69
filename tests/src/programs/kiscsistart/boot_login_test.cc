#include "src/programs/kiscsistart/boot_login.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/exit_code.h"
#include "tests/src/session/holding_listener.h"
#include "tests/src/session/scripted_target.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;

constexpr char kTarget[] = "iqn.2026-12.test.boot:root";

// A port on 127.0.0.1 that refuses connections: bound, then closed.
uint16_t RefusingPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class BootLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    // Never run: the kernel's backlog completes the connections.
    listener_loop_ = *std::move(loop);
    listener_ = std::make_unique<HoldingListener>(*listener_loop_);
  }

  void UseTarget(ScriptedTargetConfig config) {
    target_ = std::make_unique<ScriptedTarget>(kernel_, std::move(config));
    kernel_.SetPduResponder(
        [this](uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu) {
          return target_->Respond(sid, cid, std::move(pdu));
        });
  }

  BootTarget Target(Portal portal, int attempts) {
    BootTarget target;
    target.spec.login.initiator_name = "iqn.2026-12.test.boot:initiator";
    target.spec.login.target_name = kTarget;
    target.spec.portal = std::move(portal);
    target.spec.scan = false;
    target.spec.timeouts.login_timeout = absl::Seconds(5);
    target.attempts = attempts;
    return target;
  }

  FakeIscsiKernel kernel_;
  std::unique_ptr<EventLoop> listener_loop_;
  std::unique_ptr<HoldingListener> listener_;
  std::unique_ptr<ScriptedTarget> target_;
};

struct Retry {
  size_t index;
  int attempt;
  int64_t wait_ms;
  ExitCode code;
  bool operator==(const Retry&) const = default;
};

TEST_F(BootLoginTest, EveryTargetAtOnceEachRetriedWithAMillisecondBackoff) {
  UseTarget({});
  std::vector<BootTarget> targets = {
      Target({"127.0.0.1", RefusingPort()}, 3),
      Target(listener_->portal(), 3),
  };
  std::vector<Retry> retries;
  const absl::Time start = absl::Now();
  std::vector<absl::StatusOr<SessionResult>> outcomes = LoginAll(
      kernel_, targets,
      [&](size_t index, const absl::Status& failure, int attempt,
          absl::Duration wait) {
        retries.push_back({index, attempt, absl::ToInt64Milliseconds(wait),
                           ExitCodeOf(failure)});
      });
  ASSERT_EQ(outcomes.size(), 2u);
  ASSERT_FALSE(outcomes[0].ok());
  EXPECT_EQ(ExitCodeOf(outcomes[0].status()), ExitCode::kTransport);
  ASSERT_TRUE(outcomes[1].ok()) << outcomes[1].status();
  EXPECT_EQ(outcomes[1]->sid, 1u);
  // Three attempts: two waits, 50 then 100 ms; the reachable target was not
  // held up by them and was never retried.
  EXPECT_THAT(retries, ElementsAre(Retry{0, 1, 50, ExitCode::kTransport},
                                   Retry{0, 2, 100, ExitCode::kTransport}));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  EXPECT_TRUE(kernel_.SessionExists(1));
}

TEST_F(BootLoginTest, WrongCredentialsAreNotRetriedAndLeaveNothing) {
  ScriptedTargetConfig config;
  config.status_class = 2;   // initiator error
  config.status_detail = 1;  // authentication failed
  UseTarget(config);
  int retries = 0;
  std::vector<absl::StatusOr<SessionResult>> outcomes = LoginAll(
      kernel_, {Target(listener_->portal(), 5)},
      [&](size_t, const absl::Status&, int, absl::Duration) { ++retries; });
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_FALSE(outcomes[0].ok());
  EXPECT_EQ(ExitCodeOf(outcomes[0].status()), ExitCode::kLoginAuthFailed);
  EXPECT_EQ(retries, 0);
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST(RetryableLoginFailureTest, OnlyWhatALaterAttemptCanGetPast) {
  EXPECT_TRUE(RetryableLoginFailure(
      WithExitCode(absl::UnavailableError("refused"), ExitCode::kTransport)));
  EXPECT_TRUE(RetryableLoginFailure(WithExitCode(
      absl::DeadlineExceededError("t"), ExitCode::kTransportTimeout)));
  EXPECT_FALSE(RetryableLoginFailure(WithExitCode(
      absl::PermissionDeniedError("auth"), ExitCode::kLoginAuthFailed)));
  EXPECT_FALSE(RetryableLoginFailure(
      WithExitCode(absl::NotFoundError("target"), ExitCode::kFatalLogin)));
}

}  // namespace
}  // namespace kiscsi
