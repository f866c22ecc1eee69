#include "src/session/session_recovery.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/blocking_call.h"
#include "src/base/log.h"
#include "src/protocol/pdu.h"
#include "src/protocol/text_codec.h"
#include "src/session/kernel_pdu.h"
#include "tests/src/base/loop_testing.h"
#include "tests/src/session/blocking_scan.h"
#include "tests/src/session/holding_listener.h"
#include "tests/src/session/scripted_target.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTarget[] = "iqn.2026-11.test:disk1";
constexpr char kInitiator[] = "iqn.1993-08.org.debian:01:c85bc2516951";

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool IsFirstLoginRequest(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<Pdu> pdu = PduFromKernel(bytes);
  if (!pdu.ok()) return false;
  absl::StatusOr<LoginRequestPdu> request = DecodeLoginRequest(*pdu);
  if (!request.ok()) return false;
  absl::StatusOr<TextPairs> pairs = DecodeText(request->data);
  return pairs.ok() && FindTextValue(*pairs, "InitiatorName") != nullptr;
}

class SessionRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-recovery-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    paths_.sysfs_root = root_ + "/sys";
    paths_.dev_root = root_ + "/dev";
    std::filesystem::create_directories(paths_.dev_root);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(clock_);
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    router_ = std::make_unique<KernelEventRouter>(*loop_, kernel_);
    ASSERT_TRUE(router_->Start().ok());
    // What the daemon does: events nobody subscribed to go to the session's
    // recovery.
    router_->SetDefaultHandler([this](const KernelEvent& event) {
      if (recovery_ == nullptr) return;
      if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
        recovery_->OnConnError(error->error);
      } else if (const auto* pdu = std::get_if<RecvPduEvent>(&event)) {
        recovery_->OnPdu(pdu->pdu);
      }
    });
    listener_ = std::make_unique<HoldingListener>(*loop_);
    good_ = std::make_unique<ScriptedTarget>(kernel_, ScriptedTargetConfig{});
    ScriptedTargetConfig unavailable;
    unavailable.status_class = 3;  // target error: service unavailable
    unavailable.status_detail = 1;
    failing_ = std::make_unique<ScriptedTarget>(kernel_, unavailable);
    kernel_.SetPduResponder(
        [this](uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu) {
          if (IsFirstLoginRequest(pdu)) {
            login_times_.push_back(clock_.Now());
            if (failures_left_ > 0) {
              --failures_left_;
              failing_login_ = true;
            } else {
              failing_login_ = false;
            }
          }
          if (silent_) return std::vector<std::vector<uint8_t>>{};
          return (failing_login_ ? failing_ : good_)
              ->Respond(sid, cid, std::move(pdu));
        });
  }

  void TearDown() override {
    recovery_.reset();
    listener_.reset();
    std::filesystem::remove_all(root_);
  }

  SessionSpec Spec() {
    SessionSpec spec;
    spec.login.initiator_name = kInitiator;
    spec.login.target_name = kTarget;
    spec.portal = listener_->portal();
    spec.scan = false;
    spec.timeouts.login_timeout = absl::Seconds(5);
    return spec;
  }

  // Dispatches what is ready without moving the clock.
  void Settle() {
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
    }
  }
  // Moves the fake clock in 1 ms steps, dispatching after each. A TCP
  // connect in flight completes in real time (loopback's handshake can take
  // milliseconds on a loaded machine): the fake clock waits for it, so the
  // attempts' times do not depend on the machine's load.
  void Advance(absl::Duration by) {
    for (absl::Duration done; done < by; done += absl::Milliseconds(1)) {
      clock_.Advance(absl::Milliseconds(1));
      for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
      }
      for (int i = 0;
           i < 500 && recovery_ != nullptr && recovery_->connecting(); ++i) {
        ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(10)).ok());
      }
    }
  }

  // Logs in (sid 1) and puts a SessionRecovery in charge of it.
  void LoginAndSupervise(SessionSpec spec, RecoveryPolicy policy,
                         uint32_t time2wait = 2) {
    std::optional<absl::StatusOr<SessionResult>> outcome;
    SessionSetup setup(*router_, spec, paths_,
                       [&](absl::StatusOr<SessionResult> result) {
                         outcome = std::move(result);
                       });
    setup.Start();
    for (int i = 0; i < 200 && !outcome.has_value(); ++i) Settle();
    ASSERT_TRUE(outcome.has_value());
    ASSERT_TRUE(outcome->ok()) << outcome->status();
    spec.existing = SessionSpec::Existing{(*outcome)->sid, (*outcome)->cid,
                                          (*outcome)->host_no};
    policy.jitter = 0;
    recovery_ = std::make_unique<SessionRecovery>(
        *router_, spec, time2wait, policy, paths_,
        std::move((*outcome)->socket), [] { return 0.5; });
    recovery_->set_on_recovered([this](const SessionResult& result) {
      recovered_.push_back(
          Recovered{result.sid, result.socket.get(), result.revived});
    });
    calls_before_ = kernel_.calls().size();
    pdus_before_ = kernel_.sent_pdus().size();
    login_times_.clear();
  }

  // Logs in and puts a recovery in charge that rescans after a
  // reinstatement (the recovery's spec decides the rescan).
  void SuperviseWithRescan() {
    SessionSpec spec = Spec();
    LoginAndSupervise(spec, RecoveryPolicy{}, /*time2wait=*/0);
    spec.scan = true;
    spec.existing = SessionSpec::Existing{1, 0, FakeIscsiKernel::kFirstHostNo};
    recovery_ = std::make_unique<SessionRecovery>(
        *router_, spec, 0, RecoveryPolicy{}, paths_, UniqueFd(),
        [] { return 0.5; });
    recovery_->set_on_recovered([this](const SessionResult& result) {
      recovered_.push_back(
          Recovered{result.sid, result.socket.get(), result.revived});
    });
  }

  std::vector<std::string> CallsSince() {
    std::vector<std::string> calls = kernel_.calls();
    return std::vector<std::string>(calls.begin() + calls_before_, calls.end());
  }
  // The calls since the error without SET_PARAMs and SEND_PDUs.
  std::vector<std::string> LifecycleCalls() {
    std::vector<std::string> out;
    for (const std::string& call : CallsSince()) {
      if (!absl::StartsWith(call, "SET_PARAM") &&
          !absl::StartsWith(call, "SEND_PDU")) {
        out.push_back(call);
      }
    }
    return out;
  }
  std::vector<int64_t> LoginOffsetsMs(absl::Time from) {
    std::vector<int64_t> out;
    for (absl::Time t : login_times_)
      out.push_back(absl::ToInt64Milliseconds(t - from));
    return out;
  }

  std::string root_;
  SessionPaths paths_;
  FakeClock clock_;
  FakeIscsiKernel kernel_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<KernelEventRouter> router_;
  std::unique_ptr<HoldingListener> listener_;
  std::unique_ptr<ScriptedTarget> good_;
  std::unique_ptr<ScriptedTarget> failing_;
  int failures_left_ = 0;
  bool failing_login_ = false;
  bool silent_ = false;
  std::vector<absl::Time> login_times_;
  // Outlives recovery_ (a recovery leaves its group when destroyed).
  RecoveryGroups groups_;
  std::unique_ptr<SessionRecovery> recovery_;
  struct Recovered {
    uint32_t sid = 0;
    int socket = -1;
    std::vector<SysfsDevice> revived;
  };
  std::vector<Recovered> recovered_;
  size_t calls_before_ = 0;
  size_t pdus_before_ = 0;
};

