// iSCSI PDUs (RFC 7143 section 11): the 48-byte basic header segment, typed
// views of every PDU an initiator sends or receives, and the byte framing (AHS,
// padding, CRC32C digests).
//
// Three layers:
//   - Pdu: a PDU as bytes (BHS, AHS, data segment without padding).
//   - Typed structs (LoginRequestPdu, TextResponse, ...): Encode() builds a Pdu
//   from one;
//     Decode*() checks the opcode and fields of a Pdu and fills one in.
//   - Framing: SerializePdu() writes a Pdu as it travels on the wire (padding
//   and digests);
//     PduReader reassembles Pdus from a byte stream, enforcing limits, so
//     nothing a peer sends can make it allocate without bound or read past its
//     input.
// All multi-byte fields are big-endian on the wire; structs hold host-order
// values.
#ifndef KISCSI_SRC_PROTOCOL_PDU_H_
#define KISCSI_SRC_PROTOCOL_PDU_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace kiscsi {

inline constexpr size_t kBhsSize = 48;
inline constexpr size_t kDigestSize = 4;
// RFC 7143: DataSegmentLength is 24 bits.
inline constexpr uint32_t kMaxDataSegmentLength = (1u << 24) - 1;
inline constexpr uint32_t kReservedTag = 0xffffffff;

enum class Opcode : uint8_t {
  // Initiator opcodes.
  kNopOut = 0x00,
  kScsiCommand = 0x01,
  kTaskMgmtRequest = 0x02,
  kLoginRequest = 0x03,
  kTextRequest = 0x04,
  kScsiDataOut = 0x05,
  kLogoutRequest = 0x06,
  kSnackRequest = 0x10,
  // Target opcodes.
  kNopIn = 0x20,
  kScsiResponse = 0x21,
  kTaskMgmtResponse = 0x22,
  kLoginResponse = 0x23,
  kTextResponse = 0x24,
  kScsiDataIn = 0x25,
  kLogoutResponse = 0x26,
  kR2t = 0x31,
  kAsyncMessage = 0x32,
  kReject = 0x3f,
};

// A short name for logs: "Login Response", or "opcode 0x1b" for an unknown one.
std::string OpcodeName(uint8_t opcode);

using Bhs = std::array<uint8_t, kBhsSize>;
using Isid = std::array<uint8_t, 6>;

// A PDU as bytes. `ahs` and `data` hold no padding and no digests.
struct Pdu {
  Bhs bhs{};
  std::vector<uint8_t> ahs;
  std::vector<uint8_t> data;

  uint8_t opcode() const { return bhs[0] & 0x3f; }
  bool immediate() const { return (bhs[0] & 0x40) != 0; }
  // TotalAHSLength (in bytes) and DataSegmentLength as the BHS declares them.
  uint32_t declared_ahs_length() const { return bhs[4] * 4u; }
  uint32_t declared_data_length() const {
    return (uint32_t{bhs[5]} << 16) | (uint32_t{bhs[6]} << 8) | bhs[7];
  }
  // Writes TotalAHSLength and DataSegmentLength from ahs.size() (rounded up to
  // 4-byte words) and data.size(). The caller keeps ahs within 1020 bytes and
  // data within kMaxDataSegmentLength; every Encode() does.
  void UpdateLengths();
};

// Login stages (CSG/NSG).
enum class LoginStage : uint8_t {
  kSecurityNegotiation = 0,
  kOperationalNegotiation = 1,
  kFullFeaturePhase = 3,
};

struct LoginRequestPdu {
  bool transit = false;
  bool cont = false;
  LoginStage csg = LoginStage::kSecurityNegotiation;
  // Meaningful only with transit.
  LoginStage nsg = LoginStage::kSecurityNegotiation;
  uint8_t version_max = 0;
  uint8_t version_min = 0;
  Isid isid{};
  uint16_t tsih = 0;
  uint32_t itt = 0;
  uint16_t cid = 0;
  uint32_t cmdsn = 0;
  uint32_t exp_statsn = 0;
  std::vector<uint8_t> data;  // text key=value pairs
};

