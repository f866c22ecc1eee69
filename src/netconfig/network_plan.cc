#include "src/netconfig/network_plan.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi::netconfig {
namespace {

constexpr std::string_view kOffloadSourcePrefix = "iscsi_boot";
constexpr int kDhcpOrigin = 3;
constexpr int kVlanIdMask = 0x0fff;  // the VID bits of an 802.1Q tag
constexpr int kReservedVlanId = 0x0fff;

// "ethernet0 (MAC 52:54:00:12:34:56)" for messages.
std::string NicName(const conf::FirmwareNic& nic) {
  return absl::StrCat(nic.id.empty() ? "the NIC" : nic.id, " (MAC ",
                      nic.mac.empty() ? "unknown" : nic.mac, ")");
}

std::string TargetName(const conf::FirmwareTarget& target) {
  return target.id.empty() ? std::string("a target") : target.id;
}

absl::Status Invalid(const std::string& message) {
  return InvalidParameterError(message);
}

// As open-iscsi decides iface.bootproto = DHCP (conf::FirmwareNic::UsesDhcp
// states the same rule; kept here so that planning needs no more of conf).
bool NicUsesDhcp(const conf::FirmwareNic& nic) {
  if (nic.origin == kDhcpOrigin) return true;
  if (nic.dhcp_server.empty()) return false;
  std::optional<IpAddress> server = IpAddress::Parse(nic.dhcp_server);
  return !server || !server->IsZero();
}

// The prefix length of a contiguous IPv4 mask, or nullopt.
std::optional<int> PrefixOfMask(std::string_view text) {
  std::optional<IpAddress> mask = IpAddress::Parse(text);
  if (!mask || mask->family != AF_INET) return std::nullopt;
  uint32_t bits = (uint32_t{mask->bytes[0]} << 24) |
                  (uint32_t{mask->bytes[1]} << 16) |
                  (uint32_t{mask->bytes[2]} << 8) | uint32_t{mask->bytes[3]};
  int prefix = 0;
  while (prefix < 32 && (bits & (uint32_t{1} << (31 - prefix)))) ++prefix;
  uint32_t expected = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  if (bits != expected) return std::nullopt;
  return prefix;
}

bool IsIpv6LinkLocal(const IpAddress& address) {
  return address.family == AF_INET6 && address.bytes[0] == 0xfe &&
         (address.bytes[1] & 0xc0) == 0x80;
}

std::string VlanDeviceName(const std::string& parent, int vlan_id) {
  std::string name = absl::StrCat(parent, ".", vlan_id);
  if (name.size() < IFNAMSIZ) return name;
  return absl::StrCat("vlan", vlan_id);
}

// The address, prefix, gateway and link of one NIC.
absl::StatusOr<InterfacePlan> PlanInterface(const conf::FirmwareNic& nic) {
  InterfacePlan plan;
  plan.nic_id = nic.id;
  plan.mac = nic.mac;

  std::optional<IpAddress> address;
  if (!nic.ip_address.empty()) {
    address = IpAddress::Parse(nic.ip_address);
    if (!address) {
      return Invalid(absl::StrCat(NicName(nic), " has an IP address that is ",
                                  "not one: \"", nic.ip_address, "\""));
    }
  }
  if (!address || address->IsZero()) {
    if (NicUsesDhcp(nic)) {
      return WithExitCode(
          absl::UnimplementedError(absl::StrCat(
              NicName(nic), " on ", nic.net_device,
              " got its address by DHCP and the boot firmware table holds ",
              "none: kiscsistart does not run DHCP (neither does ",
              "iscsistart); configure ", nic.net_device,
              " first, e.g. with the initramfs's DHCP client, and log in ",
              "without -N")),
          ExitCode::kOperationNotSupported);
    }
    return Invalid(absl::StrCat(NicName(nic), " on ", nic.net_device,
                                " has no IP address in the boot firmware ",
                                "table: nothing to configure"));
  }
  plan.address = *address;

  if (nic.prefix_length > 0) {
    if (nic.prefix_length > address->max_prefix_length()) {
      return Invalid(absl::StrCat(NicName(nic), " has prefix length ",
                                  nic.prefix_length, ", too long for ",
                                  address->ToString()));
    }
    plan.prefix_length = nic.prefix_length;
  } else if (address->family == AF_INET && !nic.subnet_mask.empty()) {
    std::optional<int> prefix = PrefixOfMask(nic.subnet_mask);
    if (!prefix || *prefix == 0) {
      return Invalid(absl::StrCat(NicName(nic), " has subnet mask \"",
                                  nic.subnet_mask,
                                  "\", which is not a netmask"));
    }
    plan.prefix_length = *prefix;
  } else {
    return Invalid(absl::StrCat(NicName(nic), " has address ",
                                address->ToString(),
                                " but no prefix length or subnet mask"));
  }

  int vlan_id = nic.vlan & kVlanIdMask;
  if (vlan_id == kReservedVlanId) {
    return Invalid(absl::StrCat(NicName(nic), " has VLAN id ", vlan_id,
                                ", which is reserved"));
  }
  if (vlan_id != 0) {
    plan.parent_device = nic.net_device;
    plan.vlan_id = vlan_id;
    plan.device = VlanDeviceName(nic.net_device, vlan_id);
  } else {
    plan.device = nic.net_device;
  }
  return plan;
}

// The gateway of `nic` when it has one that is not zero.
absl::StatusOr<std::optional<IpAddress>> PlanGateway(
    const conf::FirmwareNic& nic, const IpAddress& address) {
  if (nic.gateway.empty()) return std::optional<IpAddress>();
  std::optional<IpAddress> gateway = IpAddress::Parse(nic.gateway);
  if (!gateway) {
    return Invalid(absl::StrCat(NicName(nic), " has a gateway that is not an ",
                                "IP address: \"", nic.gateway, "\""));
  }
  if (gateway->IsZero()) return std::optional<IpAddress>();
  if (gateway->family != address.family) {
    return Invalid(absl::StrCat(
        NicName(nic), " has gateway ", gateway->ToString(), " for address ",
        address.ToString(), ", of another address family"));
  }
  return gateway;
}

// Where one interface plan is being built.
struct PendingInterface {
  InterfacePlan plan;
  std::optional<IpAddress> gateway;
  bool gateway_onlink = false;
  bool boot_selected = false;
};

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string copy(text);
  IpAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET;
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET6;
    static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                                  0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(address.bytes.data(), kMappedPrefix, 12) == 0) {
      IpAddress v4;
      v4.family = AF_INET;
      std::copy(address.bytes.begin() + 12, address.bytes.end(),
                v4.bytes.begin());
      return v4;
    }
    return address;
  }
  return std::nullopt;
}

