// Logging in a kernel-offloaded (iscsi_tcp) session, asynchronously on an
// EventLoop, so the daemon can have many logins in flight in one thread; and a
// blocking wrapper for the single-process initramfs tool.
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
// The ISID is 00 02 3D followed by the sid's low 24 bits: stable per session,
// distinct for the first 16M sessions.
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
#include "src/base/blocking_call.h"
#include "src/base/dir_watch.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/login/login_machine.h"
#include "src/protocol/pdu.h"
#include "src/session/kernel_event_router.h"
#include "src/session/session_spec.h"
#include "src/session/sysfs_sessions.h"
#include "src/session/sysfs_writer.h"
#include "src/transport/portal.h"
#include "src/transport/tcp_connect.h"

namespace kiscsi {

// ScanScsiHost on a thread of its own; `done` gets its outcome on `loop`
// unless the returned call is destroyed first.
absl::StatusOr<std::unique_ptr<BlockingCall>> StartHostScan(
    EventLoop& loop, const std::string& sysfs_root, uint32_t host_no,
    absl::AnyInvocable<void(absl::Status)> done);

// 00 02 3D and the low 24 bits of `sid`.
Isid IsidForSid(uint32_t sid);
// The ISID as SET_PARAM carries it: 12 lowercase hex digits.
std::string IsidHex(const Isid& isid);

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
    return state_ == State::kConnecting && connector_ != nullptr &&
           connector_->in_flight();
  }
  // "session 3 (iqn.2026-11.test:t1, 10.0.0.1:3260)"; no sid before
  // CREATE_SESSION.
  std::string name() const;

 private:
  enum class State { kIdle, kConnecting, kLogin, kDevices, kFinished };

  void Connect(const Portal& portal);
  void OnConnected(absl::StatusOr<UniqueFd> socket);
  void CreateKernelObjects();
  void BindAndLogin();
  absl::Status SetIdentityParams();
  absl::Status SetNegotiatedParams();
  absl::Status SetParam(IscsiParam param, const std::string& value);
  absl::Status SendLoginRequest(const LoginRequest& request);
  void SendNextLoginRequest(LoginRequest request, int retries);
  void OnKernelEvent(const KernelEvent& event);
  void OnLoginPdu(const std::vector<uint8_t>& bytes);
  void OnRedirect(const Redirect& redirect);
  void OnLoggedIn(const LoginResult& result);
  void OnScanned(absl::Status scanned);
  void ReviveDevices(std::vector<SysfsDevice>& revived);
  void WatchDeviceNodes();
  void PollDevices();
  void Fail(absl::Status status);
  void Teardown();
  void Finish(absl::StatusOr<SessionResult> outcome);

  KernelEventRouter& router_;
  EventLoop& loop_;
  IscsiKernel& kernel_;
  SessionSpec spec_;
  const SessionPaths paths_;
  Done done_;

  State state_ = State::kIdle;
  std::string step_ = "start";
  Portal current_portal_;
  std::vector<Portal> redirects_;
  std::unique_ptr<TcpConnector> connector_;  // while connecting
  UniqueFd socket_;

  std::optional<uint32_t> sid_;
  bool session_created_ = false;  // until DESTROY_SESSION
  uint32_t host_no_ = 0;
  std::optional<uint32_t> cid_;
  bool bound_ = false;  // bound once: STOP_CONN(TERM) before DESTROY_CONN
  bool subscribed_ = false;
  std::unique_ptr<LoginMachine> machine_;
  LoginResult login_result_;
  std::vector<SysfsDevice> revived_;
  std::unique_ptr<BlockingCall> scan_;  // while the host scan runs
  // While waiting for device nodes: wakes PollDevices when /dev changes.
  std::unique_ptr<DirWatch> dev_watch_;
  bool dev_watch_tried_ = false;

  std::optional<EventLoop::TimerId> login_timer_;
  std::optional<EventLoop::TimerId> resend_timer_;
  std::optional<EventLoop::TimerId> device_timer_;
  std::optional<EventLoop::TimerId> finish_timer_;
  absl::Time device_deadline_;
  std::optional<absl::StatusOr<SessionResult>> outcome_;
};

// Runs one SessionSetup on a private EventLoop until it finishes: the
// initramfs tool's login. `kernel` must not have another reader of its events.
absl::StatusOr<SessionResult> LoginBlocking(IscsiKernel& kernel,
                                            const SessionSpec& spec,
                                            const SessionPaths& paths = {});

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SESSION_SETUP_H_