struct LoginResponse {
  bool transit = false;
  bool cont = false;
  LoginStage csg = LoginStage::kSecurityNegotiation;
  LoginStage nsg = LoginStage::kSecurityNegotiation;
  uint8_t version_max = 0;
  uint8_t version_active = 0;
  Isid isid{};
  uint16_t tsih = 0;
  uint32_t itt = 0;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  uint8_t status_class = 0;
  uint8_t status_detail = 0;
  std::vector<uint8_t> data;
};

struct TextRequest {
  bool final = true;
  bool cont = false;
  bool immediate = true;
  uint64_t lun = 0;
  uint32_t itt = 0;
  uint32_t ttt = kReservedTag;
  uint32_t cmdsn = 0;
  uint32_t exp_statsn = 0;
  std::vector<uint8_t> data;
};

struct TextResponse {
  bool final = true;
  bool cont = false;
  uint64_t lun = 0;
  uint32_t itt = 0;
  uint32_t ttt = kReservedTag;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  std::vector<uint8_t> data;
};

enum class LogoutReason : uint8_t {
  kCloseSession = 0,
  kCloseConnection = 1,
  kRemoveConnectionForRecovery = 2,
};

struct LogoutRequestPdu {
  bool immediate = true;
  LogoutReason reason = LogoutReason::kCloseSession;
  uint32_t itt = 0;
  uint16_t cid = 0;
  uint32_t cmdsn = 0;
  uint32_t exp_statsn = 0;
};

struct LogoutResponse {
  // 0 closed successfully, 1 CID not found, 2 unsupported, 3 failed.
  uint8_t response = 0;
  uint32_t itt = 0;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  uint16_t time2wait = 0;
  uint16_t time2retain = 0;
};

struct NopOut {
  bool immediate = true;
  uint64_t lun = 0;
  uint32_t itt = kReservedTag;
  uint32_t ttt = kReservedTag;
  uint32_t cmdsn = 0;
  uint32_t exp_statsn = 0;
  std::vector<uint8_t> data;  // ping data
};

struct NopIn {
  uint64_t lun = 0;
  uint32_t itt = kReservedTag;
  uint32_t ttt = kReservedTag;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  std::vector<uint8_t> data;
};

// SCSI Command (only what userspace needs: small commands such as INQUIRY or
// TEST UNIT READY).
struct ScsiCommand {
  bool immediate = false;
  bool final = true;
  bool read = false;
  bool write = false;
  uint8_t task_attr = 1;  // 1 = simple
  uint64_t lun = 0;
  uint32_t itt = 0;
  uint32_t expected_data_length = 0;
  uint32_t cmdsn = 0;
  uint32_t exp_statsn = 0;
  std::array<uint8_t, 16> cdb{};
  std::vector<uint8_t> data;  // immediate data
};

struct ScsiResponse {
  uint8_t flags = 0;     // byte 1: o/u/O/U residual bits
  uint8_t response = 0;  // 0 = command completed at target
  uint8_t status = 0;    // SCSI status
  uint32_t itt = 0;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  uint32_t exp_datasn = 0;
  uint32_t bidi_residual = 0;
  uint32_t residual = 0;
  // Sense data (with its 2-byte length prefix) or response data.
  std::vector<uint8_t> data;
};

// Asynchronous Message (RFC 7143 11.9).
enum class AsyncEvent : uint8_t {
  kScsiEvent = 0,
  kLogoutRequest = 1,
  kConnectionDrop = 2,
  kSessionDrop = 3,
  kRenegotiate = 4,
  kVendor = 255,
};

struct AsyncMessage {
  uint64_t lun = 0;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  uint8_t async_event = 0;
  uint8_t async_vcode = 0;
  uint16_t parameter1 = 0;
  uint16_t parameter2 = 0;  // Time2Wait for events 1..3
  uint16_t parameter3 = 0;  // Time2Retain for events 1..3
  std::vector<uint8_t> data;
};

struct Reject {
  uint8_t reason = 0;
  uint32_t statsn = 0;
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  uint32_t datasn = 0;
  // The BHS of the rejected PDU, when the data segment carries one.
  std::optional<Bhs> rejected_bhs;
};

