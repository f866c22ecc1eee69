// libFuzzer target: ParseTargetAddress on arbitrary text. Nothing may crash;
// an accepted address is non-empty, has no bracket, comma or whitespace, a port
// of 1..65535, and formatting it back ("[v6]:port,tag") parses to the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/login/target_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<kiscsi::ParsedTargetAddress> parsed =
      kiscsi::ParseTargetAddress(text);
  if (!parsed.ok()) return 0;
  const std::string& address = parsed->address;
  if (address.empty() || parsed->port == 0 ||
      address.find_first_of("[], \t\n/") != std::string::npos) {
    std::abort();
  }
  const bool v6 = address.find(':') != std::string::npos;
  std::string again = v6 ? absl::StrCat("[", address, "]") : address;
  absl::StrAppend(&again, ":", parsed->port);
  if (parsed->portal_group_tag.has_value())
    absl::StrAppend(&again, ",", *parsed->portal_group_tag);
  absl::StatusOr<kiscsi::ParsedTargetAddress> reparsed =
      kiscsi::ParseTargetAddress(again);
  if (!reparsed.ok() || reparsed->address != address ||
      reparsed->port != parsed->port ||
      reparsed->portal_group_tag != parsed->portal_group_tag) {
    std::abort();
  }
  return 0;
}
