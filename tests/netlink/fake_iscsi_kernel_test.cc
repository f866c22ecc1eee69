// The fake kernel's rules, since session tests trust them: the lifecycle the
// kernel expects, -ENOTCONN until STOP_CONN(RECOVER) after a connection error,
// events and the eventfd, and the call log.
#include "netlink/testing/fake_iscsi_kernel.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/unique_fd.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeIscsiKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    socket_.Reset(fds[0]);
    peer_.Reset(fds[1]);
  }

  // CREATE_SESSION, CREATE_CONN 0, BIND_CONN: returns the sid.
  uint32_t BoundSession() {
    absl::StatusOr<CreatedSession> session = kernel_.CreateSession(0, 128, 32);
    EXPECT_TRUE(session.ok()) << session.status();
    EXPECT_TRUE(kernel_.CreateConn(session->sid, 0).ok());
    EXPECT_TRUE(kernel_.BindConn(session->sid, 0, socket_.get(), true).ok());
    return session->sid;
  }

  bool EventFdReadable() {
    pollfd fd = {kernel_.event_fd(), POLLIN, 0};
    return poll(&fd, 1, 0) == 1;
  }

  FakeIscsiKernel kernel_;
  UniqueFd socket_;
  UniqueFd peer_;
};

TEST_F(FakeIscsiKernelTest, SessionsGetIncreasingSidsAndHosts) {
  absl::StatusOr<CreatedSession> first = kernel_.CreateSession(0, 128, 32);
  absl::StatusOr<CreatedSession> second = kernel_.CreateSession(0, 128, 32);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->sid, 1u);
  EXPECT_EQ(second->sid, 2u);
  EXPECT_EQ(first->host_no, FakeIscsiKernel::kFirstHostNo);
  EXPECT_EQ(second->host_no, FakeIscsiKernel::kFirstHostNo + 1);
  absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(std::get<CreateSessionEvent>((*events)[1]).sid, 2u);
}

TEST_F(FakeIscsiKernelTest, FullLoginAndLogoutIsRecordedInOrder) {
  const uint32_t sid = BoundSession();
  ASSERT_TRUE(kernel_
                  .SetParam(sid, 0, IscsiParam::kTargetName,
                            "iqn.2003-01.org.example:disk")
                  .ok());
  const std::vector<uint8_t> bhs(48, 0x43);
  ASSERT_TRUE(kernel_.SendPdu(sid, 0, bhs, {'a', '=', 'b', 0}).ok());
  ASSERT_TRUE(kernel_.StartConn(sid, 0).ok());
  EXPECT_EQ(kernel_.ConnState(sid, 0), "up");
  ASSERT_TRUE(kernel_.UnbindSession(sid).ok());
  ASSERT_TRUE(kernel_.StopConn(sid, 0, StopConnFlag::kTerm).ok());
  ASSERT_TRUE(kernel_.DestroyConn(sid, 0).ok());
  ASSERT_TRUE(kernel_.DestroySession(sid).ok());
  EXPECT_FALSE(kernel_.SessionExists(sid));

  EXPECT_THAT(kernel_.calls(),
              ElementsAre("CREATE_SESSION", "CREATE_CONN 1 0", "BIND_CONN 1 0",
                          "SET_PARAM 1 0 15=iqn.2003-01.org.example:disk",
                          "SEND_PDU 1 0", "START_CONN 1 0", "UNBIND_SESSION 1",
                          "STOP_CONN 1 0 TERM", "DESTROY_CONN 1 0",
                          "DESTROY_SESSION 1"));
  ASSERT_EQ(kernel_.sent_pdus().size(), 1u);
  EXPECT_EQ(kernel_.sent_pdus()[0].size(), 52u);
  EXPECT_EQ(kernel_.BoundFd(sid, 0), -1);  // the conn is gone
}

