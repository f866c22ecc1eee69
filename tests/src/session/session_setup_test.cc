#include "src/session/session_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/blocking_call.h"
#include "src/base/exit_code.h"
#include "src/session/kernel_pdu.h"
#include "src/session/session_logout.h"
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

class SessionSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-session-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    paths_.sysfs_root = root_ + "/sys";
    paths_.dev_root = root_ + "/dev";
    paths_.device_poll_interval = absl::Milliseconds(5);
    std::filesystem::create_directories(paths_.dev_root);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    router_ = std::make_unique<KernelEventRouter>(*loop_, kernel_);
    ASSERT_TRUE(router_->Start().ok());
    listener_ = std::make_unique<HoldingListener>(*loop_);
    UseTarget({});
  }

  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(root_);
  }

  void UseTarget(ScriptedTargetConfig config) {
    target_ = std::make_unique<ScriptedTarget>(kernel_, std::move(config));
    kernel_.SetPduResponder(
        [this](uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu) {
          return target_->Respond(sid, cid, std::move(pdu));
        });
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

  // Runs one setup to completion on the test's loop.
  absl::StatusOr<SessionResult> Login(const SessionSpec& spec) {
    std::optional<absl::StatusOr<SessionResult>> outcome;
    SessionSetup setup(*router_, spec, paths_,
                       [&](absl::StatusOr<SessionResult> result) {
                         outcome = std::move(result);
                       });
    setup.Start();
    EXPECT_FALSE(outcome.has_value());  // never from inside Start()
    EXPECT_TRUE(
        loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(20))
            .ok());
    if (!outcome.has_value()) return absl::InternalError("no outcome");
    return *std::move(outcome);
  }

  // Session 1's host (host2) can be scanned and has one disk LUN, `block`,
  // in sysfs; its /dev node is the test's to make.
  void AddScannedDisk(const std::string& block) {
    WriteFile(paths_.sysfs_root + "/class/scsi_host/host2/scan", "");
    const std::string lun = paths_.sysfs_root +
                            "/class/iscsi_session/session1/device/target2:0:0/"
                            "2:0:0:0/";
    WriteFile(lun + "type", "0\n");
    WriteFile(lun + "state", "running\n");
    std::filesystem::create_directories(lun + "block/" + block);
  }

  // The fake's log from the first call matching `prefix` on.
  std::vector<std::string> CallsOf(const std::string& prefix) {
    std::vector<std::string> out;
    for (const std::string& call : kernel_.calls())
      if (absl::StartsWith(call, prefix)) out.push_back(call);
    return out;
  }

  // Starts a setup that scans, and runs the loop until the setup has started
  // the connection and its scan blocks (a BlockingScan on the host).
  std::unique_ptr<SessionSetup> StartScanningSetup(
      std::optional<absl::StatusOr<SessionResult>>& outcome) {
    SessionSpec spec = Spec();
    spec.scan = true;
    auto setup = std::make_unique<SessionSetup>(
        *router_, spec, paths_, [&outcome](absl::StatusOr<SessionResult> r) {
          outcome = std::move(r);
        });
    setup->Start();
    EXPECT_TRUE(PollUntil(*loop_, [&] {
      return !CallsOf("START_CONN").empty() &&
             BlockingCall::ThreadsRunning() == 1;
    }));
    return setup;
  }

  void ExpectNothingLeft(uint32_t max_sid) {
    for (uint32_t sid = 1; sid <= max_sid; ++sid)
      EXPECT_FALSE(kernel_.SessionExists(sid)) << "sid " << sid;
  }

  std::string root_;
  SessionPaths paths_;
  FakeIscsiKernel kernel_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<KernelEventRouter> router_;
  std::unique_ptr<HoldingListener> listener_;
  std::unique_ptr<ScriptedTarget> target_;
};

TEST(IsidTest, FromSidWithoutWrapping) {
  EXPECT_EQ(IsidHex(IsidForSid(1)), "00023d000001");
  EXPECT_EQ(IsidHex(IsidForSid(256)), "00023d000100");
  EXPECT_EQ(IsidHex(IsidForSid(0x123456)), "00023d123456");
}

