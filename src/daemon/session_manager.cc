#include "src/daemon/session_manager.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conf/initiator_name.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/node/session_settings.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi::daemon {
namespace {

std::string NodeId(const conf::NodeKey& key) {
  return absl::StrCat(key.target_name, "|", key.address, "|", key.port, "|",
                      key.tpgt, "|", key.iface);
}

std::string NodeTag(const conf::NodeKey& key) {
  return absl::StrCat(
      "[iface: ", key.iface, ", target: ", key.target_name, ", portal: ",
      FormatPortal(Portal{key.address, static_cast<uint16_t>(key.port)}, ','),
      "]");
}

std::string SessionTag(const SysfsSession& session) {
  std::string portal;
  if (session.connection.has_value()) {
    portal =
        FormatPortal(Portal{session.connection->persistent_address,
                            session.connection->persistent_port.value_or(3260)},
                     ',');
  }
  return absl::StrCat("[sid: ", session.sid, ", target: ", session.target_name,
                      ", portal: ", portal, "]");
}

bool SessionIsNode(const SysfsSession& session, const conf::NodeKey& key) {
  if (session.target_name != key.target_name ||
      !session.connection.has_value()) {
    return false;
  }
  return session.connection->persistent_address == key.address &&
         session.connection->persistent_port.value_or(0) == key.port;
}

bool StartupMatches(ipc::StartupFilter filter, const std::string& startup) {
  switch (filter) {
    case ipc::StartupFilter::kAll:
      return true;
    case ipc::StartupFilter::kManual:
      return startup == "manual";
    case ipc::StartupFilter::kAutomatic:
      return startup == "automatic";
    case ipc::StartupFilter::kOnboot:
      return startup == "onboot";
  }
  return false;
}

}  // namespace

SessionManager::SessionManager(EventLoop& loop, KernelFactory kernel_factory,
                               std::string sysconf_dir, SessionPaths paths,
                               std::string conf_path, conf::IscsidConf conf)
    : BasicCommandHandler(std::move(conf_path), std::move(conf)),
      loop_(loop),
      kernel_factory_(std::move(kernel_factory)),
      sysconf_dir_(std::move(sysconf_dir)),
      paths_(std::move(paths)) {}

SessionManager::~SessionManager() {
  // Unfinished operations undo themselves; finished sessions stay in the
  // kernel.
  setups_.clear();
  logouts_.clear();
  router_.reset();
}

absl::StatusOr<KernelEventRouter*> SessionManager::Router() {
  if (router_ != nullptr) return router_.get();
  ASSIGN_OR_RETURN(kernel_, kernel_factory_());
  auto router = std::make_unique<KernelEventRouter>(loop_, *kernel_);
  RETURN_IF_ERROR(router->Start());
  router->SetDefaultHandler([](const KernelEvent& event) {
    if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
      KISCSI_LOG(kWarning) << "session " << error->sid << ": connection "
                           << error->cid << " error "
                           << ConnErrorName(error->error);
    }
  });
  router_ = std::move(router);
  return router_.get();
}

absl::Status SessionManager::CheckNotPresent(const conf::NodeKey& key,
                                             const conf::Record& record) {
  ASSIGN_OR_RETURN(std::vector<SysfsSession> sessions,
                   ReadSysfsSessions(paths_.sysfs_root));
  int present = 0;
  for (const SysfsSession& session : sessions) {
    if (SessionIsNode(session, key)) ++present;
  }
  int64_t wanted = record.GetInt("node.session.nr_sessions").value_or(1);
  if (present >= wanted || logging_in_.contains(NodeId(key))) {
    return WithExitCode(
        absl::AlreadyExistsError(absl::StrCat(
            key.iface, ": ", wanted, " session", wanted == 1 ? "" : "s",
            " requested, but ", present + (logging_in_.contains(NodeId(key))),
            " already present.")),
        ExitCode::kSessionExists);
  }
  return absl::OkStatus();
}

