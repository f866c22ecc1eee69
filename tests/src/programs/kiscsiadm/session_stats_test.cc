// kiscsiadm -m session [-r SID] -s: iscsiadm's format (the transcript of
// open-iscsi 2.1.8), and the whole command against a kiscsid stand-in on a
// real socket with sessions in a fake sysfs.
#include "src/programs/kiscsiadm/session_stats.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/daemon/command_handler.h"
#include "src/daemon/ipc_server.h"
#include "src/programs/kiscsiadm/session_commands.h"
#include "tests/src/daemon/loop_thread.h"
#include "tests/src/ipc/socket_testing.h"
#include "tests/src/session/sysfs_session_writer.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

ipc::SessionStats TranscriptStats(uint32_t sid) {
  ipc::SessionStats stats;
  stats.sid = sid;
  stats.snmp = {
      {"txdata_octets", 1400}, {"rxdata_octets", 13960}, {"noptx_pdus", 0},
      {"scsicmd_pdus", 19},    {"tmfcmd_pdus", 0},       {"login_pdus", 0},
      {"text_pdus", 0},        {"dataout_pdus", 0},      {"logout_pdus", 0},
      {"snack_pdus", 0},       {"noprx_pdus", 0},        {"scsirsp_pdus", 19},
      {"tmfrsp_pdus", 0},      {"textrsp_pdus", 0},      {"datain_pdus", 16},
      {"logoutrsp_pdus", 0},   {"r2t_pdus", 0},          {"async_pdus", 0},
      {"rjt_pdus", 0},         {"digest_err", 0},        {"timeout_err", 0},
  };
  stats.extended = {{"tx_sendpage_failures", 0},
                    {"rx_discontiguous_hdr", 0},
                    {"eh_abort_cnt", 0}};
  return stats;
}

// open-iscsi 2.1.8's `iscsiadm -m session -s`, as the transcript shows it.
constexpr char kTranscriptBlock[] =
    "Stats for session [sid: 1, target: iqn.2026-11.test:fmt1, portal: "
    "127.0.0.1,3260]\n"
    "iSCSI SNMP:\n"
    "\ttxdata_octets: 1400\n"
    "\trxdata_octets: 13960\n"
    "\tnoptx_pdus: 0\n"
    "\tscsicmd_pdus: 19\n"
    "\ttmfcmd_pdus: 0\n"
    "\tlogin_pdus: 0\n"
    "\ttext_pdus: 0\n"
    "\tdataout_pdus: 0\n"
    "\tlogout_pdus: 0\n"
    "\tsnack_pdus: 0\n"
    "\tnoprx_pdus: 0\n"
    "\tscsirsp_pdus: 19\n"
    "\ttmfrsp_pdus: 0\n"
    "\ttextrsp_pdus: 0\n"
    "\tdatain_pdus: 16\n"
    "\tlogoutrsp_pdus: 0\n"
    "\tr2t_pdus: 0\n"
    "\tasync_pdus: 0\n"
    "\trjt_pdus: 0\n"
    "\tdigest_err: 0\n"
    "\ttimeout_err: 0\n"
    "iSCSI Extended:\n"
    "\ttx_sendpage_failures: 0\n"
    "\trx_discontiguous_hdr: 0\n"
    "\teh_abort_cnt: 0\n";

SysfsSession TranscriptSession() {
  SysfsSession session;
  session.sid = 1;
  session.target_name = "iqn.2026-11.test:fmt1";
  session.connection.emplace();
  session.connection->persistent_address = "127.0.0.1";
  session.connection->persistent_port = 3260;
  return session;
}

TEST(FormatSessionStatsTest, AsIscsiadmPrintsThem) {
  EXPECT_EQ(FormatSessionStats(TranscriptSession(), TranscriptStats(1)),
            kTranscriptBlock);
}

TEST(FormatSessionStatsTest, LargeCountersAndNoExtendedOnes) {
  ipc::SessionStats stats;
  stats.snmp = {{"txdata_octets", 18446744073709551615u}};
  EXPECT_EQ(FormatSessionStats(TranscriptSession(), stats),
            "Stats for session [sid: 1, target: iqn.2026-11.test:fmt1, "
            "portal: 127.0.0.1,3260]\n"
            "iSCSI SNMP:\n"
            "\ttxdata_octets: 18446744073709551615\n"
            "iSCSI Extended:\n");
}

