// SessionLogout's order against the fake kernel: the Logout Request waits for
// the kernel's UNBIND_SESSION event when sysfs says one will come, and only
// then.
#include "src/session/session_logout.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/exit_code.h"
#include "src/base/unique_fd.h"
#include "src/protocol/pdu.h"
#include "src/session/kernel_event_router.h"
#include "tests/src/base/temp_dir.h"

namespace kiscsi {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class SessionLogoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    router_ = std::make_unique<KernelEventRouter>(*loop_, kernel_);
    ASSERT_TRUE(router_->Start().ok());
    // A logged-in session 1 with connection 0 bound to one end of a pair.
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ours_ = UniqueFd(fds[0]);
    peer_ = UniqueFd(fds[1]);
    ASSERT_TRUE(kernel_.CreateSession(1, 128, 32).ok());
    ASSERT_TRUE(kernel_.CreateConn(1, 0).ok());
    ASSERT_TRUE(kernel_.BindConn(1, 0, ours_.get(), true).ok());
    ASSERT_TRUE(kernel_.StartConn(1, 0).ok());
    kernel_.ReadEvents().IgnoreError();
    // The target answers a Logout Request at once.
    kernel_.SetPduResponder([](uint32_t, uint32_t, std::vector<uint8_t> pdu) {
      std::vector<std::vector<uint8_t>> answers;
      if ((pdu[0] & 0x3f) == static_cast<uint8_t>(Opcode::kLogoutRequest)) {
        LogoutResponse response;
        answers.push_back(SerializePdu(Encode(response)));
      }
      return answers;
    });
    sysfs_ = MakeScratchDir("kiscsi_logout_sysfs");
  }

  // Writes session 1's sysfs state and target_state (omitted when empty).
  void SessionSysfs(const std::string& state, const std::string& target_state,
                    bool target_dir = false) {
    const std::string dir = sysfs_ + "/class/iscsi_session/session1";
    std::filesystem::create_directories(dir + "/device");
    std::ofstream(dir + "/state") << state << "\n";
    if (!target_state.empty()) {
      std::ofstream(dir + "/target_state") << target_state << "\n";
    }
    if (target_dir)
      std::filesystem::create_directories(dir + "/device/target2:0:0");
  }

  LogoutSpec Spec(absl::Duration timeout = absl::Seconds(5)) {
    return {.sid = 1,
            .cid = 0,
            .target_name = "iqn.2026-12.test:disk",
            .portal = {},
            .timeout = timeout,
            .sysfs_root = sysfs_};
  }

  void ExpectNoWait();

  // Logs session 1 out with `timeout` as the logout timeout; the result, or
  // DeadlineExceeded when the logout had not ended after `limit`.
  absl::Status RunLogout(absl::Duration timeout = absl::Seconds(5),
                         absl::Duration limit = absl::Seconds(5)) {
    std::optional<absl::Status> outcome;
    SessionLogout logout(*router_, Spec(timeout),
                         [&](absl::Status status) { outcome = status; });
    logout.Start();
    if (!loop_->RunUntil([&] { return outcome.has_value(); }, limit).ok()) {
      return absl::DeadlineExceededError("the logout did not end");
    }
    return *outcome;
  }

  std::vector<std::string> CallsSince(size_t before) {
    const std::vector<std::string> calls = kernel_.calls();
    return std::vector<std::string>(calls.begin() + before, calls.end());
  }

  FakeIscsiKernel kernel_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<KernelEventRouter> router_;
  UniqueFd ours_;
  UniqueFd peer_;
  std::string sysfs_;
};

