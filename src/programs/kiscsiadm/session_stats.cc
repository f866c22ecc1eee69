#include "src/programs/kiscsiadm/session_stats.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "src/base/exit_code.h"
#include "src/base/stat_counter.h"
#include "src/base/status_macros.h"
#include "src/ipc/ipc_client.h"
#include "src/node/session_names.h"

namespace kiscsi {
namespace {

// The kernel answers at once; this only bounds a daemon that is stuck.
constexpr absl::Duration kStatsCallTimeout = absl::Seconds(30);

void AppendCounters(const std::vector<StatCounter>& counters,
                    std::string& out) {
  for (const StatCounter& counter : counters) {
    absl::StrAppend(&out, "\t", counter.name, ": ", counter.value, "\n");
  }
}

// The stats of `sid` in the daemon's reply.
absl::StatusOr<ipc::SessionStats> StatsIn(const ipc::Reply& reply,
                                          uint32_t sid) {
  RETURN_IF_ERROR(ipc::ReplyStatus(reply));
  for (const ipc::SessionStats& stats : reply.stats) {
    if (stats.sid == sid) return stats;
  }
  return WithExitCode(absl::InternalError(absl::StrCat(
                          "kiscsid sent no statistics for session ", sid)),
                      ExitCode::kDaemonComm);
}

}  // namespace

std::string FormatSessionStats(const SysfsSession& session,
                               const ipc::SessionStats& stats) {
  std::string out =
      absl::StrCat("Stats for session ", SessionTag(session), "\n");
  out += "iSCSI SNMP:\n";
  AppendCounters(stats.snmp, out);
  out += "iSCSI Extended:\n";
  AppendCounters(stats.extended, out);
  return out;
}

absl::Status PrintSessionStats(const std::vector<SysfsSession>& sessions,
                               CommandContext& context) {
  ASSIGN_OR_RETURN(
      ipc::IpcClient client,
      ipc::IpcClient::Connect(ipc::DaemonSocketPath(), kStatsCallTimeout));
  absl::Status first_error;
  for (const SysfsSession& session : sessions) {
    absl::StatusOr<ipc::Reply> reply =
        client.Call(ipc::StatsRequest{session.sid}, kStatsCallTimeout);
    // A broken conversation ends them all.
    if (!reply.ok()) return reply.status();
    for (const std::string& line : reply->err_lines) {
      context.err << context.prefix << line << "\n";
    }
    absl::StatusOr<ipc::SessionStats> stats = StatsIn(*reply, session.sid);
    if (stats.ok()) {
      context.out << FormatSessionStats(session, *stats);
      continue;
    }
    context.err << context.prefix << "Could not get the statistics of session "
                << SessionTag(session) << ": " << stats.status().message()
                << "\n";
    if (first_error.ok()) first_error = stats.status();
  }
  if (first_error.ok()) return absl::OkStatus();
  return WithExitCode(
      absl::Status(first_error.code(),
                   "Could not get the statistics of all requested sessions"),
      ExitCodeOf(first_error));
}

}  // namespace kiscsi
