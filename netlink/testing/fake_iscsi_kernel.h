// An in-process IscsiKernel that behaves like scsi_transport_iscsi + iscsi_tcp
// for unit tests of the session logic.
//
// Rules it enforces, as the kernel does:
//   - sessions get sids 1, 2, ... and SCSI hosts kFirstHostNo, +1, ...;
//     CREATE_SESSION multicasts a CreateSessionEvent;
//   - CREATE_CONN needs the session; BIND_CONN needs the conn and an open
//     socket fd (-EBADF / -ENOTSOCK otherwise);
//   - SET_PARAM other than SESS_RECOVERY_TMO needs a bound or started conn
//     (-ENOTCONN);
//   - BIND_CONN on a bound or started conn answers -EBUSY; START_CONN needs
//     a bound (or started) conn, SEND_PDU too (-ENOTCONN);
//   - after InjectConnError() the conn is failed: BIND_CONN, START_CONN,
//     SEND_PDU and SET_PARAM answer -ENOTCONN (-107) until
//     STOP_CONN(kRecover); every STOP_CONN leaves the conn unbound;
//   - UNBIND_SESSION emits an UnbindSessionEvent; DESTROY_SESSION and
//     DESTROY_SESSION_ASYNC need the conns destroyed (-EBUSY) and emit Unbind
//     (if still bound) and DestroySession events.
//   - GET_STATS answers what SetStats() set for the conn, else zeros with
//     iscsi_tcp's three transport counters; an unknown conn answers -EEXIST,
//     as the kernel does.
// Unknown sids/cids answer -EINVAL, unknown hosts -ENODEV. Errors read like
// NetlinkIscsiKernel's: "BIND_CONN sid 1 cid 0: ... (-107)".
//
// Every call is recorded, successful or not, as a line: "CREATE_SESSION",
// "BIND_CONN 1 0", "SET_PARAM 1 0 15=iqn.2003-01.org.example:disk",
// "STOP_CONN 1 0 RECOVER", "SEND_PDU 1 0", "GET_STATS 1 0", ... SEND_PDU hands
// the PDU to a responder the test installs; the PDUs it returns come back as
// RecvPduEvents and make event_fd() (an eventfd) readable. Thread-safe; the
// responder runs without the fake's lock held.
#ifndef KISCSI_NETLINK_TESTING_FAKE_ISCSI_KERNEL_H_
#define KISCSI_NETLINK_TESTING_FAKE_ISCSI_KERNEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/unique_fd.h"

namespace kiscsi {

class FakeIscsiKernel : public IscsiKernel {
 public:
  // Host numbers of the fake's sessions start here (as on a machine whose
  // disk controller took host0 and host1), so a sid/host_no mix-up shows.
  static constexpr uint32_t kFirstHostNo = 2;

  // Returns the target's answers to one PDU (each a BHS + data segment).
  using PduResponder = std::function<std::vector<std::vector<uint8_t>>(
      uint32_t sid, uint32_t cid, std::vector<uint8_t> pdu)>;

  FakeIscsiKernel();

  // ---- IscsiKernel ----
  absl::StatusOr<CreatedSession> CreateSession(uint32_t initial_cmdsn,
                                               uint16_t cmds_max,
                                               uint16_t queue_depth) override;
  absl::Status DestroySession(uint32_t sid) override;
  absl::Status DestroySessionAsync(uint32_t sid) override;
  absl::Status UnbindSession(uint32_t sid) override;
  absl::StatusOr<uint32_t> CreateConn(uint32_t sid, uint32_t cid) override;
  absl::Status DestroyConn(uint32_t sid, uint32_t cid) override;
  absl::Status BindConn(uint32_t sid, uint32_t cid, int socket_fd,
                        bool is_leading) override;
  absl::Status SetParam(uint32_t sid, uint32_t cid, IscsiParam param,
                        absl::string_view value) override;
  absl::Status StartConn(uint32_t sid, uint32_t cid) override;
  absl::Status StopConn(uint32_t sid, uint32_t cid, StopConnFlag flag) override;
  absl::Status SendPdu(uint32_t sid, uint32_t cid,
                       absl::Span<const uint8_t> bhs,
                       absl::Span<const uint8_t> data) override;
  absl::Status SetHostParam(uint32_t host_no, HostParam param,
                            absl::string_view value) override;
  absl::StatusOr<ConnStats> GetStats(uint32_t sid, uint32_t cid) override;
  int event_fd() const override;
  absl::StatusOr<std::vector<KernelEvent>> ReadEvents() override;

