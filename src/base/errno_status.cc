#include "src/base/errno_status.h"

namespace kiscsi {

absl::Status ErrnoStatus(int error_number, absl::string_view what) {
  // absl::ErrnoToStatus appends ": <strerror text>" itself.
  return absl::ErrnoToStatus(error_number, what);
}

}  // namespace kiscsi
