#include "src/daemon/session_keeper.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conf/boot_firmware.h"
#include "conf/db_lock.h"
#include "conf/initiator_name.h"
#include "conf/node_db.h"
#include "netlink/conn_error.h"
#include "src/base/log.h"
#include "src/base/paths.h"
#include "src/base/status_macros.h"
#include "src/node/session_settings.h"
#include "src/node/sysfs_session_spec.h"
#include "src/session/live_params.h"

namespace kiscsi::daemon {

SessionKeeper::SessionKeeper(EventLoop& loop, KernelFactory kernel_factory,
                             std::string sysconf_dir, SessionPaths paths,
                             const conf::IscsidConf& conf)
    : loop_(loop),
      kernel_factory_(std::move(kernel_factory)),
      sysconf_dir_(std::move(sysconf_dir)),
      paths_(std::move(paths)),
      conf_(conf) {}

SessionKeeper::~SessionKeeper() {
  // Sessions stay in the kernel; the recoveries close their sockets before
  // the router goes.
  recoveries_.clear();
  router_.reset();
}

bool SessionKeeper::TakeCharge(const SessionSpec& spec,
                               uint32_t default_time2wait,
                               const RecoveryPolicy& policy, UniqueFd socket) {
  const uint32_t sid = spec.existing->sid;
  if (recoveries_.contains(sid)) return false;
  auto recovery = std::make_unique<SessionRecovery>(
      *router_, spec, default_time2wait, policy, paths_, std::move(socket));
  recovery->set_groups(&recovery_groups_);
  recoveries_[sid] = std::move(recovery);
  return true;
}

void SessionKeeper::Release(uint32_t sid) {
  auto it = recoveries_.find(sid);
  if (it == recoveries_.end()) return;
  if (it->second->state() != SessionRecovery::State::kUp) {
    KISCSI_LOG(kInfo) << it->second->name()
                      << ": recovery abandoned for the logout";
  }
  recoveries_.erase(it);
}

absl::StatusOr<KernelEventRouter*> SessionKeeper::Router() {
  if (router_ != nullptr) return router_.get();
  ASSIGN_OR_RETURN(kernel_, kernel_factory_());
  auto router = std::make_unique<KernelEventRouter>(loop_, *kernel_);
  RETURN_IF_ERROR(router->Start());
  router->SetDefaultHandler(
      [this](const KernelEvent& event) { OnUnroutedEvent(event); });
  router_ = std::move(router);
  return router_.get();
}

RecoveryPolicy SessionKeeper::PolicyFor(const conf::Record* record) const {
  RecoveryPolicy policy;
  policy.max_backoff = absl::Milliseconds(
      conf_.GetInt("kiscsid.reopen_backoff_max_ms").value_or(500));
  policy.initial_backoff = std::min(policy.initial_backoff, policy.max_backoff);
  if (record != nullptr) {
    policy.reopen_max =
        static_cast<int>(record->GetInt("node.session.reopen_max").value_or(0));
  }
  return policy;
}

const SessionRecovery* SessionKeeper::recovery(uint32_t sid) const {
  auto it = recoveries_.find(sid);
  return it == recoveries_.end() ? nullptr : it->second.get();
}

void SessionKeeper::OnUnroutedEvent(const KernelEvent& event) {
  if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
    absl::StatusOr<SessionRecovery*> recovery = AdoptSid(error->sid);
    if (!recovery.ok()) {
      const std::string hint = ConnErrorHint(error->error);
      KISCSI_LOG(kWarning) << "session " << error->sid << ": connection "
                           << error->cid << " error "
                           << ConnErrorName(error->error)
                           << (hint.empty() ? "" : ": ") << hint
                           << "; cannot recover it: "
                           << recovery.status().message();
      return;
    }
    (*recovery)->OnConnError(error->error);
    return;
  }
  if (const auto* pdu = std::get_if<RecvPduEvent>(&event)) {
    absl::StatusOr<SessionRecovery*> recovery = AdoptSid(pdu->sid);
    if (recovery.ok()) {
      (*recovery)->OnPdu(pdu->pdu);
    } else {
      KISCSI_LOG(kDebug) << "session " << pdu->sid
                         << ": PDU from the kernel ignored: "
                         << recovery.status().message();
    }
    return;
  }
  if (const auto* destroyed = std::get_if<DestroySessionEvent>(&event)) {
    if (recoveries_.erase(destroyed->sid) > 0) {
      KISCSI_LOG(kInfo) << "session " << destroyed->sid
                        << ": destroyed; no longer in charge of it";
    }
    return;
  }
  if (std::holds_alternative<EventsLostEvent>(event)) {
    // Connection errors may be among the lost events: sysfs says which
    // connections failed.
    KISCSI_LOG(kWarning) << "kernel events were lost; re-reading sessions";
    auto sessions = ReadSysfsSessions(paths_.sysfs_root);
    if (!sessions.ok()) return;
    for (const SysfsSession& session : *sessions) {
      if (session.connection.has_value() &&
          session.connection->state == "failed") {
        absl::StatusOr<SessionRecovery*> recovery = AdoptSid(session.sid);
        if (recovery.ok()) {
          (*recovery)->RecoverNow("connection failed (events were lost)");
        }
      }
    }
  }
}

