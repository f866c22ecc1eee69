// NETLINK_ISCSI messages as bytes: pure encode and decode functions, no I/O.
//
// Every message is a 16-byte nlmsghdr, a 56-byte struct iscsi_uevent (layout
// below, pinned with static_assert) and an optional payload (a SET_PARAM value,
// a PDU). Values are in host byte order (little-endian on x86-64).
//
//   - Encode*(): one function per request the daemon sends; each returns the
//     whole message (nlmsghdr included) ready for sendto(). The message is
//     padded with zeros to a multiple of 4 bytes and nlmsg_len covers it.
//   - SplitNetlinkMessages(): one received datagram -> its messages.
//   - DecodeKernelMessage(): one message -> a reply to a request, a kernel
//     event, or something the daemon ignores. Nothing here reads past its
//     input; malformed input is an InvalidArgument naming what was wrong.
//
// Replies come back with nlmsg_type = the request type and the request's
// uevent echoed with the `r` union filled in; a refused request comes back as
// uevent type IF_ERROR (103) with a negative errno in `iferror`. Events are
// multicast to group 1 with nlmsg_type 0 and are told apart by the uevent's
// type.
//
// GET_STATS is the exception: on success the kernel sends no reply but
// multicasts to group 1 (so to every listener, whoever asked) a message with
// nlmsg_type 0, seq 0, uevent type GET_STATS, the request's sid/cid in `u`
// and struct iscsi_stats after the uevent (DecodeStats()). A refused GET_STATS
// (no such connection) is answered like any other request, as IF_ERROR.
#ifndef KISCSI_NETLINK_UEVENT_CODEC_H_
#define KISCSI_NETLINK_UEVENT_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "netlink/iscsi_kernel.h"

