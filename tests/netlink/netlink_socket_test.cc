// KernelInbox (replies vs. events, seq matching, nothing lost) and, on this
// machine, opening the socket without an iSCSI-capable kernel.
#include "netlink/netlink_socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/uevent_codec.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

// A kernel message with `r` words (little-endian) and an optional payload.
Bytes KernelMessage(uint16_t nlmsg_type, uint32_t seq, uint32_t uevent_type,
                    std::vector<uint32_t> r_words, uint32_t iferror = 0) {
  Bytes m(72, 0);
  auto put32 = [&m](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) m[at + i] = (v >> (8 * i)) & 0xff;
  };
  put32(0, 72);
  m[4] = nlmsg_type & 0xff;
  m[5] = nlmsg_type >> 8;
  put32(8, seq);
  put32(16, uevent_type);
  put32(20, iferror);
  for (size_t i = 0; i < r_words.size(); ++i) put32(56 + 4 * i, r_words[i]);
  return m;
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(KernelInboxTest, ReplyMatchesTypeAndSeqAndEventsWait) {
  KernelInbox inbox;
  // A CONN_ERROR event and the CREATE_SESSION reply in one datagram.
  inbox.AddDatagram(Concat(KernelMessage(0, 0, kKeventConnError, {1, 0, 1020}),
                           KernelMessage(11, 4, 11, {3, 7})));
  EXPECT_FALSE(inbox.TakeReply({kUeventCreateConn, 4}).has_value());

  inbox.AddDatagram(KernelMessage(11, 4, 11, {3, 7}));
  std::optional<KernelReply> reply = inbox.TakeReply({kUeventCreateSession, 4});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->session.sid, 3u);
  EXPECT_EQ(reply->session.host_no, 7u);

  const std::vector<KernelEvent> events = inbox.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<ConnErrorEvent>(events[0]));
  EXPECT_EQ(std::get<ConnErrorEvent>(events[0]).error, 1020u);
  EXPECT_TRUE(inbox.TakeEvents().empty());
}

TEST(KernelInboxTest, KernelReplyWithSeqZeroMatches) {
  KernelInbox inbox;
  inbox.AddDatagram(KernelMessage(15, 0, 103, {}, static_cast<uint32_t>(-107)));
  std::optional<KernelReply> reply = inbox.TakeReply({kUeventBindConn, 12});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->if_error, -107);
}

TEST(KernelInboxTest, StaleRepliesAreDropped) {
  KernelInbox inbox;
  inbox.AddDatagram(KernelMessage(17, 5, 17, {}));  // START_CONN seq 5
  inbox.AddDatagram(KernelMessage(17, 6, 17, {}));  // START_CONN seq 6
  EXPECT_FALSE(inbox.TakeReply({kUeventStartConn, 7}).has_value());
  inbox.AddDatagram(KernelMessage(17, 7, 17, {}));
  EXPECT_TRUE(inbox.TakeReply({kUeventStartConn, 7}).has_value());
  EXPECT_FALSE(inbox.TakeReply({kUeventStartConn, 7}).has_value());
}

TEST(KernelInboxTest, EventsKeepTheirOrder) {
  KernelInbox inbox;
  inbox.AddDatagram(KernelMessage(0, 0, kKeventCreateSession, {1, 2}));
  inbox.AddEventsLost();
  inbox.AddDatagram(KernelMessage(0, 0, kKeventDestroySession, {2, 1}));
  const std::vector<KernelEvent> events = inbox.TakeEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<CreateSessionEvent>(events[0]));
  EXPECT_TRUE(std::holds_alternative<EventsLostEvent>(events[1]));
  ASSERT_TRUE(std::holds_alternative<DestroySessionEvent>(events[2]));
  EXPECT_EQ(std::get<DestroySessionEvent>(events[2]).sid, 1u);
  EXPECT_EQ(std::get<DestroySessionEvent>(events[2]).host_no, 2u);
}

TEST(KernelInboxTest, DroppingConnErrorsKeepsEverythingElse) {
  KernelInbox inbox;
  inbox.AddDatagram(KernelMessage(0, 0, kKeventConnError, {1, 0, 1020}));
  inbox.AddDatagram(KernelMessage(0, 0, kKeventConnError, {2, 0, 1011}));
  inbox.AddDatagram(KernelMessage(0, 0, kKeventCreateSession, {1, 2}));
  inbox.AddDatagram(KernelMessage(0, 0, kKeventConnError, {1, 0, 1020}));
  inbox.DropConnErrors(1, 0);
  const std::vector<KernelEvent> events = inbox.TakeEvents();
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<ConnErrorEvent>(events[0]));
  EXPECT_EQ(std::get<ConnErrorEvent>(events[0]).sid, 2u);
  EXPECT_TRUE(std::holds_alternative<CreateSessionEvent>(events[1]));
}

