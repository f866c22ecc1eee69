// The untyped side of pdu.h: opcode and reject reason names, the BHS length
// fields, and the framing (SerializePdu, PduReader: padding, CRC32C digests,
// limits on what a peer can make us buffer). The typed Encode/Decode* codecs
// are in pdu_codec.cc.
#include "src/protocol/pdu.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "src/protocol/crc32c.h"

namespace kiscsi {
namespace {

size_t Pad4(size_t n) { return (n + 3) & ~size_t{3}; }

}  // namespace

std::string OpcodeName(uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kNopOut:
      return "NOP-Out";
    case Opcode::kScsiCommand:
      return "SCSI Command";
    case Opcode::kTaskMgmtRequest:
      return "Task Management Request";
    case Opcode::kLoginRequest:
      return "Login Request";
    case Opcode::kTextRequest:
      return "Text Request";
    case Opcode::kScsiDataOut:
      return "SCSI Data-Out";
    case Opcode::kLogoutRequest:
      return "Logout Request";
    case Opcode::kSnackRequest:
      return "SNACK Request";
    case Opcode::kNopIn:
      return "NOP-In";
    case Opcode::kScsiResponse:
      return "SCSI Response";
    case Opcode::kTaskMgmtResponse:
      return "Task Management Response";
    case Opcode::kLoginResponse:
      return "Login Response";
    case Opcode::kTextResponse:
      return "Text Response";
    case Opcode::kScsiDataIn:
      return "SCSI Data-In";
    case Opcode::kLogoutResponse:
      return "Logout Response";
    case Opcode::kR2t:
      return "R2T";
    case Opcode::kAsyncMessage:
      return "Asynchronous Message";
    case Opcode::kReject:
      return "Reject";
  }
  return absl::StrCat("opcode 0x", absl::Hex(opcode, absl::kZeroPad2));
}

std::string RejectReasonName(uint8_t reason) {
  switch (reason) {
    case 0x02:
      return "data (payload) digest error";
    case 0x03:
      return "SNACK reject";
    case 0x04:
      return "protocol error";
    case 0x05:
      return "command not supported";
    case 0x06:
      return "immediate command reject";
    case 0x07:
      return "task in progress";
    case 0x08:
      return "invalid data ack";
    case 0x09:
      return "invalid PDU field";
    case 0x0a:
      return "long operation reject";
    case 0x0b:
      return "deprecated reason";
    case 0x0c:
      return "waiting for logout";
    default:
      return absl::StrCat("reason 0x", absl::Hex(reason, absl::kZeroPad2));
  }
}

void Pdu::UpdateLengths() {
  bhs[4] = static_cast<uint8_t>(Pad4(ahs.size()) / 4);
  const auto length = static_cast<uint32_t>(data.size());
  bhs[5] = static_cast<uint8_t>(length >> 16);
  bhs[6] = static_cast<uint8_t>(length >> 8);
  bhs[7] = static_cast<uint8_t>(length);
}

// ---- Framing ----

std::vector<uint8_t> SerializePdu(Pdu pdu, DigestOptions digests) {
  pdu.UpdateLengths();
  const size_t ahs_length = Pad4(pdu.ahs.size());
  const size_t data_length = Pad4(pdu.data.size());
  const bool data_digest = digests.data && !pdu.data.empty();
  std::vector<uint8_t> out;
  out.reserve(kBhsSize + ahs_length + (digests.header ? kDigestSize : 0) +
              data_length + (data_digest ? kDigestSize : 0));
  out.insert(out.end(), pdu.bhs.begin(), pdu.bhs.end());
  out.insert(out.end(), pdu.ahs.begin(), pdu.ahs.end());
  out.resize(kBhsSize + ahs_length, 0);
  if (digests.header) {
    uint8_t wire[kDigestSize];
    Crc32cToWire(Crc32c(out), wire);
    out.insert(out.end(), wire, wire + kDigestSize);
  }
  const size_t data_start = out.size();
  out.insert(out.end(), pdu.data.begin(), pdu.data.end());
  out.resize(data_start + data_length, 0);
  if (data_digest) {
    uint8_t wire[kDigestSize];
    Crc32cToWire(Crc32c(absl::MakeConstSpan(out).subspan(data_start)), wire);
    out.insert(out.end(), wire, wire + kDigestSize);
  }
  return out;
}

