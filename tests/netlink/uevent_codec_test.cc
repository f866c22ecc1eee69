// Golden-byte tests for the NETLINK_ISCSI codec. The expected messages are
// written out by hand from the offsets in the kernel interface facts
// (nlmsghdr, then struct iscsi_uevent: type @0, iferror @4, handle @8, u @16,
// r @40), little-endian as on x86-64, one row per 8 bytes.
#include "netlink/uevent_codec.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/conn_error.h"
#include "netlink/iscsi_kernel.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Bytes = std::vector<uint8_t>;

const RequestHeader kHeader = {0x1122334455667788, 7, 0x1234};

// The nlmsghdr and the first 16 uevent bytes every request in these tests
// shares: nlmsg_len, nlmsg_type = type, NLM_F_REQUEST, seq 7, pid 0x1234;
// uevent type, iferror 0, transport handle 0x1122334455667788.
Bytes RequestPrefix(uint8_t nlmsg_len, uint8_t type) {
  return {
      nlmsg_len, 0,    0,    0,    type, 0,    0x01, 0,     // len, type, flags
      0x07,      0,    0,    0,    0x34, 0x12, 0,    0,     // seq, pid
      type,      0,    0,    0,    0,    0,    0,    0,     // type, iferror
      0x88,      0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // transport_handle
  };
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kZeroR(16, 0);  // r @40..55, zero in requests

TEST(EncodeTest, CreateSession) {
  const Bytes expected = Concat(
      RequestPrefix(72, 11),
      {
          0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x20, 0x00,  // cmdsn 0, 128, 32
          0,    0,    0,    0,    0,    0,    0,    0,     // u @24
          0,    0,    0,    0,    0,    0,    0,    0,     // u @32
          0,    0,    0,    0,    0,    0,    0,    0,     // r @40
          0,    0,    0,    0,    0,    0,    0,    0,     // r @48
      });
  EXPECT_EQ(EncodeCreateSession(kHeader, 0, 128, 32), expected);
}

TEST(EncodeTest, CreateSessionInitialCmdsn) {
  const Bytes message = EncodeCreateSession(kHeader, 0xa1b2c3d4, 1, 2);
  EXPECT_THAT(Bytes(message.begin() + 32, message.begin() + 40),
              ElementsAre(0xd4, 0xc3, 0xb2, 0xa1, 0x01, 0x00, 0x02, 0x00));
}

TEST(EncodeTest, SessionRequests) {
  const Bytes u_sid_3 = {
      0x03, 0, 0, 0, 0, 0, 0, 0,  // sid 3
      0,    0, 0, 0, 0, 0, 0, 0,  //
      0,    0, 0, 0, 0, 0, 0, 0,  //
  };
  EXPECT_EQ(EncodeDestroySession(kHeader, 3),
            Concat(Concat(RequestPrefix(72, 12), u_sid_3), kZeroR));
  EXPECT_EQ(EncodeUnbindSession(kHeader, 3),
            Concat(Concat(RequestPrefix(72, 27), u_sid_3), kZeroR));
  EXPECT_EQ(EncodeDestroySessionAsync(kHeader, 3),
            Concat(Concat(RequestPrefix(72, 43), u_sid_3), kZeroR));
}

TEST(EncodeTest, ConnRequests) {
  const Bytes u_sid_cid = {
      0x05, 0, 0, 0, 0x02, 0, 0, 0,  // sid 5, cid 2
      0,    0, 0, 0, 0,    0, 0, 0,  //
      0,    0, 0, 0, 0,    0, 0, 0,  //
  };
  EXPECT_EQ(EncodeCreateConn(kHeader, 5, 2),
            Concat(Concat(RequestPrefix(72, 13), u_sid_cid), kZeroR));
  EXPECT_EQ(EncodeDestroyConn(kHeader, 5, 2),
            Concat(Concat(RequestPrefix(72, 14), u_sid_cid), kZeroR));
  EXPECT_EQ(EncodeStartConn(kHeader, 5, 2),
            Concat(Concat(RequestPrefix(72, 17), u_sid_cid), kZeroR));
  EXPECT_EQ(EncodeGetStats(kHeader, 5, 2),
            Concat(Concat(RequestPrefix(72, 20), u_sid_cid), kZeroR));
}

TEST(EncodeTest, BindConnCarriesTheSocketFd) {
  const Bytes expected =
      Concat(RequestPrefix(72, 15),
             {
                 0x03, 0, 0, 0, 0x00, 0, 0, 0,  // sid 3, cid 0
                 0x09, 0, 0, 0, 0,    0, 0, 0,  // transport_eph = fd 9
                 0x01, 0, 0, 0, 0,    0, 0, 0,  // is_leading 1, padding
                 0,    0, 0, 0, 0,    0, 0, 0,  // r
                 0,    0, 0, 0, 0,    0, 0, 0,
             });
  EXPECT_EQ(EncodeBindConn(kHeader, 3, 0, 9, true), expected);
  EXPECT_EQ(EncodeBindConn(kHeader, 3, 0, 9, false)[48], 0);
}

TEST(EncodeTest, StopConnRecover) {
  const Bytes expected =
      Concat(RequestPrefix(72, 18),
             {
                 0x02, 0, 0, 0, 0x01, 0, 0, 0,  // sid 2, cid 1
                 0,    0, 0, 0, 0,    0, 0, 0,  // conn_handle (unused)
                 0x03, 0, 0, 0, 0,    0, 0, 0,  // flag RECOVER
                 0,    0, 0, 0, 0,    0, 0, 0,  // r
                 0,    0, 0, 0, 0,    0, 0, 0,
             });
  EXPECT_EQ(EncodeStopConn(kHeader, 2, 1, StopConnFlag::kRecover), expected);
}

TEST(EncodeTest, SetParamTargetNameIsNulTerminatedAndPadded) {
  const std::string name = "iqn.2001-04.com.example:disk1";  // 29 characters
  // nlmsg_len 104: 72 + 30 (padded to 4 bytes).
  Bytes expected = Concat(
      RequestPrefix(104, 16),
      {
          0x01, 0, 0, 0, 0x00, 0, 0, 0,  // sid 1, cid 0
          0x0f, 0, 0, 0, 0x1e, 0, 0, 0,  // param 15 (TARGET_NAME), len 30
          0,    0, 0, 0, 0,    0, 0, 0,  //
          0,    0, 0, 0, 0,    0, 0, 0,  // r
          0,    0, 0, 0, 0,    0, 0, 0,
      });
  expected.insert(expected.end(), name.begin(), name.end());
  expected.insert(expected.end(), {0x00, 0x00, 0x00});  // NUL, 2 bytes pad
  EXPECT_EQ(EncodeSetParam(kHeader, 1, 0, IscsiParam::kTargetName, name),
            expected);
}

TEST(EncodeTest, SetParamEmptyValue) {
  const Bytes message =
      EncodeSetParam(kHeader, 1, 0, IscsiParam::kUsername, "");
  ASSERT_EQ(message.size(), 76u);
  EXPECT_EQ(message[0], 76);
  EXPECT_THAT(Bytes(message.begin() + 40, message.begin() + 48),
              ElementsAre(0x16, 0, 0, 0, 0x01, 0, 0, 0));  // param 22, len 1
  EXPECT_THAT(Bytes(message.begin() + 72, message.end()),
              ElementsAre(0, 0, 0, 0));
}

TEST(EncodeTest, SendPduLoginRequest) {
  const Bytes bhs = {
      0x43, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // Login, T, data 5
      0x00, 0x02, 0x3d, 0x00, 0x00, 0x01, 0x00, 0x00,  // ISID, TSIH 0
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // ITT 1, CID 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // CmdSN, ExpStatSN
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  const Bytes data = {'a', '=', 'b', 0x00, 'c'};
  // nlmsg_len 128: 72 + 48 + 8 (padded to 4 bytes).
  Bytes expected = Concat(
      RequestPrefix(128, 19),
      {
          0x04, 0, 0, 0, 0x00, 0, 0, 0,  // sid 4, cid 0
          0x30, 0, 0, 0, 0x08, 0, 0, 0,  // hdr_size 48, data_size 8 (padded)
          0,    0, 0, 0, 0,    0, 0, 0,  //
          0,    0, 0, 0, 0,    0, 0, 0,  // r
          0,    0, 0, 0, 0,    0, 0, 0,
      });
  expected = Concat(expected, bhs);
  expected = Concat(expected, {'a', '=', 'b', 0x00, 'c', 0x00, 0x00, 0x00});
  EXPECT_EQ(EncodeSendPdu(kHeader, 4, 0, bhs, data), expected);
}

TEST(EncodeTest, SendPduWithoutData) {
  const Bytes bhs(48, 0x11);
  const Bytes message = EncodeSendPdu(kHeader, 4, 0, bhs, {});
  ASSERT_EQ(message.size(), 120u);
  EXPECT_EQ(message[0], 120);
  EXPECT_THAT(Bytes(message.begin() + 40, message.begin() + 48),
              ElementsAre(0x30, 0, 0, 0, 0, 0, 0, 0));
}

TEST(EncodeTest, SetHostParamInitiatorName) {
  // nlmsg_len 80: 72 + 6 (padded to 4 bytes).
  Bytes expected = Concat(
      RequestPrefix(80, 26),
      {
          0x05, 0, 0, 0, 0x01, 0, 0, 0,  // host 5, param 1 (INITIATOR_NAME)
          0x06, 0, 0, 0, 0,    0, 0, 0,  // len 6
          0,    0, 0, 0, 0,    0, 0, 0,  //
          0,    0, 0, 0, 0,    0, 0, 0,  // r
          0,    0, 0, 0, 0,    0, 0, 0,
      });
  expected = Concat(expected, {'i', 'q', 'n', '.', 'x', 0x00, 0x00, 0x00});
  EXPECT_EQ(EncodeSetHostParam(kHeader, 5, HostParam::kInitiatorName, "iqn.x"),
            expected);
}

TEST(RequestIdTest, ReadsTypeAndSeq) {
  absl::StatusOr<RequestId> id = ReadRequestId(EncodeStartConn(kHeader, 1, 0));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->type, kUeventStartConn);
  EXPECT_EQ(id->seq, 7u);
  EXPECT_FALSE(ReadRequestId(Bytes(71, 0)).ok());
}

TEST(RequestIdTest, GetStatsNamesItsConnection) {
  absl::StatusOr<RequestId> id = ReadRequestId(EncodeGetStats(kHeader, 5, 2));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->type, kUeventGetStats);
  ASSERT_TRUE(id->conn.has_value());
  EXPECT_EQ(id->conn->sid, 5u);
  EXPECT_EQ(id->conn->cid, 2u);
  id = ReadRequestId(EncodeStartConn(kHeader, 5, 2));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_FALSE(id->conn.has_value());
}

