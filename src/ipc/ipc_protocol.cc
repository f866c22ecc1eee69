// The IPC protocol (ipc_protocol.h) apart from encoding: decoding headers,
// requests, replies and progress messages (every length and count checked
// before use: a peer's bytes never make us read past a buffer), the stream
// reassembly of MessageReader, and the small helpers (socket path, startup
// filter names, reply <-> status). Encoding is in ipc_protocol_encode.cc.
#include "src/ipc/ipc_protocol.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/paths.h"
#include "src/base/status_macros.h"

namespace kiscsi::ipc {
namespace {

constexpr size_t kFieldHeaderSize = 6;

absl::Status Malformed(absl::string_view what) {
  return WithExitCode(
      absl::InvalidArgumentError(absl::StrCat("malformed message: ", what)),
      ExitCode::kDaemonComm);
}

uint16_t Get16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t Get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// The fields of a payload, by tag; repeatable tags keep every value in order.
class Fields {
 public:
  static absl::StatusOr<Fields> Parse(absl::Span<const uint8_t> payload) {
    Fields fields;
    size_t pos = 0;
    while (pos < payload.size()) {
      if (payload.size() - pos < kFieldHeaderSize) {
        return Malformed("truncated field header");
      }
      const uint16_t tag = Get16(&payload[pos]);
      const uint32_t length = Get32(&payload[pos + 2]);
      pos += kFieldHeaderSize;
      if (length > payload.size() - pos) {
        return Malformed(absl::StrCat("field ", tag, " overruns the payload"));
      }
      const absl::Span<const uint8_t> value = payload.subspan(pos, length);
      pos += length;
      const bool repeats =
          tag == static_cast<uint16_t>(FieldTag::kOutLine) ||
          tag == static_cast<uint16_t>(FieldTag::kErrLine) ||
          tag == static_cast<uint16_t>(FieldTag::kSessionStats);
      std::vector<absl::Span<const uint8_t>>& values = fields.values_[tag];
      if (!values.empty() && !repeats) {
        return Malformed(absl::StrCat("field ", tag, " repeats"));
      }
      values.push_back(value);
    }
    return fields;
  }

  absl::StatusOr<std::optional<uint32_t>> OptionalU32(FieldTag tag) const {
    auto it = values_.find(static_cast<uint16_t>(tag));
    if (it == values_.end()) return std::nullopt;
    const absl::Span<const uint8_t> value = it->second.front();
    if (value.size() != 4) {
      return Malformed(absl::StrCat("field ", static_cast<int>(tag),
                                    " has length ", value.size(),
                                    ", expected 4"));
    }
    return Get32(value.data());
  }

  absl::StatusOr<uint32_t> U32(FieldTag tag) const {
    ASSIGN_OR_RETURN(std::optional<uint32_t> value, OptionalU32(tag));
    if (!value.has_value()) return Missing(tag);
    return *value;
  }

  absl::StatusOr<std::string> Text(FieldTag tag) const {
    auto it = values_.find(static_cast<uint16_t>(tag));
    if (it == values_.end()) return Missing(tag);
    return ToText(tag, it->second.front());
  }

  absl::StatusOr<std::optional<std::string>> OptionalText(FieldTag tag) const {
    auto it = values_.find(static_cast<uint16_t>(tag));
    if (it == values_.end()) return std::nullopt;
    return ToText(tag, it->second.front());
  }

  // Every value of a repeatable field, in order.
  std::vector<absl::Span<const uint8_t>> All(FieldTag tag) const {
    auto it = values_.find(static_cast<uint16_t>(tag));
    if (it == values_.end()) return {};
    return it->second;
  }

  absl::StatusOr<std::vector<std::string>> Texts(FieldTag tag) const {
    std::vector<std::string> texts;
    auto it = values_.find(static_cast<uint16_t>(tag));
    if (it == values_.end()) return texts;
    for (absl::Span<const uint8_t> value : it->second) {
      ASSIGN_OR_RETURN(std::string text, ToText(tag, value));
      texts.push_back(std::move(text));
    }
    return texts;
  }

 private:
  static absl::Status Missing(FieldTag tag) {
    return Malformed(
        absl::StrCat("required field ", static_cast<int>(tag), " is missing"));
  }

