#include "src/node/node_selector.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "src/base/status_macros.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

std::string_view StripBrackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

// Whether the -p text names a port: after any ",TPGT", "[v6]:PORT" or
// "HOST:PORT" (a bare IPv6 address has more than one colon and no port).
bool PortalNamesPort(std::string_view portal) {
  portal = portal.substr(0, portal.find(','));
  if (!portal.empty() && portal.front() == '[') {
    return portal.find("]:") != std::string_view::npos;
  }
  const size_t colon = portal.find(':');
  return colon != std::string_view::npos && colon == portal.rfind(':');
}

}  // namespace

bool SameAddress(std::string_view a, std::string_view b) {
  const std::string left(StripBrackets(a));
  const std::string right(StripBrackets(b));
  for (const int family : {AF_INET, AF_INET6}) {
    in6_addr left_bytes{};
    in6_addr right_bytes{};
    if (inet_pton(family, left.c_str(), &left_bytes) == 1 &&
        inet_pton(family, right.c_str(), &right_bytes) == 1) {
      return std::memcmp(&left_bytes, &right_bytes, sizeof(in6_addr)) == 0;
    }
  }
  return left == right;
}

std::string SessionIface(const SysfsSession& session) {
  return session.iface_name.empty() ? "default" : session.iface_name;
}

bool NodeMatches(const conf::NodeFilter& filter, const conf::NodeKey& key) {
  return (!filter.target_name.has_value() ||
          *filter.target_name == key.target_name) &&
         (!filter.address.has_value() ||
          SameAddress(*filter.address, key.address)) &&
         (!filter.port.has_value() || *filter.port == key.port) &&
         (!filter.tpgt.has_value() || *filter.tpgt == key.tpgt) &&
         (!filter.iface.has_value() || *filter.iface == key.iface);
}

bool SessionMatches(const conf::NodeFilter& filter,
                    const SysfsSession& session) {
  if (filter.target_name.has_value() &&
      *filter.target_name != session.target_name) {
    return false;
  }
  if (filter.iface.has_value() && *filter.iface != SessionIface(session)) {
    return false;
  }
  if (filter.tpgt.has_value() &&
      (!session.tpgt.has_value() ||
       static_cast<int>(*session.tpgt) != *filter.tpgt)) {
    return false;
  }
  if (!filter.address.has_value() && !filter.port.has_value()) return true;
  if (!session.connection.has_value()) return false;
  const SysfsConnection& connection = *session.connection;
  return (!filter.address.has_value() ||
          SameAddress(*filter.address, connection.persistent_address)) &&
         (!filter.port.has_value() ||
          *filter.port == connection.persistent_port.value_or(3260));
}

absl::StatusOr<conf::NodeFilter> NodeFilterFromArgs(
    const std::optional<std::string>& target,
    const std::optional<std::string>& portal,
    const std::optional<std::string>& iface) {
  conf::NodeFilter filter;
  filter.target_name = target;
  filter.iface = iface;
  if (portal.has_value()) {
    ASSIGN_OR_RETURN(PortalSpec spec, ParsePortalSpec(*portal));
    filter.address = spec.portal.address;
    if (PortalNamesPort(*portal)) filter.port = spec.portal.port;
    if (spec.tpgt.has_value()) filter.tpgt = *spec.tpgt;
  }
  return filter;
}

}  // namespace kiscsi
