// Which node records and which kernel sessions a selection names: iscsiadm's
// -T, -p and -I (and a -p ",TPGT"), one rule for logins and logouts, for the
// CLI and the daemon alike.
//
// The rule: a field that was not given matches anything (no -I: any iface;
// -p without a port: any port); target names are compared exactly; addresses
// are compared as addresses (IPv6 in any spelling, with or without
// brackets); a session whose kernel names no iface is on "default".
//
// This module owns the matching and the reading of -p into a filter. It
// reads nothing from disk and must not: callers bring the records' keys and
// the sysfs sessions.
#ifndef KISCSI_SRC_NODE_NODE_SELECTOR_H_
#define KISCSI_SRC_NODE_NODE_SELECTOR_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "conf/node_db.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi {

// The same address: equal IPv4/IPv6 addresses however written ("fd00::1",
// "[FD00:0::1]"), else (host names) the same text.
bool SameAddress(std::string_view a, std::string_view b);

// The iface a session is on: its sysfs ifacename, "default" when it has none.
std::string SessionIface(const SysfsSession& session);

// The node record `key` is one `filter` selects.
bool NodeMatches(const conf::NodeFilter& filter, const conf::NodeKey& key);

// The session is one `filter` selects (compared with its persistent portal).
// A filter with an address, port or tpgt selects no session without that
// information in sysfs.
bool SessionMatches(const conf::NodeFilter& filter,
                    const SysfsSession& session);

// The filter of -T TARGET -p PORTAL -I IFACE (each optional): the port only
// when PORTAL names one, the tpgt only when it has ",TPGT". Fails as
// ParsePortalSpec does on a malformed portal.
absl::StatusOr<conf::NodeFilter> NodeFilterFromArgs(
    const std::optional<std::string>& target,
    const std::optional<std::string>& portal,
    const std::optional<std::string>& iface);

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_NODE_SELECTOR_H_
