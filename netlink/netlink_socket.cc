#include "netlink/netlink_socket.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"

namespace kiscsi {

static_assert(NETLINK_ISCSI == kNetlinkIscsi);

void KernelInbox::AddDatagram(absl::Span<const uint8_t> datagram) {
  absl::StatusOr<std::vector<absl::Span<const uint8_t>>> messages =
      SplitNetlinkMessages(datagram);
  if (!messages.ok()) {
    KISCSI_LOG(kWarning) << "NETLINK_ISCSI: dropping a datagram of "
                         << datagram.size()
                         << " bytes: " << messages.status().message();
    AddEventsLost();
    return;
  }
  for (absl::Span<const uint8_t> message : *messages) {
    absl::StatusOr<DecodedMessage> decoded = DecodeKernelMessage(message);
    if (!decoded.ok()) {
      KISCSI_LOG(kWarning) << "NETLINK_ISCSI: dropping a message: "
                           << decoded.status().message();
      AddEventsLost();
      continue;
    }
    if (KernelReply* reply = std::get_if<KernelReply>(&decoded->body)) {
      if (replies_.size() == kMaxPendingReplies) replies_.pop_front();
      replies_.push_back(PendingReply{decoded->seq, std::move(*reply)});
    } else if (KernelEvent* event = std::get_if<KernelEvent>(&decoded->body)) {
      events_.push_back(std::move(*event));
    } else {
      KISCSI_LOG(kDebug) << "NETLINK_ISCSI: ignoring "
                         << UeventTypeName(
                                std::get<IgnoredMessage>(decoded->body).type);
    }
  }
}

void KernelInbox::AddEventsLost() { events_.push_back(EventsLostEvent{}); }

void KernelInbox::DropConnErrors(uint32_t sid, uint32_t cid) {
  std::erase_if(events_, [&](const KernelEvent& event) {
    const auto* error = std::get_if<ConnErrorEvent>(&event);
    return error != nullptr && error->sid == sid && error->cid == cid;
  });
}

std::optional<KernelReply> KernelInbox::TakeReply(const RequestId& id) {
  while (!replies_.empty()) {
    PendingReply pending = std::move(replies_.front());
    replies_.pop_front();
    const KernelReply& reply = pending.reply;
    // A refusal is unicast to its sender: only an answer can be someone
    // else's.
    const bool about_this = !id.conn.has_value() ||
                            reply.if_error.has_value() ||
                            (reply.request_sid == id.conn->sid &&
                             reply.request_cid == id.conn->cid);
    if (reply.request_type == id.type &&
        (pending.seq == id.seq || pending.seq == 0) && about_this) {
      return std::move(pending.reply);
    }
    KISCSI_LOG(kDebug) << "NETLINK_ISCSI: dropping a stale reply to "
                       << UeventTypeName(pending.reply.request_type) << " seq "
                       << pending.seq;
  }
  return std::nullopt;
}

std::vector<KernelEvent> KernelInbox::TakeEvents() {
  return std::exchange(events_, {});
}

absl::StatusOr<std::unique_ptr<NetlinkSocket>> NetlinkSocket::Open(
    const NetlinkSocketOptions& options) {
  // Plain syscalls: the codec frames every message itself (uevent_codec), so
  // no netlink library is needed, and kiscsistart links as a static PIE.
  UniqueFd socket_fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                            kNetlinkIscsi));
  if (!socket_fd.valid()) {
    const int error = errno;
    if (error == EPROTONOSUPPORT) {
      return WithExitCode(
          ErrnoStatus(error,
                      "open NETLINK_ISCSI socket: the kernel has no iSCSI "
                      "transport (load scsi_transport_iscsi / iscsi_tcp)"),
          ExitCode::kTransportNotFound);
    }
    return ErrnoStatus(error, "open NETLINK_ISCSI socket");
  }
  const int fd = socket_fd.get();
  // From here the socket is owned by the object, closed on any failure.
  std::unique_ptr<NetlinkSocket> result(
      new NetlinkSocket(std::move(socket_fd), options));
  const int size = options.receive_buffer_bytes;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0) {
    KISCSI_LOG(kWarning) << "NETLINK_ISCSI: cannot set a " << size
                         << "-byte receive buffer; events may be lost";
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = kIscsiEventGroup;  // nl_pid 0: the kernel assigns one
  if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
    const int error = errno;
    if (error == EPERM || error == EACCES) {
      return WithExitCode(
          ErrnoStatus(error,
                      "bind NETLINK_ISCSI socket to event group 1 (needs "
                      "root)"),
          ExitCode::kAccessDenied);
    }
    return ErrnoStatus(error, "bind NETLINK_ISCSI socket to event group 1");
  }
  socklen_t local_size = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) {
    return ErrnoStatus(errno, "read the NETLINK_ISCSI socket's port id");
  }
  result->portid_ = local.nl_pid;
  result->wake_fd_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  result->poll_fd_.Reset(epoll_create1(EPOLL_CLOEXEC));
  if (!result->wake_fd_.valid() || !result->poll_fd_.valid()) {
    return ErrnoStatus(errno, "create the NETLINK_ISCSI event fds");
  }
  for (int watched : {fd, result->wake_fd_.get()}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = watched;
    if (epoll_ctl(result->poll_fd_.get(), EPOLL_CTL_ADD, watched, &event) !=
        0) {
      return ErrnoStatus(errno, "watch the NETLINK_ISCSI socket");
    }
  }
  return result;
}

