// Internal to conf/: the key table helpers shared by record.cc (the schema)
// and record_text.cc (the Record container and the record text format).
// Include it only from conf/record*.cc; everything else uses record.h.
#ifndef KISCSI_CONF_RECORD_INTERNAL_H_
#define KISCSI_CONF_RECORD_INTERNAL_H_

#include <span>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "conf/record.h"

namespace kiscsi::conf::internal {

// The spec named `name` in `table` (no aliases), nullptr when none.
const KeySpec* FindIn(std::span<const KeySpec> table, std::string_view name);
// The tables searched for `kind`, most specific first.
std::vector<std::span<const KeySpec>> TablesFor(RecordKind kind);
// Splits on commas and trims each element.
std::vector<absl::string_view> SplitList(std::string_view value);

}  // namespace kiscsi::conf::internal

#endif  // KISCSI_CONF_RECORD_INTERNAL_H_
