// CRC32C (Castagnoli), as iSCSI header and data digests use it (RFC 7143
// section 13.1, with the test vectors of RFC 3720 appendix B.4).
#ifndef KISCSI_SRC_PROTOCOL_CRC32C_H_
#define KISCSI_SRC_PROTOCOL_CRC32C_H_

#include <cstdint>

#include "absl/types/span.h"

namespace kiscsi {

// CRC32C of `bytes`. Crc32c(more, Crc32c(first)) == Crc32c(first ++ more).
uint32_t Crc32c(absl::Span<const uint8_t> bytes, uint32_t previous = 0);

// The 4 digest bytes as they appear on the wire after a header or data segment.
void Crc32cToWire(uint32_t crc, uint8_t out[4]);
uint32_t Crc32cFromWire(const uint8_t in[4]);

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROTOCOL_CRC32C_H_