TEST_F(SessionSetupTest, FullLoginSequence) {
  SessionSpec spec = Spec();
  spec.scan = true;
  spec.timeouts.recovery_tmo = 86400;
  spec.timeouts.noop_out_interval = 0;
  spec.timeouts.noop_out_timeout = 0;
  const std::string scan = paths_.sysfs_root + "/class/scsi_host/host2/scan";
  WriteFile(scan, "");
  // LUN 0 is a controller (no block device), LUN 1 a disk whose /dev node
  // appears a little after the scan.
  const std::string target =
      paths_.sysfs_root + "/class/iscsi_session/session1/device/target2:0:0/";
  WriteFile(target + "2:0:0:0/type", "12\n");
  WriteFile(target + "2:0:0:0/state", "running\n");
  WriteFile(target + "2:0:0:1/type", "0\n");
  WriteFile(target + "2:0:0:1/state", "running\n");
  std::filesystem::create_directories(target + "2:0:0:1/block/sda");
  bool node_made = false;
  loop_->AddTimer(absl::Milliseconds(50), [&] {
    WriteFile(paths_.dev_root + "/sda", "");
    node_made = true;
  });

  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(node_made);
  EXPECT_EQ(result->sid, 1u);
  EXPECT_EQ(result->host_no, FakeIscsiKernel::kFirstHostNo);
  EXPECT_EQ(IsidHex(result->isid), "00023d000001");
  EXPECT_EQ(result->login.tsih, 0x1234);
  EXPECT_TRUE(result->devices_ready);
  ASSERT_EQ(result->devices.size(), 2u);
  EXPECT_EQ(result->devices[1].block, "sda");
  EXPECT_TRUE(result->socket.valid());
  EXPECT_EQ(kernel_.BoundFd(1, 0), result->socket.get());
  std::ifstream scanned(scan);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(scanned), {}), "- - -");

  const std::string statsn = absl::StrCat(target_->final_statsn(1, 0) + 1);
  const std::string port = absl::StrCat(spec.portal.port);
  std::vector<std::string> calls = kernel_.calls();
  // Login PDUs: as many SEND_PDUs as the machine needed, all between the
  // identity and the negotiated parameters.
  std::vector<std::string> without_pdus;
  for (const std::string& call : calls)
    if (call != "SEND_PDU 1 0") without_pdus.push_back(call);
  EXPECT_GE(calls.size() - without_pdus.size(), 1u);
  EXPECT_THAT(
      without_pdus,
      ElementsAre(
          "CREATE_SESSION", "CREATE_CONN 1 0", "BIND_CONN 1 0",
          absl::StrCat("SET_PARAM 1 0 15=", kTarget),
          "SET_PARAM 1 0 17=127.0.0.1", absl::StrCat("SET_PARAM 1 0 18=", port),
          "SET_PARAM 1 0 26=1", "SET_PARAM 1 0 19=86400", "SET_PARAM 1 0 27=15",
          "SET_PARAM 1 0 28=30", "SET_PARAM 1 0 35=30", "SET_PARAM 1 0 30=0",
          "SET_PARAM 1 0 31=0", "SET_PARAM 1 0 32=default",
          absl::StrCat("SET_PARAM 1 0 34=", kInitiator),
          "SET_PARAM 1 0 33=00023d000001", "SET_PARAM 1 0 43=0",
          "SET_PARAM 1 0 0=262144", "SET_PARAM 1 0 1=65536",
          "SET_PARAM 1 0 2=0", "SET_PARAM 1 0 3=0", "SET_PARAM 1 0 4=0",
          "SET_PARAM 1 0 5=1", "SET_PARAM 1 0 6=1", "SET_PARAM 1 0 7=262144",
          "SET_PARAM 1 0 8=16776192", "SET_PARAM 1 0 9=1", "SET_PARAM 1 0 10=1",
          "SET_PARAM 1 0 11=0", "SET_PARAM 1 0 12=0", "SET_PARAM 1 0 13=0",
          absl::StrCat("SET_PARAM 1 0 14=", statsn), "SET_PARAM 1 0 16=1",
          "START_CONN 1 0"));
  EXPECT_EQ(kernel_.ConnState(1, 0), "up");
  EXPECT_EQ(kernel_.GetParam(1, 0, IscsiParam::kIsid), "00023d000001");
  // The login carried the sid-derived ISID and the cid.
  absl::StatusOr<LoginRequestPdu> first =
      DecodeLoginRequest(*PduFromKernel(kernel_.sent_pdus().front()));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(IsidHex(first->isid), "00023d000001");
  EXPECT_EQ(first->tsih, 0);
}

