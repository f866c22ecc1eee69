// Feeds arbitrary bytes to a PduReader in arbitrary chunks (the first input
// bytes pick the digest options, the limit and the chunk sizes), decodes every
// PDU it produces with every Decode* function, and checks that a PDU
// re-serialized and read back comes out unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "src/protocol/pdu.h"

namespace kiscsi {
namespace {

void DecodeAll(const Pdu& pdu) {
  (void)DecodeLoginRequest(pdu);
  (void)DecodeLoginResponse(pdu);
  (void)DecodeTextRequest(pdu);
  (void)DecodeTextResponse(pdu);
  (void)DecodeLogoutRequest(pdu);
  (void)DecodeLogoutResponse(pdu);
  (void)DecodeNopOut(pdu);
  (void)DecodeNopIn(pdu);
  (void)DecodeScsiCommand(pdu);
  (void)DecodeScsiResponse(pdu);
  (void)DecodeAsyncMessage(pdu);
  (void)DecodeReject(pdu);
  (void)OpcodeName(pdu.opcode());
}

// A PDU that came out of the reader must survive another trip through it.
void CheckRoundTrip(const Pdu& pdu, const PduReaderLimits& limits) {
  PduReader again(limits);
  if (!again.Feed(SerializePdu(pdu, limits.digests)).ok()) abort();
  std::optional<Pdu> copy = again.Next();
  if (!copy.has_value() || copy->bhs != pdu.bhs || copy->ahs != pdu.ahs ||
      copy->data != pdu.data || again.Next().has_value()) {
    abort();
  }
}

}  // namespace
}  // namespace kiscsi

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  kiscsi::PduReaderLimits limits;
  limits.digests.header = (data[0] & 1) != 0;
  limits.digests.data = (data[0] & 2) != 0;
  limits.max_data_segment_length = 1u << ((data[0] >> 2) & 15);  // 1 .. 32 KiB
  const size_t chunk = size_t{data[1]} + 1;
  const absl::Span<const uint8_t> input(data + 2, size - 2);

  kiscsi::PduReader reader(limits);
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    const size_t wanted = reader.BytesWanted();
    if (wanted == 0) abort();
    const absl::Status status = reader.Feed(input.subspan(pos, chunk));
    while (std::optional<kiscsi::Pdu> pdu = reader.Next()) {
      if (pdu->data.size() > limits.max_data_segment_length) abort();
      kiscsi::DecodeAll(*pdu);
      kiscsi::CheckRoundTrip(*pdu, limits);
    }
    if (!status.ok()) {
      // A failed reader stays failed.
      if (reader.Feed(input.subspan(0, 1)) != status) abort();
      break;
    }
  }
  return 0;
}