// A short reason for a Reject, e.g. "protocol error" or "reason 0x42".
std::string RejectReasonName(uint8_t reason);

Pdu Encode(const LoginRequestPdu& pdu);
Pdu Encode(const LoginResponse& pdu);  // for fake targets in tests
Pdu Encode(const TextRequest& pdu);
Pdu Encode(const TextResponse& pdu);
Pdu Encode(const LogoutRequestPdu& pdu);
Pdu Encode(const LogoutResponse& pdu);
Pdu Encode(const NopOut& pdu);
Pdu Encode(const NopIn& pdu);
Pdu Encode(const ScsiCommand& pdu);
Pdu Encode(const ScsiResponse& pdu);
Pdu Encode(const AsyncMessage& pdu);
Pdu Encode(const Reject& pdu);

// Each Decode checks the opcode (InvalidArgument naming the expected and actual
// opcode) and that reserved structure is sane; it never reads past the Pdu.
absl::StatusOr<LoginRequestPdu> DecodeLoginRequest(const Pdu& pdu);
absl::StatusOr<LoginResponse> DecodeLoginResponse(const Pdu& pdu);
absl::StatusOr<TextRequest> DecodeTextRequest(const Pdu& pdu);
absl::StatusOr<TextResponse> DecodeTextResponse(const Pdu& pdu);
absl::StatusOr<LogoutRequestPdu> DecodeLogoutRequest(const Pdu& pdu);
absl::StatusOr<LogoutResponse> DecodeLogoutResponse(const Pdu& pdu);
absl::StatusOr<NopOut> DecodeNopOut(const Pdu& pdu);
absl::StatusOr<NopIn> DecodeNopIn(const Pdu& pdu);
absl::StatusOr<ScsiCommand> DecodeScsiCommand(const Pdu& pdu);
absl::StatusOr<ScsiResponse> DecodeScsiResponse(const Pdu& pdu);
absl::StatusOr<AsyncMessage> DecodeAsyncMessage(const Pdu& pdu);
absl::StatusOr<Reject> DecodeReject(const Pdu& pdu);

struct DigestOptions {
  bool header = false;  // HeaderDigest=CRC32C
  bool data = false;    // DataDigest=CRC32C
};

// The PDU as it goes on the wire: BHS, AHS, header digest, data, padding to 4
// bytes, data digest. Updates the BHS lengths from the vectors first. A PDU
// without data gets no data digest; an AHS that is not a whole number of words
// is zero-padded like the data.
std::vector<uint8_t> SerializePdu(Pdu pdu, DigestOptions digests = {});

struct PduReaderLimits {
  // Largest data segment accepted (our MaxRecvDataSegmentLength, or a discovery
  // limit).
  uint32_t max_data_segment_length = 262144;
  DigestOptions digests;
};

// Reassembles PDUs from a byte stream. Feed bytes in any chunking; take
// complete PDUs out. A malformed stream (a declared length over the limit, a
// digest mismatch) puts the reader in a failed state: Feed() returns the error
// and every later call returns it again. PDUs completed before the error can
// still be taken with Next(). A declared data length is checked against the
// limit (after the header digest, when enabled) before any of the data is
// buffered.
class PduReader {
 public:
  explicit PduReader(PduReaderLimits limits = {}) : limits_(limits) {}

  absl::Status Feed(absl::Span<const uint8_t> bytes);
  // The next complete PDU, if one has been assembled.
  std::optional<Pdu> Next();
  // How many more bytes are needed before the PDU in progress completes (at
  // least 1); lets a blocking caller read exactly what it needs. While the
  // header (BHS, AHS and header digest) is incomplete this counts only the
  // header, so a corrupt length never makes the caller wait for bytes the peer
  // will not send.
  size_t BytesWanted() const;
  void SetLimits(PduReaderLimits limits) { limits_ = limits; }

 private:
  absl::Status Parse();

  PduReaderLimits limits_;
  absl::Status error_;
  std::vector<uint8_t> buffer_;
  std::deque<Pdu> ready_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROTOCOL_PDU_H_
