// How iscsiadm names nodes and sessions in its messages, and which kernel
// session belongs to which node record. Shared by kiscsiadm and kiscsid so
// both print the same lines and agree on "this node already has a session".
#ifndef KISCSI_SRC_NODE_SESSION_NAMES_H_
#define KISCSI_SRC_NODE_SESSION_NAMES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "conf/node_db.h"
#include "conf/record.h"
#include "src/session/sysfs_sessions.h"

namespace kiscsi {

// "[iface: default, target: T, portal: A,P]" of login lines.
std::string NodeTag(const conf::NodeKey& key);
// "[sid: N, target: T, portal: A,P]" of logout lines (the persistent portal).
std::string SessionTag(const SysfsSession& session);
// The session is one of the node's: same target, persistent portal and iface
// (NodeSelector's rule, with every field but the tpgt given).
bool SessionIsNode(const SysfsSession& session, const conf::NodeKey& key);
// How many of `sessions` are the node's.
int64_t CountNodeSessions(const std::vector<SysfsSession>& sessions,
                          const conf::NodeKey& key);
// node.session.nr_sessions: how many sessions a login to the node makes in
// all (1 unless the record says more).
int64_t WantedSessions(const conf::Record& record);
// iscsiadm's refusal of a login to a node that has its sessions, exit 15:
// "default: 2 sessions requested, but 2 already present."
absl::Status SessionsPresent(const conf::NodeKey& key, int64_t wanted,
                             int64_t present);

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_SESSION_NAMES_H_
