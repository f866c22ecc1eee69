#include "src/netconfig/firmware_network.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi::netconfig {
namespace {

struct SocketFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct NlAddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using Socket = std::unique_ptr<nl_sock, SocketFree>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<rtnl_addr, AddrPut>;
using Route = std::unique_ptr<rtnl_route, RoutePut>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;

// A libnl error (a negative NLE_* code) as a Status naming `what`.
absl::Status NlStatus(int error, std::string_view what) {
  std::string message =
      absl::StrCat(std::string(what), ": ", nl_geterror(error));
  switch (-error) {
    case NLE_PERM:
    case NLE_NOACCESS:
      return WithExitCode(absl::PermissionDeniedError(message),
                          ExitCode::kAccessDenied);
    case NLE_NODEV:
    case NLE_OBJ_NOTFOUND:
      return absl::NotFoundError(message);
    case NLE_NOMEM:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::UnknownError(message);
  }
}

bool IsExists(int error) { return -error == NLE_EXIST; }

NlAddr BuildAddress(const IpAddress& address, int prefix_length) {
  NlAddr result(nl_addr_build(address.family, address.bytes.data(),
                              static_cast<size_t>(address.size())));
  if (result) nl_addr_set_prefixlen(result.get(), prefix_length);
  return result;
}

absl::StatusOr<Socket> Connect() {
  Socket socket(nl_socket_alloc());
  if (!socket) return absl::ResourceExhaustedError("nl_socket_alloc");
  int error = nl_connect(socket.get(), NETLINK_ROUTE);
  if (error < 0) return NlStatus(error, "cannot open an rtnetlink socket");
  return socket;
}

absl::StatusOr<Link> GetLink(nl_sock* socket, const std::string& name) {
  rtnl_link* link = nullptr;
  int error = rtnl_link_get_kernel(socket, 0, name.c_str(), &link);
  if (error < 0) {
    return NlStatus(error, absl::StrCat("no network interface ", name));
  }
  return Link(link);
}

// Sets IFF_UP on `name` unless it is up already.
absl::StatusOr<Link> BringUp(
    nl_sock* socket, const std::string& name,
    const std::function<void(std::string_view)>& report) {
  ASSIGN_OR_RETURN(Link link, GetLink(socket, name));
  if (rtnl_link_get_flags(link.get()) & IFF_UP) {
    report(absl::StrCat("  ", name, ": already up"));
    return link;
  }
  Link change(rtnl_link_alloc());
  if (!change) return absl::ResourceExhaustedError("rtnl_link_alloc");
  rtnl_link_set_flags(change.get(), IFF_UP);
  int error = rtnl_link_change(socket, link.get(), change.get(), 0);
  if (error < 0) {
    return NlStatus(error, absl::StrCat(name, ": cannot bring it up"));
  }
  report(absl::StrCat("  ", name, ": brought up"));
  return GetLink(socket, name);
}

// The name of an existing VLAN device with `vlan_id` on `parent_index`, or
// "" when there is none.
absl::StatusOr<std::string> FindVlan(nl_sock* socket, int parent_index,
                                     int vlan_id) {
  nl_cache* raw = nullptr;
  int error = rtnl_link_alloc_cache(socket, AF_UNSPEC, &raw);
  if (error < 0) return NlStatus(error, "cannot list the network interfaces");
  Cache cache(raw);
  for (nl_object* object = nl_cache_get_first(cache.get()); object != nullptr;
       object = nl_cache_get_next(object)) {
    auto* link = reinterpret_cast<rtnl_link*>(object);
    if (rtnl_link_is_vlan(link) && rtnl_link_get_link(link) == parent_index &&
        rtnl_link_vlan_get_id(link) == vlan_id) {
      const char* name = rtnl_link_get_name(link);
      return std::string(name == nullptr ? "" : name);
    }
  }
  return std::string();
}

// The device that gets the address: the plan's device, or its VLAN device,
// found or created; brought up.
absl::StatusOr<Link> SetUpLink(
    nl_sock* socket, const InterfacePlan& plan,
    const std::function<void(std::string_view)>& report) {
  if (plan.vlan_id == 0) return BringUp(socket, plan.device, report);

  ASSIGN_OR_RETURN(Link parent, BringUp(socket, plan.parent_device, report));
  int parent_index = rtnl_link_get_ifindex(parent.get());
  ASSIGN_OR_RETURN(std::string existing,
                   FindVlan(socket, parent_index, plan.vlan_id));
  std::string vlan_text =
      absl::StrCat("VLAN ", plan.vlan_id, " on ", plan.parent_device);
  if (!existing.empty()) {
    report(absl::StrCat("  ", existing, ": ", vlan_text, ", exists"));
    return BringUp(socket, existing, report);
  }
  Link vlan(rtnl_link_vlan_alloc());
  if (!vlan) return absl::ResourceExhaustedError("rtnl_link_vlan_alloc");
  rtnl_link_set_link(vlan.get(), parent_index);
  rtnl_link_set_name(vlan.get(), plan.device.c_str());
  int error = rtnl_link_vlan_set_id(vlan.get(), plan.vlan_id);
  if (error >= 0) {
    error = rtnl_link_add(socket, vlan.get(), NLM_F_CREATE | NLM_F_EXCL);
  }
  if (error < 0) {
    if (IsExists(error)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "cannot create ", plan.device, " as ", vlan_text,
          ": a network interface of that name exists and is not that VLAN"));
    }
    return NlStatus(
        error, absl::StrCat("cannot create ", plan.device, " as ", vlan_text,
                            " (is the 8021q module loaded?)"));
  }
  report(absl::StrCat("  ", plan.device, ": created as ", vlan_text));
  return BringUp(socket, plan.device, report);
}

