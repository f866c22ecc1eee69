#include "src/daemon/systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/base/errno_status.h"
#include "src/base/log.h"

namespace kiscsi::daemon {
namespace {

// Refuses absurd counts from a corrupt environment.
constexpr int kMaxListenFds = 64;

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

absl::StatusOr<int> SocketOption(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) {
    return ErrnoStatus(errno, absl::StrCat("getsockopt on fd ", fd));
  }
  return value;
}

}  // namespace

absl::Status SdNotify(absl::string_view state) {
  const std::string socket_name = EnvOrEmpty("NOTIFY_SOCKET");
  if (socket_name.empty()) return absl::OkStatus();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((socket_name[0] != '/' && socket_name[0] != '@') ||
      socket_name.size() > sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported NOTIFY_SOCKET '", socket_name, "'"));
  }
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                            socket_name.size());
  if (socket_name[0] == '@') {
    address.sun_path[0] = '\0';  // abstract namespace, not NUL-terminated
  } else if (socket_name.size() == sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET path too long: ", socket_name));
  } else {
    length += 1;  // the terminating NUL of a path
  }

  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus(errno, "socket for sd_notify");
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    return ErrnoStatus(errno, absl::StrCat("notify systemd at ", socket_name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ListenFd>> TakeListenFds() {
  const std::string pid_text = EnvOrEmpty("LISTEN_PID");
  const std::string count_text = EnvOrEmpty("LISTEN_FDS");
  const std::string names_text = EnvOrEmpty("LISTEN_FDNAMES");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");

  std::vector<ListenFd> fds;
  if (pid_text.empty() || count_text.empty()) return fds;
  int pid = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) || pid <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid LISTEN_PID '", pid_text, "'"));
  }
  if (pid != ::getpid()) return fds;  // meant for another process
  int count = 0;
  if (!absl::SimpleAtoi(count_text, &count) || count < 0 ||
      count > kMaxListenFds) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid LISTEN_FDS '", count_text, "'"));
  }
  std::vector<std::string> names;
  if (!names_text.empty()) names = absl::StrSplit(names_text, ':');
  for (int i = 0; i < count; ++i) {
    const int fd = kListenFdsStart + i;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
      return ErrnoStatus(errno, absl::StrCat("passed descriptor ", fd));
    }
    fds.push_back(ListenFd{UniqueFd(fd), static_cast<size_t>(i) < names.size()
                                             ? names[i]
                                             : std::string("unknown")});
  }
  return fds;
}

absl::StatusOr<UniqueFd> PickListener(std::vector<ListenFd> fds) {
  if (fds.empty()) {
    return absl::InvalidArgumentError("socket activation passed no sockets");
  }
  for (size_t i = 1; i < fds.size(); ++i) {
    KISCSI_LOG(kWarning) << "ignoring passed socket " << fds[i].name << " (fd "
                         << fds[i].fd.get() << ")";
  }
  UniqueFd listener = std::move(fds.front().fd);
  const std::string name = fds.front().name;
  fds.clear();  // closes the others
  absl::StatusOr<int> domain = SocketOption(listener.get(), SO_DOMAIN);
  absl::StatusOr<int> type = SocketOption(listener.get(), SO_TYPE);
  absl::StatusOr<int> listening = SocketOption(listener.get(), SO_ACCEPTCONN);
  if (!domain.ok() || !type.ok() || !listening.ok() || *domain != AF_UNIX ||
      *type != SOCK_STREAM || *listening == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("passed socket ", name, " (fd ", listener.get(),
                     ") is not a listening unix stream socket"));
  }
  return listener;
}

}  // namespace kiscsi::daemon
