// kiscsid's side of the IPC (src/ipc/ipc_protocol.h): accepts kiscsiadm
// connections on the event loop, reads requests and hands them to a
// CommandHandler, and writes the replies back whenever the handler answers.
//
// Nothing blocks: sockets are non-blocking, every client has its own buffers,
// and a slow request (a login) does not delay the others. Limits keep a
// misbehaving client from exhausting the daemon:
//   - a message's payload is at most ipc::kMaxPayloadLength bytes;
//   - at most `max_clients` connections: a new one beyond that closes the
//     connection idle the longest (no request in flight, nothing to send);
//     when every one is busy, the newcomer is answered "too many
//     connections" (ExitCode kBusy, request id 0) and closed;
//   - at most `max_requests_per_client` requests in flight per connection;
//     more are answered with ExitCode kBusy;
//   - a client that does not read its replies is not read either while more
//     than kMaxPendingOutput bytes wait for it (backpressure), so pipelined
//     requests cannot grow the daemon's memory;
//   - a connection with no request in flight for `idle_timeout` is closed.
// A malformed request gets an error reply and the connection stays usable; a
// bad header (wrong magic, oversized payload) gets an error reply with
// request id 0 and the connection is closed, as the stream cannot be followed.
// The warnings a client can cause are rate-limited (a few per second per
// connection, and for refused connections), with a count of those held back.
//
// Only peers whose SO_PEERCRED uid is `allowed_uid` may command the daemon;
// every request from another uid is answered with ExitCode kAccessDenied and
// the connection is closed.
#ifndef KISCSI_SRC_DAEMON_IPC_SERVER_H_
#define KISCSI_SRC_DAEMON_IPC_SERVER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/base/event_loop.h"
#include "src/base/log.h"
#include "src/base/unique_fd.h"
#include "src/daemon/command_handler.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi::daemon {

struct IpcServerOptions {
  uid_t allowed_uid = 0;
  size_t max_clients = 64;
  size_t max_requests_per_client = ipc::kMaxRequestsInFlight;
  absl::Duration idle_timeout = absl::Seconds(60);
};

// Creates a listening unix stream socket at `path` with mode 0600. A socket
// file left behind by a daemon that died is replaced; a live daemon answering
// there is an error (kiscsid is already running).
absl::StatusOr<UniqueFd> ListenOnPath(const std::string& path);

class IpcServer {
 public:
  // Replies waiting for a client beyond this stop the reading of its
  // requests until it has read them.
  static constexpr size_t kMaxPendingOutput = 256 * 1024;

  // Serves `listener`, a listening unix stream socket, until destroyed.
  static absl::StatusOr<std::unique_ptr<IpcServer>> Create(
      EventLoop& loop, UniqueFd listener, CommandHandler& handler,
      IpcServerOptions options = {});
  // Closes every connection; replies the handler sends later are dropped.
  ~IpcServer();
  IpcServer(const IpcServer&) = delete;
  IpcServer& operator=(const IpcServer&) = delete;

  size_t client_count() const { return clients_.size(); }
  // The memory held for replies not yet sent, over all clients (for tests;
  // call from the loop's thread or while it does not run).
  size_t output_buffer_bytes() const;

 private:
  struct Client;
  class PendingReply;

  IpcServer(EventLoop& loop, UniqueFd listener, CommandHandler& handler,
            IpcServerOptions options);

  void OnListenerReady();
  void PauseAccepting();
  void Accept(UniqueFd fd);
  void OnClientEvents(uint64_t id, uint32_t events);
  void ReadFrom(uint64_t id);
  // Handles the requests the client's reader holds while its output has
  // room. Returns whether the reader ran dry (false as well when the client
  // is gone or stopped reading).
  bool HandleBuffered(uint64_t id);
  // Makes room for a new connection by closing the one idle the longest;
  // false if every connection is busy.
  bool EvictIdle();
  void HandleMessage(uint64_t id, const ipc::Message& message);
  // The handler's reply to request `request_id` of client `id`.
  void Finish(uint64_t id, uint32_t request_id, const ipc::Reply& reply);
  void SendProgress(uint64_t id, uint32_t request_id,
                    const std::vector<std::string>& lines);
  void Answer(uint64_t id, uint32_t request_id, const ipc::Reply& reply);
  void Flush(uint64_t id);
  void UpdateInterest(Client& client);
  void ArmIdleTimer(Client& client);
  void Close(uint64_t id);
  Client* Find(uint64_t id);

  EventLoop& loop_;
  UniqueFd listener_;
  CommandHandler& handler_;
  IpcServerOptions options_;
  uint64_t next_client_id_ = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Client>> clients_;
  EventLoop::TimerId resume_timer_ = 0;
  // Warnings about connections (refused, unreadable), over all clients.
  LogRateLimiter connection_warnings_;
  // Reply callbacks hold a weak reference: a reply arriving after the server
  // is gone is dropped.
  std::shared_ptr<IpcServer*> self_;
};

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_IPC_SERVER_H_
