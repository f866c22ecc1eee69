#include "src/session/sysfs_sessions.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <limits>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

constexpr size_t kMaxAttributeSize = 4096;  // one sysfs page

// An attribute's text without the trailing newline; nullopt if unreadable.
std::optional<std::string> ReadAttr(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text(kMaxAttributeSize, '\0');
  size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  text.resize(used);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
    text.pop_back();
  return text;
}

// The kernel prints an unset string attribute (a host's hwaddress or netdev,
// say) as "(null)": that is no value.
std::string ReadString(const std::string& path) {
  std::string text = ReadAttr(path).value_or("");
  return text == "(null)" ? "" : text;
}

template <typename T>
std::optional<T> ReadNumber(const std::string& path) {
  const std::optional<std::string> text = ReadAttr(path);
  int64_t value = 0;
  if (!text.has_value() || !absl::SimpleAtoi(*text, &value) ||
      value < std::numeric_limits<T>::min() ||
      value > std::numeric_limits<T>::max()) {
    return std::nullopt;
  }
  return static_cast<T>(value);
}

std::optional<bool> ReadFlag(const std::string& path) {
  const std::optional<uint32_t> value = ReadNumber<uint32_t>(path);
  if (!value.has_value()) return std::nullopt;
  return *value != 0;
}

// Entries of a directory (no "." and ".."); empty if it cannot be read.
std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = readdir(dir)) {
    const absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// "<prefix><number>" -> number.
std::optional<uint32_t> NumberAfter(absl::string_view name,
                                    absl::string_view prefix) {
  uint32_t value = 0;
  if (!absl::ConsumePrefix(&name, prefix) || name.empty() ||
      !absl::SimpleAtoi(name, &value)) {
    return std::nullopt;
  }
  return value;
}

// The SCSI host of a session: its device directory lives under host<N>.
std::optional<uint32_t> SessionHost(const std::string& session_dir) {
  char resolved[PATH_MAX];
  const std::string device = session_dir + "/device";
  if (realpath(device.c_str(), resolved) == nullptr) return std::nullopt;
  absl::string_view path = resolved;
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  path = path.substr(0, slash);
  return NumberAfter(path.substr(path.rfind('/') + 1), "host");
}

// Each session's lowest cid, from one listing of the connection class
// ("connection<sid>:<cid>").
using LowestCids = absl::flat_hash_map<uint32_t, uint32_t>;
LowestCids ReadLowestCids(const std::string& root) {
  LowestCids lowest;
  for (const std::string& name : ListDir(root + "/class/iscsi_connection")) {
    absl::string_view rest = name;
    const size_t colon = rest.find(':');
    if (colon == absl::string_view::npos) continue;
    const std::optional<uint32_t> sid =
        NumberAfter(rest.substr(0, colon), "connection");
    uint32_t cid = 0;
    if (!sid.has_value() || !absl::SimpleAtoi(rest.substr(colon + 1), &cid)) {
      continue;
    }
    auto [it, inserted] = lowest.try_emplace(*sid, cid);
    if (!inserted && cid < it->second) it->second = cid;
  }
  return lowest;
}

std::optional<SysfsConnection> ReadConnection(const std::string& root,
                                              uint32_t sid,
                                              const LowestCids& cids,
                                              bool identity_only) {
  auto lowest = cids.find(sid);
  if (lowest == cids.end()) return std::nullopt;
  const std::string dir =
      absl::StrCat(root, "/class/iscsi_connection/", "connection", sid, ":",
                   lowest->second, "/");
  SysfsConnection conn;
  conn.cid = lowest->second;
  conn.state = ReadString(dir + "state");
  conn.address = ReadString(dir + "address");
  conn.port = ReadNumber<uint16_t>(dir + "port");
  conn.persistent_address = ReadString(dir + "persistent_address");
  conn.persistent_port = ReadNumber<uint16_t>(dir + "persistent_port");
  if (identity_only) return conn;
  conn.local_port = ReadNumber<uint16_t>(dir + "local_port");
  conn.max_recv_dlength = ReadNumber<uint32_t>(dir + "max_recv_dlength");
  conn.max_xmit_dlength = ReadNumber<uint32_t>(dir + "max_xmit_dlength");
  conn.header_digest = ReadFlag(dir + "header_digest");
  conn.data_digest = ReadFlag(dir + "data_digest");
  conn.ping_tmo = ReadNumber<int64_t>(dir + "ping_tmo");
  conn.recv_tmo = ReadNumber<int64_t>(dir + "recv_tmo");
  return conn;
}

absl::StatusOr<SysfsSession> ReadSession(const std::string& root, uint32_t sid,
                                         const LowestCids& cids,
                                         const ReadSysfsOptions& options) {
  const std::string dir =
      absl::StrCat(root, "/class/iscsi_session/session", sid);
  if (access(dir.c_str(), R_OK | X_OK) != 0) {
    return ErrnoStatus(errno, absl::StrCat("read ", dir));
  }
  const std::string d = dir + "/";
  SysfsSession s;
  s.sid = sid;
  s.target_name = ReadString(d + "targetname");
  s.tpgt = ReadNumber<uint32_t>(d + "tpgt");
  s.state = ReadString(d + "state");
  s.iface_name = ReadString(d + "ifacename");
  s.connection = ReadConnection(root, sid, cids, options.identity_only);
  if (options.identity_only) return s;
  s.creator = ReadNumber<int64_t>(d + "creator");
  s.recovery_tmo = ReadNumber<int64_t>(d + "recovery_tmo");
  s.abort_tmo = ReadNumber<int64_t>(d + "abort_tmo");
  s.lu_reset_tmo = ReadNumber<int64_t>(d + "lu_reset_tmo");
  s.tgt_reset_tmo = ReadNumber<int64_t>(d + "tgt_reset_tmo");
  s.initiator_name = ReadString(d + "initiatorname");
  s.username = ReadString(d + "username");
  s.username_in = ReadString(d + "username_in");
  if (options.include_passwords) {
    s.password = ReadString(d + "password");
    s.password_in = ReadString(d + "password_in");
  }
  s.first_burst_len = ReadNumber<uint32_t>(d + "first_burst_len");
  s.max_burst_len = ReadNumber<uint32_t>(d + "max_burst_len");
  s.immediate_data = ReadFlag(d + "immediate_data");
  s.initial_r2t = ReadFlag(d + "initial_r2t");
  s.max_outstanding_r2t = ReadNumber<uint32_t>(d + "max_outstanding_r2t");
  s.erl = ReadNumber<uint32_t>(d + "erl");
  s.host_no = SessionHost(dir);
  if (s.host_no.has_value()) {
    const std::string scsi_host =
        absl::StrCat(root, "/class/scsi_host/host", *s.host_no, "/");
    const std::string proc_name = ReadString(scsi_host + "proc_name");
    if (absl::StartsWith(proc_name, "iscsi_") && proc_name.size() > 6) {
      s.transport = proc_name.substr(6);
    } else if (!proc_name.empty()) {
      s.transport = proc_name;
    }
    s.host_state = ReadString(scsi_host + "state");
    const std::string iscsi_host =
        absl::StrCat(root, "/class/iscsi_host/host", *s.host_no, "/");
    s.host_ipaddress = ReadString(iscsi_host + "ipaddress");
    s.host_hwaddress = ReadString(iscsi_host + "hwaddress");
    s.host_netdev = ReadString(iscsi_host + "netdev");
  }
  s.devices = ReadSessionDevices(root, sid);
  return s;
}

}  // namespace

