// DecodeText on arbitrary bytes, and TextAssembler and TextStreamDecoder over
// the same bytes split at fuzzer-chosen points: they must agree, and whatever
// decodes must re-encode and decode to the same pairs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/types/span.h"
#include "src/protocol/text_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  kiscsi::TextLimits limits;
  limits.max_key_length = 1 + (data[0] & 63);
  limits.max_value_length = 1 + (data[0] & 0x0f) * 64;
  limits.max_total_length = 4096;
  const size_t chunk = 1 + (data[0] & 7) * 13;
  const absl::Span<const uint8_t> text(data + 1, size - 1);

  const auto direct = kiscsi::DecodeText(text, limits);
  if (direct.ok()) {
    const auto again = kiscsi::DecodeText(kiscsi::EncodeText(*direct), limits);
    if (!again.ok() || *again != *direct) abort();
  }

  kiscsi::TextAssembler assembler(limits);
  const auto segments = kiscsi::SplitTextSegments(text, chunk);
  absl::Status appended;
  for (size_t i = 0; i < segments.size() && appended.ok(); ++i) {
    appended = assembler.Append(segments[i], i + 1 < segments.size());
  }
  if (appended.ok()) {
    if (!assembler.complete()) abort();
    const auto assembled = assembler.Take();
    if (assembled.ok() != direct.ok()) abort();
    if (assembled.ok() && *assembled != *direct) abort();
  } else if (direct.ok()) {
    abort();  // only the total limit can stop Append, and DecodeText checks it
              // too
  }

  // The stream decoder over the same pieces accepts whatever DecodeText
  // accepts, with the same pairs, whatever the cut points. (It also accepts
  // NUL padding at the end of any piece, which DecodeText refuses mid-text.)
  kiscsi::TextStreamDecoder stream(limits);
  absl::Status streamed;
  for (size_t i = 0; i < segments.size() && streamed.ok(); ++i) {
    streamed = stream.Append(segments[i]);
  }
  if (streamed.ok()) {
    const auto finished = stream.Finish();
    if (direct.ok() && (!finished.ok() || *finished != *direct)) abort();
  } else if (direct.ok()) {
    abort();
  }
  return 0;
}
