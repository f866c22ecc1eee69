// What a session login is asked to do and what it reports: the node record's
// settings as the kernel takes them (SessionSpec, SessionTimeouts), where sysfs
// and /dev are (SessionPaths) and the outcome (SessionResult).
//
// Plain data shared by the login phases (session_setup.h, kernel_login.h,
// device_wait.h) and their callers; it owns nothing and does no I/O.
#ifndef KISCSI_SRC_SESSION_SESSION_SPEC_H_
#define KISCSI_SRC_SESSION_SESSION_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "src/base/unique_fd.h"
#include "src/login/login_machine.h"
#include "src/protocol/pdu.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi {

// The node record's timeouts. Kernel values are whole seconds as the record
// holds them; 0 disables NOPs.
struct SessionTimeouts {
  absl::Duration login_timeout = absl::Seconds(15);
  int recovery_tmo = 120;     // SESS_RECOVERY_TMO (replacement_timeout)
  int abort_tmo = 15;         // ABORT_TMO
  int lu_reset_tmo = 30;      // LU_RESET_TMO
  int tgt_reset_tmo = 30;     // TGT_RESET_TMO
  int noop_out_interval = 5;  // RECV_TMO
  int noop_out_timeout = 5;   // PING_TMO
};

struct SessionSpec {
  // From LoginConfigFromNode; the ISID and CID are filled in here.
  LoginConfig login;
  Portal portal;  // the node's (persistent) portal
  std::string iface_name = "default";
  SessionTimeouts timeouts;
  uint16_t cmds_max = 128;
  uint16_t queue_depth = 32;
  bool fast_abort = true;
  // node.session.scan = auto: scan the host and wait for the LUNs' devices
  // (a reinstatement does neither; its owner rescans).
  bool scan = true;
  // How long to wait for block devices after the scan. Expiry is not a
  // failure: the session stays, the result says which devices are missing.
  absl::Duration device_timeout = absl::Seconds(10);
  int max_redirects = 8;
  // Bounds the TCP connect of each address (a blackholed portal); unset, only
  // the login timeout bounds it.
  std::optional<absl::Duration> connect_timeout;

  // Set: reinstate this session instead of creating one.
  struct Existing {
    uint32_t sid = 0;
    uint32_t cid = 0;
    uint32_t host_no = 0;
    // STOP_CONN(RECOVER) before anything else; false only when the caller
    // has just stopped the connection itself.
    bool stop_first = true;
  };
  std::optional<Existing> existing;
};

// Where the kernel's sysfs and the device nodes are (tests use a temp tree).
struct SessionPaths {
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";
  // How often the wait for device nodes looks at sysfs and dev_root: a
  // watch on dev_root wakes it as soon as a node appears, so this is only
  // the safety net (and the period when dev_root cannot be watched).
  absl::Duration device_poll_interval = absl::Milliseconds(100);
};

// What the login through the kernel made (KernelLogin's result).
struct KernelLoginResult {
  uint32_t sid = 0;
  uint32_t cid = 0;
  uint32_t host_no = 0;
  Isid isid{};
  Portal portal;                  // where the login ended (after redirects)
  std::vector<Portal> redirects;  // each redirect followed, in order
  LoginResult login;              // negotiated values, final StatSN
};

// A whole session setup's result: the login's, then the devices'.
struct SessionResult : KernelLoginResult {
  std::vector<SysfsDevice> devices;
  // Reinstatement only: devices that were set back to running.
  std::vector<SysfsDevice> revived;
  bool devices_ready = false;  // every disk-like LUN has its /dev node
  // The TCP socket bound to the connection; the kernel holds its own
  // reference, keeping this one until the session ends is customary.
  UniqueFd socket;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SESSION_SPEC_H_