std::vector<SysfsDevice> ReadSessionDevices(const std::string& sysfs_root,
                                            uint32_t sid) {
  std::vector<SysfsDevice> devices;
  const std::string device_dir =
      absl::StrCat(sysfs_root, "/class/iscsi_session/session", sid, "/device");
  for (const std::string& target : ListDir(device_dir)) {
    if (!absl::StartsWith(target, "target")) continue;
    const std::string target_dir = absl::StrCat(device_dir, "/", target);
    for (const std::string& name : ListDir(target_dir)) {
      const std::vector<absl::string_view> parts = absl::StrSplit(name, ':');
      SysfsDevice device;
      if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &device.host) ||
          !absl::SimpleAtoi(parts[1], &device.channel) ||
          !absl::SimpleAtoi(parts[2], &device.id) ||
          !absl::SimpleAtoi(parts[3], &device.lun)) {
        continue;
      }
      const std::string dir = absl::StrCat(target_dir, "/", name, "/");
      device.type = ReadNumber<int>(dir + "type");
      device.state = ReadString(dir + "state");
      const std::vector<std::string> blocks = ListDir(dir + "block");
      if (!blocks.empty()) device.block = blocks.front();
      devices.push_back(std::move(device));
    }
  }
  std::sort(devices.begin(), devices.end(),
            [](const SysfsDevice& a, const SysfsDevice& b) {
              return std::tie(a.channel, a.id, a.lun) <
                     std::tie(b.channel, b.id, b.lun);
            });
  return devices;
}