// The wait for device nodes ends when the node appears in dev_root (a watch
// on it), not on the next poll.
TEST_F(SessionSetupTest, DeviceNodeEndsTheWaitWithoutPolling) {
  paths_.device_poll_interval = absl::Seconds(30);
  SessionSpec spec = Spec();
  spec.scan = true;
  AddScannedDisk("sdb");
  absl::Time made;
  loop_->AddTimer(absl::Milliseconds(50), [&] {
    WriteFile(paths_.dev_root + "/sdb", "");
    made = absl::Now();
  });
  absl::StatusOr<SessionResult> result = Login(spec);
  const absl::Time done = absl::Now();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->devices_ready);
  ASSERT_EQ(result->devices.size(), 1u);
  EXPECT_EQ(result->devices[0].block, "sdb");
  EXPECT_LT(done - made, absl::Seconds(5));  // the poll would take 30 s
}

// A dev_root that cannot be watched still ends the wait, by polling.
TEST_F(SessionSetupTest, DeviceNodesArePolledWhenTheDirCannotBeWatched) {
  paths_.dev_root = root_ + "/no-such-dev";
  SessionSpec spec = Spec();
  spec.scan = true;
  spec.device_timeout = absl::Milliseconds(200);
  AddScannedDisk("sdb");
  loop_->AddTimer(absl::Milliseconds(50),
                  [&] { WriteFile(paths_.dev_root + "/sdb", ""); });
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->devices_ready);
}

TEST_F(SessionSetupTest, ChapLoginThroughTheKernel) {
  UseTarget({.chap_username = "alice",
             .chap_password = "alice-secret-1",
             .mutual_username = "target",
             .mutual_password = "target-secret-2",
             .status_class = 0,
             .status_detail = 0,
             .redirect_port = std::nullopt,
             .redirect_to = {},
             .silent = false,
             .first_statsn = 1000,
             .tpgt = 1});
  SessionSpec spec = Spec();
  spec.login.auth.chap = true;
  spec.login.auth.username = "alice";
  spec.login.auth.password = "alice-secret-1";
  spec.login.auth.username_in = "target";
  spec.login.auth.password_in = "target-secret-2";
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->login.target_authenticated);
  EXPECT_EQ(kernel_.GetParam(1, 0, IscsiParam::kUsername), "alice");
  EXPECT_EQ(kernel_.GetParam(1, 0, IscsiParam::kPassword), "alice-secret-1");
  EXPECT_EQ(kernel_.GetParam(1, 0, IscsiParam::kUsernameIn), "target");
  EXPECT_EQ(kernel_.GetParam(1, 0, IscsiParam::kPasswordIn), "target-secret-2");
  EXPECT_GE(CallsOf("SEND_PDU").size(), 3u);
}

// The kernel refuses a SEND_PDU with -EPERM while the previous Login
// Response's task is not yet freed; the request is sent again.
TEST_F(SessionSetupTest, LoginTaskStillBusyIsRetried) {
  ScriptedTargetConfig config;
  config.chap_username = "alice";
  config.chap_password = "alice-secret-1";
  UseTarget(config);
  int responses = 0;
  kernel_.SetPduResponder(
      [&](uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu) {
        if (responses++ == 0) kernel_.FailNext("SEND_PDU", -EPERM);
        return target_->Respond(sid, cid, std::move(pdu));
      });
  SessionSpec spec = Spec();
  spec.login.auth.chap = true;
  spec.login.auth.username = "alice";
  spec.login.auth.password = "alice-secret-1";
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_TRUE(result.ok()) << result.status();
  // One SEND_PDU more than the PDUs that went out: the refused one.
  EXPECT_EQ(CallsOf("SEND_PDU").size(), kernel_.sent_pdus().size() + 1);
  EXPECT_GE(kernel_.sent_pdus().size(), 3u);
}

