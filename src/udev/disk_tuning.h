// What kiscsi-udev does for one udev event: sets the SCSI command timeout and
// the I/O scheduler of disks that belong to an iSCSI session, and nothing else.
//
//   DiskTuningRequest request;
//   request.devpath = "/devices/platform/host0/session1/target0:0:0/0:0:0:1";
//   request.defaults = SettingsFromConf(loaded.conf);
//   request.node_db_root = SysconfDir();
//   ASSIGN_OR_RETURN(std::string done, TuneDevice(request));
//   // done: "0:0:0:1 (session1 iqn.2026-12.test:root): timeout 60 s", or ""
//
// Two kinds of devpath are handled:
//   .../session<N>/target<H>:<C>:<T>/<H>:<C>:<T>:<L>            the
//   scsi_device:
//       writes `timeout` (seconds)
//   .../session<N>/target<H>:<C>:<T>/<H>:<C>:<T>:<L>/block/sdX  the whole disk:
//       writes `queue/scheduler`
// and only when the SCSI device's `type` is 0 (disk), 7 (optical memory) or
// 14 (RBC). Anything else (no session<N> in the path, another device type, a
// partition, a target or host) is left alone.
//
// The values come from iscsid.conf (kiscsi.disk.timeout, kiscsi.disk.scheduler)
// and may be overridden per node by the same keys in the session's node record
// (see conf::NodeExtensionKeys), found by the session's target name, persistent
// portal, tpgt and iface as sysfs gives them. The sysfs root and the node
// database root are parameters so that tests use temporary trees.
#ifndef KISCSI_SRC_UDEV_DISK_TUNING_H_
#define KISCSI_SRC_UDEV_DISK_TUNING_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "conf/iscsid_conf.h"
#include "conf/record.h"

namespace kiscsi::udev {

inline constexpr std::string_view kTimeoutKey = "kiscsi.disk.timeout";
inline constexpr std::string_view kSchedulerKey = "kiscsi.disk.scheduler";

struct DiskSettings {
  int64_t timeout_seconds = 0;  // 0: leave the kernel's value
  std::string scheduler;        // "": leave the kernel's scheduler

  friend bool operator==(const DiskSettings&, const DiskSettings&) = default;
};

// iscsid.conf's kiscsi.disk.timeout and kiscsi.disk.scheduler (defaults 0 and
// "none").
DiskSettings SettingsFromConf(const conf::IscsidConf& conf);

// `settings` with the kiscsi.disk.* values a node record sets; an absent or
// empty value keeps the one from `settings`.
DiskSettings OverrideFromNode(DiskSettings settings, const conf::Record& node);

struct DiskTuningRequest {
  std::string sysfs_root = "/sys";
  std::string devpath;  // udev's $DEVPATH, relative to the sysfs root
  DiskSettings defaults;
  // The node database (NodeDb root) searched for the session's node record;
  // empty: no per-node values.
  std::string node_db_root;
};

// Classifies `request.devpath` and applies the settings. Returns what was set
// ("0:0:0:1 (session1 iqn...): timeout 60 s", "sda: scheduler none"), or ""
// when the device is not an iSCSI disk of type 0, 7 or 14 or there is nothing
// to set. Fails when an attribute cannot be read or written (the message names
// the file) or the devpath is malformed. Problems with the node database or
// the session's attributes are warnings (logged) and leave the iscsid.conf
// values in force.
absl::StatusOr<std::string> TuneDevice(const DiskTuningRequest& request);

}  // namespace kiscsi::udev

#endif  // KISCSI_SRC_UDEV_DISK_TUNING_H_