TEST_F(SessionRecoveryTest, StopsFirstWaitsTime2WaitAndReinstatesSameSession) {
  SessionSpec spec = Spec();
  spec.login.auth.chap = true;
  spec.login.auth.username = "user1";
  spec.login.auth.password = "initiator-secret-1";
  ScriptedTargetConfig chap;
  chap.chap_username = "user1";
  chap.chap_password = "initiator-secret-1";
  good_ = std::make_unique<ScriptedTarget>(kernel_, chap);
  LoginAndSupervise(spec, RecoveryPolicy{});
  const absl::Time error_at = clock_.Now();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Settle();
  // STOP_CONN(RECOVER) at once, nothing else until Time2Wait (2 s) passed.
  EXPECT_THAT(CallsSince(), ElementsAre("STOP_CONN 1 0 RECOVER"));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kWaiting);
  Advance(absl::Milliseconds(1999));
  EXPECT_THAT(CallsSince(), ElementsAre("STOP_CONN 1 0 RECOVER"));
  Advance(absl::Milliseconds(5));
  Settle();
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  ASSERT_EQ(recovered_.size(), 1u);
  EXPECT_THAT(LoginOffsetsMs(error_at), ElementsAre(2000));
  // The same sid/cid: no CREATE_*, no DESTROY_*, no TERM.
  EXPECT_THAT(LifecycleCalls(), ElementsAre("STOP_CONN 1 0 RECOVER",
                                            "BIND_CONN 1 0", "START_CONN 1 0"));
  // Identity and CHAP parameters again, before the login.
  std::vector<std::string> calls = CallsSince();
  const auto position = [&](const std::string& call) {
    return std::find(calls.begin(), calls.end(), call) - calls.begin();
  };
  EXPECT_LT(position("BIND_CONN 1 0"),
            position(absl::StrCat("SET_PARAM 1 0 15=", kTarget)));
  EXPECT_LT(position("SET_PARAM 1 0 22=user1"), position("SEND_PDU 1 0"));
  EXPECT_LT(position("SET_PARAM 1 0 24=initiator-secret-1"),
            position("SEND_PDU 1 0"));
  EXPECT_LT(position("SET_PARAM 1 0 33=00023d000001"),
            position("SEND_PDU 1 0"));
  EXPECT_LT(position("SEND_PDU 1 0"), position("START_CONN 1 0"));
  // Same ISID, TSIH 0 (reinstatement), on every login PDU of the attempt.
  std::vector<std::vector<uint8_t>> pdus = kernel_.sent_pdus();
  ASSERT_GT(pdus.size(), pdus_before_);
  for (size_t i = pdus_before_; i < pdus.size(); ++i) {
    absl::StatusOr<LoginRequestPdu> request =
        DecodeLoginRequest(*PduFromKernel(pdus[i]));
    ASSERT_TRUE(request.ok());
    EXPECT_EQ(IsidHex(request->isid), "00023d000001");
    EXPECT_EQ(request->tsih, 0);
    EXPECT_EQ(request->cid, 0);
  }
  EXPECT_EQ(kernel_.ConnState(1, 0), "up");
  EXPECT_EQ(recovered_[0].sid, 1u);
  EXPECT_EQ(kernel_.BoundFd(1, 0), recovered_[0].socket);
}