TEST(KernelInboxTest, MalformedInputBecomesEventsLost) {
  KernelInbox inbox;
  Bytes bad = KernelMessage(0, 0, kKeventConnError, {});
  bad[0] = 200;  // nlmsg_len past the datagram
  inbox.AddDatagram(bad);
  Bytes short_pdu = KernelMessage(0, 0, kKeventRecvPdu, {1, 0});  // no BHS
  inbox.AddDatagram(Concat(short_pdu, KernelMessage(0, 0, 105, {1, 2})));
  const std::vector<KernelEvent> events = inbox.TakeEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<EventsLostEvent>(events[0]));
  EXPECT_TRUE(std::holds_alternative<EventsLostEvent>(events[1]));
  // The good message after a bad one in the same datagram still counts.
  EXPECT_TRUE(std::holds_alternative<UnbindSessionEvent>(events[2]));
}

// A GET_STATS answer as the kernel multicasts it: nlmsg_type 0, seq 0, the
// connection asked about in `u`, the counters after the uevent.
Bytes StatsAnswer(uint32_t sid, uint32_t cid, uint8_t scsicmd_pdus) {
  Bytes m = KernelMessage(0, 0, kUeventGetStats, {});
  m[32] = static_cast<uint8_t>(sid);
  m[36] = static_cast<uint8_t>(cid);
  Bytes stats(96, 0);
  stats[20] = scsicmd_pdus;
  m.insert(m.end(), stats.begin(), stats.end());
  m[0] = static_cast<uint8_t>(m.size());
  return m;
}

TEST(KernelInboxTest, StatsAnswerMatchesItsConnectionOnly) {
  KernelInbox inbox;
  const RequestId id{kUeventGetStats, 9, UeventConn{2, 0}};
  // Another process asked about session 1 (and connection 2:1).
  inbox.AddDatagram(StatsAnswer(1, 0, 11));
  inbox.AddDatagram(StatsAnswer(2, 1, 12));
  EXPECT_FALSE(inbox.TakeReply(id).has_value());
  inbox.AddDatagram(StatsAnswer(1, 0, 11));
  inbox.AddDatagram(StatsAnswer(2, 0, 13));
  std::optional<KernelReply> reply = inbox.TakeReply(id);
  ASSERT_TRUE(reply.has_value());
  absl::StatusOr<ConnStats> stats = DecodeStats(reply->payload);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->scsicmd_pdus, 13u);
  EXPECT_TRUE(inbox.TakeEvents().empty());
}

TEST(KernelInboxTest, StatsRefusalMatches) {
  KernelInbox inbox;
  // The unicast IF_ERROR answer to GET_STATS for a connection that does not
  // exist.
  inbox.AddDatagram(KernelMessage(20, 0, 103, {}, static_cast<uint32_t>(-17)));
  std::optional<KernelReply> reply =
      inbox.TakeReply({kUeventGetStats, 3, UeventConn{9, 0}});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->if_error, -17);
}

TEST(KernelInboxTest, DroppedRepliesAreGone) {
  KernelInbox inbox;
  inbox.AddDatagram(StatsAnswer(2, 0, 13));
  inbox.AddDatagram(KernelMessage(0, 0, kKeventCreateSession, {1, 2}));
  inbox.DropReplies();
  EXPECT_FALSE(inbox.TakeReply({kUeventGetStats, 1, UeventConn{2, 0}}));
  EXPECT_EQ(inbox.TakeEvents().size(), 1u);
}

TEST(KernelInboxTest, UnclaimedRepliesAreBounded) {
  KernelInbox inbox;
  for (uint32_t seq = 1; seq <= 100; ++seq) {
    inbox.AddDatagram(KernelMessage(0, 0, kUeventGetStats, {}));
  }
  inbox.AddDatagram(KernelMessage(12, 101, 12, {}));
  EXPECT_TRUE(inbox.TakeReply({kUeventDestroySession, 101}).has_value());
}

// This machine's kernel has no scsi_transport_iscsi: opening must say so and
// carry iscsiadm's exit code 12.
TEST(NetlinkSocketTest, OpenWithoutIscsiKernelSupport) {
  const int probe = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, kNetlinkIscsi);
  const int probe_errno = errno;
  if (probe >= 0) {
    close(probe);
    GTEST_SKIP() << "this kernel has NETLINK_ISCSI; covered by the VM tests";
  }
  ASSERT_EQ(probe_errno, EPROTONOSUPPORT);
  absl::StatusOr<std::unique_ptr<NetlinkSocket>> socket =
      NetlinkSocket::Open(NetlinkSocketOptions());
  ASSERT_FALSE(socket.ok());
  EXPECT_EQ(ExitCodeOf(socket.status()), ExitCode::kTransportNotFound);
  EXPECT_THAT(socket.status().message(),
              HasSubstr("the kernel has no iSCSI transport (load "
                        "scsi_transport_iscsi / iscsi_tcp)"));
}

}  // namespace
}  // namespace kiscsi
