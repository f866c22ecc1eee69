// Feeds arbitrary bytes, in arbitrary chunks, to a MessageReader as the daemon
// does, and decodes every message as a request (and as a reply, as kiscsiadm
// does, and as a Progress message). What decodes must re-encode to the same
// message; what does not must still produce an error reply that encodes and
// decodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi::ipc {
namespace {

void CheckReplyRoundTrip(uint32_t id, const Reply& reply) {
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(id, reply);
  if (!bytes.ok()) abort();
  absl::StatusOr<Header> header = DecodeHeader(*bytes);
  if (!header.ok() || header->request_id != id) abort();
  absl::StatusOr<Reply> back =
      DecodeReply(absl::MakeConstSpan(*bytes).subspan(kHeaderSize));
  if (!back.ok() || !(*back == reply)) abort();
}

void Check(const Message& message) {
  absl::StatusOr<Request> request =
      DecodeRequest(message.header, message.payload);
  if (request.ok()) {
    absl::StatusOr<std::vector<uint8_t>> bytes =
        EncodeRequest(message.header.request_id, *request);
    if (!bytes.ok()) abort();
    absl::StatusOr<Header> header = DecodeHeader(*bytes);
    if (!header.ok() || header->type != message.header.type) abort();
    absl::StatusOr<Request> again = DecodeRequest(
        *header, absl::MakeConstSpan(*bytes).subspan(kHeaderSize));
    if (!again.ok() || !(*again == *request)) abort();
  } else {
    // The daemon's answer to a bad request.
    CheckReplyRoundTrip(message.header.request_id,
                        ReplyFromStatus(request.status()));
  }
  absl::StatusOr<Reply> reply = DecodeReply(message.payload);
  if (reply.ok()) CheckReplyRoundTrip(message.header.request_id, *reply);
  absl::StatusOr<std::vector<std::string>> lines =
      DecodeProgress(message.payload);
  if (lines.ok()) {
    absl::StatusOr<std::vector<uint8_t>> bytes =
        EncodeProgress(message.header.request_id, *lines);
    if (!bytes.ok()) abort();
    absl::StatusOr<std::vector<std::string>> again =
        DecodeProgress(absl::MakeConstSpan(*bytes).subspan(kHeaderSize));
    if (!again.ok() || *again != *lines) abort();
  }
}

}  // namespace
}  // namespace kiscsi::ipc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = size_t{data[0]} + 1;
  const absl::Span<const uint8_t> input(data + 1, size - 1);
  kiscsi::ipc::MessageReader reader;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    const absl::Status fed = reader.Feed(input.subspan(pos, chunk));
    while (std::optional<kiscsi::ipc::Message> message = reader.Next()) {
      kiscsi::ipc::Check(*message);
    }
    if (!fed.ok()) {
      kiscsi::ipc::CheckReplyRoundTrip(0, kiscsi::ipc::ReplyFromStatus(fed));
      break;
    }
  }
  return 0;
}