TEST_F(SessionSetupTest, AuthFailureExits24AndLeavesNothing) {
  ScriptedTargetConfig config;
  config.chap_username = "alice";
  config.chap_password = "right-secret";
  UseTarget(config);
  SessionSpec spec = Spec();
  spec.login.auth.chap = true;
  spec.login.auth.username = "alice";
  spec.login.auth.password = "wrong-secret";
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ExitCodeOf(result.status()), ExitCode::kLoginAuthFailed);
  EXPECT_THAT(result.status().message(),
              HasSubstr(absl::StrCat("session 1 (", kTarget)));
  EXPECT_THAT(result.status().message(), HasSubstr(": login: "));
  EXPECT_THAT(result.status().message(),
              ::testing::Not(HasSubstr("wrong-secret")));
  EXPECT_THAT(CallsOf("STOP_CONN"), ElementsAre("STOP_CONN 1 0 TERM"));
  ExpectNothingLeft(1);
  const std::vector<std::string> calls = kernel_.calls();
  EXPECT_THAT(std::vector<std::string>(calls.end() - 3, calls.end()),
              ElementsAre("STOP_CONN 1 0 TERM", "DESTROY_CONN 1 0",
                          "DESTROY_SESSION 1"));
}

TEST_F(SessionSetupTest, TargetNotFoundExits19) {
  ScriptedTargetConfig config;
  config.status_class = 2;
  config.status_detail = 3;
  UseTarget(config);
  absl::StatusOr<SessionResult> result = Login(Spec());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ExitCodeOf(result.status()), ExitCode::kFatalLogin);
  ExpectNothingLeft(1);
}

TEST_F(SessionSetupTest, LoginTimeoutExits8) {
  ScriptedTargetConfig config;
  config.silent = true;
  UseTarget(config);
  SessionSpec spec = Spec();
  spec.timeouts.login_timeout = absl::Milliseconds(100);
  const absl::Time start = absl::Now();
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_EQ(ExitCodeOf(result.status()), ExitCode::kTransportTimeout);
  EXPECT_THAT(result.status().message(), HasSubstr("login: login timed out"));
  ExpectNothingLeft(1);
}

TEST_F(SessionSetupTest, ConnectionRefusedExits4BeforeAnySession) {
  SessionSpec spec = Spec();
  listener_.reset();  // nothing listens on the port any more
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ExitCodeOf(result.status()), ExitCode::kTransport);
  EXPECT_THAT(result.status().message(), HasSubstr("connect: "));
  EXPECT_TRUE(kernel_.calls().empty());
}

// A host name resolves on a thread of its own (DNS may take seconds; the
// loop carries every other session) and the login goes on from its answer.
TEST_F(SessionSetupTest, HostNameResolvesOffTheLoop) {
  SessionSpec spec = Spec();
  spec.portal.address = "localhost";
  std::optional<absl::StatusOr<SessionResult>> outcome;
  SessionSetup setup(*router_, spec, paths_,
                     [&](absl::StatusOr<SessionResult> result) {
                       outcome = std::move(result);
                     });
  setup.Start();
  // The lookup is out; nothing has reached the kernel or the network yet.
  EXPECT_TRUE(setup.connecting());
  EXPECT_TRUE(kernel_.calls().empty());
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(20))
          .ok());
  ASSERT_TRUE(outcome->ok()) << outcome->status();
  EXPECT_EQ((*outcome)->portal.address, "localhost");
  EXPECT_TRUE(
      PollUntil(*loop_, [] { return BlockingCall::ThreadsRunning() == 0; }));
}

// Destroyed while its host name resolves: the thread finishes on its own and
// reports to nobody.
TEST_F(SessionSetupTest, DestroyedWhileResolving) {
  SessionSpec spec = Spec();
  spec.portal.address = "localhost";
  bool called = false;
  auto setup = std::make_unique<SessionSetup>(
      *router_, spec, paths_,
      [&](absl::StatusOr<SessionResult>) { called = true; });
  setup->Start();
  setup.reset();
  EXPECT_TRUE(
      PollUntil(*loop_, [] { return BlockingCall::ThreadsRunning() == 0; }));
  EXPECT_FALSE(called);
  EXPECT_TRUE(kernel_.calls().empty());
}

TEST_F(SessionSetupTest, ConnErrorDuringLoginFails) {
  ScriptedTargetConfig config;
  config.silent = true;
  UseTarget(config);
  std::optional<absl::StatusOr<SessionResult>> outcome;
  SessionSetup setup(*router_, Spec(), paths_,
                     [&](absl::StatusOr<SessionResult> result) {
                       outcome = std::move(result);
                     });
  setup.Start();
  ASSERT_TRUE(loop_
                  ->RunUntil([&] { return !CallsOf("SEND_PDU").empty(); },
                             absl::Seconds(5))
                  .ok());
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(ExitCodeOf(outcome->status()), ExitCode::kTransport);
  ExpectNothingLeft(1);
}

