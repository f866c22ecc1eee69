#include "src/daemon/session_manager.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conf/boot_firmware.h"
#include "conf/initiator_name.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/paths.h"
#include "src/base/status_macros.h"
#include "src/node/node_selector.h"
#include "src/node/session_names.h"
#include "src/node/session_settings.h"
#include "src/node/sysfs_session_spec.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi::daemon {
namespace {

// What a session is matched by: target, portal and iface, not the tpgt (a
// record made with -o new has none, and its sessions are the discovered
// record's too).
std::string NodeId(const conf::NodeKey& key) {
  return absl::StrCat(key.target_name, "|", key.address, "|", key.port, "|",
                      key.iface);
}

// One reply for several operations that run at once (-L all, -U all): each
// adds its lines; the last one to finish sends the reply, failed with
// `failure` and the first error's exit code if any operation failed.
struct Batch {
  ReplyCallback done;
  size_t pending = 0;
  ipc::Reply reply;
  absl::Status first_error;

  void Fail(absl::Status status) {
    if (first_error.ok()) first_error = std::move(status);
  }
  // One session's login, in iscsiadm's words.
  void AddLogin(const conf::NodeKey& key, const absl::Status& status) {
    if (status.ok()) {
      reply.out_lines.push_back("Login to " + NodeTag(key) + " successful.");
      return;
    }
    Fail(status);
    // A session already present: iscsiadm's own check says so in one line.
    if (status.code() == absl::StatusCode::kAlreadyExists) {
      reply.err_lines.push_back(std::string(status.message()));
      return;
    }
    // iscsiadm's two lines, which scripts match, then kiscsi's explanation,
    // indented so that it reads as a continuation.
    const ExitCode code = ExitCodeOf(status);
    reply.err_lines.push_back("Could not login to " + NodeTag(key) + ".");
    reply.err_lines.push_back(absl::StrCat("initiator reported error (",
                                           static_cast<int>(code), " - ",
                                           ExitCodeText(code), ")"));
    if (status.message() != ExitCodeText(code)) {
      reply.err_lines.push_back(absl::StrCat("  ", status.message()));
    }
  }
  void FinishOne(absl::string_view failure) {
    if (--pending > 0) return;
    if (!first_error.ok()) {
      ipc::Reply failed = ipc::ReplyFromStatus(WithExitCode(
          absl::Status(first_error.code(), failure), ExitCodeOf(first_error)));
      reply.code = failed.code;
      reply.exit_code = failed.exit_code;
      reply.message = failed.message;
    }
    done(std::move(reply));
  }
};

bool StartupMatches(ipc::StartupFilter filter, const std::string& startup) {
  switch (filter) {
    case ipc::StartupFilter::kAll:
      // A root disk's session is logged in by the initramfs and must outlive
      // every --loginall/--logoutall (open-iscsi does the same since 2.1.3).
      return startup != "onboot";
    case ipc::StartupFilter::kManual:
      return startup == "manual";
    case ipc::StartupFilter::kAutomatic:
      return startup == "automatic";
    case ipc::StartupFilter::kOnboot:
      return startup == "onboot";
  }
  return false;
}

// The daemon's side of the IPC's node selector, matched by the rule of
// src/node/node_selector.h.
conf::NodeFilter FilterOf(const ipc::NodeSelector& nodes) {
  conf::NodeFilter filter;
  filter.target_name = nodes.target;
  filter.address = nodes.address;
  filter.port = nodes.port;
  filter.tpgt = nodes.tpgt;
  filter.iface = nodes.iface;
  return filter;
}

}  // namespace

SessionManager::SessionManager(EventLoop& loop, KernelFactory kernel_factory,
                               std::string sysconf_dir, SessionPaths paths,
                               std::string conf_path, conf::IscsidConf conf)
    : loop_(loop),
      sysconf_dir_(sysconf_dir),
      paths_(paths),
      conf_path_(std::move(conf_path)),
      conf_(std::move(conf)),
      keeper_(loop, std::move(kernel_factory), std::move(sysconf_dir),
              std::move(paths), conf_) {}