absl::StatusOr<std::vector<SysfsSession>> ReadSysfsSessions(
    const std::string& sysfs_root, const ReadSysfsOptions& options) {
  std::vector<uint32_t> sids;
  for (const std::string& name : ListDir(sysfs_root + "/class/iscsi_session")) {
    if (std::optional<uint32_t> sid = NumberAfter(name, "session"))
      sids.push_back(*sid);
  }
  std::sort(sids.begin(), sids.end());
  const LowestCids cids = ReadLowestCids(sysfs_root);
  std::vector<SysfsSession> sessions;
  for (const uint32_t sid : sids) {
    absl::StatusOr<SysfsSession> session =
        ReadSession(sysfs_root, sid, cids, options);
    if (!session.ok()) {
      return WithExitCode(session.status(), ExitCode::kSysfsLookup);
    }
    sessions.push_back(*std::move(session));
  }
  return sessions;
}

std::vector<SysfsHost> ReadSysfsHosts(const std::string& sysfs_root) {
  std::vector<SysfsHost> hosts;
  for (const std::string& name : ListDir(sysfs_root + "/class/iscsi_host")) {
    std::optional<uint32_t> host_no = NumberAfter(name, "host");
    if (!host_no.has_value()) continue;
    SysfsHost host;
    host.host_no = *host_no;
    const std::string scsi_host =
        absl::StrCat(sysfs_root, "/class/scsi_host/", name, "/");
    host.transport = ReadString(scsi_host + "proc_name");
    if (absl::StartsWith(host.transport, "iscsi_")) {
      host.transport = host.transport.substr(6);
    }
    host.state = ReadString(scsi_host + "state");
    const std::string d =
        absl::StrCat(sysfs_root, "/class/iscsi_host/", name, "/");
    host.ipaddress = ReadString(d + "ipaddress");
    host.hwaddress = ReadString(d + "hwaddress");
    host.netdev = ReadString(d + "netdev");
    host.initiator_name = ReadString(d + "initiatorname");
    hosts.push_back(std::move(host));
  }
  std::sort(hosts.begin(), hosts.end(),
            [](const SysfsHost& a, const SysfsHost& b) {
              return a.host_no < b.host_no;
            });
  return hosts;
}

absl::StatusOr<SysfsSession> ReadSysfsSession(const std::string& sysfs_root,
                                              uint32_t sid,
                                              const ReadSysfsOptions& options) {
  absl::StatusOr<SysfsSession> session =
      ReadSession(sysfs_root, sid, ReadLowestCids(sysfs_root), options);
  if (!session.ok()) {
    return WithExitCode(
        absl::NotFoundError(absl::StrCat("no session with sid ", sid)),
        ExitCode::kSessionNotFound);
  }
  return session;
}

