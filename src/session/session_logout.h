// Logging out a running kernel session, asynchronously on an EventLoop.
//
// Order, as the kernel expects it: UNBIND_SESSION (the kernel removes the
// SCSI devices in the background, flushing their I/O) -> its UNBIND_SESSION
// event, which says the devices are gone -> Logout Request through SEND_PDU
// -> Logout Response as a RECV_PDU event, or the logout timeout, or a
// connection error -> STOP_CONN (TERM) -> DESTROY_CONN ->
// DESTROY_SESSION_ASYNC -> its DESTROY_SESSION event, which comes once the
// session and its SCSI host are gone from sysfs (DESTROY_SESSION on kernels
// without the asynchronous form). The synchronous DESTROY_SESSION holds the
// kernel's netlink mutex through an rcu_barrier per SCSI host, which
// serialises many logouts at ~25 ms each; the asynchronous one lets them run
// in parallel, and the logout ends before the kernel's last cleanup.
// Waiting for the event keeps the devices' last commands (a cache flush)
// ahead of the Logout Request and keeps DESTROY_SESSION from blocking the
// loop until the removal ends, so many logouts overlap. The kernel sends no
// event for a session without a scanned target or one that is not logged
// in (sysfs tells which), and a removal that outlasts the logout timeout is
// not waited for any longer. A target that does not answer
// does not keep the session alive: the teardown goes on and the logout still
// succeeds (as iscsiadm's does). If UNBIND_SESSION fails nothing else is done,
// so devices in use never lose their session behind the caller's back.
// Failures carry ExitCode kLogout and name the session and the step. When the
// kernel's events were lost (socket overrun), sysfs says whether the removal
// or the destruction waited for has happened, and a Logout Response waited
// for is given up; a DESTROY_SESSION event that never comes ends at the
// logout timeout, successful if the session has left sysfs.
#ifndef KISCSI_SRC_SESSION_SESSION_LOGOUT_H_
#define KISCSI_SRC_SESSION_SESSION_LOGOUT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"
#include "src/session/kernel_event_router.h"
#include "src/transport/portal.h"

namespace kiscsi {

struct LogoutSpec {
  uint32_t sid = 0;
  uint32_t cid = 0;
  // For messages only.
  std::string target_name;
  Portal portal;
  absl::Duration timeout = absl::Seconds(15);  // logout_timeout
  // Where the session's sysfs state is read (tests use a fixture tree).
  std::string sysfs_root = "/sys";
};

// Whether the kernel will send an UNBIND_SESSION event after UNBIND_SESSION
// for `sid`: the session is logged in and its SCSI target was scanned.
bool ExpectsUnbindEvent(const std::string& sysfs_root, uint32_t sid);

// The UNBIND_SESSION work is over: the target is neither scanned nor being
// removed (target_state; older kernels: no target directory).
bool UnbindFinished(const std::string& sysfs_root, uint32_t sid);

// The session still has its sysfs directory.
bool SessionInSysfs(const std::string& sysfs_root, uint32_t sid);

class SessionLogout {
 public:
  using Done = absl::AnyInvocable<void(absl::Status)>;

  // `router` must be started and outlive this object. `done` runs once, on
  // the loop, never from inside Start(); it may destroy this object.
  SessionLogout(KernelEventRouter& router, LogoutSpec spec, Done done);
  // Destroying an unfinished logout finishes the teardown synchronously.
  ~SessionLogout();
  SessionLogout(const SessionLogout&) = delete;
  SessionLogout& operator=(const SessionLogout&) = delete;

  void Start();
  bool finished() const { return finished_; }
  std::string name() const;

 private:
  void OnKernelEvent(const KernelEvent& event);
  // Sends the Logout Request and waits for its response.
  void SendLogout();
  // Stops and destroys the connection and the session; with `wait`, through
  // DESTROY_SESSION_ASYNC and its event where the kernel has it.
  void Teardown(bool wait);
  // The wait for the DESTROY_SESSION event ended.
  void EndDestroy(absl::Status status);
  // `status` of step `what` as the logout's failure: names the session,
  // ExitCode kLogout.
  absl::Status StepError(absl::string_view what,
                         const absl::Status& status) const;
  void Finish(absl::Status status);

  KernelEventRouter& router_;
  EventLoop& loop_;
  IscsiKernel& kernel_;
  const LogoutSpec spec_;
  Done done_;
  bool unbinding_ = false;   // waiting for the UNBIND_SESSION event
  bool waiting_ = false;     // for the Logout Response
  bool destroying_ = false;  // waiting for the DESTROY_SESSION event
  bool finished_ = false;
  std::optional<EventLoop::TimerId> unbind_timer_;
  std::optional<EventLoop::TimerId> timeout_timer_;
  std::optional<EventLoop::TimerId> destroy_timer_;
  std::optional<EventLoop::TimerId> finish_timer_;
  absl::Status outcome_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SESSION_LOGOUT_H_
