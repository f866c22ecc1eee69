// libFuzzer target: iscsid.conf parsing must never crash, and whatever it
// accepts must hold only values the schema allows.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conf/iscsid_conf.h"
#include "conf/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = kiscsi::conf::ParseIscsidConf(text, "iscsid.conf");
  if (!loaded.ok()) return 0;
  const kiscsi::conf::IscsidConf& conf = loaded->conf;
  for (const auto& [key, value] : conf.values().entries()) {
    const kiscsi::conf::KeySpec* spec =
        kiscsi::conf::FindKeySpec(kiscsi::conf::RecordKind::kIscsidConf, key);
    if (spec == nullptr) std::abort();
    if (value.empty() && spec->default_value.empty()) continue;
    auto normalized = kiscsi::conf::NormalizeValue(*spec, value);
    if (!normalized.ok() || *normalized != value) std::abort();
  }
  // Records made from any accepted file round-trip.
  kiscsi::conf::Record node = conf.NewNodeRecord();
  std::string file =
      kiscsi::conf::FormatRecordFile(node, kiscsi::conf::RecordKind::kNode);
  auto reparsed = kiscsi::conf::ParseRecordText(
      file, "rec", kiscsi::conf::RecordKind::kNode);
  if (!reparsed.ok() ||
      kiscsi::conf::FormatRecordFile(reparsed->record,
                                     kiscsi::conf::RecordKind::kNode) != file) {
    std::abort();
  }
  return 0;
}
