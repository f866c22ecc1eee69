#include "src/programs/kiscsiadm/session_commands.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conf/node_db.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/ipc/ipc_client.h"
#include "src/node/session_names.h"
#include "src/programs/kiscsiadm/session_stats.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

// A login waits for the LUNs' block devices; the daemon bounds each step
// itself.
constexpr absl::Duration kLoginCallTimeout = absl::Seconds(120);
constexpr absl::Duration kLoginAllCallTimeout = absl::Seconds(600);

absl::Status NoActiveSessions() {
  return WithExitCode(absl::NotFoundError("No active sessions."),
                      ExitCode::kNoObjectsFound);
}

// Prints what the daemon sent for the user, and returns the reply's outcome.
absl::Status PrintReply(const ipc::Reply& reply, CommandContext& context) {
  for (const std::string& line : reply.out_lines) context.out << line << "\n";
  for (const std::string& line : reply.err_lines) {
    context.err << context.prefix << line << "\n";
  }
  return ipc::ReplyStatus(reply);
}

// Prints the daemon's progress lines as they come.
ipc::ProgressFn PrintProgress(CommandContext& context) {
  return [&context](const std::vector<std::string>& lines) {
    for (const std::string& line : lines) context.out << line << "\n";
    context.out.flush();
  };
}

// The daemon could not be asked (not running, or the call broke before it
// said anything): the records' own "No records found", else iscsiadm's lines
// for logins that could not be made.
absl::Status LoginCallFailed(const conf::NodeFilter& filter,
                             const absl::Status& failure,
                             CommandContext& context) {
  conf::NodeDb db(context.sysconf_dir);
  ASSIGN_OR_RETURN(std::vector<conf::NodeKey> keys, db.FindNodes(filter));
  if (keys.empty()) {
    return WithExitCode(absl::NotFoundError("No records found"),
                        ExitCode::kNoObjectsFound);
  }
  for (const conf::NodeKey& key : keys) {
    context.out << "Logging in to " << NodeTag(key) << "\n";
    context.err << context.prefix << "Could not login to " << NodeTag(key)
                << ".\n"
                << context.prefix << "initiator reported error ("
                << static_cast<int>(ExitCodeOf(failure)) << " - "
                << ExitCodeText(ExitCodeOf(failure)) << ")\n"
                << context.prefix << "  " << failure.message() << "\n";
  }
  return WithExitCode(
      absl::Status(failure.code(), "Could not log into all portals"),
      ExitCodeOf(failure));
}

// The first failure of `statuses`, restated as iscsiadm's summary of a
// login to several nodes; OK when none failed.
absl::Status FirstLoginFailure(const std::vector<absl::Status>& statuses) {
  for (const absl::Status& status : statuses) {
    if (!status.ok()) {
      return WithExitCode(
          absl::Status(status.code(), "Could not log into all portals"),
          ExitCodeOf(status));
    }
  }
  return absl::OkStatus();
}

// Asks the daemon to log in to the node records that each filter selects,
// all requests at once so that the logins overlap. The daemon chooses the
// nodes and the sessions they lack; its "Logging in to" lines are printed as
// soon as it sends them, before the logins end, and the outcomes after them
// in the order of `filters`. One outcome is returned as it is.
absl::Status LoginMatching(const std::vector<conf::NodeFilter>& filters,
                           CommandContext& context) {
  if (filters.empty()) return absl::OkStatus();
  std::vector<ipc::Request> requests;
  for (const conf::NodeFilter& filter : filters) {
    ipc::LoginRequest request;
    request.target = filter.target_name;
    request.address = filter.address;
    if (filter.port.has_value()) {
      request.port = static_cast<uint16_t>(*filter.port);
    }
    if (filter.tpgt.has_value()) {
      request.tpgt = static_cast<uint16_t>(*filter.tpgt);
    }
    request.iface = filter.iface;
    request.progress = true;
    requests.push_back(std::move(request));
  }
  // The daemon takes kMaxRequestsInFlight at a time: the later ones wait for
  // room, so each such round gets the time of one login.
  const int64_t rounds =
      static_cast<int64_t>((requests.size() + ipc::kMaxRequestsInFlight - 1) /
                           ipc::kMaxRequestsInFlight);
  bool announced = false;
  const ipc::ProgressFn print = PrintProgress(context);
  absl::StatusOr<std::vector<ipc::Reply>> replies =
      ipc::CallDaemonAll(requests, kLoginCallTimeout * rounds,
                         [&](const std::vector<std::string>& lines) {
                           print(lines);
                           announced = true;
                         });
  std::vector<absl::Status> outcomes;
  if (replies.ok()) {
    for (const ipc::Reply& reply : *replies) {
      outcomes.push_back(PrintReply(reply, context));
    }
  } else if (!announced) {
    for (const conf::NodeFilter& filter : filters) {
      outcomes.push_back(LoginCallFailed(filter, replies.status(), context));
    }
  } else {
    context.err << context.prefix << replies.status().message() << "\n";
    outcomes.push_back(FirstLoginFailure({replies.status()}));
  }
  if (outcomes.size() == 1) return outcomes.front();
  return FirstLoginFailure(outcomes);
}

