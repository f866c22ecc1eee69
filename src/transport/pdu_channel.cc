#include "src/transport/pdu_channel.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

constexpr size_t kReadChunk = 16384;

// Milliseconds left until `deadline`, rounded up so a poll never ends just
// short of it.
int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - MonotonicNow();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

absl::Status TransportError(absl::Status status) {
  return WithExitCode(std::move(status), ExitCode::kTransport);
}

// Waits for `events` on `fd` until `deadline`. Returns false on timeout.
absl::StatusOr<bool> WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    const int timeout_ms = PollTimeoutMs(deadline);
    const int ready = poll(&pfd, 1, timeout_ms);
    if (ready > 0) return true;
    if (ready == 0) {
      if (timeout_ms == 0) return false;
      continue;  // woke a little early; the next round recomputes what is left
    }
    if (errno != EINTR)
      return TransportError(absl::ErrnoToStatus(errno, "poll"));
  }
}

}  // namespace

TcpPduChannel::TcpPduChannel(UniqueFd fd, std::string peer)
    : fd_(std::move(fd)),
      peer_(std::move(peer)),
      limits_{.max_data_segment_length = kLoginMaxRecvDataSegmentLength,
              .digests = {}},
      reader_(limits_) {}

absl::Status TcpPduChannel::Send(const Pdu& pdu) {
  if (!broken_.ok()) return broken_;
  const std::vector<uint8_t> bytes = SerializePdu(pdu, send_digests_);
  const absl::Time deadline = MonotonicNow() + send_timeout_;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      broken_ = TransportError(
          absl::ErrnoToStatus(errno, absl::StrCat("send to ", peer_)));
      return broken_;
    }
    absl::StatusOr<bool> writable = WaitFor(fd_.get(), POLLOUT, deadline);
    if (!writable.ok()) return writable.status();
    if (!*writable) {
      // Part of a PDU may be on the wire: the stream cannot carry another one.
      broken_ = WithExitCode(
          absl::DeadlineExceededError(absl::StrCat(
              "timed out after ", absl::ToInt64Milliseconds(send_timeout_),
              " ms sending ", OpcodeName(pdu.opcode()), " to ", peer_)),
          ExitCode::kTransportTimeout);
      return broken_;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Pdu> TcpPduChannel::Receive(absl::Duration timeout) {
  const absl::Time deadline = MonotonicNow() + timeout;
  for (;;) {
    if (std::optional<Pdu> pdu = reader_.Next()) return *std::move(pdu);
    if (!broken_.ok()) return broken_;
    absl::StatusOr<bool> readable = WaitFor(fd_.get(), POLLIN, deadline);
    if (!readable.ok()) return readable.status();
    if (!*readable) {
      return WithExitCode(
          absl::DeadlineExceededError(absl::StrCat(
              "timed out after ", absl::ToInt64Milliseconds(timeout),
              " ms waiting for a PDU from ", peer_)),
          ExitCode::kTransportTimeout);
    }
    uint8_t buffer[kReadChunk];
    const ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
    if (n == 0) {
      broken_ = TransportError(
          absl::UnavailableError(absl::StrCat("connection closed by ", peer_)));
      continue;  // PDUs completed before the close are still delivered
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      broken_ = TransportError(
          absl::ErrnoToStatus(errno, absl::StrCat("read from ", peer_)));
      continue;
    }
    absl::Status fed =
        reader_.Feed(absl::MakeConstSpan(buffer, static_cast<size_t>(n)));
    if (!fed.ok()) {
      broken_ = TransportError(absl::Status(
          fed.code(),
          absl::StrCat("bad PDU from ", peer_, ": ", fed.message())));
    }
  }
}

void TcpPduChannel::SetDigests(DigestOptions digests) {
  limits_.digests = digests;
  reader_.SetLimits(limits_);
  send_digests_ = digests;
}

void TcpPduChannel::SetMaxRecvDataSegmentLength(uint32_t length) {
  limits_.max_data_segment_length = length;
  reader_.SetLimits(limits_);
}

absl::StatusOr<std::unique_ptr<TcpPduChannel>> ConnectTcp(
    const Portal& portal, absl::Duration timeout) {
  const std::string name = FormatPortal(portal, ':');
  const absl::Time deadline = MonotonicNow() + timeout;

  ASSIGN_OR_RETURN(const std::vector<SocketAddress> addresses,
                   ResolvePortal(portal));

  absl::Status last_error = TransportError(absl::UnavailableError(
      absl::StrCat("cannot connect to ", name, ": no address")));
  for (const SocketAddress& address : addresses) {
    UniqueFd fd(socket(address.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last_error = TransportError(
          absl::ErrnoToStatus(errno, absl::StrCat("cannot connect to ", name)));
      continue;
    }
    int error = 0;
    if (connect(fd.get(), address.get(), address.length) != 0) error = errno;
    if (error == EINPROGRESS || error == EINTR) {
      ASSIGN_OR_RETURN(const bool connected,
                       WaitFor(fd.get(), POLLOUT, deadline));
      if (!connected) {
        return WithExitCode(
            absl::DeadlineExceededError(
                absl::StrCat("cannot connect to ", name, ": timed out after ",
                             absl::ToInt64Milliseconds(timeout), " ms")),
            ExitCode::kTransportTimeout);
      }
      socklen_t length = sizeof(error);
      if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    }
    if (error != 0) {
      last_error = TransportError(
          absl::ErrnoToStatus(error, absl::StrCat("cannot connect to ", name)));
      continue;
    }
    const int one = 1;
    if (setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) !=
        0) {
      return TransportError(absl::ErrnoToStatus(
          errno, absl::StrCat("set TCP_NODELAY for ", name)));
    }
    return std::make_unique<TcpPduChannel>(std::move(fd), name);
  }
  return last_error;
}

}  // namespace kiscsi