  static absl::StatusOr<std::string> ToText(FieldTag tag,
                                            absl::Span<const uint8_t> value) {
    if (std::memchr(value.data(), '\0', value.size()) != nullptr) {
      return Malformed(
          absl::StrCat("field ", static_cast<int>(tag), " holds a NUL byte"));
    }
    return std::string(value.begin(), value.end());
  }

  absl::flat_hash_map<uint16_t, std::vector<absl::Span<const uint8_t>>> values_;
};

// Reads a session_stats record front to back; callers check Has() first.
class RecordReader {
 public:
  explicit RecordReader(absl::Span<const uint8_t> bytes) : bytes_(bytes) {}

  bool Has(size_t n) const { return bytes_.size() - pos_ >= n; }
  bool done() const { return pos_ == bytes_.size(); }
  uint8_t U8() { return bytes_[pos_++]; }
  uint16_t U16() {
    const uint16_t value = Get16(&bytes_[pos_]);
    pos_ += 2;
    return value;
  }
  uint32_t U32() {
    const uint32_t value = Get32(&bytes_[pos_]);
    pos_ += 4;
    return value;
  }
  uint64_t U64() {
    const uint64_t high = U32();
    return (high << 32) | U32();
  }
  absl::Span<const uint8_t> Take(size_t n) {
    const absl::Span<const uint8_t> value = bytes_.subspan(pos_, n);
    pos_ += n;
    return value;
  }

 private:
  absl::Span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

absl::StatusOr<SessionStats> ParseSessionStats(
    absl::Span<const uint8_t> value) {
  RecordReader reader(value);
  if (!reader.Has(8)) return Malformed("truncated session stats");
  SessionStats stats;
  stats.sid = reader.U32();
  const uint16_t snmp = reader.U16();
  const uint16_t extended = reader.U16();
  for (size_t i = 0; i < size_t{snmp} + extended; ++i) {
    if (!reader.Has(1)) return Malformed("truncated stats counter");
    const uint8_t length = reader.U8();
    if (length == 0 || !reader.Has(size_t{length} + 8)) {
      return Malformed("truncated or unnamed stats counter");
    }
    const absl::Span<const uint8_t> name = reader.Take(length);
    if (std::memchr(name.data(), '\0', name.size()) != nullptr) {
      return Malformed("stats counter name holds a NUL byte");
    }
    StatCounter counter{std::string(name.begin(), name.end()), reader.U64()};
    (i < snmp ? stats.snmp : stats.extended).push_back(std::move(counter));
  }
  if (!reader.done()) return Malformed("bytes after the last stats counter");
  return stats;
}

absl::StatusOr<StartupFilter> FilterField(const Fields& fields) {
  ASSIGN_OR_RETURN(uint32_t value, fields.U32(FieldTag::kFilter));
  if (value > static_cast<uint32_t>(StartupFilter::kOnboot)) {
    return Malformed(absl::StrCat("unknown startup filter ", value));
  }
  return static_cast<StartupFilter>(value);
}

absl::StatusOr<std::optional<uint16_t>> OptionalU16(const Fields& fields,
                                                    FieldTag tag,
                                                    absl::string_view what) {
  ASSIGN_OR_RETURN(std::optional<uint32_t> value, fields.OptionalU32(tag));
  if (!value.has_value()) return std::nullopt;
  if (*value > 65535) return Malformed(absl::StrCat(what, " ", *value));
  return static_cast<uint16_t>(*value);
}

// An optional 0/1 field; absent is false.
absl::StatusOr<bool> FlagField(const Fields& fields, FieldTag tag,
                               absl::string_view what) {
  ASSIGN_OR_RETURN(std::optional<uint32_t> value, fields.OptionalU32(tag));
  if (value.has_value() && *value > 1) {
    return Malformed(absl::StrCat(what, " ", *value));
  }
  return value.value_or(0) == 1;
}

absl::StatusOr<bool> ProgressField(const Fields& fields) {
  return FlagField(fields, FieldTag::kProgress, "progress");
}

absl::StatusOr<NodeSelector> GetSelector(const Fields& fields) {
  NodeSelector nodes;
  ASSIGN_OR_RETURN(nodes.target, fields.OptionalText(FieldTag::kTarget));
  ASSIGN_OR_RETURN(nodes.address, fields.OptionalText(FieldTag::kAddress));
  ASSIGN_OR_RETURN(nodes.port, OptionalU16(fields, FieldTag::kPort, "port"));
  ASSIGN_OR_RETURN(nodes.tpgt, OptionalU16(fields, FieldTag::kTpgt, "tpgt"));
  ASSIGN_OR_RETURN(nodes.iface, fields.OptionalText(FieldTag::kIface));
  return nodes;
}

absl::StatusOr<Request> GetLogin(const Fields& fields) {
  LoginRequest request;
  ASSIGN_OR_RETURN(request.nodes, GetSelector(fields));
  ASSIGN_OR_RETURN(request.progress, ProgressField(fields));
  ASSIGN_OR_RETURN(request.firmware,
                   FlagField(fields, FieldTag::kFirmware, "firmware"));
  return request;
}

absl::StatusOr<Request> GetLogout(const Fields& fields) {
  LogoutRequest request;
  ASSIGN_OR_RETURN(request.sid, fields.OptionalU32(FieldTag::kSid));
  ASSIGN_OR_RETURN(request.nodes, GetSelector(fields));
  return request;
}

}  // namespace

std::string DaemonSocketPath() { return RunDir() + "/kiscsid.sock"; }

absl::StatusOr<StartupFilter> ParseStartupFilter(absl::string_view text) {
  for (StartupFilter filter :
       {StartupFilter::kAll, StartupFilter::kManual, StartupFilter::kAutomatic,
        StartupFilter::kOnboot}) {
    if (text == StartupFilterName(filter)) return filter;
  }
  return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                          "invalid startup filter '", text,
                          "': expected all, manual, automatic or onboot")),
                      ExitCode::kInvalid);
}

