// The typed PDU codecs of pdu.h, one section per PDU family (Login, Text,
// Logout, NOP, SCSI Command/Response, Async Message, Reject): Encode() lays a
// struct out in the BHS, Decode*() checks the opcode, the lengths and the
// flags of a Pdu and fills a struct in. Pure; never touches a byte stream
// (the framing, padding and digests are in pdu.cc).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "src/base/status_macros.h"
#include "src/protocol/pdu.h"

namespace kiscsi {
namespace {

// Byte 1 flag bits shared by several PDUs. kFinalBit is F, and also the fixed
// 1 of PDUs that are always final.
constexpr uint8_t kFinalBit = 0x80;
constexpr uint8_t kTransitBit = 0x80;   // Login T
constexpr uint8_t kContinueBit = 0x40;  // Login/Text C
constexpr uint8_t kImmediateBit = 0x40;
constexpr uint8_t kReadBit = 0x40;       // SCSI Command R
constexpr uint8_t kWriteBit = 0x20;      // SCSI Command W
constexpr uint8_t kResidualBits = 0x1e;  // SCSI Response o, u, O, U
constexpr uint8_t kBidiOverflow = 0x10;
constexpr uint8_t kBidiUnderflow = 0x08;
constexpr uint8_t kOverflow = 0x04;
constexpr uint8_t kUnderflow = 0x02;

void Put16(Bhs& bhs, size_t offset, uint16_t v) {
  bhs[offset] = static_cast<uint8_t>(v >> 8);
  bhs[offset + 1] = static_cast<uint8_t>(v);
}
void Put32(Bhs& bhs, size_t offset, uint32_t v) {
  for (size_t i = 0; i < 4; ++i)
    bhs[offset + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void Put64(Bhs& bhs, size_t offset, uint64_t v) {
  for (size_t i = 0; i < 8; ++i)
    bhs[offset + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint16_t Get16(const Bhs& bhs, size_t offset) {
  return static_cast<uint16_t>(bhs[offset] << 8 | bhs[offset + 1]);
}
uint32_t Get32(const Bhs& bhs, size_t offset) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | bhs[offset + i];
  return v;
}
uint64_t Get64(const Bhs& bhs, size_t offset) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | bhs[offset + i];
  return v;
}

Pdu NewPdu(Opcode opcode, bool immediate, std::vector<uint8_t> data) {
  Pdu pdu;
  pdu.bhs[0] = static_cast<uint8_t>(opcode) | (immediate ? kImmediateBit : 0);
  pdu.data = std::move(data);
  pdu.UpdateLengths();
  return pdu;
}

std::string OpcodeLabel(uint8_t opcode) {
  return absl::StrCat(OpcodeName(opcode), " (0x",
                      absl::Hex(opcode, absl::kZeroPad2), ")");
}

// The checks every Decode* shares: the opcode, and that the BHS lengths
// describe the Pdu.
absl::Status CheckPdu(const Pdu& pdu, Opcode expected) {
  if (pdu.opcode() != static_cast<uint8_t>(expected)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", OpcodeLabel(static_cast<uint8_t>(expected)),
                     " PDU, got ", OpcodeLabel(pdu.opcode())));
  }
  if (pdu.declared_data_length() != pdu.data.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        OpcodeName(pdu.opcode()), " declares a data segment of ",
        pdu.declared_data_length(), " bytes but carries ", pdu.data.size()));
  }
  if (pdu.declared_ahs_length() != pdu.ahs.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        OpcodeName(pdu.opcode()), " declares ", pdu.declared_ahs_length(),
        " bytes of AHS but carries ", pdu.ahs.size()));
  }
  return absl::OkStatus();
}

// Text and Login PDUs: a PDU that continues (C=1) cannot also be final/transit
// (F or T = 1).
absl::Status CheckFinalAndContinue(const Pdu& pdu, const char* final_name) {
  if ((pdu.bhs[1] & kFinalBit) && (pdu.bhs[1] & kContinueBit)) {
    return absl::InvalidArgumentError(absl::StrCat(OpcodeName(pdu.opcode()),
                                                   " has both the ", final_name,
                                                   " and C bits set"));
  }
  return absl::OkStatus();
}

