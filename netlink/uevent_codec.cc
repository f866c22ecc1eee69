#include "netlink/uevent_codec.h"

#include <linux/netlink.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kiscsi {
namespace {

static_assert(sizeof(nlmsghdr) == kNlmsgHeaderSize);

// The header of a netlink error message: the error, then the request's header.
constexpr size_t kNlmsgErrorSize = 4 + kNlmsgHeaderSize;
// The basic header segment a RECV_PDU event starts with.
constexpr size_t kBhsSize = 48;

size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

IscsiUevent NewUevent(const RequestHeader& header, uint32_t type) {
  IscsiUevent ev;
  std::memset(&ev, 0, sizeof(ev));
  ev.type = type;
  ev.transport_handle = header.transport_handle;
  return ev;
}

// nlmsghdr + uevent + payload pieces, zero-padded to a multiple of 4 bytes.
std::vector<uint8_t> Finish(
    const RequestHeader& header, const IscsiUevent& ev,
    std::initializer_list<absl::Span<const uint8_t>> payload = {}) {
  size_t length = kUeventMessageSize;
  for (absl::Span<const uint8_t> piece : payload) length += piece.size();
  std::vector<uint8_t> message(Align4(length), 0);

  nlmsghdr nlh;
  std::memset(&nlh, 0, sizeof(nlh));
  nlh.nlmsg_len = static_cast<uint32_t>(message.size());
  nlh.nlmsg_type = static_cast<uint16_t>(ev.type);
  nlh.nlmsg_flags = NLM_F_REQUEST;
  nlh.nlmsg_seq = header.seq;
  nlh.nlmsg_pid = header.pid;
  std::memcpy(message.data(), &nlh, sizeof(nlh));
  std::memcpy(message.data() + kNlmsgHeaderSize, &ev, sizeof(ev));
  size_t at = kUeventMessageSize;
  for (absl::Span<const uint8_t> piece : payload) {
    if (!piece.empty())
      std::memcpy(message.data() + at, piece.data(), piece.size());
    at += piece.size();
  }
  return message;
}

absl::Span<const uint8_t> Bytes(absl::string_view text) {
  return absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

constexpr uint8_t kNul[1] = {0};
constexpr uint8_t kZeros[3] = {0, 0, 0};

KernelEvent DecodeEvent(const IscsiUevent& ev) {
  switch (ev.type) {
    case kKeventConnError:
      return ConnErrorEvent{ev.r.conn_error.sid, ev.r.conn_error.cid,
                            ev.r.conn_error.error};
    case kKeventDestroySession:
      return DestroySessionEvent{ev.r.host_sid.sid, ev.r.host_sid.host_no};
    case kKeventUnbindSession:
      return UnbindSessionEvent{ev.r.sid_host.sid, ev.r.sid_host.host_no};
    case kKeventCreateSession:
      return CreateSessionEvent{ev.r.sid_host.sid, ev.r.sid_host.host_no};
    default:  // kKeventConnLoginState
      return ConnLoginStateEvent{ev.r.conn_login_state.sid,
                                 ev.r.conn_login_state.cid,
                                 ev.r.conn_login_state.state};
  }
}

absl::StatusOr<KernelEvent> DecodeRecvPdu(const IscsiUevent& ev,
                                          absl::Span<const uint8_t> payload) {
  if (payload.size() < kBhsSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("RECV_PDU carries ", payload.size(),
                     " bytes after the uevent, less than a 48-byte BHS"));
  }
  const size_t data_length = (size_t{payload[5]} << 16) |
                             (size_t{payload[6]} << 8) | size_t{payload[7]};
  if (payload.size() - kBhsSize < data_length) {
    return absl::InvalidArgumentError(
        absl::StrCat("RECV_PDU BHS declares ", data_length, " data bytes but ",
                     payload.size() - kBhsSize, " follow it"));
  }
  // Whatever follows the data segment is netlink alignment padding.
  const absl::Span<const uint8_t> pdu = payload.first(kBhsSize + data_length);
  return RecvPduEvent{ev.r.recv_pdu.sid, ev.r.recv_pdu.cid,
                      std::vector<uint8_t>(pdu.begin(), pdu.end())};
}

}  // namespace

