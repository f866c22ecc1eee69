// Login status class/detail (RFC 7143 section 11.13.5) to a Status with an
// iscsiadm exit code and a message that says what to check, and the short
// texts every login message starts with. Pure functions, no state.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/exit_code.h"
#include "src/login/login_machine.h"
#include "src/login/login_machine_impl.h"

namespace kiscsi {

std::string LoginWhat(absl::string_view target_name) {
  return target_name.empty() ? "discovery login"
                             : absl::StrCat("login to ", target_name);
}

std::string LoginStatusText(uint8_t status_class, uint8_t status_detail) {
  return absl::StrFormat("status 0x%02x%02x", status_class, status_detail);
}

absl::Status LoginStatusToError(uint8_t status_class, uint8_t status_detail,
                                absl::string_view target_name) {
  if (status_class == 0) return absl::OkStatus();
  struct Mapping {
    absl::StatusCode code;
    ExitCode exit_code;
    absl::string_view what;
    absl::string_view hint;
  };
  Mapping m{absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
            "unknown login status class", "the target's logs"};
  if (status_class == 1) {
    m = {absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
         "target redirected the login", "the TargetAddress it sent"};
  } else if (status_class == 2) {
    switch (status_detail) {
      case 0x01:
        m = {absl::StatusCode::kUnauthenticated, ExitCode::kLoginAuthFailed,
             "authentication failed",
             "node.session.auth.username/password and chap_algs"};
        break;
      case 0x02:
        m = {absl::StatusCode::kPermissionDenied, ExitCode::kLoginAuthFailed,
             "authorization failed",
             "the target's ACL for this initiator name "
             "(/etc/iscsi/initiatorname.iscsi)"};
        break;
      case 0x03:
        m = {absl::StatusCode::kNotFound, ExitCode::kFatalLogin,
             "target name is unknown at this portal",
             "the target name, or rerun discovery"};
        break;
      case 0x04:
        m = {absl::StatusCode::kNotFound, ExitCode::kFatalLogin,
             "target has been removed from this portal",
             "the target's configuration, or rerun discovery"};
        break;
      case 0x05:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target does not support iSCSI version 0",
             "the target's iSCSI version"};
        break;
      case 0x06:
        m = {absl::StatusCode::kResourceExhausted, ExitCode::kLogin,
             "too many connections on this session",
             "node.session.iscsi.MaxConnections and existing sessions"};
        break;
      case 0x07:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target reports a missing parameter",
             "the node record (initiator and target names)"};
        break;
      case 0x08:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target cannot include this connection in the session",
             "the session's TSIH and connection ID"};
        break;
      case 0x09:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target does not support this session type",
             "whether the portal serves discovery or normal sessions"};
        break;
      case 0x0a:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "session does not exist on the target",
             "the session's TSIH; log in with a new session"};
        break;
      case 0x0b:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
             "target says a request was invalid during login",
             "the target's logs"};
        break;
      default:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "initiator error", "the target's logs"};
        break;
    }
  } else if (status_class == 3) {
    switch (status_detail) {
      case 0x01:
        m = {absl::StatusCode::kUnavailable, ExitCode::kAgain,
             "target service unavailable", "retry later"};
        break;
      case 0x02:
        m = {absl::StatusCode::kUnavailable, ExitCode::kAgain,
             "target out of resources", "retry later"};
        break;
      default:
        m = {absl::StatusCode::kUnavailable, ExitCode::kAgain, "target error",
             "retry later or the target's logs"};
        break;
    }
  }
  return WithExitCode(
      absl::Status(m.code,
                   absl::StrCat(LoginWhat(target_name), ": ", m.what, " (",
                                LoginStatusText(status_class, status_detail),
                                "): check ", m.hint)),
      m.exit_code);
}

}  // namespace kiscsi