// ---- Decoding what the kernel sends ----

// A kernel message: nlmsghdr (pid 0, flags 0) + uevent with the given type,
// handle 0x1122334455667788, the `r` bytes, then `payload`.
Bytes KernelMessage(uint16_t nlmsg_type, uint32_t seq, uint32_t uevent_type,
                    const Bytes& r, const Bytes& payload = {},
                    uint32_t iferror = 0) {
  auto le32 = [](Bytes& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back((v >> (8 * i)) & 0xff);
  };
  Bytes m;
  le32(m, static_cast<uint32_t>(72 + payload.size()));
  m.push_back(nlmsg_type & 0xff);
  m.push_back(nlmsg_type >> 8);
  m.insert(m.end(), {0, 0});
  le32(m, seq);
  le32(m, 0);
  le32(m, uevent_type);
  le32(m, iferror);
  m.insert(m.end(), {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11});
  m.insert(m.end(), 24, 0);  // u
  Bytes r16 = r;
  r16.resize(16, 0);
  m = Concat(m, r16);
  return Concat(m, payload);
}

DecodedMessage Decode(const Bytes& message) {
  absl::StatusOr<DecodedMessage> decoded = DecodeKernelMessage(message);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : DecodedMessage{};
}

KernelReply DecodeReply(const Bytes& message) {
  DecodedMessage decoded = Decode(message);
  EXPECT_TRUE(std::holds_alternative<KernelReply>(decoded.body));
  return std::holds_alternative<KernelReply>(decoded.body)
             ? std::get<KernelReply>(decoded.body)
             : KernelReply{};
}

