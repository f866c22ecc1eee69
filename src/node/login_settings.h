// Turns node and discovery records (conf/) into what a login needs (src/login/,
// src/discovery/).
//
// One place maps record keys to LoginConfig fields, so the CLI's probe, the
// daemon and the initramfs tool negotiate exactly what the record says.
#ifndef KISCSI_SRC_NODE_LOGIN_SETTINGS_H_
#define KISCSI_SRC_NODE_LOGIN_SETTINGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conf/record.h"
#include "src/discovery/sendtargets.h"
#include "src/login/login_machine.h"

namespace kiscsi {

struct Identity {
  std::string initiator_name;
  std::string initiator_alias;
};

// A normal-session LoginConfig from a node record. The ISID is left zero for
// the caller. Fails with InvalidArgument (ExitCode kInvalid) for unusable
// values, e.g. an unknown CHAP algorithm or CHAP selected without a username.
absl::StatusOr<LoginConfig> LoginConfigFromNode(const conf::Record& node,
                                                const Identity& identity);

// node.conn[0].timeo.login_timeout / logout_timeout, in seconds in the record.
absl::Duration NodeLoginTimeout(const conf::Record& node);
absl::Duration NodeLogoutTimeout(const conf::Record& node);

// DiscoveryOptions from a SendTargets discovery record (st_config).
absl::StatusOr<DiscoveryOptions> DiscoveryOptionsFromRecord(
    const conf::Record& discovery, const Identity& identity);

// A random ISID (type 10b, "random", RFC 7143 section 10.12.5): a probe must
// never reuse the ISID of a live session, or the target would reinstate (end)
// that session.
absl::StatusOr<Isid> RandomIsid();

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_LOGIN_SETTINGS_H_