TEST_F(SessionLogoutTest, LogoutRequestWaitsUntilTheDevicesAreGone) {
  SessionSysfs("LOGGED_IN", "SCANNED");
  kernel_.HoldUnbindEvents(true);
  const size_t before = kernel_.calls().size();
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_, Spec(),
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  // The removal is still going on: nothing is sent to the target.
  ASSERT_FALSE(loop_
                   ->RunUntil([&] { return outcome.has_value(); },
                              absl::Milliseconds(100))
                   .ok());
  EXPECT_THAT(CallsSince(before), ElementsAre("UNBIND_SESSION 1"));
  kernel_.HoldUnbindEvents(false);
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
  EXPECT_THAT(
      CallsSince(before),
      ElementsAre("UNBIND_SESSION 1", "SEND_PDU 1 0", "STOP_CONN 1 0 TERM",
                  "DESTROY_CONN 1 0", "DESTROY_SESSION_ASYNC 1"));
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST_F(SessionLogoutTest, EndsWhenTheKernelSaysTheSessionIsDestroyed) {
  SessionSysfs("FAILED", "");
  kernel_.HoldDestroyEvents(true);
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_, Spec(absl::Seconds(30)),
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  // Queued in the kernel, not yet done: the logout goes on.
  ASSERT_FALSE(loop_
                   ->RunUntil([&] { return outcome.has_value(); },
                              absl::Milliseconds(100))
                   .ok());
  EXPECT_THAT(kernel_.calls(), Contains("DESTROY_SESSION_ASYNC 1"));
  kernel_.HoldDestroyEvents(false);
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(2))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
}

TEST_F(SessionLogoutTest, KernelsWithoutTheAsyncDestroyGetTheSynchronousOne) {
  SessionSysfs("FAILED", "");
  kernel_.FailNext("DESTROY_SESSION_ASYNC", -ENOSYS);
  const size_t before = kernel_.calls().size();
  const absl::Status outcome = RunLogout(absl::Seconds(5), absl::Seconds(2));
  EXPECT_TRUE(outcome.ok()) << outcome;
  EXPECT_THAT(CallsSince(before),
              ElementsAre("UNBIND_SESSION 1", "SEND_PDU 1 0",
                          "STOP_CONN 1 0 TERM", "DESTROY_CONN 1 0",
                          "DESTROY_SESSION_ASYNC 1", "DESTROY_SESSION 1"));
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST_F(SessionLogoutTest, ALostDestroyEventEndsAtTheTimeoutBySysfs) {
  kernel_.HoldDestroyEvents(true);
  const absl::Status outcome = RunLogout(absl::Milliseconds(50));
  // Not in sysfs (the fixture tree has no session): logged out.
  EXPECT_TRUE(outcome.ok()) << outcome;
}

TEST_F(SessionLogoutTest, LostEventsShowInSysfsThatTheRemovalEnded) {
  SessionSysfs("LOGGED_IN", "SCANNED");
  kernel_.HoldUnbindEvents(true);
  kernel_.HoldDestroyEvents(true);
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_, Spec(absl::Seconds(30)),
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  // Lost events while the disk is still being removed: the wait goes on.
  SessionSysfs("LOGGED_IN", "UNBINDING");
  kernel_.QueueEvent(EventsLostEvent{});
  ASSERT_FALSE(loop_
                   ->RunUntil([&] { return outcome.has_value(); },
                              absl::Milliseconds(100))
                   .ok());
  EXPECT_THAT(kernel_.calls(), Not(Contains("SEND_PDU 1 0")));
  // The removal ended, its event was lost: the logout goes on, and the
  // session's end, whose event is lost too, shows in sysfs.
  SessionSysfs("LOGGED_IN", "UNBOUND");
  kernel_.QueueEvent(EventsLostEvent{});
  ASSERT_TRUE(loop_
                  ->RunUntil(
                      [&] {
                        return kernel_.calls().back() ==
                               "DESTROY_SESSION_ASYNC 1";
                      },
                      absl::Seconds(2))
                  .ok());
  std::filesystem::remove_all(sysfs_ + "/class/iscsi_session/session1");
  kernel_.QueueEvent(EventsLostEvent{});
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(2))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
  EXPECT_THAT(kernel_.calls(), Contains("SEND_PDU 1 0"));
}