// Every kernel request of the setup failing in turn leaves no session, no
// connection and names the step.
TEST_F(SessionSetupTest, FailureAtEachKernelStepLeavesNothing) {
  struct Case {
    const char* request;
    const char* step;
  };
  const Case cases[] = {
      {"CREATE_SESSION", "create session"},
      {"CREATE_CONN", "create connection"},
      {"BIND_CONN", "bind connection"},
      {"SET_PARAM", "set parameters"},
      {"SEND_PDU", "login"},
      {"START_CONN", "start connection"},
  };
  uint32_t sids = 0;
  for (const Case& c : cases) {
    kernel_.FailNext(c.request, -ENOMEM);
    absl::StatusOr<SessionResult> result = Login(Spec());
    ASSERT_FALSE(result.ok()) << c.request;
    EXPECT_THAT(result.status().message(),
                HasSubstr(absl::StrCat(": ", c.step, ": ")))
        << result.status();
    ++sids;
  }
  ExpectNothingLeft(sids);
  // A missing scan attribute fails after START_CONN, and is undone too.
  SessionSpec spec = Spec();
  spec.scan = true;
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr(": scan: "));
  ExpectNothingLeft(sids + 1);
}

TEST_F(SessionSetupTest, RedirectRebindsTheSameConnection) {
  HoldingListener second(*loop_);
  ScriptedTargetConfig config;
  config.redirect_port = listener_->portal().port;
  config.redirect_to = second.portal();
  UseTarget(config);
  absl::StatusOr<SessionResult> result = Login(Spec());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->portal, second.portal());
  EXPECT_THAT(result->redirects, ElementsAre(second.portal()));
  EXPECT_EQ(result->sid, 1u);
  EXPECT_THAT(CallsOf("BIND_CONN"),
              ElementsAre("BIND_CONN 1 0", "BIND_CONN 1 0"));
  EXPECT_THAT(CallsOf("STOP_CONN"), ElementsAre("STOP_CONN 1 0 RECOVER"));
  // The persistent portal stays the node's.
  EXPECT_EQ(kernel_.GetParam(1, 0, IscsiParam::kPersistentPort),
            absl::StrCat(listener_->portal().port));
}

TEST_F(SessionSetupTest, RedirectLoopIsBounded) {
  ScriptedTargetConfig config;
  config.redirect_port = listener_->portal().port;
  config.redirect_to = listener_->portal();
  UseTarget(config);
  SessionSpec spec = Spec();
  spec.max_redirects = 2;
  absl::StatusOr<SessionResult> result = Login(spec);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(ExitCodeOf(result.status()), ExitCode::kFatalLogin);
  EXPECT_THAT(result.status().message(), HasSubstr("too many redirects (2)"));
  ExpectNothingLeft(1);
}

TEST_F(SessionSetupTest, ManyLoginsInFlightOnOneLoop) {
  constexpr int kSessions = 32;
  std::vector<std::unique_ptr<SessionSetup>> setups;
  std::vector<std::optional<absl::StatusOr<SessionResult>>> outcomes(kSessions);
  for (int i = 0; i < kSessions; ++i) {
    setups.push_back(std::make_unique<SessionSetup>(
        *router_, Spec(), paths_,
        [&outcomes, i](absl::StatusOr<SessionResult> result) {
          outcomes[i] = std::move(result);
        }));
    setups.back()->Start();
  }
  // All connects are in flight before any session exists.
  EXPECT_TRUE(kernel_.calls().empty());
  int done = 0;
  ASSERT_TRUE(loop_
                  ->RunUntil(
                      [&] {
                        done = 0;
                        for (const auto& o : outcomes) done += o.has_value();
                        return done == kSessions;
                      },
                      absl::Seconds(20))
                  .ok());
  std::set<std::string> isids;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome->ok()) << outcome->status();
    isids.insert(IsidHex((*outcome)->isid));
  }
  EXPECT_EQ(isids.size(), static_cast<size_t>(kSessions));
  // Logins overlapped: some session was created before the first started.
  const std::vector<std::string> calls = kernel_.calls();
  const auto first_start = std::find_if(
      calls.begin(), calls.end(),
      [](const std::string& c) { return absl::StartsWith(c, "START_CONN"); });
  EXPECT_GT(std::count(calls.begin(), first_start, "CREATE_SESSION"), 1);
}

