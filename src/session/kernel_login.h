// The login phase of a kernel-offloaded (iscsi_tcp) session: from the TCP
// connect to START_CONN.
//
// KernelLogin owns, while it runs: the TcpConnector, the kernel objects it
// makes (CREATE_SESSION, CREATE_CONN, the BIND_CONN of the socket), its
// subscription to the connection's kernel events, the login state machine
// (LoginMachine, its PDUs through SEND_PDU / RECV_PDU), the redirects it
// follows (STOP_CONN(RECOVER) and a new socket on the same connection), the
// SET_PARAMs (identity and timeouts before the login, the negotiated values
// after it) and the login timeout, which bounds all of it. After START_CONN
// it unsubscribes: the connection's errors are its keeper's from then on.
//
// It must not scan the SCSI host or look at devices (device_wait.h), and
// decides nothing about retries: a failure is reported once, with step()
// naming where it happened, and the owner destroys it. Destroying it undoes
// what it made unless Release() was called: a new session is torn down
// (STOP_CONN(TERM) if bound, DESTROY_CONN, DESTROY_SESSION); a reinstated one
// (SessionSpec::existing) is only stopped again with STOP_CONN(RECOVER) if it
// was bound, so the owner can retry on a connection in a known state.
//
// The ISID is 00 02 3D followed by the sid's low 24 bits: stable per session,
// distinct for the first 16M sessions.
#ifndef KISCSI_SRC_SESSION_KERNEL_LOGIN_H_
#define KISCSI_SRC_SESSION_KERNEL_LOGIN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/login/login_machine.h"
#include "src/protocol/pdu.h"
#include "src/session/kernel_event_router.h"
#include "src/session/session_spec.h"
#include "src/transport/portal.h"
#include "src/transport/tcp_connect.h"

namespace kiscsi {

// 00 02 3D and the low 24 bits of `sid`.
Isid IsidForSid(uint32_t sid);
// The ISID as SET_PARAM carries it: 12 lowercase hex digits.
std::string IsidHex(const Isid& isid);

// "session 3 (iqn.2026-11.test:t1, 10.0.0.1:3260)"; no sid before
// CREATE_SESSION.
std::string SessionName(const SessionSpec& spec, std::optional<uint32_t> sid);

class KernelLogin {
 public:
  // OK once the connection is started (result() then); an error otherwise.
  // Runs once, on the loop; it may destroy this object.
  using Done = absl::AnyInvocable<void(absl::Status)>;

  // `router` must be started and outlive this object.
  KernelLogin(KernelEventRouter& router, const SessionSpec& spec, Done done);
  ~KernelLogin();
  KernelLogin(const KernelLogin&) = delete;
  KernelLogin& operator=(const KernelLogin&) = delete;

  void Start();

  // A name lookup or a TCP connect is in flight.
  bool connecting() const {
    return connector_ != nullptr && connector_->in_flight();
  }
  std::optional<uint32_t> sid() const { return sid_; }
  // Where it is ("connect", "login", ...): names a failure.
  const std::string& step() const { return step_; }
  // After success.
  const KernelLoginResult& result() const { return result_; }
  // The socket bound to the connection (the kernel holds its own reference).
  UniqueFd TakeSocket() { return std::move(socket_); }
  // The session is its keeper's now: destroying this object leaves it.
  void Release() { released_ = true; }

 private:
  enum class State { kIdle, kConnecting, kLogin, kDone };

  void Connect(const Portal& portal);
  void OnConnected(absl::StatusOr<UniqueFd> socket);
  void CreateKernelObjects();
  void BindAndLogin();
  absl::Status SetIdentityParams();
  absl::Status SetNegotiatedParams(const LoginResult& result);
  absl::Status SetParam(IscsiParam param, const std::string& value);
  absl::Status SendLoginRequest(const LoginRequestPdu& request);
  void SendNextLoginRequest(LoginRequestPdu request, int retries);
  void OnKernelEvent(const KernelEvent& event);
  void OnLoginPdu(const std::vector<uint8_t>& bytes);
  void OnRedirect(const Redirect& redirect);
  void OnLoggedIn(const LoginResult& result);
  void CancelTimers();
  // Reports the outcome; nothing of this object is touched afterwards.
  void Report(absl::Status status);
  void Undo();
  std::string name() const { return SessionName(spec_, sid_); }

  KernelEventRouter& router_;
  EventLoop& loop_;
  IscsiKernel& kernel_;
  SessionSpec spec_;
  Done done_;

  State state_ = State::kIdle;
  std::string step_ = "start";
  bool reported_ = false;
  bool released_ = false;
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
  KernelLoginResult result_;

  std::optional<EventLoop::TimerId> login_timer_;
  std::optional<EventLoop::TimerId> resend_timer_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_KERNEL_LOGIN_H_
