// SessionManager's part in recovery: adoption of the sessions in sysfs at
// start (identity and credentials from sysfs or from a matching node record)
// and the routing of connection errors to each session's SessionRecovery.
#include "src/daemon/session_manager.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "conf/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/log.h"
#include "tests/src/session/scripted_target.h"

namespace kiscsi::daemon {
namespace {

using ::testing::ElementsAre;

constexpr char kTarget[] = "iqn.2026-11.test:root";
constexpr char kInitiator[] = "iqn.2026-11.test:initiator";

void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

class SessionManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-manager-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    sysconf_ = root_ + "/etc";
    paths_.sysfs_root = root_ + "/sys";
    paths_.dev_root = root_ + "/dev";
    std::filesystem::create_directories(paths_.dev_root);
    WriteFile(sysconf_ + "/initiatorname.iscsi",
              absl::StrCat("InitiatorName=", kInitiator, "\n"));
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);

    listen_fd_.Reset(
        socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address),
                   sizeof(address)),
              0);
    ASSERT_EQ(listen(listen_fd_.get(), 16), 0);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&address),
                &length);
    port_ = ntohs(address.sin_port);
    ASSERT_TRUE(loop_
                    ->AddFd(listen_fd_.get(), EPOLLIN,
                            [this](uint32_t) {
                              const int fd = accept4(listen_fd_.get(), nullptr,
                                                     nullptr, SOCK_CLOEXEC);
                              if (fd >= 0) accepted_.emplace_back(fd);
                            })
                    .ok());

    // The kernel already has session 1 (made by someone else).
    auto kernel = std::make_unique<FakeIscsiKernel>();
    kernel_ = kernel.get();
    ASSERT_TRUE(kernel_->CreateSession(0, 128, 32).ok());
    ASSERT_TRUE(kernel_->CreateConn(1, 0).ok());
    owned_kernel_ = std::move(kernel);
    MakeManager(conf::IscsidConf());
  }

  // A manager with `conf` as its iscsid.conf, before it has opened the kernel.
  void MakeManager(conf::IscsidConf conf) {
    manager_ = std::make_unique<SessionManager>(
        *loop_,
        [this]() -> absl::StatusOr<std::unique_ptr<IscsiKernel>> {
          return std::move(owned_kernel_);
        },
        sysconf_, paths_, root_ + "/iscsid.conf", std::move(conf));
  }

  void TearDown() override {
    manager_.reset();
    loop_->RemoveFd(listen_fd_.get());
    std::filesystem::remove_all(root_);
  }

  // sysfs of session 1 on host 2 with the given states and CHAP user.
  void WriteSysfsSession(const std::string& session_state,
                         const std::string& conn_state,
                         const std::string& username,
                         const std::string& password) {
    const std::string sys = paths_.sysfs_root;
    const std::string host_dir = sys + "/devices/platform/host2/session1";
    std::filesystem::create_directories(host_dir);
    const std::string s = sys + "/class/iscsi_session/session1/";
    WriteFile(s + "targetname", absl::StrCat(kTarget, "\n"));
    WriteFile(s + "state", session_state + "\n");
    WriteFile(s + "initiatorname", absl::StrCat(kInitiator, "\n"));
    WriteFile(s + "recovery_tmo", "120\n");
    WriteFile(s + "username", username + "\n");
    WriteFile(s + "password", password + "\n");
    std::filesystem::create_directory_symlink(host_dir, s + "device");
    const std::string c = sys + "/class/iscsi_connection/connection1:0/";
    WriteFile(c + "state", conn_state + "\n");
    WriteFile(c + "persistent_address", "127.0.0.1\n");
    WriteFile(c + "persistent_port", absl::StrCat(port_, "\n"));
    WriteFile(sys + "/class/scsi_host/host2/proc_name", "iscsi_tcp\n");
    WriteFile(sys + "/class/scsi_host/host2/scan", "");
  }

  void UseTarget(const std::string& user, const std::string& secret) {
    ScriptedTargetConfig config;
    config.chap_username = user;
    config.chap_password = secret;
    target_ = std::make_unique<ScriptedTarget>(*kernel_, config);
    kernel_->SetPduResponder(
        [this](uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu) {
          return target_->Respond(sid, cid, std::move(pdu));
        });
  }

  bool RunUntilUp() {
    return loop_
        ->RunUntil(
            [&] {
              const SessionRecovery* recovery = manager_->recovery(1);
              return recovery != nullptr &&
                     recovery->state() == SessionRecovery::State::kUp &&
                     kernel_->ConnState(1, 0) == "up";
            },
            absl::Seconds(10))
        .ok();
  }

  // The node record of the test's target and portal.
  conf::Record NodeRecord() {
    conf::Record record;
    record.Set("node.name", kTarget);
    record.Set("node.conn[0].address", "127.0.0.1");
    record.Set("node.conn[0].port", absl::StrCat(port_));
    return record;
  }
  void WriteNode(const conf::Record& record) {
    conf::NodeKey key{kTarget, "127.0.0.1", port_, 1, "default"};
    EXPECT_TRUE(conf::NodeDb(sysconf_).WriteNode(key, record).ok());
  }
  // Without CHAP or a SCSI scan.
  void WriteNode(int nr_sessions) {
    conf::Record record = NodeRecord();
    record.Set("node.session.scan", "manual");
    record.Set("node.session.nr_sessions", absl::StrCat(nr_sessions));
    WriteNode(record);
  }

  void UseOpenTarget() {
    target_ =
        std::make_unique<ScriptedTarget>(*kernel_, ScriptedTargetConfig{});
    kernel_->SetPduResponder(
        [this](uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu) {
          return target_->Respond(sid, cid, std::move(pdu));
        });
  }

  // Sends `-m node -T T -p P -l` for the test's node, or `request`; the
  // reply arrives from the loop, the progress lines in progress_.
  void StartLogin(std::optional<ipc::Reply>& reply,
                  std::optional<ipc::LoginRequest> request = std::nullopt) {
    manager_->Login(
        request.value_or(ipc::LoginRequest{
            {kTarget, "127.0.0.1", port_, std::nullopt, "default"}}),
        [this](std::vector<std::string> lines) {
          progress_.insert(progress_.end(), lines.begin(), lines.end());
        },
        [&reply](ipc::Reply r) { reply = std::move(r); });
  }

  ipc::Reply Login(std::optional<ipc::LoginRequest> request = std::nullopt) {
    std::optional<ipc::Reply> reply;
    StartLogin(reply, std::move(request));
    EXPECT_TRUE(
        loop_->RunUntil([&] { return reply.has_value(); }, absl::Seconds(10))
            .ok());
    return reply.value_or(ipc::Reply{});
  }

  int Count(const std::string& call) {
    const std::vector<std::string> calls = kernel_->calls();
    return static_cast<int>(std::count(calls.begin(), calls.end(), call));
  }

  std::vector<std::string> Lifecycle() {
    std::vector<std::string> out;
    for (const std::string& call : kernel_->calls()) {
      if (!absl::StartsWith(call, "SET_PARAM") &&
          !absl::StartsWith(call, "SEND_PDU")) {
        out.push_back(call);
      }
    }
    return out;
  }

  std::string root_;
  std::string sysconf_;
  SessionPaths paths_;
  std::unique_ptr<EventLoop> loop_;
  UniqueFd listen_fd_;
  uint16_t port_ = 0;
  std::vector<std::string> progress_;  // what Login showed as it started
  std::vector<UniqueFd> accepted_;
  FakeIscsiKernel* kernel_ = nullptr;
  std::unique_ptr<IscsiKernel> owned_kernel_;
  std::unique_ptr<ScriptedTarget> target_;
  std::unique_ptr<SessionManager> manager_;
};

