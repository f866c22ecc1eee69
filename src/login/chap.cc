#include "src/login/chap.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"

namespace kiscsi {
namespace {

const EVP_MD* DigestOf(ChapAlgorithm algorithm) {
  switch (algorithm) {
    case ChapAlgorithm::kMd5:
      return EVP_md5();
    case ChapAlgorithm::kSha1:
      return EVP_sha1();
    case ChapAlgorithm::kSha256:
      return EVP_sha256();
    case ChapAlgorithm::kSha3_256:
      return EVP_sha3_256();
  }
  return EVP_md5();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsBase64Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' ||
         c == '/';
}

absl::StatusOr<std::vector<uint8_t>> DecodeHex(absl::string_view digits) {
  if (digits.empty()) {
    return absl::InvalidArgumentError("hex value has no digits after 0x");
  }
  std::vector<uint8_t> bytes;
  bytes.reserve(digits.size() / 2 + 1);
  size_t i = 0;
  // An odd digit count means an implied leading zero nibble.
  if (digits.size() % 2 == 1) {
    const int low = HexDigit(digits[0]);
    if (low < 0) {
      return absl::InvalidArgumentError("hex value has a non-hex digit");
    }
    bytes.push_back(static_cast<uint8_t>(low));
    i = 1;
  }
  for (; i < digits.size(); i += 2) {
    const int high = HexDigit(digits[i]);
    const int low = HexDigit(digits[i + 1]);
    if (high < 0 || low < 0) {
      return absl::InvalidArgumentError("hex value has a non-hex digit");
    }
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return bytes;
}

absl::StatusOr<std::vector<uint8_t>> DecodeBase64(absl::string_view text) {
  // Strict RFC 4648: alphabet characters, then at most two '=' making the
  // length a multiple of 4.
  size_t data_end = text.size();
  while (data_end > 0 && text[data_end - 1] == '=') --data_end;
  const size_t padding = text.size() - data_end;
  if (data_end == 0) {
    return absl::InvalidArgumentError("base64 value has no digits after 0b");
  }
  for (size_t i = 0; i < data_end; ++i) {
    if (!IsBase64Char(text[i])) {
      return absl::InvalidArgumentError(
          "base64 value has a character outside the base64 alphabet");
    }
  }
  if (padding > 2 || text.size() % 4 != 0) {
    return absl::InvalidArgumentError("base64 value is not correctly padded");
  }
  std::string decoded;
  if (!absl::Base64Unescape(text, &decoded)) {
    return absl::InvalidArgumentError("base64 value does not decode");
  }
  return std::vector<uint8_t>(decoded.begin(), decoded.end());
}

}  // namespace

absl::string_view ChapAlgorithmName(ChapAlgorithm algorithm) {
  switch (algorithm) {
    case ChapAlgorithm::kMd5:
      return "MD5";
    case ChapAlgorithm::kSha1:
      return "SHA1";
    case ChapAlgorithm::kSha256:
      return "SHA256";
    case ChapAlgorithm::kSha3_256:
      return "SHA3-256";
  }
  return "unknown";
}

std::optional<ChapAlgorithm> ChapAlgorithmFromName(absl::string_view name) {
  for (ChapAlgorithm algorithm :
       {ChapAlgorithm::kMd5, ChapAlgorithm::kSha1, ChapAlgorithm::kSha256,
        ChapAlgorithm::kSha3_256}) {
    if (absl::EqualsIgnoreCase(name, ChapAlgorithmName(algorithm))) {
      return algorithm;
    }
  }
  return std::nullopt;
}

std::optional<ChapAlgorithm> ChapAlgorithmFromNumber(int number) {
  switch (number) {
    case 5:
      return ChapAlgorithm::kMd5;
    case 6:
      return ChapAlgorithm::kSha1;
    case 7:
      return ChapAlgorithm::kSha256;
    case 8:
      return ChapAlgorithm::kSha3_256;
    default:
      return std::nullopt;
  }
}

size_t ChapDigestSize(ChapAlgorithm algorithm) {
  return static_cast<size_t>(EVP_MD_size(DigestOf(algorithm)));
}

std::vector<uint8_t> ChapResponse(ChapAlgorithm algorithm, uint8_t id,
                                  absl::string_view secret,
                                  absl::Span<const uint8_t> challenge) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::vector<uint8_t> digest(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  // These calls fail only when OpenSSL cannot allocate; there is no meaningful
  // recovery.
  if (context == nullptr ||
      EVP_DigestInit_ex(context.get(), DigestOf(algorithm), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), &id, 1) != 1 ||
      EVP_DigestUpdate(context.get(), secret.data(), secret.size()) != 1 ||
      EVP_DigestUpdate(context.get(), challenge.data(), challenge.size()) !=
          1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    std::abort();
  }
  digest.resize(length);
  return digest;
}

absl::StatusOr<std::vector<uint8_t>> DecodeBinaryValue(
    absl::string_view value) {
  if (value.size() >= 2 && value[0] == '0') {
    if (value[1] == 'x' || value[1] == 'X') return DecodeHex(value.substr(2));
    if (value[1] == 'b' || value[1] == 'B') {
      return DecodeBase64(value.substr(2));
    }
  }
  return absl::InvalidArgumentError(
      "binary value must start with 0x (hex) or 0b (base64)");
}

std::string EncodeHexValue(absl::Span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.reserve(2 + bytes.size() * 2);
  for (uint8_t byte : bytes) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

std::string EncodeBase64Value(absl::Span<const uint8_t> bytes) {
  return absl::StrCat(
      "0b", absl::Base64Escape(absl::string_view(
                reinterpret_cast<const char*>(bytes.data()), bytes.size())));
}

bool ConstantTimeEqual(absl::Span<const uint8_t> a,
                       absl::Span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::vector<uint8_t>> RandomBytes(size_t length) {
  std::vector<uint8_t> bytes(length);
  size_t filled = 0;
  while (filled < length) {
    const ssize_t got = getrandom(bytes.data() + filled, length - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "getrandom");
    }
    filled += static_cast<size_t>(got);
  }
  return bytes;
}

}  // namespace kiscsi