// kiscsid as far as Stats goes: answers from `answers` by sid, "no session
// with sid N" (exit 2) otherwise.
class StatsDaemon : public daemon::CommandHandler {
 public:
  void Ping(daemon::ReplyCallback done) override { Refuse(std::move(done)); }
  void Login(const ipc::LoginRequest&, daemon::ProgressCallback,
             daemon::ReplyCallback done) override {
    Refuse(std::move(done));
  }
  void Logout(const ipc::LogoutRequest&, daemon::ReplyCallback done) override {
    Refuse(std::move(done));
  }
  void LogoutAll(const ipc::LogoutAllRequest&,
                 daemon::ReplyCallback done) override {
    Refuse(std::move(done));
  }
  void LoginAll(const ipc::LoginAllRequest&, daemon::ProgressCallback,
                daemon::ReplyCallback done) override {
    Refuse(std::move(done));
  }
  void Reload(daemon::ReplyCallback done) override { Refuse(std::move(done)); }
  static void Refuse(daemon::ReplyCallback done) {
    done(ipc::ReplyFromStatus(absl::UnimplementedError("not in this test")));
  }
  void Stats(const ipc::StatsRequest& request,
             daemon::ReplyCallback done) override {
    auto it = answers.find(request.sid.value_or(0));
    if (it != answers.end()) return done(it->second);
    done(ipc::ReplyFromStatus(WithExitCode(
        absl::NotFoundError("no session with sid " +
                            std::to_string(request.sid.value_or(0))),
        ExitCode::kSessionNotFound)));
  }
  std::map<uint32_t, ipc::Reply> answers;  // set before the loop runs
};

class SessionStatsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(setenv("KISCSI_RUNDIR", dir_.c_str(), 1), 0);
    WriteSysfsSession(sysfs_, 1, "iqn.2026-11.test:fmt1", "127.0.0.1", 3260);
    WriteSysfsSession(sysfs_, 2, "iqn.2026-11.test:fmt2", "10.0.0.2", 3261);
    ipc::Reply one;
    one.stats = {TranscriptStats(1)};
    daemon_.answers[1] = one;
  }

  void TearDown() override {
    thread_.reset();
    server_.reset();
    unsetenv("KISCSI_RUNDIR");
  }

  void StartDaemon() {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    absl::StatusOr<UniqueFd> listener =
        daemon::ListenOnPath(ipc::DaemonSocketPath());
    ASSERT_TRUE(listener.ok()) << listener.status();
    daemon::IpcServerOptions options;
    options.allowed_uid = ::getuid();
    auto server = daemon::IpcServer::Create(*loop_, *std::move(listener),
                                            daemon_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::make_unique<daemon::testing::LoopThread>(*loop_);
  }

  // kiscsiadm -m session [-r SID] -s
  absl::Status Run(std::optional<std::string> sid) {
    Options options;
    options.mode = Mode::kSession;
    options.stats = true;
    options.sid = std::move(sid);
    CommandContext context{dir_ + "/etc", sysfs_, out_, err_};
    return RunSession(options, context);
  }

  std::string dir_ = ipc::testing::MakeTempDir();
  std::string sysfs_ = dir_ + "/sys";
  StatsDaemon daemon_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<daemon::IpcServer> server_;
  std::unique_ptr<daemon::testing::LoopThread> thread_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(SessionStatsCommandTest, OneSession) {
  StartDaemon();
  EXPECT_TRUE(Run("1").ok());
  EXPECT_EQ(out_.str(), kTranscriptBlock);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(SessionStatsCommandTest, EverySessionInSidOrder) {
  ipc::Reply two;
  two.stats = {ipc::SessionStats{2, {{"txdata_octets", 7}}, {}}};
  daemon_.answers[2] = two;
  StartDaemon();
  EXPECT_TRUE(Run(std::nullopt).ok());
  EXPECT_EQ(out_.str(), std::string(kTranscriptBlock) +
                            "Stats for session [sid: 2, target: "
                            "iqn.2026-11.test:fmt2, portal: 10.0.0.2,3261]\n"
                            "iSCSI SNMP:\n"
                            "\ttxdata_octets: 7\n"
                            "iSCSI Extended:\n");
}

TEST_F(SessionStatsCommandTest, SysfsPathSelectsTheSession) {
  StartDaemon();
  EXPECT_TRUE(Run("/sys/class/iscsi_session/session1").ok());
  EXPECT_EQ(out_.str(), kTranscriptBlock);
}

TEST_F(SessionStatsCommandTest, OneFailureStillPrintsTheOthers) {
  StartDaemon();  // knows nothing of session 2
  absl::Status status = Run(std::nullopt);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kSessionNotFound);
  EXPECT_EQ(status.message(),
            "Could not get the statistics of all requested sessions");
  EXPECT_EQ(out_.str(), kTranscriptBlock);
  EXPECT_EQ(err_.str(),
            "kiscsiadm: Could not get the statistics of session [sid: 2, "
            "target: iqn.2026-11.test:fmt2, portal: 10.0.0.2,3261]: no "
            "session with sid 2\n");
}

TEST_F(SessionStatsCommandTest, UnknownSidIs2WithoutAskingTheDaemon) {
  absl::Status status = Run("9");  // no daemon runs: it is not asked
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kSessionNotFound);
  EXPECT_THAT(status.message(),
              HasSubstr("Could not get session info for sid 9"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(SessionStatsCommandTest, NoSessionsIs21) {
  std::filesystem::remove_all(sysfs_);
  absl::Status status = Run(std::nullopt);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kNoObjectsFound);
  EXPECT_EQ(status.message(), "No active sessions.");
}

TEST_F(SessionStatsCommandTest, NoDaemonIs20) {
  absl::Status status = Run("1");
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kDaemonConnect);
  EXPECT_THAT(status.message(), HasSubstr("could not connect to kiscsid"));
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace kiscsi
