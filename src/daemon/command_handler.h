// What kiscsid does with the requests its IPC server receives: one method per
// request type, each answering through a callback so that a long operation (a
// login with retries) never blocks the other clients.
//
// Methods run on the event loop thread. `done` must be called on that thread,
// at most once, either before the method returns or later from a loop
// callback. A `done` destroyed without being called answers the client with an
// internal error, so a forgotten reply never leaves a kiscsiadm waiting.
//
// Login and LoginAll also get a `progress` callback for the lines the user
// should see while they run ("Logging in to ..."), to call before `done`: the
// server sends them at once when the client asked for progress, and otherwise
// puts them at the head of the reply's out_lines.
#ifndef KISCSI_SRC_DAEMON_COMMAND_HANDLER_H_
#define KISCSI_SRC_DAEMON_COMMAND_HANDLER_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi::daemon {

using ReplyCallback = absl::AnyInvocable<void(ipc::Reply)>;
using ProgressCallback = absl::AnyInvocable<void(std::vector<std::string>)>;

class CommandHandler {
 public:
  virtual ~CommandHandler() = default;

  virtual void Ping(ReplyCallback done) = 0;
  virtual void Login(const ipc::LoginRequest& request,
                     ProgressCallback progress, ReplyCallback done) = 0;
  virtual void Logout(const ipc::LogoutRequest& request,
                      ReplyCallback done) = 0;
  virtual void LogoutAll(const ipc::LogoutAllRequest& request,
                         ReplyCallback done) = 0;
  virtual void LoginAll(const ipc::LoginAllRequest& request,
                        ProgressCallback progress, ReplyCallback done) = 0;
  virtual void Stats(const ipc::StatsRequest& request, ReplyCallback done) = 0;
  // Re-reads the configuration; also what SIGHUP does.
  virtual void Reload(ReplyCallback done) = 0;
};

// Calls the method of `handler` that handles `request`; `progress` goes to
// the methods that take one.
void Dispatch(CommandHandler& handler, const ipc::Request& request,
              ProgressCallback progress, ReplyCallback done);

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_COMMAND_HANDLER_H_
