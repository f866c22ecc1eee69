// kiscsid's answers to what the user asked for: the IPC requests
// (CommandHandler). It selects node records for -l/-L and sessions for
// -u/-U by one rule (src/node/node_selector.h), runs logins and logouts
// through the kernel (src/session/) from the daemon's event loop so that any
// number overlap, and answers each request with one batched reply.
//
// Logins follow iscsiadm's rules: a login to a node makes the sessions it
// lacks (node.session.nr_sessions, default 1, minus those present), all at
// once, each its own session with its own ISID; with all of them present, or
// a login to the node still running, it fails with exit 15. A session whose
// login fails is undone on its own; the node's other sessions stay, and a
// later login makes the missing one. Logouts of every selected session start
// at once; -U never selects a root disk's session (node.startup onboot, or
// named by the boot firmware table). What sessions exist is always read from
// sysfs, so sessions made by others (the initramfs, an earlier daemon) count
// too.
//
// It must not keep sessions alive: the kernel, the event router, recoveries,
// adoption and live settings are SessionKeeper's (session_keeper.h), which
// it tells when a login made a session and when a logout gives one up. The
// kernel is opened on first use, so the daemon starts and serves on a
// machine whose kernel has no iSCSI transport; such logins fail with
// ExitCode kTransportNotFound (12).
#ifndef KISCSI_SRC_DAEMON_SESSION_MANAGER_H_
#define KISCSI_SRC_DAEMON_SESSION_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "conf/iscsid_conf.h"
#include "conf/node_db.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/daemon/command_handler.h"
#include "src/daemon/session_keeper.h"
#include "src/node/login_settings.h"
#include "src/session/kernel_event_router.h"
#include "src/session/session_logout.h"
#include "src/session/session_recovery.h"
#include "src/session/session_setup.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi::daemon {

class SessionManager : public CommandHandler {
 public:
  // Opens the kernel's iSCSI transport when first needed.
  using KernelFactory = SessionKeeper::KernelFactory;

  SessionManager(EventLoop& loop, KernelFactory kernel_factory,
                 std::string sysconf_dir, SessionPaths paths,
                 std::string conf_path, conf::IscsidConf conf);
  ~SessionManager() override;

  const conf::IscsidConf& conf() const { return conf_; }

  // "kiscsid VERSION, pid N, protocol P" as an output line.
  void Ping(ReplyCallback done) override;
  // Re-reads iscsid.conf; keeps the previous settings when the file is
  // invalid; warnings become error lines of the reply (and log lines).
  void Reload(ReplyCallback done) override;

  void Login(const ipc::LoginRequest& request, ProgressCallback progress,
             ReplyCallback done) override;
  void Logout(const ipc::LogoutRequest& request, ReplyCallback done) override;
  void LoginAll(const ipc::LoginAllRequest& request, ProgressCallback progress,
                ReplyCallback done) override;
  void LogoutAll(const ipc::LogoutAllRequest& request,
                 ReplyCallback done) override;
  // `-m session -s`: GET_STATS of each selected session's connection
  // (defined in session_stats.cc).
  void Stats(const ipc::StatsRequest& request, ReplyCallback done) override;

  // Takes charge of the sessions in sysfs (call before READY=1).
  void AdoptSessions() { keeper_.AdoptSessions(); }
  // The recovery in charge of `sid`, or nullptr (for tests).
  const SessionRecovery* recovery(uint32_t sid) const {
    return keeper_.recovery(sid);
  }

 private:
  struct LoginOutcome {
    conf::NodeKey key;
    absl::Status status;
  };
  using LoginDone = std::function<void(LoginOutcome)>;

  // Starts the sessions the node lacks, all at once. `done` runs from the
  // loop once per session started, or once with the reason when none was.
  // Returns the number started.
  int StartLogins(const conf::NodeKey& key, LoginDone done);
  // StartLogins with the record and initiator given (the boot firmware
  // table's targets have no record in the database).
  int StartLoginsFor(const conf::NodeKey& key, const conf::Record& record,
                     const Identity& identity, LoginDone done);
  // iscsiadm -m fw -l: the boot-selected targets of the firmware table.
  void LoginFirmware(ProgressCallback progress, ReplyCallback done);
  // Login and LoginAll once the nodes are chosen: starts every session they
  // lack, shows a "Logging in to" line for each through `progress`, answers
  // `done` with every outcome.
  void LoginNodes(const std::vector<conf::NodeKey>& keys,
                  ProgressCallback progress, ReplyCallback done);
  // Starts `start` for every key and answers `done` once all are over.
  void StartBatch(const std::vector<conf::NodeKey>& keys,
                  absl::FunctionRef<int(const conf::NodeKey&, LoginDone)> start,
                  ProgressCallback progress, ReplyCallback done);
  // LoginNodes with records and identities already chosen.
  void LoginRecords(
      const std::vector<std::pair<conf::NodeKey, conf::Record>>& records,
      const Identity& identity, ProgressCallback progress, ReplyCallback done);
  void StartSession(KernelEventRouter& router, const conf::NodeKey& key,
                    const SessionSpec& spec, const RecoveryPolicy& policy,
                    LoginDone done);
  // How many sessions the node lacks; ExitCode kSessionExists for none.
  absl::StatusOr<int> MissingSessions(const conf::NodeKey& key,
                                      const conf::Record& record);
  void StartLogout(const SysfsSession& session,
                   std::function<void(absl::Status)> done);
  // Logs out of every session at once and answers `done` once all are over,
  // with the lines LogoutRequest describes (src/ipc/ipc_protocol.h).
  void LogoutSessions(const std::vector<SysfsSession>& sessions,
                      ReplyCallback done);

  EventLoop& loop_;
  std::string sysconf_dir_;
  SessionPaths paths_;
  std::string conf_path_;  // iscsid.conf, which Reload reads again
  conf::IscsidConf conf_;
  // After conf_, which it reads; before the operations, which use its router
  // and go first.
  SessionKeeper keeper_;
  uint64_t next_operation_ = 1;
  // Nodes with logins in flight: how many of their sessions are unfinished.
  struct LoginsInFlight {
    int pending = 0;  // sessions not finished yet
    int tpgt = 0;     // of the record being logged in
  };
  absl::flat_hash_map<std::string, LoginsInFlight> logging_in_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<SessionSetup>> setups_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<SessionLogout>> logouts_;
};

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_SESSION_MANAGER_H_
