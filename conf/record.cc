// The schema half of conf/record.h: the key tables (node, discovery, iface,
// daemon keys, in open-iscsi's print order), key lookup with aliases and
// near-miss suggestions, and value checking/normalisation. The Record
// container and the record text format are in record_text.cc.
#include "conf/record.h"

#include <algorithm>
#include <array>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "conf/record_internal.h"
#include "src/base/exit_code.h"
#include "src/base/string_views.h"

namespace kiscsi::conf {
namespace {

using internal::FindIn;
using internal::SplitList;
using internal::TablesFor;

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxDataLength = 16777215;  // 2^24 - 1, RFC 7143

constexpr std::string_view kStartupModes[] = {"manual", "automatic", "onboot"};
constexpr std::string_view kDiscoveryStartupModes[] = {"manual", "automatic"};
constexpr std::string_view kAuthMethods[] = {"None", "CHAP"};
constexpr std::string_view kDigests[] = {"None", "CRC32C", "CRC32C,None",
                                         "None,CRC32C"};
constexpr std::string_view kChapAlgorithms[] = {"MD5", "SHA1", "SHA256",
                                                "SHA3-256"};
constexpr std::string_view kScanModes[] = {"auto", "manual"};
constexpr std::string_view kNodeDiscoveryTypes[] = {
    "send_targets", "isns", "offload_send_targets", "slp", "static", "fw"};
constexpr std::string_view kDiscoveryTypes[] = {
    "sendtargets", "isns", "offload_send_targets", "slp", "static", "fw"};

constexpr KeySpec Spec(std::string_view name, ValueType type,
                       std::string_view def) {
  KeySpec spec;
  spec.name = name;
  spec.type = type;
  spec.default_value = def;
  return spec;
}
constexpr KeySpec Str(std::string_view name, std::string_view def = "") {
  return Spec(name, ValueType::kString, def);
}
constexpr KeySpec Secret(std::string_view name) {
  KeySpec spec = Spec(name, ValueType::kString, "");
  spec.secret = true;
  return spec;
}
constexpr KeySpec Int(std::string_view name, std::string_view def, int64_t min,
                      int64_t max) {
  KeySpec spec = Spec(name, ValueType::kInt, def);
  spec.min = min;
  spec.max = max;
  return spec;
}
constexpr KeySpec Bool(std::string_view name, std::string_view def) {
  return Spec(name, ValueType::kBool, def);
}
constexpr KeySpec Enum(std::string_view name, std::string_view def,
                       std::span<const std::string_view> choices) {
  KeySpec spec = Spec(name, ValueType::kEnum, def);
  spec.choices = choices;
  return spec;
}
constexpr KeySpec List(std::string_view name, std::string_view def,
                       std::span<const std::string_view> choices) {
  KeySpec spec = Spec(name, ValueType::kList, def);
  spec.choices = choices;
  return spec;
}

// Node records, in `iscsiadm -m node -o show` order. The iface.* block is also
// the iface record.
constexpr KeySpec kNodeKeys[] = {
    Str("node.name"),
    Int("node.tpgt", "-1", -1, 65535),
    Enum("node.startup", "manual", kStartupModes),
    Bool("node.leading_login", "No"),
    Str("iface.iscsi_ifacename", "default"),
    Str("iface.net_ifacename"),
    Str("iface.ipaddress"),
    Int("iface.prefix_len", "0", 0, 128),
    Str("iface.hwaddress"),
    Str("iface.transport_name", "tcp"),
    Str("iface.initiatorname"),
    Str("iface.state"),
    Int("iface.vlan_id", "0", 0, 4095),
    Int("iface.vlan_priority", "0", 0, 7),
    Str("iface.vlan_state"),
    Int("iface.iface_num", "0", 0, kIntMax),
    Int("iface.mtu", "0", 0, 65535),
    Int("iface.port", "0", 0, 65535),
    Str("iface.bootproto"),
    Str("iface.subnet_mask"),
    Str("iface.gateway"),
    Str("iface.dhcp_alt_client_id_state"),
    Str("iface.dhcp_alt_client_id"),
    Str("iface.dhcp_dns"),
    Str("iface.dhcp_learn_iqn"),
    Str("iface.dhcp_req_vendor_id_state"),
    Str("iface.dhcp_vendor_id_state"),
    Str("iface.dhcp_vendor_id"),
    Str("iface.dhcp_slp_da"),
    Str("iface.fragmentation"),
    Str("iface.gratuitous_arp"),
    Str("iface.incoming_forwarding"),
    Str("iface.tos_state"),
    Int("iface.tos", "0", 0, 255),
    Int("iface.ttl", "0", 0, 255),
    Str("iface.delayed_ack"),
    Str("iface.tcp_nagle"),
    Str("iface.tcp_wsf_state"),
    Int("iface.tcp_wsf", "0", 0, 255),
    Int("iface.tcp_timer_scale", "0", 0, 255),
    Str("iface.tcp_timestamp"),
    Str("iface.redirect"),
    Int("iface.def_task_mgmt_timeout", "0", 0, 65535),
    Str("iface.header_digest"),
    Str("iface.data_digest"),
    Str("iface.immediate_data"),
    Str("iface.initial_r2t"),
    Str("iface.data_seq_inorder"),
    Str("iface.data_pdu_inorder"),
    Int("iface.erl", "0", 0, 2),
    Int("iface.max_receive_data_len", "0", 0, kMaxDataLength),
    Int("iface.first_burst_len", "0", 0, kMaxDataLength),
    Int("iface.max_outstanding_r2t", "0", 0, 65535),
    Int("iface.max_burst_len", "0", 0, kMaxDataLength),
    Str("iface.chap_auth"),
    Str("iface.bidi_chap"),
    Str("iface.strict_login_compliance"),
    Str("iface.discovery_auth"),
    Str("iface.discovery_logout"),
    Str("node.discovery_address"),
    Int("node.discovery_port", "0", 0, 65535),
    Enum("node.discovery_type", "static", kNodeDiscoveryTypes),
    Int("node.session.initial_cmdsn", "0", 0, kIntMax),
    Int("node.session.initial_login_retry_max", "8", 0, kIntMax),
    Int("node.session.xmit_thread_priority", "-20", -20, 20),
    Int("node.session.cmds_max", "128", 1, 4096),
    Int("node.session.queue_depth", "32", 1, 1024),
    Int("node.session.nr_sessions", "1", 1, 65535),
    Enum("node.session.auth.authmethod", "None", kAuthMethods),
    Str("node.session.auth.username"),
    Secret("node.session.auth.password"),
    Str("node.session.auth.username_in"),
    Secret("node.session.auth.password_in"),
    List("node.session.auth.chap_algs", "MD5", kChapAlgorithms),
    Int("node.session.timeo.replacement_timeout", "120", 0, kIntMax),
    Int("node.session.err_timeo.abort_timeout", "15", 0, kIntMax),
    Int("node.session.err_timeo.lu_reset_timeout", "30", 0, kIntMax),
    Int("node.session.err_timeo.tgt_reset_timeout", "30", 0, kIntMax),
    Int("node.session.err_timeo.host_reset_timeout", "60", 0, kIntMax),
    Bool("node.session.iscsi.FastAbort", "Yes"),
    Bool("node.session.iscsi.InitialR2T", "No"),
    Bool("node.session.iscsi.ImmediateData", "Yes"),
    Int("node.session.iscsi.FirstBurstLength", "262144", 512, kMaxDataLength),
    Int("node.session.iscsi.MaxBurstLength", "16776192", 512, kMaxDataLength),
    Int("node.session.iscsi.DefaultTime2Retain", "0", 0, 3600),
    Int("node.session.iscsi.DefaultTime2Wait", "2", 0, 3600),
    Int("node.session.iscsi.MaxConnections", "1", 1, 65535),
    Int("node.session.iscsi.MaxOutstandingR2T", "1", 1, 65535),
    Int("node.session.iscsi.ERL", "0", 0, 2),
    Enum("node.session.scan", "auto", kScanModes),
    Int("node.session.reopen_max", "0", 0, kIntMax),
    Str("node.conn[0].address"),
    Int("node.conn[0].port", "3260", 1, 65535),
    Enum("node.conn[0].startup", "manual", kStartupModes),
    Int("node.conn[0].tcp.window_size", "524288", 0, kIntMax),
    Int("node.conn[0].tcp.type_of_service", "0", 0, 255),
    Int("node.conn[0].timeo.logout_timeout", "15", 0, kIntMax),
    Int("node.conn[0].timeo.login_timeout", "15", 0, kIntMax),
    Int("node.conn[0].timeo.auth_timeout", "45", 0, kIntMax),
    Int("node.conn[0].timeo.noop_out_interval", "5", 0, kIntMax),
    Int("node.conn[0].timeo.noop_out_timeout", "5", 0, kIntMax),
    Int("node.conn[0].iscsi.MaxXmitDataSegmentLength", "0", 0, kMaxDataLength),
    Int("node.conn[0].iscsi.MaxRecvDataSegmentLength", "262144", 512,
        kMaxDataLength),
    Enum("node.conn[0].iscsi.HeaderDigest", "None", kDigests),
    Enum("node.conn[0].iscsi.DataDigest", "None", kDigests),
    Bool("node.conn[0].iscsi.IFMarker", "No"),
    Bool("node.conn[0].iscsi.OFMarker", "No"),
};

// The iface.* block of kNodeKeys.
constexpr size_t kIfaceFirst = 4;
constexpr size_t kIfaceCount = 55;
static_assert(kNodeKeys[kIfaceFirst].name == "iface.iscsi_ifacename");
static_assert(kNodeKeys[kIfaceFirst + kIfaceCount - 1].name ==
              "iface.discovery_logout");

// SendTargets discovery records (st_config), in open-iscsi's order.
// open-iscsi 2.1.8 writes the discovery CHAP algorithm list under the node key
// name; so do we.
constexpr KeySpec kDiscoveryKeys[] = {
    Enum("discovery.startup", "manual", kDiscoveryStartupModes),
    Enum("discovery.type", "sendtargets", kDiscoveryTypes),
    Str("discovery.sendtargets.address"),
    Int("discovery.sendtargets.port", "3260", 1, 65535),
    Enum("discovery.sendtargets.auth.authmethod", "None", kAuthMethods),
    Str("discovery.sendtargets.auth.username"),
    Secret("discovery.sendtargets.auth.password"),
    Str("discovery.sendtargets.auth.username_in"),
    Secret("discovery.sendtargets.auth.password_in"),
    List("node.session.auth.chap_algs", "MD5", kChapAlgorithms),
    Int("discovery.sendtargets.timeo.login_timeout", "15", 0, kIntMax),
    Bool("discovery.sendtargets.use_discoveryd", "No"),
    Int("discovery.sendtargets.discoveryd_poll_inval", "30", 0, kIntMax),
    Int("discovery.sendtargets.reopen_max", "5", 0, kIntMax),
    Int("discovery.sendtargets.timeo.auth_timeout", "45", 0, kIntMax),
    Int("discovery.sendtargets.timeo.active_timeout", "30", 0, kIntMax),
    Int("discovery.sendtargets.iscsi.MaxRecvDataSegmentLength", "32768", 512,
        kMaxDataLength),
};

// Keys only iscsid.conf has.
constexpr KeySpec kDaemonKeys[] = {
    Str("iscsid.startup"),
    Bool("iscsid.safe_logout", "No"),
    Bool("iscsid.ipc_auth_uid", "No"),
    List("discovery.sendtargets.auth.chap_algs", "MD5", kChapAlgorithms),
    Int("node.session.sess_reopen_log_freq", "", 0, kIntMax),
    // kiscsi's own: the longest pause between two reconnection attempts.
    Int("kiscsid.reopen_backoff_max_ms", "500", 10, 3600000),
    // kiscsi's own, read by kiscsi-udev: the SCSI command timeout (seconds, 0
    // leaves the kernel's) and the I/O scheduler ("" leaves the kernel's) of
    // iSCSI disks.
    Int("kiscsi.disk.timeout", "0", 0, 3600),
    Str("kiscsi.disk.scheduler", "none"),
};

// kiscsi's own keys a node record may carry to override iscsid.conf for one
// node. Not part of open-iscsi's record: printed only when a record sets them.
constexpr KeySpec kNodeExtensionKeys[] = {
    Int("kiscsi.disk.timeout", "", 0, 3600),
    Str("kiscsi.disk.scheduler", ""),
};

struct Alias {
  std::string_view old_name;
  std::string_view name;
};
constexpr Alias kAliases[] = {
    {"node.session.conn_reopen_log_freq", "node.session.sess_reopen_log_freq"},
};

// Levenshtein distance, ASCII case-insensitive, computed only as far as
// `bound`: any result above it is returned as bound + 1. Only cells within
// `bound` of the diagonal can stay within the bound, so only those are
// computed.
size_t EditDistance(std::string_view a, std::string_view b, size_t bound) {
  const size_t over = bound + 1;
  std::vector<size_t> previous(b.size() + 1, over), current(b.size() + 1, over);
  for (size_t j = 0; j <= std::min(b.size(), bound); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t first = i > bound ? i - bound : 1;
    size_t last = std::min(b.size(), i + bound);
    if (first > last) return over;
    current[first - 1] = first == 1 ? std::min(i, over) : over;
    size_t row_min = current[first - 1];
    char ca = absl::ascii_tolower(static_cast<unsigned char>(a[i - 1]));
    for (size_t j = first; j <= last; ++j) {
      char cb = absl::ascii_tolower(static_cast<unsigned char>(b[j - 1]));
      size_t best = previous[j - 1] + (ca == cb ? 0 : 1);
      best = std::min(best, previous[j] + 1);
      best = std::min(best, current[j - 1] + 1);
      current[j] = std::min(best, over);
      row_min = std::min(row_min, current[j]);
    }
    if (last < b.size()) current[last + 1] = over;
    // Values never decrease from one row to the next.
    if (row_min >= over) return over;
    std::swap(previous, current);
  }
  return previous[b.size()];
}

absl::Status InvalidValue(const KeySpec& spec, std::string_view value) {
  if (spec.secret) {
    // Never the value of a secret, not even an invalid one (it is most likely
    // the real secret with a typo) or a part of it.
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(
            "invalid value for ", ToAbsl(spec.name), " (", value.size(),
            " bytes, not shown: it is a secret): expected ",
            ExpectedValueText(spec))),
        ExitCode::kInvalid);
  }
  return WithExitCode(
      absl::InvalidArgumentError(absl::StrCat(
          "invalid value '", Printable(value), "' for ", ToAbsl(spec.name),
          ": expected ", ExpectedValueText(spec))),
      ExitCode::kInvalid);
}

