// Logging in and out over a userspace TCP connection (discovery sessions,
// --probe).
//
// LoginOverTcp drives the sans-I/O LoginMachine (src/login/login_machine.h)
// over a TcpPduChannel: it connects, exchanges Login Requests and Responses,
// follows redirects to other portals (a bounded number of times), and hands
// back the connected channel in full feature phase with the negotiated digests
// and MaxRecvDataSegmentLength applied. The whole login, reconnections
// included, is bounded by one timeout.
#ifndef KISCSI_SRC_TRANSPORT_TCP_LOGIN_H_
#define KISCSI_SRC_TRANSPORT_TCP_LOGIN_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/login/login_machine.h"
#include "src/transport/pdu_channel.h"
#include "src/transport/portal.h"

namespace kiscsi {

inline constexpr int kDefaultMaxRedirects = 8;

struct TcpLoginOutcome {
  std::unique_ptr<PduChannel> channel;  // in full feature phase
  Portal portal;                        // where the login ended up
  std::vector<Portal> redirects;        // each redirect followed, in order
  LoginResult result;
};

// Errors: the LoginMachine's (with their exit codes, e.g. kLoginAuthFailed,
// kFatalLogin); connection failures and a connection closed during login:
// kTransport; the login timeout: kTransportTimeout; a Reject, an unexpected or
// undecodable PDU: kLogin; more than `max_redirects` redirects: kFatalLogin
// ("too many redirects (8): A -> B -> ...").
absl::StatusOr<TcpLoginOutcome> LoginOverTcp(
    const Portal& portal, const LoginConfig& config,
    absl::Duration login_timeout, int max_redirects = kDefaultMaxRedirects);

// Sends a Logout Request (reason: close the session) and waits up to `timeout`
// for the Logout Response, skipping NOP-In and Async Message PDUs that arrive
// meanwhile. Any failure, including a response other than "closed
// successfully", is ExitCode kLogout.
absl::Status LogoutOverChannel(PduChannel& channel, uint32_t cmdsn,
                               uint32_t exp_statsn, uint32_t itt,
                               absl::Duration timeout);

}  // namespace kiscsi

#endif  // KISCSI_SRC_TRANSPORT_TCP_LOGIN_H_
