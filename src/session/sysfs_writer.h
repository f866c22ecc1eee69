// Every write kiscsi makes to sysfs for a session's SCSI host and devices,
// through one idiom: open O_WRONLY|O_TRUNC, one write(2), close, and an
// errno-bearing status naming the value and the file ("write '- - -' to
// /sys/class/scsi_host/host2/scan: No such file or directory"), with
// ExitCode kSysfsLookup (a missing or refusing attribute).
//
// The module owns the attribute paths and the values written (the host
// scan's "- - -", a device's state, rescan and timeout). It decides nothing:
// when to scan, which devices to revive, what timeout to set are its
// callers'. The host scan blocks until the kernel has scanned the target;
// callers on an event loop run it on a BlockingCall (StartHostScan in
// session_setup.h), never on the loop's thread.
#ifndef KISCSI_SRC_SESSION_SYSFS_WRITER_H_
#define KISCSI_SRC_SESSION_SYSFS_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi {

// Writes `value` to the attribute at `path` in one write(2). O_TRUNC as a
// shell's `echo V > FILE`: sysfs ignores it, a test tree's regular files
// need it.
absl::Status WriteSysfsAttribute(const std::string& path,
                                 std::string_view value);

// <sysfs_root>/class/scsi_host/host<N>/scan
std::string ScsiHostScanPath(std::string_view sysfs_root, uint32_t host_no);

// Writes "- - -" (every channel, target and LUN) to the SCSI host's scan
// attribute, which returns once the kernel has scanned every target of the
// host (REPORT LUNS, INQUIRY, ...): it blocks for as long as the target takes
// to answer, and longer if the connection fails meanwhile.
absl::Status ScanScsiHost(const std::string& sysfs_root, uint32_t host_no);

// The sysfs directory of one SCSI device of session `sid`:
// <sysfs_root>/class/iscsi_session/session<SID>/device/target<H:C:I>/<H:C:I:L>
std::string SessionDeviceDir(std::string_view sysfs_root, uint32_t sid,
                             const SysfsDevice& device);
// "H:C:I:L"
std::string DeviceHctl(const SysfsDevice& device);

// The device's state attribute ("running", "offline", ...).
absl::Status SetScsiDeviceState(const std::string& device_dir,
                                std::string_view state);
// "1" to the device's rescan attribute: the kernel reads its capacity and
// inquiry data again.
absl::Status RescanScsiDevice(const std::string& device_dir);
// The SCSI command timeout, in whole seconds.
absl::Status SetScsiDeviceTimeout(const std::string& device_dir, int seconds);

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_SYSFS_WRITER_H_