TEST_F(SessionRecoveryTest, BacksOffFromHundredMsDoublingToTheCap) {
  LoginAndSupervise(Spec(), RecoveryPolicy{});
  failures_left_ = 5;
  const absl::Time error_at = clock_.Now();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  Settle();
  Advance(absl::Seconds(5));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  // Time2Wait 2 s, then +100, +200, +400, +500 (cap), +500.
  EXPECT_THAT(LoginOffsetsMs(error_at),
              ElementsAre(2000, 2100, 2300, 2700, 3200, 3700));
  EXPECT_EQ(recovery_->attempts(), 6);
  // Every attempt begins on a stopped connection: each BIND_CONN follows a
  // STOP_CONN(RECOVER).
  std::vector<std::string> lifecycle = LifecycleCalls();
  int binds = 0;
  for (size_t i = 0; i < lifecycle.size(); ++i) {
    if (lifecycle[i] != "BIND_CONN 1 0") continue;
    ++binds;
    ASSERT_GT(i, 0u);
    EXPECT_EQ(lifecycle[i - 1], "STOP_CONN 1 0 RECOVER") << "bind " << binds;
  }
  EXPECT_EQ(binds, 6);
  EXPECT_EQ(kernel_.ConnState(1, 0), "up");
}

TEST_F(SessionRecoveryTest, JitterStaysWithinTwentyPercent) {
  LoginAndSupervise(Spec(), RecoveryPolicy{}, /*time2wait=*/0);
  // Replace with a jittering recovery whose random source is at the edges.
  SessionSpec spec = Spec();
  spec.existing = SessionSpec::Existing{1, 0, FakeIscsiKernel::kFirstHostNo};
  std::vector<double> draws = {0.0, 0.999999, 0.0};
  size_t next = 0;
  recovery_ = std::make_unique<SessionRecovery>(
      *router_, spec, 0, RecoveryPolicy{}, paths_, UniqueFd(),
      [&] { return draws[next++ % draws.size()]; });
  failures_left_ = 3;
  const absl::Time error_at = clock_.Now();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  Settle();
  Advance(absl::Seconds(2));
  // 0, then 100*0.8, 200*1.2, 400*0.8.
  EXPECT_THAT(LoginOffsetsMs(error_at), ElementsAre(0, 80, 320, 640));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
}