std::string UeventTypeName(uint32_t type) {
  switch (type) {
    case kUeventCreateSession:
      return "CREATE_SESSION";
    case kUeventDestroySession:
      return "DESTROY_SESSION";
    case kUeventCreateConn:
      return "CREATE_CONN";
    case kUeventDestroyConn:
      return "DESTROY_CONN";
    case kUeventBindConn:
      return "BIND_CONN";
    case kUeventSetParam:
      return "SET_PARAM";
    case kUeventStartConn:
      return "START_CONN";
    case kUeventStopConn:
      return "STOP_CONN";
    case kUeventSendPdu:
      return "SEND_PDU";
    case kUeventGetStats:
      return "GET_STATS";
    case kUeventSetHostParam:
      return "SET_HOST_PARAM";
    case kUeventUnbindSession:
      return "UNBIND_SESSION";
    case kKeventRecvPdu:
      return "RECV_PDU";
    case kKeventConnError:
      return "CONN_ERROR";
    case kKeventIfError:
      return "IF_ERROR";
    case kKeventDestroySession:
      return "DESTROY_SESSION event";
    case kKeventUnbindSession:
      return "UNBIND_SESSION event";
    case kKeventCreateSession:
      return "CREATE_SESSION event";
    case kKeventPathReq:
      return "PATH_REQ";
    case kKeventIfDown:
      return "IF_DOWN";
    case kKeventConnLoginState:
      return "CONN_LOGIN_STATE";
    case kKeventHostEvent:
      return "HOST_EVENT";
    case kKeventPingComp:
      return "PING_COMP";
    default:
      return absl::StrCat("type ", type);
  }
}

std::vector<uint8_t> EncodeCreateSession(const RequestHeader& header,
                                         uint32_t initial_cmdsn,
                                         uint16_t cmds_max,
                                         uint16_t queue_depth) {
  IscsiUevent ev = NewUevent(header, kUeventCreateSession);
  ev.u.create_session.initial_cmdsn = initial_cmdsn;
  ev.u.create_session.cmds_max = cmds_max;
  ev.u.create_session.queue_depth = queue_depth;
  return Finish(header, ev);
}

std::vector<uint8_t> EncodeDestroySession(const RequestHeader& header,
                                          uint32_t sid) {
  IscsiUevent ev = NewUevent(header, kUeventDestroySession);
  ev.u.session.sid = sid;
  return Finish(header, ev);
}

std::vector<uint8_t> EncodeDestroySessionAsync(const RequestHeader& header,
                                               uint32_t sid) {
  IscsiUevent ev = NewUevent(header, kUeventDestroySessionAsync);
  ev.u.session.sid = sid;
  return Finish(header, ev);
}

std::vector<uint8_t> EncodeUnbindSession(const RequestHeader& header,
                                         uint32_t sid) {
  IscsiUevent ev = NewUevent(header, kUeventUnbindSession);
  ev.u.session.sid = sid;
  return Finish(header, ev);
}

namespace {

std::vector<uint8_t> EncodeConnRequest(const RequestHeader& header,
                                       uint32_t type, uint32_t sid,
                                       uint32_t cid) {
  IscsiUevent ev = NewUevent(header, type);
  ev.u.conn.sid = sid;
  ev.u.conn.cid = cid;
  return Finish(header, ev);
}

}  // namespace

std::vector<uint8_t> EncodeCreateConn(const RequestHeader& header, uint32_t sid,
                                      uint32_t cid) {
  return EncodeConnRequest(header, kUeventCreateConn, sid, cid);
}

std::vector<uint8_t> EncodeDestroyConn(const RequestHeader& header,
                                       uint32_t sid, uint32_t cid) {
  return EncodeConnRequest(header, kUeventDestroyConn, sid, cid);
}

std::vector<uint8_t> EncodeStartConn(const RequestHeader& header, uint32_t sid,
                                     uint32_t cid) {
  return EncodeConnRequest(header, kUeventStartConn, sid, cid);
}