NetlinkSocket::NetlinkSocket(UniqueFd socket,
                             const NetlinkSocketOptions& options)
    : socket_(std::move(socket)), options_(options), buffer_(64 * 1024) {}

NetlinkSocket::~NetlinkSocket() = default;

uint32_t NetlinkSocket::portid() const { return portid_; }

absl::StatusOr<KernelReply> NetlinkSocket::Request(
    absl::Span<const uint8_t> message) {
  absl::StatusOr<KernelReply> reply = SendAndWait(message);
  if (inbox_.has_events()) {
    // Events for other operations came in meanwhile: wake the loop.
    const uint64_t one = 1;
    if (write(wake_fd_.get(), &one, sizeof(one)) < 0 && errno != EAGAIN) {
      KISCSI_LOG(kWarning) << "NETLINK_ISCSI: cannot signal queued events";
    }
  }
  return reply;
}

absl::StatusOr<KernelReply> NetlinkSocket::SendAndWait(
    absl::Span<const uint8_t> message) {
  ASSIGN_OR_RETURN(const RequestId id, ReadRequestId(message));
  const std::string name = UeventTypeName(id.type);
  const int timeout_ms = id.type == kUeventGetStats ? options_.stats_timeout_ms
                                                    : options_.reply_timeout_ms;
  // Whatever is waiting now was sent before this request was.
  RETURN_IF_ERROR(Drain());
  inbox_.DropReplies();
  sockaddr_nl kernel{};  // nl_pid 0: the kernel
  kernel.nl_family = AF_NETLINK;
  const ssize_t sent =
      sendto(socket_.get(), message.data(), message.size(), 0,
             reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel));
  if (sent < 0) return ErrnoStatus(errno, absl::StrCat("send ", name));
  if (static_cast<size_t>(sent) != message.size()) {
    return absl::InternalError(absl::StrCat("send ", name, ": sent ", sent,
                                            " of ", message.size(), " bytes"));
  }
  const absl::Time deadline = MonotonicNow() + absl::Milliseconds(timeout_ms);
  while (true) {
    RETURN_IF_ERROR(Drain());
    if (std::optional<KernelReply> reply = inbox_.TakeReply(id)) {
      return *std::move(reply);
    }
    const int64_t left_ms = absl::ToInt64Milliseconds(
        absl::Ceil(deadline - MonotonicNow(), absl::Milliseconds(1)));
    if (left_ms <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("no reply from the kernel to ", name, " (seq ", id.seq,
                       ") within ", timeout_ms, " ms"));
    }
    pollfd poll_fd = {socket_.get(), POLLIN, 0};
    if (poll(&poll_fd, 1, static_cast<int>(left_ms)) < 0 && errno != EINTR) {
      return ErrnoStatus(errno, "poll NETLINK_ISCSI socket");
    }
  }
}

absl::StatusOr<std::vector<KernelEvent>> NetlinkSocket::ReadEvents() {
  uint64_t signalled = 0;
  if (read(wake_fd_.get(), &signalled, sizeof(signalled)) < 0 &&
      errno != EAGAIN) {
    return ErrnoStatus(errno, "read the NETLINK_ISCSI wake-up eventfd");
  }
  RETURN_IF_ERROR(Drain());
  return inbox_.TakeEvents();
}

absl::Status NetlinkSocket::Drain() {
  while (true) {
    // Peek first: MSG_TRUNC makes recv() return the datagram's true size, so
    // a large RECV_PDU is never cut short.
    const ssize_t size =
        recv(socket_.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (size < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return absl::OkStatus();
      if (error == EINTR) continue;
      if (error == ENOBUFS) {
        KISCSI_LOG(kWarning)
            << "NETLINK_ISCSI: receive buffer overflowed, events were lost";
        inbox_.AddEventsLost();
        continue;
      }
      return ErrnoStatus(error, "receive from NETLINK_ISCSI socket");
    }
    if (static_cast<size_t>(size) > buffer_.size()) buffer_.resize(size);

    sockaddr_nl from = {};
    iovec iov = {buffer_.data(), buffer_.size()};
    msghdr msg = {};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t got = recvmsg(socket_.get(), &msg, MSG_DONTWAIT);
    if (got < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return absl::OkStatus();
      if (error == EINTR) continue;
      if (error == ENOBUFS) {
        inbox_.AddEventsLost();
        continue;
      }
      return ErrnoStatus(error, "receive from NETLINK_ISCSI socket");
    }
    if (from.nl_pid != 0) {
      // Only the kernel speaks for the kernel: a process that unicasts to
      // this port could otherwise forge login responses.
      KISCSI_LOG(kWarning) << "NETLINK_ISCSI: dropping " << got
                           << " bytes sent by port " << from.nl_pid
                           << ", not the kernel";
      continue;
    }
    inbox_.AddDatagram(
        absl::Span<const uint8_t>(buffer_.data(), static_cast<size_t>(got)));
  }
}

}  // namespace kiscsi
