#include "src/udev/disk_tuning.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "conf/node_db.h"
#include "src/base/errno_status.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/base/string_views.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi::udev {
namespace {

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "0:0:0:1": a SCSI device's name (host:channel:id:lun).
bool IsScsiDeviceName(std::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(name), ':');
  if (parts.size() != 4) return false;
  for (absl::string_view part : parts) {
    if (!AllDigits(std::string_view(part.data(), part.size()))) return false;
  }
  return true;
}

// What a devpath names.
struct Device {
  enum class Kind { kNone, kScsiDevice, kDisk };
  Kind kind = Kind::kNone;
  uint32_t sid = 0;
  std::string scsi_device_path;  // devpath of the scsi_device
  std::string scsi_name;         // "0:0:0:1"
  std::string disk_name;         // "sda" (kDisk)
};

absl::StatusOr<Device> Classify(std::string_view devpath) {
  if (devpath.empty() || devpath.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "devpath '", conf::Printable(devpath), "' does not start with '/'"));
  }
  std::vector<std::string> parts =
      absl::StrSplit(ToAbsl(devpath), '/', absl::SkipEmpty());
  for (const std::string& part : parts) {
    if (part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "devpath '", conf::Printable(devpath), "' contains '", part, "'"));
    }
  }
  Device device;
  size_t session = parts.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    if (part.starts_with("session") && AllDigits(part.substr(7)) &&
        absl::SimpleAtoi(ToAbsl(part.substr(7)), &device.sid)) {
      session = i;
      break;
    }
  }
  if (session == parts.size()) return device;  // not an iSCSI device

  // The scsi_device is the last part, or the one before "block/<disk>".
  size_t scsi = parts.size() - 1;
  bool disk = false;
  if (parts.size() >= 2 && parts[parts.size() - 2] == "block") {
    if (parts.size() < 3) return device;
    scsi = parts.size() - 3;
    disk = true;
  }
  if (scsi <= session || !IsScsiDeviceName(parts[scsi])) return device;
  device.kind = disk ? Device::Kind::kDisk : Device::Kind::kScsiDevice;
  device.scsi_name = parts[scsi];
  if (disk) device.disk_name = parts.back();
  for (size_t i = 0; i <= scsi; ++i) {
    absl::StrAppend(&device.scsi_device_path, "/", parts[i]);
  }
  return device;
}

absl::StatusOr<std::string> ReadAttribute(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  std::string content;
  char buffer[256];
  while (content.size() < 4096) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      return ErrnoStatus(error, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::string(absl::StripAsciiWhitespace(content));
}

absl::Status WriteAttribute(const std::string& path, std::string_view value) {
  // O_TRUNC as a shell's `echo V > FILE` does: sysfs ignores it, the regular
  // files of a test tree need it.
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  // sysfs takes one write; a short write would be an error there.
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int error = n < 0 ? errno : 0;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    return ErrnoStatus(error,
                       absl::StrCat("write '", ToAbsl(value), "' to ", path));
  }
  if (static_cast<size_t>(n) != value.size()) {
    return absl::DataLossError(
        absl::StrCat("short write of '", ToAbsl(value), "' to ", path));
  }
  return absl::OkStatus();
}

// Whether the SCSI device is a kind of disk whose settings are ours to set.
absl::StatusOr<bool> IsDiskType(const std::string& scsi_device_dir) {
  std::string path = scsi_device_dir + "/type";
  ASSIGN_OR_RETURN(std::string text, ReadAttribute(path));
  int type = -1;
  if (!absl::SimpleAtoi(text, &type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a SCSI device type, got '",
                     conf::Printable(text), "'"));
  }
  return type == 0 || type == 7 || type == 14;
}

