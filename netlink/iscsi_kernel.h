// The kernel's iSCSI transport as the daemon sees it: the NETLINK_ISCSI
// requests it sends and the events scsi_transport_iscsi multicasts back.
//
// This is the seam between session logic and the kernel. NetlinkIscsiKernel
// (netlink/) talks to the real kernel; FakeIscsiKernel (netlink/testing/)
// behaves like scsi_transport_iscsi for unit tests (including -ENOTCONN until
// STOP_CONN(RECOVER) after a connection error). Every method is synchronous:
// the kernel answers netlink requests in the sender's context.
#ifndef KISCSI_NETLINK_ISCSI_KERNEL_H_
#define KISCSI_NETLINK_ISCSI_KERNEL_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "src/base/stat_counter.h"

namespace kiscsi {

// STOP_CONN flags.
enum class StopConnFlag : uint32_t { kTerm = 1, kSuspend = 2, kRecover = 3 };

// ISCSI_PARAM_* (session and connection parameters for SET_PARAM).
enum class IscsiParam : uint32_t {
  kMaxRecvDlength = 0,
  kMaxXmitDlength = 1,
  kHdrdgstEn = 2,
  kDatadgstEn = 3,
  kInitialR2tEn = 4,
  kMaxR2t = 5,
  kImmDataEn = 6,
  kFirstBurst = 7,
  kMaxBurst = 8,
  kPduInorderEn = 9,
  kDataseqInorderEn = 10,
  kErl = 11,
  kIfmarkerEn = 12,
  kOfmarkerEn = 13,
  kExpStatsn = 14,
  kTargetName = 15,
  kTpgt = 16,
  kPersistentAddress = 17,
  kPersistentPort = 18,
  kSessRecoveryTmo = 19,
  kConnPort = 20,
  kConnAddress = 21,
  kUsername = 22,
  kUsernameIn = 23,
  kPassword = 24,
  kPasswordIn = 25,
  kFastAbort = 26,
  kAbortTmo = 27,
  kLuResetTmo = 28,
  kHostResetTmo = 29,
  kPingTmo = 30,
  kRecvTmo = 31,
  kIfaceName = 32,
  kIsid = 33,
  kInitiatorName = 34,
  kTgtResetTmo = 35,
  kTargetAlias = 36,
  kDiscoverySess = 43,
};

// ISCSI_HOST_PARAM_*.
enum class HostParam : uint32_t {
  kHwAddress = 0,
  kInitiatorName = 1,
  kNetdevName = 2,
  kIpAddress = 3,
};

// Connection error codes carried by CONN_ERROR (ISCSI_ERR_*, base 1000).
inline constexpr uint32_t kConnErrConnFailed = 1011;
inline constexpr uint32_t kConnErrTcpConnClose = 1020;
inline constexpr uint32_t kConnErrNopTimedOut = 1022;
// "conn failed (1011)", "TCP connection closed (1020)", ..., "error 1099" for
// unknown codes.
std::string ConnErrorName(uint32_t error);

struct CreatedSession {
  uint32_t sid = 0;
  uint32_t host_no = 0;
};

// Kernel events (multicast to group 1).
struct RecvPduEvent {  // a login/text/logout/NOP-In/async/reject PDU for
                       // userspace
  uint32_t sid = 0;
  uint32_t cid = 0;
  std::vector<uint8_t> pdu;  // 48-byte BHS followed by the data segment
};
struct ConnErrorEvent {
  uint32_t sid = 0;
  uint32_t cid = 0;
  uint32_t error = 0;
};
struct UnbindSessionEvent {
  uint32_t sid = 0;
  uint32_t host_no = 0;
};
struct DestroySessionEvent {
  uint32_t sid = 0;
  uint32_t host_no = 0;
};
struct CreateSessionEvent {
  uint32_t sid = 0;
  uint32_t host_no = 0;
};
struct ConnLoginStateEvent {
  uint32_t sid = 0;
  uint32_t cid = 0;
  uint32_t state = 0;
};
// The event socket overflowed (ENOBUFS): events were lost, state must be
// re-read from sysfs.
struct EventsLostEvent {};

// A connection's statistics, as GET_STATS answers them (struct iscsi_stats):
// the iSCSI MIB counters libiscsi keeps, then the transport's own counters
// (StatCounter: src/base/stat_counter.h).
struct ConnStats {
  uint64_t txdata_octets = 0;
  uint64_t rxdata_octets = 0;
  // PDUs sent.
  uint32_t noptx_pdus = 0;
  uint32_t scsicmd_pdus = 0;
  uint32_t tmfcmd_pdus = 0;
  uint32_t login_pdus = 0;
  uint32_t text_pdus = 0;
  uint32_t dataout_pdus = 0;
  uint32_t logout_pdus = 0;
  uint32_t snack_pdus = 0;
  // PDUs received.
  uint32_t noprx_pdus = 0;
  uint32_t scsirsp_pdus = 0;
  uint32_t tmfrsp_pdus = 0;
  uint32_t textrsp_pdus = 0;
  uint32_t datain_pdus = 0;
  uint32_t logoutrsp_pdus = 0;
  uint32_t r2t_pdus = 0;
  uint32_t async_pdus = 0;
  uint32_t rjt_pdus = 0;
  // Errors.
  uint32_t digest_err = 0;
  uint32_t timeout_err = 0;
  // The transport's own counters, named by it (iscsi_tcp:
  // tx_sendpage_failures, rx_discontiguous_hdr, eh_abort_cnt).
  std::vector<StatCounter> custom;
  bool operator==(const ConnStats&) const = default;
};
// The MIB counters above by name, in the kernel's order: what iscsiadm prints
// under "iSCSI SNMP:".
std::vector<StatCounter> MibCounters(const ConnStats& stats);

using KernelEvent =
    std::variant<RecvPduEvent, ConnErrorEvent, UnbindSessionEvent,
                 DestroySessionEvent, CreateSessionEvent, ConnLoginStateEvent,
                 EventsLostEvent>;

class IscsiKernel {
 public:
  virtual ~IscsiKernel() = default;

