// libFuzzer target: the pairs of a SendTargets answer (the input as
// "key=value\0" text) turned into portals. Nothing may crash, and every
// accepted portal names a target that is safe as a directory name, a
// non-empty address and, for a target with a TargetAddress, that address as
// ParseTargetAddress reads it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "src/discovery/sendtargets.h"
#include "src/protocol/text_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<kiscsi::TextPairs> pairs =
      kiscsi::DecodeText(absl::MakeConstSpan(data, size));
  if (!pairs.ok()) return 0;
  absl::StatusOr<std::vector<kiscsi::DiscoveredPortal>> found =
      kiscsi::ParseSendTargetsAnswer(*pairs, {"192.0.2.1", 3260});
  if (!found.ok()) return 0;
  size_t names = 0;
  for (const kiscsi::TextPair& pair : *pairs) {
    if (pair.key == "TargetName") ++names;
  }
  // At least one portal per target, at most one per pair.
  if (found->size() < names || found->size() > pairs->size()) std::abort();
  for (const kiscsi::DiscoveredPortal& portal : *found) {
    const std::string& name = portal.target_name;
    if (name.empty() || name.size() > 223 || name.front() == '.' ||
        name.find('/') != std::string::npos || portal.address.empty() ||
        portal.port == 0) {
      std::abort();
    }
  }
  return 0;
}