namespace kiscsi {

inline constexpr int kNetlinkIscsi = 8;          // the netlink protocol number
inline constexpr uint32_t kIscsiEventGroup = 1;  // ISCSI_NL_GRP_ISCSID

// uevent types: requests (ISCSI_UEVENT_*) ...
inline constexpr uint32_t kUeventCreateSession = 11;
inline constexpr uint32_t kUeventDestroySession = 12;
inline constexpr uint32_t kUeventCreateConn = 13;
inline constexpr uint32_t kUeventDestroyConn = 14;
inline constexpr uint32_t kUeventBindConn = 15;
inline constexpr uint32_t kUeventSetParam = 16;
inline constexpr uint32_t kUeventStartConn = 17;
inline constexpr uint32_t kUeventStopConn = 18;
inline constexpr uint32_t kUeventSendPdu = 19;
inline constexpr uint32_t kUeventGetStats = 20;
inline constexpr uint32_t kUeventSetHostParam = 26;
inline constexpr uint32_t kUeventUnbindSession = 27;
inline constexpr uint32_t kUeventDestroySessionAsync = 43;
// ... and kernel events (ISCSI_KEVENT_*).
inline constexpr uint32_t kKeventRecvPdu = 101;
inline constexpr uint32_t kKeventConnError = 102;
inline constexpr uint32_t kKeventIfError = 103;
inline constexpr uint32_t kKeventDestroySession = 104;
inline constexpr uint32_t kKeventUnbindSession = 105;
inline constexpr uint32_t kKeventCreateSession = 106;
inline constexpr uint32_t kKeventPathReq = 107;
inline constexpr uint32_t kKeventIfDown = 108;
inline constexpr uint32_t kKeventConnLoginState = 109;
inline constexpr uint32_t kKeventHostEvent = 110;
inline constexpr uint32_t kKeventPingComp = 111;

// "CREATE_SESSION", "RECV_PDU", ..., "type 77" for one this file does not know.
std::string UeventTypeName(uint32_t type);

// ---- struct iscsi_uevent ----

// Request unions (`u`, offset 16).
struct UeventCreateSession {
  uint32_t initial_cmdsn;
  uint16_t cmds_max;
  uint16_t queue_depth;
};
struct UeventSession {  // DESTROY_SESSION, UNBIND_SESSION
  uint32_t sid;
};
struct UeventConn {  // CREATE_CONN, DESTROY_CONN, START_CONN, GET_STATS
  uint32_t sid;
  uint32_t cid;
};
struct UeventBindConn {
  uint32_t sid;
  uint32_t cid;
  uint64_t transport_eph;  // the TCP socket fd for iscsi_tcp
  uint32_t is_leading;
};
struct UeventSetParam {
  uint32_t sid;
  uint32_t cid;
  uint32_t param;
  uint32_t len;  // strlen(value) + 1; the value follows the uevent
};
struct UeventStopConn {
  uint32_t sid;
  uint32_t cid;
  uint64_t conn_handle;  // unused by the kernel
  uint32_t flag;
};
struct UeventSendPdu {
  uint32_t sid;
  uint32_t cid;
  uint32_t hdr_size;
  uint32_t data_size;
};
struct UeventSetHostParam {
  uint32_t host_no;
  uint32_t param;
  uint32_t len;
};

// Reply and event unions (`r`, offset 40).
struct UeventSidHost {  // CREATE_SESSION reply, UNBIND/CREATE_SESSION events
  uint32_t sid;
  uint32_t host_no;
};
struct UeventHostSid {  // DESTROY_SESSION event: the order is reversed
  uint32_t host_no;
  uint32_t sid;
};
struct UeventSidCid {  // CREATE_CONN reply
  uint32_t sid;
  uint32_t cid;
};
struct UeventConnError {
  uint32_t sid;
  uint32_t cid;
  uint32_t error;
};
struct UeventRecvPdu {
  uint32_t sid;
  uint32_t cid;
  uint64_t recv_handle;
};
struct UeventConnLoginState {
  uint32_t sid;
  uint32_t cid;
  uint32_t state;
};

struct IscsiUevent {
  uint32_t type;
  uint32_t iferror;  // a negative errno when type is IF_ERROR
  uint64_t transport_handle;
  union Request {
    UeventCreateSession create_session;
    UeventSession session;
    UeventConn conn;
    UeventBindConn bind_conn;
    UeventSetParam set_param;
    UeventStopConn stop_conn;
    UeventSendPdu send_pdu;
    UeventSetHostParam set_host_param;
  } u;
  union Result {
    int32_t retcode;
    UeventSidHost sid_host;
    UeventHostSid host_sid;
    UeventSidCid sid_cid;
    UeventConnError conn_error;
    UeventRecvPdu recv_pdu;
    UeventConnLoginState conn_login_state;
  } r;
};

inline constexpr size_t kNlmsgHeaderSize = 16;
inline constexpr size_t kUeventSize = 56;
inline constexpr size_t kUeventMessageSize = kNlmsgHeaderSize + kUeventSize;

static_assert(sizeof(IscsiUevent) == kUeventSize);
static_assert(alignof(IscsiUevent) == 8);
static_assert(offsetof(IscsiUevent, type) == 0);
static_assert(offsetof(IscsiUevent, iferror) == 4);
static_assert(offsetof(IscsiUevent, transport_handle) == 8);
static_assert(offsetof(IscsiUevent, u) == 16);
static_assert(sizeof(IscsiUevent::Request) == 24);
static_assert(offsetof(IscsiUevent, r) == 40);
static_assert(sizeof(IscsiUevent::Result) == 16);
static_assert(offsetof(IscsiUevent, u.create_session.initial_cmdsn) == 16);
static_assert(offsetof(IscsiUevent, u.create_session.cmds_max) == 20);
static_assert(offsetof(IscsiUevent, u.create_session.queue_depth) == 22);
static_assert(offsetof(IscsiUevent, u.session.sid) == 16);
static_assert(offsetof(IscsiUevent, u.conn.sid) == 16);
static_assert(offsetof(IscsiUevent, u.conn.cid) == 20);
static_assert(offsetof(IscsiUevent, u.bind_conn.sid) == 16);
static_assert(offsetof(IscsiUevent, u.bind_conn.cid) == 20);
static_assert(offsetof(IscsiUevent, u.bind_conn.transport_eph) == 24);
static_assert(offsetof(IscsiUevent, u.bind_conn.is_leading) == 32);
static_assert(offsetof(IscsiUevent, u.set_param.sid) == 16);
static_assert(offsetof(IscsiUevent, u.set_param.cid) == 20);
static_assert(offsetof(IscsiUevent, u.set_param.param) == 24);
static_assert(offsetof(IscsiUevent, u.set_param.len) == 28);
static_assert(offsetof(IscsiUevent, u.stop_conn.sid) == 16);
static_assert(offsetof(IscsiUevent, u.stop_conn.cid) == 20);
static_assert(offsetof(IscsiUevent, u.stop_conn.conn_handle) == 24);
static_assert(offsetof(IscsiUevent, u.stop_conn.flag) == 32);
static_assert(offsetof(IscsiUevent, u.send_pdu.sid) == 16);
static_assert(offsetof(IscsiUevent, u.send_pdu.cid) == 20);
static_assert(offsetof(IscsiUevent, u.send_pdu.hdr_size) == 24);
static_assert(offsetof(IscsiUevent, u.send_pdu.data_size) == 28);
static_assert(offsetof(IscsiUevent, u.set_host_param.host_no) == 16);
static_assert(offsetof(IscsiUevent, u.set_host_param.param) == 20);
static_assert(offsetof(IscsiUevent, u.set_host_param.len) == 24);
static_assert(offsetof(IscsiUevent, r.retcode) == 40);
static_assert(offsetof(IscsiUevent, r.sid_host.sid) == 40);
static_assert(offsetof(IscsiUevent, r.sid_host.host_no) == 44);
static_assert(offsetof(IscsiUevent, r.host_sid.host_no) == 40);
static_assert(offsetof(IscsiUevent, r.host_sid.sid) == 44);
static_assert(offsetof(IscsiUevent, r.sid_cid.sid) == 40);
static_assert(offsetof(IscsiUevent, r.sid_cid.cid) == 44);
static_assert(offsetof(IscsiUevent, r.conn_error.sid) == 40);
static_assert(offsetof(IscsiUevent, r.conn_error.cid) == 44);
static_assert(offsetof(IscsiUevent, r.conn_error.error) == 48);
static_assert(offsetof(IscsiUevent, r.recv_pdu.sid) == 40);
static_assert(offsetof(IscsiUevent, r.recv_pdu.cid) == 44);
static_assert(offsetof(IscsiUevent, r.recv_pdu.recv_handle) == 48);
static_assert(offsetof(IscsiUevent, r.conn_login_state.sid) == 40);
static_assert(offsetof(IscsiUevent, r.conn_login_state.cid) == 44);
static_assert(offsetof(IscsiUevent, r.conn_login_state.state) == 48);

// ---- struct iscsi_stats: what follows the uevent of a GET_STATS answer ----

struct IscsiStatsWire {
  uint64_t txdata_octets;
  uint64_t rxdata_octets;
  uint32_t noptx_pdus;
  uint32_t scsicmd_pdus;
  uint32_t tmfcmd_pdus;
  uint32_t login_pdus;
  uint32_t text_pdus;
  uint32_t dataout_pdus;
  uint32_t logout_pdus;
  uint32_t snack_pdus;
  uint32_t noprx_pdus;
  uint32_t scsirsp_pdus;
  uint32_t tmfrsp_pdus;
  uint32_t textrsp_pdus;
  uint32_t datain_pdus;
  uint32_t logoutrsp_pdus;
  uint32_t r2t_pdus;
  uint32_t async_pdus;
  uint32_t rjt_pdus;
  uint32_t digest_err;
  uint32_t timeout_err;
  uint32_t custom_length;  // entries of IscsiStatsCustomWire that follow
};
// One transport counter: a NUL-terminated name (unterminated if it fills the
// 64 bytes) and its value.
inline constexpr size_t kStatsDescSize = 64;
struct IscsiStatsCustomWire {
  char desc[kStatsDescSize];
  uint64_t value;
};

// The custom entries are 8-aligned in the kernel's struct; they start right
// after custom_length, with no padding between.
inline constexpr size_t kStatsSize = 96;
inline constexpr size_t kStatsCustomSize = 72;
static_assert(sizeof(IscsiStatsWire) == kStatsSize);
static_assert(alignof(IscsiStatsWire) == 8);
static_assert(offsetof(IscsiStatsWire, rxdata_octets) == 8);
static_assert(offsetof(IscsiStatsWire, noptx_pdus) == 16);
static_assert(offsetof(IscsiStatsWire, snack_pdus) == 44);
static_assert(offsetof(IscsiStatsWire, noprx_pdus) == 48);
static_assert(offsetof(IscsiStatsWire, rjt_pdus) == 80);
static_assert(offsetof(IscsiStatsWire, digest_err) == 84);
static_assert(offsetof(IscsiStatsWire, timeout_err) == 88);
static_assert(offsetof(IscsiStatsWire, custom_length) == 92);
static_assert(sizeof(IscsiStatsCustomWire) == kStatsCustomSize);
static_assert(offsetof(IscsiStatsCustomWire, value) == 64);

// The bytes after the uevent of a GET_STATS answer (KernelReply::payload) ->
// the counters. Fails if they are shorter than struct iscsi_stats and the
// custom_length entries it announces; bytes after those (netlink padding) are
// ignored.
absl::StatusOr<ConnStats> DecodeStats(absl::Span<const uint8_t> payload);

// ---- Requests ----

// The nlmsghdr and uevent fields every request carries.
struct RequestHeader {
  uint64_t transport_handle = 0;
  uint32_t seq = 0;
  uint32_t pid = 0;  // the sender's netlink port id
};

std::vector<uint8_t> EncodeCreateSession(const RequestHeader& header,
                                         uint32_t initial_cmdsn,
                                         uint16_t cmds_max,
                                         uint16_t queue_depth);
std::vector<uint8_t> EncodeDestroySession(const RequestHeader& header,
                                          uint32_t sid);
std::vector<uint8_t> EncodeDestroySessionAsync(const RequestHeader& header,
                                               uint32_t sid);
std::vector<uint8_t> EncodeUnbindSession(const RequestHeader& header,
                                         uint32_t sid);
std::vector<uint8_t> EncodeCreateConn(const RequestHeader& header, uint32_t sid,
                                      uint32_t cid);
std::vector<uint8_t> EncodeDestroyConn(const RequestHeader& header,
                                       uint32_t sid, uint32_t cid);
std::vector<uint8_t> EncodeBindConn(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid, uint64_t transport_eph,
                                    bool is_leading);
// `value` must not contain NUL (the kernel reads it as a C string).
std::vector<uint8_t> EncodeSetParam(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid, IscsiParam param,
                                    absl::string_view value);
std::vector<uint8_t> EncodeStartConn(const RequestHeader& header, uint32_t sid,
                                     uint32_t cid);
std::vector<uint8_t> EncodeStopConn(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid, StopConnFlag flag);
// hdr_size = bhs.size(); the data is zero-padded to a multiple of 4 bytes and
// data_size counts the padding (the BHS's DataSegmentLength keeps the true
// length, so the target skips the pad as it does on the wire).
std::vector<uint8_t> EncodeSendPdu(const RequestHeader& header, uint32_t sid,
                                   uint32_t cid, absl::Span<const uint8_t> bhs,
                                   absl::Span<const uint8_t> data);
std::vector<uint8_t> EncodeGetStats(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid);
std::vector<uint8_t> EncodeSetHostParam(const RequestHeader& header,
                                        uint32_t host_no, HostParam param,
                                        absl::string_view value);

// ---- What the kernel sends ----

// A datagram -> its netlink messages, each exactly nlmsg_len bytes long.
// Fails if a header is cut short, nlmsg_len is below 16 or runs past the
// datagram.
absl::StatusOr<std::vector<absl::Span<const uint8_t>>> SplitNetlinkMessages(
    absl::Span<const uint8_t> datagram);

// The answer to a request.
struct KernelReply {
  uint32_t request_type = 0;  // kUevent*: the request this answers
  // Negative errno when the kernel refused the request (IF_ERROR, or a netlink
  // error message); the `r` fields below are then meaningless.
  std::optional<int32_t> if_error;
  // The `r` union read every way a reply uses it.
  int32_t retcode = 0;     // @40: BIND/START/STOP_CONN, SET_PARAM, ...
  CreatedSession session;  // @40 sid, @44 host_no: CREATE_SESSION
  uint32_t conn_sid = 0;   // @40: CREATE_CONN
  uint32_t conn_cid = 0;   // @44: CREATE_CONN (0xffffffff = failed)
  // @16, @20: the request's sid and cid as the kernel echoes them in `u`;
  // what a GET_STATS answer is about.
  uint32_t request_sid = 0;
  uint32_t request_cid = 0;
  std::vector<uint8_t> payload;  // bytes after the uevent (GET_STATS)
};

// A message that is neither a reply nor an event the daemon handles (PATH_REQ,
// HOST_EVENT, NLMSG_NOOP, ...). Callers log and drop it.
struct IgnoredMessage {
  uint32_t type = 0;  // the uevent type, or the nlmsg_type if no uevent
};

struct DecodedMessage {
  uint16_t nlmsg_type = 0;
  uint32_t seq = 0;
  uint64_t transport_handle = 0;  // 0 for netlink control messages
  std::variant<KernelReply, KernelEvent, IgnoredMessage> body;
};

// Decodes one netlink message (one element of SplitNetlinkMessages()).
absl::StatusOr<DecodedMessage> DecodeKernelMessage(
    absl::Span<const uint8_t> message);

// The request type and seq of an encoded request (for matching its reply).
struct RequestId {
  uint32_t type = 0;
  uint32_t seq = 0;
  // GET_STATS: the connection asked about. Its answer is multicast to every
  // listener, so answers to other processes' requests arrive too and must
  // not be taken for this one.
  std::optional<UeventConn> conn = std::nullopt;
};
absl::StatusOr<RequestId> ReadRequestId(absl::Span<const uint8_t> request);

// A failed request as a Status: "BIND_CONN sid 3 cid 0: Transport endpoint is
// not connected (-107)", with the absl code that errno maps to.
absl::Status KernelErrnoStatus(absl::string_view request,
                               int32_t negative_errno);

}  // namespace kiscsi

#endif  // KISCSI_NETLINK_UEVENT_CODEC_H_