absl::string_view StartupFilterName(StartupFilter filter) {
  switch (filter) {
    case StartupFilter::kAll:
      return "all";
    case StartupFilter::kManual:
      return "manual";
    case StartupFilter::kAutomatic:
      return "automatic";
    case StartupFilter::kOnboot:
      return "onboot";
  }
  return "?";
}

MessageType TypeOf(const Request& request) {
  return std::visit([](const auto& r) { return r.kType; }, request);
}

absl::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPing:
      return "Ping";
    case MessageType::kLogin:
      return "Login";
    case MessageType::kLogout:
      return "Logout";
    case MessageType::kLogoutAll:
      return "LogoutAll";
    case MessageType::kLoginAll:
      return "LoginAll";
    case MessageType::kStats:
      return "Stats";
    case MessageType::kReload:
      return "Reload";
    case MessageType::kReply:
      return "Reply";
    case MessageType::kProgress:
      return "Progress";
  }
  return "unknown";
}

Reply ReplyFromStatus(const absl::Status& status) {
  Reply reply;
  reply.code = status.code();
  reply.exit_code = ExitCodeOf(status);
  reply.message = std::string(status.message());
  return reply;
}

absl::Status ReplyStatus(const Reply& reply) {
  if (reply.code == absl::StatusCode::kOk) return absl::OkStatus();
  return WithExitCode(absl::Status(reply.code, reply.message), reply.exit_code);
}

absl::StatusOr<Header> DecodeHeader(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) return Malformed("truncated header");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Malformed("bad magic (not a kiscsi peer?)");
  }
  Header header;
  header.version = Get16(&bytes[4]);
  header.type = static_cast<MessageType>(Get16(&bytes[6]));
  header.request_id = Get32(&bytes[8]);
  header.payload_length = Get32(&bytes[12]);
  if (header.payload_length > kMaxPayloadLength) {
    return Malformed(absl::StrCat("payload of ", header.payload_length,
                                  " bytes exceeds the limit of ",
                                  kMaxPayloadLength));
  }
  return header;
}

absl::StatusOr<std::vector<std::string>> DecodeProgress(
    absl::Span<const uint8_t> payload) {
  ASSIGN_OR_RETURN(Fields fields, Fields::Parse(payload));
  return fields.Texts(FieldTag::kOutLine);
}

bool WantsProgress(const Request& request) {
  if (const auto* login = std::get_if<LoginRequest>(&request)) {
    return login->progress;
  }
  if (const auto* all = std::get_if<LoginAllRequest>(&request)) {
    return all->progress;
  }
  return false;
}

absl::Status VersionMismatchError(uint16_t peer_version, bool peer_is_daemon) {
  const uint16_t cli = peer_is_daemon ? kProtocolVersion : peer_version;
  const uint16_t daemon = peer_is_daemon ? peer_version : kProtocolVersion;
  const absl::string_view advice =
      cli > daemon ? "restart kiscsid after upgrading"
                   : "use the kiscsiadm installed with the running kiscsid";
  return WithExitCode(absl::FailedPreconditionError(
                          absl::StrCat("kiscsiadm speaks protocol ", cli,
                                       ", kiscsid ", daemon, ": ", advice)),
                      ExitCode::kDaemonComm);
}