void EncodeLoginFlags(Bhs& bhs, bool transit, bool cont, LoginStage csg,
                      LoginStage nsg) {
  bhs[1] = static_cast<uint8_t>((transit ? kTransitBit : 0) |
                                (cont ? kContinueBit : 0) |
                                (static_cast<uint8_t>(csg) & 3) << 2 |
                                (transit ? static_cast<uint8_t>(nsg) & 3 : 0));
}

struct LoginFlags {
  bool transit;
  bool cont;
  LoginStage csg;
  LoginStage nsg;
};

// CSG must name a login stage (0 or 1); NSG, meaningful only with T, must not
// be the reserved 2.
absl::StatusOr<LoginFlags> DecodeLoginFlags(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckFinalAndContinue(pdu, "T"));
  const uint8_t b = pdu.bhs[1];
  LoginFlags flags{(b & kTransitBit) != 0, (b & kContinueBit) != 0,
                   static_cast<LoginStage>((b >> 2) & 3),
                   LoginStage::kSecurityNegotiation};
  if (flags.csg != LoginStage::kSecurityNegotiation &&
      flags.csg != LoginStage::kOperationalNegotiation) {
    return absl::InvalidArgumentError(absl::StrCat(
        OpcodeName(pdu.opcode()), " has CSG ", static_cast<int>(flags.csg),
        ", which is not a login stage"));
  }
  if (flags.transit) {
    const uint8_t nsg = b & 3;
    if (nsg == 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          OpcodeName(pdu.opcode()), " has the reserved NSG value 2"));
    }
    flags.nsg = static_cast<LoginStage>(nsg);
  }
  return flags;
}

}  // namespace

// ---- Login (RFC 7143 11.12, 11.13) ----

Pdu Encode(const LoginRequestPdu& r) {
  Pdu pdu = NewPdu(Opcode::kLoginRequest, /*immediate=*/true, r.data);
  EncodeLoginFlags(pdu.bhs, r.transit, r.cont, r.csg, r.nsg);
  pdu.bhs[2] = r.version_max;
  pdu.bhs[3] = r.version_min;
  std::copy(r.isid.begin(), r.isid.end(), pdu.bhs.begin() + 8);
  Put16(pdu.bhs, 14, r.tsih);
  Put32(pdu.bhs, 16, r.itt);
  Put16(pdu.bhs, 20, r.cid);
  Put32(pdu.bhs, 24, r.cmdsn);
  Put32(pdu.bhs, 28, r.exp_statsn);
  return pdu;
}

absl::StatusOr<LoginRequestPdu> DecodeLoginRequest(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kLoginRequest));
  ASSIGN_OR_RETURN(LoginFlags flags, DecodeLoginFlags(pdu));
  LoginRequestPdu r;
  r.transit = flags.transit;
  r.cont = flags.cont;
  r.csg = flags.csg;
  r.nsg = flags.nsg;
  r.version_max = pdu.bhs[2];
  r.version_min = pdu.bhs[3];
  std::copy(pdu.bhs.begin() + 8, pdu.bhs.begin() + 14, r.isid.begin());
  r.tsih = Get16(pdu.bhs, 14);
  r.itt = Get32(pdu.bhs, 16);
  r.cid = Get16(pdu.bhs, 20);
  r.cmdsn = Get32(pdu.bhs, 24);
  r.exp_statsn = Get32(pdu.bhs, 28);
  r.data = pdu.data;
  return r;
}

Pdu Encode(const LoginResponse& r) {
  Pdu pdu = NewPdu(Opcode::kLoginResponse, /*immediate=*/false, r.data);
  EncodeLoginFlags(pdu.bhs, r.transit, r.cont, r.csg, r.nsg);
  pdu.bhs[2] = r.version_max;
  pdu.bhs[3] = r.version_active;
  std::copy(r.isid.begin(), r.isid.end(), pdu.bhs.begin() + 8);
  Put16(pdu.bhs, 14, r.tsih);
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  pdu.bhs[36] = r.status_class;
  pdu.bhs[37] = r.status_detail;
  return pdu;
}

