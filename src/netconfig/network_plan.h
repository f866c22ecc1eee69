// The network plan of `kiscsistart -N`: what to configure so that the
// targets of the iSCSI boot firmware table can be reached, as `iscsistart -N`
// does and a little more. PlanFirmwareNetwork() is pure (no I/O) and makes
// every check and decision; firmware_network.h applies the plan.
//
//   ASSIGN_OR_RETURN(NetworkPlan plan, PlanFirmwareNetwork(entries));
//   for (const InterfacePlan& i : plan.interfaces) ... i.device, i.routes
//
// What is planned, per NIC used by a target (one plan per net_device + VLAN,
// in the order the targets name them):
//  * the link: the NIC's network device, brought up; with a VLAN id, a VLAN
//    device on it, brought up too. An existing VLAN device with that id on
//    that parent is used whatever its name (open-iscsi only does that and
//    fails when there is none); otherwise "<dev>.<vid>" is created
//    ("vlan<vid>" when that name would not fit in IFNAMSIZ).
//  * the address with its prefix (IPv4 or IPv6): the prefix length, or for
//    IPv4 without one the subnet mask. IPv6 addresses are added without
//    duplicate address detection: the firmware used the address already and
//    a tentative address would delay the login.
//  * a host route (/32 or /128) to each target's address through this NIC:
//    direct (scope link) when the target is in the NIC's subnet, else via the
//    gateway (marked onlink when the gateway is outside the subnet). These
//    replace an existing route to the same address, so that iSCSI traffic
//    goes out through the NIC the firmware booted from. When two NICs name
//    the same target address, the first NIC keeps the route.
//  * beyond open-iscsi: a default route via the gateway, when the table has
//    one that is not zero, for the first NIC (of each address family) that
//    has one. An existing default route is left as it is.
//  Not done, as open-iscsi does not do them either: DHCP, DNS.
//
// Decisions on odd tables: entries from an offload driver's table (source
// "iscsi_boot<N>", not "ibft") are skipped with a note, their NIC is set up by
// the offload driver, not by the host's network stack. Everything else that
// cannot be configured is an error naming the NIC and its MAC: no network
// device with that MAC; no IP address (origin DHCP: kiscsistart does not run
// DHCP, ExitCode kOperationNotSupported); no prefix; a target in another
// address family than its NIC's address; a target outside the subnet with no
// gateway.
#ifndef KISCSI_SRC_NETCONFIG_NETWORK_PLAN_H_
#define KISCSI_SRC_NETCONFIG_NETWORK_PLAN_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "conf/boot_firmware.h"

namespace kiscsi::netconfig {

// An IPv4 or IPv6 address in network byte order.
struct IpAddress {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // the first 4 for AF_INET

  // Parses "10.0.2.15", "fd00::1" or any IPv6 text; an IPv4-mapped IPv6
  // address ("::ffff:10.0.2.15") gives the IPv4 address.
  static std::optional<IpAddress> Parse(std::string_view text);

  int max_prefix_length() const { return family == AF_INET6 ? 128 : 32; }
  int size() const { return family == AF_INET6 ? 16 : 4; }
  bool IsZero() const;
  // Whether this and `other` share their first `prefix_length` bits.
  bool SameSubnet(const IpAddress& other, int prefix_length) const;
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct RoutePlan {
  IpAddress destination;
  int prefix_length = 0;  // 32 or 128 for a host route, 0 for the default
  std::optional<IpAddress> gateway;  // none: directly on the link
  bool scope_link = false;           // IPv4 direct routes
  bool onlink = false;               // the gateway is outside the NIC's subnet
  // true: NLM_F_REPLACE (host routes to targets); false: an existing route
  // is kept (the default route).
  bool replace = true;

  // "10.0.2.2/32 dev eth0 scope link", "default via 10.0.2.2 dev eth0", as
  // `ip route` would write it.
  std::string Describe(std::string_view device) const;
};

// One NIC of the table, as it is to be configured.
struct InterfacePlan {
  std::string nic_id;  // "ethernet0"
  std::string mac;
  // The device that gets the address and the routes: "eth0", or the VLAN
  // device "eth0.100" when vlan_id != 0.
  std::string device;
  std::string parent_device;  // with a VLAN: "eth0"; else empty
  int vlan_id = 0;
  IpAddress address;
  int prefix_length = 0;
  std::vector<RoutePlan> routes;        // host routes first, then the default
  std::vector<std::string> target_ids;  // "target0", ... served by this NIC
};

struct NetworkPlan {
  std::vector<InterfacePlan> interfaces;
  // Lines about entries that were skipped on purpose.
  std::vector<std::string> notes;
};

// The plan for the entries of ReadBootFirmware(). Errors as described at the
// top of this file; an empty `entries` gives an empty plan.
absl::StatusOr<NetworkPlan> PlanFirmwareNetwork(
    const std::vector<conf::FirmwareBootEntry>& entries);

}  // namespace kiscsi::netconfig

#endif  // KISCSI_SRC_NETCONFIG_NETWORK_PLAN_H_