// The choice equal to `value` ignoring ASCII case, or nullopt.
std::optional<absl::string_view> MatchChoice(const KeySpec& spec,
                                             absl::string_view value) {
  for (std::string_view choice : spec.choices) {
    if (absl::EqualsIgnoreCase(ToAbsl(choice), value)) return ToAbsl(choice);
  }
  return std::nullopt;
}

bool HasControlCharacter(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

}  // namespace

namespace internal {

const KeySpec* FindIn(std::span<const KeySpec> table, std::string_view name) {
  for (const KeySpec& spec : table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// The tables searched for `kind`, most specific first.
std::vector<std::span<const KeySpec>> TablesFor(RecordKind kind) {
  switch (kind) {
    case RecordKind::kNode:
      return {NodeRecordKeys()};
    case RecordKind::kDiscovery:
      return {DiscoveryRecordKeys()};
    case RecordKind::kIface:
      return {IfaceRecordKeys()};
    case RecordKind::kIscsidConf:
      return {NodeRecordKeys(), DiscoveryRecordKeys(), DaemonKeys()};
  }
  return {};
}

// Splits on commas and trims each element.
std::vector<absl::string_view> SplitList(std::string_view value) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(ToAbsl(value), ',')) {
    parts.push_back(absl::StripAsciiWhitespace(part));
  }
  return parts;
}

}  // namespace internal

