#include "src/session/device_wait.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/log.h"
#include "src/session/sysfs_writer.h"

namespace kiscsi {
namespace {

// SCSI peripheral types that get a block device (disk, optical, RBC, CD-ROM).
bool NeedsBlockDevice(const SysfsDevice& device) {
  if (!device.type.has_value()) return true;
  const int type = *device.type;
  return type == 0 || type == 5 || type == 7 || type == 14;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlockingCall>> StartHostScan(
    EventLoop& loop, const std::string& sysfs_root, uint32_t host_no,
    absl::AnyInvocable<void(absl::Status)> done) {
  return BlockingCall::Start<absl::Status>(
      loop, [sysfs_root, host_no] { return ScanScsiHost(sysfs_root, host_no); },
      std::move(done));
}

DeviceWait::DeviceWait(EventLoop& loop, SessionPaths paths, uint32_t sid,
                       uint32_t host_no, Options options, std::string name,
                       Done done)
    : loop_(loop),
      paths_(std::move(paths)),
      sid_(sid),
      host_no_(host_no),
      options_(options),
      name_(std::move(name)),
      done_(std::move(done)) {}

DeviceWait::~DeviceWait() {
  scan_.reset();  // a scan still blocked in the kernel reports to nobody
  dev_watch_.reset();
  if (device_timer_.has_value()) loop_.CancelTimer(*device_timer_);
}

void DeviceWait::Start() {
  if (options_.reinstated) {
    // The devices exist: bring back those the outage took offline and finish
    // without waiting for device nodes (the owner rescans, see
    // StartHostScan).
    ReviveDevices();
    device_deadline_ = loop_.Now();
    PollDevices();
    return;
  }
  if (!options_.scan) {
    PollDevices();
    return;
  }
  step_ = "scan";
  absl::StatusOr<std::unique_ptr<BlockingCall>> scan =
      StartHostScan(loop_, paths_.sysfs_root, host_no_,
                    [this](absl::Status scanned) { OnScanned(scanned); });
  if (!scan.ok()) {
    Report(scan.status());
    return;
  }
  scan_ = *std::move(scan);
}

void DeviceWait::OnScanned(absl::Status scanned) {
  scan_.reset();
  if (!scanned.ok()) {
    Report(std::move(scanned));
    return;
  }
  step_ = "wait for devices";
  device_deadline_ = loop_.Now() + options_.device_timeout;
  PollDevices();
}

void DeviceWait::ReviveDevices() {
  for (SysfsDevice& device : ReadSessionDevices(paths_.sysfs_root, sid_)) {
    if (device.state != "offline" && device.state != "transport-offline") {
      continue;
    }
    const std::string hctl = DeviceHctl(device);
    absl::Status revived = SetScsiDeviceState(
        SessionDeviceDir(paths_.sysfs_root, sid_, device), "running");
    if (!revived.ok()) {
      KISCSI_LOG(kWarning) << name_ << ": cannot set " << hctl << " ("
                           << device.state
                           << ") back to running: " << revived.message();
      continue;
    }
    KISCSI_LOG(kInfo) << name_ << ": " << hctl
                      << (device.block.empty() ? "" : " ") << device.block
                      << " was " << device.state << ", set back to running";
    revived_.push_back(std::move(device));
  }
}

void DeviceWait::WatchDeviceNodes() {
  absl::StatusOr<std::unique_ptr<DirWatch>> watch =
      DirWatch::Create(loop_, paths_.dev_root, [this] {
        if (device_timer_.has_value()) loop_.CancelTimer(*device_timer_);
        PollDevices();
      });
  if (!watch.ok()) {
    KISCSI_LOG(kDebug) << name_ << ": polling for device nodes every "
                       << absl::ToInt64Milliseconds(paths_.device_poll_interval)
                       << " ms: " << watch.status().message();
    return;
  }
  dev_watch_ = *std::move(watch);
}

void DeviceWait::PollDevices() {
  device_timer_.reset();
  DeviceWaitResult result;
  if (options_.scan) {
    result.devices = ReadSessionDevices(paths_.sysfs_root, sid_);
    bool ready = true;
    for (const SysfsDevice& device : result.devices) {
      if (!NeedsBlockDevice(device)) continue;
      if (device.block.empty() ||
          access(absl::StrCat(paths_.dev_root, "/", device.block).c_str(),
                 F_OK) != 0) {
        ready = false;
      }
    }
    if (!ready && loop_.Now() < device_deadline_) {
      if (!dev_watch_tried_) {
        dev_watch_tried_ = true;
        WatchDeviceNodes();
        // A node made before the watch began has no event: look again.
        PollDevices();
        return;
      }
      device_timer_ = loop_.AddTimer(paths_.device_poll_interval,
                                     [this] { PollDevices(); });
      return;
    }
    dev_watch_.reset();
    result.devices_ready = ready;
    if (!ready && !options_.reinstated) {
      KISCSI_LOG(kWarning) << name_ << ": not every LUN has a device after "
                           << absl::ToInt64Milliseconds(options_.device_timeout)
                           << " ms";
    }
  }
  result.revived = std::move(revived_);
  Report(std::move(result));
}

void DeviceWait::Report(absl::StatusOr<DeviceWaitResult> outcome) {
  Done done = std::move(done_);
  done(std::move(outcome));  // may destroy this object
}

}  // namespace kiscsi
