#include "src/transport/tcp_login.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

absl::Duration Remaining(absl::Time deadline) {
  return std::max(deadline - MonotonicNow(), absl::ZeroDuration());
}

absl::Status LoginProtocolError(std::string message) {
  return WithExitCode(absl::UnavailableError(std::move(message)),
                      ExitCode::kLogin);
}

// Rewords a channel failure during login so it says what we were doing.
absl::Status DuringLogin(const absl::Status& status, const std::string& peer,
                         absl::Duration login_timeout) {
  if (absl::IsDeadlineExceeded(status)) {
    return WithExitCode(
        absl::DeadlineExceededError(
            absl::StrCat("login to ", peer, " timed out after ",
                         absl::ToInt64Milliseconds(login_timeout),
                         " ms (login timeout) waiting for a Login Response")),
        ExitCode::kTransportTimeout);
  }
  if (absl::IsUnavailable(status)) {
    return WithExitCode(absl::UnavailableError(absl::StrCat(
                            "connection closed by target during login (",
                            status.message(), ")")),
                        ExitCode::kTransport);
  }
  return WithExitCode(
      absl::Status(status.code(), absl::StrCat("login to ", peer,
                                               " failed: ", status.message())),
      ExitCodeOf(status));
}

// One connection's login exchange; ends with a kDone or kRedirect step.
absl::StatusOr<LoginStep> RunLogin(TcpPduChannel& channel,
                                   const LoginConfig& config,
                                   absl::Time deadline,
                                   absl::Duration login_timeout) {
  LoginMachine machine(config);
  ASSIGN_OR_RETURN(LoginRequestPdu request, machine.Start());
  for (;;) {
    channel.SetSendTimeout(Remaining(deadline));
    absl::Status sent = channel.Send(Encode(request));
    if (!sent.ok()) return DuringLogin(sent, channel.peer(), login_timeout);
    absl::StatusOr<Pdu> pdu = channel.Receive(Remaining(deadline));
    if (!pdu.ok())
      return DuringLogin(pdu.status(), channel.peer(), login_timeout);

    if (pdu->opcode() == static_cast<uint8_t>(Opcode::kReject)) {
      absl::StatusOr<Reject> reject = DecodeReject(*pdu);
      return LoginProtocolError(absl::StrCat(
          "target ", channel.peer(), " rejected the Login Request (",
          reject.ok() ? RejectReasonName(reject->reason)
                      : std::string("undecodable Reject"),
          ")"));
    }
    if (pdu->opcode() != static_cast<uint8_t>(Opcode::kLoginResponse)) {
      return LoginProtocolError(
          absl::StrCat("unexpected ", OpcodeName(pdu->opcode()), " from ",
                       channel.peer(), " during login"));
    }
    absl::StatusOr<LoginResponse> response = DecodeLoginResponse(*pdu);
    if (!response.ok()) {
      return LoginProtocolError(absl::StrCat("malformed Login Response from ",
                                             channel.peer(), ": ",
                                             response.status().message()));
    }
    ASSIGN_OR_RETURN(LoginStep step, machine.OnResponse(*response));
    if (step.kind != LoginStep::kSend) return step;
    request = std::move(step.request);
  }
}

}  // namespace