TEST_F(SessionRecoveryTest, ReopenMaxBoundsTheAttempts) {
  RecoveryPolicy policy;
  policy.reopen_max = 3;
  LoginAndSupervise(Spec(), policy);
  failures_left_ = 1000;
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Advance(absl::Seconds(10));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kGaveUp);
  EXPECT_EQ(login_times_.size(), 3u);
  EXPECT_EQ(recovery_->attempts(), 3);
  // The session stays, its connection stopped (not bound to a dead socket).
  EXPECT_TRUE(kernel_.SessionExists(1));
  EXPECT_EQ(kernel_.ConnState(1, 0), "down");
}

TEST_F(SessionRecoveryTest, ZeroReopenMaxRetriesForever) {
  LoginAndSupervise(Spec(), RecoveryPolicy{});
  failures_left_ = 1000;
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Advance(absl::Seconds(30));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kWaiting);
  // 2 s, then 100+200+400 ms, then every 500 ms.
  EXPECT_GT(recovery_->attempts(), 50);
  failures_left_ = 0;
  Advance(absl::Milliseconds(600));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
}

TEST_F(SessionRecoveryTest, SecondErrorDuringLoginIsRetriedNotLooped) {
  LoginAndSupervise(Spec(), RecoveryPolicy{}, /*time2wait=*/0);
  silent_ = true;  // the first attempt's login gets no answer...
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Settle();
  ASSERT_EQ(recovery_->state(), SessionRecovery::State::kAttempting);
  ASSERT_EQ(login_times_.size(), 1u);
  // ...and the new connection fails too (the kernel stops it itself).
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  silent_ = false;
  Settle();
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kWaiting);
  Advance(absl::Milliseconds(100));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  EXPECT_EQ(login_times_.size(), 2u);
  EXPECT_THAT(LifecycleCalls(),
              ElementsAre("STOP_CONN 1 0 RECOVER", "BIND_CONN 1 0",
                          // the failed attempt stops what it bound
                          "STOP_CONN 1 0 RECOVER", "STOP_CONN 1 0 RECOVER",
                          "BIND_CONN 1 0", "START_CONN 1 0"));
}

TEST_F(SessionRecoveryTest, DuplicateErrorsWhileWaitingNeverLoopOnEnotconn) {
  LoginAndSupervise(Spec(), RecoveryPolicy{});
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  Settle();
  // One recovery: one STOP_CONN for both events so far.
  EXPECT_THAT(CallsSince(), ElementsAre("STOP_CONN 1 0 RECOVER"));
  // An error the kernel raised after our STOP_CONN: the attempt stops again
  // before binding rather than meeting -ENOTCONN.
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  Settle();
  Advance(absl::Seconds(2));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  EXPECT_THAT(LifecycleCalls(),
              ElementsAre("STOP_CONN 1 0 RECOVER", "STOP_CONN 1 0 RECOVER",
                          "BIND_CONN 1 0", "START_CONN 1 0"));
  EXPECT_EQ(recovery_->attempts(), 1);
}