TEST_F(SessionManagerTest, FailedSessionIsRecoveredAtOnceWithSysfsCredentials) {
  WriteSysfsSession("FAILED", "failed", "user1", "sysfs-secret-1");
  UseTarget("user1", "sysfs-secret-1");
  manager_->AdoptSessions();
  ASSERT_NE(manager_->recovery(1), nullptr);
  ASSERT_TRUE(RunUntilUp());
  EXPECT_THAT(Lifecycle(), ElementsAre("CREATE_SESSION", "CREATE_CONN 1 0",
                                       "STOP_CONN 1 0 RECOVER", "BIND_CONN 1 0",
                                       "START_CONN 1 0"));
  EXPECT_EQ(kernel_->GetParam(1, 0, IscsiParam::kUsername), "user1");
  EXPECT_EQ(kernel_->GetParam(1, 0, IscsiParam::kTargetName), kTarget);
  EXPECT_EQ(kernel_->GetParam(1, 0, IscsiParam::kIsid), "00023d000001");
}

TEST_F(SessionManagerTest, BackoffCapComesFromIscsidConf) {
  conf::IscsidConf conf;
  ASSERT_TRUE(conf.Set("kiscsid.reopen_backoff_max_ms", "40").ok());
  MakeManager(std::move(conf));
  WriteSysfsSession("LOGGED_IN", "up", "", "");
  manager_->AdoptSessions();
  const SessionRecovery* recovery = manager_->recovery(1);
  ASSERT_NE(recovery, nullptr);
  EXPECT_EQ(recovery->policy().max_backoff, absl::Milliseconds(40));
  // The first wait never exceeds the cap either.
  EXPECT_EQ(recovery->policy().initial_backoff, absl::Milliseconds(40));
}

