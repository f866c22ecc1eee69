#include "src/transport/pdu_channel.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/event_loop.h"
#include "src/base/exit_code.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"
#include "src/transport/tcp_connect.h"

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
  const absl::Time deadline = MonotonicNow() + timeout;
  // Names resolve here, on the caller's thread, as the caller expects of a
  // blocking call; the connect itself is TcpConnector's, on a private loop.
  ASSIGN_OR_RETURN(std::vector<SocketAddress> addresses, ResolvePortal(portal));
  ASSIGN_OR_RETURN(std::unique_ptr<EventLoop> loop, EventLoop::Create());
  ConnectOptions options;
  options.timeout = std::max(deadline - MonotonicNow(), absl::ZeroDuration());
  std::optional<absl::StatusOr<UniqueFd>> outcome;
  TcpConnector connector(
      *loop, portal, options,
      [&outcome](absl::StatusOr<UniqueFd> fd) { outcome = std::move(fd); });
  connector.StartWith(std::move(addresses));
  RETURN_IF_ERROR(loop->RunUntil([&] { return outcome.has_value(); },
                                 absl::InfiniteDuration()));
  if (!outcome->ok()) {
    absl::Status error = outcome->status();
    if (error.code() == absl::StatusCode::kDeadlineExceeded) {
      // The whole call's timeout, as the caller gave it.
      return WithExitCode(
          absl::DeadlineExceededError(absl::StrCat(
              "cannot connect to ", FormatPortal(portal, ':'),
              ": timed out after ", absl::ToInt64Milliseconds(timeout), " ms")),
          ExitCode::kTransportTimeout);
    }
    return error;
  }
  return std::make_unique<TcpPduChannel>(**std::move(outcome),
                                         FormatPortal(portal, ':'));
}

}  // namespace kiscsi