template <typename T>
T DecodeEventAs(const Bytes& message) {
  DecodedMessage decoded = Decode(message);
  const KernelEvent* event = std::get_if<KernelEvent>(&decoded.body);
  EXPECT_TRUE(event != nullptr && std::holds_alternative<T>(*event));
  return event != nullptr && std::holds_alternative<T>(*event)
             ? std::get<T>(*event)
             : T{};
}

TEST(DecodeTest, CreateSessionReply) {
  // Written out in full: the reply to CREATE_SESSION, sid 3 and host 7.
  const Bytes message = {
      0x48, 0,    0,    0,    0x0b, 0,    0,    0,     // len 72, type 11
      0,    0,    0,    0,    0,    0,    0,    0,     // seq 0, pid 0
      0x0b, 0,    0,    0,    0,    0,    0,    0,     // type 11, iferror 0
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // handle
      0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x20, 0x00,  // u echoed
      0,    0,    0,    0,    0,    0,    0,    0,     //
      0,    0,    0,    0,    0,    0,    0,    0,     //
      0x03, 0,    0,    0,    0x07, 0,    0,    0,     // sid 3, host_no 7
      0,    0,    0,    0,    0,    0,    0,    0,
  };
  const DecodedMessage decoded = Decode(message);
  EXPECT_EQ(decoded.nlmsg_type, 11);
  EXPECT_EQ(decoded.transport_handle, 0x1122334455667788u);
  const KernelReply reply = DecodeReply(message);
  EXPECT_EQ(reply.request_type, kUeventCreateSession);
  EXPECT_FALSE(reply.if_error.has_value());
  EXPECT_EQ(reply.session.sid, 3u);
  EXPECT_EQ(reply.session.host_no, 7u);
}