TEST_F(SessionManagerTest, UpSessionIsAdoptedUntouchedAndRecoveredOnError) {
  WriteSysfsSession("LOGGED_IN", "up", "sysfs-user", "stale-secret");
  // A matching node record wins over sysfs: its credentials and its
  // DefaultTime2Wait of 0.
  conf::Record record = NodeRecord();
  record.Set("node.session.auth.authmethod", "CHAP");
  record.Set("node.session.auth.username", "node-user");
  record.Set("node.session.auth.password", "node-secret-12");
  record.Set("node.session.iscsi.DefaultTime2Wait", "0");
  record.Set("node.session.timeo.replacement_timeout", "86400");
  WriteNode(record);
  UseTarget("node-user", "node-secret-12");

  manager_->AdoptSessions();
  ASSERT_NE(manager_->recovery(1), nullptr);
  ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(50)).ok());
  // Adopted without a re-login: no lifecycle call reached the kernel, only
  // the record's settings the kernel takes on a live connection.
  EXPECT_THAT(Lifecycle(), ElementsAre("CREATE_SESSION", "CREATE_CONN 1 0"));
  EXPECT_EQ(kernel_->GetParam(1, 0, IscsiParam::kSessRecoveryTmo), "86400");

  // Bind it as if it had been up, then fail it.
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(kernel_->BindConn(1, 0, socket.get(), true).ok());
  ASSERT_TRUE(kernel_->StartConn(1, 0).ok());
  // The kernel marks the connection failed, then reports the error.
  WriteFile(paths_.sysfs_root + "/class/iscsi_connection/connection1:0/state",
            "failed\n");
  ASSERT_TRUE(kernel_->InjectConnError(1, 0, kConnErrTcpConnClose));
  ASSERT_TRUE(RunUntilUp());
  EXPECT_THAT(Lifecycle(),
              ElementsAre("CREATE_SESSION", "CREATE_CONN 1 0", "BIND_CONN 1 0",
                          "START_CONN 1 0", "STOP_CONN 1 0 RECOVER",
                          "BIND_CONN 1 0", "START_CONN 1 0"));
  EXPECT_EQ(kernel_->GetParam(1, 0, IscsiParam::kUsername), "node-user");
}

constexpr char kTag[] =
    "[iface: default, target: iqn.2026-11.test:root, portal: 127.0.0.1,";

TEST_F(SessionManagerTest, NrSessionsMakesTheMissingSessionsAtOnce) {
  WriteNode(3);
  UseOpenTarget();
  const ipc::Reply reply = Login();
  EXPECT_EQ(reply.code, absl::StatusCode::kOk) << reply.message;
  const std::string success = absl::StrCat(kTag, port_, "] successful.");
  // Announced before any outcome, then only the outcomes.
  const std::string announce = absl::StrCat("Logging in to ", kTag, port_, "]");
  EXPECT_THAT(progress_, ElementsAre(announce, announce, announce));
  EXPECT_THAT(reply.out_lines,
              ElementsAre("Login to " + success, "Login to " + success,
                          "Login to " + success));
  EXPECT_TRUE(reply.err_lines.empty());
  // Sessions 2, 3 and 4 (1 is someone else's), each its own ISID, each in
  // the daemon's charge.
  std::set<std::string> isids;
  for (uint32_t sid = 2; sid <= 4; ++sid) {
    EXPECT_EQ(kernel_->ConnState(sid, 0), "up") << sid;
    isids.insert(kernel_->GetParam(sid, 0, IscsiParam::kIsid).value_or(""));
    EXPECT_NE(manager_->recovery(sid), nullptr) << sid;
  }
  EXPECT_THAT(isids,
              ElementsAre("00023d000002", "00023d000003", "00023d000004"));
  // They overlapped: all three sessions existed before the first started.
  const std::vector<std::string> calls = kernel_->calls();
  const auto first_start = std::find_if(
      calls.begin(), calls.end(),
      [](const std::string& c) { return absl::StartsWith(c, "START_CONN"); });
  EXPECT_EQ(std::count(calls.begin(), first_start, "CREATE_SESSION"), 1 + 3);
}

TEST_F(SessionManagerTest, LoginWhileTheNodesLoginRunsIsRefused) {
  WriteNode(2);
  UseOpenTarget();
  std::optional<ipc::Reply> first;
  std::optional<ipc::Reply> second;
  StartLogin(first);
  StartLogin(second);
  ASSERT_TRUE(
      loop_->RunUntil([&] { return first && second; }, absl::Seconds(10)).ok());
  EXPECT_EQ(first->code, absl::StatusCode::kOk) << first->message;
  EXPECT_EQ(first->out_lines.size(), 2u);
  EXPECT_EQ(second->exit_code, ExitCode::kSessionExists);
  EXPECT_THAT(second->err_lines,
              ElementsAre("default: 2 sessions requested, but 2 already "
                          "present."));
  EXPECT_EQ(Count("CREATE_SESSION"), 1 + 2);
  // Only the first announced its sessions.
  EXPECT_EQ(progress_.size(), 2u);
}

