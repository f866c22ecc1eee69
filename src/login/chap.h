// CHAP (RFC 1994 as used by RFC 7143 section 12.1.3) with the digest algorithms
// iSCSI targets offer: MD5, SHA1, SHA-256 and SHA3-256 (RFC 7143 plus the IANA
// CHAP_A registry values).
//
// Pure functions: digests through OpenSSL, binary values in iSCSI's hex
// ("0x...") and base64 ("0b...") encodings, constant-time comparison, and
// challenges from the kernel's RNG.
#ifndef KISCSI_SRC_LOGIN_CHAP_H_
#define KISCSI_SRC_LOGIN_CHAP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kiscsi {

// Values are the CHAP_A numbers on the wire.
enum class ChapAlgorithm : int {
  kMd5 = 5,
  kSha1 = 6,
  kSha256 = 7,
  kSha3_256 = 8,
};

// "MD5", "SHA1", "SHA256", "SHA3-256" (the spelling of iscsid.conf's
// chap_algs).
absl::string_view ChapAlgorithmName(ChapAlgorithm algorithm);
// Parses one name as above (case-insensitive).
std::optional<ChapAlgorithm> ChapAlgorithmFromName(absl::string_view name);
// Parses a CHAP_A number; nullopt for one we do not implement.
std::optional<ChapAlgorithm> ChapAlgorithmFromNumber(int number);
// Digest length in bytes: 16, 20, 32, 32.
size_t ChapDigestSize(ChapAlgorithm algorithm);

// Digest(id || secret || challenge) with the algorithm's hash.
std::vector<uint8_t> ChapResponse(ChapAlgorithm algorithm, uint8_t id,
                                  absl::string_view secret,
                                  absl::Span<const uint8_t> challenge);

// Decodes an iSCSI binary value: "0x" or "0X" followed by hex digits (an odd
// count is allowed, as RFC 7143 says, with an implied leading zero), or
// "0b"/"0B" followed by base64. Bare decimal is not accepted for binary CHAP
// values.
absl::StatusOr<std::vector<uint8_t>> DecodeBinaryValue(absl::string_view value);
// "0x" followed by lowercase hex.
std::string EncodeHexValue(absl::Span<const uint8_t> bytes);
// "0b" followed by base64.
std::string EncodeBase64Value(absl::Span<const uint8_t> bytes);

// Compares in time that depends only on the lengths.
bool ConstantTimeEqual(absl::Span<const uint8_t> a,
                       absl::Span<const uint8_t> b);

// `length` bytes from getrandom(2).
absl::StatusOr<std::vector<uint8_t>> RandomBytes(size_t length);

}  // namespace kiscsi

#endif  // KISCSI_SRC_LOGIN_CHAP_H_
