// The TCP connect to a portal, without blocking: on an EventLoop for the
// daemon's many logins in one thread (TcpConnector), and a blocking form for
// the userspace PDU channel (ConnectTcp in pdu_channel.h runs a TcpConnector
// on a private loop).
//
// TcpConnector owns the name lookup (host names on a BlockingCall, literals
// at once), the non-blocking socket while it connects, and its timers. It
// tries each address in turn; the socket it hands over is connected, non-
// blocking, close-on-exec, with TCP_NODELAY. It knows nothing of iSCSI and
// never reads or writes the socket.
//
// Errors carry ExitCodes: kTransport (4) for a refused or unreachable
// address ("cannot connect to 10.0.0.1:3260: Connection refused"), a name
// that does not resolve, or no address; kTransportTimeout (8) when a timeout
// expired.
#ifndef KISCSI_SRC_TRANSPORT_TCP_CONNECT_H_
#define KISCSI_SRC_TRANSPORT_TCP_CONNECT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/base/blocking_call.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/transport/portal.h"

namespace kiscsi {

struct ConnectOptions {
  // Bounds the connect of each address (a blackholed portal): on expiry the
  // next address is tried, and the last expiry is the outcome
  // ("... no answer within N ms").
  std::optional<absl::Duration> per_address_timeout;
  // Bounds the whole attempt from Start() on: on expiry it ends at once
  // ("... timed out after N ms").
  std::optional<absl::Duration> timeout;
};

class TcpConnector {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<UniqueFd>)>;

  // `done` runs once, on `loop`, never from inside Start(); it may destroy
  // the connector. The loop must outlive the connector.
  TcpConnector(EventLoop& loop, Portal portal, ConnectOptions options,
               Done done);
  // Destroying an unfinished connector cancels it: no callback, the socket
  // is closed, a name lookup still waiting reports to nobody.
  ~TcpConnector();
  TcpConnector(const TcpConnector&) = delete;
  TcpConnector& operator=(const TcpConnector&) = delete;

  // Resolves the portal, then connects.
  void Start();
  // Connects to `addresses` (already resolved), in order.
  void StartWith(std::vector<SocketAddress> addresses);

  // A name lookup or a connect is in flight (both complete in real time,
  // whatever the loop's clock says).
  bool in_flight() const { return resolve_ != nullptr || registered_; }
  const Portal& portal() const { return portal_; }

 private:
  void StartTimeout();
  void TryNextAddress();
  void OnWritable();
  void OnAddressTimeout();
  void CloseSocket();
  void CancelTimers();
  void Finish(absl::StatusOr<UniqueFd> outcome);

  EventLoop& loop_;
  const Portal portal_;
  const ConnectOptions options_;
  Done done_;

  std::unique_ptr<BlockingCall> resolve_;
  std::vector<SocketAddress> addresses_;
  size_t next_address_ = 0;
  absl::Status last_error_;
  UniqueFd socket_;
  bool registered_ = false;
  bool finished_ = false;
  bool starting_ = false;  // inside Start()/StartWith()
  std::optional<EventLoop::TimerId> address_timer_;
  std::optional<EventLoop::TimerId> overall_timer_;
  std::optional<EventLoop::TimerId> finish_timer_;
  std::optional<absl::StatusOr<UniqueFd>> outcome_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_TRANSPORT_TCP_CONNECT_H_
