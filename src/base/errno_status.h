// absl::ErrnoToStatus with a message that names the failed operation.
#ifndef KISCSI_SRC_BASE_ERRNO_STATUS_H_
#define KISCSI_SRC_BASE_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kiscsi {

// Status for a failed syscall: ErrnoStatus(errno, "connect to 10.0.0.1:3260").
absl::Status ErrnoStatus(int error_number, absl::string_view what);

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_ERRNO_STATUS_H_
