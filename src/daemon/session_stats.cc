#include "src/daemon/session_stats.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/daemon/session_manager.h"

namespace kiscsi::daemon {
namespace {

absl::StatusOr<ConnStats> StatsOf(IscsiKernel& kernel,
                                  const SysfsSession& session) {
  if (!session.connection.has_value()) {
    return WithExitCode(absl::NotFoundError(absl::StrCat(
                            "session ", session.sid, " has no connection")),
                        ExitCode::kSessionNotFound);
  }
  absl::StatusOr<ConnStats> stats =
      kernel.GetStats(session.sid, session.connection->cid);
  if (stats.ok()) return stats;
  // The kernel's -EEXIST: no such connection, it went away since sysfs was
  // read.
  const bool gone = absl::IsAlreadyExists(stats.status());
  return WithExitCode(
      absl::Status(gone ? absl::StatusCode::kNotFound : stats.status().code(),
                   absl::StrCat("session ", session.sid, ": ",
                                stats.status().message())),
      gone ? ExitCode::kSessionNotFound : ExitCode::kInternal);
}

}  // namespace

ipc::SessionStats ToSessionStats(uint32_t sid, const ConnStats& stats) {
  return ipc::SessionStats{sid, MibCounters(stats), stats.custom};
}

ipc::Reply CollectSessionStats(IscsiKernel& kernel,
                               const std::vector<SysfsSession>& sessions) {
  ipc::Reply reply;
  absl::Status first_error;
  for (const SysfsSession& session : sessions) {
    absl::StatusOr<ConnStats> stats = StatsOf(kernel, session);
    if (stats.ok()) {
      reply.stats.push_back(ToSessionStats(session.sid, *stats));
      continue;
    }
    KISCSI_LOG(kWarning) << "statistics: " << stats.status().message();
    if (sessions.size() > 1) {
      reply.err_lines.push_back(std::string(stats.status().message()));
    }
    if (first_error.ok()) first_error = stats.status();
  }
  if (first_error.ok()) return reply;
  ipc::Reply failed = ipc::ReplyFromStatus(
      sessions.size() > 1
          ? WithExitCode(absl::Status(first_error.code(),
                                      "Could not get the statistics of all "
                                      "sessions"),
                         ExitCodeOf(first_error))
          : first_error);
  failed.stats = std::move(reply.stats);
  failed.err_lines = std::move(reply.err_lines);
  return failed;
}

void SessionManager::Stats(const ipc::StatsRequest& request,
                           ReplyCallback done) {
  std::vector<SysfsSession> sessions;
  if (request.sid.has_value()) {
    absl::StatusOr<SysfsSession> session =
        ReadSysfsSession(paths_.sysfs_root, *request.sid);
    if (!session.ok()) return done(ipc::ReplyFromStatus(session.status()));
    sessions.push_back(*std::move(session));
  } else {
    absl::StatusOr<std::vector<SysfsSession>> all =
        ReadSysfsSessions(paths_.sysfs_root);
    if (!all.ok()) return done(ipc::ReplyFromStatus(all.status()));
    if (all->empty()) {
      return done(ipc::ReplyFromStatus(
          WithExitCode(absl::NotFoundError("No active sessions."),
                       ExitCode::kNoObjectsFound)));
    }
    sessions = *std::move(all);
  }
  // The kernel is opened on first use, as for a login.
  if (absl::StatusOr<KernelEventRouter*> router = keeper_.Router();
      !router.ok()) {
    return done(ipc::ReplyFromStatus(router.status()));
  }
  done(CollectSessionStats(*keeper_.kernel(), sessions));
}

}  // namespace kiscsi::daemon