TEST_F(SessionRecoveryTest, FailedStopIsRepeatedBeforeTheBind) {
  LoginAndSupervise(Spec(), RecoveryPolicy{}, /*time2wait=*/0);
  kernel_.FailNext("STOP_CONN", -EIO);
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Settle();
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  EXPECT_THAT(LifecycleCalls(),
              ElementsAre("STOP_CONN 1 0 RECOVER", "STOP_CONN 1 0 RECOVER",
                          "BIND_CONN 1 0", "START_CONN 1 0"));
}

TEST_F(SessionRecoveryTest, AsyncConnectionDropUsesItsTime2Wait) {
  LoginAndSupervise(Spec(), RecoveryPolicy{});
  AsyncMessage message;
  message.async_event = static_cast<uint8_t>(AsyncEvent::kConnectionDrop);
  message.parameter2 = 1;  // Time2Wait
  message.parameter3 = 20;
  Pdu pdu = Encode(message);
  pdu.UpdateLengths();
  std::vector<uint8_t> bytes(pdu.bhs.begin(), pdu.bhs.end());
  const absl::Time at = clock_.Now();
  kernel_.QueueEvent(RecvPduEvent{1, 0, bytes});
  Settle();
  EXPECT_THAT(CallsSince(), ElementsAre("STOP_CONN 1 0 RECOVER"));
  Advance(absl::Milliseconds(1010));
  EXPECT_THAT(LoginOffsetsMs(at), ElementsAre(1000));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
}

TEST_F(SessionRecoveryTest, AsyncLogoutRequestReloginsAfterDefaultTime2Wait) {
  LoginAndSupervise(Spec(), RecoveryPolicy{}, /*time2wait=*/2);
  AsyncMessage message;
  message.async_event = static_cast<uint8_t>(AsyncEvent::kLogoutRequest);
  message.parameter3 = 5;
  Pdu pdu = Encode(message);
  pdu.UpdateLengths();
  std::vector<uint8_t> bytes(pdu.bhs.begin(), pdu.bhs.end());
  const absl::Time at = clock_.Now();
  kernel_.QueueEvent(RecvPduEvent{1, 0, bytes});
  Settle();
  Advance(absl::Milliseconds(2010));
  EXPECT_THAT(LoginOffsetsMs(at), ElementsAre(2000));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  // No logout: the session stays and is reinstated.
  EXPECT_EQ(good_->logouts(), 0);
  EXPECT_THAT(LifecycleCalls(), ElementsAre("STOP_CONN 1 0 RECOVER",
                                            "BIND_CONN 1 0", "START_CONN 1 0"));
}

TEST_F(SessionRecoveryTest, OfflineDevicesAreSetBackToRunningAndRescanned) {
  SuperviseWithRescan();
  const std::string scan = paths_.sysfs_root + "/class/scsi_host/host2/scan";
  WriteFile(scan, "");
  const std::string target =
      paths_.sysfs_root + "/class/iscsi_session/session1/device/target2:0:0/";
  WriteFile(target + "2:0:0:0/type", "0\n");
  WriteFile(target + "2:0:0:0/state", "transport-offline\n");
  std::filesystem::create_directories(target + "2:0:0:0/block/sda");
  WriteFile(target + "2:0:0:1/type", "0\n");
  WriteFile(target + "2:0:0:1/state", "running\n");
  std::filesystem::create_directories(target + "2:0:0:1/block/sdb");
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrNopTimedOut));
  Settle();
  ASSERT_EQ(recovered_.size(), 1u);
  EXPECT_EQ(ReadFile(target + "2:0:0:0/state"), "running");
  EXPECT_EQ(ReadFile(target + "2:0:0:1/state"), "running\n");  // untouched
  ASSERT_EQ(recovered_[0].revived.size(), 1u);
  EXPECT_EQ(recovered_[0].revived[0].block, "sda");
  // The rescan runs on a thread of its own, after the recovery.
  ASSERT_TRUE(PollUntil(*loop_, [&] { return !recovery_->rescanning(); }));
  EXPECT_EQ(ReadFile(scan), "- - -");
}

