// The protocol between kiscsiadm and kiscsid over a unix stream socket
// (DaemonSocketPath()). kiscsi's own, versioned: unlike open-iscsi's raw C
// structs, a mismatch between an old daemon and a new CLI gives a clear error
// instead of a hang.
//
// Every message is a 16-byte header followed by a payload. All integers are
// big-endian.
//
//   offset  size  field
//   0       4     magic "KSCI"
//   4       2     version (kProtocolVersion)
//   6       2     type (MessageType)
//   8       4     request id (chosen by the client, echoed in the reply)
//   12      4     payload length (at most kMaxPayloadLength)
//
// The header layout is frozen across versions: whatever its version, a peer
// can read a header and answer with a reply of its own version, so a version
// mismatch is detected from the header alone, on both sides.
//
// The payload is a sequence of fields, each
//
//   offset  size  field
//   0       2     tag (FieldTag)
//   2       4     value length
//   6       n     value: a u32 (length 4), UTF-8 text without NUL bytes, or
//                 a session_stats record (below)
//
// in any order. Fields with unknown tags are skipped, so a field can be added
// without a version change as long as older peers may ignore it. Only the
// out_line, err_line and session_stats fields may repeat.
//
// A session_stats record is one session's statistics (SessionStats):
//
//   u32 sid, u16 number of SNMP counters, u16 number of extended counters,
//   then every counter, the SNMP ones first: u8 name length (1..255), the
//   name (no NUL byte), u64 value
//
// and nothing after the last counter.
//
// A Login or LoginAll request with the progress field set may get Progress
// messages (type kProgress, the request's id, out_line fields) before its
// reply: lines for the user to see while the request runs ("Logging in to
// ..."). Without the field, the same lines open the reply's out_lines.
//
// Requests on one connection may be pipelined, at most kMaxRequestsInFlight at
// a time; they are answered in completion order, matched by request id.
// Clients never use request id 0: a reply with id 0 answers a message the
// daemon could not read (a bad header), after which the daemon closes the
// connection.
#ifndef KISCSI_SRC_IPC_IPC_PROTOCOL_H_
#define KISCSI_SRC_IPC_IPC_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "src/base/exit_code.h"
#include "src/base/stat_counter.h"