std::span<const KeySpec> NodeRecordKeys() { return kNodeKeys; }
std::span<const KeySpec> DiscoveryRecordKeys() { return kDiscoveryKeys; }
std::span<const KeySpec> IfaceRecordKeys() {
  return std::span<const KeySpec>(kNodeKeys).subspan(kIfaceFirst, kIfaceCount);
}
std::span<const KeySpec> DaemonKeys() { return kDaemonKeys; }
std::span<const KeySpec> NodeExtensionKeys() { return kNodeExtensionKeys; }

std::string_view CanonicalKeyName(std::string_view name) {
  for (const Alias& alias : kAliases) {
    if (alias.old_name == name) return alias.name;
  }
  return name;
}

const KeySpec* FindKeySpec(RecordKind kind, std::string_view name) {
  name = CanonicalKeyName(name);
  for (std::span<const KeySpec> table : TablesFor(kind)) {
    if (const KeySpec* spec = FindIn(table, name)) return spec;
  }
  return nullptr;
}

std::string NearestKey(RecordKind kind, std::string_view name) {
  // No key is longer than 60 characters; anything much longer is not a typo of
  // one.
  if (name.empty() || name.size() > 100) return "";
  size_t limit = std::max<size_t>(3, name.size() / 4);
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  std::vector<std::span<const KeySpec>> tables = TablesFor(kind);
  if (kind == RecordKind::kNode) tables.push_back(NodeExtensionKeys());
  for (std::span<const KeySpec> table : tables) {
    for (const KeySpec& spec : table) {
      // The distance is at least the difference in length.
      size_t length_difference = name.size() > spec.name.size()
                                     ? name.size() - spec.name.size()
                                     : spec.name.size() - name.size();
      if (length_difference > limit) continue;
      size_t distance = EditDistance(
          name, spec.name,
          std::min(limit, best_distance == 0 ? 0 : best_distance - 1));
      if (distance < best_distance) {
        best_distance = distance;
        best = spec.name;
      }
    }
  }
  if (best_distance > limit) return "";
  return std::string(best);
}

