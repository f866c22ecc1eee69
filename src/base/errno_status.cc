#include "src/base/errno_status.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace kiscsi {

absl::Status ErrnoStatus(int error_number, absl::string_view what) {
  return absl::ErrnoToStatus(
      error_number, absl::StrCat(what, ": ", std::strerror(error_number)));
}

}  // namespace kiscsi
