#include "conf/boot_firmware.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <functional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/base/unique_fd.h"

namespace kiscsi::conf {
namespace {

absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

// RFC 7143 section 4.2.7.1: an iSCSI name is at most 223 bytes.
constexpr size_t kMaxIscsiNameLength = 223;
// CHAP names and secrets, host names, anything else that is text.
constexpr size_t kMaxStringLength = 255;
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

absl::Status Invalid(std::string_view where, std::string_view file,
                     std::string_view what) {
  return WithExitCode(
      absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(where), "/", ToAbsl(file), ": ", ToAbsl(what))),
      ExitCode::kInvalid);
}

// The value of `file` with one trailing newline removed, or nullopt when the
// file is absent.
std::optional<std::string_view> RawValue(const FirmwareFiles& files,
                                         std::string_view file) {
  auto it = files.find(file);
  if (it == files.end()) return std::nullopt;
  std::string_view value = it->second;
  if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
  return value;
}

bool HasControlCharacter(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool IsSecretFile(std::string_view file) {
  return file == "chap-secret" || file == "rev-chap-name-secret";
}

// A text value: "" when absent. Control characters and values longer than
// `max_length` are refused; a secret's value is never put in the message.
absl::StatusOr<std::string> TextValue(const FirmwareFiles& files,
                                      std::string_view file,
                                      std::string_view where,
                                      size_t max_length) {
  std::optional<std::string_view> value = RawValue(files, file);
  if (!value.has_value()) return std::string();
  bool secret = IsSecretFile(file);
  if (HasControlCharacter(*value)) {
    return Invalid(where, file,
                   secret ? absl::StrCat("invalid ", ToAbsl(file),
                                         ": it contains a control character")
                          : absl::StrCat("invalid value '", Printable(*value),
                                         "': it contains a control character"));
  }
  if (value->size() > max_length) {
    return Invalid(where, file,
                   secret ? absl::StrCat("invalid ", ToAbsl(file),
                                         ": longer than ", max_length, " bytes")
                          : absl::StrCat("invalid value '",
                                         Printable(value->substr(0, 40)),
                                         "...': ", value->size(),
                                         " bytes, longer than ", max_length));
  }
  return std::string(*value);
}

// A decimal integer in [min, max]; nullopt when the file is absent.
absl::StatusOr<std::optional<int>> IntValue(const FirmwareFiles& files,
                                            std::string_view file,
                                            std::string_view where, int min,
                                            int max) {
  std::optional<std::string_view> value = RawValue(files, file);
  if (!value.has_value()) return std::optional<int>();
  int number = 0;
  const char* begin = value->data();
  const char* end = begin + value->size();
  bool digits = !value->empty() && std::all_of(begin, end, [](char c) {
    return c >= '0' && c <= '9';
  });
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (!digits || ec != std::errc() || ptr != end || number < min ||
      number > max) {
    return Invalid(
        where, file,
        absl::StrCat("invalid value '", Printable(*value),
                     "': expected a decimal integer from ", min, " to ", max));
  }
  return std::optional<int>(number);
}

bool IsIpAddress(const std::string& text, bool v4_only) {
  std::array<unsigned char, sizeof(struct in6_addr)> buffer;
  if (::inet_pton(AF_INET, text.c_str(), buffer.data()) == 1) return true;
  return !v4_only && ::inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1;
}

// An IPv4 or IPv6 address in text; "" when absent.
absl::StatusOr<std::string> IpValue(const FirmwareFiles& files,
                                    std::string_view file,
                                    std::string_view where,
                                    bool v4_only = false) {
  ASSIGN_OR_RETURN(std::string value,
                   TextValue(files, file, where, kMaxStringLength));
  if (!files.contains(file)) return value;
  if (!IsIpAddress(value, v4_only)) {
    return Invalid(where, file,
                   absl::StrCat("invalid value '", Printable(value),
                                v4_only ? "': expected an IPv4 address"
                                        : "': expected an IP address"));
  }
  return value;
}

bool IsMacAddress(std::string_view text) {
  if (text.size() != 17) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != ':') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

// The number at the end of a directory name: "ethernet12" -> 12.
std::optional<int> NameNumber(std::string_view name, std::string_view prefix) {
  if (!absl::StartsWith(ToAbsl(name), ToAbsl(prefix))) return std::nullopt;
  std::string_view digits = name.substr(prefix.size());
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  int number = 0;
  auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return number;
}

absl::Status Missing(std::string_view where, std::string_view file,
                     std::string_view of) {
  return Invalid(where, file,
                 absl::StrCat("missing; a ", ToAbsl(of), " needs it"));
}

// --- sysfs reading ---------------------------------------------------------

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

// Sets `key` of `record` to `value` checked against the node schema.
absl::Status SetChecked(Record& record, std::string_view key,
                        std::string_view value) {
  const KeySpec* spec = FindKeySpec(RecordKind::kNode, key);
  if (spec == nullptr) {
    return absl::InternalError(
        absl::StrCat("no node key ", ToAbsl(key), " in the schema"));
  }
  absl::StatusOr<std::string> normalized = NormalizeValue(*spec, value);
  if (!normalized.ok()) {
    if (spec->secret) {
      return WithExitCode(absl::InvalidArgumentError(
                              absl::StrCat("invalid value for ", ToAbsl(key))),
                          ExitCode::kInvalid);
    }
    return normalized.status();
  }
  record.Set(key, *normalized);
  return absl::OkStatus();
}

// Splits `text` (lower-case hex) into the 8 LUN bytes as %x prints them:
// calls `found` with each complete split.
void SplitLun(std::string_view text, std::array<uint8_t, 8>& bytes,
              size_t count, const std::function<void()>& found) {
  if (count == bytes.size()) {
    if (text.empty()) found();
    return;
  }
  size_t left = bytes.size() - count;  // bytes still to place
  if (text.size() < left || text.size() > 2 * left) return;
  auto digit = [](char c) -> uint8_t {
    return c <= '9' ? c - '0' : c - 'a' + 10;
  };
  bytes[count] = digit(text[0]);
  SplitLun(text.substr(1), bytes, count + 1, found);
  if (text.size() >= 2 && text[0] != '0') {
    bytes[count] = static_cast<uint8_t>(digit(text[0]) << 4 | digit(text[1]));
    SplitLun(text.substr(2), bytes, count + 1, found);
  }
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

bool FirmwareNic::UsesDhcp() const {
  return origin == 3 || (!dhcp_server.empty() && dhcp_server != "0.0.0.0");
}

std::optional<uint64_t> FirmwareTarget::LunNumber() const {
  std::string text = absl::AsciiStrToLower(lun);
  if (text.size() < 8 || text.size() > 16 ||
      !std::all_of(text.begin(), text.end(), [](char c) {
        return absl::ascii_isxdigit(static_cast<unsigned char>(c));
      })) {
    return std::nullopt;
  }
  std::array<uint8_t, 8> bytes{};
  int splits = 0;
  int single_level_splits = 0;
  std::array<uint8_t, 8> any_split{};
  std::array<uint8_t, 8> single_level{};
  SplitLun(text, bytes, 0, [&]() {
    ++splits;
    any_split = bytes;
    if (std::all_of(bytes.begin() + 2, bytes.end(),
                    [](uint8_t b) { return b == 0; })) {
      ++single_level_splits;
      single_level = bytes;
    }
  });
  std::array<uint8_t, 8> chosen;
  if (single_level_splits == 1) {
    chosen = single_level;
  } else if (single_level_splits == 0 && splits == 1) {
    chosen = any_split;
  } else {
    return std::nullopt;
  }
  // Linux's scsilun_to_int: level i (bytes 2i, 2i+1) is bits 16i..16i+15.
  uint64_t number = 0;
  for (size_t level = 0; level < 4; ++level) {
    uint64_t value =
        static_cast<uint64_t>(chosen[2 * level]) << 8 | chosen[2 * level + 1];
    number |= value << (16 * level);
  }
  return number;
}

absl::StatusOr<FirmwareNic> ParseFirmwareNic(std::string_view id,
                                             const FirmwareFiles& files,
                                             std::string_view where) {
  FirmwareNic nic;
  nic.id = std::string(id);
  ASSIGN_OR_RETURN(std::optional<int> index,
                   IntValue(files, "index", where, 0, 255));
  nic.index = index.value_or(NameNumber(id, "ethernet").value_or(0));
  ASSIGN_OR_RETURN(std::optional<int> flags,
                   IntValue(files, "flags", where, 0, 255));
  if (!flags.has_value()) return Missing(where, "flags", "NIC");
  if (*flags == 0) {
    return Invalid(where, "flags", "0: the NIC is not marked valid");
  }
  nic.flags = *flags;
  ASSIGN_OR_RETURN(nic.ip_address, IpValue(files, "ip-addr", where));
  ASSIGN_OR_RETURN(std::optional<int> prefix,
                   IntValue(files, "prefix-len", where, 0, 128));
  nic.prefix_length = prefix.value_or(0);
  ASSIGN_OR_RETURN(nic.subnet_mask,
                   IpValue(files, "subnet-mask", where, /*v4_only=*/true));
  ASSIGN_OR_RETURN(std::optional<int> origin,
                   IntValue(files, "origin", where, 0, 255));
  nic.origin = origin.value_or(0);
  ASSIGN_OR_RETURN(nic.gateway, IpValue(files, "gateway", where));
  ASSIGN_OR_RETURN(nic.primary_dns, IpValue(files, "primary-dns", where));
  ASSIGN_OR_RETURN(nic.secondary_dns, IpValue(files, "secondary-dns", where));
  ASSIGN_OR_RETURN(nic.dhcp_server, IpValue(files, "dhcp", where));
  ASSIGN_OR_RETURN(std::optional<int> vlan,
                   IntValue(files, "vlan", where, 0, 65535));
  nic.vlan = vlan.value_or(0);
  nic.has_vlan = vlan.has_value();
  ASSIGN_OR_RETURN(nic.mac, TextValue(files, "mac", where, kMaxStringLength));
  if (!files.contains("mac")) return Missing(where, "mac", "NIC");
  if (!IsMacAddress(nic.mac)) {
    return Invalid(
        where, "mac",
        absl::StrCat("invalid value '", Printable(nic.mac),
                     "': expected a MAC address (52:54:00:12:34:56)"));
  }
  ASSIGN_OR_RETURN(nic.hostname,
                   TextValue(files, "hostname", where, kMaxStringLength));
  return nic;
}

absl::StatusOr<FirmwareTarget> ParseFirmwareTarget(std::string_view id,
                                                   const FirmwareFiles& files,
                                                   std::string_view where) {
  FirmwareTarget target;
  target.id = std::string(id);
  ASSIGN_OR_RETURN(std::optional<int> index,
                   IntValue(files, "index", where, 0, 255));
  target.index = index.value_or(NameNumber(id, "target").value_or(0));
  ASSIGN_OR_RETURN(std::optional<int> flags,
                   IntValue(files, "flags", where, 0, 255));
  if (!flags.has_value()) return Missing(where, "flags", "target");
  if (*flags == 0) {
    return Invalid(where, "flags", "0: the target is not marked valid");
  }
  target.flags = *flags;
  ASSIGN_OR_RETURN(target.ip_address, IpValue(files, "ip-addr", where));
  if (!files.contains("ip-addr")) return Missing(where, "ip-addr", "target");
  ASSIGN_OR_RETURN(std::optional<int> port,
                   IntValue(files, "port", where, 0, 65535));
  target.port = port.value_or(3260);
  ASSIGN_OR_RETURN(target.lun,
                   TextValue(files, "lun", where, kMaxStringLength));
  ASSIGN_OR_RETURN(std::optional<int> chap_type,
                   IntValue(files, "chap-type", where, 0, 255));
  target.chap_type = chap_type.value_or(0);
  ASSIGN_OR_RETURN(std::optional<int> nic_association,
                   IntValue(files, "nic-assoc", where, 0, 255));
  target.nic_association = nic_association.value_or(0);
  ASSIGN_OR_RETURN(target.target_name,
                   TextValue(files, "target-name", where, kMaxIscsiNameLength));
  if (target.target_name.empty()) {
    return Missing(where, "target-name", "target");
  }
  ASSIGN_OR_RETURN(target.chap_name,
                   TextValue(files, "chap-name", where, kMaxStringLength));
  ASSIGN_OR_RETURN(target.chap_secret,
                   TextValue(files, "chap-secret", where, kMaxStringLength));
  ASSIGN_OR_RETURN(target.reverse_chap_name,
                   TextValue(files, "rev-chap-name", where, kMaxStringLength));
  ASSIGN_OR_RETURN(
      target.reverse_chap_secret,
      TextValue(files, "rev-chap-name-secret", where, kMaxStringLength));
  return target;
}

absl::StatusOr<FirmwareInitiator> ParseFirmwareInitiator(
    const FirmwareFiles& files, std::string_view where) {
  FirmwareInitiator initiator;
  ASSIGN_OR_RETURN(std::optional<int> flags,
                   IntValue(files, "flags", where, 0, 255));
  initiator.flags = flags.value_or(0);
  ASSIGN_OR_RETURN(
      initiator.initiator_name,
      TextValue(files, "initiator-name", where, kMaxIscsiNameLength));
  ASSIGN_OR_RETURN(initiator.isid,
                   TextValue(files, "isid", where, kMaxStringLength));
  return initiator;
}

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

std::string FormatFirmwareRecord(const FirmwareBootEntry& entry) {
  std::string out =
      absl::StrCat("# BEGIN RECORD ", ToAbsl(kRecordVersion), "\n");
  auto line = [&out](std::string_view key, std::string_view value) {
    absl::StrAppend(&out, ToAbsl(key), " = ", ToAbsl(value), "\n");
  };
  auto line_if = [&line](std::string_view key, std::string_view value) {
    if (!value.empty()) line(key, value);
  };
  const FirmwareNic& nic = entry.nic;
  const FirmwareTarget& target = entry.target;
  line_if("iface.initiatorname", entry.initiator.initiator_name);
  line_if("iface.isid", entry.initiator.isid);
  line("iface.transport_name", "tcp");
  line_if("iface.hwaddress", nic.mac);
  line("iface.bootproto", nic.UsesDhcp() ? "DHCP" : "STATIC");
  line_if("iface.ipaddress", nic.ip_address);
  if (nic.prefix_length != 0) {
    line("iface.prefix_len", absl::StrCat(nic.prefix_length));
  }
  line_if("iface.subnet_mask", nic.subnet_mask);
  line_if("iface.gateway", nic.gateway);
  line_if("iface.primary_dns", nic.primary_dns);
  line_if("iface.secondary_dns", nic.secondary_dns);
  if (nic.has_vlan) line("iface.vlan_id", absl::StrCat(nic.vlan));
  line_if("iface.net_ifacename", nic.net_device);
  line_if("node.name", target.target_name);
  line_if("node.conn[0].address", target.ip_address);
  line("node.conn[0].port", absl::StrCat(target.port));
  line_if("node.session.auth.username", target.chap_name);
  line_if("node.session.auth.password", target.chap_secret);
  line_if("node.session.auth.username_in", target.reverse_chap_name);
  line_if("node.session.auth.password_in", target.reverse_chap_secret);
  line_if("node.boot_lun", target.lun);
  out += "# END RECORD\n";
  return out;
}

absl::StatusOr<Record> NodeRecordFromFirmware(const FirmwareBootEntry& entry,
                                              Record base) {
  Record record = std::move(base);
  const FirmwareTarget& target = entry.target;
  RETURN_IF_ERROR(SetChecked(record, "node.name", target.target_name));
  RETURN_IF_ERROR(SetChecked(record, "node.tpgt", "1"));
  RETURN_IF_ERROR(SetChecked(record, "node.startup", "onboot"));
  RETURN_IF_ERROR(SetChecked(record, "node.discovery_type", "fw"));
  RETURN_IF_ERROR(
      SetChecked(record, "node.conn[0].address", target.ip_address));
  RETURN_IF_ERROR(
      SetChecked(record, "node.conn[0].port", absl::StrCat(target.port)));
  if (!entry.initiator.initiator_name.empty()) {
    RETURN_IF_ERROR(SetChecked(record, "iface.initiatorname",
                               entry.initiator.initiator_name));
  }
  bool chap = !target.chap_name.empty();
  bool mutual = chap && !target.reverse_chap_name.empty();
  RETURN_IF_ERROR(SetChecked(record, "node.session.auth.authmethod",
                             chap ? "CHAP" : "None"));
  RETURN_IF_ERROR(SetChecked(record, "node.session.auth.username",
                             chap ? target.chap_name : ""));
  RETURN_IF_ERROR(SetChecked(record, "node.session.auth.password",
                             chap ? target.chap_secret : ""));
  RETURN_IF_ERROR(SetChecked(record, "node.session.auth.username_in",
                             mutual ? target.reverse_chap_name : ""));
  RETURN_IF_ERROR(SetChecked(record, "node.session.auth.password_in",
                             mutual ? target.reverse_chap_secret : ""));
  return record;
}

}  // namespace kiscsi::conf