SessionManager::~SessionManager() {
  // Unfinished operations undo themselves; finished sessions stay in the
  // kernel.
  setups_.clear();
  logouts_.clear();
}

void SessionManager::Ping(ReplyCallback done) {
  ipc::Reply reply;
  reply.out_lines.push_back(absl::StrCat("kiscsid ", KISCSI_VERSION, ", pid ",
                                         ::getpid(), ", protocol ",
                                         ipc::kProtocolVersion));
  done(std::move(reply));
}

void SessionManager::Reload(ReplyCallback done) {
  absl::StatusOr<conf::LoadedIscsidConf> loaded =
      conf::LoadIscsidConf(conf_path_);
  if (!loaded.ok()) {
    KISCSI_LOG(kError) << "reload: " << loaded.status().message()
                       << " (keeping the previous settings)";
    done(ipc::ReplyFromStatus(WithExitCode(
        absl::Status(loaded.status().code(),
                     absl::StrCat(loaded.status().message(),
                                  " (keeping the previous settings)")),
        ExitCodeOf(loaded.status()))));
    return;
  }
  ipc::Reply reply;
  for (const conf::Diagnostic& diagnostic : loaded->diagnostics) {
    KISCSI_LOG(kWarning) << diagnostic.message;
    reply.err_lines.push_back(absl::StrCat("warning: ", diagnostic.message));
  }
  conf_ = std::move(loaded->conf);
  KISCSI_LOG(kInfo) << "reloaded " << conf_path_;
  reply.out_lines.push_back(absl::StrCat("reloaded ", conf_path_));
  done(std::move(reply));
}

absl::StatusOr<int> SessionManager::MissingSessions(
    const conf::NodeKey& key, const conf::Record& record) {
  ASSIGN_OR_RETURN(
      std::vector<SysfsSession> sessions,
      ReadSysfsSessions(paths_.sysfs_root, {.identity_only = true}));
  const int64_t present = CountNodeSessions(sessions, key);
  const int64_t wanted = WantedSessions(record);
  if (auto it = logging_in_.find(NodeId(key)); it != logging_in_.end()) {
    if (it->second.tpgt != key.tpgt) {
      // Another record of the same target and portal (one with and one
      // without a tpgt) is logging in: as iscsid refuses the second.
      return WithExitCode(absl::AbortedError("session exists"),
                          ExitCode::kSessionExists);
    }
    // The login in flight makes every missing session: they count.
    return SessionsPresent(key, wanted, std::max(present, wanted));
  }
  if (present >= wanted) return SessionsPresent(key, wanted, present);
  return static_cast<int>(wanted - present);
}

int SessionManager::StartLogins(const conf::NodeKey& key, LoginDone done) {
  auto fail = [&](absl::Status status) {
    loop_.AddTimer(absl::ZeroDuration(), [done, key, status] {
      done(LoginOutcome{key, status});
    });
    return 0;
  };
  conf::NodeDb db(sysconf_dir_);
  auto record = db.ReadNode(key);
  if (!record.ok()) return fail(record.status());
  auto name = conf::ReadInitiatorNameFile(InitiatorNamePath(sysconf_dir_));
  if (!name.ok()) return fail(WithExitCode(name.status(), ExitCode::kInvalid));
  return StartLoginsFor(key, *record, Identity{name->name, name->alias},
                        std::move(done));
}