absl::Status AddAddress(nl_sock* socket, int ifindex, const std::string& device,
                        const InterfacePlan& plan,
                        const std::function<void(std::string_view)>& report) {
  std::string text =
      absl::StrCat(plan.address.ToString(), "/", plan.prefix_length);
  Addr addr(rtnl_addr_alloc());
  NlAddr local = BuildAddress(plan.address, plan.prefix_length);
  if (!addr || !local) return absl::ResourceExhaustedError("rtnl_addr_alloc");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), plan.address.family);
  int error = rtnl_addr_set_local(addr.get(), local.get());
  if (error < 0) return NlStatus(error, "rtnl_addr_set_local");
  rtnl_addr_set_prefixlen(addr.get(), plan.prefix_length);
  if (plan.address.family == AF_INET && plan.prefix_length < 31) {
    IpAddress broadcast = plan.address;
    for (int bit = plan.prefix_length; bit < 32; ++bit) {
      broadcast.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    NlAddr brd = BuildAddress(broadcast, 32);
    if (!brd) return absl::ResourceExhaustedError("nl_addr_build");
    rtnl_addr_set_broadcast(addr.get(), brd.get());
  }
  if (plan.address.family == AF_INET6) {
    rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  }
  error = rtnl_addr_add(socket, addr.get(), NLM_F_EXCL);
  if (IsExists(error)) {
    report(absl::StrCat("  ", device, ": address ", text, " already set"));
    return absl::OkStatus();
  }
  if (error < 0) {
    return NlStatus(error, absl::StrCat(device, ": cannot add address ", text));
  }
  report(absl::StrCat("  ", device, ": address ", text, " added"));
  return absl::OkStatus();
}

