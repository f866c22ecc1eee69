// The reading half of the boot firmware module (boot_firmware.h): finds the
// tables under <sysfs>/firmware (ibft, iscsi_boot*), reads each directory's
// attributes (regular files only, at most a page each), finds the netdev of
// each NIC and pairs each valid target with its NIC. It only reads; the
// values are checked by the parsers in boot_firmware.cc.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "conf/boot_firmware.h"
#include "conf/boot_firmware_internal.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/base/string_views.h"
#include "src/base/unique_fd.h"

namespace kiscsi::conf {
namespace {

using internal::Invalid;
using internal::NameNumber;
using internal::RawValue;

// sysfs attributes are at most a page.
constexpr size_t kMaxAttributeSize = 4096;

constexpr std::string_view kNoTableMessage =
    "no iSCSI boot firmware table found (is the iscsi_ibft module loaded?)";

// The files each kind of directory can have.
constexpr std::string_view kInitiatorFiles[] = {"index", "flags",
                                                "initiator-name", "isid"};
constexpr std::string_view kNicFiles[] = {
    "index",  "flags",   "ip-addr",     "prefix-len",    "subnet-mask",
    "origin", "gateway", "primary-dns", "secondary-dns", "dhcp",
    "vlan",   "mac",     "hostname"};
constexpr std::string_view kTargetFiles[] = {
    "index",     "flags",       "ip-addr",       "port",
    "lun",       "chap-type",   "nic-assoc",     "target-name",
    "chap-name", "chap-secret", "rev-chap-name", "rev-chap-name-secret"};

std::string Join(std::string_view dir, std::string_view name) {
  return absl::StrCat(ToAbsl(dir), "/", ToAbsl(name));
}

// The names in directory `path`, sorted; nullopt when it does not exist.
absl::StatusOr<std::optional<std::vector<std::string>>> ListDirectory(
    const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      return std::optional<std::vector<std::string>>();
    }
    return internal::FirmwareReadError(error, path);
  }
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      int error = errno;
      if (error != 0) {
        ::closedir(dir);
        return internal::FirmwareReadError(error, path);
      }
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return std::optional<std::vector<std::string>>(std::move(names));
}

// The contents of attribute `path`; nullopt when it does not exist. Only a
// regular file is read (a FIFO would block, a directory is no attribute).
absl::StatusOr<std::optional<std::string>> ReadAttribute(
    const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    int error = errno;
    if (error == ENOENT) return std::optional<std::string>();
    return internal::FirmwareReadError(error, path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return internal::FirmwareReadError(errno, path);
  }
  if (!S_ISREG(st.st_mode)) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file")),
        ExitCode::kSysfsLookup);
  }
  std::string content;
  char buffer[1024];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return internal::FirmwareReadError(errno, path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > kMaxAttributeSize) {
      return WithExitCode(
          absl::InvalidArgumentError(absl::StrCat(path, ": larger than ",
                                                  kMaxAttributeSize, " bytes")),
          ExitCode::kSysfsLookup);
    }
  }
  return std::optional<std::string>(std::move(content));
}

absl::StatusOr<FirmwareFiles> ReadFiles(
    const std::string& dir, std::span<const std::string_view> names) {
  FirmwareFiles files;
  for (std::string_view name : names) {
    ASSIGN_OR_RETURN(std::optional<std::string> content,
                     ReadAttribute(Join(dir, name)));
    if (content.has_value()) files.emplace(name, std::move(*content));
  }
  return files;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// The netdev of the NIC in `nic_dir` (see ReadBootFirmware), "" when none.
std::string FindNetDevice(const std::string& nic_dir,
                          std::string_view sysfs_root, std::string_view mac) {
  absl::StatusOr<std::optional<std::vector<std::string>>> net =
      ListDirectory(Join(nic_dir, "device/net"));
  if (net.ok() && net->has_value() && !(*net)->empty()) {
    return (*net)->front();
  }
  absl::StatusOr<std::optional<std::vector<std::string>>> device =
      ListDirectory(Join(nic_dir, "device"));
  if (device.ok() && device->has_value()) {
    for (const std::string& name : **device) {
      if (absl::StartsWith(name, "net:") && name.size() > 4) {
        return name.substr(4);
      }
    }
  }
  if (mac.empty()) return "";
  std::string class_net = Join(sysfs_root, "class/net");
  absl::StatusOr<std::optional<std::vector<std::string>>> interfaces =
      ListDirectory(class_net);
  if (!interfaces.ok() || !interfaces->has_value()) return "";
  std::string fallback;
  for (const std::string& name : **interfaces) {
    std::string dir = Join(class_net, name);
    absl::StatusOr<std::optional<std::string>> address =
        ReadAttribute(Join(dir, "address"));
    if (!address.ok() || !address->has_value()) continue;
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(**address),
                                ToAbsl(mac))) {
      continue;
    }
    if (Exists(Join(dir, "device"))) return name;
    if (fallback.empty()) fallback = name;
  }
  return fallback;
}