TEST_F(FakeIscsiKernelTest, ParamsNeedABoundConnExceptRecoveryTimeout) {
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(0, 128, 32);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(kernel_.CreateConn(session->sid, 0).ok());
  const absl::Status refused =
      kernel_.SetParam(session->sid, 0, IscsiParam::kTargetName, "iqn.x");
  EXPECT_EQ(refused.message(),
            "SET_PARAM sid 1 cid 0 param 15: Transport endpoint is not "
            "connected (-107)");
  EXPECT_TRUE(
      kernel_.SetParam(session->sid, 0, IscsiParam::kSessRecoveryTmo, "120")
          .ok());
  EXPECT_EQ(kernel_.GetParam(session->sid, 0, IscsiParam::kSessRecoveryTmo),
            "120");
  EXPECT_EQ(kernel_.GetParam(session->sid, 0, IscsiParam::kTargetName),
            std::nullopt);

  ASSERT_TRUE(kernel_.BindConn(session->sid, 0, socket_.get(), true).ok());
  EXPECT_TRUE(
      kernel_.SetParam(session->sid, 0, IscsiParam::kTargetName, "iqn.x").ok());
  EXPECT_EQ(kernel_.GetParam(session->sid, 0, IscsiParam::kTargetName),
            "iqn.x");
}

TEST_F(FakeIscsiKernelTest, ConnErrorRefusesEverythingUntilStopRecover) {
  const uint32_t sid = BoundSession();
  ASSERT_TRUE(kernel_.StartConn(sid, 0).ok());
  ASSERT_TRUE(kernel_.ReadEvents().ok());
  ASSERT_TRUE(kernel_.InjectConnError(sid, 0, kConnErrTcpConnClose));
  EXPECT_EQ(kernel_.ConnState(sid, 0), "failed");

  absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  const ConnErrorEvent error = std::get<ConnErrorEvent>((*events)[0]);
  EXPECT_EQ(error.sid, sid);
  EXPECT_EQ(error.error, kConnErrTcpConnClose);

  const absl::Status bind = kernel_.BindConn(sid, 0, socket_.get(), true);
  EXPECT_EQ(bind.message(),
            "BIND_CONN sid 1 cid 0: Transport endpoint is not connected "
            "(-107)");
  EXPECT_EQ(bind.code(), absl::ErrnoToStatusCode(ENOTCONN));
  EXPECT_THAT(kernel_.StartConn(sid, 0).message(), HasSubstr("(-107)"));
  EXPECT_THAT(
      kernel_.SendPdu(sid, 0, std::vector<uint8_t>(48, 0), {}).message(),
      HasSubstr("(-107)"));
  EXPECT_THAT(kernel_.SetParam(sid, 0, IscsiParam::kExpStatsn, "5").message(),
              HasSubstr("(-107)"));
  // STOP_CONN(TERM) does not clear the failure; RECOVER does.
  ASSERT_TRUE(kernel_.StopConn(sid, 0, StopConnFlag::kTerm).ok());
  EXPECT_THAT(kernel_.BindConn(sid, 0, socket_.get(), true).message(),
              HasSubstr("(-107)"));
  ASSERT_TRUE(kernel_.StopConn(sid, 0, StopConnFlag::kRecover).ok());
  EXPECT_EQ(kernel_.ConnState(sid, 0), "down");

  // Recovery: a new socket on the same sid/cid.
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd again(fds[0]), again_peer(fds[1]);
  ASSERT_TRUE(kernel_.BindConn(sid, 0, again.get(), true).ok());
  EXPECT_EQ(kernel_.BoundFd(sid, 0), again.get());
  EXPECT_TRUE(kernel_.SetParam(sid, 0, IscsiParam::kExpStatsn, "5").ok());
  EXPECT_TRUE(kernel_.StartConn(sid, 0).ok());
  EXPECT_EQ(kernel_.ConnState(sid, 0), "up");
}