absl::Status AddRoute(nl_sock* socket, int ifindex, const std::string& device,
                      const RoutePlan& plan,
                      const std::function<void(std::string_view)>& report) {
  std::string text = plan.Describe(device);
  Route route(rtnl_route_alloc());
  NlAddr destination = BuildAddress(plan.destination, plan.prefix_length);
  if (!route || !destination) {
    return absl::ResourceExhaustedError("rtnl_route_alloc");
  }
  rtnl_route_set_family(route.get(),
                        static_cast<uint8_t>(plan.destination.family));
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_scope(route.get(),
                       plan.scope_link ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  int error = rtnl_route_set_dst(route.get(), destination.get());
  if (error < 0) return NlStatus(error, "rtnl_route_set_dst");

  rtnl_nexthop* nexthop = rtnl_route_nh_alloc();
  if (nexthop == nullptr) return absl::ResourceExhaustedError("nh_alloc");
  rtnl_route_nh_set_ifindex(nexthop, ifindex);
  if (plan.gateway) {
    NlAddr gateway =
        BuildAddress(*plan.gateway, plan.gateway->max_prefix_length());
    if (!gateway) {
      rtnl_route_nh_free(nexthop);
      return absl::ResourceExhaustedError("nl_addr_build");
    }
    rtnl_route_nh_set_gateway(nexthop, gateway.get());
  }
  if (plan.onlink) rtnl_route_nh_set_flags(nexthop, RTNH_F_ONLINK);
  rtnl_route_add_nexthop(route.get(), nexthop);  // the route owns it now

  error = rtnl_route_add(socket, route.get(),
                         plan.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  if (!plan.replace && IsExists(error)) {
    report(absl::StrCat(
        "  route ", text, ": ",
        plan.prefix_length == 0 ? "a default route" : "a route to it",
        " exists, left as it is"));
    return absl::OkStatus();
  }
  if (error < 0) {
    return NlStatus(error, absl::StrCat("cannot add route ", text));
  }
  report(absl::StrCat("  route ", text, plan.replace ? " set" : " added"));
  return absl::OkStatus();
}

absl::Status ApplyInterface(
    nl_sock* socket, const InterfacePlan& plan,
    const std::function<void(std::string_view)>& report) {
  ASSIGN_OR_RETURN(Link link, SetUpLink(socket, plan, report));
  int ifindex = rtnl_link_get_ifindex(link.get());
  const char* name = rtnl_link_get_name(link.get());
  std::string device = name == nullptr ? plan.device : std::string(name);
  RETURN_IF_ERROR(AddAddress(socket, ifindex, device, plan, report));
  for (const RoutePlan& route : plan.routes) {
    RETURN_IF_ERROR(AddRoute(socket, ifindex, device, route, report));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyNetworkPlan(
    const NetworkPlan& plan,
    const std::function<void(std::string_view line)>& report) {
  for (const std::string& note : plan.notes) report(note);
  if (plan.interfaces.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Socket socket, Connect());
  absl::Status first_error;
  for (const InterfacePlan& interface : plan.interfaces) {
    report(absl::StrCat("Setting up software interface ", interface.device));
    absl::Status status = ApplyInterface(socket.get(), interface, report);
    if (!status.ok()) {
      report(absl::StrCat("Setting up software interface ", interface.device,
                          " failed"));
      if (first_error.ok()) first_error = status;
    }
  }
  return first_error;
}

absl::StatusOr<std::vector<std::string>> ApplyNetworkPlan(
    const NetworkPlan& plan) {
  std::vector<std::string> lines;
  RETURN_IF_ERROR(ApplyNetworkPlan(
      plan, [&lines](std::string_view line) { lines.emplace_back(line); }));
  return lines;
}

absl::Status BringUpFirmwareNetwork(
    const std::vector<conf::FirmwareBootEntry>& entries, std::ostream& out) {
  if (entries.empty()) {
    out << "Could not setup fw entries.\n";
    return WithExitCode(
        absl::NotFoundError("the boot firmware table names no target"),
        ExitCode::kNoObjectsFound);
  }
  ASSIGN_OR_RETURN(NetworkPlan plan, PlanFirmwareNetwork(entries));
  absl::Status status = ApplyNetworkPlan(
      plan, [&out](std::string_view line) { out << line << '\n'; });
  out.flush();
  return status;
}

}  // namespace kiscsi::netconfig