absl::StatusOr<TcpLoginOutcome> LoginOverTcp(const Portal& portal,
                                             const LoginConfig& config,
                                             absl::Duration login_timeout,
                                             int max_redirects) {
  const absl::Time deadline = MonotonicNow() + login_timeout;
  TcpLoginOutcome outcome;
  outcome.portal = portal;
  for (;;) {
    ASSIGN_OR_RETURN(std::unique_ptr<TcpPduChannel> channel,
                     ConnectTcp(outcome.portal, Remaining(deadline)));
    ASSIGN_OR_RETURN(LoginStep step,
                     RunLogin(*channel, config, deadline, login_timeout));
    if (step.kind == LoginStep::kDone) {
      const NegotiatedParams& params = step.result.params;
      channel->SetDigests(
          {.header = params.header_digest, .data = params.data_digest});
      channel->SetMaxRecvDataSegmentLength(params.max_recv_data_segment_length);
      channel->SetSendTimeout(login_timeout);
      outcome.channel = std::move(channel);
      outcome.result = std::move(step.result);
      return outcome;
    }

    const Portal next{step.redirect.address, step.redirect.port};
    if (static_cast<int>(outcome.redirects.size()) >= max_redirects) {
      std::vector<std::string> chain = {FormatPortal(portal, ':')};
      for (const Portal& hop : outcome.redirects)
        chain.push_back(FormatPortal(hop, ':'));
      chain.push_back(FormatPortal(next, ':'));
      return WithExitCode(absl::UnavailableError(absl::StrCat(
                              "too many redirects (", max_redirects,
                              "): ", absl::StrJoin(chain, " -> "))),
                          ExitCode::kFatalLogin);
    }
    KISCSI_LOG(kInfo) << "login to " << channel->peer() << " redirected "
                      << (step.redirect.permanent ? "permanently"
                                                  : "temporarily")
                      << " to " << FormatPortal(next, ':');
    outcome.redirects.push_back(next);
    outcome.portal = next;
  }
}

absl::Status LogoutOverChannel(PduChannel& channel, uint32_t cmdsn,
                               uint32_t exp_statsn, uint32_t itt,
                               absl::Duration timeout) {
  const auto logout_error = [](absl::string_view message) {
    return WithExitCode(
        absl::UnavailableError(absl::StrCat("logout failed: ", message)),
        ExitCode::kLogout);
  };
  LogoutRequestPdu request;
  request.immediate = true;
  request.reason = LogoutReason::kCloseSession;
  request.itt = itt;
  request.cmdsn = cmdsn;
  request.exp_statsn = exp_statsn;
  const absl::Time deadline = MonotonicNow() + timeout;
  if (absl::Status sent = channel.Send(Encode(request)); !sent.ok()) {
    return logout_error(sent.message());
  }
  for (;;) {
    absl::StatusOr<Pdu> pdu = channel.Receive(Remaining(deadline));
    if (!pdu.ok()) return logout_error(pdu.status().message());
    switch (static_cast<Opcode>(pdu->opcode())) {
      case Opcode::kNopIn:
      case Opcode::kAsyncMessage:
        KISCSI_LOG(kDebug) << "skipping " << OpcodeName(pdu->opcode())
                           << " while waiting for the Logout Response";
        continue;
      case Opcode::kReject: {
        absl::StatusOr<Reject> reject = DecodeReject(*pdu);
        return logout_error(
            absl::StrCat("target rejected the Logout Request (",
                         reject.ok() ? RejectReasonName(reject->reason)
                                     : std::string("undecodable Reject"),
                         ")"));
      }
      case Opcode::kLogoutResponse:
        break;
      default:
        return logout_error(
            absl::StrCat("unexpected ", OpcodeName(pdu->opcode()),
                         " while waiting for the Logout Response"));
    }
    absl::StatusOr<LogoutResponse> response = DecodeLogoutResponse(*pdu);
    if (!response.ok()) {
      return logout_error(absl::StrCat("malformed Logout Response: ",
                                       response.status().message()));
    }
    if (response->itt != itt) {
      return logout_error(absl::StrCat("Logout Response for task tag 0x",
                                       absl::Hex(response->itt),
                                       ", expected 0x", absl::Hex(itt)));
    }
    switch (response->response) {
      case 0:
        return absl::OkStatus();
      case 1:
        return logout_error("target says the connection ID was not found");
      case 2:
        return logout_error("target does not support connection recovery");
      case 3:
        return logout_error("target could not clean up the session");
      default:
        return logout_error(absl::StrCat("target answered with response code ",
                                         static_cast<int>(response->response)));
    }
  }
}

}  // namespace kiscsi