namespace {

std::string OrEmpty(const std::string& value) {
  return value.empty() ? "<empty>" : value;
}

template <typename T>
std::string OrEmpty(const std::optional<T>& value) {
  return value.has_value() ? absl::StrCat(*value) : "<empty>";
}

std::string YesNo(const std::optional<bool>& value) {
  if (!value.has_value()) return "<empty>";
  return *value ? "Yes" : "No";
}

std::string Digest(const std::optional<bool>& crc32c) {
  if (!crc32c.has_value()) return "<empty>";
  return *crc32c ? "CRC32C" : "None";
}

// The kernel's connection states as iscsiadm names them.
std::string ConnectionState(const SysfsSession& s) {
  if (!s.connection.has_value()) return "Unknown";
  const std::string& state = s.connection->state;
  if (state == "up") return "LOGGED IN";
  if (state == "failed") return "TRANSPORT WAIT";
  if (state == "bound") return "IN LOGIN";
  if (state == "down") return "FREE";
  return "Unknown";
}

std::string Tpgt(const SysfsSession& s) {
  return s.tpgt.has_value() ? absl::StrCat(*s.tpgt) : "-1";
}

std::string CurrentPortal(const SysfsSession& s) {
  if (!s.connection.has_value()) return absl::StrCat("<empty>,", Tpgt(s));
  const Portal portal{s.connection->address, s.connection->port.value_or(0)};
  return absl::StrCat(FormatPortal(portal, ':'), ",", Tpgt(s));
}

std::string PersistentPortal(const SysfsSession& s) {
  if (!s.connection.has_value()) return absl::StrCat("<empty>,", Tpgt(s));
  const Portal portal{s.connection->persistent_address,
                      s.connection->persistent_port.value_or(0)};
  return absl::StrCat(FormatPortal(portal, ':'), ",", Tpgt(s));
}

std::string OrDefault(const std::string& value) {
  return value.empty() ? "default" : value;
}

// A section title between two rows of stars (as long as the title, except
// for the devices section, which reuses the previous section's row).
void AppendBanner(std::string& out, absl::string_view title,
                  size_t star_count) {
  const std::string stars(star_count, '*');
  absl::StrAppend(&out, "\t\t", stars, "\n\t\t", title, "\n\t\t", stars, "\n");
}

void AppendTree(std::string& out, const SysfsSession& s,
                const SessionListOptions& options) {
  AppendBanner(out, "Interface:", 10);
  absl::StrAppend(&out, "\t\tIface Name: ", OrEmpty(s.iface_name), "\n");
  absl::StrAppend(&out, "\t\tIface Transport: ", s.transport, "\n");
  absl::StrAppend(&out, "\t\tIface Initiatorname: ", OrEmpty(s.initiator_name),
                  "\n");
  absl::StrAppend(&out, "\t\tIface IPaddress: ", OrEmpty(s.host_ipaddress),
                  "\n");
  absl::StrAppend(&out, "\t\tIface HWaddress: ", OrDefault(s.host_hwaddress),
                  "\n");
  absl::StrAppend(&out, "\t\tIface Netdev: ", OrDefault(s.host_netdev), "\n");
  absl::StrAppend(&out, "\t\tSID: ", s.sid, "\n");
  absl::StrAppend(&out, "\t\tiSCSI Connection State: ", ConnectionState(s),
                  "\n");
  absl::StrAppend(&out, "\t\tiSCSI Session State: ", OrEmpty(s.state), "\n");
  // iscsid's word for a session with no operation of its own in flight.
  absl::StrAppend(&out, "\t\tInternal iscsid Session State: NO CHANGE\n");
  if (options.print_level < 2) return;

  AppendBanner(out, "Timeouts:", 9);
  absl::StrAppend(&out, "\t\tRecovery Timeout: ", OrEmpty(s.recovery_tmo),
                  "\n");
  absl::StrAppend(&out, "\t\tTarget Reset Timeout: ", OrEmpty(s.tgt_reset_tmo),
                  "\n");
  absl::StrAppend(&out, "\t\tLUN Reset Timeout: ", OrEmpty(s.lu_reset_tmo),
                  "\n");
  absl::StrAppend(&out, "\t\tAbort Timeout: ", OrEmpty(s.abort_tmo), "\n");

  AppendBanner(out, "CHAP:", 5);
  const auto secret = [&](const std::string& value) {
    return options.show_secrets ? OrEmpty(value) : std::string("********");
  };
  absl::StrAppend(&out, "\t\tusername: ", OrEmpty(s.username), "\n");
  absl::StrAppend(&out, "\t\tpassword: ", secret(s.password), "\n");
  absl::StrAppend(&out, "\t\tusername_in: ", OrEmpty(s.username_in), "\n");
  absl::StrAppend(&out, "\t\tpassword_in: ", secret(s.password_in), "\n");

  AppendBanner(out, "Negotiated iSCSI params:", 24);
  const std::optional<SysfsConnection>& c = s.connection;
  absl::StrAppend(&out, "\t\tHeaderDigest: ",
                  Digest(c ? c->header_digest : std::nullopt), "\n");
  absl::StrAppend(&out,
                  "\t\tDataDigest: ", Digest(c ? c->data_digest : std::nullopt),
                  "\n");
  absl::StrAppend(&out, "\t\tMaxRecvDataSegmentLength: ",
                  OrEmpty(c ? c->max_recv_dlength : std::nullopt), "\n");
  absl::StrAppend(&out, "\t\tMaxXmitDataSegmentLength: ",
                  OrEmpty(c ? c->max_xmit_dlength : std::nullopt), "\n");
  absl::StrAppend(&out, "\t\tFirstBurstLength: ", OrEmpty(s.first_burst_len),
                  "\n");
  absl::StrAppend(&out, "\t\tMaxBurstLength: ", OrEmpty(s.max_burst_len), "\n");
  absl::StrAppend(&out, "\t\tImmediateData: ", YesNo(s.immediate_data), "\n");
  absl::StrAppend(&out, "\t\tInitialR2T: ", YesNo(s.initial_r2t), "\n");
  absl::StrAppend(
      &out, "\t\tMaxOutstandingR2T: ", OrEmpty(s.max_outstanding_r2t), "\n");
  if (options.print_level < 3) return;

  AppendBanner(out, "Attached SCSI devices:", 24);
  const std::string host =
      s.host_no.has_value() ? absl::StrCat(*s.host_no) : "<empty>";
  absl::StrAppend(&out, "\t\tHost Number: ", host,
                  "\tState: ", OrEmpty(s.host_state), "\n");
  for (const SysfsDevice& device : s.devices) {
    absl::StrAppend(
        &out,
        absl::StrFormat("\t\tscsi%u Channel %02u Id %u Lun: %u\n", device.host,
                        device.channel, device.id, device.lun));
    if (!device.block.empty()) {
      absl::StrAppend(&out, "\t\t\tAttached scsi disk ", device.block,
                      "\t\tState: ", OrEmpty(device.state), "\n");
    }
  }
}

}  // namespace

