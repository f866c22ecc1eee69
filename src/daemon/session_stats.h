// kiscsid's answer to `kiscsiadm -m session -s`: the statistics of each
// selected session's connection, asked of the kernel (GET_STATS) and sent as
// ipc::SessionStats for kiscsiadm to print. SessionManager::Stats() is
// defined with these, in session_stats.cc.
#ifndef KISCSI_SRC_DAEMON_SESSION_STATS_H_
#define KISCSI_SRC_DAEMON_SESSION_STATS_H_

#include <cstdint>
#include <vector>

#include "netlink/iscsi_kernel.h"
#include "src/ipc/ipc_protocol.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi::daemon {

// The kernel's counters as the IPC carries them: the MIB counters under
// "snmp", the transport's own under "extended", both in the kernel's order.
ipc::SessionStats ToSessionStats(uint32_t sid, const ConnStats& stats);

// The statistics of `sessions` (as read from sysfs), one GET_STATS each. A
// session whose statistics cannot be had gets an error line instead, and the
// reply fails with the first such error: ExitCode kSessionNotFound when the
// session has no connection (any more), kInternal when the kernel refused.
ipc::Reply CollectSessionStats(IscsiKernel& kernel,
                               const std::vector<SysfsSession>& sessions);

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_SESSION_STATS_H_
