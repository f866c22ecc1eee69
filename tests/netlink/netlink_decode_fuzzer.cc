// Arbitrary bytes as a datagram from the kernel: split it into netlink
// messages and decode each, through KernelInbox as the socket does. Checks
// that a split never exceeds its input, a decoded RECV_PDU is a whole BHS
// plus at most the bytes that followed it, and a GET_STATS answer's counters
// fit in its bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "absl/types/span.h"
#include "netlink/netlink_socket.h"
#include "netlink/uevent_codec.h"
#include "src/base/log.h"

namespace {

// A GET_STATS answer decodes to no more transport counters than its bytes
// hold, each named by at most 64 bytes and no NUL.
void CheckStats(const std::vector<uint8_t>& payload) {
  absl::StatusOr<kiscsi::ConnStats> stats = kiscsi::DecodeStats(payload);
  if (!stats.ok()) return;
  if (kiscsi::kStatsSize + stats->custom.size() * kiscsi::kStatsCustomSize >
      payload.size()) {
    abort();
  }
  for (const kiscsi::StatCounter& counter : stats->custom) {
    if (counter.name.size() > kiscsi::kStatsDescSize ||
        counter.name.find('\0') != std::string::npos) {
      abort();
    }
  }
  if (kiscsi::MibCounters(*stats).size() != 21) abort();
}

}  // namespace

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
      if (const auto* reply = std::get_if<kiscsi::KernelReply>(&decoded->body);
          reply != nullptr && reply->request_type == kiscsi::kUeventGetStats) {
        CheckStats(reply->payload);
      }
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
  (void)inbox.TakeReply({kiscsi::kUeventGetStats, 1, kiscsi::UeventConn{1, 0}});
  (void)inbox.TakeEvents();
  if (!inbox.TakeEvents().empty()) abort();
  return 0;
}
