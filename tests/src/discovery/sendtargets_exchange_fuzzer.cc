// libFuzzer target: a SendTargets exchange fed a sequence of Text Response
// PDUs (or other PDUs) built from the input, then the answer parsed. Nothing
// may crash, the exchange ends at the first F=1 or error, and every portal
// parsed from an accepted answer names a target that is safe as a directory
// name.
//
// Input: records of [flags][length (2 bytes, big-endian)][data]. Flags: bit 0
// F, bit 1 C, bit 2 a wrong task tag, bit 3 the reserved transfer tag, bit 4 a
// NOP-In instead, bit 5 a Reject instead.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/discovery/sendtargets.h"
#include "src/protocol/pdu.h"

namespace {

kiscsi::Pdu MakePdu(uint8_t flags, const uint8_t* data, size_t size) {
  if (flags & 0x10) {
    kiscsi::NopIn nop;
    nop.data.assign(data, data + size);
    return kiscsi::Encode(nop);
  }
  if (flags & 0x20) {
    kiscsi::Reject reject;
    reject.reason = size > 0 ? data[0] : 0;
    return kiscsi::Encode(reject);
  }
  kiscsi::TextResponse response;
  response.final = flags & 1;
  response.cont = flags & 2;
  response.itt = (flags & 4) ? 7 : 1;
  response.ttt = (flags & 8) ? kiscsi::kReservedTag : 0x10;
  response.data.assign(data, data + size);
  return kiscsi::Encode(response);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiscsi::SendTargetsExchange exchange("192.0.2.1:3260", 1);
  size_t pos = 0;
  bool complete = false;
  while (pos + 3 <= size) {
    const uint8_t flags = data[pos];
    const size_t length = std::min<size_t>(
        (size_t{data[pos + 1]} << 8) | data[pos + 2], size - pos - 3);
    const kiscsi::Pdu pdu = MakePdu(flags, data + pos + 3, length);
    pos += 3 + length;
    absl::StatusOr<bool> added = exchange.Add(pdu);
    if (!added.ok()) return 0;
    if (*added) {
      complete = true;
      break;
    }
  }
  if (!complete) return 0;
  absl::StatusOr<kiscsi::TextPairs> pairs = exchange.Take();
  if (!pairs.ok()) return 0;
  absl::StatusOr<std::vector<kiscsi::DiscoveredPortal>> found =
      kiscsi::ParseSendTargetsAnswer(*pairs, {"192.0.2.1", 3260});
  if (!found.ok()) return 0;
  for (const kiscsi::DiscoveredPortal& portal : *found) {
    const std::string& name = portal.target_name;
    if (name.empty() || name.size() > 223 || name.front() == '.' ||
        name.find('/') != std::string::npos || portal.address.empty()) {
      std::abort();
    }
  }
  return 0;
}
