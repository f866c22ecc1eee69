// kiscsid's keeper of live sessions: it owns the kernel's iSCSI transport
// (opened on first use, so the daemon starts on a machine without one) and
// the event router, and answers for every session in its charge with a
// SessionRecovery (src/session/session_recovery.h) that handles its
// connection errors and Async Messages.
//
// Sessions come into its charge two ways: TakeCharge() for a session the
// daemon just logged in, and adoption of a session found in sysfs, whoever
// made it: AdoptSessions() at start (a failed connection is recovered at
// once; a live one only gets its node record's timeouts set on it, no
// re-login), or a connection error of a session nobody adopted yet (e.g. made
// by kiscsistart while the daemon runs). An adopted session's re-login uses
// its node record when one matches (target, portal), else the boot firmware
// table's entry, else what sysfs holds (src/node/sysfs_session_spec.h).
//
// A session adopted with neither a node record nor a firmware table entry
// (root on iSCSI logged in by an initramfs that has no node database of the
// real system) gets a record written for it, node.startup = onboot, from what
// sysfs holds (NodeRecordFromSysfs), so that recovery after a daemon restart,
// `kiscsiadm -m node` and the next boot have its credentials. An existing
// record of its target and portal is never replaced; a failure to write is a
// warning and the session is adopted all the same.
//
// It must not decide what the user asked for: which nodes or sessions a
// request selects, logins, logouts and replies are SessionManager's, which
// tells the keeper when a session is gained (TakeCharge) or given up
// (Release).
#ifndef KISCSI_SRC_DAEMON_SESSION_KEEPER_H_
#define KISCSI_SRC_DAEMON_SESSION_KEEPER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "conf/iscsid_conf.h"
#include "conf/record.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/session/kernel_event_router.h"
#include "src/session/recovery_group.h"
#include "src/session/session_recovery.h"
#include "src/session/session_setup.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi::daemon {

class SessionKeeper {
 public:
  // Opens the kernel's iSCSI transport when first needed.
  using KernelFactory =
      std::function<absl::StatusOr<std::unique_ptr<IscsiKernel>>()>;

  // `conf` (iscsid.conf, which a reload may change) must outlive the keeper.
  SessionKeeper(EventLoop& loop, KernelFactory kernel_factory,
                std::string sysconf_dir, SessionPaths paths,
                const conf::IscsidConf& conf);
  ~SessionKeeper();

  // The event router on the kernel, opening the kernel on first use; fails
  // with the factory's error (ExitCode kTransportNotFound without iscsi_tcp).
  absl::StatusOr<KernelEventRouter*> Router();
  // The kernel once Router() succeeded, else nullptr.
  IscsiKernel* kernel() { return kernel_.get(); }

  // How a session of `record` (none: defaults) recovers.
  RecoveryPolicy PolicyFor(const conf::Record* record) const;

  // Takes charge of a session the daemon just logged in (Router() succeeded
  // before). False, and nothing changes, when it is in charge already (an
  // error right after the login adopted it).
  bool TakeCharge(const SessionSpec& spec, uint32_t default_time2wait,
                  const RecoveryPolicy& policy, UniqueFd socket);
  // Gives up `sid` (its logout starts): a recovery under way is abandoned.
  void Release(uint32_t sid);

  // Takes charge of the sessions in sysfs (call before READY=1). Opens the
  // kernel only when there is a session.
  void AdoptSessions();
  // The recovery in charge of `sid`, or nullptr.
  const SessionRecovery* recovery(uint32_t sid) const;

 private:
  void OnUnroutedEvent(const KernelEvent& event);
  absl::StatusOr<SessionRecovery*> Adopt(const SysfsSession& session);
  absl::StatusOr<SessionRecovery*> AdoptSid(uint32_t sid);
  // The node record of a target/portal, if the database has one.
  std::optional<conf::Record> FindNodeRecord(const std::string& target_name,
                                             const Portal& portal) const;
  // The record the boot firmware table gives a session's target and portal
  // (its CHAP credentials, root-disk settings), if the table names it.
  std::optional<conf::Record> FirmwareRecord(const std::string& target_name,
                                             const Portal& portal) const;
  // Writes the node record of an adopted `session` that has none (see the
  // top); logs what it did.
  void WriteNodeRecordFor(const SysfsSession& session);
  // Sets what the kernel accepts on a live connection (timeouts, NOP-Out
  // interval and timeout) from the session's node record, if it has one.
  void ApplyLiveSettings(const SysfsSession& session);

  EventLoop& loop_;
  KernelFactory kernel_factory_;
  std::string sysconf_dir_;
  SessionPaths paths_;
  const conf::IscsidConf& conf_;
  std::unique_ptr<IscsiKernel> kernel_;
  std::unique_ptr<KernelEventRouter> router_;
  // Before recoveries_: they leave their groups when destroyed.
  RecoveryGroups recovery_groups_;
  // The sessions in the keeper's charge, by sid (each holds its socket).
  absl::flat_hash_map<uint32_t, std::unique_ptr<SessionRecovery>> recoveries_;
};

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_SESSION_KEEPER_H_
