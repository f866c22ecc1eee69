// Conversions between std::string_view and absl::string_view, which are
// distinct types in Debian's Abseil 20220623 (built without
// ABSL_USES_STD_STRING_VIEW). Views only: nothing is copied.
#ifndef KISCSI_SRC_BASE_STRING_VIEWS_H_
#define KISCSI_SRC_BASE_STRING_VIEWS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace kiscsi {

inline absl::string_view ToAbsl(std::string_view s) {
  return {s.data(), s.size()};
}
inline std::string_view ToStd(absl::string_view s) {
  return {s.data(), s.size()};
}

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_STRING_VIEWS_H_