absl::StatusOr<SessionRecovery*> SessionKeeper::AdoptSid(uint32_t sid) {
  if (auto it = recoveries_.find(sid); it != recoveries_.end()) {
    return it->second.get();
  }
  ReadSysfsOptions options;
  options.include_passwords = true;
  ASSIGN_OR_RETURN(SysfsSession session,
                   ReadSysfsSession(paths_.sysfs_root, sid, options));
  return Adopt(session);
}

std::optional<conf::Record> SessionKeeper::FindNodeRecord(
    const std::string& target_name, const Portal& portal) const {
  conf::NodeDb db(sysconf_dir_);
  conf::NodeFilter filter;
  filter.target_name = target_name;
  filter.address = portal.address;
  filter.port = portal.port;
  auto keys = db.FindNodes(filter);
  if (!keys.ok() || keys->empty()) return std::nullopt;
  auto record = db.ReadNode(keys->front());
  if (!record.ok()) return std::nullopt;
  return *std::move(record);
}

void SessionKeeper::ApplyLiveSettings(const SysfsSession& session) {
  if (!session.connection.has_value() || kernel_ == nullptr) return;
  const SysfsConnection& connection = *session.connection;
  std::optional<conf::Record> record =
      FindNodeRecord(session.target_name, RecoveryPortal(connection));
  if (!record.has_value()) return;
  auto spec =
      SessionSpecFromNode(*record, Identity{session.initiator_name, ""});
  if (!spec.ok()) return;
  const SessionTimeouts& t = spec->timeouts;
  absl::Status applied =
      ApplyTimeoutParams(*kernel_, session.sid, connection.cid, t);
  if (!applied.ok()) {
    KISCSI_LOG(kWarning) << "session " << session.sid
                         << ": cannot apply the node record's settings: "
                         << applied.message();
    return;
  }
  KISCSI_LOG(kInfo) << "session " << session.sid
                    << ": node record settings applied without a re-login "
                       "(replacement_timeout "
                    << t.recovery_tmo << ", NOP-Out interval "
                    << t.noop_out_interval << ", timeout " << t.noop_out_timeout
                    << ")";
}

absl::StatusOr<SessionRecovery*> SessionKeeper::Adopt(
    const SysfsSession& session) {
  if (auto it = recoveries_.find(session.sid); it != recoveries_.end()) {
    return it->second.get();
  }
  if (!session.connection.has_value() || !session.host_no.has_value()) {
    return absl::FailedPreconditionError("no connection or SCSI host in sysfs");
  }
  if (session.transport != "tcp") {
    return absl::FailedPreconditionError(
        absl::StrCat("transport ", session.transport, " is not iscsi_tcp"));
  }
  const SysfsConnection& connection = *session.connection;
  const Portal portal = RecoveryPortal(connection);
  std::string initiator_name = session.initiator_name;
  if (initiator_name.empty()) {
    auto name = conf::ReadInitiatorNameFile(InitiatorNamePath(sysconf_dir_));
    if (!name.ok()) return name.status();
    initiator_name = name->name;
  }
  // The node record when one matches, else what sysfs holds.
  std::optional<SessionSpec> spec;
  std::optional<conf::Record> record =
      FindNodeRecord(session.target_name, portal);
  bool from_firmware = false;
  if (!record.has_value()) {
    record = FirmwareRecord(session.target_name, portal);
    from_firmware = record.has_value();
  }
  // Neither: the daemon writes one once the session is in its charge.
  const bool write_record = !record.has_value();
  if (record.has_value()) {
    auto from_node = SessionSpecFromNode(*record, Identity{initiator_name, ""});
    if (from_node.ok()) {
      spec = *std::move(from_node);
    } else {
      record.reset();
    }
  }
  const bool from_record = spec.has_value();
  if (!spec.has_value()) {
    spec = SessionSpecFromSysfs(session, initiator_name);
  }
  spec->existing =
      SessionSpec::Existing{session.sid, connection.cid, *session.host_no};
  const uint32_t time2wait = spec->login.operational.default_time2wait;
  auto recovery = std::make_unique<SessionRecovery>(
      *router_, *std::move(spec), time2wait,
      PolicyFor(record.has_value() ? &*record : nullptr), paths_);
  recovery->set_groups(&recovery_groups_);
  SessionRecovery* adopted = recovery.get();
  recoveries_[session.sid] = std::move(recovery);
  KISCSI_LOG(kInfo) << adopted->name() << ": adopted (connection "
                    << connection.state << ", "
                    << (!from_record    ? "identity from sysfs"
                        : from_firmware ? "the firmware's boot entry"
                                        : "node record")
                    << ")";
  if (write_record) WriteNodeRecordFor(session);
  return adopted;
}