absl::StatusOr<LoginResponse> DecodeLoginResponse(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kLoginResponse));
  ASSIGN_OR_RETURN(LoginFlags flags, DecodeLoginFlags(pdu));
  LoginResponse r;
  r.transit = flags.transit;
  r.cont = flags.cont;
  r.csg = flags.csg;
  r.nsg = flags.nsg;
  r.version_max = pdu.bhs[2];
  r.version_active = pdu.bhs[3];
  std::copy(pdu.bhs.begin() + 8, pdu.bhs.begin() + 14, r.isid.begin());
  r.tsih = Get16(pdu.bhs, 14);
  r.itt = Get32(pdu.bhs, 16);
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.status_class = pdu.bhs[36];
  r.status_detail = pdu.bhs[37];
  r.data = pdu.data;
  return r;
}

// ---- Text (RFC 7143 11.10, 11.11) ----

Pdu Encode(const TextRequest& r) {
  Pdu pdu = NewPdu(Opcode::kTextRequest, r.immediate, r.data);
  pdu.bhs[1] = (r.final ? kFinalBit : 0) | (r.cont ? kContinueBit : 0);
  Put64(pdu.bhs, 8, r.lun);
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 20, r.ttt);
  Put32(pdu.bhs, 24, r.cmdsn);
  Put32(pdu.bhs, 28, r.exp_statsn);
  return pdu;
}

absl::StatusOr<TextRequest> DecodeTextRequest(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kTextRequest));
  RETURN_IF_ERROR(CheckFinalAndContinue(pdu, "F"));
  TextRequest r;
  r.final = (pdu.bhs[1] & kFinalBit) != 0;
  r.cont = (pdu.bhs[1] & kContinueBit) != 0;
  r.immediate = pdu.immediate();
  r.lun = Get64(pdu.bhs, 8);
  r.itt = Get32(pdu.bhs, 16);
  r.ttt = Get32(pdu.bhs, 20);
  r.cmdsn = Get32(pdu.bhs, 24);
  r.exp_statsn = Get32(pdu.bhs, 28);
  r.data = pdu.data;
  return r;
}

Pdu Encode(const TextResponse& r) {
  Pdu pdu = NewPdu(Opcode::kTextResponse, /*immediate=*/false, r.data);
  pdu.bhs[1] = (r.final ? kFinalBit : 0) | (r.cont ? kContinueBit : 0);
  Put64(pdu.bhs, 8, r.lun);
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 20, r.ttt);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  return pdu;
}

absl::StatusOr<TextResponse> DecodeTextResponse(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kTextResponse));
  RETURN_IF_ERROR(CheckFinalAndContinue(pdu, "F"));
  TextResponse r;
  r.final = (pdu.bhs[1] & kFinalBit) != 0;
  r.cont = (pdu.bhs[1] & kContinueBit) != 0;
  r.lun = Get64(pdu.bhs, 8);
  r.itt = Get32(pdu.bhs, 16);
  r.ttt = Get32(pdu.bhs, 20);
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.data = pdu.data;
  return r;
}

// ---- Logout (RFC 7143 11.14, 11.15) ----

Pdu Encode(const LogoutRequestPdu& r) {
  Pdu pdu = NewPdu(Opcode::kLogoutRequest, r.immediate, {});
  pdu.bhs[1] = kFinalBit | (static_cast<uint8_t>(r.reason) & 0x7f);
  Put32(pdu.bhs, 16, r.itt);
  Put16(pdu.bhs, 20, r.cid);
  Put32(pdu.bhs, 24, r.cmdsn);
  Put32(pdu.bhs, 28, r.exp_statsn);
  return pdu;
}

absl::StatusOr<LogoutRequestPdu> DecodeLogoutRequest(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kLogoutRequest));
  const uint8_t reason = pdu.bhs[1] & 0x7f;
  if (reason >
      static_cast<uint8_t>(LogoutReason::kRemoveConnectionForRecovery)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Logout Request has the unknown reason code ", reason));
  }
  LogoutRequestPdu r;
  r.immediate = pdu.immediate();
  r.reason = static_cast<LogoutReason>(reason);
  r.itt = Get32(pdu.bhs, 16);
  r.cid = Get16(pdu.bhs, 20);
  r.cmdsn = Get32(pdu.bhs, 24);
  r.exp_statsn = Get32(pdu.bhs, 28);
  return r;
}