absl::StatusOr<std::vector<SysfsSession>> SelectSessions(
    const Options& options, CommandContext& context) {
  ASSIGN_OR_RETURN(std::vector<SysfsSession> sessions,
                   ReadSysfsSessions(context.sysfs_dir,
                                     ReadSysfsOptions{options.show_secrets}));
  if (!options.sid.has_value()) {
    if (sessions.empty()) return NoActiveSessions();
    return sessions;
  }
  // -r takes a sid or a sysfs path ending in session<sid>.
  std::string text = *options.sid;
  size_t at = text.rfind("session");
  if (at != std::string::npos) text = text.substr(at + 7);
  uint32_t sid = 0;
  if (!absl::SimpleAtoi(text, &sid)) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "invalid session id '", *options.sid, "'")),
                        ExitCode::kInvalid);
  }
  for (SysfsSession& session : sessions) {
    if (session.sid == sid) return std::vector<SysfsSession>{session};
  }
  return WithExitCode(
      absl::NotFoundError(absl::StrCat("Could not get session info for sid ",
                                       sid, ": no such session")),
      ExitCode::kSessionNotFound);
}

absl::Status Rescan(const std::vector<SysfsSession>& sessions,
                    CommandContext& context) {
  for (const SysfsSession& session : sessions) {
    context.out << "Rescanning session " << SessionTag(session) << "\n";
    if (!session.host_no.has_value()) continue;
    std::string scan = absl::StrCat(context.sysfs_dir, "/class/scsi_host/host",
                                    *session.host_no, "/scan");
    std::ofstream file(scan);
    file << "- - -";
    file.close();
    if (!file) {
      return WithExitCode(
          absl::InternalError(absl::StrCat("could not write ", scan)),
          ExitCode::kSysfsLookup);
    }
  }
  return absl::OkStatus();
}

absl::Status LogoutSessions(const std::vector<SysfsSession>& sessions,
                            CommandContext& context) {
  for (const SysfsSession& session : sessions) {
    context.out << "Logging out of session " << SessionTag(session) << "\n";
  }
  absl::Status first_error;
  for (const SysfsSession& session : sessions) {
    auto reply =
        ipc::CallDaemon(ipc::LogoutRequest{session.sid}, kLoginCallTimeout);
    absl::Status status =
        reply.ok() ? PrintReply(*reply, context) : reply.status();
    if (status.ok()) {
      context.out << "Logout of " << SessionTag(session) << " successful.\n";
      continue;
    }
    context.err << context.prefix << "Could not logout of "
                << SessionTag(session) << ": " << status.message() << "\n";
    if (first_error.ok()) first_error = status;
  }
  if (first_error.ok()) return absl::OkStatus();
  return WithExitCode(
      absl::Status(first_error.code(),
                   "Could not logout of all requested sessions"),
      ExitCodeOf(first_error));
}

}  // namespace

namespace {

absl::Status NoSessionFound() {
  return WithExitCode(absl::NotFoundError("No session found."),
                      ExitCode::kNoObjectsFound);
}

}  // namespace

absl::Status RescanNodes(const Options& options, CommandContext& context) {
  ASSIGN_OR_RETURN(conf::NodeFilter filter, FilterFromOptions(options));
  conf::NodeDb db(context.sysconf_dir);
  ASSIGN_OR_RETURN(std::vector<conf::NodeKey> keys, db.FindNodes(filter));
  if (keys.empty()) {
    return WithExitCode(absl::NotFoundError("No records found"),
                        ExitCode::kNoObjectsFound);
  }
  ASSIGN_OR_RETURN(std::vector<SysfsSession> sessions,
                   ReadSysfsSessions(context.sysfs_dir));
  std::vector<SysfsSession> matching;
  for (const SysfsSession& session : sessions) {
    for (const conf::NodeKey& key : keys) {
      if (SessionIsNode(session, key)) {
        matching.push_back(session);
        break;
      }
    }
  }
  if (matching.empty()) return NoSessionFound();
  return Rescan(matching, context);
}