TEST_F(SessionSetupTest, ThreeHundredSessionsHaveDistinctIsids) {
  std::set<std::string> isids;
  std::vector<SessionResult> results;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<SessionResult> result = Login(Spec());
    ASSERT_TRUE(result.ok()) << result.status();
    isids.insert(IsidHex(result->isid));
    results.push_back(*std::move(result));
  }
  EXPECT_EQ(isids.size(), 300u);
  EXPECT_TRUE(isids.contains("00023d000100"));
  EXPECT_TRUE(isids.contains("00023d00012c"));
}

TEST_F(SessionSetupTest, DestroyingAnUnfinishedSetupUndoesIt) {
  ScriptedTargetConfig config;
  config.silent = true;
  UseTarget(config);
  bool called = false;
  auto setup = std::make_unique<SessionSetup>(
      *router_, Spec(), paths_,
      [&](absl::StatusOr<SessionResult>) { called = true; });
  setup->Start();
  ASSERT_TRUE(loop_
                  ->RunUntil([&] { return !CallsOf("SEND_PDU").empty(); },
                             absl::Seconds(5))
                  .ok());
  setup.reset();
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_FALSE(called);
  ExpectNothingLeft(1);
}

TEST_F(SessionSetupTest, TimersRunWhileTheScanBlocks) {
  BlockingScan scan(paths_.sysfs_root, FakeIscsiKernel::kFirstHostNo);
  std::optional<absl::StatusOr<SessionResult>> outcome;
  std::unique_ptr<SessionSetup> setup = StartScanningSetup(outcome);
  Ticker ticker(*loop_);
  ASSERT_TRUE(PollUntil(*loop_, [&] { return ticker.ticks() >= 20; }));
  EXPECT_FALSE(outcome.has_value());
  EXPECT_EQ(BlockingCall::ThreadsRunning(), 1);
  scan.Release();
  ASSERT_TRUE(PollUntil(*loop_, [&] { return outcome.has_value(); }));
  ASSERT_TRUE(outcome->ok()) << outcome->status();
  EXPECT_EQ(scan.Written(), "- - -");
}

TEST_F(SessionSetupTest, DestroyedWhileTheScanBlocks) {
  BlockingScan scan(paths_.sysfs_root, FakeIscsiKernel::kFirstHostNo);
  std::optional<absl::StatusOr<SessionResult>> outcome;
  std::unique_ptr<SessionSetup> setup = StartScanningSetup(outcome);
  setup.reset();
  ExpectNothingLeft(1);
  // The write cannot be interrupted: once it gets through, its completion
  // must touch nothing of the destroyed setup (ASan watches).
  scan.Release();
  ASSERT_TRUE(
      PollUntil(*loop_, [] { return BlockingCall::ThreadsRunning() == 0; }));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(1)).ok());
  }
  EXPECT_FALSE(outcome.has_value());
  EXPECT_EQ(scan.Written(), "- - -");
}

TEST_F(SessionSetupTest, ConnErrorDuringTheScanGoesToTheSessionsKeeper) {
  std::vector<uint32_t> unrouted;
  router_->SetDefaultHandler([&](const KernelEvent& event) {
    if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
      unrouted.push_back(error->sid);
    }
  });
  BlockingScan scan(paths_.sysfs_root, FakeIscsiKernel::kFirstHostNo);
  std::optional<absl::StatusOr<SessionResult>> outcome;
  std::unique_ptr<SessionSetup> setup = StartScanningSetup(outcome);
  ASSERT_TRUE(kernel_.InjectConnError(1, 0, kConnErrTcpConnClose));
  ASSERT_TRUE(PollUntil(*loop_, [&] { return !unrouted.empty(); }));
  EXPECT_THAT(unrouted, ElementsAre(1u));
  EXPECT_FALSE(outcome.has_value());
  scan.Release();
  ASSERT_TRUE(PollUntil(*loop_, [&] { return outcome.has_value(); }));
  EXPECT_TRUE(outcome->ok()) << outcome->status();
}