absl::StatusOr<Request> DecodeRequest(const Header& header,
                                      absl::Span<const uint8_t> payload) {
  if (header.version != kProtocolVersion) {
    return VersionMismatchError(header.version, /*peer_is_daemon=*/false);
  }
  ASSIGN_OR_RETURN(Fields fields, Fields::Parse(payload));
  switch (header.type) {
    case MessageType::kPing:
      return PingRequest{};
    case MessageType::kLogin:
      return GetLogin(fields);
    case MessageType::kLogout:
      return GetLogout(fields);
    case MessageType::kLogoutAll: {
      ASSIGN_OR_RETURN(StartupFilter filter, FilterField(fields));
      return LogoutAllRequest{filter};
    }
    case MessageType::kLoginAll: {
      ASSIGN_OR_RETURN(StartupFilter filter, FilterField(fields));
      ASSIGN_OR_RETURN(bool progress, ProgressField(fields));
      return LoginAllRequest{filter, progress};
    }
    case MessageType::kStats: {
      ASSIGN_OR_RETURN(std::optional<uint32_t> sid,
                       fields.OptionalU32(FieldTag::kSid));
      return StatsRequest{sid};
    }
    case MessageType::kReload:
      return ReloadRequest{};
    case MessageType::kReply:
    case MessageType::kProgress:
      break;
  }
  return WithExitCode(
      absl::InvalidArgumentError(
          absl::StrCat("unknown request type ", static_cast<int>(header.type))),
      ExitCode::kInvalidRequest);
}

absl::StatusOr<Reply> DecodeReply(absl::Span<const uint8_t> payload) {
  ASSIGN_OR_RETURN(Fields fields, Fields::Parse(payload));
  Reply reply;
  ASSIGN_OR_RETURN(uint32_t code, fields.U32(FieldTag::kStatusCode));
  if (code > static_cast<uint32_t>(absl::StatusCode::kUnauthenticated)) {
    return Malformed(absl::StrCat("unknown status code ", code));
  }
  reply.code = static_cast<absl::StatusCode>(code);
  ASSIGN_OR_RETURN(uint32_t exit_code, fields.U32(FieldTag::kExitCode));
  // Exit statuses are 0..255; success and failure must agree.
  if (exit_code > 255 || (exit_code == 0) != (code == 0)) {
    return Malformed(
        absl::StrCat("exit code ", exit_code, " with status code ", code));
  }
  reply.exit_code = static_cast<ExitCode>(exit_code);
  ASSIGN_OR_RETURN(reply.message, fields.Text(FieldTag::kMessage));
  ASSIGN_OR_RETURN(reply.out_lines, fields.Texts(FieldTag::kOutLine));
  ASSIGN_OR_RETURN(reply.err_lines, fields.Texts(FieldTag::kErrLine));
  for (absl::Span<const uint8_t> value : fields.All(FieldTag::kSessionStats)) {
    ASSIGN_OR_RETURN(SessionStats stats, ParseSessionStats(value));
    reply.stats.push_back(std::move(stats));
  }
  return reply;
}

absl::Status MessageReader::Feed(absl::Span<const uint8_t> bytes) {
  RETURN_IF_ERROR(error_);
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  size_t pos = 0;
  while (buffer_.size() - pos >= kHeaderSize) {
    const absl::Span<const uint8_t> rest =
        absl::MakeConstSpan(buffer_).subspan(pos);
    absl::StatusOr<Header> header = DecodeHeader(rest);
    if (!header.ok()) {
      error_ = header.status();
      buffer_.clear();
      return error_;
    }
    if (rest.size() - kHeaderSize < header->payload_length) break;
    const absl::Span<const uint8_t> payload =
        rest.subspan(kHeaderSize, header->payload_length);
    ready_.push_back(
        Message{*header, std::vector<uint8_t>(payload.begin(), payload.end())});
    pos += kHeaderSize + header->payload_length;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + pos);
  return absl::OkStatus();
}

std::optional<Message> MessageReader::Next() {
  if (ready_.empty()) return std::nullopt;
  Message message = std::move(ready_.front());
  ready_.pop_front();
  return message;
}

}  // namespace kiscsi::ipc