namespace {

// Where the parts of the PDU at the front of a buffer lie, from its BHS and the
// digest options.
struct Layout {
  size_t ahs_length;   // TotalAHSLength in bytes
  size_t header_end;   // BHS + AHS + header digest
  size_t data_length;  // DataSegmentLength, without padding
  size_t total;        // everything up to and including the data digest
};

Layout LayoutOf(absl::Span<const uint8_t> bhs, DigestOptions digests) {
  Layout layout;
  layout.ahs_length = bhs[4] * size_t{4};
  layout.header_end =
      kBhsSize + layout.ahs_length + (digests.header ? kDigestSize : 0);
  layout.data_length = size_t{bhs[5]} << 16 | size_t{bhs[6]} << 8 | bhs[7];
  layout.total = layout.header_end + Pad4(layout.data_length) +
                 (digests.data && layout.data_length > 0 ? kDigestSize : 0);
  return layout;
}

absl::Status DigestMismatch(const char* which, uint32_t got,
                            uint32_t computed) {
  return absl::DataLossError(absl::StrCat(
      which, " digest mismatch (got 0x", absl::Hex(got, absl::kZeroPad8),
      ", computed 0x", absl::Hex(computed, absl::kZeroPad8), ")"));
}

}  // namespace

absl::Status PduReader::Feed(absl::Span<const uint8_t> bytes) {
  if (!error_.ok()) return error_;
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  error_ = Parse();
  if (!error_.ok()) {
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  return error_;
}

absl::Status PduReader::Parse() {
  const absl::Span<const uint8_t> all = buffer_;
  size_t pos = 0;
  absl::Status status;
  while (all.size() - pos >= kBhsSize) {
    const absl::Span<const uint8_t> rest = all.subspan(pos);
    const Layout layout = LayoutOf(rest, limits_.digests);
    if (rest.size() < layout.header_end) break;
    if (limits_.digests.header) {
      const size_t covered = layout.header_end - kDigestSize;
      const uint32_t computed = Crc32c(rest.subspan(0, covered));
      const uint32_t got = Crc32cFromWire(&rest[covered]);
      if (got != computed) {
        status = DigestMismatch("header", got, computed);
        break;
      }
    }
    // Checked once the header is known to be intact and before any of the data
    // is kept.
    if (layout.data_length > limits_.max_data_segment_length) {
      status = absl::InvalidArgumentError(absl::StrCat(
          OpcodeName(rest[0] & 0x3f), " declares a data segment of ",
          layout.data_length, " bytes, over the limit of ",
          limits_.max_data_segment_length));
      break;
    }
    if (rest.size() < layout.total) break;
    const size_t data_start = layout.header_end;
    const size_t padded_end = data_start + Pad4(layout.data_length);
    if (limits_.digests.data && layout.data_length > 0) {
      const uint32_t computed =
          Crc32c(rest.subspan(data_start, padded_end - data_start));
      const uint32_t got = Crc32cFromWire(&rest[padded_end]);
      if (got != computed) {
        status = DigestMismatch("data", got, computed);
        break;
      }
    }
    Pdu pdu;
    std::copy(rest.begin(), rest.begin() + kBhsSize, pdu.bhs.begin());
    pdu.ahs.assign(rest.begin() + kBhsSize,
                   rest.begin() + kBhsSize + layout.ahs_length);
    pdu.data.assign(rest.begin() + data_start,
                    rest.begin() + data_start + layout.data_length);
    ready_.push_back(std::move(pdu));
    pos += layout.total;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(pos));
  return status;
}

std::optional<Pdu> PduReader::Next() {
  if (ready_.empty()) return std::nullopt;
  Pdu pdu = std::move(ready_.front());
  ready_.pop_front();
  return pdu;
}

size_t PduReader::BytesWanted() const {
  if (buffer_.size() < kBhsSize) return kBhsSize - buffer_.size();
  const Layout layout = LayoutOf(buffer_, limits_.digests);
  // Until the header digest has been checked, ask only for the header: its
  // lengths are untrusted.
  if (buffer_.size() < layout.header_end)
    return layout.header_end - buffer_.size();
  // After SetLimits() changes the digest options, bytes already buffered may
  // cover a whole PDU under the new layout; the next Feed() parses it.
  return layout.total > buffer_.size() ? layout.total - buffer_.size() : 1;
}

}  // namespace kiscsi