TEST_F(SessionSetupTest, SeveralSetupsScanAtOnce) {
  constexpr int kSessions = 4;
  std::vector<std::unique_ptr<BlockingScan>> scans;
  std::vector<std::unique_ptr<SessionSetup>> setups;
  std::vector<std::optional<absl::StatusOr<SessionResult>>> outcomes(kSessions);
  SessionSpec spec = Spec();
  spec.scan = true;
  for (int i = 0; i < kSessions; ++i) {
    scans.push_back(std::make_unique<BlockingScan>(
        paths_.sysfs_root, FakeIscsiKernel::kFirstHostNo + i));
    setups.push_back(std::make_unique<SessionSetup>(
        *router_, spec, paths_,
        [&outcomes, i](absl::StatusOr<SessionResult> result) {
          outcomes[i] = std::move(result);
        }));
    setups.back()->Start();
  }
  // Every host's scan blocks at the same time, and the loop serves on.
  ASSERT_TRUE(PollUntil(
      *loop_, [&] { return BlockingCall::ThreadsRunning() == kSessions; }));
  EXPECT_EQ(CallsOf("START_CONN").size(), static_cast<size_t>(kSessions));
  for (const auto& outcome : outcomes) EXPECT_FALSE(outcome.has_value());
  for (auto& scan : scans) scan->Release();
  ASSERT_TRUE(PollUntil(*loop_, [&] {
    for (const auto& outcome : outcomes) {
      if (!outcome.has_value()) return false;
    }
    return true;
  }));
  for (int i = 0; i < kSessions; ++i) {
    ASSERT_TRUE(outcomes[i]->ok()) << outcomes[i]->status();
    EXPECT_EQ((*outcomes[i])->host_no, FakeIscsiKernel::kFirstHostNo + i);
    EXPECT_EQ(scans[i]->Written(), "- - -");
  }
}

TEST_F(SessionSetupTest, LogoutOrder) {
  absl::StatusOr<SessionResult> result = Login(Spec());
  ASSERT_TRUE(result.ok()) << result.status();
  const size_t before = kernel_.calls().size();
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_,
                       {.sid = result->sid,
                        .cid = result->cid,
                        .target_name = kTarget,
                        .portal = result->portal,
                        .timeout = absl::Seconds(5)},
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
  EXPECT_EQ(target_->logouts(), 1);
  const std::vector<std::string> calls = kernel_.calls();
  EXPECT_THAT(
      std::vector<std::string>(calls.begin() + before, calls.end()),
      ElementsAre("UNBIND_SESSION 1", "SEND_PDU 1 0", "STOP_CONN 1 0 TERM",
                  "DESTROY_CONN 1 0", "DESTROY_SESSION_ASYNC 1"));
  absl::StatusOr<LogoutRequestPdu> request =
      DecodeLogoutRequest(*PduFromKernel(kernel_.sent_pdus().back()));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->reason, LogoutReason::kCloseSession);
  ExpectNothingLeft(1);
}

TEST_F(SessionSetupTest, LogoutWithoutAnswerTimesOutAndStillTearsDown) {
  absl::StatusOr<SessionResult> result = Login(Spec());
  ASSERT_TRUE(result.ok()) << result.status();
  ScriptedTargetConfig config;
  config.silent = true;
  UseTarget(config);
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_,
                       {.sid = 1,
                        .cid = 0,
                        .target_name = kTarget,
                        .portal = result->portal,
                        .timeout = absl::Milliseconds(50)},
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  EXPECT_TRUE(outcome->ok()) << *outcome;
  ExpectNothingLeft(1);
}

TEST_F(SessionSetupTest, FailedUnbindKeepsTheSession) {
  absl::StatusOr<SessionResult> result = Login(Spec());
  ASSERT_TRUE(result.ok()) << result.status();
  kernel_.FailNext("UNBIND_SESSION", -EBUSY);
  std::optional<absl::Status> outcome;
  SessionLogout logout(*router_,
                       {.sid = 1,
                        .cid = 0,
                        .target_name = kTarget,
                        .portal = result->portal,
                        .timeout = absl::Seconds(5)},
                       [&](absl::Status status) { outcome = status; });
  logout.Start();
  ASSERT_TRUE(
      loop_->RunUntil([&] { return outcome.has_value(); }, absl::Seconds(5))
          .ok());
  EXPECT_EQ(ExitCodeOf(*outcome), ExitCode::kLogout);
  EXPECT_THAT(outcome->message(), HasSubstr("session 1 ("));
  EXPECT_TRUE(kernel_.SessionExists(1));
}

}  // namespace
}  // namespace kiscsi