TEST(DecodeTest, CreateConnReply) {
  const KernelReply reply =
      DecodeReply(KernelMessage(13, 9, 13, {0x03, 0, 0, 0, 0x00, 0, 0, 0}));
  EXPECT_EQ(reply.request_type, kUeventCreateConn);
  EXPECT_EQ(reply.conn_sid, 3u);
  EXPECT_EQ(reply.conn_cid, 0u);
  EXPECT_EQ(Decode(KernelMessage(13, 9, 13, {})).seq, 9u);
}

TEST(DecodeTest, NegativeRetcode) {
  const KernelReply reply =
      DecodeReply(KernelMessage(15, 0, 15, {0xea, 0xff, 0xff, 0xff}));  // -22
  EXPECT_EQ(reply.request_type, kUeventBindConn);
  EXPECT_FALSE(reply.if_error.has_value());
  EXPECT_EQ(reply.retcode, -22);
}

TEST(DecodeTest, IfError) {
  // BIND_CONN refused: uevent type IF_ERROR, iferror -107.
  const KernelReply reply =
      DecodeReply(KernelMessage(15, 0, 103, {}, {}, 0xffffff95));
  EXPECT_EQ(reply.request_type, kUeventBindConn);
  ASSERT_TRUE(reply.if_error.has_value());
  EXPECT_EQ(*reply.if_error, -107);
  const absl::Status status =
      KernelErrnoStatus("BIND_CONN sid 3 cid 0", *reply.if_error);
  EXPECT_EQ(status.message(),
            "BIND_CONN sid 3 cid 0: Transport endpoint is not connected "
            "(-107)");
  EXPECT_EQ(status.code(), absl::ErrnoToStatusCode(ENOTCONN));
}

TEST(KernelErrnoStatusTest, ZeroErrnoIsStillAnError) {
  const absl::Status status = KernelErrnoStatus("START_CONN sid 1 cid 0", 0);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("START_CONN sid 1 cid 0: "));
  EXPECT_EQ(KernelErrnoStatus("X", 22).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DecodeTest, NetlinkErrorMessage) {
  // clang-format off
  const Bytes message = {
      0x24, 0, 0, 0, 0x02, 0, 0, 0,           // len 36, NLMSG_ERROR
      0, 0, 0, 0, 0, 0, 0, 0,                 // seq 0, pid 0
      0xff, 0xff, 0xff, 0xff, 0x48, 0, 0, 0,  // error -1 (EPERM); request:
      0x0b, 0, 0x01, 0, 0x05, 0, 0, 0,        //   type 11, seq 5
      0x34, 0x12, 0, 0,                       //   pid 0x1234
  };
  // clang-format on
  const DecodedMessage decoded = Decode(message);
  EXPECT_EQ(decoded.seq, 5u);
  const KernelReply reply = DecodeReply(message);
  EXPECT_EQ(reply.request_type, kUeventCreateSession);
  EXPECT_EQ(reply.if_error, -1);
  Bytes short_error(message.begin(), message.end() - 1);
  short_error[0] = 35;
  EXPECT_FALSE(DecodeKernelMessage(short_error).ok());
}

TEST(DecodeTest, ReplyTypeMismatchIsRejected) {
  absl::StatusOr<DecodedMessage> decoded =
      DecodeKernelMessage(KernelMessage(13, 0, 15, {}));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("nlmsg_type 13"));
}

TEST(DecodeTest, GetStatsArrivesMulticastWithPayload) {
  const KernelReply reply =
      DecodeReply(KernelMessage(0, 0, 20, {}, {1, 2, 3, 4}));
  EXPECT_EQ(reply.request_type, kUeventGetStats);
  EXPECT_THAT(reply.payload, ElementsAre(1, 2, 3, 4));
}

