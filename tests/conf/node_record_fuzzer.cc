// libFuzzer target: node record parsing must never crash, and an accepted
// record must survive format -> parse -> format unchanged (what UpdateNode does
// to files on disk).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conf/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kiscsi::conf::RecordKind;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (RecordKind kind : {RecordKind::kNode, RecordKind::kDiscovery}) {
    auto parsed = kiscsi::conf::ParseRecordText(text, "record", kind);
    if (!parsed.ok()) continue;
    std::string file = kiscsi::conf::FormatRecordFile(parsed->record, kind);
    auto reparsed = kiscsi::conf::ParseRecordText(file, "record", kind);
    if (!reparsed.ok()) std::abort();
    if (kiscsi::conf::FormatRecordFile(reparsed->record, kind) != file)
      std::abort();
    kiscsi::conf::FormatRecordShow(parsed->record, kind, false);
  }
  return 0;
}
