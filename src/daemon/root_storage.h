// What a daemon that keeps the root file system's disk alive must do before
// anything else: nothing of it may have to be read back from that disk while
// the disk is down. kiscsid's recovery code runs for the first time exactly
// when the connection under / has failed; had its pages not been loaded yet,
// the page fault would wait for the very disk the recovery is to bring back
// (seen in the root-on-iSCSI boot: kiscsid in D state in filemap_fault, for
// ever).
//
// This module only pins the process (memory locked, I/O flusher); it does not
// decide whether to: kiscsid always does, as open-iscsi's iscsid does.
#ifndef KISCSI_SRC_DAEMON_ROOT_STORAGE_H_
#define KISCSI_SRC_DAEMON_ROOT_STORAGE_H_

#include "absl/status/status.h"

namespace kiscsi::daemon {

// Locks the process in memory: every page mapped now is read in and locked
// (mlockall MCL_CURRENT: the whole program at once); pages mapped later are
// locked when first touched (MCL_FUTURE | MCL_ONFAULT), so memory reserved but
// unused costs nothing.
absl::Status LockInMemory();

// Marks the process an I/O flusher (PR_SET_IO_FLUSHER, Linux 5.6, needs
// CAP_SYS_RESOURCE): its own allocations never wait on writeback, which may be
// stuck behind the failed connection.
absl::Status MarkIoFlusher();

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_ROOT_STORAGE_H_