// The node record of `session`, if the database has one.
std::optional<conf::Record> FindNodeRecord(const std::string& db_root,
                                           const SysfsSession& session) {
  if (session.target_name.empty() || !session.connection.has_value()) {
    return std::nullopt;
  }
  const SysfsConnection& connection = *session.connection;
  conf::NodeFilter filter;
  filter.target_name = session.target_name;
  filter.address = connection.persistent_address.empty()
                       ? connection.address
                       : connection.persistent_address;
  std::optional<uint16_t> port = connection.persistent_port.has_value()
                                     ? connection.persistent_port
                                     : connection.port;
  if (port.has_value()) filter.port = *port;
  if (!session.iface_name.empty()) filter.iface = session.iface_name;

  conf::NodeDb db(db_root);
  absl::StatusOr<std::vector<conf::NodeKey>> keys = db.FindNodes(filter);
  if (!keys.ok()) {
    KISCSI_LOG(kWarning) << "node database " << db_root << ": "
                         << keys.status().message();
    return std::nullopt;
  }
  // The record of the session's tpgt, else one made before the tpgt was known.
  const conf::NodeKey* best = nullptr;
  for (const conf::NodeKey& key : *keys) {
    if (session.tpgt.has_value() &&
        key.tpgt == static_cast<int>(*session.tpgt)) {
      best = &key;
      break;
    }
    if (key.tpgt == conf::kTpgtUnknown && best == nullptr) best = &key;
  }
  if (best == nullptr) return std::nullopt;
  absl::StatusOr<conf::Record> record = db.ReadNode(*best);
  if (!record.ok()) {
    KISCSI_LOG(kWarning) << record.status().message();
    return std::nullopt;
  }
  return *std::move(record);
}

}  // namespace

DiskSettings SettingsFromConf(const conf::IscsidConf& conf) {
  DiskSettings settings;
  settings.timeout_seconds = conf.GetInt(kTimeoutKey).value_or(0);
  settings.scheduler = conf.GetString(kSchedulerKey);
  return settings;
}

DiskSettings OverrideFromNode(DiskSettings settings, const conf::Record& node) {
  if (std::optional<int64_t> timeout = node.GetInt(kTimeoutKey)) {
    settings.timeout_seconds = *timeout;
  }
  std::string scheduler = node.Get(kSchedulerKey);
  if (!scheduler.empty()) settings.scheduler = std::move(scheduler);
  return settings;
}

absl::StatusOr<std::string> TuneDevice(const DiskTuningRequest& request) {
  ASSIGN_OR_RETURN(Device device, Classify(request.devpath));
  if (device.kind == Device::Kind::kNone) return std::string();
  const std::string scsi_dir = request.sysfs_root + device.scsi_device_path;
  ASSIGN_OR_RETURN(bool disk_type, IsDiskType(scsi_dir));
  if (!disk_type) return std::string();

  DiskSettings settings = request.defaults;
  std::string session_text = absl::StrCat("session", device.sid);
  absl::StatusOr<SysfsSession> session =
      ReadSysfsSession(request.sysfs_root, device.sid);
  if (!session.ok()) {
    KISCSI_LOG(kWarning) << session_text << ": " << session.status().message()
                         << "; using the iscsid.conf values";
  } else {
    if (!session->target_name.empty()) {
      absl::StrAppend(&session_text, " ", session->target_name);
    }
    if (!request.node_db_root.empty()) {
      if (std::optional<conf::Record> node =
              FindNodeRecord(request.node_db_root, *session)) {
        settings = OverrideFromNode(std::move(settings), *node);
      }
    }
  }

  if (device.kind == Device::Kind::kScsiDevice) {
    if (settings.timeout_seconds <= 0) return std::string();
    std::string value = absl::StrCat(settings.timeout_seconds);
    RETURN_IF_ERROR(WriteAttribute(scsi_dir + "/timeout", value));
    return absl::StrCat(device.scsi_name, " (", session_text, "): timeout ",
                        value, " s");
  }
  if (settings.scheduler.empty()) return std::string();
  RETURN_IF_ERROR(WriteAttribute(
      absl::StrCat(scsi_dir, "/block/", device.disk_name, "/queue/scheduler"),
      settings.scheduler));
  return absl::StrCat(device.disk_name, ": scheduler ", settings.scheduler);
}

}  // namespace kiscsi::udev