absl::Status RunSession(const Options& options, CommandContext& context) {
  if (options.rescan && !options.sid.has_value()) {
    // iscsiadm's words when there is nothing to rescan.
    ASSIGN_OR_RETURN(std::vector<SysfsSession> all,
                     ReadSysfsSessions(context.sysfs_dir));
    if (all.empty()) return NoSessionFound();
  }
  ASSIGN_OR_RETURN(std::vector<SysfsSession> sessions,
                   SelectSessions(options, context));
  if (options.logout) return LogoutSessions(sessions, context);
  if (options.rescan) return Rescan(sessions, context);
  if (options.stats) return PrintSessionStats(sessions, context);
  SessionListOptions list;
  list.print_level = options.print_level.value_or(0);
  list.show_secrets = options.show_secrets;
  if (list.print_level >= 3) {
    // iscsiadm's two header lines at level 3 (some parsers skip them by
    // count): the kernel's transport class, then the tool's version.
    std::ifstream version_file(context.sysfs_dir +
                               "/module/scsi_transport_iscsi/version");
    std::string version;
    if (std::getline(version_file, version) && !version.empty()) {
      context.out << "iSCSI Transport Class version " << version << "\n"
                  << "version " << KISCSI_VERSION << " (kiscsi)\n";
    }
  }
  context.out << FormatSessionList(sessions, list);
  return absl::OkStatus();
}

absl::Status LoginNodes(const Options& options, CommandContext& context) {
  ASSIGN_OR_RETURN(conf::NodeFilter filter, FilterFromOptions(options));
  return LoginMatching({filter}, context);
}

absl::Status LoginNodeKeys(const std::vector<conf::NodeKey>& keys,
                           CommandContext& context) {
  std::vector<conf::NodeFilter> filters;
  for (const conf::NodeKey& key : keys) {
    conf::NodeFilter filter;
    filter.target_name = key.target_name;
    filter.address = key.address;
    filter.port = key.port;
    if (key.tpgt != conf::kTpgtUnknown) filter.tpgt = key.tpgt;
    filter.iface = key.iface;
    filters.push_back(std::move(filter));
  }
  return LoginMatching(filters, context);
}

absl::Status LogoutNodes(const Options& options, CommandContext& context) {
  ASSIGN_OR_RETURN(conf::NodeFilter filter, FilterFromOptions(options));
  ASSIGN_OR_RETURN(std::vector<SysfsSession> sessions,
                   ReadSysfsSessions(context.sysfs_dir));
  std::vector<SysfsSession> matching;
  for (const SysfsSession& session : sessions) {
    if (!session.connection.has_value()) continue;
    conf::NodeKey key{
        session.target_name, session.connection->persistent_address,
        session.connection->persistent_port.value_or(3260),
        static_cast<int>(session.tpgt.value_or(0)),
        session.iface_name.empty() ? "default" : session.iface_name};
    if (filter.tpgt.has_value() && !session.tpgt.has_value()) continue;
    if (filter.Matches(key)) matching.push_back(session);
  }
  if (matching.empty()) {
    return WithExitCode(absl::NotFoundError("No matching sessions found"),
                        ExitCode::kNoObjectsFound);
  }
  return LogoutSessions(matching, context);
}

absl::Status LoginFirmware(CommandContext& context) {
  ipc::LoginRequest request;
  request.firmware = true;
  request.progress = true;
  ASSIGN_OR_RETURN(ipc::Reply reply, ipc::CallDaemon(request, kLoginCallTimeout,
                                                     PrintProgress(context)));
  return PrintReply(reply, context);
}

absl::Status LoginAll(const Options& options, CommandContext& context) {
  ASSIGN_OR_RETURN(ipc::StartupFilter filter,
                   ipc::ParseStartupFilter(*options.login_all));
  ASSIGN_OR_RETURN(
      ipc::Reply reply,
      ipc::CallDaemon(ipc::LoginAllRequest{filter, /*progress=*/true},
                      kLoginAllCallTimeout, PrintProgress(context)));
  return PrintReply(reply, context);
}

absl::Status LogoutAll(const Options& options, CommandContext& context) {
  ASSIGN_OR_RETURN(ipc::StartupFilter filter,
                   ipc::ParseStartupFilter(*options.logout_all));
  ASSIGN_OR_RETURN(
      ipc::Reply reply,
      ipc::CallDaemon(ipc::LogoutAllRequest{filter}, kLoginAllCallTimeout));
  return PrintReply(reply, context);
}

}  // namespace kiscsi