void SessionManager::StartLogin(const conf::NodeKey& key, LoginDone done) {
  auto fail = [&](absl::Status status) {
    loop_.AddTimer(absl::ZeroDuration(), [done, key, status] {
      done(LoginOutcome{key, status});
    });
  };
  conf::NodeDb db(sysconf_dir_);
  auto record = db.ReadNode(key);
  if (!record.ok()) return fail(record.status());
  if (absl::Status present = CheckNotPresent(key, *record); !present.ok()) {
    return fail(present);
  }
  auto name =
      conf::ReadInitiatorNameFile(sysconf_dir_ + "/initiatorname.iscsi");
  if (!name.ok()) return fail(WithExitCode(name.status(), ExitCode::kInvalid));
  auto spec = SessionSpecFromNode(*record, Identity{name->name, name->alias});
  if (!spec.ok()) return fail(spec.status());
  auto router = Router();
  if (!router.ok()) return fail(router.status());

  const uint64_t operation = next_operation_++;
  const std::string node_id = NodeId(key);
  logging_in_[node_id] = operation;
  KISCSI_LOG(kInfo) << "logging in to " << NodeTag(key);
  auto setup = std::make_unique<SessionSetup>(
      **router, *std::move(spec), paths_,
      [this, operation, node_id, key,
       done](absl::StatusOr<SessionResult> result) {
        logging_in_.erase(node_id);
        absl::Status status = result.status();
        if (result.ok()) {
          KISCSI_LOG(kInfo)
              << "session " << result->sid << ": logged in to " << NodeTag(key);
          sockets_[result->sid] = std::move(result->socket);
        } else {
          KISCSI_LOG(kWarning)
              << "login to " << NodeTag(key) << " failed: " << status.message();
        }
        setups_.erase(operation);  // destroys the caller: nothing after this
        done(LoginOutcome{key, status});
      });
  SessionSetup* started = setup.get();
  setups_[operation] = std::move(setup);
  started->Start();
}

void SessionManager::Login(const ipc::LoginRequest& request,
                           ReplyCallback done) {
  conf::NodeKey key{request.target, request.address, request.port,
                    conf::kTpgtUnknown,
                    request.iface.empty() ? "default" : request.iface};
  // The request names the portal; the record on disk names the tpgt.
  conf::NodeDb db(sysconf_dir_);
  conf::NodeFilter filter;
  filter.target_name = key.target_name;
  filter.address = key.address;
  filter.port = key.port;
  filter.iface = key.iface;
  auto keys = db.FindNodes(filter);
  if (!keys.ok()) return done(ipc::ReplyFromStatus(keys.status()));
  if (keys->empty()) {
    return done(ipc::ReplyFromStatus(WithExitCode(
        absl::NotFoundError("No records found"), ExitCode::kNoObjectsFound)));
  }
  auto shared_done = std::make_shared<ReplyCallback>(std::move(done));
  StartLogin(keys->front(), [shared_done](LoginOutcome outcome) {
    (*shared_done)(ipc::ReplyFromStatus(outcome.status));
  });
}

void SessionManager::LoginAll(const ipc::LoginAllRequest& request,
                              ReplyCallback done) {
  conf::NodeDb db(sysconf_dir_);
  auto keys = db.ListNodes();
  if (!keys.ok()) return done(ipc::ReplyFromStatus(keys.status()));
  std::vector<conf::NodeKey> selected;
  for (const conf::NodeKey& key : *keys) {
    auto record = db.ReadNode(key);
    if (record.ok() &&
        StartupMatches(request.filter, record->Get("node.startup"))) {
      selected.push_back(key);
    }
  }
  if (selected.empty()) {
    return done(ipc::ReplyFromStatus(WithExitCode(
        absl::NotFoundError("No records found"), ExitCode::kNoObjectsFound)));
  }
  struct Batch {
    ReplyCallback done;
    size_t pending = 0;
    ipc::Reply reply;
    absl::Status first_error;
  };
  auto batch = std::make_shared<Batch>();
  batch->done = std::move(done);
  batch->pending = selected.size();
  for (const conf::NodeKey& key : selected) {
    batch->reply.out_lines.push_back("Logging in to " + NodeTag(key));
  }
  for (const conf::NodeKey& key : selected) {
    StartLogin(key, [batch](LoginOutcome outcome) {
      if (outcome.status.ok()) {
        batch->reply.out_lines.push_back("Login to " + NodeTag(outcome.key) +
                                         " successful.");
      } else {
        if (ExitCodeOf(outcome.status) == ExitCode::kSessionExists) {
          batch->reply.err_lines.push_back(
              std::string(outcome.status.message()));
        } else {
          batch->reply.err_lines.push_back("Could not login to " +
                                           NodeTag(outcome.key) + ".");
          batch->reply.err_lines.push_back(
              std::string(outcome.status.message()));
        }
        if (batch->first_error.ok()) batch->first_error = outcome.status;
      }
      if (--batch->pending > 0) return;
      ipc::Reply reply = std::move(batch->reply);
      if (!batch->first_error.ok()) {
        ipc::Reply failed = ipc::ReplyFromStatus(
            WithExitCode(absl::Status(batch->first_error.code(),
                                      "Could not log into all portals"),
                         ExitCodeOf(batch->first_error)));
        reply.code = failed.code;
        reply.exit_code = failed.exit_code;
        reply.message = failed.message;
      }
      batch->done(std::move(reply));
    });
  }
}