// A record made with -o new (no tpgt) beside the discovered one (tpgt 1):
// one login request selects both, and one session is made, as iscsid
// refuses the second with "session exists" (it used to make two).
TEST_F(SessionManagerTest, TwoRecordsOfOneTargetAndPortalMakeOneSession) {
  WriteNode(1);
  conf::Record tagless = NodeRecord();
  tagless.Set("node.session.scan", "manual");
  ASSERT_TRUE(conf::NodeDb(sysconf_)
                  .WriteNode({kTarget, "127.0.0.1", port_, conf::kTpgtUnknown,
                              "default"},
                             tagless)
                  .ok());
  UseOpenTarget();
  ipc::LoginRequest request;
  request.nodes.target = kTarget;
  const ipc::Reply reply = Login(request);
  EXPECT_EQ(reply.exit_code, ExitCode::kSessionExists);
  EXPECT_EQ(progress_.size(), 2u);  // both were tried, as with iscsiadm
  EXPECT_EQ(reply.out_lines.size(), 1u);
  EXPECT_THAT(reply.err_lines,
              ::testing::Contains("initiator reported error (15 - session "
                                  "exists)"));
  EXPECT_EQ(Count("CREATE_SESSION"), 1 + 1);
}

TEST_F(SessionManagerTest, LoginByTargetNameAloneFindsTheNode) {
  WriteNode(1);
  UseOpenTarget();
  ipc::LoginRequest request;
  request.nodes.target = kTarget;
  const ipc::Reply reply = Login(request);
  EXPECT_EQ(reply.code, absl::StatusCode::kOk) << reply.message;
  EXPECT_THAT(progress_,
              ElementsAre(absl::StrCat("Logging in to ", kTag, port_, "]")));
  EXPECT_THAT(reply.out_lines, ElementsAre(absl::StrCat(
                                   "Login to ", kTag, port_, "] successful.")));
  EXPECT_EQ(kernel_->ConnState(2, 0), "up");
}

TEST_F(SessionManagerTest, LoginMatchingNoRecordIsNoRecordsFound) {
  WriteNode(1);
  UseOpenTarget();
  for (ipc::LoginRequest request :
       {ipc::LoginRequest{{"iqn.2026-11.test:other"}},
        ipc::LoginRequest{{kTarget, "127.0.0.2"}},
        ipc::LoginRequest{{kTarget, "127.0.0.1", port_, 7}},
        ipc::LoginRequest{
            {kTarget, std::nullopt, std::nullopt, std::nullopt, "eth9"}}}) {
    const ipc::Reply reply = Login(request);
    EXPECT_EQ(reply.exit_code, ExitCode::kNoObjectsFound);
    EXPECT_EQ(reply.message, "No records found");
  }
  EXPECT_TRUE(progress_.empty());
  EXPECT_EQ(Count("CREATE_SESSION"), 1);
}

TEST_F(SessionManagerTest, SessionsPresentCountTowardsNrSessions) {
  // Session 1 in sysfs is one of the node's.
  WriteSysfsSession("LOGGED_IN", "up", "", "");
  WriteNode(2);
  UseOpenTarget();
  ipc::Reply reply = Login();
  EXPECT_EQ(reply.code, absl::StatusCode::kOk) << reply.message;
  EXPECT_EQ(reply.out_lines.size(), 1u);
  EXPECT_EQ(progress_.size(), 1u);
  EXPECT_EQ(Count("CREATE_SESSION"), 1 + 1);

  WriteNode(1);
  reply = Login();
  EXPECT_EQ(reply.exit_code, ExitCode::kSessionExists);
  EXPECT_THAT(reply.err_lines,
              ElementsAre("default: 1 session requested, but 1 already "
                          "present."));
  EXPECT_EQ(Count("CREATE_SESSION"), 1 + 1);
}

TEST_F(SessionManagerTest, OneFailedSessionIsReportedAndUndoneAlone) {
  WriteNode(2);
  UseOpenTarget();
  kernel_->FailNext("START_CONN", -ENOMEM);
  const ipc::Reply reply = Login();
  EXPECT_EQ(reply.exit_code, ExitCode::kNoMemory);
  EXPECT_EQ(reply.message, "Could not log into all portals");
  EXPECT_THAT(reply.out_lines, ElementsAre(absl::StrCat(
                                   "Login to ", kTag, port_, "] successful.")));
  // iscsiadm's two lines, then kiscsi's explanation.
  ASSERT_EQ(reply.err_lines.size(), 3u);
  EXPECT_EQ(reply.err_lines[0],
            absl::StrCat("Could not login to ", kTag, port_, "]."));
  EXPECT_EQ(reply.err_lines[1],
            "initiator reported error (3 - no available memory)");
  EXPECT_THAT(reply.err_lines[2], ::testing::StartsWith("  "));
  EXPECT_THAT(reply.err_lines[2], ::testing::HasSubstr("start connection"));
  // The failed one left nothing; the other stays, in the daemon's charge.
  EXPECT_EQ(kernel_->SessionExists(2) + kernel_->SessionExists(3), 1);
  const uint32_t kept = kernel_->SessionExists(2) ? 2 : 3;
  EXPECT_EQ(kernel_->ConnState(kept, 0), "up");
  EXPECT_NE(manager_->recovery(kept), nullptr);
  EXPECT_EQ(Count("DESTROY_SESSION " + std::to_string(5 - kept)), 1);
}

}  // namespace
}  // namespace kiscsi::daemon