TEST_F(SessionLogoutTest, LostEventsGiveUpTheLogoutResponse) {
  SessionSysfs("FAILED", "");
  kernel_.SetPduResponder([](uint32_t, uint32_t, std::vector<uint8_t>) {
    return std::vector<std::vector<uint8_t>>{};  // never answers
  });
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_, Spec(absl::Seconds(30)),
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  ASSERT_TRUE(
      loop_
          ->RunUntil([&] { return kernel_.calls().back() == "SEND_PDU 1 0"; },
                     absl::Seconds(2))
          .ok());
  kernel_.QueueEvent(EventsLostEvent{});
  // Well before the 30 s logout timeout.
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(2))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST_F(SessionLogoutTest, ASessionStillInSysfsAfterTheTimeoutFails) {
  SessionSysfs("FAILED", "");
  kernel_.HoldDestroyEvents(true);
  const absl::Status outcome = RunLogout(absl::Milliseconds(50));
  EXPECT_EQ(ExitCodeOf(outcome), ExitCode::kLogout);
  EXPECT_THAT(outcome.message(),
              HasSubstr("destroy session: still in sysfs 50 ms after"));
}

TEST_F(SessionLogoutTest, OlderKernelsShowTheTargetDirectory) {
  SessionSysfs("LOGGED_IN", "", /*target_dir=*/true);
  kernel_.HoldUnbindEvents(true);
  const size_t before = kernel_.calls().size();
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_, Spec(),
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  ASSERT_FALSE(loop_
                   ->RunUntil([&] { return outcome.has_value(); },
                              absl::Milliseconds(50))
                   .ok());
  EXPECT_THAT(CallsSince(before), Not(Contains("SEND_PDU 1 0")));
  kernel_.HoldUnbindEvents(false);
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
}

// The kernel sends no event: the logout must not wait for one (a 30 s
// timeout would show as a failure to finish within 2 s).
void SessionLogoutTest::ExpectNoWait() {
  kernel_.HoldUnbindEvents(true);
  const absl::Status outcome = RunLogout(absl::Seconds(30), absl::Seconds(2));
  EXPECT_TRUE(outcome.ok()) << outcome;
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST_F(SessionLogoutTest, NoWaitForAnUnscannedTarget) {
  SessionSysfs("LOGGED_IN", "ALLOCATED");  // node.session.scan = manual
  ExpectNoWait();
}

TEST_F(SessionLogoutTest, NoWaitForASessionInRecovery) {
  SessionSysfs("FAILED", "SCANNED");
  ExpectNoWait();
}

TEST_F(SessionLogoutTest, NoWaitWhenSysfsDoesNotShowTheSession) {
  ExpectNoWait();
}

TEST_F(SessionLogoutTest, ARemovalThatNeverEndsIsWaitedForOnlyTheTimeout) {
  SessionSysfs("LOGGED_IN", "SCANNED");
  kernel_.HoldUnbindEvents(true);
  const absl::Status outcome = RunLogout(absl::Milliseconds(50));
  EXPECT_TRUE(outcome.ok()) << outcome;
  EXPECT_THAT(kernel_.calls(), Contains("SEND_PDU 1 0"));
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST_F(SessionLogoutTest, AConnectionErrorDuringTheRemovalTearsDown) {
  SessionSysfs("LOGGED_IN", "SCANNED");
  kernel_.HoldUnbindEvents(true);
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_, Spec(),
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
  EXPECT_THAT(kernel_.calls(), Not(Contains("SEND_PDU 1 0")));
  EXPECT_FALSE(kernel_.SessionExists(1));
}

TEST(ExpectsUnbindEventTest, MissingSysfsMeansNoEvent) {
  EXPECT_FALSE(ExpectsUnbindEvent("/nonexistent-sysfs", 1));
}

}  // namespace
}  // namespace kiscsi