void SessionManager::StartLogout(uint32_t sid,
                                 std::function<void(absl::Status)> done) {
  auto session = ReadSysfsSession(paths_.sysfs_root, sid);
  auto router = session.ok() ? Router() : session.status();
  if (!router.ok()) {
    absl::Status status = router.status();
    loop_.AddTimer(absl::ZeroDuration(), [done, status] { done(status); });
    return;
  }
  LogoutSpec spec;
  spec.sid = sid;
  spec.cid = session->connection.has_value() ? session->connection->cid : 0;
  spec.target_name = session->target_name;
  if (session->connection.has_value()) {
    spec.portal = Portal{session->connection->persistent_address,
                         session->connection->persistent_port.value_or(3260)};
  }
  const uint64_t operation = next_operation_++;
  auto logout = std::make_unique<SessionLogout>(
      **router, spec, [this, operation, sid, done](absl::Status status) {
        if (status.ok()) {
          KISCSI_LOG(kInfo) << "session " << sid << ": logged out";
          sockets_.erase(sid);
        }
        logouts_.erase(operation);
        done(status);
      });
  SessionLogout* started = logout.get();
  logouts_[operation] = std::move(logout);
  started->Start();
}

void SessionManager::Logout(const ipc::LogoutRequest& request,
                            ReplyCallback done) {
  auto shared_done = std::make_shared<ReplyCallback>(std::move(done));
  StartLogout(request.sid, [shared_done](absl::Status status) {
    (*shared_done)(ipc::ReplyFromStatus(status));
  });
}

void SessionManager::LogoutAll(const ipc::LogoutAllRequest& request,
                               ReplyCallback done) {
  auto sessions = ReadSysfsSessions(paths_.sysfs_root);
  if (!sessions.ok()) return done(ipc::ReplyFromStatus(sessions.status()));
  conf::NodeDb db(sysconf_dir_);
  std::vector<SysfsSession> selected;
  for (const SysfsSession& session : *sessions) {
    if (request.filter == ipc::StartupFilter::kAll) {
      selected.push_back(session);
      continue;
    }
    // Other filters go by the node record's node.startup.
    auto keys = db.ListNodes();
    if (!keys.ok()) continue;
    for (const conf::NodeKey& key : *keys) {
      auto record = db.ReadNode(key);
      if (SessionIsNode(session, key) && record.ok() &&
          StartupMatches(request.filter, record->Get("node.startup"))) {
        selected.push_back(session);
        break;
      }
    }
  }
  if (selected.empty()) {
    return done(ipc::ReplyFromStatus(
        WithExitCode(absl::NotFoundError("No matching sessions found"),
                     ExitCode::kNoObjectsFound)));
  }
  struct Batch {
    ReplyCallback done;
    size_t pending = 0;
    ipc::Reply reply;
    absl::Status first_error;
  };
  auto batch = std::make_shared<Batch>();
  batch->done = std::move(done);
  batch->pending = selected.size();
  for (const SysfsSession& session : selected) {
    batch->reply.out_lines.push_back("Logging out of session " +
                                     SessionTag(session));
  }
  for (const SysfsSession& session : selected) {
    std::string tag = SessionTag(session);
    StartLogout(session.sid, [batch, tag](absl::Status status) {
      if (status.ok()) {
        batch->reply.out_lines.push_back("Logout of " + tag + " successful.");
      } else {
        batch->reply.err_lines.push_back("Could not logout of " + tag + ": " +
                                         std::string(status.message()));
        if (batch->first_error.ok()) batch->first_error = status;
      }
      if (--batch->pending > 0) return;
      ipc::Reply reply = std::move(batch->reply);
      if (!batch->first_error.ok()) {
        ipc::Reply failed = ipc::ReplyFromStatus(WithExitCode(
            absl::Status(batch->first_error.code(),
                         "Could not logout of all requested sessions"),
            ExitCodeOf(batch->first_error)));
        reply.code = failed.code;
        reply.exit_code = failed.exit_code;
        reply.message = failed.message;
      }
      batch->done(std::move(reply));
    });
  }
}

void SessionManager::ListSessions(const ipc::ListSessionsRequest& request,
                                  ReplyCallback done) {
  auto sessions = ReadSysfsSessions(paths_.sysfs_root);
  if (!sessions.ok()) return done(ipc::ReplyFromStatus(sessions.status()));
  std::vector<SysfsSession> selected;
  for (SysfsSession& session : *sessions) {
    if (!request.sid.has_value() || session.sid == *request.sid) {
      selected.push_back(std::move(session));
    }
  }
  if (selected.empty()) {
    return done(ipc::ReplyFromStatus(
        WithExitCode(absl::NotFoundError("No active sessions."),
                     ExitCode::kNoObjectsFound)));
  }
  SessionListOptions options;
  options.print_level = static_cast<int>(request.print_level);
  ipc::Reply reply;
  std::string text = FormatSessionList(selected, options);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    reply.out_lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  done(std::move(reply));
}

}  // namespace kiscsi::daemon
