// libFuzzer target: initiatorname.iscsi parsing. Nothing may crash, and an
// accepted name is a valid iSCSI name (ValidateIscsiName) that a written file
// reads back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conf/initiator_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = kiscsi::conf::ParseInitiatorNameText(text, "initiatorname");
  if (!parsed.ok()) return 0;
  if (!kiscsi::conf::ValidateIscsiName(parsed->name).ok()) std::abort();
  if (parsed->name.find('\n') != std::string::npos ||
      parsed->alias.find('\n') != std::string::npos) {
    std::abort();
  }
  auto again = kiscsi::conf::ParseInitiatorNameText(
      "InitiatorName=" + parsed->name + "\n", "again");
  if (!again.ok() || again->name != parsed->name) std::abort();
  return 0;
}
