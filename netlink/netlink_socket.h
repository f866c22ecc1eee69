// The NETLINK_ISCSI socket: moves request and reply bytes, queues events.
//
// One socket carries both directions, as the kernel expects: requests go to
// the kernel (port 0) and are answered in the sender's context; the socket is
// bound to multicast group 1, so kernel events arrive on it too. Events that
// arrive while a request waits for its reply are queued, never lost, and come
// out of the next ReadEvents().
//
// Neither class is thread-safe: one thread (the daemon's event loop) owns
// the socket.
//
// KernelInbox is the pure part: it sorts received datagrams into replies and
// events. NetlinkSocket only moves bytes into it, with plain socket calls
// (recvmsg() to see the sender's address and the datagram's true size).
#ifndef KISCSI_NETLINK_NETLINK_SOCKET_H_
#define KISCSI_NETLINK_NETLINK_SOCKET_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "netlink/iscsi_kernel.h"
#include "netlink/uevent_codec.h"
#include "src/base/unique_fd.h"

namespace kiscsi {

class KernelInbox {
 public:
  // Decodes one datagram: replies are kept for TakeReply(), events queued for
  // TakeEvents(). A datagram that does not decode is logged and queued as an
  // EventsLostEvent: whatever events it held are gone, so the daemon must
  // re-read state from sysfs.
  void AddDatagram(absl::Span<const uint8_t> datagram);
  // Queues an EventsLostEvent (the socket overflowed).
  void AddEventsLost();

  // The reply to request `id`, if it has arrived. A reply matches on the
  // request type and on seq, which the kernel either echoes or leaves 0; a
  // GET_STATS answer (a multicast every listener gets) also on the sid and
  // cid asked about. Replies to anything else (a request that timed out,
  // another process's GET_STATS) are dropped.
  std::optional<KernelReply> TakeReply(const RequestId& id);
  // Drops every reply received so far. Before a request is sent they are all
  // stale: an old GET_STATS answer must not pass for the next one.
  void DropReplies() { replies_.clear(); }
  std::vector<KernelEvent> TakeEvents();
  bool has_events() const { return !events_.empty(); }
  // Removes queued CONN_ERROR events of (sid, cid).
  void DropConnErrors(uint32_t sid, uint32_t cid);

 private:
  struct PendingReply {
    uint32_t seq;
    KernelReply reply;
  };
  // Replies nobody waits for are not kept beyond this.
  static constexpr size_t kMaxPendingReplies = 16;

  std::deque<PendingReply> replies_;
  std::vector<KernelEvent> events_;
};

struct NetlinkSocketOptions {
  // SO_RCVBUF(FORCE) for the event backlog: a control PDU the kernel cannot
  // queue fails the connection with error 1011.
  int receive_buffer_bytes = 8 << 20;
  // How long Request() waits for a reply after sending (the kernel answers
  // synchronously, so the reply is normally there when sendto() returns).
  int reply_timeout_ms = 5000;
  // The same for GET_STATS, whose answer is a multicast, also queued before
  // sendto() returns. One that is not there was lost (the socket overflowed):
  // waiting long for it would only hold up the daemon's loop.
  int stats_timeout_ms = 1000;
};

class NetlinkSocket {
 public:
  // Opens and binds the socket. On a kernel without scsi_transport_iscsi the
  // error carries ExitCode kTransportNotFound; without root, kAccessDenied.
  static absl::StatusOr<std::unique_ptr<NetlinkSocket>> Open(
      const NetlinkSocketOptions& options);
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // For RequestHeader: the socket's port id and a fresh sequence number.
  uint32_t portid() const;
  uint32_t NextSeq() { return next_seq_++; }

  // Sends one encoded request and waits for its reply (for GET_STATS, the
  // answer about its sid/cid). The reply is returned as is (IF_ERROR and
  // retcodes included): the caller knows how to name the request in an error.
  absl::StatusOr<KernelReply> Request(absl::Span<const uint8_t> message);

  // Readable (for epoll) when the kernel may have sent something, or when
  // Request() queued events that arrived while it waited for its reply (those
  // are no longer in the socket, so the socket alone would not wake anyone).
  int fd() const { return poll_fd_.get(); }
  // Events queued while waiting for replies plus whatever is readable now;
  // never blocks.
  absl::StatusOr<std::vector<KernelEvent>> ReadEvents();
  // Forgets connection errors of (sid, cid) received so far. After a STOP_CONN
  // reply they are stale: netlink delivers a connection's error before the
  // reply to a later request, and the stop released that socket, so an error
  // still queued belongs to a connection that no longer exists. Left in, it
  // would tear down the connection that replaces it.
  void DropQueuedConnErrors(uint32_t sid, uint32_t cid) {
    inbox_.DropConnErrors(sid, cid);
  }

 private:
  NetlinkSocket(UniqueFd socket, const NetlinkSocketOptions& options);
  // Receives every datagram that is waiting, without blocking.
  absl::Status Drain();
  // Request() without the wake-up for the events it queued.
  absl::StatusOr<KernelReply> SendAndWait(absl::Span<const uint8_t> message);

  UniqueFd socket_;
  uint32_t portid_ = 0;
  UniqueFd wake_fd_;  // eventfd: events are queued in inbox_
  UniqueFd poll_fd_;  // epoll over the socket and wake_fd_, for fd()
  NetlinkSocketOptions options_;
  uint32_t next_seq_ = 1;
  std::vector<uint8_t> buffer_;
  KernelInbox inbox_;
};

}  // namespace kiscsi

#endif  // KISCSI_NETLINK_NETLINK_SOCKET_H_
