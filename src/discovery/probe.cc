#include "src/discovery/probe.h"

#include <utility>

#include "src/base/monotonic.h"
#include "src/base/status_macros.h"
#include "src/transport/tcp_login.h"

namespace kiscsi {

absl::StatusOr<ProbeResult> Probe(const Portal& portal,
                                  const LoginConfig& config,
                                  absl::Duration login_timeout,
                                  absl::Duration logout_timeout) {
  const absl::Time start = MonotonicNow();
  ASSIGN_OR_RETURN(TcpLoginOutcome login,
                   LoginOverTcp(portal, config, login_timeout));
  ProbeResult result;
  result.connect_and_login_time = MonotonicNow() - start;

  // Login Requests are immediate, so the Logout carries the CmdSN the target
  // now expects.
  const absl::Time logout_start = MonotonicNow();
  RETURN_IF_ERROR(LogoutOverChannel(*login.channel, login.result.exp_cmdsn,
                                    login.result.statsn + 1, config.itt + 1,
                                    logout_timeout));
  result.logout_time = MonotonicNow() - logout_start;
  result.portal = std::move(login.portal);
  result.redirects = std::move(login.redirects);
  result.login = std::move(login.result);
  return result;
}

}  // namespace kiscsi
