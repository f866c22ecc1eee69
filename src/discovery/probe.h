// A userspace login probe (iscsiadm-style --probe): log in to a target over
// plain TCP with a normal session's parameters, then log out, without involving
// the kernel.
//
// It answers "would a login to this portal work, and what would it negotiate?"
// and measures how long the login and logout took.
#ifndef KISCSI_SRC_DISCOVERY_PROBE_H_
#define KISCSI_SRC_DISCOVERY_PROBE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/login/login_machine.h"
#include "src/transport/portal.h"

namespace kiscsi {

struct ProbeResult {
  Portal portal;                  // where the login ended up after redirects
  std::vector<Portal> redirects;  // each redirect followed, in order
  LoginResult login;
  absl::Duration connect_and_login_time;
  absl::Duration logout_time;
};

// Errors as LoginOverTcp (src/transport/tcp_login.h); a failed logout is
// ExitCode kLogout.
absl::StatusOr<ProbeResult> Probe(const Portal& portal,
                                  const LoginConfig& config,
                                  absl::Duration login_timeout,
                                  absl::Duration logout_timeout);

}  // namespace kiscsi

#endif  // KISCSI_SRC_DISCOVERY_PROBE_H_