TEST_F(SessionRecoveryTest, ABlockedRescanDoesNotHoldUpTheNextRecovery) {
  SuperviseWithRescan();
  BlockingScan scan(paths_.sysfs_root, FakeIscsiKernel::kFirstHostNo);
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrNopTimedOut));
  Settle();
  ASSERT_EQ(recovered_.size(), 1u);
  EXPECT_TRUE(recovery_->rescanning());
  // The connection fails again while the rescan is stuck in the kernel (as
  // it is on a dead connection until the session is back).
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrNopTimedOut));
  Advance(absl::Milliseconds(2010));  // the negotiated DefaultTime2Wait
  ASSERT_EQ(recovered_.size(), 2u);
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  EXPECT_EQ(BlockingCall::ThreadsRunning(), 1);  // no second rescan
  scan.Release();
  ASSERT_TRUE(PollUntil(*loop_, [&] { return !recovery_->rescanning(); }));
  EXPECT_EQ(scan.Written(), "- - -");
  scan.Block();
  // A recovery destroyed while its rescan blocks drops the completion.
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrNopTimedOut));
  Advance(absl::Milliseconds(2010));
  ASSERT_EQ(recovered_.size(), 3u);
  ASSERT_TRUE(recovery_->rescanning());
  recovery_.reset();
  scan.Release();
  ASSERT_TRUE(
      PollUntil(*loop_, [] { return BlockingCall::ThreadsRunning() == 0; }));
}

TEST_F(SessionRecoveryTest, RefusedConnectionsAreRetriedUntilThePortalIsBack) {
  // A portal with nothing listening: connects fail at once (RST).
  SessionSpec spec = Spec();
  LoginAndSupervise(spec, RecoveryPolicy{}, /*time2wait=*/0);
  const Portal live = listener_->portal();
  {
    UniqueFd probe(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(probe.get(), reinterpret_cast<sockaddr*>(&address),
                   sizeof(address)),
              0);
    socklen_t length = sizeof(address);
    getsockname(probe.get(), reinterpret_cast<sockaddr*>(&address), &length);
    spec.portal = Portal{"127.0.0.1", ntohs(address.sin_port)};
  }  // closed: nothing listens there now
  spec.existing = SessionSpec::Existing{1, 0, FakeIscsiKernel::kFirstHostNo};
  recovery_ =
      std::make_unique<SessionRecovery>(*router_, spec, 0, RecoveryPolicy{},
                                        paths_, UniqueFd(), [] { return 0.5; });
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Advance(absl::Seconds(3));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kWaiting);
  // 0, 100, 300, 700, 1200, 1700, 2200, 2700: 8 attempts, none bound.
  EXPECT_EQ(recovery_->attempts(), 8);
  for (const std::string& call : CallsSince()) EXPECT_NE(call, "BIND_CONN 1 0");
  EXPECT_NE(live.port, spec.portal.port);
}

TEST_F(SessionRecoveryTest, ScoutOfItsPortalRetriesAtTheScoutInterval) {
  LoginAndSupervise(Spec(), RecoveryPolicy{});
  recovery_->set_groups(&groups_);
  failures_left_ = 4;
  const absl::Time error_at = clock_.Now();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  Settle();
  EXPECT_TRUE(groups_.IsScout(recovery_.get()));
  Advance(absl::Seconds(3));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  // Time2Wait 2 s, then every 100 ms instead of the doubling back-off.
  EXPECT_THAT(LoginOffsetsMs(error_at),
              ElementsAre(2000, 2100, 2200, 2300, 2400));
  // Back in: no longer waiting for the portal.
  EXPECT_EQ(groups_.waiting(FormatPortal(Spec().portal, ':')), 0u);
}