struct Table {
  std::string path;    // "/sys/firmware/ibft"
  std::string source;  // "ibft"
};

// The entries of one table, in target index order.
absl::Status ReadTable(const Table& table, std::string_view sysfs_root,
                       std::vector<FirmwareBootEntry>& out) {
  ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> names,
                   ListDirectory(table.path));
  if (!names.has_value()) return absl::OkStatus();

  FirmwareInitiator initiator;
  std::vector<FirmwareNic> nics;
  std::vector<FirmwareTarget> targets;
  for (const std::string& name : *names) {
    std::string dir = Join(table.path, name);
    if (name == "initiator") {
      ASSIGN_OR_RETURN(FirmwareFiles files, ReadFiles(dir, kInitiatorFiles));
      ASSIGN_OR_RETURN(initiator, ParseFirmwareInitiator(files, dir));
    } else if (NameNumber(name, "ethernet").has_value()) {
      ASSIGN_OR_RETURN(FirmwareFiles files, ReadFiles(dir, kNicFiles));
      if (RawValue(files, "flags") == "0") continue;  // not valid
      ASSIGN_OR_RETURN(FirmwareNic nic, ParseFirmwareNic(name, files, dir));
      nic.net_device = FindNetDevice(dir, sysfs_root, nic.mac);
      nics.push_back(std::move(nic));
    } else if (NameNumber(name, "target").has_value()) {
      ASSIGN_OR_RETURN(FirmwareFiles files, ReadFiles(dir, kTargetFiles));
      if (RawValue(files, "flags") == "0") continue;  // not valid
      ASSIGN_OR_RETURN(FirmwareTarget target,
                       ParseFirmwareTarget(name, files, dir));
      targets.push_back(std::move(target));
    }
  }
  std::stable_sort(targets.begin(), targets.end(),
                   [](const FirmwareTarget& a, const FirmwareTarget& b) {
                     return a.index < b.index;
                   });
  for (FirmwareTarget& target : targets) {
    auto nic =
        std::find_if(nics.begin(), nics.end(), [&target](const FirmwareNic& n) {
          return n.index == target.nic_association;
        });
    if (nic == nics.end()) {
      std::vector<int> indexes;
      for (const FirmwareNic& n : nics) indexes.push_back(n.index);
      return Invalid(
          Join(table.path, target.id), "nic-assoc",
          absl::StrCat(
              target.nic_association, " names no valid NIC in ", table.path,
              indexes.empty()
                  ? std::string(" (it has none)")
                  : absl::StrCat(
                        " (NIC indexes: ", absl::StrJoin(indexes, ", "), ")")));
    }
    FirmwareBootEntry entry;
    entry.source = table.source;
    entry.initiator = initiator;
    entry.nic = *nic;
    entry.target = std::move(target);
    out.push_back(std::move(entry));
  }
  return absl::OkStatus();
}
}  // namespace

namespace internal {

absl::Status FirmwareReadError(int error_number, std::string_view path) {
  if (error_number == EACCES || error_number == EPERM) {
    return WithExitCode(
        absl::PermissionDeniedError(absl::StrCat(
            ToAbsl(path),
            ": permission denied (reading the iSCSI boot firmware table needs "
            "CAP_SYS_ADMIN)")),
        ExitCode::kAccessDenied);
  }
  return WithExitCode(
      ErrnoStatus(error_number, absl::StrCat("read ", ToAbsl(path))),
      ExitCode::kSysfsLookup);
}

}  // namespace internal
absl::StatusOr<std::vector<FirmwareBootEntry>> ReadBootFirmware(
    std::string_view sysfs_root) {
  std::string firmware = Join(sysfs_root, "firmware");
  std::vector<Table> tables;
  std::string ibft = Join(firmware, "ibft");
  if (Exists(ibft)) tables.push_back({ibft, "ibft"});
  ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> names,
                   ListDirectory(firmware));
  if (names.has_value()) {
    for (const std::string& name : *names) {
      if (absl::StartsWith(name, "iscsi_boot")) {
        tables.push_back({Join(firmware, name), name});
      }
    }
  }
  if (tables.empty()) {
    return WithExitCode(absl::NotFoundError(ToAbsl(kNoTableMessage)),
                        ExitCode::kNoObjectsFound);
  }
  std::vector<FirmwareBootEntry> entries;
  for (const Table& table : tables) {
    RETURN_IF_ERROR(ReadTable(table, sysfs_root, entries));
  }
  if (entries.empty()) {
    std::vector<std::string> paths;
    for (const Table& table : tables) paths.push_back(table.path);
    return WithExitCode(
        absl::NotFoundError(
            absl::StrCat("no valid target in the iSCSI boot firmware table (",
                         absl::StrJoin(paths, ", "), ")")),
        ExitCode::kNoObjectsFound);
  }
  return entries;
}
}  // namespace kiscsi::conf
