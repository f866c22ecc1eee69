// kiscsiadm's side of the IPC: a connection to kiscsid and blocking calls with
// a deadline.
//
//   ASSIGN_OR_RETURN(ipc::Reply reply,
//                    ipc::CallDaemon(ipc::PingRequest{}, absl::Seconds(5)));
//   RETURN_IF_ERROR(ipc::ReplyStatus(reply));
//
// Failures to talk to the daemon carry iscsiadm's exit codes: kDaemonConnect
// (20) when nothing listens on the socket, kAccessDenied (13) when the socket
// refuses us, kDaemonTimeout (33) when no reply comes in time and kDaemonComm
// (18) for a broken conversation (connection closed, garbage, protocol version
// mismatch). A reply that reports a failed operation is not an error of the
// call: check it with ReplyStatus().
#ifndef KISCSI_SRC_IPC_IPC_CLIENT_H_
#define KISCSI_SRC_IPC_IPC_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/base/unique_fd.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi::ipc {

// Receives the lines of Progress messages, as they arrive.
using ProgressFn = std::function<void(const std::vector<std::string>& lines)>;

class IpcClient {
 public:
  // Connects to the daemon listening on `socket_path`, waiting at most
  // `timeout` for room in its accept queue.
  static absl::StatusOr<IpcClient> Connect(const std::string& socket_path,
                                           absl::Duration timeout);

  // Sends `request` and waits at most `timeout` for its reply, handing the
  // lines of any Progress message to `on_progress` meanwhile. After a failed
  // call the connection is closed and every later call fails.
  absl::StatusOr<Reply> Call(const Request& request, absl::Duration timeout,
                             const ProgressFn& on_progress = nullptr);

  // Call() for several requests at once: they are pipelined (at most
  // kMaxRequestsInFlight unanswered at a time), so the daemon works on them
  // side by side, and `timeout` bounds them all. The replies are returned in
  // the order of `requests`.
  absl::StatusOr<std::vector<Reply>> CallAll(
      const std::vector<Request>& requests, absl::Duration timeout,
      const ProgressFn& on_progress = nullptr);

 private:
  IpcClient(UniqueFd fd, std::string socket_path)
      : fd_(std::move(fd)), socket_path_(std::move(socket_path)) {}

  // Sends the encoded requests, numbered from `first_id`, and collects their
  // replies; a passed deadline is kDeadlineExceeded.
  absl::StatusOr<std::vector<Reply>> Exchange(
      uint32_t first_id, const std::vector<std::vector<uint8_t>>& requests,
      absl::Time deadline, const ProgressFn& on_progress);
  absl::Status Send(const std::vector<uint8_t>& bytes, absl::Time deadline);
  absl::Status CommError(absl::string_view what) const;

  UniqueFd fd_;
  std::string socket_path_;
  uint32_t next_request_id_ = 1;
  MessageReader reader_;
};

// Connects to DaemonSocketPath() and makes one call; `timeout` bounds both.
absl::StatusOr<Reply> CallDaemon(const Request& request, absl::Duration timeout,
                                 const ProgressFn& on_progress = nullptr);
// The same with CallAll().
absl::StatusOr<std::vector<Reply>> CallDaemonAll(
    const std::vector<Request>& requests, absl::Duration timeout,
    const ProgressFn& on_progress = nullptr);

}  // namespace kiscsi::ipc

#endif  // KISCSI_SRC_IPC_IPC_CLIENT_H_