TEST_F(SessionRecoveryTest, AnotherSessionOfThePortalBackWakesTheWaitingOnes) {
  LoginAndSupervise(Spec(), RecoveryPolicy{});
  recovery_->set_groups(&groups_);
  // Another session of the same portal is its scout already.
  int scout = 0;
  groups_.Join(FormatPortal(Spec().portal, ':'), &scout, nullptr);
  failures_left_ = 3;
  const absl::Time error_at = clock_.Now();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrConnFailed));
  Settle();
  EXPECT_FALSE(groups_.IsScout(recovery_.get()));
  // Attempts at 2000, 2100, 2300 fail; the next would be at 2700.
  Advance(absl::Milliseconds(2450));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kWaiting);
  groups_.Recovered(&scout);  // the scout got in at 2450
  Settle();
  Advance(absl::Milliseconds(50));
  EXPECT_EQ(recovery_->state(), SessionRecovery::State::kUp);
  EXPECT_THAT(LoginOffsetsMs(error_at), ElementsAre(2000, 2100, 2300, 2450));
}

// What kiscsid -d 1..4 writes during a long outage: one line when the error
// comes, a summary at most every summary_interval while the attempts fail,
// one when the session is back; not a line per attempt or per error the
// kernel reports again.
TEST_F(SessionRecoveryTest, ALongOutageIsLoggedInAFewLines) {
  struct Line {
    absl::Time at;
    LogLevel level;
    std::string text;
  };
  std::vector<Line> lines;
  const LogLevel level_before = GetLogLevel();
  SetLogLevel(LogLevel::kInfo);
  SetLogSinkForTesting([&](LogLevel level, std::string_view text) {
    lines.push_back(Line{clock_.Now(), level, std::string(text)});
  });
  struct Restore {
    LogLevel level;
    ~Restore() {
      SetLogSinkForTesting(nullptr);
      SetLogLevel(level);
    }
  } restore{level_before};

  LoginAndSupervise(Spec(), RecoveryPolicy{});
  lines.clear();
  failures_left_ = 30;
  const absl::Time error_at = clock_.Now();
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  Settle();
  // The kernel reports the failure again now and then while it lasts.
  for (int i = 0; i < 250 && recovery_->state() != SessionRecovery::State::kUp;
       ++i) {
    if (i % 3 == 2 && recovery_->state() == SessionRecovery::State::kWaiting) {
      ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
    }
    Advance(absl::Milliseconds(100));
  }
  std::string all;
  for (const Line& line : lines) absl::StrAppend(&all, line.text, "\n");
  ASSERT_EQ(recovery_->state(), SessionRecovery::State::kUp) << all;
  ASSERT_EQ(recovery_->attempts(), 31) << all;
  const absl::Duration outage = clock_.Now() - error_at;

  int errors = 0;
  int recovered = 0;
  std::vector<absl::Time> summaries;
  for (const Line& line : lines) {
    SCOPED_TRACE(line.text);
    EXPECT_THAT(line.text, HasSubstr("session 1 ("));
    if (absl::StrContains(line.text, "recovering after 2000 ms")) {
      EXPECT_THAT(line.text, HasSubstr("TCP connection closed"));
      ++errors;
    } else if (absl::StrContains(line.text, "still recovering: ")) {
      EXPECT_THAT(line.text, HasSubstr(" attempts in "));
      EXPECT_THAT(line.text, HasSubstr(" s, last error: "));
      EXPECT_EQ(line.level, LogLevel::kWarning);
      summaries.push_back(line.at);
    } else if (absl::StrContains(line.text,
                                 "recovered after 31 attempts in ")) {
      EXPECT_EQ(line.level, LogLevel::kWarning);
      ++recovered;
    } else if (absl::StrContains(line.text, "): reinstated (host ")) {
      // The session setup's own line (info) naming the host and ISID.
      EXPECT_EQ(line.level, LogLevel::kInfo);
    } else {
      ADD_FAILURE() << "unexpected line";
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(recovered, 1);
  // About 15.7 s of failed attempts: a summary at most every 5 s, and some.
  EXPECT_GE(summaries.size(), 2u);
  EXPECT_LE(summaries.size(),
            static_cast<size_t>(outage / RecoveryPolicy{}.summary_interval));
  absl::Time previous = error_at;
  for (absl::Time at : summaries) {
    EXPECT_GE(at - previous, RecoveryPolicy{}.summary_interval);
    previous = at;
  }
  EXPECT_LE(lines.size(), 3 + summaries.size()) << all;
}

}  // namespace
}  // namespace kiscsi
