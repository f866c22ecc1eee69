// Logging in a kernel-offloaded (iscsi_tcp) session, asynchronously on an
// EventLoop, so the daemon can have many logins in flight in one thread (the
// initramfs tool runs one on a loop of its own).
//
// SessionSetup follows the kernel's lifecycle (see the kernel reference):
//   connect TCP (non-blocking, TCP_NODELAY) -> CREATE_SESSION -> ISID from the
//   sid -> CREATE_CONN -> BIND_CONN -> SET_PARAM identity and timeouts ->
//   login through the kernel (SEND_PDU / RECV_PDU events, redirects followed a
//   bounded number of times by STOP_CONN(RECOVER) and a new socket on the same
//   connection) -> SET_PARAM negotiated values -> START_CONN -> scan the SCSI
//   host (on a thread of its own: the write blocks until the kernel has
//   scanned the target, the loop goes on meanwhile) -> wait until the LUNs'
//   block devices exist in sysfs and in /dev.
// The login timeout bounds everything up to START_CONN. From START_CONN on,
// the connection's kernel events go to the router's default handler: an error
// during the scan or the wait for devices is the session keeper's to recover
// (the scan blocks until then). A failure at any step
// undoes what was made, in order (STOP_CONN(TERM) if bound, DESTROY_CONN,
// DESTROY_SESSION), and is reported as one line naming the session and the
// step, keeping the exit code of the cause (24 authorization, 19 not found,
// 8 timeout, 4 connection failure, ...).
//
// SessionSetup composes the phases and owns only their order, the one
// failure line and the result: the login through the kernel (KernelLogin,
// kernel_login.h, which connects through TcpConnector, transport/
// tcp_connect.h, and makes the ISID), then the devices (DeviceWait,
// device_wait.h). It must not talk to the kernel, a socket or sysfs itself.
//
// Reinstating an existing session (SessionSpec::existing, after a connection
// error; see session_recovery.h) skips CREATE_SESSION and CREATE_CONN:
//   [STOP_CONN(RECOVER) if stop_first] -> connect -> BIND_CONN on the same
//   sid/cid -> identity SET_PARAMs -> login with the same ISID and TSIH 0 ->
//   negotiated SET_PARAMs -> START_CONN -> devices that went offline or
//   transport-offline set back to running.
// It does not wait for device nodes (they exist already) and does not rescan:
// a rescan blocks while the connection is down again, and must not hold up
// the next recovery, so the owner runs it apart (StartHostScan). A failure
// destroys nothing: a connection it bound is stopped again with
// STOP_CONN(RECOVER), so the caller can retry on a connection in a known state.
#ifndef KISCSI_SRC_SESSION_SESSION_SETUP_H_
#define KISCSI_SRC_SESSION_SESSION_SETUP_H_

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/login/login_machine.h"
#include "src/protocol/pdu.h"
#include "src/session/device_wait.h"
#include "src/session/kernel_event_router.h"
#include "src/session/kernel_login.h"
#include "src/session/session_spec.h"
#include "src/session/sysfs_sessions.h"
#include "src/session/sysfs_writer.h"
#include "src/transport/portal.h"

namespace kiscsi {

class SessionSetup {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<SessionResult>)>;

  // `router` must be started and outlive this object. `done` runs once, on
  // the loop, never from inside Start(); it may destroy this object.
  SessionSetup(KernelEventRouter& router, SessionSpec spec, SessionPaths paths,
               Done done);
  // Destroying an unfinished setup undoes what it made (no callback then).
  ~SessionSetup();
  SessionSetup(const SessionSetup&) = delete;
  SessionSetup& operator=(const SessionSetup&) = delete;

  void Start();
  bool finished() const { return state_ == State::kFinished; }
  // A host name is being resolved or a TCP connect is in flight (both
  // complete in real time, whatever the loop's clock says).
  bool connecting() const {
    return state_ == State::kLogin && login_ != nullptr && login_->connecting();
  }
  // "session 3 (iqn.2026-11.test:t1, 10.0.0.1:3260)"; no sid before
  // CREATE_SESSION.
  std::string name() const;

 private:
  enum class State { kIdle, kLogin, kDevices, kFinished };

  void OnLoggedIn(absl::Status status);
  void OnDevices(absl::StatusOr<DeviceWaitResult> devices);
  void Fail(absl::Status status);
  void Teardown();
  void Finish(absl::StatusOr<SessionResult> outcome);

  KernelEventRouter& router_;
  EventLoop& loop_;
  const SessionSpec spec_;
  const SessionPaths paths_;
  Done done_;

  State state_ = State::kIdle;
  std::unique_ptr<KernelLogin> login_;   // from Start() until finished
  std::unique_ptr<DeviceWait> devices_;  // after START_CONN
  std::optional<EventLoop::TimerId> finish_timer_;
  std::optional<absl::StatusOr<SessionResult>> outcome_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SESSION_SETUP_H_