int SessionManager::StartLoginsFor(const conf::NodeKey& key,
                                   const conf::Record& node,
                                   const Identity& identity, LoginDone done) {
  auto fail = [&](absl::Status status) {
    loop_.AddTimer(absl::ZeroDuration(), [done, key, status] {
      done(LoginOutcome{key, status});
    });
    return 0;
  };
  absl::StatusOr<int> missing = MissingSessions(key, node);
  if (absl::IsAborted(missing.status())) {
    // Refused as iscsid refuses a second login to the same session: the
    // login was tried, so it gets its "Logging in to" line.
    fail(missing.status());
    return 1;
  }
  if (!missing.ok()) return fail(missing.status());
  auto spec = SessionSpecFromNode(node, identity);
  if (!spec.ok()) return fail(spec.status());
  auto router = keeper_.Router();
  if (!router.ok()) return fail(router.status());

  logging_in_[NodeId(key)] = LoginsInFlight{*missing, key.tpgt};
  KISCSI_LOG(kInfo) << "logging in to " << NodeTag(key)
                    << (*missing == 1
                            ? ""
                            : absl::StrCat(" (", *missing, " sessions)"));
  const RecoveryPolicy policy = keeper_.PolicyFor(&node);
  for (int i = 0; i < *missing; ++i)
    StartSession(**router, key, *spec, policy, done);
  return *missing;
}

void SessionManager::LoginFirmware(ProgressCallback progress,
                                   ReplyCallback done) {
  auto entries = conf::ReadBootFirmware(paths_.sysfs_root);
  if (!entries.ok()) return done(ipc::ReplyFromStatus(entries.status()));
  std::vector<std::pair<conf::NodeKey, conf::Record>> records;
  std::string initiator_name;
  for (const conf::FirmwareBootEntry& entry : *entries) {
    auto record = conf::NodeRecordFromFirmware(entry, conf().NewNodeRecord());
    if (!record.ok()) return done(ipc::ReplyFromStatus(record.status()));
    initiator_name = entry.initiator.initiator_name;
    conf::NodeKey key{
        entry.target.target_name, entry.target.ip_address, entry.target.port,
        static_cast<int>(record->GetInt("node.tpgt").value_or(1)), "default"};
    records.emplace_back(std::move(key), *std::move(record));
  }
  if (initiator_name.empty()) {
    auto name = conf::ReadInitiatorNameFile(InitiatorNamePath(sysconf_dir_));
    if (!name.ok()) {
      return done(ipc::ReplyFromStatus(
          WithExitCode(name.status(), ExitCode::kInvalid)));
    }
    initiator_name = name->name;
  }
  LoginRecords(records, Identity{initiator_name, ""}, std::move(progress),
               std::move(done));
}

