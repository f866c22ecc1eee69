// Arbitrary bytes as a datagram from the kernel: split it into netlink
// messages and decode each, through KernelInbox as the socket does. Checks
// that a split never exceeds its input and a decoded RECV_PDU is a whole BHS
// plus at most the bytes that followed it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>
#include <vector>

#include "absl/types/span.h"
#include "netlink/netlink_socket.h"
#include "netlink/uevent_codec.h"
#include "src/base/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The inbox warns about every malformed datagram; fuzz input is all that.
  kiscsi::SetLogLevel(kiscsi::LogLevel::kError);
  const absl::Span<const uint8_t> datagram(data, size);
  absl::StatusOr<std::vector<absl::Span<const uint8_t>>> messages =
      kiscsi::SplitNetlinkMessages(datagram);
  if (messages.ok()) {
    size_t total = 0;
    for (absl::Span<const uint8_t> message : *messages) {
      total += message.size();
      if (message.size() < 16 || message.data() < data ||
          message.data() + message.size() > data + size) {
        abort();
      }
      absl::StatusOr<kiscsi::DecodedMessage> decoded =
          kiscsi::DecodeKernelMessage(message);
      if (!decoded.ok()) continue;
      const auto* event = std::get_if<kiscsi::KernelEvent>(&decoded->body);
      if (event == nullptr) continue;
      if (const auto* pdu = std::get_if<kiscsi::RecvPduEvent>(event)) {
        if (pdu->pdu.size() < 48 || pdu->pdu.size() > message.size() - 72) {
          abort();
        }
      }
    }
    if (total > size) abort();
  }
  // The same bytes through the inbox: whatever happens, no reply appears
  // for a request type the input cannot name and events come out once.
  kiscsi::KernelInbox inbox;
  inbox.AddDatagram(datagram);
  (void)inbox.TakeReply({kiscsi::kUeventCreateSession, 1});
  (void)inbox.TakeEvents();
  if (!inbox.TakeEvents().empty()) abort();
  return 0;
}
