// How iscsiadm names nodes and sessions in its messages, and which kernel
// session belongs to which node record. Shared by kiscsiadm and kiscsid so
// both print the same lines and agree on "this node already has a session".
#ifndef KISCSI_SRC_NODE_SESSION_NAMES_H_
#define KISCSI_SRC_NODE_SESSION_NAMES_H_

#include <string>

#include "conf/node_db.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi {

// "[iface: default, target: T, portal: A,P]" of login lines.
std::string NodeTag(const conf::NodeKey& key);
// "[sid: N, target: T, portal: A,P]" of logout lines (the persistent portal).
std::string SessionTag(const SysfsSession& session);
// The session is one of the node's: same target, persistent portal and (when
// the kernel names one) iface.
bool SessionIsNode(const SysfsSession& session, const conf::NodeKey& key);

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_SESSION_NAMES_H_
