#include "src/base/exit_code.h"

#include <iterator>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace kiscsi {
namespace {

constexpr char kExitCodePayload[] = "type.kiscsi/exit_code";

}  // namespace

absl::Status WithExitCode(absl::Status status, ExitCode code) {
  if (status.ok()) return status;
  status.SetPayload(kExitCodePayload,
                    absl::Cord(std::to_string(static_cast<int>(code))));
  return status;
}

absl::Status InvalidParameterError(absl::string_view message) {
  return WithExitCode(absl::InvalidArgumentError(message), ExitCode::kInvalid);
}

ExitCode ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return ExitCode::kSuccess;
  auto payload = status.GetPayload(kExitCodePayload);
  int value = 0;
  if (payload.has_value() && absl::SimpleAtoi(std::string(*payload), &value)) {
    return static_cast<ExitCode>(value);
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return ExitCode::kInvalid;
    case absl::StatusCode::kNotFound:
      return ExitCode::kNoObjectsFound;
    case absl::StatusCode::kAlreadyExists:
      return ExitCode::kSessionExists;
    case absl::StatusCode::kPermissionDenied:
      return ExitCode::kAccessDenied;
    case absl::StatusCode::kUnauthenticated:
      return ExitCode::kLoginAuthFailed;
    case absl::StatusCode::kDeadlineExceeded:
      return ExitCode::kTransportTimeout;
    case absl::StatusCode::kUnavailable:
      return ExitCode::kTransport;
    case absl::StatusCode::kResourceExhausted:
      return ExitCode::kNoMemory;
    case absl::StatusCode::kUnimplemented:
      return ExitCode::kOperationNotSupported;
    case absl::StatusCode::kInternal:
      return ExitCode::kInternal;
    default:
      return ExitCode::kUnknown;
  }
}

absl::string_view ExitCodeText(ExitCode code) {
  // The texts of open-iscsi 2.1.8's error table (usr/iscsi_err.c), which
  // scripts match against.
  static constexpr absl::string_view kTexts[] = {
      "",
      "unknown error",
      "session not found",
      "no available memory",
      "encountered connection failure",
      "encountered iSCSI login failure",
      "encountered iSCSI database failure",
      "invalid parameter",
      "connection timed out",
      "internal error",
      "encountered iSCSI logout failure",
      "iSCSI PDU timed out",
      "iSCSI driver not found. Please make sure it is loaded, and retry the "
      "operation",
      "daemon access denied",
      "iSCSI driver does not support requested capability.",
      "session exists",
      "Unknown request",
      "iSNS service not supported",
      "could not communicate to iscsid",
      "encountered non-retryable iSCSI login failure",
      "could not connect to iscsid",
      "no objects found",
      "sysfs lookup failure",
      "host not found",
      "iSCSI login failed due to authorization failure",
      "iSNS query failed",
      "iSNS registration failed",
      "operation not supported",
      "device or resource in use",
      "operation failed but retry may succeed",
      "unknown discovery type",
      "child process terminated",
      "iSCSI session not connected",
  };
  const int index = static_cast<int>(code);
  if (index < 0 || index >= static_cast<int>(std::size(kTexts))) {
    return "unknown error";
  }
  return kTexts[index];
}

}  // namespace kiscsi