Pdu Encode(const LogoutResponse& r) {
  Pdu pdu = NewPdu(Opcode::kLogoutResponse, /*immediate=*/false, {});
  pdu.bhs[1] = kFinalBit;
  pdu.bhs[2] = r.response;
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  Put16(pdu.bhs, 40, r.time2wait);
  Put16(pdu.bhs, 42, r.time2retain);
  return pdu;
}

absl::StatusOr<LogoutResponse> DecodeLogoutResponse(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kLogoutResponse));
  LogoutResponse r;
  r.response = pdu.bhs[2];
  r.itt = Get32(pdu.bhs, 16);
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.time2wait = Get16(pdu.bhs, 40);
  r.time2retain = Get16(pdu.bhs, 42);
  return r;
}

// ---- NOP (RFC 7143 11.18, 11.19) ----

Pdu Encode(const NopOut& r) {
  Pdu pdu = NewPdu(Opcode::kNopOut, r.immediate, r.data);
  pdu.bhs[1] = kFinalBit;
  Put64(pdu.bhs, 8, r.lun);
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 20, r.ttt);
  Put32(pdu.bhs, 24, r.cmdsn);
  Put32(pdu.bhs, 28, r.exp_statsn);
  return pdu;
}

absl::StatusOr<NopOut> DecodeNopOut(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kNopOut));
  NopOut r;
  r.immediate = pdu.immediate();
  r.lun = Get64(pdu.bhs, 8);
  r.itt = Get32(pdu.bhs, 16);
  r.ttt = Get32(pdu.bhs, 20);
  r.cmdsn = Get32(pdu.bhs, 24);
  r.exp_statsn = Get32(pdu.bhs, 28);
  r.data = pdu.data;
  return r;
}

Pdu Encode(const NopIn& r) {
  Pdu pdu = NewPdu(Opcode::kNopIn, /*immediate=*/false, r.data);
  pdu.bhs[1] = kFinalBit;
  Put64(pdu.bhs, 8, r.lun);
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 20, r.ttt);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  return pdu;
}

absl::StatusOr<NopIn> DecodeNopIn(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kNopIn));
  NopIn r;
  r.lun = Get64(pdu.bhs, 8);
  r.itt = Get32(pdu.bhs, 16);
  r.ttt = Get32(pdu.bhs, 20);
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.data = pdu.data;
  return r;
}

// ---- SCSI Command and Response (RFC 7143 11.3, 11.4) ----

Pdu Encode(const ScsiCommand& r) {
  Pdu pdu = NewPdu(Opcode::kScsiCommand, r.immediate, r.data);
  pdu.bhs[1] =
      static_cast<uint8_t>((r.final ? kFinalBit : 0) | (r.read ? kReadBit : 0) |
                           (r.write ? kWriteBit : 0) | (r.task_attr & 0x07));
  Put64(pdu.bhs, 8, r.lun);
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 20, r.expected_data_length);
  Put32(pdu.bhs, 24, r.cmdsn);
  Put32(pdu.bhs, 28, r.exp_statsn);
  std::copy(r.cdb.begin(), r.cdb.end(), pdu.bhs.begin() + 32);
  return pdu;
}

absl::StatusOr<ScsiCommand> DecodeScsiCommand(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kScsiCommand));
  ScsiCommand r;
  r.immediate = pdu.immediate();
  r.final = (pdu.bhs[1] & kFinalBit) != 0;
  r.read = (pdu.bhs[1] & kReadBit) != 0;
  r.write = (pdu.bhs[1] & kWriteBit) != 0;
  r.task_attr = pdu.bhs[1] & 0x07;
  r.lun = Get64(pdu.bhs, 8);
  r.itt = Get32(pdu.bhs, 16);
  r.expected_data_length = Get32(pdu.bhs, 20);
  r.cmdsn = Get32(pdu.bhs, 24);
  r.exp_statsn = Get32(pdu.bhs, 28);
  std::copy(pdu.bhs.begin() + 32, pdu.bhs.end(), r.cdb.begin());
  r.data = pdu.data;
  return r;
}