namespace kiscsi::daemon {
namespace {

// An iBFT in sysfs naming the test's target and portal, with initiator
// `initiator` and no CHAP.
void WriteFirmwareTable(const std::string& sysfs_root, uint16_t port,
                        const std::string& initiator) {
  const std::string t = sysfs_root + "/firmware/ibft/";
  WriteFile(t + "initiator/initiator-name", initiator + "\n");
  WriteFile(t + "initiator/flags", "3\n");
  WriteFile(t + "ethernet0/index", "0\n");
  WriteFile(t + "ethernet0/flags", "3\n");
  WriteFile(t + "ethernet0/mac", "52:54:00:12:34:56\n");
  WriteFile(t + "ethernet0/ip-addr", "127.0.0.1\n");
  WriteFile(t + "target0/index", "0\n");
  WriteFile(t + "target0/flags", "3\n");
  WriteFile(t + "target0/ip-addr", "127.0.0.1\n");
  WriteFile(t + "target0/port", absl::StrCat(port, "\n"));
  WriteFile(t + "target0/nic-assoc", "0\n");
  WriteFile(t + "target0/target-name", absl::StrCat(kTarget, "\n"));
}

ipc::Reply Wait(EventLoop& loop, std::optional<ipc::Reply>& reply) {
  EXPECT_TRUE(
      loop.RunUntil([&] { return reply.has_value(); }, absl::Seconds(10)).ok());
  return reply.value_or(ipc::Reply{});
}

TEST_F(SessionManagerTest, LoginAllNeverIncludesOnbootRecords) {
  conf::Record record = NodeRecord();
  record.Set("node.session.scan", "manual");
  record.Set("node.startup", "onboot");
  WriteNode(record);
  UseOpenTarget();
  std::optional<ipc::Reply> reply;
  manager_->LoginAll(
      ipc::LoginAllRequest{ipc::StartupFilter::kAll}, [](auto) {},
      [&reply](ipc::Reply r) { reply = std::move(r); });
  EXPECT_EQ(Wait(*loop_, reply).exit_code, ExitCode::kNoObjectsFound);
  EXPECT_EQ(Count("CREATE_SESSION"), 1);  // the fixture's session only
  reply.reset();
  manager_->LoginAll(
      ipc::LoginAllRequest{ipc::StartupFilter::kOnboot}, [](auto) {},
      [&reply](ipc::Reply r) { reply = std::move(r); });
  EXPECT_EQ(Wait(*loop_, reply).code, absl::StatusCode::kOk);
  EXPECT_EQ(Count("CREATE_SESSION"), 2);
}

TEST_F(SessionManagerTest, FirmwareLoginUsesTheTableAndWritesNoRecord) {
  WriteFirmwareTable(paths_.sysfs_root, port_, "iqn.2026-12.test:from-ibft");
  // The table's record starts from iscsid.conf: no SCSI scan in this test.
  conf::IscsidConf conf;
  ASSERT_TRUE(conf.Set("node.session.scan", "manual").ok());
  MakeManager(conf);
  UseOpenTarget();
  ipc::LoginRequest request;
  request.firmware = true;
  const ipc::Reply reply = Login(request);
  EXPECT_EQ(reply.code, absl::StatusCode::kOk) << reply.message;
  EXPECT_THAT(progress_,
              ElementsAre(absl::StrCat("Logging in to ", kTag, port_, "]")));
  EXPECT_EQ(kernel_->ConnState(2, 0), "up");
  EXPECT_THAT(
      kernel_->calls(),
      ::testing::Contains(::testing::HasSubstr("iqn.2026-12.test:from-ibft")));
  auto nodes = conf::NodeDb(sysconf_).ListNodes();
  ASSERT_TRUE(nodes.ok());
  EXPECT_TRUE(nodes->empty());
}

TEST_F(SessionManagerTest, FirmwareLoginWithoutATableIsNoObjectsFound) {
  ipc::LoginRequest request;
  request.firmware = true;
  const ipc::Reply reply = Login(request);
  EXPECT_EQ(reply.exit_code, ExitCode::kNoObjectsFound);
  EXPECT_EQ(Count("CREATE_SESSION"), 1);
}

TEST_F(SessionManagerTest, LogoutAllLeavesTheBootFirmwareSession) {
  WriteSysfsSession("LOGGED_IN", "up", "", "");
  WriteFirmwareTable(paths_.sysfs_root, port_, kInitiator);
  std::optional<ipc::Reply> reply;
  manager_->LogoutAll(ipc::LogoutAllRequest{ipc::StartupFilter::kAll},
                      [&reply](ipc::Reply r) { reply = std::move(r); });
  EXPECT_EQ(Wait(*loop_, reply).exit_code, ExitCode::kNoObjectsFound);
  EXPECT_EQ(Count("UNBIND_SESSION 1"), 0);
  EXPECT_TRUE(kernel_->SessionExists(1));
}

// The log lines of a test, at info level and above.
class LogCapture {
 public:
  LogCapture() : level_before_(GetLogLevel()) {
    SetLogLevel(LogLevel::kInfo);
    SetLogSinkForTesting([this](LogLevel level, std::string_view text) {
      lines_.push_back({level, std::string(text)});
    });
  }
  ~LogCapture() {
    SetLogSinkForTesting(nullptr);
    SetLogLevel(level_before_);
  }
  // The lines of `level` that contain `text`.
  std::vector<std::string> Find(LogLevel level, const std::string& text) const {
    std::vector<std::string> out;
    for (const auto& [line_level, line] : lines_) {
      if (line_level == level && absl::StrContains(line, text)) {
        out.push_back(line);
      }
    }
    return out;
  }
  bool Contains(const std::string& text) const {
    for (const auto& line : lines_) {
      if (absl::StrContains(line.second, text)) return true;
    }
    return false;
  }