// ---- GET_STATS answers ----

// A transport counter as the kernel lays it out: the name NUL-padded to 64
// bytes, then the value (one byte wide here).
Bytes CustomStat(const std::string& name, uint8_t value) {
  Bytes entry(name.begin(), name.end());
  entry.resize(64, 0);
  return Concat(entry, {value, 0, 0, 0, 0, 0, 0, 0});
}

// struct iscsi_stats with a different value in every counter (so a field
// read at the wrong offset shows) and iscsi_tcp's three transport counters.
Bytes StatsPayload() {
  const Bytes fixed = {
      0x78, 0x05, 0, 0, 0,    0, 0, 0,     // txdata_octets 1400
      0x88, 0x36, 0, 0, 0,    0, 0, 0x01,  // rxdata_octets
      0x01, 0,    0, 0, 0x13, 0, 0, 0,     // noptx 1, scsicmd 19
      0x03, 0,    0, 0, 0x04, 0, 0, 0,     // tmfcmd 3, login 4
      0x05, 0,    0, 0, 0x06, 0, 0, 0,     // text 5, dataout 6
      0x07, 0,    0, 0, 0x08, 0, 0, 0,     // logout 7, snack 8
      0x09, 0,    0, 0, 0x14, 0, 0, 0,     // noprx 9, scsirsp 20
      0x0b, 0,    0, 0, 0x0c, 0, 0, 0,     // tmfrsp 11, textrsp 12
      0x10, 0,    0, 0, 0x0e, 0, 0, 0,     // datain 16, logoutrsp
      0x0f, 0,    0, 0, 0x11, 0, 0, 0,     // r2t 15, async 17
      0x12, 0,    0, 0, 0x15, 0, 0, 0,     // rjt 18, digest_err 21
      0x16, 0,    0, 0, 0x03, 0, 0, 0,     // timeout_err, 3 custom
  };
  return Concat(Concat(Concat(fixed, CustomStat("tx_sendpage_failures", 7)),
                       CustomStat("rx_discontiguous_hdr", 8)),
                CustomStat("eh_abort_cnt", 9));
}

TEST(DecodeTest, GetStatsAnswerGoldenBytes) {
  // The multicast answer to GET_STATS sid 2 cid 0: nlmsg_type, seq and pid 0,
  // uevent type GET_STATS with the request's sid/cid in `u`, `r` zero.
  const Bytes head = {
      0x80, 0x01, 0,    0,    0,    0,    0,    0,     // len 384, type 0
      0,    0,    0,    0,    0,    0,    0,    0,     // seq 0, pid 0
      0x14, 0,    0,    0,    0,    0,    0,    0,     // type 20, iferror 0
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // handle
      0x02, 0,    0,    0,    0,    0,    0,    0,     // u: sid 2, cid 0
      0,    0,    0,    0,    0,    0,    0,    0,     //
      0,    0,    0,    0,    0,    0,    0,    0,     //
      0,    0,    0,    0,    0,    0,    0,    0,     // r
      0,    0,    0,    0,    0,    0,    0,    0,
  };
  const Bytes message = Concat(head, StatsPayload());
  ASSERT_EQ(message.size(), 72u + 96 + 3 * 72);
  const KernelReply reply = DecodeReply(message);
  EXPECT_EQ(reply.request_type, kUeventGetStats);
  EXPECT_FALSE(reply.if_error.has_value());
  EXPECT_EQ(reply.request_sid, 2u);
  EXPECT_EQ(reply.request_cid, 0u);

  absl::StatusOr<ConnStats> stats = DecodeStats(reply.payload);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->txdata_octets, 1400u);
  EXPECT_EQ(stats->rxdata_octets, 0x0100000000003688u);
  EXPECT_EQ(stats->scsicmd_pdus, 19u);
  EXPECT_EQ(stats->scsirsp_pdus, 20u);
  EXPECT_EQ(stats->datain_pdus, 16u);
  EXPECT_EQ(stats->digest_err, 21u);
  EXPECT_EQ(stats->timeout_err, 22u);
  EXPECT_THAT(stats->custom, ElementsAre(StatCounter{"tx_sendpage_failures", 7},
                                         StatCounter{"rx_discontiguous_hdr", 8},
                                         StatCounter{"eh_abort_cnt", 9}));
  // Every MIB counter by name, in the kernel's order.
  std::vector<std::string> names;
  std::vector<uint64_t> values;
  for (const StatCounter& counter : MibCounters(*stats)) {
    names.push_back(counter.name);
    values.push_back(counter.value);
  }
  EXPECT_THAT(names, ElementsAre("txdata_octets", "rxdata_octets", "noptx_pdus",
                                 "scsicmd_pdus", "tmfcmd_pdus", "login_pdus",
                                 "text_pdus", "dataout_pdus", "logout_pdus",
                                 "snack_pdus", "noprx_pdus", "scsirsp_pdus",
                                 "tmfrsp_pdus", "textrsp_pdus", "datain_pdus",
                                 "logoutrsp_pdus", "r2t_pdus", "async_pdus",
                                 "rjt_pdus", "digest_err", "timeout_err"));
  EXPECT_THAT(values,
              ElementsAre(1400, 0x0100000000003688u, 1, 19, 3, 4, 5, 6, 7, 8, 9,
                          20, 11, 12, 16, 14, 15, 17, 18, 21, 22));
}

