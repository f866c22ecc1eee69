// What a kernel session found in sysfs becomes when the daemon takes charge
// of it without a node record (a session made by the initramfs or an earlier
// daemon): the SessionSpec its re-logins use, from what sysfs says of its
// identity, CHAP credentials, negotiated parameters and timeouts.
//
// Pure conversions beside session_settings.h (node record -> SessionSpec):
// they read nothing from disk and must not; the caller reads sysfs (with the
// passwords, as root) and the boot firmware table.
#ifndef KISCSI_SRC_NODE_SYSFS_SESSION_SPEC_H_
#define KISCSI_SRC_NODE_SYSFS_SESSION_SPEC_H_

#include <string>
#include <vector>

#include "conf/boot_firmware.h"
#include "src/session/session_setup.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi {

// The portal a connection logs in to again: its persistent address and port,
// else the current ones, else port 3260.
Portal RecoveryPortal(const SysfsConnection& connection);

// The spec of `session` (which must have a connection) for `initiator_name`:
// CHAP when sysfs names a user (every digest offered, strongest first: sysfs
// does not say which one was used), the negotiated burst lengths, R2T,
// immediate data, data segment length and digests, the session's iface, and
// its timeouts with iscsid's defaults for the ones sysfs lacks. `existing`
// is left for the caller.
SessionSpec SessionSpecFromSysfs(const SysfsSession& session,
                                 const std::string& initiator_name);

// The boot firmware table's entry for a target and portal, or nullptr.
const conf::FirmwareBootEntry* FirmwareEntryFor(
    const std::vector<conf::FirmwareBootEntry>& entries,
    const std::string& target_name, const Portal& portal);

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_SYSFS_SESSION_SPEC_H_
