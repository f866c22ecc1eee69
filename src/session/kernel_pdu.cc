#include "src/session/kernel_pdu.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kiscsi {

absl::StatusOr<Pdu> PduFromKernel(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < kBhsSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PDU from the kernel has ", bytes.size(), " bytes, less than a BHS"));
  }
  Pdu pdu;
  std::copy_n(bytes.begin(), kBhsSize, pdu.bhs.begin());
  const size_t ahs = pdu.declared_ahs_length();
  const size_t data = pdu.declared_data_length();
  if (bytes.size() < kBhsSize + ahs + data) {
    return absl::InvalidArgumentError(absl::StrCat(
        OpcodeName(pdu.opcode()), " from the kernel has ", bytes.size(),
        " bytes, its header declares ", kBhsSize + ahs + data));
  }
  const auto ahs_begin = bytes.begin() + kBhsSize;
  pdu.ahs.assign(ahs_begin, ahs_begin + ahs);
  pdu.data.assign(ahs_begin + ahs, ahs_begin + ahs + data);
  return pdu;
}

absl::Status SendPduThroughKernel(IscsiKernel& kernel, uint32_t sid,
                                  uint32_t cid, Pdu pdu) {
  pdu.UpdateLengths();
  return kernel.SendPdu(sid, cid, pdu.bhs, pdu.data);
}

}  // namespace kiscsi
