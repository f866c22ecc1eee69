#include "src/base/exit_code.h"

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

}  // namespace kiscsi