TEST(DecodeTest, GetStatsRefusalEchoesTheConnection) {
  // No connection 9:0: the kernel answers the request itself, unicast, as
  // IF_ERROR with -EEXIST and the request's uevent (u: sid 9, cid 0).
  Bytes message = KernelMessage(20, 0, 103, {}, {}, 0xffffffef);
  message[32] = 9;
  const KernelReply reply = DecodeReply(message);
  EXPECT_EQ(reply.request_type, kUeventGetStats);
  EXPECT_EQ(reply.if_error, -17);
  EXPECT_EQ(reply.request_sid, 9u);
  EXPECT_EQ(reply.request_cid, 0u);
}

TEST(DecodeStatsTest, TruncatedStatsAreErrors) {
  const Bytes whole = StatsPayload();
  for (size_t length = 0; length < whole.size(); ++length) {
    absl::StatusOr<ConnStats> stats =
        DecodeStats(Bytes(whole.begin(), whole.begin() + length));
    EXPECT_FALSE(stats.ok()) << length;
  }
  EXPECT_THAT(DecodeStats(Bytes(95, 0)).status().message(),
              HasSubstr("95 bytes after the uevent, less than the 96-byte"));
  EXPECT_THAT(
      DecodeStats(Bytes(whole.begin(), whole.end() - 1)).status().message(),
      HasSubstr("announces 3 transport counters but has room for 2"));
}

TEST(DecodeStatsTest, NoTransportCountersAndPaddingAfterThem) {
  Bytes payload(96, 0);
  payload[20] = 5;  // scsicmd_pdus
  absl::StatusOr<ConnStats> stats = DecodeStats(payload);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->scsicmd_pdus, 5u);
  EXPECT_TRUE(stats->custom.empty());
  payload.resize(100, 0xee);  // trailing bytes are not counters
  EXPECT_TRUE(DecodeStats(payload).ok());
}

TEST(DecodeStatsTest, HugeCustomLengthIsAnError) {
  Bytes payload = StatsPayload();
  payload[92] = payload[93] = payload[94] = payload[95] = 0xff;
  EXPECT_FALSE(DecodeStats(payload).ok());
}

TEST(DecodeStatsTest, NameFillingItsFieldIsTakenWhole) {
  Bytes payload = StatsPayload();
  payload.resize(96 + 72);
  payload[92] = 1;
  std::fill(payload.begin() + 96, payload.begin() + 96 + 64, 'n');
  absl::StatusOr<ConnStats> stats = DecodeStats(payload);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->custom.size(), 1u);
  EXPECT_EQ(stats->custom[0].name, std::string(64, 'n'));
  EXPECT_EQ(stats->custom[0].value, 7u);
}

const Bytes kLoginResponseBhs = {
    0x23, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // Login Response, 5 bytes
    0x00, 0x02, 0x3d, 0x00, 0x00, 0x01, 0x00, 0x09,  // ISID, TSIH 9
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // ITT 1
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // MaxCmdSN, status
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

// RECV_PDU for sid 3 cid 0: the login response, its 5 data bytes and the 3
// bytes of netlink padding the kernel's message carries.
Bytes RecvPduMessage() {
  Bytes payload = Concat(kLoginResponseBhs, {'x', '=', 'y', 0, 'z', 0, 0, 0});
  return KernelMessage(0, 0, 101,
                       {0x03, 0, 0, 0, 0x00, 0, 0, 0,   // sid 3, cid 0
                        0xaa, 0xbb, 0, 0, 0, 0, 0, 0},  // recv_handle
                       payload);
}

TEST(DecodeTest, RecvPduEvent) {
  const RecvPduEvent event = DecodeEventAs<RecvPduEvent>(RecvPduMessage());
  EXPECT_EQ(event.sid, 3u);
  EXPECT_EQ(event.cid, 0u);
  EXPECT_EQ(event.pdu, Concat(kLoginResponseBhs, {'x', '=', 'y', 0, 'z'}));
}

TEST(DecodeTest, RecvPduShorterThanABhs) {
  absl::StatusOr<DecodedMessage> decoded =
      DecodeKernelMessage(KernelMessage(0, 0, 101, {3}, Bytes(47, 0)));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("48-byte BHS"));
}

