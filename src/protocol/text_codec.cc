#include "src/protocol/text_codec.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kiscsi {
namespace {

// How much of an offending pair an error message shows.
constexpr size_t kQuotedPrefix = 32;

// The pair as it appears in messages: a bounded prefix with non-printable bytes
// escaped.
std::string Quote(absl::string_view text) {
  const bool truncated = text.size() > kQuotedPrefix;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kQuotedPrefix)),
                      truncated ? "...\"" : "\"");
}

absl::Status PairError(absl::string_view pair, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("text pair ", Quote(pair), ": ", problem));
}

// RFC 7143 6.1: key names are letters, digits, '.', '-', '+', '@' and '_'.
bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
         c == '@' || c == '_';
}

// Offset of the first byte that is not part of well-formed UTF-8 (no overlong
// forms, no surrogates, nothing above U+10FFFF), or text.size() if all of it
// is.
size_t FirstInvalidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    size_t length;
    uint8_t lo = 0x80;  // allowed range of the second byte
    uint8_t hi = 0xbf;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      length = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      length = 3;
      if (b0 == 0xe0) lo = 0xa0;  // overlong
      if (b0 == 0xed) hi = 0x9f;  // surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      length = 4;
      if (b0 == 0xf0) lo = 0x90;  // overlong
      if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    const auto b1 = static_cast<uint8_t>(text[i + 1]);
    if (b1 < lo || b1 > hi) return i;
    for (size_t k = 2; k < length; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      if (b < 0x80 || b > 0xbf) return i;
    }
    i += length;
  }
  return text.size();
}

absl::StatusOr<TextPair> DecodePair(absl::string_view pair,
                                    const TextLimits& limits) {
  const size_t eq = pair.find('=');
  if (eq == absl::string_view::npos)
    return PairError(pair, "no '=' between key and value");
  const absl::string_view key = pair.substr(0, eq);
  const absl::string_view value = pair.substr(eq + 1);
  if (key.empty()) return PairError(pair, "empty key");
  if (key.size() > limits.max_key_length) {
    return PairError(
        pair, absl::StrCat("key of ", key.size(), " bytes, over the limit of ",
                           limits.max_key_length));
  }
  for (char c : key) {
    if (!IsKeyChar(c)) {
      return PairError(
          pair, absl::StrCat("key has the character '",
                             absl::CHexEscape(absl::string_view(&c, 1)),
                             "', which RFC 7143 does not allow in key names"));
    }
  }
  if (value.size() > limits.max_value_length) {
    return PairError(pair, absl::StrCat("value of ", value.size(),
                                        " bytes, over the limit of ",
                                        limits.max_value_length));
  }
  const size_t bad = FirstInvalidUtf8(value);
  if (bad != value.size()) {
    return PairError(pair, absl::StrCat("value is not UTF-8 (byte ", bad, ")"));
  }
  return TextPair{std::string(key), std::string(value)};
}

}  // namespace

std::vector<uint8_t> EncodeText(const TextPairs& pairs) {
  size_t size = 0;
  for (const TextPair& pair : pairs)
    size += pair.key.size() + pair.value.size() + 2;
  std::vector<uint8_t> out;
  out.reserve(size);
  for (const TextPair& pair : pairs) {
    out.insert(out.end(), pair.key.begin(), pair.key.end());
    out.push_back('=');
    out.insert(out.end(), pair.value.begin(), pair.value.end());
    out.push_back('\0');
  }
  return out;
}

absl::StatusOr<TextPairs> DecodeText(absl::Span<const uint8_t> bytes,
                                     const TextLimits& limits) {
  if (bytes.size() > limits.max_total_length) {
    return absl::InvalidArgumentError(absl::StrCat("text of ", bytes.size(),
                                                   " bytes, over the limit of ",
                                                   limits.max_total_length));
  }
  const absl::string_view text(reinterpret_cast<const char*>(bytes.data()),
                               bytes.size());
  TextPairs pairs;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nul = text.find('\0', pos);
    if (nul == absl::string_view::npos) {
      return PairError(text.substr(pos), "not terminated by a NUL byte");
    }
    if (nul == pos) {
      // Only NUL padding may follow the last pair.
      const size_t next = text.find_first_not_of('\0', pos);
      if (next == absl::string_view::npos) break;
      return absl::InvalidArgumentError(
          absl::StrCat("empty text pair (a stray NUL byte) at offset ", pos));
    }
    auto pair = DecodePair(text.substr(pos, nul - pos), limits);
    if (!pair.ok()) return pair.status();
    pairs.push_back(*std::move(pair));
    pos = nul + 1;
  }
  return pairs;
}