void SessionManager::StartSession(KernelEventRouter& router,
                                  const conf::NodeKey& key,
                                  const SessionSpec& spec,
                                  const RecoveryPolicy& policy,
                                  LoginDone done) {
  const uint64_t operation = next_operation_++;
  auto setup = std::make_unique<SessionSetup>(
      router, spec, paths_,
      [this, operation, key, done, spec = spec,
       policy](absl::StatusOr<SessionResult> result) mutable {
        if (auto it = logging_in_.find(NodeId(key));
            it != logging_in_.end() && --it->second.pending == 0) {
          logging_in_.erase(it);
        }
        absl::Status status = result.status();
        if (result.ok()) {
          KISCSI_LOG(kInfo)
              << "session " << result->sid << ": logged in to " << NodeTag(key);
          spec.existing =
              SessionSpec::Existing{result->sid, result->cid, result->host_no};
          if (!keeper_.TakeCharge(spec, result->login.params.default_time2wait,
                                  policy, std::move(result->socket))) {
            // An error right after the login adopted it already.
            KISCSI_LOG(kInfo)
                << "session " << result->sid << ": already in recovery";
          }
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
                           ProgressCallback progress, ReplyCallback done) {
  if (request.firmware) {
    return LoginFirmware(std::move(progress), std::move(done));
  }
  const conf::NodeFilter filter = FilterOf(request.nodes);
  conf::NodeDb db(sysconf_dir_);
  auto keys = db.ListNodes();
  if (!keys.ok()) return done(ipc::ReplyFromStatus(keys.status()));
  std::erase_if(*keys, [&filter](const conf::NodeKey& key) {
    return !NodeMatches(filter, key);
  });
  LoginNodes(*keys, std::move(progress), std::move(done));
}

void SessionManager::LoginAll(const ipc::LoginAllRequest& request,
                              ProgressCallback progress, ReplyCallback done) {
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
  LoginNodes(selected, std::move(progress), std::move(done));
}

void SessionManager::LoginNodes(const std::vector<conf::NodeKey>& keys,
                                ProgressCallback progress, ReplyCallback done) {
  StartBatch(
      keys,
      [this](const conf::NodeKey& key, LoginDone login_done) {
        return StartLogins(key, login_done);
      },
      std::move(progress), std::move(done));
}

void SessionManager::LoginRecords(
    const std::vector<std::pair<conf::NodeKey, conf::Record>>& records,
    const Identity& identity, ProgressCallback progress, ReplyCallback done) {
  std::vector<conf::NodeKey> keys;
  for (const auto& [key, record] : records) keys.push_back(key);
  StartBatch(
      keys,
      [&](const conf::NodeKey& key, LoginDone login_done) {
        for (const auto& [k, record] : records) {
          if (k == key) {
            return StartLoginsFor(key, record, identity, login_done);
          }
        }
        return 0;
      },
      std::move(progress), std::move(done));
}

void SessionManager::StartBatch(
    const std::vector<conf::NodeKey>& keys,
    absl::FunctionRef<int(const conf::NodeKey&, LoginDone)> start,
    ProgressCallback progress, ReplyCallback done) {
  if (keys.empty()) {
    return done(ipc::ReplyFromStatus(WithExitCode(
        absl::NotFoundError("No records found"), ExitCode::kNoObjectsFound)));
  }
  auto batch = std::make_shared<Batch>();
  batch->done = std::move(done);
  // Every outcome comes from the loop, after this: the count and the
  // "Logging in to" lines (one a session) are complete before the first.
  std::vector<std::string> lines;
  for (const conf::NodeKey& key : keys) {
    const int started = start(key, [batch](LoginOutcome outcome) {
      batch->AddLogin(outcome.key, outcome.status);
      batch->FinishOne("Could not log into all portals");
    });
    batch->pending += std::max(started, 1);
    for (int i = 0; i < started; ++i) {
      lines.push_back("Logging in to " + NodeTag(key));
    }
  }
  progress(std::move(lines));
}

void SessionManager::StartLogout(const SysfsSession& session,
                                 std::function<void(absl::Status)> done) {
  const uint32_t sid = session.sid;
  auto router = keeper_.Router();
  if (!router.ok()) {
    absl::Status status = router.status();
    loop_.AddTimer(absl::ZeroDuration(), [done, status] { done(status); });
    return;
  }
  LogoutSpec spec;
  spec.sid = sid;
  spec.cid = session.connection.has_value() ? session.connection->cid : 0;
  spec.target_name = session.target_name;
  spec.sysfs_root = paths_.sysfs_root;
  if (session.connection.has_value()) {
    spec.portal = Portal{session.connection->persistent_address,
                         session.connection->persistent_port.value_or(3260)};
  }
  keeper_.Release(sid);
  const uint64_t operation = next_operation_++;
  auto logout = std::make_unique<SessionLogout>(
      **router, spec, [this, operation, done](absl::Status status) {
        logouts_.erase(operation);
        done(status);
      });
  SessionLogout* started = logout.get();
  logouts_[operation] = std::move(logout);
  started->Start();
}

void SessionManager::LogoutSessions(const std::vector<SysfsSession>& sessions,
                                    ReplyCallback done) {
  if (sessions.empty()) {
    return done(ipc::ReplyFromStatus(
        WithExitCode(absl::NotFoundError("No matching sessions found"),
                     ExitCode::kNoObjectsFound)));
  }
  // The outcomes are kept by position so that the reply lists them in the
  // sessions' order, whichever logout ends first.
  struct LogoutBatch {
    ReplyCallback done;
    std::vector<std::string> tags;
    std::vector<absl::Status> outcomes;
    size_t pending = 0;
  };
  auto batch = std::make_shared<LogoutBatch>();
  batch->done = std::move(done);
  batch->pending = sessions.size();
  batch->outcomes.resize(sessions.size());
  for (const SysfsSession& session : sessions) {
    batch->tags.push_back(SessionTag(session));
  }
  for (size_t i = 0; i < sessions.size(); ++i) {
    StartLogout(sessions[i], [batch, i](absl::Status status) {
      batch->outcomes[i] = std::move(status);
      if (--batch->pending > 0) return;
      ipc::Reply reply;
      absl::Status first_error;
      for (const std::string& tag : batch->tags) {
        reply.out_lines.push_back("Logging out of session " + tag);
      }
      for (size_t j = 0; j < batch->tags.size(); ++j) {
        const absl::Status& outcome = batch->outcomes[j];
        if (outcome.ok()) {
          reply.out_lines.push_back("Logout of " + batch->tags[j] +
                                    " successful.");
          continue;
        }
        reply.err_lines.push_back("Could not logout of " + batch->tags[j] +
                                  ": " + std::string(outcome.message()));
        if (first_error.ok()) first_error = outcome;
      }
      if (!first_error.ok()) {
        ipc::Reply failed = ipc::ReplyFromStatus(WithExitCode(
            absl::Status(first_error.code(),
                         "Could not logout of all requested sessions"),
            ExitCodeOf(first_error)));
        reply.code = failed.code;
        reply.exit_code = failed.exit_code;
        reply.message = failed.message;
      }
      batch->done(std::move(reply));
    });
  }
}

void SessionManager::Logout(const ipc::LogoutRequest& request,
                            ReplyCallback done) {
  auto sessions = ReadSysfsSessions(paths_.sysfs_root, {.identity_only = true});
  if (!sessions.ok()) return done(ipc::ReplyFromStatus(sessions.status()));
  const conf::NodeFilter filter = FilterOf(request.nodes);
  std::vector<SysfsSession> selected;
  bool sid_found = false;
  for (SysfsSession& session : *sessions) {
    if (request.sid.has_value() && session.sid != *request.sid) continue;
    sid_found = true;
    if (SessionMatches(filter, session)) selected.push_back(std::move(session));
  }
  if (request.sid.has_value() && !sid_found) {
    return done(ipc::ReplyFromStatus(WithExitCode(
        absl::NotFoundError(absl::StrCat("Could not get session info for sid ",
                                         *request.sid, ": no such session")),
        ExitCode::kSessionNotFound)));
  }
  LogoutSessions(selected, std::move(done));
}

void SessionManager::LogoutAll(const ipc::LogoutAllRequest& request,
                               ReplyCallback done) {
  auto sessions = ReadSysfsSessions(paths_.sysfs_root, {.identity_only = true});
  if (!sessions.ok()) return done(ipc::ReplyFromStatus(sessions.status()));
  conf::NodeDb db(sysconf_dir_);
  std::vector<SysfsSession> selected;
  auto keys = db.ListNodes();
  const std::vector<conf::FirmwareBootEntry> firmware =
      conf::ReadBootFirmware(paths_.sysfs_root)
          .value_or(std::vector<conf::FirmwareBootEntry>{});
  for (const SysfsSession& session : *sessions) {
    // A session of the boot firmware table is the root disk's, whatever the
    // records say: never logged out in bulk.
    if (session.connection.has_value() &&
        FirmwareEntryFor(firmware, session.target_name,
                         Portal{session.connection->persistent_address,
                                session.connection->persistent_port.value_or(
                                    3260)}) != nullptr) {
      continue;
    }
    // By the node record's node.startup; a session without a record counts
    // as manual, as iscsiadm treats it.
    std::string startup = "manual";
    if (keys.ok()) {
      for (const conf::NodeKey& key : *keys) {
        if (!SessionIsNode(session, key)) continue;
        auto record = db.ReadNode(key);
        if (record.ok()) startup = record->Get("node.startup");
        break;
      }
    }
    if (StartupMatches(request.filter, startup)) selected.push_back(session);
  }
  LogoutSessions(selected, std::move(done));
}

}  // namespace kiscsi::daemon