  // ---- Scripting ----
  void SetPduResponder(PduResponder responder);
  // The kernel saw `error` (e.g. kConnErrTcpConnClose) on the conn: it fails,
  // and a ConnErrorEvent is queued. Returns false if there is no such conn.
  bool InjectConnError(uint32_t sid, uint32_t cid, uint32_t error);
  // Queues any event (an async message PDU, EventsLostEvent, ...).
  void QueueEvent(KernelEvent event);
  // The next call of `request` (e.g. "CREATE_SESSION") fails with
  // `negative_errno` (e.g. -ENOMEM) before any other check.
  void FailNext(absl::string_view request, int32_t negative_errno);
  // While held, UNBIND_SESSION keeps its UnbindSessionEvent back (the kernel
  // sends it only when the SCSI target is gone, which can take a while);
  // HoldUnbindEvents(false) queues what was held.
  void HoldUnbindEvents(bool hold);
  // The same for DESTROY_SESSION_ASYNC's DestroySessionEvent (the kernel
  // sends it once the teardown it queued has removed the session); the
  // session is gone for every other request at once, as in the kernel.
  void HoldDestroyEvents(bool hold);
  // What GET_STATS answers for the conn from now on (while it exists).
  // Returns false if there is no such conn.
  bool SetStats(uint32_t sid, uint32_t cid, ConnStats stats);

  // ---- Inspection ----
  std::vector<std::string> calls() const;
  // PDUs passed to SendPdu, BHS followed by the data segment (no padding).
  std::vector<std::vector<uint8_t>> sent_pdus() const;
  std::optional<std::string> GetParam(uint32_t sid, uint32_t cid,
                                      IscsiParam param) const;
  std::optional<std::string> GetHostParam(uint32_t host_no,
                                          HostParam param) const;
  bool SessionExists(uint32_t sid) const;
  // "down" (created or stopped), "bound", "up", "failed"; nullopt if the conn
  // does not exist.
  std::optional<std::string> ConnState(uint32_t sid, uint32_t cid) const;
  // The fd the conn was last bound to (-1 if never).
  int BoundFd(uint32_t sid, uint32_t cid) const;

 private:
  enum class LinkState { kDown, kBound, kUp };
  struct Conn {
    LinkState state = LinkState::kDown;
    bool failed = false;  // until STOP_CONN(RECOVER)
    int fd = -1;
    std::map<IscsiParam, std::string> params;
    std::optional<ConnStats> stats;
  };
  struct Session {
    uint32_t host_no = 0;
    bool unbound = false;
    std::map<uint32_t, Conn> conns;
  };

  // Records `line` and returns the injected failure for `request`, if any.
  absl::Status Begin(absl::string_view request, absl::string_view what,
                     std::string line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets `holding`; when it ends, queues what was `held`.
  void Hold(bool hold, bool& holding, std::vector<KernelEvent>& held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // DESTROY_SESSION and DESTROY_SESSION_ASYNC (`request`): the fake has no
  // teardown to overlap, so both end the session at once.
  absl::Status Destroy(absl::string_view request, uint32_t sid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The conn, or an -EINVAL status naming `what`.
  absl::StatusOr<Conn*> FindConn(uint32_t sid, uint32_t cid,
                                 absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Queue(KernelEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueUnbind(uint32_t sid, uint32_t host_no)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  UniqueFd event_fd_;
  uint32_t next_sid_ ABSL_GUARDED_BY(mu_) = 1;
  uint32_t next_host_no_ ABSL_GUARDED_BY(mu_) = kFirstHostNo;
  std::map<uint32_t, Session> sessions_ ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<uint32_t, uint32_t>, std::string> host_params_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, int32_t> fail_next_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<uint8_t>> sent_pdus_ ABSL_GUARDED_BY(mu_);
  std::vector<KernelEvent> events_ ABSL_GUARDED_BY(mu_);
  bool hold_unbind_events_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<KernelEvent> held_unbind_events_ ABSL_GUARDED_BY(mu_);
  bool hold_destroy_events_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<KernelEvent> held_destroy_events_ ABSL_GUARDED_BY(mu_);
  PduResponder responder_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kiscsi

#endif  // KISCSI_NETLINK_TESTING_FAKE_ISCSI_KERNEL_H_