void SessionKeeper::WriteNodeRecordFor(const SysfsSession& session) {
  const std::string prefix = absl::StrCat("session ", session.sid, ": ");
  auto system_name =
      conf::ReadInitiatorNameFile(InitiatorNamePath(sysconf_dir_));
  absl::StatusOr<SysfsNodeRecord> made =
      NodeRecordFromSysfs(session, system_name.ok() ? system_name->name : "",
                          conf_.NewNodeRecord());
  if (!made.ok()) {
    KISCSI_LOG(kWarning) << prefix << "no node record written for it: "
                         << made.status().message();
    return;
  }
  conf::NodeKey& key = made->key;
  // The lock from the check to the write, so that a record kiscsiadm writes
  // meanwhile is not replaced (WriteNode takes it again, which only counts).
  // A short wait: the daemon is starting, and a lock left behind by a killed
  // writer must not hold up READY=1 for long.
  absl::StatusOr<conf::DbLock> lock = conf::DbLock::Acquire(absl::Seconds(5));
  if (!lock.ok()) {
    KISCSI_LOG(kWarning) << prefix << "no node record written for it: "
                         << lock.status().message();
    return;
  }
  conf::NodeDb db(sysconf_dir_);
  conf::NodeFilter filter;
  filter.target_name = key.target_name;
  filter.address = key.address;
  filter.port = key.port;
  absl::StatusOr<std::vector<conf::NodeKey>> existing = db.FindNodes(filter);
  if (!existing.ok()) {
    KISCSI_LOG(kWarning) << prefix << "no node record written for it: "
                         << existing.status().message();
    return;
  }
  // Any record of the target and portal (another tpgt or iface too) is the
  // user's: never replaced.
  if (!existing->empty()) return;
  if (key.iface != "default" && !db.ReadIface(key.iface).ok()) {
    // A record bound to an iface this system does not have would never log
    // in again; the initramfs's iface is not the real system's.
    KISCSI_LOG(kInfo) << prefix << "iface " << key.iface
                      << " is not in the node database; the record uses "
                         "iface default";
    key.iface = "default";
    made->record.Set("iface.iscsi_ifacename", key.iface);
  }
  absl::Status written = db.WriteNode(key, made->record);
  if (!written.ok()) {
    KISCSI_LOG(kWarning) << prefix
                         << "cannot write a node record for it (recovery "
                            "uses what sysfs holds): "
                         << written.message();
    return;
  }
  KISCSI_LOG(kInfo) << prefix << "no node record matched; created " << db.root()
                    << "/nodes/" << key.target_name << "/" << key.address << ","
                    << key.port << "," << key.tpgt << "/" << key.iface
                    << " (node.startup = onboot"
                    << (session.username.empty()
                            ? ""
                            : absl::StrCat(", CHAP user ", session.username))
                    << ")";
}

void SessionKeeper::AdoptSessions() {
  ReadSysfsOptions options;
  options.include_passwords = true;
  auto sessions = ReadSysfsSessions(paths_.sysfs_root, options);
  if (!sessions.ok()) {
    KISCSI_LOG(kWarning) << "cannot read sessions to adopt: "
                         << sessions.status().message();
    return;
  }
  if (sessions->empty()) return;
  if (auto router = Router(); !router.ok()) {
    KISCSI_LOG(kWarning) << "cannot adopt " << sessions->size()
                         << " session(s): " << router.status().message();
    return;
  }
  for (const SysfsSession& session : *sessions) {
    absl::StatusOr<SessionRecovery*> recovery = Adopt(session);
    if (!recovery.ok()) {
      KISCSI_LOG(kWarning) << "session " << session.sid
                           << ": cannot adopt: " << recovery.status().message();
      continue;
    }
    const bool failed =
        session.state == "FAILED" || (session.connection.has_value() &&
                                      session.connection->state == "failed");
    if (failed) {
      (*recovery)->RecoverNow(
          absl::StrCat("session ", session.state, ", connection ",
                       session.connection->state, " at daemon start"));
    } else {
      // Timeouts and NOP settings take effect on the live connection.
      ApplyLiveSettings(session);
    }
  }
}

std::optional<conf::Record> SessionKeeper::FirmwareRecord(
    const std::string& target_name, const Portal& portal) const {
  auto entries = conf::ReadBootFirmware(paths_.sysfs_root);
  if (!entries.ok()) return std::nullopt;
  const conf::FirmwareBootEntry* entry =
      FirmwareEntryFor(*entries, target_name, portal);
  if (entry == nullptr) return std::nullopt;
  auto record = conf::NodeRecordFromFirmware(*entry, conf_.NewNodeRecord());
  if (!record.ok()) return std::nullopt;
  // The root disk's settings, as kiscsistart -b makes the session.
  record->Set("node.conn[0].timeo.noop_out_interval", "0");
  record->Set("node.conn[0].timeo.noop_out_timeout", "0");
  return *std::move(record);
}

}  // namespace kiscsi::daemon