bool IpAddress::IsZero() const {
  return std::all_of(bytes.begin(), bytes.begin() + size(),
                     [](uint8_t b) { return b == 0; });
}

bool IpAddress::SameSubnet(const IpAddress& other, int prefix_length) const {
  if (family != other.family) return false;
  prefix_length = std::clamp(prefix_length, 0, max_prefix_length());
  int whole = prefix_length / 8;
  if (!std::equal(bytes.begin(), bytes.begin() + whole, other.bytes.begin())) {
    return false;
  }
  int rest = prefix_length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[whole] & mask) == (other.bytes[whole] & mask);
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family != AF_INET && family != AF_INET6) return "(none)";
  inet_ntop(family, bytes.data(), text, sizeof(text));
  return text;
}

std::string RoutePlan::Describe(std::string_view device) const {
  std::string text = prefix_length == 0 ? std::string("default")
                                        : absl::StrCat(destination.ToString(),
                                                       "/", prefix_length);
  if (gateway) absl::StrAppend(&text, " via ", gateway->ToString());
  absl::StrAppend(&text, " dev ", std::string(device));
  if (scope_link) absl::StrAppend(&text, " scope link");
  if (onlink) absl::StrAppend(&text, " onlink");
  return text;
}

absl::StatusOr<NetworkPlan> PlanFirmwareNetwork(
    const std::vector<conf::FirmwareBootEntry>& entries) {
  NetworkPlan result;
  std::vector<PendingInterface> pending;
  // (net_device, VLAN id, address text) -> index in `pending`.
  std::vector<std::tuple<std::string, int, std::string>> keys;
  std::set<std::pair<int, std::array<uint8_t, 16>>> routed_targets;

  for (const conf::FirmwareBootEntry& entry : entries) {
    const conf::FirmwareNic& nic = entry.nic;
    if (entry.source.starts_with(kOffloadSourcePrefix)) {
      result.notes.push_back(absl::StrCat(
          "Skipping ", TargetName(entry.target), " of ", entry.source, ": ",
          NicName(nic), " is an offload interface, its driver sets it up"));
      continue;
    }
    if (nic.net_device.empty()) {
      return WithExitCode(
          absl::NotFoundError(absl::StrCat(
              "no network interface has MAC ",
              nic.mac.empty() ? "(none given)" : nic.mac, ": cannot set up ",
              nic.id.empty() ? "the boot firmware's NIC" : nic.id, " for ",
              TargetName(entry.target),
              " (is the network driver loaded, or the MAC changed?)")),
          ExitCode::kSysfsLookup);
    }

    auto key =
        std::make_tuple(nic.net_device, nic.vlan & kVlanIdMask, nic.ip_address);
    auto found = std::find(keys.begin(), keys.end(), key);
    size_t index = found - keys.begin();
    if (found == keys.end()) {
      PendingInterface p;
      ASSIGN_OR_RETURN(p.plan, PlanInterface(nic));
      ASSIGN_OR_RETURN(p.gateway, PlanGateway(nic, p.plan.address));
      p.gateway_onlink =
          p.gateway &&
          !p.gateway->SameSubnet(p.plan.address, p.plan.prefix_length) &&
          !IsIpv6LinkLocal(*p.gateway);
      pending.push_back(std::move(p));
      keys.push_back(key);
    }
    PendingInterface& p = pending[index];
    p.boot_selected = p.boot_selected || nic.boot_selected();
    p.plan.target_ids.push_back(entry.target.id);

    std::optional<IpAddress> target = IpAddress::Parse(entry.target.ip_address);
    if (!target || target->IsZero()) {
      return Invalid(absl::StrCat(TargetName(entry.target),
                                  " has no usable IP address: \"",
                                  entry.target.ip_address, "\""));
    }
    if (target->family != p.plan.address.family) {
      return Invalid(absl::StrCat(
          TargetName(entry.target), " has address ", target->ToString(),
          " but its NIC ", NicName(nic), " has ", p.plan.address.ToString(),
          ", of another address family"));
    }
    if (!routed_targets.emplace(target->family, target->bytes).second) {
      continue;  // a route to this address is planned already
    }
    RoutePlan route;
    route.destination = *target;
    route.prefix_length = target->max_prefix_length();
    route.replace = true;
    if (target->SameSubnet(p.plan.address, p.plan.prefix_length)) {
      route.scope_link = target->family == AF_INET;
    } else if (p.gateway) {
      route.gateway = p.gateway;
      route.onlink = p.gateway_onlink;
    } else {
      return Invalid(
          absl::StrCat(TargetName(entry.target), " at ", target->ToString(),
                       " is outside the subnet of ", NicName(nic), " (",
                       p.plan.address.ToString(), "/", p.plan.prefix_length,
                       ") and the NIC has no gateway"));
    }
    p.plan.routes.push_back(std::move(route));
  }

  // One default route per address family: the boot-selected NIC's gateway,
  // else the first NIC's with a gateway.
  for (int family : {AF_INET, AF_INET6}) {
    PendingInterface* chosen = nullptr;
    for (PendingInterface& p : pending) {
      if (!p.gateway || p.gateway->family != family) continue;
      if (chosen == nullptr || (p.boot_selected && !chosen->boot_selected)) {
        chosen = &p;
      }
    }
    if (chosen == nullptr) continue;
    RoutePlan route;
    route.destination.family = family;
    route.prefix_length = 0;
    route.gateway = chosen->gateway;
    route.onlink = chosen->gateway_onlink;
    route.replace = false;
    chosen->plan.routes.push_back(std::move(route));
  }

  for (PendingInterface& p : pending) {
    result.interfaces.push_back(std::move(p.plan));
  }
  return result;
}

}  // namespace kiscsi::netconfig
