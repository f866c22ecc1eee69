// Turns a node record into what a kernel-offloaded session needs
// (src/session/): the login settings of login_settings.h plus the record's
// timeouts, queue sizes and scan policy.
#ifndef KISCSI_SRC_NODE_SESSION_SETTINGS_H_
#define KISCSI_SRC_NODE_SESSION_SETTINGS_H_

#include "absl/status/statusor.h"
#include "conf/record.h"
#include "src/node/login_settings.h"
#include "src/session/session_setup.h"

namespace kiscsi {

// Fails like LoginConfigFromNode, and with InvalidArgument (ExitCode kInvalid)
// when the record has no usable portal.
absl::StatusOr<SessionSpec> SessionSpecFromNode(const conf::Record& node,
                                                const Identity& identity);

}  // namespace kiscsi

#endif  // KISCSI_SRC_NODE_SESSION_SETTINGS_H_
