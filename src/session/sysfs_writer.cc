#include "src/session/sysfs_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/string_views.h"
#include "src/base/unique_fd.h"

namespace kiscsi {
absl::Status WriteSysfsAttribute(const std::string& path,
                                 std::string_view value) {
  const auto failed = [&](int error) {
    return WithExitCode(
        ErrnoStatus(error,
                    absl::StrCat("write '", ToAbsl(value), "' to ", path)),
        ExitCode::kSysfsLookup);
  };
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return failed(errno);
  // sysfs takes a value in one write; a short write is an error there.
  ssize_t n;
  do {
    n = write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failed(errno);
  if (static_cast<size_t>(n) != value.size()) {
    return WithExitCode(absl::DataLossError(absl::StrCat(
                            "short write of '", ToAbsl(value), "' to ", path)),
                        ExitCode::kSysfsLookup);
  }
  // sysfs reports some refusals only when the file is closed.
  if (close(fd.Release()) != 0 && errno != EINTR) return failed(errno);
  return absl::OkStatus();
}

std::string ScsiHostScanPath(std::string_view sysfs_root, uint32_t host_no) {
  return absl::StrCat(ToAbsl(sysfs_root), "/class/scsi_host/host", host_no,
                      "/scan");
}

absl::Status ScanScsiHost(const std::string& sysfs_root, uint32_t host_no) {
  return WriteSysfsAttribute(ScsiHostScanPath(sysfs_root, host_no), "- - -");
}

std::string DeviceHctl(const SysfsDevice& device) {
  return absl::StrCat(device.host, ":", device.channel, ":", device.id, ":",
                      device.lun);
}

std::string SessionDeviceDir(std::string_view sysfs_root, uint32_t sid,
                             const SysfsDevice& device) {
  return absl::StrCat(ToAbsl(sysfs_root), "/class/iscsi_session/session", sid,
                      "/device/target", device.host, ":", device.channel, ":",
                      device.id, "/", DeviceHctl(device));
}

absl::Status SetScsiDeviceState(const std::string& device_dir,
                                std::string_view state) {
  return WriteSysfsAttribute(device_dir + "/state", state);
}

absl::Status RescanScsiDevice(const std::string& device_dir) {
  return WriteSysfsAttribute(device_dir + "/rescan", "1");
}

absl::Status SetScsiDeviceTimeout(const std::string& device_dir, int seconds) {
  return WriteSysfsAttribute(device_dir + "/timeout", absl::StrCat(seconds));
}

}  // namespace kiscsi