  // Requests. A failure names the request and the kernel's errno, e.g.
  // "BIND_CONN sid 3 cid 0: Transport endpoint is not connected (-107)".
  virtual absl::StatusOr<CreatedSession> CreateSession(
      uint32_t initial_cmdsn, uint16_t cmds_max, uint16_t queue_depth) = 0;
  virtual absl::Status DestroySession(uint32_t sid) = 0;
  // DESTROY_SESSION_ASYNC: the kernel checks the session as DESTROY_SESSION
  // does (no connections left), queues its destruction and answers at once;
  // a DestroySessionEvent follows once the session and its SCSI host are gone
  // from sysfs. Unlike DESTROY_SESSION, which holds the kernel's one netlink
  // mutex for the whole teardown (an rcu_barrier per SCSI host), destructions
  // run in parallel. Kernels before 5.x answer -ENOSYS (kUnimplemented).
  virtual absl::Status DestroySessionAsync(uint32_t sid) = 0;
  virtual absl::Status UnbindSession(uint32_t sid) = 0;
  virtual absl::StatusOr<uint32_t> CreateConn(uint32_t sid, uint32_t cid) = 0;
  virtual absl::Status DestroyConn(uint32_t sid, uint32_t cid) = 0;
  // `socket_fd` is a connected TCP socket of this process; the kernel takes its
  // own reference.
  virtual absl::Status BindConn(uint32_t sid, uint32_t cid, int socket_fd,
                                bool is_leading) = 0;
  virtual absl::Status SetParam(uint32_t sid, uint32_t cid, IscsiParam param,
                                absl::string_view value) = 0;
  virtual absl::Status StartConn(uint32_t sid, uint32_t cid) = 0;
  virtual absl::Status StopConn(uint32_t sid, uint32_t cid,
                                StopConnFlag flag) = 0;
  // A PDU the kernel transmits on the connection (it stamps CmdSN/ITT
  // bookkeeping).
  virtual absl::Status SendPdu(uint32_t sid, uint32_t cid,
                               absl::Span<const uint8_t> bhs,
                               absl::Span<const uint8_t> data) = 0;
  virtual absl::Status SetHostParam(uint32_t host_no, HostParam param,
                                    absl::string_view value) = 0;
  // The connection's counters. The kernel answers GET_STATS with a message
  // multicast to every listener of group 1 rather than with a reply; the
  // answer about this sid/cid is waited for a bounded time, and events that
  // arrive meanwhile are delivered as usual.
  virtual absl::StatusOr<ConnStats> GetStats(uint32_t sid, uint32_t cid) = 0;

  // Events. `event_fd()` becomes readable when events may be waiting (for
  // epoll); ReadEvents() returns what is there without blocking (possibly
  // nothing).
  virtual int event_fd() const = 0;
  virtual absl::StatusOr<std::vector<KernelEvent>> ReadEvents() = 0;
};

}  // namespace kiscsi

#endif  // KISCSI_NETLINK_ISCSI_KERNEL_H_
