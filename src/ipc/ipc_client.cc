#include "src/ipc/ipc_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"

namespace kiscsi::ipc {
namespace {

absl::Status Timeout(MessageType type, absl::Duration timeout) {
  return WithExitCode(
      absl::DeadlineExceededError(absl::StrCat(
          "kiscsid did not answer the ", MessageTypeName(type),
          " request within ", absl::ToInt64Milliseconds(timeout), " ms")),
      ExitCode::kDaemonTimeout);
}

// Milliseconds left until `deadline` for poll(), rounded up.
int PollTimeout(absl::Time deadline) {
  const absl::Duration left = deadline - MonotonicNow();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
      1 << 30));
}

// Waits for `events` on `fd`; false when the deadline passed first.
absl::StatusOr<bool> WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, PollTimeout(deadline));
    if (ready > 0) return true;
    if (ready == 0) {
      if (MonotonicNow() >= deadline) return false;
      continue;
    }
    if (errno != EINTR) return ErrnoStatus(errno, "poll");
  }
}

}  // namespace

absl::StatusOr<IpcClient> IpcClient::Connect(const std::string& socket_path,
                                             absl::Duration timeout) {
  auto connect_error = [&socket_path](absl::string_view why,
                                      ExitCode code) -> absl::Status {
    return WithExitCode(
        absl::UnavailableError(absl::StrCat("could not connect to kiscsid at ",
                                            socket_path, ": ", why)),
        code);
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return connect_error("path too long", ExitCode::kDaemonConnect);
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return WithExitCode(ErrnoStatus(errno, "socket"), ExitCode::kDaemonConnect);
  }
  // A blocking connect to a unix socket waits while the listener's accept
  // queue is full, for at most the send timeout.
  const timeval send_timeout =
      absl::ToTimeval(std::max(timeout, absl::Milliseconds(1)));
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout,
                   sizeof(send_timeout)) != 0) {
    return WithExitCode(ErrnoStatus(errno, "setsockopt SO_SNDTIMEO"),
                        ExitCode::kDaemonConnect);
  }
  int result;
  do {
    result = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                       sizeof(address));
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    const int error = errno;
    switch (error) {
      case ENOENT:
      case ECONNREFUSED:
      case ENOTDIR:
        return connect_error("is it running? (systemctl start kiscsid)",
                             ExitCode::kDaemonConnect);
      case EACCES:
      case EPERM:
        return connect_error("permission denied (run kiscsiadm as root)",
                             ExitCode::kAccessDenied);
      case EAGAIN:
      case EINPROGRESS:
        return WithExitCode(
            absl::DeadlineExceededError(absl::StrCat(
                "kiscsid at ", socket_path, " did not accept within ",
                absl::ToInt64Milliseconds(timeout), " ms")),
            ExitCode::kDaemonTimeout);
      default:
        return connect_error(std::strerror(error), ExitCode::kDaemonConnect);
    }
  }
  if (::fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) {
    return WithExitCode(ErrnoStatus(errno, "fcntl O_NONBLOCK"),
                        ExitCode::kDaemonConnect);
  }
  return IpcClient(std::move(fd), socket_path);
}

absl::Status IpcClient::CommError(absl::string_view what) const {
  return WithExitCode(absl::UnavailableError(absl::StrCat(
                          "kiscsid at ", socket_path_, ": ", what)),
                      ExitCode::kDaemonComm);
}

absl::StatusOr<Reply> IpcClient::Call(const Request& request,
                                      absl::Duration timeout,
                                      const ProgressFn& on_progress) {
  ASSIGN_OR_RETURN(std::vector<Reply> replies,
                   CallAll({request}, timeout, on_progress));
  return std::move(replies.front());
}

absl::StatusOr<std::vector<Reply>> IpcClient::CallAll(
    const std::vector<Request>& requests, absl::Duration timeout,
    const ProgressFn& on_progress) {
  if (!fd_.valid()) return CommError("connection closed after an error");
  if (requests.empty()) return std::vector<Reply>{};
  const absl::Time deadline = MonotonicNow() + timeout;
  const uint32_t first_id = next_request_id_;
  std::vector<std::vector<uint8_t>> encoded;
  encoded.reserve(requests.size());
  for (const Request& request : requests) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                     EncodeRequest(next_request_id_++, request));
    encoded.push_back(std::move(bytes));
  }
  absl::StatusOr<std::vector<Reply>> replies =
      Exchange(first_id, encoded, deadline, on_progress);
  if (!replies.ok()) {
    fd_.Reset();
    // Exchange() marks a passed deadline with kDeadlineExceeded.
    if (replies.status().code() == absl::StatusCode::kDeadlineExceeded) {
      return Timeout(TypeOf(requests.front()), timeout);
    }
  }
  return replies;
}

