// `-m session -s` on the daemon's side: a Stats request over the real IPC
// socket, answered by SessionManager from sysfs and the fake kernel's
// GET_STATS.
#include "src/daemon/session_stats.h"

#include <errno.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/exit_code.h"
#include "src/daemon/ipc_server.h"
#include "src/daemon/session_manager.h"
#include "src/ipc/ipc_client.h"
#include "tests/src/daemon/loop_thread.h"
#include "tests/src/ipc/socket_testing.h"
#include "tests/src/session/sysfs_session_writer.h"

namespace kiscsi::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class SessionStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_.sysfs_root = dir_ + "/sys";
    paths_.dev_root = dir_ + "/dev";
    std::filesystem::create_directories(paths_.sysfs_root);
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    auto kernel = std::make_unique<FakeIscsiKernel>();
    kernel_ = kernel.get();
    owned_kernel_ = std::move(kernel);
    manager_ = std::make_unique<SessionManager>(
        *loop_,
        [this]() -> absl::StatusOr<std::unique_ptr<IscsiKernel>> {
          return std::move(owned_kernel_);
        },
        dir_ + "/etc", paths_, dir_ + "/iscsid.conf", conf::IscsidConf());
  }

  void TearDown() override {
    thread_.reset();
    server_.reset();
    manager_.reset();
  }

  // A session in the fake kernel (sid 1, 2, ...) and in sysfs.
  uint32_t AddSession(const std::string& target) {
    absl::StatusOr<CreatedSession> created = kernel_->CreateSession(0, 128, 32);
    EXPECT_TRUE(created.ok()) << created.status();
    EXPECT_TRUE(kernel_->CreateConn(created->sid, 0).ok());
    WriteSysfsSession(paths_.sysfs_root, created->sid, target, "127.0.0.1",
                      3260);
    return created->sid;
  }

  // Starts serving; the manager is the loop thread's from here on.
  void Serve() {
    absl::StatusOr<UniqueFd> listener = ListenOnPath(dir_ + "/kiscsid.sock");
    ASSERT_TRUE(listener.ok()) << listener.status();
    IpcServerOptions options;
    options.allowed_uid = ::getuid();
    auto server =
        IpcServer::Create(*loop_, *std::move(listener), *manager_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::make_unique<testing::LoopThread>(*loop_);
  }

  ipc::Reply Call(const ipc::StatsRequest& request) {
    absl::StatusOr<ipc::IpcClient> client =
        ipc::IpcClient::Connect(dir_ + "/kiscsid.sock", absl::Seconds(5));
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return ipc::Reply{};
    absl::StatusOr<ipc::Reply> reply = client->Call(request, absl::Seconds(10));
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : ipc::Reply{};
  }

  std::string dir_ = ipc::testing::MakeTempDir();
  SessionPaths paths_;
  std::unique_ptr<EventLoop> loop_;
  FakeIscsiKernel* kernel_ = nullptr;
  std::unique_ptr<IscsiKernel> owned_kernel_;
  std::unique_ptr<SessionManager> manager_;
  std::unique_ptr<IpcServer> server_;
  std::unique_ptr<testing::LoopThread> thread_;
};

TEST(ToSessionStatsTest, MibCountersThenTheTransportsInTheKernelsOrder) {
  ConnStats stats;
  stats.txdata_octets = 1400;
  stats.timeout_err = 2;
  stats.custom = {{"tx_sendpage_failures", 5}};
  const ipc::SessionStats converted = ToSessionStats(4, stats);
  EXPECT_EQ(converted.sid, 4u);
  ASSERT_EQ(converted.snmp.size(), 21u);
  EXPECT_EQ(converted.snmp.front(), (StatCounter{"txdata_octets", 1400}));
  EXPECT_EQ(converted.snmp.back(), (StatCounter{"timeout_err", 2}));
  EXPECT_THAT(converted.extended,
              ElementsAre(StatCounter{"tx_sendpage_failures", 5}));
}