namespace kiscsi::ipc {

inline constexpr uint16_t kProtocolVersion = 1;
// A daemon works on at most this many requests of one connection at a time
// and refuses the ones beyond (exit code kBusy).
inline constexpr size_t kMaxRequestsInFlight = 16;
inline constexpr size_t kHeaderSize = 16;
// The first 4 bytes of every header.
inline constexpr char kMagic[4] = {'K', 'S', 'C', 'I'};
inline constexpr uint32_t kMaxPayloadLength = 1 << 20;  // 1 MiB

// RunDir()/kiscsid.sock: where kiscsid listens.
std::string DaemonSocketPath();

enum class MessageType : uint16_t {
  kPing = 1,
  kLogin = 2,
  kLogout = 3,
  kLogoutAll = 4,
  kLoginAll = 5,
  // 6 and 7 were ListSessions and Rescan, which nothing sent: kiscsiadm
  // lists and rescans sessions itself, from sysfs.
  kStats = 8,
  kReload = 9,
  kReply = 128,
  kProgress = 129,
};

enum class FieldTag : uint16_t {
  kTarget = 1,         // text
  kAddress = 2,        // text
  kPort = 3,           // u32, at most 65535
  kIface = 4,          // text
  kSid = 5,            // u32
  kFilter = 6,         // u32 (StartupFilter)
  kPrintLevel = 7,     // u32
  kTpgt = 8,           // u32, at most 65535
  kProgress = 9,       // u32, 1: send Progress messages
  kFirmware = 10,      // u32, 1: the boot firmware table's targets
  kStatusCode = 16,    // u32 (absl::StatusCode)
  kExitCode = 17,      // u32 (ExitCode)
  kMessage = 18,       // text
  kOutLine = 19,       // text, repeats
  kErrLine = 20,       // text, repeats
  kSessionStats = 21,  // record, repeats
};

// Which node records --loginall / --logoutall select by node.startup.
enum class StartupFilter : uint32_t {
  kAll = 0,
  kManual = 1,
  kAutomatic = 2,
  kOnboot = 3,
};
// "all", "manual", "automatic" or "onboot" (iscsiadm's -L/-U argument).
absl::StatusOr<StartupFilter> ParseStartupFilter(absl::string_view text);
absl::string_view StartupFilterName(StartupFilter filter);

// Requests. Each names its MessageType; required fields are the ones without a
// std::optional.
struct PingRequest {
  static constexpr MessageType kType = MessageType::kPing;
  bool operator==(const PingRequest&) const = default;
};
// Which node records (a login) or kernel sessions (a logout) a request names:
// every field given must match, one not given matches anything (iscsiadm's
// -T, -p, -I and -p's ",TPGT"; no port: any port). The daemon applies the
// rule of src/node/node_selector.h.
struct NodeSelector {
  std::optional<std::string> target = {};
  std::optional<std::string> address = {};
  std::optional<uint16_t> port = {};
  std::optional<uint16_t> tpgt = {};
  std::optional<std::string> iface = {};
  bool operator==(const NodeSelector&) const = default;
};
// Log in to the node records `nodes` selects; none given: every node record.
// The daemon reads the records.
struct LoginRequest {
  static constexpr MessageType kType = MessageType::kLogin;
  NodeSelector nodes = {};
  bool progress = false;  // send the "Logging in to" lines as Progress
  // Log in to the boot firmware table's targets (iscsiadm -m fw -l) instead
  // of node records; `nodes` is then unused.
  bool firmware = false;
  bool operator==(const LoginRequest&) const = default;
};
// Log out of the sessions in sysfs that `sid` (when given) and `nodes`
// select, all at once; nothing given: every session. The reply has a
// "Logging out of session [...]" line for each, then for each, in sid order,
// "Logout of [...] successful." (out_lines) or "Could not logout of [...]:
// REASON" (err_lines); it fails with "Could not logout of all requested
// sessions" and the first failure's exit code when one failed, with "No
// matching sessions found" (kNoObjectsFound) when none was selected, and with
// "Could not get session info for sid N: no such session"
// (kSessionNotFound) when `sid` names no session.
struct LogoutRequest {
  static constexpr MessageType kType = MessageType::kLogout;
  std::optional<uint32_t> sid;
  NodeSelector nodes = {};
  bool operator==(const LogoutRequest&) const = default;
};
struct LogoutAllRequest {
  static constexpr MessageType kType = MessageType::kLogoutAll;
  StartupFilter filter = StartupFilter::kAll;
  bool operator==(const LogoutAllRequest&) const = default;
};
struct LoginAllRequest {
  static constexpr MessageType kType = MessageType::kLoginAll;
  StartupFilter filter = StartupFilter::kAll;
  bool progress = false;  // send the "Logging in to" lines as Progress
  bool operator==(const LoginAllRequest&) const = default;
};
struct StatsRequest {
  static constexpr MessageType kType = MessageType::kStats;
  std::optional<uint32_t> sid;  // all sessions when absent
  bool operator==(const StatsRequest&) const = default;
};
// Re-read iscsid.conf (as SIGHUP does).
struct ReloadRequest {
  static constexpr MessageType kType = MessageType::kReload;
  bool operator==(const ReloadRequest&) const = default;
};

using Request =
    std::variant<PingRequest, LoginRequest, LogoutRequest, LogoutAllRequest,
                 LoginAllRequest, StatsRequest, ReloadRequest>;

MessageType TypeOf(const Request& request);
// "Ping", "Login", ... for log lines.
absl::string_view MessageTypeName(MessageType type);

// One session's statistics, from its connection's GET_STATS; the counters of
// `-m session -s`, named as the kernel names them (StatCounter:
// src/base/stat_counter.h; on the wire each name is 1..255 bytes, no NUL).
struct SessionStats {
  uint32_t sid = 0;
  std::vector<StatCounter> snmp;      // the iSCSI MIB counters, in order
  std::vector<StatCounter> extended;  // the transport's own counters
  bool operator==(const SessionStats&) const = default;
};

// The answer to every request. `out_lines` go to the CLI's stdout and
// `err_lines` to its stderr, in order, before `message` (the one-line error
// when `code` is not kOk). `stats` answers a Stats request, one entry per
// session; the CLI formats them.
struct Reply {
  absl::StatusCode code = absl::StatusCode::kOk;
  ExitCode exit_code = ExitCode::kSuccess;
  std::string message;
  std::vector<std::string> out_lines;
  std::vector<std::string> err_lines;
  std::vector<SessionStats> stats;
  bool operator==(const Reply&) const = default;
};

// A reply carrying `status`: its code, message and ExitCodeOf(status).
Reply ReplyFromStatus(const absl::Status& status);
// The reply's outcome as a Status, with its exit code attached.
absl::Status ReplyStatus(const Reply& reply);

struct Header {
  uint16_t version = kProtocolVersion;
  MessageType type = MessageType::kPing;
  uint32_t request_id = 0;
  uint32_t payload_length = 0;
};

// Reads a header from the first kHeaderSize bytes of `bytes`. Fails on a bad
// magic or an oversized payload (the stream cannot be followed after that);
// any version and type are accepted, for the caller to judge.
absl::StatusOr<Header> DecodeHeader(absl::Span<const uint8_t> bytes);

// Whole messages (header and payload). Fail when the payload would exceed
// kMaxPayloadLength, a text holds a NUL byte or a stats counter's name is
// empty, longer than 255 bytes or holds a NUL byte.
absl::StatusOr<std::vector<uint8_t>> EncodeRequest(uint32_t request_id,
                                                   const Request& request);
absl::StatusOr<std::vector<uint8_t>> EncodeReply(uint32_t request_id,
                                                 const Reply& reply);
absl::StatusOr<std::vector<uint8_t>> EncodeProgress(
    uint32_t request_id, const std::vector<std::string>& out_lines);

// Payload decoders for a header that DecodeHeader accepted. DecodeRequest
// fails on a version other than kProtocolVersion with the message
// "kiscsiadm speaks protocol V, kiscsid 1: restart kiscsid after upgrading"
// (ExitCode kDaemonComm), on an unknown type with kInvalidRequest, and on a
// malformed payload with kDaemonComm.
absl::StatusOr<Request> DecodeRequest(const Header& header,
                                      absl::Span<const uint8_t> payload);
absl::StatusOr<Reply> DecodeReply(absl::Span<const uint8_t> payload);
// A Progress message's lines.
absl::StatusOr<std::vector<std::string>> DecodeProgress(
    absl::Span<const uint8_t> payload);
// Whether `request` asks for Progress messages.
bool WantsProgress(const Request& request);

// The error for a peer speaking `peer_version`, phrased from the side that
// speaks kProtocolVersion; `peer_is_daemon` says which side the peer is.
absl::Status VersionMismatchError(uint16_t peer_version, bool peer_is_daemon);

struct Message {
  Header header;
  std::vector<uint8_t> payload;
};

// Splits a byte stream into messages.
class MessageReader {
 public:
  // Fails, for good, on a bad header: the stream cannot be followed after it.
  absl::Status Feed(absl::Span<const uint8_t> bytes);
  // The next complete message, if one has been assembled.
  std::optional<Message> Next();
  // Bytes of the incomplete message held so far.
  size_t buffered() const { return buffer_.size(); }

 private:
  absl::Status error_;
  std::vector<uint8_t> buffer_;
  std::deque<Message> ready_;
};

}  // namespace kiscsi::ipc

#endif  // KISCSI_SRC_IPC_IPC_PROTOCOL_H_
