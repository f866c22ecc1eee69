// kiscsistart's logins: every target at once on one private event loop, each
// retried with a millisecond back-off while the network or the target comes
// up, for an initramfs that has no daemon.
//
// A failed attempt leaves nothing behind (SessionSetup undoes what it made),
// so a target that never answers ends with no half-made session. Only
// failures a later attempt can get past are retried (connection refused or
// timed out, PDU timeouts, "try again"); a wrong password or an unknown
// target ends that target's logins at once.
#ifndef KISCSI_SRC_PROGRAMS_KISCSISTART_BOOT_LOGIN_H_
#define KISCSI_SRC_PROGRAMS_KISCSISTART_BOOT_LOGIN_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "netlink/iscsi_kernel.h"
#include "src/session/session_setup.h"

namespace kiscsi {

struct BootTarget {
  SessionSpec spec;
  int attempts = 1;  // node.session.initial_login_retry_max, at least 1
};

// The first retry waits this long, each later one twice as long, up to
// kMaxBootBackoff.
inline constexpr absl::Duration kFirstBootBackoff = absl::Milliseconds(50);
inline constexpr absl::Duration kMaxBootBackoff = absl::Seconds(1);

// Whether a later attempt can succeed where this one failed.
bool RetryableLoginFailure(const absl::Status& status);

// Told of each failed attempt that will be retried: the target's index in
// `targets`, the failure, the attempt number (from 1) and the wait before
// the next one.
using RetryNotice = absl::FunctionRef<void(
    size_t index, const absl::Status& failure, int attempt, absl::Duration)>;

// Logs in to all `targets` at once; returns their outcomes in order.
// `kernel` must have no other reader of its events.
std::vector<absl::StatusOr<SessionResult>> LoginAll(
    IscsiKernel& kernel, const std::vector<BootTarget>& targets,
    RetryNotice on_retry, const SessionPaths& paths = {});

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSISTART_BOOT_LOGIN_H_