std::string UnknownKeyMessage(RecordKind kind, std::string_view name) {
  std::string message = absl::StrCat("unknown key '", Printable(name), "'");
  std::string nearest = NearestKey(kind, name);
  if (!nearest.empty()) {
    absl::StrAppend(&message, " (did you mean '", nearest, "'?)");
  }
  return message;
}

std::string ExpectedValueText(const KeySpec& spec) {
  std::vector<absl::string_view> choices;
  for (std::string_view choice : spec.choices)
    choices.push_back(ToAbsl(choice));
  switch (spec.type) {
    case ValueType::kString:
      return "text without control characters";
    case ValueType::kInt:
      return absl::StrCat("an integer from ", spec.min, " to ", spec.max);
    case ValueType::kBool:
      return "Yes or No";
    case ValueType::kEnum:
      return absl::StrCat("one of ", absl::StrJoin(choices, ", "));
    case ValueType::kList:
      return absl::StrCat("a comma-separated list of ",
                          absl::StrJoin(choices, ", "));
  }
  return "";
}

absl::StatusOr<std::string> NormalizeValue(const KeySpec& spec,
                                           std::string_view value) {
  std::string_view trimmed = ToStd(absl::StripAsciiWhitespace(ToAbsl(value)));
  switch (spec.type) {
    case ValueType::kString:
      if (HasControlCharacter(trimmed)) return InvalidValue(spec, value);
      return std::string(trimmed);
    case ValueType::kInt: {
      int64_t number = 0;
      if (!absl::SimpleAtoi(ToAbsl(trimmed), &number) || number < spec.min ||
          number > spec.max) {
        return InvalidValue(spec, value);
      }
      return absl::StrCat(number);
    }
    case ValueType::kBool:
      if (absl::EqualsIgnoreCase(ToAbsl(trimmed), "yes")) return "Yes";
      if (absl::EqualsIgnoreCase(ToAbsl(trimmed), "no")) return "No";
      return InvalidValue(spec, value);
    case ValueType::kEnum: {
      // "CRC32C, None" is "CRC32C,None".
      std::string joined = absl::StrJoin(SplitList(trimmed), ",");
      std::optional<absl::string_view> choice = MatchChoice(spec, joined);
      if (!choice.has_value()) return InvalidValue(spec, value);
      return std::string(*choice);
    }
    case ValueType::kList: {
      std::vector<absl::string_view> elements;
      for (absl::string_view part : SplitList(trimmed)) {
        std::optional<absl::string_view> choice = MatchChoice(spec, part);
        if (!choice.has_value()) return InvalidValue(spec, value);
        elements.push_back(*choice);
      }
      return absl::StrJoin(elements, ",");
    }
  }
  return InvalidValue(spec, value);
}

std::string Printable(std::string_view text) {
  bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isprint(static_cast<unsigned char>(c));
  });
  return printable ? std::string(text) : absl::CHexEscape(ToAbsl(text));
}

}  // namespace kiscsi::conf
