// Encoding of the IPC protocol (ipc_protocol.h): requests, replies and
// progress messages laid out as header + tagged fields, and the
// session_stats record. An encoder refuses what a decoder would refuse (a NUL
// in a text, a payload over kMaxPayloadLength, a bad counter name) instead of
// sending it. Decoding is in ipc_protocol.cc.
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/status_macros.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi::ipc {
namespace {

void Put16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
void Put32(std::vector<uint8_t>& out, uint32_t value) {
  Put16(out, static_cast<uint16_t>(value >> 16));
  Put16(out, static_cast<uint16_t>(value));
}
void Put64(std::vector<uint8_t>& out, uint64_t value) {
  Put32(out, static_cast<uint32_t>(value >> 32));
  Put32(out, static_cast<uint32_t>(value));
}

constexpr size_t kMaxCounterName = 255;
constexpr size_t kMaxCounters = 0xffff;

// A session_stats record, or the reason it cannot be one.
absl::StatusOr<std::vector<uint8_t>> StatsRecord(const SessionStats& stats) {
  std::vector<uint8_t> record;
  Put32(record, stats.sid);
  for (const std::vector<StatCounter>* counters :
       {&stats.snmp, &stats.extended}) {
    if (counters->size() > kMaxCounters) {
      return absl::InvalidArgumentError(absl::StrCat(
          "session ", stats.sid, ": ", counters->size(), " counters"));
    }
    Put16(record, static_cast<uint16_t>(counters->size()));
  }
  for (const std::vector<StatCounter>* counters :
       {&stats.snmp, &stats.extended}) {
    for (const StatCounter& counter : *counters) {
      if (counter.name.empty() || counter.name.size() > kMaxCounterName ||
          counter.name.find('\0') != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("session ", stats.sid, ": a counter named \"",
                         absl::CHexEscape(counter.name), "\""));
      }
      record.push_back(static_cast<uint8_t>(counter.name.size()));
      record.insert(record.end(), counter.name.begin(), counter.name.end());
      Put64(record, counter.value);
    }
  }
  return record;
}

// Builds a message: header first, length patched in by Finish().
class MessageWriter {
 public:
  MessageWriter(MessageType type, uint32_t request_id) : bytes_(kHeaderSize) {
    std::memcpy(bytes_.data(), kMagic, sizeof(kMagic));
    Set(4, 2, kProtocolVersion);
    Set(6, 2, static_cast<uint16_t>(type));
    Set(8, 4, request_id);
  }

  void U32(FieldTag tag, uint32_t value) {
    Put16(bytes_, static_cast<uint16_t>(tag));
    Put32(bytes_, 4);
    Put32(bytes_, value);
  }
  void Text(FieldTag tag, absl::string_view value) {
    if (value.find('\0') != absl::string_view::npos) {
      Fail(absl::InvalidArgumentError(
          absl::StrCat("field ", static_cast<int>(tag), " holds a NUL byte")));
    }
    Put16(bytes_, static_cast<uint16_t>(tag));
    // Finish() refuses a payload over the limit, so an emitted length fits.
    Put32(bytes_, static_cast<uint32_t>(value.size()));
    bytes_.insert(bytes_.end(), value.begin(), value.end());
  }
  void Stats(const SessionStats& stats) {
    absl::StatusOr<std::vector<uint8_t>> record = StatsRecord(stats);
    if (!record.ok()) return Fail(record.status());
    Put16(bytes_, static_cast<uint16_t>(FieldTag::kSessionStats));
    Put32(bytes_, static_cast<uint32_t>(record->size()));
    bytes_.insert(bytes_.end(), record->begin(), record->end());
  }

  absl::StatusOr<std::vector<uint8_t>> Finish() && {
    RETURN_IF_ERROR(error_);
    const size_t payload = bytes_.size() - kHeaderSize;
    if (payload > kMaxPayloadLength) {
      return WithExitCode(
          absl::ResourceExhaustedError(
              absl::StrCat("message of ", payload,
                           " bytes exceeds the limit of ", kMaxPayloadLength)),
          ExitCode::kInvalid);
    }
    Set(12, 4, static_cast<uint32_t>(payload));
    return std::move(bytes_);
  }

 private:
  // Stores the `size` low bytes of `value` big-endian at `offset`.
  void Set(size_t offset, size_t size, uint32_t value) {
    for (size_t i = 0; i < size; ++i) {
      bytes_[offset + i] = static_cast<uint8_t>(value >> (8 * (size - 1 - i)));
    }
  }

  // Keeps the first field that cannot be sent.
  void Fail(absl::Status status) {
    if (error_.ok())
      error_ = WithExitCode(std::move(status), ExitCode::kInvalid);
  }

  std::vector<uint8_t> bytes_;
  absl::Status error_;  // the first field that cannot be sent
};

void PutOptionalSid(MessageWriter& writer, const std::optional<uint32_t>& sid) {
  if (sid.has_value()) writer.U32(FieldTag::kSid, *sid);
}

void PutFields(MessageWriter&, const PingRequest&) {}
void PutProgress(MessageWriter& writer, bool progress) {
  if (progress) writer.U32(FieldTag::kProgress, 1);
}
void PutSelector(MessageWriter& writer, const NodeSelector& nodes) {
  if (nodes.target.has_value()) writer.Text(FieldTag::kTarget, *nodes.target);
  if (nodes.address.has_value()) {
    writer.Text(FieldTag::kAddress, *nodes.address);
  }
  if (nodes.port.has_value()) writer.U32(FieldTag::kPort, *nodes.port);
  if (nodes.tpgt.has_value()) writer.U32(FieldTag::kTpgt, *nodes.tpgt);
  if (nodes.iface.has_value()) writer.Text(FieldTag::kIface, *nodes.iface);
}
void PutFields(MessageWriter& writer, const LoginRequest& request) {
  PutSelector(writer, request.nodes);
  PutProgress(writer, request.progress);
  if (request.firmware) writer.U32(FieldTag::kFirmware, 1);
}
void PutFields(MessageWriter& writer, const LogoutRequest& request) {
  PutOptionalSid(writer, request.sid);
  PutSelector(writer, request.nodes);
}
void PutFields(MessageWriter& writer, const LogoutAllRequest& request) {
  writer.U32(FieldTag::kFilter, static_cast<uint32_t>(request.filter));
}
void PutFields(MessageWriter& writer, const LoginAllRequest& request) {
  writer.U32(FieldTag::kFilter, static_cast<uint32_t>(request.filter));
  PutProgress(writer, request.progress);
}
void PutFields(MessageWriter& writer, const StatsRequest& request) {
  PutOptionalSid(writer, request.sid);
}
void PutFields(MessageWriter&, const ReloadRequest&) {}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> EncodeRequest(uint32_t request_id,
                                                   const Request& request) {
  MessageWriter writer(TypeOf(request), request_id);
  std::visit([&writer](const auto& r) { PutFields(writer, r); }, request);
  return std::move(writer).Finish();
}

absl::StatusOr<std::vector<uint8_t>> EncodeReply(uint32_t request_id,
                                                 const Reply& reply) {
  MessageWriter writer(MessageType::kReply, request_id);
  writer.U32(FieldTag::kStatusCode, static_cast<uint32_t>(reply.code));
  writer.U32(FieldTag::kExitCode, static_cast<uint32_t>(reply.exit_code));
  writer.Text(FieldTag::kMessage, reply.message);
  for (const std::string& line : reply.out_lines) {
    writer.Text(FieldTag::kOutLine, line);
  }
  for (const std::string& line : reply.err_lines) {
    writer.Text(FieldTag::kErrLine, line);
  }
  for (const SessionStats& stats : reply.stats) writer.Stats(stats);
  return std::move(writer).Finish();
}

absl::StatusOr<std::vector<uint8_t>> EncodeProgress(
    uint32_t request_id, const std::vector<std::string>& out_lines) {
  MessageWriter writer(MessageType::kProgress, request_id);
  for (const std::string& line : out_lines) {
    writer.Text(FieldTag::kOutLine, line);
  }
  return std::move(writer).Finish();
}

}  // namespace kiscsi::ipc
