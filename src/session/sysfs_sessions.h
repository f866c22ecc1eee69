// The iSCSI sessions the kernel has, read from sysfs, and iscsiadm's
// `-m session` listing of them.
//
// Sessions are read from sysfs rather than from the daemon's memory, so the
// listing shows every session whoever created it (this daemon, an initramfs
// tool, firmware) and the daemon can adopt sessions it did not make. The sysfs
// root is a parameter: tests build a fake tree in a temporary directory.
//
// Layout read (relative to the root, see the kernel reference):
//   class/iscsi_session/session<sid>/{targetname,tpgt,state,...}
//   class/iscsi_session/session<sid>/device -> .../host<N>/session<sid>
//     target<H>:<C>:<T>/<H>:<C>:<T>:<L>/{type,state,block/<sdX>}
//   class/iscsi_connection/connection<sid>:<cid>/{state,address,port,...}
//   class/iscsi_host/host<N>/{ipaddress,hwaddress,netdev}
//   class/scsi_host/host<N>/{proc_name,state}
#ifndef KISCSI_SRC_SESSION_SYSFS_SESSIONS_H_
#define KISCSI_SRC_SESSION_SYSFS_SESSIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace kiscsi {

// One SCSI device (LUN) of a session.
struct SysfsDevice {
  uint32_t host = 0;
  uint32_t channel = 0;
  uint32_t id = 0;
  uint32_t lun = 0;
  std::optional<int> type;  // SCSI peripheral device type (0 = disk)
  std::string state;        // "running", "offline", "transport-offline", ...
  std::string block;        // "sda"; empty until the disk is attached
};

struct SysfsConnection {
  uint32_t cid = 0;
  std::string state;  // "up", "down", "failed", "bound"
  std::string address;
  std::optional<uint16_t> port;
  std::string persistent_address;
  std::optional<uint16_t> persistent_port;
  std::optional<uint16_t> local_port;
  std::optional<uint32_t> max_recv_dlength;
  std::optional<uint32_t> max_xmit_dlength;
  std::optional<bool> header_digest;  // CRC32C
  std::optional<bool> data_digest;
  std::optional<int64_t> ping_tmo;
  std::optional<int64_t> recv_tmo;
};

struct SysfsSession {
  uint32_t sid = 0;
  std::string target_name;
  std::optional<uint32_t> tpgt;
  std::string state;               // "LOGGED_IN", "FAILED", "FREE"
  std::optional<int64_t> creator;  // netlink port id; -1 for the kernel
  std::optional<int64_t> recovery_tmo;
  std::optional<int64_t> abort_tmo;
  std::optional<int64_t> lu_reset_tmo;
  std::optional<int64_t> tgt_reset_tmo;
  std::string iface_name;
  std::string initiator_name;
  std::string username;
  std::string username_in;
  // Filled only with ReadSysfsOptions::include_passwords.
  std::string password;
  std::string password_in;
  std::optional<uint32_t> first_burst_len;
  std::optional<uint32_t> max_burst_len;
  std::optional<bool> immediate_data;
  std::optional<bool> initial_r2t;
  std::optional<uint32_t> max_outstanding_r2t;
  std::optional<uint32_t> erl;
  std::optional<SysfsConnection> connection;  // the lowest cid
  std::optional<uint32_t> host_no;
  std::string transport = "tcp";  // from the SCSI host's proc_name
  std::string host_state;         // scsi_host state, e.g. "running"
  std::string host_ipaddress;
  std::string host_hwaddress;
  std::string host_netdev;
  std::vector<SysfsDevice> devices;  // by channel, id, lun
};

struct ReadSysfsOptions {
  bool include_passwords = false;
  // Only what names and selects a session: sid, target_name, tpgt, state,
  // iface_name and the connection's cid, state, address, port and persistent
  // address and port. A fifth of the reads of a full session, for the daemon's
  // selection of sessions to log out or count.
  bool identity_only = false;
};

// All sessions, by sid. No iscsi_session class (module not loaded) is no
// sessions. Unreadable attributes are left unset; an unreadable session
// directory is an error naming it.
absl::StatusOr<std::vector<SysfsSession>> ReadSysfsSessions(
    const std::string& sysfs_root, const ReadSysfsOptions& options = {});

// One session; NotFound (ExitCode kSessionNotFound) if it does not exist.
absl::StatusOr<SysfsSession> ReadSysfsSession(
    const std::string& sysfs_root, uint32_t sid,
    const ReadSysfsOptions& options = {});

// The SCSI devices of session `sid` (empty when it has none yet).
std::vector<SysfsDevice> ReadSessionDevices(const std::string& sysfs_root,
                                            uint32_t sid);

// One iSCSI host (class iscsi_host): iscsi_tcp makes one per session.
struct SysfsHost {
  uint32_t host_no = 0;
  std::string transport;  // "tcp" from the SCSI host's proc_name
  std::string state;      // the SCSI host's state, e.g. "running"
  std::string ipaddress;
  std::string hwaddress;
  std::string netdev;
  std::string initiator_name;
};

// Every iSCSI host, by number; none when the class does not exist.
std::vector<SysfsHost> ReadSysfsHosts(const std::string& sysfs_root);

// iscsiadm's `-m host` (print_level 0: "tcp: [2] 10.0.2.15,[<empty>],<empty>
// <empty>") and `-m host -P 1` (a "Host Number:" tree).
std::string FormatHostList(const std::vector<SysfsHost>& hosts,
                           int print_level);

struct SessionListOptions {
  int print_level = 0;        // iscsiadm -P 0..3
  bool show_secrets = false;  // iscsiadm -S: passwords instead of ********
};

// iscsiadm's `-m session [-P N]` text, one line per session at level 0
// ("tcp: [1] 127.0.0.1:3260,1 iqn.... (non-flash)"), trees grouped by target
// and portal above it.
std::string FormatSessionList(const std::vector<SysfsSession>& sessions,
                              const SessionListOptions& options);

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SYSFS_SESSIONS_H_