std::vector<uint8_t> EncodeGetStats(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid) {
  return EncodeConnRequest(header, kUeventGetStats, sid, cid);
}

std::vector<uint8_t> EncodeBindConn(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid, uint64_t transport_eph,
                                    bool is_leading) {
  IscsiUevent ev = NewUevent(header, kUeventBindConn);
  ev.u.bind_conn.sid = sid;
  ev.u.bind_conn.cid = cid;
  ev.u.bind_conn.transport_eph = transport_eph;
  ev.u.bind_conn.is_leading = is_leading ? 1 : 0;
  return Finish(header, ev);
}

std::vector<uint8_t> EncodeSetParam(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid, IscsiParam param,
                                    absl::string_view value) {
  IscsiUevent ev = NewUevent(header, kUeventSetParam);
  ev.u.set_param.sid = sid;
  ev.u.set_param.cid = cid;
  ev.u.set_param.param = static_cast<uint32_t>(param);
  ev.u.set_param.len = static_cast<uint32_t>(value.size() + 1);
  return Finish(header, ev, {Bytes(value), kNul});
}

std::vector<uint8_t> EncodeStopConn(const RequestHeader& header, uint32_t sid,
                                    uint32_t cid, StopConnFlag flag) {
  IscsiUevent ev = NewUevent(header, kUeventStopConn);
  ev.u.stop_conn.sid = sid;
  ev.u.stop_conn.cid = cid;
  ev.u.stop_conn.flag = static_cast<uint32_t>(flag);
  return Finish(header, ev);
}

std::vector<uint8_t> EncodeSendPdu(const RequestHeader& header, uint32_t sid,
                                   uint32_t cid, absl::Span<const uint8_t> bhs,
                                   absl::Span<const uint8_t> data) {
  const size_t padded = Align4(data.size());
  IscsiUevent ev = NewUevent(header, kUeventSendPdu);
  ev.u.send_pdu.sid = sid;
  ev.u.send_pdu.cid = cid;
  ev.u.send_pdu.hdr_size = static_cast<uint32_t>(bhs.size());
  ev.u.send_pdu.data_size = static_cast<uint32_t>(padded);
  return Finish(
      header, ev,
      {bhs, data,
       absl::Span<const uint8_t>(kZeros).first(padded - data.size())});
}

std::vector<uint8_t> EncodeSetHostParam(const RequestHeader& header,
                                        uint32_t host_no, HostParam param,
                                        absl::string_view value) {
  IscsiUevent ev = NewUevent(header, kUeventSetHostParam);
  ev.u.set_host_param.host_no = host_no;
  ev.u.set_host_param.param = static_cast<uint32_t>(param);
  ev.u.set_host_param.len = static_cast<uint32_t>(value.size() + 1);
  return Finish(header, ev, {Bytes(value), kNul});
}

absl::StatusOr<std::vector<absl::Span<const uint8_t>>> SplitNetlinkMessages(
    absl::Span<const uint8_t> datagram) {
  std::vector<absl::Span<const uint8_t>> messages;
  size_t at = 0;
  while (at < datagram.size()) {
    const size_t left = datagram.size() - at;
    if (left < kNlmsgHeaderSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("netlink message at offset ", at, ": ", left,
                       " bytes left, less than a 16-byte nlmsghdr"));
    }
    uint32_t length;
    std::memcpy(&length, datagram.data() + at, sizeof(length));
    if (length < kNlmsgHeaderSize || length > left) {
      return absl::InvalidArgumentError(absl::StrCat(
          "netlink message at offset ", at, ": nlmsg_len ", length,
          " is outside 16..", left, " (the bytes left in the datagram)"));
    }
    messages.push_back(datagram.subspan(at, length));
    at += std::min(Align4(length), left);
  }
  return messages;
}