const std::string* FindTextValue(const TextPairs& pairs,
                                 absl::string_view key) {
  for (const TextPair& pair : pairs) {
    if (pair.key == key) return &pair.value;
  }
  return nullptr;
}

std::vector<std::vector<uint8_t>> SplitTextSegments(
    absl::Span<const uint8_t> bytes, size_t max_segment) {
  const size_t step = std::max<size_t>(max_segment, 1);
  std::vector<std::vector<uint8_t>> segments;
  for (size_t pos = 0; pos < bytes.size(); pos += step) {
    const absl::Span<const uint8_t> part = bytes.subspan(pos, step);
    segments.emplace_back(part.begin(), part.end());
  }
  if (segments.empty()) segments.emplace_back();
  return segments;
}

absl::Status TextStreamDecoder::Append(absl::Span<const uint8_t> piece) {
  if (piece.size() > limits_.max_total_length - total_bytes_) {
    const size_t total = total_bytes_ + piece.size();
    partial_.clear();
    pairs_.clear();
    total_bytes_ = 0;
    return absl::InvalidArgumentError(
        absl::StrCat("text exchange of at least ", total,
                     " bytes, over the limit of ", limits_.max_total_length));
  }
  total_bytes_ += piece.size();
  absl::string_view text(reinterpret_cast<const char*>(piece.data()),
                         piece.size());
  const auto fail = [&](absl::Status status) {
    partial_.clear();
    pairs_.clear();
    total_bytes_ = 0;
    return status;
  };
  while (!text.empty()) {
    const size_t nul = text.find('\0');
    if (nul == absl::string_view::npos) {
      // The pair goes on in a later piece. A key and value at their limits
      // plus '=' is the most a pair can hold.
      if (partial_.size() + text.size() >
          limits_.max_key_length + 1 + limits_.max_value_length) {
        absl::StrAppend(&partial_, text.substr(0, kQuotedPrefix));
        return fail(
            PairError(partial_, "longer than the key and value limits"));
      }
      absl::StrAppend(&partial_, text);
      break;
    }
    if (nul == 0 && partial_.empty()) {
      // NUL padding may end a piece; a NUL before more pairs is stray.
      if (text.find_first_not_of('\0') == absl::string_view::npos) break;
      return fail(absl::InvalidArgumentError(
          absl::StrCat("empty text pair (a stray NUL byte) at offset ",
                       total_bytes_ - text.size(), " of the exchange")));
    }
    absl::StatusOr<TextPair> pair;
    if (partial_.empty()) {
      pair = DecodePair(text.substr(0, nul), limits_);
    } else {
      absl::StrAppend(&partial_, text.substr(0, nul));
      pair = DecodePair(partial_, limits_);
      partial_.clear();
    }
    if (!pair.ok()) return fail(pair.status());
    pairs_.push_back(*std::move(pair));
    text.remove_prefix(nul + 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<TextPairs> TextStreamDecoder::Finish() {
  TextPairs pairs = std::move(pairs_);
  std::string partial = std::move(partial_);
  pairs_.clear();
  partial_.clear();
  total_bytes_ = 0;
  if (!partial.empty()) {
    return PairError(partial,
                     "not terminated by a NUL byte at the end of the "
                     "exchange");
  }
  return pairs;
}

absl::Status TextAssembler::Append(absl::Span<const uint8_t> segment,
                                   bool cont) {
  if (complete_) {
    return absl::FailedPreconditionError(
        "text segment after the final one of the exchange (C=0) was appended");
  }
  if (segment.size() > limits_.max_total_length - buffer_.size()) {
    const size_t total = buffer_.size() + segment.size();
    buffer_.clear();
    buffer_.shrink_to_fit();
    return absl::InvalidArgumentError(
        absl::StrCat("text exchange of at least ", total,
                     " bytes, over the limit of ", limits_.max_total_length));
  }
  buffer_.insert(buffer_.end(), segment.begin(), segment.end());
  complete_ = !cont;
  return absl::OkStatus();
}

absl::StatusOr<TextPairs> TextAssembler::Take() {
  if (!complete_) {
    return absl::FailedPreconditionError(
        "text exchange is incomplete: the last segment had C=1");
  }
  auto pairs = DecodeText(buffer_, limits_);
  buffer_.clear();
  complete_ = false;
  return pairs;
}

}  // namespace kiscsi
