// Keeps one logged-in kernel session alive: recovery from connection errors.
//
// The daemon makes one SessionRecovery per session it is in charge of (its
// own logins and the sessions it adopts) and hands it the connection errors
// and Async Messages the kernel routes to nobody else. On an error:
//   1. STOP_CONN(RECOVER) at once (the kernel answers -ENOTCONN to BIND_CONN,
//      SEND_PDU and START_CONN until then), the old socket is closed;
//   2. wait Time2Wait: the negotiated DefaultTime2Wait, or the Time2Wait of
//      the Async Message that asked for the drop (0 = at once);
//   3. an attempt: SessionSetup in reinstate mode (same sid/cid, same ISID,
//      TSIH 0, CHAP again, START_CONN, offline devices back to running);
//      once it succeeded, a rescan of the SCSI host on a thread of its own
//      (the write blocks while the connection is down again, so it never
//      holds up the next recovery; one at a time);
//   4. a failed attempt is retried after a back-off that starts at
//      initial_backoff and doubles up to max_backoff, each with +-jitter,
//      every attempt starting with STOP_CONN(RECOVER), until reopen_max
//      attempts were made (0: forever). With RecoveryGroups (the daemon),
//      the portal's scout retries every scout_interval instead, and a
//      session of the same portal that gets back in wakes the others.
// The kernel's replacement timer (recovery_tmo) runs meanwhile: I/O fails
// once it expires, and the attempts go on; the session's devices come back
// when the target does.
//
// The log tells a recovery in a few lines whatever it takes: one warning when
// the error comes (with the reason), a "still recovering" warning at most
// every summary_interval while the attempts keep failing (how many, how long,
// the last error), and one when the session is back (attempts, time) or
// given up. Each attempt, and errors seen while recovering, are debug lines.
//
// At most one recovery runs at a time. Errors while waiting are the same
// failure seen again and ignored; an error the kernel reports on the new
// connection while an attempt is finishing starts the next recovery as soon
// as that attempt is done. Async Message events: 1 (the target asks for a
// logout) and 2/3 (the target will drop the connection / session) are handled
// as a connection drop followed by a re-login, so a root disk stays; 4 and
// vendor events are logged.
#ifndef KISCSI_SRC_SESSION_SESSION_RECOVERY_H_
#define KISCSI_SRC_SESSION_SESSION_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/base/blocking_call.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/session/kernel_event_router.h"
#include "src/session/recovery_group.h"
#include "src/session/session_setup.h"

namespace kiscsi {

struct RecoveryPolicy {
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Milliseconds(500);
  double jitter = 0.2;  // each delay is scaled by 1 +- jitter
  int reopen_max = 0;   // node.session.reopen_max: attempts, 0 = no bound
  // The retry interval of a portal's scout (see RecoveryGroups), at most
  // max_backoff.
  absl::Duration scout_interval = absl::Milliseconds(100);
  // The TCP connect of an attempt (a blackholed portal); the login timeout
  // of the node record bounds the whole attempt.
  absl::Duration connect_timeout = absl::Milliseconds(1000);
  // "still recovering" lines while the attempts fail: at most one per
  // interval, measured on the event loop's clock.
  absl::Duration summary_interval = absl::Seconds(5);
};

class SessionRecovery {
 public:
  enum class State { kUp, kWaiting, kAttempting, kGaveUp };
  // Uniform in [0, 1); tests pass a fixed one.
  using Random = std::function<double()>;
  // Runs after each recovery that brought the session back.
  using Recovered = std::function<void(const SessionResult& result)>;

  // `spec.existing` names the session (sid, cid, host_no); `time2wait` is the
  // negotiated DefaultTime2Wait in seconds. `socket` is the connection's
  // socket if this process holds it (closed at the next error).
  SessionRecovery(KernelEventRouter& router, SessionSpec spec,
                  uint32_t time2wait, RecoveryPolicy policy, SessionPaths paths,
                  UniqueFd socket = UniqueFd(), Random random = nullptr);
  ~SessionRecovery();
  SessionRecovery(const SessionRecovery&) = delete;
  SessionRecovery& operator=(const SessionRecovery&) = delete;

  // A CONN_ERROR of the session's connection.
  void OnConnError(uint32_t error);
  // An Async Message (opcode 0x32) the kernel passed up; other PDUs are
  // logged at debug level.
  void OnPdu(const std::vector<uint8_t>& pdu);
  // The connection is known to be failed (found so at adoption): recover
  // now, without Time2Wait.
  void RecoverNow(const std::string& reason);
  void set_on_recovered(Recovered recovered) {
    on_recovered_ = std::move(recovered);
  }
  // Coordinates this recovery with the others of its portal; `groups` must
  // outlive it.
  void set_groups(RecoveryGroups* groups) { groups_ = groups; }

  State state() const { return state_; }
  const RecoveryPolicy& policy() const { return policy_; }
  uint32_t sid() const { return spec_.existing->sid; }
  int attempts() const { return attempts_; }
  // The current attempt's TCP connect is in flight.
  bool connecting() const {
    return attempt_ != nullptr && attempt_->connecting();
  }
  // A rescan of the SCSI host is running.
  bool rescanning() const { return rescan_ != nullptr; }
  // "session 3 (iqn..., 10.0.0.1:3260)".
  std::string name() const;

 private:
  void Begin(const std::string& reason, absl::Duration wait);
  void Attempt();
  // Another session of the portal got back in: attempt now (unless still in
  // the first Time2Wait or already attempting).
  void WakeUp();
  void LeaveGroup();
  void OnAttemptDone(absl::StatusOr<SessionResult> result);
  absl::Duration Jittered(absl::Duration delay);
  void CancelTimer();
  // The connection's state in sysfs is "up": the kernel sees no error on it.
  bool KernelSaysUp() const;
  void VerifyConnection();
  void Rescan();

  KernelEventRouter& router_;
  EventLoop& loop_;
  SessionSpec spec_;
  uint32_t time2wait_;
  const RecoveryPolicy policy_;
  const SessionPaths paths_;
  UniqueFd socket_;
  Random random_;
  Recovered on_recovered_;
  RecoveryGroups* groups_ = nullptr;

  State state_ = State::kUp;
  bool stopped_ = false;  // STOP_CONN(RECOVER) done since the last attempt
  absl::Time verify_until_;
  bool error_while_attempting_ = false;
  int attempts_ = 0;
  absl::Duration backoff_;
  absl::Time began_;
  absl::Time last_summary_;  // the last "still recovering" line, or began_
  std::optional<EventLoop::TimerId> timer_;
  std::unique_ptr<SessionSetup> attempt_;
  std::unique_ptr<BlockingCall> rescan_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SESSION_RECOVERY_H_