 private:
  LogLevel level_before_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

// Root on iSCSI: the initramfs logged in (mutual CHAP, tpgt 1, its own
// timeouts) and the real system's node database has no record of it.
class AdoptionRecordTest : public SessionManagerTest {
 protected:
  void WriteBootSession() {
    WriteSysfsSession("LOGGED_IN", "up", "boot-user", "boot-secret-1");
    const std::string s = paths_.sysfs_root + "/class/iscsi_session/session1/";
    WriteFile(s + "tpgt", "1\n");
    WriteFile(s + "username_in", "boot-target\n");
    WriteFile(s + "password_in", "boot-secret-in\n");
    WriteFile(s + "recovery_tmo", "86400\n");
    const std::string c =
        paths_.sysfs_root + "/class/iscsi_connection/connection1:0/";
    WriteFile(c + "recv_tmo", "0\n");
    WriteFile(c + "ping_tmo", "0\n");
  }
  conf::NodeKey BootKey() const {
    return conf::NodeKey{kTarget, "127.0.0.1", port_, 1, "default"};
  }
  std::string RecordPath(const conf::NodeKey& key) const {
    return absl::StrCat(sysconf_, "/nodes/", key.target_name, "/", key.address,
                        ",", key.port, ",", key.tpgt, "/", key.iface);
  }
};

TEST_F(AdoptionRecordTest, SessionWithoutARecordGetsAnOnbootRecord) {
  WriteBootSession();
  LogCapture log;
  manager_->AdoptSessions();
  ASSERT_NE(manager_->recovery(1), nullptr);

  auto keys = conf::NodeDb(sysconf_).ListNodes();
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_THAT(*keys, ElementsAre(BootKey()));
  auto record = conf::NodeDb(sysconf_).ReadNode(BootKey());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.startup"), "onboot");
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "CHAP");
  EXPECT_EQ(record->Get("node.session.auth.username"), "boot-user");
  EXPECT_EQ(record->Get("node.session.auth.password"), "boot-secret-1");
  EXPECT_EQ(record->Get("node.session.auth.username_in"), "boot-target");
  EXPECT_EQ(record->Get("node.session.auth.password_in"), "boot-secret-in");
  EXPECT_EQ(record->Get("node.session.timeo.replacement_timeout"), "86400");
  EXPECT_EQ(record->Get("node.conn[0].timeo.noop_out_interval"), "0");
  EXPECT_EQ(record->Get("node.conn[0].timeo.noop_out_timeout"), "0");
  // The session's initiator name is initiatorname.iscsi's: not pinned.
  EXPECT_EQ(record->Get("iface.initiatorname"), "");
  struct stat st {};
  ASSERT_EQ(::stat(RecordPath(BootKey()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // One line says so, naming the file; no secret in any line.
  EXPECT_EQ(
      log.Find(LogLevel::kInfo, "created " + RecordPath(BootKey())).size(), 1u);
  EXPECT_FALSE(log.Contains("boot-secret"));
}

TEST_F(AdoptionRecordTest, ExistingRecordIsLeftUntouched) {
  WriteBootSession();
  // The user's record of the target and portal, without a tpgt.
  conf::Record mine = NodeRecord();
  mine.Set("node.startup", "manual");
  mine.Set("node.session.auth.authmethod", "CHAP");
  mine.Set("node.session.auth.username", "my-user");
  mine.Set("node.session.auth.password", "my-secret-123");
  const conf::NodeKey key{kTarget, "127.0.0.1", port_, conf::kTpgtUnknown,
                          "default"};
  ASSERT_TRUE(conf::NodeDb(sysconf_).WriteNode(key, mine).ok());
  auto before = conf::ReadConfigFile(RecordPath(key));
  ASSERT_TRUE(before.ok());
  LogCapture log;
  manager_->AdoptSessions();
  ASSERT_NE(manager_->recovery(1), nullptr);
  auto after = conf::ReadConfigFile(RecordPath(key));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  auto keys = conf::NodeDb(sysconf_).ListNodes();
  ASSERT_TRUE(keys.ok());
  EXPECT_THAT(*keys, ElementsAre(key));
  EXPECT_FALSE(log.Contains("created"));
}

TEST_F(AdoptionRecordTest, FirmwareSessionGetsNoRecord) {
  WriteBootSession();
  WriteFirmwareTable(paths_.sysfs_root, port_, kInitiator);
  manager_->AdoptSessions();
  ASSERT_NE(manager_->recovery(1), nullptr);
  auto keys = conf::NodeDb(sysconf_).ListNodes();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_F(AdoptionRecordTest,
       UnwritableNodeDatabaseIsAWarningAndTheSessionIsAdopted) {
  WriteBootSession();
  // A file where the target's folder would go: no record can be written
  // there, by root either (a read-only mode would not stop root).
  WriteFile(absl::StrCat(sysconf_, "/nodes/", kTarget), "");
  LogCapture log;
  manager_->AdoptSessions();
  const SessionRecovery* recovery = manager_->recovery(1);
  ASSERT_NE(recovery, nullptr);
  EXPECT_EQ(recovery->state(), SessionRecovery::State::kUp);
  EXPECT_EQ(log.Find(LogLevel::kWarning, "cannot write a node record").size(),
            1u);
  EXPECT_FALSE(log.Contains("boot-secret"));
  auto keys = conf::NodeDb(sysconf_).ListNodes();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

}  // namespace
}  // namespace kiscsi::daemon

namespace kiscsi::daemon {
namespace {

class SessionLogoutTest : public SessionManagerTest {
 protected:
  // sysfs of session `sid` (already in the kernel) on host sid+1.
  void WriteSession(uint32_t sid, const std::string& target,
                    const std::string& iface) {
    const std::string sys = paths_.sysfs_root;
    const std::string host_dir =
        absl::StrCat(sys, "/devices/platform/host", sid + 1, "/session", sid);
    std::filesystem::create_directories(host_dir);
    const std::string s =
        absl::StrCat(sys, "/class/iscsi_session/session", sid, "/");
    WriteFile(s + "targetname", target + "\n");
    WriteFile(s + "state", "LOGGED_IN\n");
    WriteFile(s + "ifacename", iface + "\n");
    WriteFile(s + "tpgt", "1\n");
    std::filesystem::create_directory_symlink(host_dir, s + "device");
    const std::string c =
        absl::StrCat(sys, "/class/iscsi_connection/connection", sid, ":0/");
    WriteFile(c + "state", "up\n");
    WriteFile(c + "persistent_address", "127.0.0.1\n");
    WriteFile(c + "persistent_port", absl::StrCat(port_, "\n"));
  }

  std::string Tag(uint32_t sid, const std::string& target) {
    return absl::StrCat("[sid: ", sid, ", target: ", target,
                        ", portal: 127.0.0.1,", port_, "]");
  }

  ipc::Reply Logout(const ipc::LogoutRequest& request) {
    std::optional<ipc::Reply> reply;
    manager_->Logout(request, [&reply](ipc::Reply r) { reply = std::move(r); });
    EXPECT_TRUE(
        loop_->RunUntil([&] { return reply.has_value(); }, absl::Seconds(10))
            .ok());
    return reply.value_or(ipc::Reply{});
  }
};

constexpr char kOther[] = "iqn.2026-11.test:other";

TEST_F(SessionLogoutTest, SelectorLogsOutEveryMatchAtOnceInSidOrder) {
  ASSERT_TRUE(kernel_->CreateSession(0, 128, 32).ok());
  ASSERT_TRUE(kernel_->CreateConn(2, 0).ok());
  ASSERT_TRUE(kernel_->CreateSession(0, 128, 32).ok());
  ASSERT_TRUE(kernel_->CreateConn(3, 0).ok());
  WriteSession(1, kTarget, "default");
  WriteSession(2, kOther, "default");
  WriteSession(3, kTarget, "");
  UseOpenTarget();
  // -m node -T kTarget -p 127.0.0.1 -I default -u: the portal without a port
  // matches any port, a session without an iface is on "default".
  ipc::LogoutRequest request;
  request.nodes.target = kTarget;
  request.nodes.address = "127.0.0.1";
  request.nodes.iface = "default";
  const ipc::Reply reply = Logout(request);
  EXPECT_EQ(reply.code, absl::StatusCode::kOk) << reply.message;
  EXPECT_THAT(reply.out_lines,
              ElementsAre("Logging out of session " + Tag(1, kTarget),
                          "Logging out of session " + Tag(3, kTarget),
                          "Logout of " + Tag(1, kTarget) + " successful.",
                          "Logout of " + Tag(3, kTarget) + " successful."));
  EXPECT_TRUE(reply.err_lines.empty());
  EXPECT_FALSE(kernel_->SessionExists(1));
  EXPECT_TRUE(kernel_->SessionExists(2));
  EXPECT_FALSE(kernel_->SessionExists(3));
}

TEST_F(SessionLogoutTest, NothingSelectedIsNoMatchingSessions) {
  WriteSession(1, kTarget, "default");
  for (ipc::LogoutRequest request :
       {ipc::LogoutRequest{std::nullopt, {kOther}},
        ipc::LogoutRequest{std::nullopt,
                           {std::nullopt, "127.0.0.2", std::nullopt,
                            std::nullopt, std::nullopt}},
        ipc::LogoutRequest{
            std::nullopt,
            {std::nullopt, "127.0.0.1", static_cast<uint16_t>(port_ + 1),
             std::nullopt, std::nullopt}},
        ipc::LogoutRequest{std::nullopt,
                           {std::nullopt, std::nullopt, std::nullopt,
                            std::nullopt, "iface1"}}}) {
    const ipc::Reply reply = Logout(request);
    EXPECT_EQ(reply.exit_code, ExitCode::kNoObjectsFound);
    EXPECT_EQ(reply.message, "No matching sessions found");
    EXPECT_TRUE(reply.out_lines.empty());
  }
  EXPECT_TRUE(kernel_->SessionExists(1));
}

TEST_F(SessionLogoutTest, UnknownSidIsSessionNotFound) {
  WriteSession(1, kTarget, "default");
  const ipc::Reply reply = Logout(ipc::LogoutRequest{9});
  EXPECT_EQ(reply.exit_code, ExitCode::kSessionNotFound);
  EXPECT_EQ(reply.message,
            "Could not get session info for sid 9: no such session");
  EXPECT_TRUE(kernel_->SessionExists(1));
}

// The daemon's own commands: Ping and Reload answer before returning.
TEST_F(SessionManagerTest, PingNamesTheDaemon) {
  std::optional<ipc::Reply> reply;
  manager_->Ping([&reply](ipc::Reply r) { reply = std::move(r); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(ipc::ReplyStatus(*reply).ok());
  EXPECT_THAT(reply->out_lines,
              ElementsAre(::testing::AllOf(
                  ::testing::StartsWith("kiscsid "),
                  ::testing::HasSubstr(", pid " + std::to_string(::getpid())),
                  ::testing::HasSubstr(", protocol 1"))));
}

TEST_F(SessionManagerTest, ReloadReadsTheFileAgainAndKeepsValidSettings) {
  const std::string path = root_ + "/iscsid.conf";
  auto reload = [&] {
    std::optional<ipc::Reply> reply;
    manager_->Reload([&reply](ipc::Reply r) { reply = std::move(r); });
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(ipc::Reply{});
  };
  WriteFile(path, "node.session.cmds_max = 64\nnode.sesion.queue_depth = 8\n");
  ipc::Reply reply = reload();
  EXPECT_TRUE(ipc::ReplyStatus(reply).ok()) << reply.message;
  EXPECT_THAT(reply.out_lines, ElementsAre("reloaded " + path));
  // The typo is reported as a warning line.
  ASSERT_EQ(reply.err_lines.size(), 1u);
  EXPECT_THAT(reply.err_lines[0],
              ::testing::StartsWith("warning: " + path + ":2:"));
  EXPECT_EQ(manager_->conf().GetInt("node.session.cmds_max"), 64);

  WriteFile(path, "node.session.cmds_max = abc\n");
  reply = reload();
  EXPECT_EQ(reply.exit_code, ExitCode::kInvalid);
  EXPECT_THAT(reply.message, ::testing::HasSubstr(":1: invalid value 'abc'"));
  EXPECT_THAT(reply.message,
              ::testing::HasSubstr("(keeping the previous settings)"));
  EXPECT_EQ(manager_->conf().GetInt("node.session.cmds_max"), 64);
}

}  // namespace
}  // namespace kiscsi::daemon