TEST_F(FakeIscsiKernelTest, BindNeedsAnOpenSocketAndAnUnboundConn) {
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(0, 128, 32);
  ASSERT_TRUE(session.ok());
  EXPECT_THAT(kernel_.BindConn(session->sid, 0, socket_.get(), true).message(),
              HasSubstr("(-22)"));  // no conn yet
  ASSERT_TRUE(kernel_.CreateConn(session->sid, 0).ok());
  EXPECT_THAT(kernel_.CreateConn(session->sid, 0).status().message(),
              HasSubstr("(-17)"));
  EXPECT_THAT(kernel_.BindConn(session->sid, 0, 1000, true).message(),
              HasSubstr("Bad file descriptor (-9)"));
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  EXPECT_THAT(kernel_.BindConn(session->sid, 0, read_end.get(), true).message(),
              HasSubstr("(-88)"));  // ENOTSOCK
  ASSERT_TRUE(kernel_.BindConn(session->sid, 0, socket_.get(), true).ok());
  EXPECT_THAT(kernel_.BindConn(session->sid, 0, socket_.get(), true).message(),
              HasSubstr("(-16)"));  // EBUSY
  EXPECT_THAT(kernel_.StartConn(session->sid + 1, 0).message(),
              HasSubstr("START_CONN sid 2 cid 0: Invalid argument (-22)"));
}

TEST_F(FakeIscsiKernelTest, StartAndSendNeedABoundConn) {
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(0, 128, 32);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(kernel_.CreateConn(session->sid, 0).ok());
  EXPECT_THAT(kernel_.StartConn(session->sid, 0).message(),
              HasSubstr("(-107)"));
  EXPECT_THAT(kernel_.SendPdu(session->sid, 0, std::vector<uint8_t>(48, 0), {})
                  .message(),
              HasSubstr("(-107)"));
  EXPECT_TRUE(kernel_.sent_pdus().empty());
}

TEST_F(FakeIscsiKernelTest, ResponderAnswersArriveAsRecvPduEvents) {
  const uint32_t sid = BoundSession();
  ASSERT_TRUE(kernel_.ReadEvents().ok());
  EXPECT_FALSE(EventFdReadable());

  std::vector<uint8_t> seen;
  kernel_.SetPduResponder(
      [&seen](uint32_t, uint32_t, std::vector<uint8_t> pdu) {
        seen = pdu;
        std::vector<uint8_t> response(48, 0);
        response[0] = 0x23;  // Login Response
        return std::vector<std::vector<uint8_t>>{response};
      });
  const std::vector<uint8_t> bhs(48, 0x43);
  ASSERT_TRUE(kernel_.SendPdu(sid, 0, bhs, {'x', 0}).ok());
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_TRUE(EventFdReadable());

  absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  const RecvPduEvent& event = std::get<RecvPduEvent>((*events)[0]);
  EXPECT_EQ(event.sid, sid);
  EXPECT_EQ(event.cid, 0u);
  EXPECT_EQ(event.pdu[0], 0x23);
  EXPECT_FALSE(EventFdReadable());
  EXPECT_TRUE(kernel_.ReadEvents()->empty());
}

