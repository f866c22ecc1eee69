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
#include "src/node/node_selector.h"
#include "src/node/session_names.h"
#include "src/programs/kiscsiadm/session_stats.h"
#include "src/session/sysfs_sessions.h"
#include "src/session/sysfs_writer.h"
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

// The IPC's form of a node filter.
ipc::NodeSelector SelectorOf(const conf::NodeFilter& filter) {
  ipc::NodeSelector nodes;
  nodes.target = filter.target_name;
  nodes.address = filter.address;
  if (filter.port.has_value()) nodes.port = static_cast<uint16_t>(*filter.port);
  if (filter.tpgt.has_value()) nodes.tpgt = static_cast<uint16_t>(*filter.tpgt);
  nodes.iface = filter.iface;
  return nodes;
}

// -T, -p and -I as the daemon selects nodes and sessions by them.
absl::StatusOr<conf::NodeFilter> SelectionFromOptions(const Options& options) {
  return NodeFilterFromArgs(options.target_name, options.portal, options.iface);
}

// The daemon could not be asked (not running, or the call broke before it
// said anything): the records' own "No records found", else iscsiadm's lines
// for logins that could not be made.
absl::Status LoginCallFailed(const conf::NodeFilter& filter,
                             const absl::Status& failure,
                             CommandContext& context) {
  conf::NodeDb db(context.sysconf_dir);
  ASSIGN_OR_RETURN(std::vector<conf::NodeKey> keys, db.ListNodes());
  std::erase_if(keys, [&filter](const conf::NodeKey& key) {
    return !NodeMatches(filter, key);
  });
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
    request.nodes = SelectorOf(filter);
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

// -r takes a sid or a sysfs path ending in session<sid>.
absl::StatusOr<uint32_t> ParseSid(const std::string& arg) {
  std::string text = arg;
  size_t at = text.rfind("session");
  if (at != std::string::npos) text = text.substr(at + 7);
  uint32_t sid = 0;
  if (!absl::SimpleAtoi(text, &sid)) {
    return WithExitCode(absl::InvalidArgumentError(
                            absl::StrCat("invalid session id '", arg, "'")),
                        ExitCode::kInvalid);
  }
  return sid;
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
  ASSIGN_OR_RETURN(const uint32_t sid, ParseSid(*options.sid));
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
    RETURN_IF_ERROR(ScanScsiHost(context.sysfs_dir, *session.host_no));
  }
  return absl::OkStatus();
}

// kiscsid selects the sessions and logs out of them all at once; its reply
// holds iscsiadm's lines, in sid order.
absl::Status LogoutSelected(const ipc::LogoutRequest& request,
                            CommandContext& context) {
  ASSIGN_OR_RETURN(ipc::Reply reply,
                   ipc::CallDaemon(request, kLoginAllCallTimeout));
  return PrintReply(reply, context);
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
  if (options.logout) {
    ipc::LogoutRequest request;
    if (options.sid.has_value()) {
      ASSIGN_OR_RETURN(request.sid, ParseSid(*options.sid));
    }
    absl::Status status = LogoutSelected(request, context);
    // Without -r, iscsiadm's words for a machine without sessions.
    if (!request.sid.has_value() &&
        ExitCodeOf(status) == ExitCode::kNoObjectsFound) {
      return NoActiveSessions();
    }
    return status;
  }
  ASSIGN_OR_RETURN(std::vector<SysfsSession> sessions,
                   SelectSessions(options, context));
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
  ASSIGN_OR_RETURN(conf::NodeFilter filter, SelectionFromOptions(options));
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
  ASSIGN_OR_RETURN(conf::NodeFilter filter, SelectionFromOptions(options));
  ipc::LogoutRequest request;
  request.nodes = SelectorOf(filter);
  return LogoutSelected(request, context);
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