absl::StatusOr<DecodedMessage> DecodeKernelMessage(
    absl::Span<const uint8_t> message) {
  if (message.size() < kNlmsgHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("netlink message of ", message.size(),
                     " bytes is shorter than a 16-byte nlmsghdr"));
  }
  nlmsghdr nlh;
  std::memcpy(&nlh, message.data(), sizeof(nlh));
  if (nlh.nlmsg_len < kNlmsgHeaderSize || nlh.nlmsg_len > message.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("nlmsg_len ", nlh.nlmsg_len, " is outside 16..",
                     message.size(), " (the bytes received)"));
  }
  message = message.first(nlh.nlmsg_len);

  DecodedMessage decoded;
  decoded.nlmsg_type = nlh.nlmsg_type;
  decoded.seq = nlh.nlmsg_seq;
  if (nlh.nlmsg_type == NLMSG_ERROR) {
    if (message.size() < kNlmsgHeaderSize + kNlmsgErrorSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "netlink error message of ", message.size(),
          " bytes is shorter than ", kNlmsgHeaderSize + kNlmsgErrorSize));
    }
    int32_t error;
    nlmsghdr request;
    std::memcpy(&error, message.data() + kNlmsgHeaderSize, sizeof(error));
    std::memcpy(&request, message.data() + kNlmsgHeaderSize + sizeof(error),
                sizeof(request));
    KernelReply reply;
    reply.request_type = request.nlmsg_type;
    if (error != 0) reply.if_error = error;
    decoded.seq = request.nlmsg_seq;
    decoded.body = std::move(reply);
    return decoded;
  }
  if (nlh.nlmsg_type == NLMSG_NOOP || nlh.nlmsg_type == NLMSG_DONE ||
      nlh.nlmsg_type == NLMSG_OVERRUN) {
    // Netlink control messages. (Request types 11..15 are below
    // NLMSG_MIN_TYPE too: the iSCSI family does not reserve that range.)
    decoded.body = IgnoredMessage{nlh.nlmsg_type};
    return decoded;
  }
  if (message.size() < kUeventMessageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "netlink message of ", message.size(),
        " bytes is shorter than nlmsghdr + iscsi_uevent (72 bytes)"));
  }
  IscsiUevent ev;
  std::memcpy(&ev, message.data() + kNlmsgHeaderSize, sizeof(ev));
  decoded.transport_handle = ev.transport_handle;
  const absl::Span<const uint8_t> payload = message.subspan(kUeventMessageSize);

  switch (ev.type) {
    case kKeventRecvPdu: {
      absl::StatusOr<KernelEvent> event = DecodeRecvPdu(ev, payload);
      if (!event.ok()) return event.status();
      decoded.body = *std::move(event);
      return decoded;
    }
    case kKeventConnError:
    case kKeventDestroySession:
    case kKeventUnbindSession:
    case kKeventCreateSession:
    case kKeventConnLoginState:
      decoded.body = DecodeEvent(ev);
      return decoded;
    case kKeventIfError: {
      KernelReply reply;
      reply.request_type = nlh.nlmsg_type;
      reply.if_error = static_cast<int32_t>(ev.iferror);
      reply.request_sid = ev.u.conn.sid;
      reply.request_cid = ev.u.conn.cid;
      decoded.body = std::move(reply);
      return decoded;
    }
    default:
      break;
  }
  if (ev.type == 0 || ev.type >= kKeventRecvPdu) {
    // Events this daemon does not act on, and types newer than this file.
    decoded.body = IgnoredMessage{ev.type};
    return decoded;
  }
  // A request type: the reply to one. GET_STATS results arrive multicast with
  // nlmsg_type 0; unicast replies echo the request type in nlmsg_type.
  if (nlh.nlmsg_type != 0 && nlh.nlmsg_type != ev.type) {
    return absl::InvalidArgumentError(
        absl::StrCat("reply with nlmsg_type ", nlh.nlmsg_type,
                     " carries a uevent of type ", ev.type));
  }
  KernelReply reply;
  reply.request_type = ev.type;
  reply.retcode = ev.r.retcode;
  reply.session = CreatedSession{ev.r.sid_host.sid, ev.r.sid_host.host_no};
  reply.conn_sid = ev.r.sid_cid.sid;
  reply.conn_cid = ev.r.sid_cid.cid;
  reply.request_sid = ev.u.conn.sid;
  reply.request_cid = ev.u.conn.cid;
  reply.payload.assign(payload.begin(), payload.end());
  decoded.body = std::move(reply);
  return decoded;
}