TEST(DecodeTest, RecvPduDataCutShort) {
  absl::StatusOr<DecodedMessage> decoded = DecodeKernelMessage(
      KernelMessage(0, 0, 101, {3}, Concat(kLoginResponseBhs, {'x'})));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(),
              HasSubstr("declares 5 data bytes but 1 follow"));
}

TEST(DecodeTest, ConnErrorEvent) {
  const ConnErrorEvent event = DecodeEventAs<ConnErrorEvent>(KernelMessage(
      0, 0, 102, {0x03, 0, 0, 0, 0x00, 0, 0, 0, 0xfc, 0x03, 0, 0}));  // 1020
  EXPECT_EQ(event.sid, 3u);
  EXPECT_EQ(event.cid, 0u);
  EXPECT_EQ(event.error, kConnErrTcpConnClose);
}

TEST(DecodeTest, UnbindSessionEvent) {
  const UnbindSessionEvent event = DecodeEventAs<UnbindSessionEvent>(
      KernelMessage(0, 0, 105, {0x03, 0, 0, 0, 0x07, 0, 0, 0}));
  EXPECT_EQ(event.sid, 3u);
  EXPECT_EQ(event.host_no, 7u);
}

TEST(DecodeTest, DestroySessionEventHasHostFirst) {
  const DestroySessionEvent event = DecodeEventAs<DestroySessionEvent>(
      KernelMessage(0, 0, 104, {0x07, 0, 0, 0, 0x03, 0, 0, 0}));
  EXPECT_EQ(event.host_no, 7u);
  EXPECT_EQ(event.sid, 3u);
}

TEST(DecodeTest, CreateSessionEvent) {
  const CreateSessionEvent event = DecodeEventAs<CreateSessionEvent>(
      KernelMessage(0, 0, 106, {0x03, 0, 0, 0, 0x07, 0, 0, 0}));
  EXPECT_EQ(event.sid, 3u);
  EXPECT_EQ(event.host_no, 7u);
}

TEST(DecodeTest, ConnLoginStateEvent) {
  const ConnLoginStateEvent event = DecodeEventAs<ConnLoginStateEvent>(
      KernelMessage(0, 0, 109, {0x03, 0, 0, 0, 0x01, 0, 0, 0, 0x02, 0, 0, 0}));
  EXPECT_EQ(event.sid, 3u);
  EXPECT_EQ(event.cid, 1u);
  EXPECT_EQ(event.state, 2u);
}

TEST(DecodeTest, EventsTheDaemonDoesNotHandleAreIgnored) {
  for (uint32_t type : {107u, 108u, 110u, 111u, 150u, 0u}) {
    const DecodedMessage decoded = Decode(KernelMessage(0, 0, type, {}));
    ASSERT_TRUE(std::holds_alternative<IgnoredMessage>(decoded.body)) << type;
    EXPECT_EQ(std::get<IgnoredMessage>(decoded.body).type, type);
  }
  const Bytes noop = {0x10, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(std::holds_alternative<IgnoredMessage>(Decode(noop).body));
}

// Every prefix of a valid message, with nlmsg_len both left alone (it then
// runs past the input) and cut to the prefix: nothing decodes until the whole
// BHS and data segment are there, and nothing reads past the input (ASan).
TEST(DecodeTest, TruncatedAtEveryLength) {
  const Bytes whole = RecvPduMessage();  // 72 + 48 + 5 data + 3 padding
  for (size_t length = 0; length < whole.size(); ++length) {
    const Bytes prefix(whole.begin(), whole.begin() + length);
    EXPECT_FALSE(DecodeKernelMessage(prefix).ok()) << length;
    Bytes relabelled = prefix;
    if (length >= 4) relabelled[0] = static_cast<uint8_t>(length);
    EXPECT_EQ(DecodeKernelMessage(relabelled).ok(), length >= 72 + 48 + 5)
        << length;
  }
  const Bytes conn_error = KernelMessage(0, 0, 102, {3});
  for (size_t length = 0; length < conn_error.size(); ++length) {
    Bytes prefix(conn_error.begin(), conn_error.begin() + length);
    if (length >= 4) prefix[0] = static_cast<uint8_t>(length);
    EXPECT_FALSE(DecodeKernelMessage(prefix).ok()) << length;
  }
}

TEST(DecodeTest, ShortMessageNamesTheProblem) {
  Bytes message = KernelMessage(0, 0, 102, {});
  message.resize(40);
  message[0] = 40;
  absl::StatusOr<DecodedMessage> decoded = DecodeKernelMessage(message);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(),
              HasSubstr("shorter than nlmsghdr + iscsi_uevent"));
}

