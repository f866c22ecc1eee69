// The two pieces of systemd's service protocol kiscsid uses, done by hand
// (no libsystemd):
//
//   readiness notification: SdNotify("READY=1") sends a datagram to the
//     socket named by $NOTIFY_SOCKET (a path, or "@name" for an abstract
//     socket). Without $NOTIFY_SOCKET it does nothing.
//   socket activation: TakeListenFds() returns the descriptors systemd passed
//     (fd 3 onwards, $LISTEN_FDS of them, named by $LISTEN_FDNAMES) when
//     $LISTEN_PID is this process.
#ifndef KISCSI_SRC_DAEMON_SYSTEMD_H_
#define KISCSI_SRC_DAEMON_SYSTEMD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "src/base/unique_fd.h"

namespace kiscsi::daemon {

// The first descriptor systemd passes.
inline constexpr int kListenFdsStart = 3;

// Sends `state`: one or more "KEY=VALUE" lines ("READY=1", "STATUS=...",
// "STOPPING=1", "RELOADING=1"), separated by '\n'.
absl::Status SdNotify(absl::string_view state);

struct ListenFd {
  UniqueFd fd;
  std::string name;  // from $LISTEN_FDNAMES; "unknown" when not given
};

// The passed descriptors, marked close-on-exec. Empty when $LISTEN_PID or
// $LISTEN_FDS is unset or $LISTEN_PID names another process. Fails on
// malformed variables. Unsets the three variables either way, so that child
// processes never mistake them for their own.
absl::StatusOr<std::vector<ListenFd>> TakeListenFds();

// The listening unix stream socket among `fds` to serve kiscsiadm on: the
// first one; the others are closed (with a warning).
absl::StatusOr<UniqueFd> PickListener(std::vector<ListenFd> fds);

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_SYSTEMD_H_