absl::Status IpcClient::Send(const std::vector<uint8_t>& bytes,
                             absl::Time deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_.get(), bytes.data() + sent,
                             bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      return CommError(absl::StrCat("send: ", std::strerror(errno)));
    }
    absl::StatusOr<bool> writable = WaitFor(fd_.get(), POLLOUT, deadline);
    if (!writable.ok()) return CommError(writable.status().message());
    if (!*writable) return absl::DeadlineExceededError("send");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Reply>> IpcClient::Exchange(
    uint32_t first_id, const std::vector<std::vector<uint8_t>>& requests,
    absl::Time deadline, const ProgressFn& on_progress) {
  const size_t count = requests.size();
  std::vector<std::optional<Reply>> replies(count);
  size_t sent = 0;
  size_t answered = 0;
  // A daemon that could not read a message answers with request id 0 and
  // closes the connection, maybe before later requests were sent: a failed
  // send stops the sending, and the replies already on the way are read.
  absl::Status send_error;
  auto send_next = [&]() -> absl::Status {
    if (!send_error.ok()) return absl::OkStatus();
    absl::Status status = Send(requests[sent], deadline);
    if (absl::IsDeadlineExceeded(status)) return status;
    if (!status.ok()) {
      send_error = std::move(status);
      return absl::OkStatus();
    }
    ++sent;
    return absl::OkStatus();
  };
  // The daemon refuses requests beyond kMaxRequestsInFlight: each reply makes
  // room for the next request.
  while (send_error.ok() && sent < std::min(count, kMaxRequestsInFlight)) {
    RETURN_IF_ERROR(send_next());
  }
  auto expected = [&] {
    return count == 1 ? absl::StrCat(first_id)
                      : absl::StrCat(first_id, "-", first_id + count - 1);
  };

  std::vector<uint8_t> buffer(64 * 1024);
  while (answered < count) {
    std::optional<Message> message = reader_.Next();
    if (message.has_value()) {
      const Header& header = message->header;
      if (header.version != kProtocolVersion) {
        return VersionMismatchError(header.version, /*peer_is_daemon=*/true);
      }
      const bool progress = header.type == MessageType::kProgress;
      if (header.type != MessageType::kReply && !progress) {
        return CommError(absl::StrCat("unexpected message type ",
                                      static_cast<int>(header.type)));
      }
      if (header.request_id == 0 && !progress) {
        // The daemon could not read a message and closes the connection: its
        // answer stands for every request still open.
        absl::StatusOr<Reply> reply = DecodeReply(message->payload);
        if (!reply.ok()) return CommError(reply.status().message());
        for (std::optional<Reply>& slot : replies) {
          if (!slot.has_value()) slot = *reply;
        }
        break;
      }
      // An id below first_id wraps around to a large index.
      const size_t index = header.request_id - first_id;
      if (index >= sent || (!progress && replies[index].has_value())) {
        return CommError(absl::StrCat(progress ? "progress" : "reply",
                                      " to request ", header.request_id,
                                      ", expected ", expected()));
      }
      if (progress) {
        absl::StatusOr<std::vector<std::string>> lines =
            DecodeProgress(message->payload);
        if (!lines.ok()) return CommError(lines.status().message());
        if (on_progress) on_progress(*lines);
        continue;
      }
      absl::StatusOr<Reply> reply = DecodeReply(message->payload);
      if (!reply.ok()) return CommError(reply.status().message());
      replies[index] = *std::move(reply);
      ++answered;
      if (sent < count) RETURN_IF_ERROR(send_next());
      continue;
    }
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      absl::Status fed = reader_.Feed(
          absl::MakeConstSpan(buffer.data(), static_cast<size_t>(n)));
      if (!fed.ok()) return CommError(fed.message());
      continue;
    }
    if (!send_error.ok() && (n == 0 || errno == ECONNRESET)) return send_error;
    if (n == 0) return CommError("connection closed without a reply");
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      return CommError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    absl::StatusOr<bool> readable = WaitFor(fd_.get(), POLLIN, deadline);
    if (!readable.ok()) return CommError(readable.status().message());
    if (!*readable) return absl::DeadlineExceededError("recv");
  }
  std::vector<Reply> result;
  result.reserve(count);
  for (std::optional<Reply>& reply : replies)
    result.push_back(*std::move(reply));
  return result;
}

absl::StatusOr<std::vector<Reply>> CallDaemonAll(
    const std::vector<Request>& requests, absl::Duration timeout,
    const ProgressFn& on_progress) {
  const absl::Time deadline = MonotonicNow() + timeout;
  ASSIGN_OR_RETURN(IpcClient client,
                   IpcClient::Connect(DaemonSocketPath(), timeout));
  return client.CallAll(
      requests, std::max(deadline - MonotonicNow(), absl::ZeroDuration()),
      on_progress);
}

absl::StatusOr<Reply> CallDaemon(const Request& request, absl::Duration timeout,
                                 const ProgressFn& on_progress) {
  ASSIGN_OR_RETURN(std::vector<Reply> replies,
                   CallDaemonAll({request}, timeout, on_progress));
  return std::move(replies.front());
}

}  // namespace kiscsi::ipc