// ---- Splitting datagrams ----

TEST(SplitTest, SeveralMessagesInOneDatagram) {
  const Bytes first = KernelMessage(0, 0, 102, {3});
  Bytes second = RecvPduMessage();
  second[0] = 125;  // an unaligned nlmsg_len: the 3 padding bytes follow
  const Bytes third = KernelMessage(0, 0, 105, {3, 0, 0, 0, 7});
  const Bytes datagram = Concat(Concat(first, second), third);

  absl::StatusOr<std::vector<absl::Span<const uint8_t>>> messages =
      SplitNetlinkMessages(datagram);
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ((*messages)[0].size(), 72u);
  EXPECT_EQ((*messages)[1].size(), 125u);
  EXPECT_EQ((*messages)[2].size(), 72u);
  EXPECT_EQ(DecodeEventAs<RecvPduEvent>(
                Bytes((*messages)[1].begin(), (*messages)[1].end()))
                .pdu.size(),
            53u);
  EXPECT_EQ(DecodeEventAs<UnbindSessionEvent>(
                Bytes((*messages)[2].begin(), (*messages)[2].end()))
                .host_no,
            7u);
}

TEST(SplitTest, EmptyDatagramHasNoMessages) {
  absl::StatusOr<std::vector<absl::Span<const uint8_t>>> messages =
      SplitNetlinkMessages({});
  ASSERT_TRUE(messages.ok());
  EXPECT_TRUE(messages->empty());
}

TEST(SplitTest, RejectsBadLengths) {
  const Bytes good = KernelMessage(0, 0, 102, {3});
  // Trailing bytes too short for a header.
  Bytes trailing = Concat(good, Bytes(10, 0));
  absl::StatusOr<std::vector<absl::Span<const uint8_t>>> split =
      SplitNetlinkMessages(trailing);
  ASSERT_FALSE(split.ok());
  EXPECT_THAT(split.status().message(), HasSubstr("offset 72: 10 bytes left"));
  // nlmsg_len 0 (would never advance) and nlmsg_len past the end.
  Bytes zero = good;
  zero[0] = 0;
  EXPECT_FALSE(SplitNetlinkMessages(zero).ok());
  Bytes past = good;
  past[0] = 73;
  split = SplitNetlinkMessages(past);
  ASSERT_FALSE(split.ok());
  EXPECT_THAT(split.status().message(), HasSubstr("nlmsg_len 73"));
}

// ---- Names ----

TEST(ConnErrorNameTest, NamesTheCodesOperatorsMeet) {
  EXPECT_EQ(ConnErrorName(1011), "conn failed (1011)");
  EXPECT_EQ(ConnErrorName(1020), "TCP connection closed (1020)");
  EXPECT_EQ(ConnErrorName(1022), "NOP-Out timed out (1022)");
  EXPECT_EQ(ConnErrorName(1001), "DataSN error (1001)");
  EXPECT_EQ(ConnErrorName(1099), "error 1099");
  EXPECT_EQ(ConnErrorName(1000), "error 1000");
  EXPECT_EQ(ConnErrorName(0), "error 0");
}

TEST(ConnErrorHintTest, ExplainsConnFailed) {
  const std::string hint = ConnErrorHint(kConnErrConnFailed);
  EXPECT_THAT(hint, HasSubstr("NOP"));
  EXPECT_THAT(hint, HasSubstr("MTU"));
  EXPECT_THAT(hint, HasSubstr("control PDU"));
  EXPECT_EQ(ConnErrorHint(1005), "");
}

TEST(UeventTypeNameTest, Names) {
  EXPECT_EQ(UeventTypeName(15), "BIND_CONN");
  EXPECT_EQ(UeventTypeName(101), "RECV_PDU");
  EXPECT_EQ(UeventTypeName(77), "type 77");
}

}  // namespace
}  // namespace kiscsi
