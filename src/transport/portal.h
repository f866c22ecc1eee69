// Network portals (an address and a TCP port) and iscsiadm's `-p` syntax for
// naming one.
//
// ParsePortalSpec accepts what iscsiadm accepts after -p (and what a
// SendTargets TargetAddress value looks like): `IP[:PORT][,TPGT]`,
// `[IPv6][:PORT][,TPGT]`, a bare IPv6 address (no port then), or a host name.
// FormatPortal prints a portal the ways iscsiadm does.
#ifndef KISCSI_SRC_TRANSPORT_PORTAL_H_
#define KISCSI_SRC_TRANSPORT_PORTAL_H_

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiscsi {

struct Portal {
  std::string address;  // IPv4 or IPv6 literal (no brackets) or a host name
  uint16_t port = 3260;
  bool operator==(const Portal&) const = default;
};

struct PortalSpec {
  Portal portal;
  std::optional<uint16_t> tpgt;  // the ",TPGT" suffix, when given
};

// Errors are InvalidArgument with ExitCode::kInvalid and name the offending
// text.
absl::StatusOr<PortalSpec> ParsePortalSpec(absl::string_view spec);

// "127.0.0.1:3260" / "[fd00::1]:3260" with sep ':'; "127.0.0.1,3260" /
// "fd00::1,3260" with sep ',' (the form of iscsiadm's login lines and of node
// database paths).
std::string FormatPortal(const Portal& portal, char sep);

// One address a portal resolves to, ready for socket() and connect().
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
};

// The portal's addresses (IPv4/IPv6 literals, or a host name, which resolves
// synchronously: it may wait for DNS, so an event loop resolves names on a
// BlockingCall). A name that does not resolve is Unavailable with
// ExitCode::kTransport: "cannot resolve 'NAME': ...".
absl::StatusOr<std::vector<SocketAddress>> ResolvePortal(const Portal& portal);

// An IPv4 or IPv6 literal, which ResolvePortal turns into an address without
// asking DNS.
bool IsAddressLiteral(const std::string& address);

}  // namespace kiscsi

#endif  // KISCSI_SRC_TRANSPORT_PORTAL_H_
