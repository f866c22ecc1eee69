// The device phase of a session login, after START_CONN: the SCSI host scan,
// the wait for the LUNs' block devices (in sysfs and in /dev), and, for a
// reinstated session, reviving the devices an outage took offline.
//
// DeviceWait owns the scan's BlockingCall (the sysfs write blocks until the
// kernel has scanned the target, so it runs on a thread of its own while the
// loop goes on), the watch on /dev, the poll timer and the deadline. Expiry
// of the deadline is not a failure: the result says which devices are
// missing. It must not talk to the kernel over netlink or react to
// connection errors (a failed connection stalls the scan until the session's
// keeper recovers it), and it writes sysfs only through sysfs_writer.h.
#ifndef KISCSI_SRC_SESSION_DEVICE_WAIT_H_
#define KISCSI_SRC_SESSION_DEVICE_WAIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/base/blocking_call.h"
#include "src/base/dir_watch.h"
#include "src/base/event_loop.h"
#include "src/session/session_spec.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi {

// ScanScsiHost (sysfs_writer.h) on a thread of its own; `done` gets its
// outcome on `loop` unless the returned call is destroyed first.
absl::StatusOr<std::unique_ptr<BlockingCall>> StartHostScan(
    EventLoop& loop, const std::string& sysfs_root, uint32_t host_no,
    absl::AnyInvocable<void(absl::Status)> done);

struct DeviceWaitResult {
  std::vector<SysfsDevice> devices;
  // Reinstatement only: devices that were set back to running.
  std::vector<SysfsDevice> revived;
  bool devices_ready = false;  // every disk-like LUN has its /dev node
};

class DeviceWait {
 public:
  struct Options {
    // node.session.scan = auto: scan the host and wait for the LUNs' devices.
    bool scan = true;
    // A reinstated session: revive offline devices, look at the devices once,
    // neither scan (its owner rescans apart) nor wait.
    bool reinstated = false;
    absl::Duration device_timeout = absl::Seconds(10);
  };
  // Runs once, on the loop (from inside Start() when there is nothing to wait
  // for); it may destroy this object. An error only if the scan failed.
  using Done = absl::AnyInvocable<void(absl::StatusOr<DeviceWaitResult>)>;

  // `name` prefixes log lines ("session 3 (iqn..., 10.0.0.1:3260)").
  DeviceWait(EventLoop& loop, SessionPaths paths, uint32_t sid,
             uint32_t host_no, Options options, std::string name, Done done);
  // Destroying it unfinished: no callback; a scan still blocked in the kernel
  // reports to nobody.
  ~DeviceWait();
  DeviceWait(const DeviceWait&) = delete;
  DeviceWait& operator=(const DeviceWait&) = delete;

  void Start();
  // "scan", "wait for devices": names a failure.
  const std::string& step() const { return step_; }

 private:
  void OnScanned(absl::Status scanned);
  void ReviveDevices();
  void WatchDeviceNodes();
  void PollDevices();
  void Report(absl::StatusOr<DeviceWaitResult> outcome);

  EventLoop& loop_;
  const SessionPaths paths_;
  const uint32_t sid_;
  const uint32_t host_no_;
  const Options options_;
  const std::string name_;
  Done done_;

  std::string step_ = "devices";
  std::vector<SysfsDevice> revived_;
  std::unique_ptr<BlockingCall> scan_;  // while the host scan runs
  // While waiting for device nodes: wakes PollDevices when /dev changes.
  std::unique_ptr<DirWatch> dev_watch_;
  bool dev_watch_tried_ = false;
  std::optional<EventLoop::TimerId> device_timer_;
  absl::Time device_deadline_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_DEVICE_WAIT_H_
