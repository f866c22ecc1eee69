// The text key=value format of login, text and discovery exchanges (RFC 7143
// section 6.1).
//
// Pairs are "key=value\0" in a data segment; a set of pairs may span several
// PDUs (the C bit), so decoding goes through TextAssembler, which also bounds
// how much a peer can make us hold.
#ifndef KISCSI_SRC_PROTOCOL_TEXT_CODEC_H_
#define KISCSI_SRC_PROTOCOL_TEXT_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kiscsi {

struct TextPair {
  std::string key;
  std::string value;
  bool operator==(const TextPair&) const = default;
};
using TextPairs = std::vector<TextPair>;

struct TextLimits {
  size_t max_key_length = 63;  // RFC 7143 6.1
  // Values: 255 bytes in general, but CHAP_C/CHAP_R may be large binary values
  // and SendTargets answers carry long names; the codec enforces one bound for
  // all keys.
  size_t max_value_length = 8192;
  // All PDUs of one exchange together. This byte bound (and the caller's
  // timeout) is what limits an exchange; there is no count of pairs, so a
  // SendTargets answer naming thousands of targets fits.
  size_t max_total_length = 1 << 20;
};

// "k1=v1\0k2=v2\0". Keys and values must not contain NUL; keys must not contain
// '='.
std::vector<uint8_t> EncodeText(const TextPairs& pairs);

// Decodes a complete key set. Every pair must end with a NUL (RFC 7143 6.1);
// empty values are allowed, and values must be UTF-8. Trailing NUL padding is
// allowed; a pair without '=', an empty key, an over-long key or value, or a
// key with characters RFC 7143 does not allow is an error naming the offending
// pair (truncated to a printable prefix).
absl::StatusOr<TextPairs> DecodeText(absl::Span<const uint8_t> bytes,
                                     const TextLimits& limits = {});

// The value of the first pair with `key`, or nullptr.
const std::string* FindTextValue(const TextPairs& pairs, absl::string_view key);

// Decodes a stream of pairs delivered in pieces that may cut a pair anywhere,
// whatever the C bit says: tgtd splits a long SendTargets answer into Text
// Responses with F=0 and C=0 and cuts a pair between two of them, and RFC 7143
// lets a pair span the PDUs of one text exchange. Complete pairs are decoded as
// they arrive and only the unterminated tail is held. A run of NUL bytes that
// ends a piece is padding; a NUL anywhere else that ends no pair is an error.
class TextStreamDecoder {
 public:
  explicit TextStreamDecoder(TextLimits limits = {}) : limits_(limits) {}

  // Adds the next piece. Fails when the stream would exceed
  // limits.max_total_length, when the held partial pair outgrows the key and
  // value limits, or when a pair is malformed (as DecodeText).
  absl::Status Append(absl::Span<const uint8_t> piece);
  // Ends the stream and returns every pair; a partial pair left over is an
  // error naming it. Resets the decoder, also on error.
  absl::StatusOr<TextPairs> Finish();
  // Bytes appended so far.
  size_t total_bytes() const { return total_bytes_; }

 private:
  TextLimits limits_;
  std::string partial_;  // the bytes of a pair not yet terminated
  TextPairs pairs_;
  size_t total_bytes_ = 0;
};

// Splits an encoded key set into data segments of at most `max_segment` bytes
// (a pair may be split anywhere; the receiver reassembles on the C bit). Always
// returns at least one segment. A max_segment of 0 is treated as 1.
std::vector<std::vector<uint8_t>> SplitTextSegments(
    absl::Span<const uint8_t> bytes, size_t max_segment);

// Collects the data segments of one exchange (PDUs with C=1 then one with C=0).
class TextAssembler {
 public:
  explicit TextAssembler(TextLimits limits = {}) : limits_(limits) {}

  // Adds one PDU's data segment; `cont` is the PDU's C bit. Fails when the
  // exchange would exceed limits.max_total_length (dropping what was held) or
  // is already complete (Take() first).
  absl::Status Append(absl::Span<const uint8_t> segment, bool cont);
  // True once a segment with C=0 has been appended.
  bool complete() const { return complete_; }
  // Decodes the assembled pairs and resets for the next exchange, also when
  // decoding fails. FailedPrecondition before complete().
  absl::StatusOr<TextPairs> Take();

 private:
  TextLimits limits_;
  std::vector<uint8_t> buffer_;
  bool complete_ = false;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROTOCOL_TEXT_CODEC_H_
