// kiscsid's session commands: logins and logouts through the kernel
// (src/session/), driven from the daemon's event loop so that any number
// overlap, with iscsiadm's rules (one session per node unless
// node.session.nr_sessions says more, exit 15 for a second one).
//
// The kernel is opened on first use, so the daemon starts and serves on a
// machine whose kernel has no iSCSI transport; such logins fail with ExitCode
// kTransportNotFound (12). What sessions exist is always read from sysfs, so
// sessions made by others (the initramfs, an earlier daemon) count too.
#ifndef KISCSI_SRC_DAEMON_SESSION_MANAGER_H_
#define KISCSI_SRC_DAEMON_SESSION_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "conf/node_db.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/daemon/basic_command_handler.h"
#include "src/session/kernel_event_router.h"
#include "src/session/session_logout.h"
#include "src/session/session_setup.h"

namespace kiscsi::daemon {

class SessionManager : public BasicCommandHandler {
 public:
  // Opens the kernel's iSCSI transport when first needed.
  using KernelFactory =
      std::function<absl::StatusOr<std::unique_ptr<IscsiKernel>>()>;

  SessionManager(EventLoop& loop, KernelFactory kernel_factory,
                 std::string sysconf_dir, SessionPaths paths,
                 std::string conf_path, conf::IscsidConf conf);
  ~SessionManager() override;

  void Login(const ipc::LoginRequest& request, ReplyCallback done) override;
  void Logout(const ipc::LogoutRequest& request, ReplyCallback done) override;
  void LoginAll(const ipc::LoginAllRequest& request,
                ReplyCallback done) override;
  void LogoutAll(const ipc::LogoutAllRequest& request,
                 ReplyCallback done) override;
  void ListSessions(const ipc::ListSessionsRequest& request,
                    ReplyCallback done) override;

 private:
  struct LoginOutcome {
    conf::NodeKey key;
    absl::Status status;
  };
  using LoginDone = std::function<void(LoginOutcome)>;

  absl::StatusOr<KernelEventRouter*> Router();
  // Starts one login; `done` runs once, from the loop, with the outcome.
  void StartLogin(const conf::NodeKey& key, LoginDone done);
  absl::Status CheckNotPresent(const conf::NodeKey& key,
                               const conf::Record& record);
  void StartLogout(uint32_t sid, std::function<void(absl::Status)> done);

  EventLoop& loop_;
  KernelFactory kernel_factory_;
  std::string sysconf_dir_;
  SessionPaths paths_;
  std::unique_ptr<IscsiKernel> kernel_;
  std::unique_ptr<KernelEventRouter> router_;
  uint64_t next_operation_ = 1;
  absl::flat_hash_map<std::string, uint64_t> logging_in_;  // node -> operation
  absl::flat_hash_map<uint64_t, std::unique_ptr<SessionSetup>> setups_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<SessionLogout>> logouts_;
  // Each session's TCP socket, held until it is logged out.
  absl::flat_hash_map<uint32_t, UniqueFd> sockets_;
};

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_SESSION_MANAGER_H_
