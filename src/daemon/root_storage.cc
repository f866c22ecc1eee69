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
  // Everything mapped now, read in and locked: the program's code above all.
  if (::mlockall(MCL_CURRENT) != 0) {
    return ErrnoStatus(errno, "mlockall(MCL_CURRENT)");
  }
  // What is mapped later is locked as it is touched, not all at once: a
  // buffer reserved for a session's largest PDU costs only what it holds.
  if (::mlockall(MCL_FUTURE | MCL_ONFAULT) != 0) {
    if (errno != EINVAL) return ErrnoStatus(errno, "mlockall(MCL_FUTURE)");
    // Kernels before 4.4 know no MCL_ONFAULT.
    if (::mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
      return ErrnoStatus(errno, "mlockall(MCL_CURRENT | MCL_FUTURE)");
    }
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
