// kiscsiadm -m session [-r SID] -s: each session's statistics, which kiscsid
// asks of the kernel, printed as iscsiadm prints them.
#ifndef KISCSI_SRC_PROGRAMS_KISCSIADM_SESSION_STATS_H_
#define KISCSI_SRC_PROGRAMS_KISCSIADM_SESSION_STATS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "src/ipc/ipc_protocol.h"
#include "src/programs/kiscsiadm/commands.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi {

// One session's block:
//   Stats for session [sid: 1, target: T, portal: A,P]
//   iSCSI SNMP:
//   <TAB>txdata_octets: 1400
//   ...
//   iSCSI Extended:
//   <TAB>tx_sendpage_failures: 0
//   ...
std::string FormatSessionStats(const SysfsSession& session,
                               const ipc::SessionStats& stats);

// Asks kiscsid for the statistics of each of `sessions` (one request each, on
// one connection) and prints their blocks in order. A session the daemon
// cannot answer for is named on `err` and the others still printed; the
// result then fails with the first failure's exit code. Not reaching the
// daemon fails at once (ExitCode kDaemonConnect, 20).
absl::Status PrintSessionStats(const std::vector<SysfsSession>& sessions,
                               CommandContext& context);

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSIADM_SESSION_STATS_H_