Pdu Encode(const ScsiResponse& r) {
  Pdu pdu = NewPdu(Opcode::kScsiResponse, /*immediate=*/false, r.data);
  pdu.bhs[1] = kFinalBit | (r.flags & kResidualBits);
  pdu.bhs[2] = r.response;
  pdu.bhs[3] = r.status;
  Put32(pdu.bhs, 16, r.itt);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  Put32(pdu.bhs, 36, r.exp_datasn);
  Put32(pdu.bhs, 40, r.bidi_residual);
  Put32(pdu.bhs, 44, r.residual);
  return pdu;
}

absl::StatusOr<ScsiResponse> DecodeScsiResponse(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kScsiResponse));
  const uint8_t flags = pdu.bhs[1] & kResidualBits;
  if ((flags & kBidiOverflow) && (flags & kBidiUnderflow)) {
    return absl::InvalidArgumentError(
        "SCSI Response has both the bidirectional overflow and underflow bits "
        "set");
  }
  if ((flags & kOverflow) && (flags & kUnderflow)) {
    return absl::InvalidArgumentError(
        "SCSI Response has both the overflow and underflow bits set");
  }
  ScsiResponse r;
  r.flags = flags;
  r.response = pdu.bhs[2];
  r.status = pdu.bhs[3];
  r.itt = Get32(pdu.bhs, 16);
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.exp_datasn = Get32(pdu.bhs, 36);
  r.bidi_residual = Get32(pdu.bhs, 40);
  r.residual = Get32(pdu.bhs, 44);
  r.data = pdu.data;
  return r;
}

// ---- Asynchronous Message (RFC 7143 11.9) ----

Pdu Encode(const AsyncMessage& r) {
  Pdu pdu = NewPdu(Opcode::kAsyncMessage, /*immediate=*/false, r.data);
  pdu.bhs[1] = kFinalBit;
  Put64(pdu.bhs, 8, r.lun);
  Put32(pdu.bhs, 16, kReservedTag);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  pdu.bhs[36] = r.async_event;
  pdu.bhs[37] = r.async_vcode;
  Put16(pdu.bhs, 38, r.parameter1);
  Put16(pdu.bhs, 40, r.parameter2);
  Put16(pdu.bhs, 42, r.parameter3);
  return pdu;
}

absl::StatusOr<AsyncMessage> DecodeAsyncMessage(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kAsyncMessage));
  AsyncMessage r;
  r.lun = Get64(pdu.bhs, 8);
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.async_event = pdu.bhs[36];
  r.async_vcode = pdu.bhs[37];
  r.parameter1 = Get16(pdu.bhs, 38);
  r.parameter2 = Get16(pdu.bhs, 40);
  r.parameter3 = Get16(pdu.bhs, 42);
  r.data = pdu.data;
  return r;
}

// ---- Reject (RFC 7143 11.17) ----

Pdu Encode(const Reject& r) {
  std::vector<uint8_t> data;
  if (r.rejected_bhs.has_value())
    data.assign(r.rejected_bhs->begin(), r.rejected_bhs->end());
  Pdu pdu = NewPdu(Opcode::kReject, /*immediate=*/false, std::move(data));
  pdu.bhs[1] = kFinalBit;
  pdu.bhs[2] = r.reason;
  Put32(pdu.bhs, 16, kReservedTag);
  Put32(pdu.bhs, 24, r.statsn);
  Put32(pdu.bhs, 28, r.exp_cmdsn);
  Put32(pdu.bhs, 32, r.max_cmdsn);
  Put32(pdu.bhs, 36, r.datasn);
  return pdu;
}

absl::StatusOr<Reject> DecodeReject(const Pdu& pdu) {
  RETURN_IF_ERROR(CheckPdu(pdu, Opcode::kReject));
  Reject r;
  r.reason = pdu.bhs[2];
  r.statsn = Get32(pdu.bhs, 24);
  r.exp_cmdsn = Get32(pdu.bhs, 28);
  r.max_cmdsn = Get32(pdu.bhs, 32);
  r.datasn = Get32(pdu.bhs, 36);
  // A data segment too short to hold a BHS carries nothing usable; the reason
  // still stands.
  if (pdu.data.size() >= kBhsSize) {
    Bhs rejected;
    std::copy(pdu.data.begin(), pdu.data.begin() + kBhsSize, rejected.begin());
    r.rejected_bhs = rejected;
  }
  return r;
}

}  // namespace kiscsi
