// kiscsid's frame around a CommandHandler: the IPC server, signals and
// systemd's service protocol.
//
//   SIGTERM, SIGINT: Run() returns. No session is logged out: sessions live in
//     the kernel, may hold the root filesystem, and the next kiscsid takes
//     them over.
//   SIGHUP: the handler's Reload(), bracketed by RELOADING=1 and READY=1.
//
// Signals arrive through a signalfd on the event loop. Create() blocks
// SIGTERM, SIGINT and SIGHUP in the calling thread (call it before starting
// any thread; children inherit the mask) and the destructor restores the
// previous mask.
#ifndef KISCSI_SRC_DAEMON_DAEMON_H_
#define KISCSI_SRC_DAEMON_DAEMON_H_

#include <signal.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/daemon/command_handler.h"
#include "src/daemon/ipc_server.h"

namespace kiscsi::daemon {

class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Create(
      EventLoop& loop, UniqueFd listener, CommandHandler& handler,
      IpcServerOptions options = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Tells systemd READY=1 (so take over existing sessions before calling
  // this), dispatches until SIGTERM or SIGINT, then tells it STOPPING=1.
  absl::Status Run();

 private:
  Daemon(EventLoop& loop, CommandHandler& handler, sigset_t old_mask)
      : loop_(loop), handler_(handler), old_mask_(old_mask) {}

  void OnSignals();
  void Reload();

  EventLoop& loop_;
  CommandHandler& handler_;
  sigset_t old_mask_;
  UniqueFd signal_fd_;
  std::unique_ptr<IpcServer> server_;
};

// Sends `state` to systemd (SdNotify) and logs a failure as a warning.
void NotifySystemd(absl::string_view state);

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_DAEMON_H_
