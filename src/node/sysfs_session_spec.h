// What a kernel session found in sysfs becomes when the daemon takes charge
// of it without a node record (a session made by the initramfs or an earlier
// daemon): the SessionSpec its re-logins use, from what sysfs says of its
// identity, CHAP credentials, negotiated parameters and timeouts; and the
// node record the daemon writes for it, so that later recoveries, kiscsiadm
// and the next boot have its credentials.
//
// Pure conversions beside session_settings.h (node record -> SessionSpec):
// they read nothing from disk and must not; the caller reads sysfs (with the
// passwords, as root) and the boot firmware table.
#ifndef KISCSI_SRC_NODE_SYSFS_SESSION_SPEC_H_
#define KISCSI_SRC_NODE_SYSFS_SESSION_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "conf/boot_firmware.h"
#include "conf/node_db.h"
#include "conf/record.h"
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

// A node record and where it goes in the node database.
struct SysfsNodeRecord {
  conf::NodeKey key;
  conf::Record record;
};

// The node record of `session` (which must have a connection): `base`
// (iscsid.conf's node defaults, conf::IscsidConf::NewNodeRecord()) with
//   - the identity: target name, tpgt (unknown when sysfs has none), the
//     persistent portal (RecoveryPortal) and the session's iface ("default"
//     when sysfs names none);
//   - node.startup = onboot: the session holds what the initramfs logged in
//     to, so `--loginall`/`--logoutall` leave it alone and the initramfs
//     logs in to it at the next boot;
//   - iface.initiatorname = the session's initiator name, only when it
//     differs from `system_initiator_name` (initiatorname.iscsi), so that a
//     record of the usual name follows a later change of that file;
//   - CHAP (authmethod, username, password, and username_in/password_in for
//     mutual CHAP) when sysfs names a user, else authmethod None and no
//     credentials (whatever `base` said); chap_algs offers every digest,
//     strongest first, as SessionSpecFromSysfs does: sysfs does not say which
//     one the target took;
//   - the session's timeouts: replacement_timeout (recovery_tmo), the abort,
//     LU reset and target reset timeouts, the NOP-Out interval (recv_tmo) and
//     timeout (ping_tmo); a value sysfs lacks, or one the record's schema
//     cannot hold (a negative recovery_tmo), keeps `base`'s;
//   - HeaderDigest / DataDigest CRC32C or None, as the connection runs.
// Negotiated sizes (burst lengths, data segment lengths) are not written:
// they are the outcome of a negotiation, not what to offer in the next one.
// InvalidArgument (ExitCode kInvalid) when an identity value does not fit the
// schema; the message never holds a secret.
absl::StatusOr<SysfsNodeRecord> NodeRecordFromSysfs(
    const SysfsSession& session, const std::string& system_initiator_name,
    conf::Record base);

// The boot firmware table's entry for a target and portal, or nullptr.
const conf::FirmwareBootEntry* FirmwareEntryFor(
    const std::vector<conf::FirmwareBootEntry>& entries,
    const std::string& target_name, const Portal& portal);

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_SYSFS_SESSION_SPEC_H_