TEST_F(SessionStatsTest, OneSessionThroughTheIpc) {
  AddSession("iqn.2026-11.test:a");
  const uint32_t sid = AddSession("iqn.2026-11.test:b");
  ConnStats stats;
  stats.scsicmd_pdus = 19;
  stats.txdata_octets = 4096;
  stats.custom = {{"tx_sendpage_failures", 0}, {"eh_abort_cnt", 1}};
  ASSERT_TRUE(kernel_->SetStats(sid, 0, stats));
  Serve();

  const ipc::Reply reply = Call(ipc::StatsRequest{sid});
  ASSERT_TRUE(ipc::ReplyStatus(reply).ok()) << reply.message;
  ASSERT_EQ(reply.stats.size(), 1u);
  EXPECT_EQ(reply.stats[0], ToSessionStats(sid, stats));
  thread_.reset();
  EXPECT_EQ(kernel_->calls().back(), "GET_STATS 2 0");
}

TEST_F(SessionStatsTest, AllSessionsInSidOrder) {
  AddSession("iqn.2026-11.test:a");
  AddSession("iqn.2026-11.test:b");
  Serve();
  const ipc::Reply reply = Call(ipc::StatsRequest{std::nullopt});
  ASSERT_TRUE(ipc::ReplyStatus(reply).ok()) << reply.message;
  ASSERT_EQ(reply.stats.size(), 2u);
  EXPECT_EQ(reply.stats[0].sid, 1u);
  EXPECT_EQ(reply.stats[1].sid, 2u);
  EXPECT_THAT(reply.stats[1].extended,
              ElementsAre(StatCounter{"tx_sendpage_failures", 0},
                          StatCounter{"rx_discontiguous_hdr", 0},
                          StatCounter{"eh_abort_cnt", 0}));
}

TEST_F(SessionStatsTest, UnknownSidIsSessionNotFoundWithoutAskingTheKernel) {
  AddSession("iqn.2026-11.test:a");
  Serve();
  const ipc::Reply reply = Call(ipc::StatsRequest{9});
  EXPECT_EQ(reply.exit_code, ExitCode::kSessionNotFound);
  EXPECT_EQ(reply.message, "no session with sid 9");
  EXPECT_THAT(reply.stats, IsEmpty());
  thread_.reset();
  EXPECT_EQ(kernel_->calls().back(), "CREATE_CONN 1 0");
}

TEST_F(SessionStatsTest, NoSessionsIsNoObjectsFound) {
  Serve();
  const ipc::Reply reply = Call(ipc::StatsRequest{std::nullopt});
  EXPECT_EQ(reply.exit_code, ExitCode::kNoObjectsFound);
  EXPECT_EQ(reply.message, "No active sessions.");
}

TEST_F(SessionStatsTest, ConnectionGoneFromTheKernelIsSessionNotFound) {
  const uint32_t sid = AddSession("iqn.2026-11.test:a");
  kernel_->FailNext("GET_STATS", -EEXIST);
  Serve();
  const ipc::Reply reply = Call(ipc::StatsRequest{sid});
  EXPECT_EQ(reply.exit_code, ExitCode::kSessionNotFound);
  EXPECT_EQ(reply.message,
            "session 1: GET_STATS sid 1 cid 0: File exists (-17)");
}

TEST_F(SessionStatsTest, OneRefusalAmongSeveralIsNamedAndTheRestAnswered) {
  AddSession("iqn.2026-11.test:a");
  AddSession("iqn.2026-11.test:b");
  kernel_->FailNext("GET_STATS", -ENOMEM);
  Serve();
  const ipc::Reply reply = Call(ipc::StatsRequest{std::nullopt});
  EXPECT_EQ(reply.exit_code, ExitCode::kInternal);
  EXPECT_EQ(reply.message, "Could not get the statistics of all sessions");
  EXPECT_THAT(reply.err_lines,
              ElementsAre(HasSubstr("session 1: GET_STATS sid 1 cid 0: "
                                    "Cannot allocate memory (-12)")));
  ASSERT_EQ(reply.stats.size(), 1u);
  EXPECT_EQ(reply.stats[0].sid, 2u);
}

}  // namespace
}  // namespace kiscsi::daemon