std::string FormatSessionList(const std::vector<SysfsSession>& sessions,
                              const SessionListOptions& options) {
  std::string out;
  if (options.print_level <= 0) {
    std::vector<const SysfsSession*> by_sid;
    for (const SysfsSession& s : sessions) by_sid.push_back(&s);
    std::sort(by_sid.begin(), by_sid.end(),
              [](const SysfsSession* a, const SysfsSession* b) {
                return a->sid < b->sid;
              });
    for (const SysfsSession* s : by_sid) {
      absl::StrAppend(&out, s->transport, ": [", s->sid, "] ",
                      PersistentPortal(*s), " ", s->target_name,
                      " (non-flash)\n");
    }
    return out;
  }
  // Trees: one Target line per target, portal lines when the portal changes.
  // Targets come in the order of their first session, as iscsiadm lists
  // them.
  absl::flat_hash_map<std::string, uint32_t> first_sid;
  for (const SysfsSession& s : sessions) {
    auto [it, added] = first_sid.try_emplace(s.target_name, s.sid);
    if (!added) it->second = std::min(it->second, s.sid);
  }
  std::vector<const SysfsSession*> sorted;
  for (const SysfsSession& s : sessions) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(),
            [&first_sid](const SysfsSession* a, const SysfsSession* b) {
              const uint32_t fa = first_sid.at(a->target_name);
              const uint32_t fb = first_sid.at(b->target_name);
              const std::string pa = CurrentPortal(*a);
              const std::string pb = CurrentPortal(*b);
              return std::tie(fa, a->target_name, pa, a->sid) <
                     std::tie(fb, b->target_name, pb, b->sid);
            });
  const SysfsSession* previous = nullptr;
  for (const SysfsSession* s : sorted) {
    const bool new_target =
        previous == nullptr || previous->target_name != s->target_name;
    if (new_target) {
      absl::StrAppend(&out, "Target: ", s->target_name, " (non-flash)\n");
    }
    if (new_target || CurrentPortal(*previous) != CurrentPortal(*s) ||
        PersistentPortal(*previous) != PersistentPortal(*s)) {
      absl::StrAppend(&out, "\tCurrent Portal: ", CurrentPortal(*s), "\n");
      absl::StrAppend(&out, "\tPersistent Portal: ", PersistentPortal(*s),
                      "\n");
    }
    AppendTree(out, *s, options);
    previous = s;
  }
  return out;
}

std::string FormatHostList(const std::vector<SysfsHost>& hosts,
                           int print_level) {
  // iscsiadm brackets an IPv6 address and prints "<empty>" for what is unset.
  auto address = [](const std::string& ip) {
    if (ip.empty()) return std::string("<empty>");
    return ip.find('.') != std::string::npos ? ip : absl::StrCat("[", ip, "]");
  };
  std::string out;
  for (const SysfsHost& h : hosts) {
    if (print_level <= 0) {
      absl::StrAppend(&out, OrEmpty(h.transport), ": [", h.host_no, "] ",
                      address(h.ipaddress), ",[", OrEmpty(h.hwaddress), "],",
                      OrEmpty(h.netdev), " ", OrEmpty(h.initiator_name), "\n");
      continue;
    }
    absl::StrAppend(&out, "Host Number: ", h.host_no, "\n");
    absl::StrAppend(&out, "\tState: ", h.state.empty() ? "Unknown" : h.state,
                    "\n");
    absl::StrAppend(&out, "\tTransport: ", OrEmpty(h.transport), "\n");
    absl::StrAppend(&out, "\tInitiatorname: ", OrEmpty(h.initiator_name), "\n");
    absl::StrAppend(&out, "\tIPaddress: ", address(h.ipaddress), "\n");
    absl::StrAppend(&out, "\tHWaddress: ", OrEmpty(h.hwaddress), "\n");
    absl::StrAppend(&out, "\tNetdev: ", OrEmpty(h.netdev), "\n");
  }
  return out;
}

}  // namespace kiscsi
