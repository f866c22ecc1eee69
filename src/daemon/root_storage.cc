#include "src/daemon/root_storage.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <cerrno>

#include "src/base/errno_status.h"

// Linux 5.6; older headers lack the name.
#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

namespace kiscsi::daemon {

absl::Status LockInMemory() {
  if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    return ErrnoStatus(errno, "mlockall");
  }
  return absl::OkStatus();
}

absl::Status MarkIoFlusher() {
  if (::prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_IO_FLUSHER)");
  }
  return absl::OkStatus();
}

}  // namespace kiscsi::daemon