TEST_F(FakeIscsiKernelTest, SendPduRejectsAShortHeader) {
  const uint32_t sid = BoundSession();
  const absl::Status status =
      kernel_.SendPdu(sid, 0, std::vector<uint8_t>(47, 0), {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FakeIscsiKernelTest, DestroySessionNeedsConnsDestroyed) {
  const uint32_t sid = BoundSession();
  ASSERT_TRUE(kernel_.ReadEvents().ok());
  EXPECT_THAT(kernel_.DestroySession(sid).message(),
              HasSubstr("DESTROY_SESSION sid 1: Device or resource busy"));
  ASSERT_TRUE(kernel_.StopConn(sid, 0, StopConnFlag::kTerm).ok());
  ASSERT_TRUE(kernel_.DestroyConn(sid, 0).ok());
  ASSERT_TRUE(kernel_.DestroySession(sid).ok());
  absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
  ASSERT_TRUE(events.ok());
  // Not unbound before: the kernel unbinds on the way out.
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(std::get<UnbindSessionEvent>((*events)[0]).host_no,
            FakeIscsiKernel::kFirstHostNo);
  const DestroySessionEvent destroyed =
      std::get<DestroySessionEvent>((*events)[1]);
  EXPECT_EQ(destroyed.sid, sid);
  EXPECT_EQ(destroyed.host_no, FakeIscsiKernel::kFirstHostNo);
  EXPECT_THAT(kernel_.DestroySession(sid).message(), HasSubstr("(-22)"));
}

TEST_F(FakeIscsiKernelTest, UnbindEmitsOneEvent) {
  const uint32_t sid = BoundSession();
  ASSERT_TRUE(kernel_.ReadEvents().ok());
  ASSERT_TRUE(kernel_.UnbindSession(sid).ok());
  ASSERT_TRUE(kernel_.UnbindSession(sid).ok());
  absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(std::get<UnbindSessionEvent>((*events)[0]).sid, sid);
}

TEST_F(FakeIscsiKernelTest, HostParamsNeedAnExistingHost) {
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(0, 128, 32);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(kernel_
                  .SetHostParam(session->host_no, HostParam::kInitiatorName,
                                "iqn.1993-08.org.debian:01:abc")
                  .ok());
  EXPECT_EQ(kernel_.GetHostParam(session->host_no, HostParam::kInitiatorName),
            "iqn.1993-08.org.debian:01:abc");
  EXPECT_THAT(
      kernel_.SetHostParam(99, HostParam::kInitiatorName, "iqn.x").message(),
      HasSubstr("SET_HOST_PARAM host 99 param 1: No such device (-19)"));
  EXPECT_EQ(kernel_.calls().back(), "SET_HOST_PARAM 99 1=iqn.x");
}

TEST_F(FakeIscsiKernelTest, FailNextFailsOnlyTheNextCall) {
  kernel_.FailNext("CREATE_SESSION", -ENOMEM);
  absl::StatusOr<CreatedSession> failed = kernel_.CreateSession(0, 128, 32);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(),
            "CREATE_SESSION: Cannot allocate memory (-12)");
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(0, 128, 32);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->sid, 1u);
}

TEST_F(FakeIscsiKernelTest, GetStatsAnswersWhatWasSetOrIscsiTcpZeros) {
  const uint32_t sid = BoundSession();
  absl::StatusOr<ConnStats> stats = kernel_.GetStats(sid, 0);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->scsicmd_pdus, 0u);
  EXPECT_THAT(stats->custom, ElementsAre(StatCounter{"tx_sendpage_failures", 0},
                                         StatCounter{"rx_discontiguous_hdr", 0},
                                         StatCounter{"eh_abort_cnt", 0}));
  ConnStats set;
  set.txdata_octets = 4096;
  set.scsicmd_pdus = 8;
  ASSERT_TRUE(kernel_.SetStats(sid, 0, set));
  EXPECT_EQ(kernel_.GetStats(sid, 0).value_or(ConnStats{}), set);
  EXPECT_FALSE(kernel_.SetStats(sid, 5, set));
  EXPECT_EQ(kernel_.calls().back(), "GET_STATS 1 0");
}

TEST_F(FakeIscsiKernelTest, GetStatsOfAnUnknownConnIsEexist) {
  absl::StatusOr<ConnStats> stats = kernel_.GetStats(9, 0);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().message(),
            "GET_STATS sid 9 cid 0: File exists (-17)");
}

TEST_F(FakeIscsiKernelTest, QueuedEventsWakeTheEventFd) {
  kernel_.QueueEvent(EventsLostEvent{});
  EXPECT_TRUE(EventFdReadable());
  absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_TRUE(std::holds_alternative<EventsLostEvent>((*events)[0]));
  EXPECT_FALSE(kernel_.InjectConnError(9, 0, kConnErrConnFailed));
}

}  // namespace
}  // namespace kiscsi
