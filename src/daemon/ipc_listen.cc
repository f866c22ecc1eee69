// ListenOnPath (ipc_server.h): the daemon's unix socket, created 0600 at a
// path, replacing a stale socket file left by a daemon that died but never a
// live daemon's socket or a file that is not a socket.
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/base/unique_fd.h"
#include "src/daemon/ipc_server.h"

namespace kiscsi::daemon {
namespace {

constexpr int kListenBacklog = 128;

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return WithExitCode(absl::InvalidArgumentError(
                            absl::StrCat("socket path too long: ", path)),
                        ExitCode::kInvalid);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// Whether a daemon accepts connections on the socket file at `path`.
bool SomeoneListens(const sockaddr_un& address) {
  UniqueFd probe(
      ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  const int result =
      ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address),
                sizeof(address));
  // EAGAIN: a full accept queue, so a live (if busy) listener.
  return result == 0 || errno == EAGAIN;
}

}  // namespace

absl::StatusOr<UniqueFd> ListenOnPath(const std::string& path) {
  ASSIGN_OR_RETURN(sockaddr_un address, UnixAddress(path));
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists and is not a socket"));
    }
    if (SomeoneListens(address)) {
      return WithExitCode(
          absl::AlreadyExistsError(absl::StrCat(
              "kiscsid is already running (it answers on ", path, ")")),
          ExitCode::kBusy);
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, absl::StrCat("remove stale socket ", path));
    }
    KISCSI_LOG(kInfo) << "replaced stale socket " << path;
  }

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket");
  // Created 0600: only root (the daemon's user) may even connect.
  const mode_t old_umask = ::umask(0177);
  const int bound = ::bind(
      fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int bind_errno = errno;
  ::umask(old_umask);
  if (bound != 0) return ErrnoStatus(bind_errno, absl::StrCat("bind ", path));
  if (::listen(fd.get(), kListenBacklog) != 0) {
    return ErrnoStatus(errno, absl::StrCat("listen on ", path));
  }
  return fd;
}

}  // namespace kiscsi::daemon
