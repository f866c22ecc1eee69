// iscsiadm-compatible exit codes, carried across module boundaries inside
// absl::Status.
//
// Scripts test iscsiadm's exit status (systemd's iscsi.service treats 15 and 21
// as success), so every failure that reaches a program's main() must map to the
// number iscsiadm would use. A module that knows the precise meaning of a
// failure attaches it with WithExitCode(); otherwise ExitCodeOf() derives one
// from the absl::StatusCode.
#ifndef KISCSI_SRC_BASE_EXIT_CODE_H_
#define KISCSI_SRC_BASE_EXIT_CODE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kiscsi {

// Values are open-iscsi's error numbers (ISCSI_ERR_*), which are iscsiadm's
// exit statuses.
enum class ExitCode : int {
  kSuccess = 0,
  kUnknown = 1,
  kSessionNotFound = 2,
  kNoMemory = 3,
  kTransport = 4,  // connection failure
  kLogin = 5,
  kDatabase = 6,
  kInvalid = 7,  // invalid parameter
  kTransportTimeout = 8,
  kInternal = 9,
  kLogout = 10,
  kPduTimeout = 11,
  kTransportNotFound = 12,  // iSCSI driver not found
  kAccessDenied = 13,
  kCapability = 14,
  kSessionExists = 15,
  kInvalidRequest = 16,
  kIsnsUnsupported = 17,
  kDaemonComm = 18,
  kFatalLogin = 19,  // non-retryable login failure
  kDaemonConnect = 20,
  kNoObjectsFound = 21,
  kSysfsLookup = 22,
  kHostNotFound = 23,
  kLoginAuthFailed = 24,
  kIsnsQuery = 25,
  kIsnsRegistration = 26,
  kOperationNotSupported = 27,
  kBusy = 28,
  kAgain = 29,
  kUnknownDiscoveryType = 30,
  kChildTerminated = 31,
  kSessionNotConnected = 32,
  kDaemonTimeout = 33,
};

// Returns `status` with `code` attached. An ok status is returned unchanged.
absl::Status WithExitCode(absl::Status status, ExitCode code);

// InvalidArgument carrying ExitCode::kInvalid: a bad option, setting or value.
absl::Status InvalidParameterError(absl::string_view message);

// The exit code attached with WithExitCode, or one derived from status.code().
ExitCode ExitCodeOf(const absl::Status& status);

// open-iscsi's words for an exit code, as iscsiadm prints them in
// "initiator reported error (24 - iSCSI login failed due to authorization
// failure)"; "" for 0, "unknown error" for a code it does not know.
absl::string_view ExitCodeText(ExitCode code);

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_EXIT_CODE_H_
