#include "src/daemon/command_handler.h"

#include <utility>
#include <variant>

namespace kiscsi::daemon {
namespace {

struct Dispatcher {
  CommandHandler& handler;
  ProgressCallback& progress;
  ReplyCallback& done;

  void operator()(const ipc::PingRequest&) { handler.Ping(std::move(done)); }
  void operator()(const ipc::LoginRequest& r) {
    handler.Login(r, std::move(progress), std::move(done));
  }
  void operator()(const ipc::LogoutRequest& r) {
    handler.Logout(r, std::move(done));
  }
  void operator()(const ipc::LogoutAllRequest& r) {
    handler.LogoutAll(r, std::move(done));
  }
  void operator()(const ipc::LoginAllRequest& r) {
    handler.LoginAll(r, std::move(progress), std::move(done));
  }
  void operator()(const ipc::StatsRequest& r) {
    handler.Stats(r, std::move(done));
  }
  void operator()(const ipc::ReloadRequest&) {
    handler.Reload(std::move(done));
  }
};

}  // namespace

void Dispatch(CommandHandler& handler, const ipc::Request& request,
              ProgressCallback progress, ReplyCallback done) {
  std::visit(Dispatcher{handler, progress, done}, request);
}

}  // namespace kiscsi::daemon
