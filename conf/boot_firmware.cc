// The parsing half of the boot firmware module (boot_firmware.h): the values
// of one table directory (a name -> contents map) checked and turned into
// FirmwareNic/Target/Initiator, the LUN, `iscsistart -f` formatting and the
// node record of a boot target. No file system access here (that is
// boot_firmware_sysfs.cc), so all of it is fuzzed and unit-tested on maps.
#include "conf/boot_firmware.h"

#include <arpa/inet.h>
#include <netinet/in.h>

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
#include "conf/boot_firmware_internal.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/base/string_views.h"

namespace kiscsi::conf {
namespace {

using internal::Invalid;
using internal::NameNumber;
using internal::RawValue;

// RFC 7143 section 4.2.7.1: an iSCSI name is at most 223 bytes.
constexpr size_t kMaxIscsiNameLength = 223;
// CHAP names and secrets, host names, anything else that is text.
constexpr size_t kMaxStringLength = 255;

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
absl::Status Missing(std::string_view where, std::string_view file,
                     std::string_view of) {
  return Invalid(where, file,
                 absl::StrCat("missing; a ", ToAbsl(of), " needs it"));
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
  RETURN_IF_ERROR(SetNodeValue(record, "node.name", target.target_name));
  RETURN_IF_ERROR(SetNodeValue(record, "node.tpgt", "1"));
  RETURN_IF_ERROR(SetNodeValue(record, "node.startup", "onboot"));
  RETURN_IF_ERROR(SetNodeValue(record, "node.discovery_type", "fw"));
  RETURN_IF_ERROR(
      SetNodeValue(record, "node.conn[0].address", target.ip_address));
  RETURN_IF_ERROR(
      SetNodeValue(record, "node.conn[0].port", absl::StrCat(target.port)));
  if (!entry.initiator.initiator_name.empty()) {
    RETURN_IF_ERROR(SetNodeValue(record, "iface.initiatorname",
                                 entry.initiator.initiator_name));
  }
  RETURN_IF_ERROR(SetNodeAuth(record, target.chap_name, target.chap_secret,
                              target.reverse_chap_name,
                              target.reverse_chap_secret));
  return record;
}

}  // namespace kiscsi::conf
