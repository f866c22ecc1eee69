#include "src/transport/tcp_connect.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

absl::Status TransportError(absl::Status status) {
  return WithExitCode(std::move(status), ExitCode::kTransport);
}

}  // namespace

TcpConnector::TcpConnector(EventLoop& loop, Portal portal,
                           ConnectOptions options, Done done)
    : loop_(loop),
      portal_(std::move(portal)),
      options_(options),
      done_(std::move(done)) {}

TcpConnector::~TcpConnector() {
  resolve_.reset();
  CloseSocket();
  CancelTimers();
  if (finish_timer_.has_value()) loop_.CancelTimer(*finish_timer_);
}

void TcpConnector::StartTimeout() {
  if (!options_.timeout.has_value()) return;
  overall_timer_ = loop_.AddTimer(*options_.timeout, [this] {
    overall_timer_.reset();
    Finish(
        WithExitCode(absl::DeadlineExceededError(absl::StrCat(
                         "cannot connect to ", FormatPortal(portal_, ':'),
                         ": timed out after ",
                         absl::ToInt64Milliseconds(*options_.timeout), " ms")),
                     ExitCode::kTransportTimeout));
  });
}

void TcpConnector::Start() {
  starting_ = true;
  StartTimeout();
  if (IsAddressLiteral(portal_.address)) {
    absl::StatusOr<std::vector<SocketAddress>> addresses =
        ResolvePortal(portal_);
    if (addresses.ok()) {
      addresses_ = *std::move(addresses);
      TryNextAddress();
    } else {
      Finish(addresses.status());
    }
    starting_ = false;
    return;
  }
  // A name may wait for DNS for seconds: not on the loop, which carries
  // everything else.
  using Addresses = absl::StatusOr<std::vector<SocketAddress>>;
  const Portal portal = portal_;
  absl::StatusOr<std::unique_ptr<BlockingCall>> resolve =
      BlockingCall::Start<Addresses>(
          loop_, [portal] { return ResolvePortal(portal); },
          [this](Addresses addresses) {
            resolve_.reset();
            if (!addresses.ok()) {
              Finish(addresses.status());
              return;
            }
            addresses_ = *std::move(addresses);
            TryNextAddress();
          });
  if (!resolve.ok()) {
    Finish(resolve.status());
  } else {
    resolve_ = *std::move(resolve);
  }
  starting_ = false;
}

void TcpConnector::StartWith(std::vector<SocketAddress> addresses) {
  starting_ = true;
  StartTimeout();
  addresses_ = std::move(addresses);
  TryNextAddress();
  starting_ = false;
}

void TcpConnector::TryNextAddress() {
  if (finished_) return;
  const std::string where = FormatPortal(portal_, ':');
  if (next_address_ == 0) {
    last_error_ = TransportError(absl::UnavailableError(
        absl::StrCat("cannot connect to ", where, ": no address")));
  }
  while (next_address_ < addresses_.size()) {
    const SocketAddress& address = addresses_[next_address_++];
    UniqueFd fd(socket(address.family(),
                       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last_error_ = TransportError(
          ErrnoStatus(errno, absl::StrCat("cannot connect to ", where)));
      continue;
    }
    if (connect(fd.get(), address.get(), address.length) != 0 &&
        errno != EINPROGRESS && errno != EINTR) {
      last_error_ = TransportError(
          ErrnoStatus(errno, absl::StrCat("cannot connect to ", where)));
      continue;
    }
    // Connected at once or in progress: writable when done either way.
    absl::Status added =
        loop_.AddFd(fd.get(), EPOLLOUT, [this](uint32_t) { OnWritable(); });
    if (!added.ok()) {
      Finish(std::move(added));
      return;
    }
    socket_ = std::move(fd);
    registered_ = true;
    if (options_.per_address_timeout.has_value()) {
      address_timer_ = loop_.AddTimer(*options_.per_address_timeout, [this] {
        address_timer_.reset();
        OnAddressTimeout();
      });
    }
    return;
  }
  Finish(last_error_);
}

void TcpConnector::OnAddressTimeout() {
  CloseSocket();
  last_error_ = WithExitCode(
      absl::DeadlineExceededError(absl::StrCat(
          "cannot connect to ", FormatPortal(portal_, ':'),
          ": no answer within ",
          absl::ToInt64Milliseconds(*options_.per_address_timeout), " ms")),
      ExitCode::kTransportTimeout);
  TryNextAddress();
}

void TcpConnector::OnWritable() {
  if (address_timer_.has_value()) loop_.CancelTimer(*address_timer_);
  address_timer_.reset();
  loop_.RemoveFd(socket_.get());
  registered_ = false;
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(socket_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
    error = errno;
  const std::string where = FormatPortal(portal_, ':');
  if (error != 0) {
    socket_.Reset();
    last_error_ = TransportError(
        ErrnoStatus(error, absl::StrCat("cannot connect to ", where)));
    TryNextAddress();
    return;
  }
  const int one = 1;
  if (setsockopt(socket_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) !=
      0) {
    Finish(TransportError(
        ErrnoStatus(errno, absl::StrCat("set TCP_NODELAY for ", where))));
    return;
  }
  Finish(std::move(socket_));
}

void TcpConnector::CloseSocket() {
  if (registered_) loop_.RemoveFd(socket_.get());
  registered_ = false;
  socket_.Reset();
}

void TcpConnector::CancelTimers() {
  if (address_timer_.has_value()) loop_.CancelTimer(*address_timer_);
  if (overall_timer_.has_value()) loop_.CancelTimer(*overall_timer_);
  address_timer_.reset();
  overall_timer_.reset();
}

void TcpConnector::Finish(absl::StatusOr<UniqueFd> outcome) {
  if (finished_) return;
  finished_ = true;
  resolve_.reset();
  CancelTimers();
  if (!outcome.ok()) CloseSocket();
  if (!starting_) {
    Done done = std::move(done_);
    done(std::move(outcome));  // may destroy this object
    return;
  }
  // From inside Start(): the caller hears of it on the loop's next round.
  outcome_ = std::move(outcome);
  finish_timer_ = loop_.AddTimer(absl::ZeroDuration(), [this] {
    finish_timer_.reset();
    Done done = std::move(done_);
    absl::StatusOr<UniqueFd> outcome = std::move(*outcome_);
    outcome_.reset();
    done(std::move(outcome));  // may destroy this object
  });
}

}  // namespace kiscsi