absl::StatusOr<RequestId> ReadRequestId(absl::Span<const uint8_t> request) {
  if (request.size() < kUeventMessageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("request of ", request.size(),
                     " bytes is shorter than nlmsghdr + iscsi_uevent"));
  }
  nlmsghdr nlh;
  std::memcpy(&nlh, request.data(), sizeof(nlh));
  RequestId id{nlh.nlmsg_type, nlh.nlmsg_seq, std::nullopt};
  if (id.type == kUeventGetStats) {
    UeventConn conn;
    std::memcpy(&conn,
                request.data() + kNlmsgHeaderSize + offsetof(IscsiUevent, u),
                sizeof(conn));
    id.conn = conn;
  }
  return id;
}

absl::StatusOr<ConnStats> DecodeStats(absl::Span<const uint8_t> payload) {
  if (payload.size() < kStatsSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("GET_STATS carries ", payload.size(),
                     " bytes after the uevent, less than the ", kStatsSize,
                     "-byte struct iscsi_stats"));
  }
  IscsiStatsWire wire;
  std::memcpy(&wire, payload.data(), sizeof(wire));
  const size_t room = (payload.size() - kStatsSize) / kStatsCustomSize;
  if (wire.custom_length > room) {
    return absl::InvalidArgumentError(
        absl::StrCat("GET_STATS announces ", wire.custom_length,
                     " transport counters but has room for ", room));
  }
  ConnStats stats;
  stats.txdata_octets = wire.txdata_octets;
  stats.rxdata_octets = wire.rxdata_octets;
  stats.noptx_pdus = wire.noptx_pdus;
  stats.scsicmd_pdus = wire.scsicmd_pdus;
  stats.tmfcmd_pdus = wire.tmfcmd_pdus;
  stats.login_pdus = wire.login_pdus;
  stats.text_pdus = wire.text_pdus;
  stats.dataout_pdus = wire.dataout_pdus;
  stats.logout_pdus = wire.logout_pdus;
  stats.snack_pdus = wire.snack_pdus;
  stats.noprx_pdus = wire.noprx_pdus;
  stats.scsirsp_pdus = wire.scsirsp_pdus;
  stats.tmfrsp_pdus = wire.tmfrsp_pdus;
  stats.textrsp_pdus = wire.textrsp_pdus;
  stats.datain_pdus = wire.datain_pdus;
  stats.logoutrsp_pdus = wire.logoutrsp_pdus;
  stats.r2t_pdus = wire.r2t_pdus;
  stats.async_pdus = wire.async_pdus;
  stats.rjt_pdus = wire.rjt_pdus;
  stats.digest_err = wire.digest_err;
  stats.timeout_err = wire.timeout_err;
  for (size_t i = 0; i < wire.custom_length; ++i) {
    IscsiStatsCustomWire custom;
    std::memcpy(&custom, payload.data() + kStatsSize + i * kStatsCustomSize,
                sizeof(custom));
    const size_t length = strnlen(custom.desc, sizeof(custom.desc));
    stats.custom.push_back(
        StatCounter{std::string(custom.desc, length), custom.value});
  }
  return stats;
}

absl::Status KernelErrnoStatus(absl::string_view request,
                               int32_t negative_errno) {
  const int64_t wide = negative_errno;
  const int error = static_cast<int>(wide < 0 ? -wide : wide);
  char buffer[128];
  // GNU strerror_r: returns the text, which may or may not be in `buffer`.
  const char* text = strerror_r(error, buffer, sizeof(buffer));
  // An error without an errno must still not read as success.
  return absl::Status(
      error == 0 ? absl::StatusCode::kUnknown : absl::ErrnoToStatusCode(error),
      absl::StrCat(request, ": ", text, " (", negative_errno, ")"));
}

}  // namespace kiscsi
