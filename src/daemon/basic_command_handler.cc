#include "src/daemon/basic_command_handler.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"

namespace kiscsi::daemon {
namespace {

void NotWired(ipc::MessageType type, ReplyCallback done) {
  done(ipc::ReplyFromStatus(WithExitCode(
      absl::UnimplementedError(absl::StrCat(
          ipc::MessageTypeName(type),
          ": not wired yet (this kiscsid cannot manage sessions)")),
      ExitCode::kOperationNotSupported)));
}

}  // namespace

void BasicCommandHandler::Ping(ReplyCallback done) {
  ipc::Reply reply;
  reply.out_lines.push_back(absl::StrCat("kiscsid ", KISCSI_VERSION, ", pid ",
                                         ::getpid(), ", protocol ",
                                         ipc::kProtocolVersion));
  done(std::move(reply));
}

void BasicCommandHandler::Login(const ipc::LoginRequest&, ProgressCallback,
                                ReplyCallback done) {
  NotWired(ipc::MessageType::kLogin, std::move(done));
}

void BasicCommandHandler::Logout(const ipc::LogoutRequest&,
                                 ReplyCallback done) {
  NotWired(ipc::MessageType::kLogout, std::move(done));
}

void BasicCommandHandler::LogoutAll(const ipc::LogoutAllRequest&,
                                    ReplyCallback done) {
  NotWired(ipc::MessageType::kLogoutAll, std::move(done));
}

void BasicCommandHandler::LoginAll(const ipc::LoginAllRequest&,
                                   ProgressCallback, ReplyCallback done) {
  NotWired(ipc::MessageType::kLoginAll, std::move(done));
}

void BasicCommandHandler::ListSessions(const ipc::ListSessionsRequest&,
                                       ReplyCallback done) {
  NotWired(ipc::MessageType::kListSessions, std::move(done));
}

void BasicCommandHandler::Rescan(const ipc::RescanRequest&,
                                 ReplyCallback done) {
  NotWired(ipc::MessageType::kRescan, std::move(done));
}

void BasicCommandHandler::Stats(const ipc::StatsRequest&, ReplyCallback done) {
  NotWired(ipc::MessageType::kStats, std::move(done));
}

void BasicCommandHandler::Reload(ReplyCallback done) {
  absl::StatusOr<conf::LoadedIscsidConf> loaded =
      conf::LoadIscsidConf(conf_path_);
  if (!loaded.ok()) {
    KISCSI_LOG(kError) << "reload: " << loaded.status().message()
                       << " (keeping the previous settings)";
    done(ipc::ReplyFromStatus(WithExitCode(
        absl::Status(loaded.status().code(),
                     absl::StrCat(loaded.status().message(),
                                  " (keeping the previous settings)")),
        ExitCodeOf(loaded.status()))));
    return;
  }
  ipc::Reply reply;
  for (const conf::Diagnostic& diagnostic : loaded->diagnostics) {
    KISCSI_LOG(kWarning) << diagnostic.message;
    reply.err_lines.push_back(absl::StrCat("warning: ", diagnostic.message));
  }
  conf_ = std::move(loaded->conf);
  KISCSI_LOG(kInfo) << "reloaded " << conf_path_;
  reply.out_lines.push_back(absl::StrCat("reloaded ", conf_path_));
  done(std::move(reply));
}

}  // namespace kiscsi::daemon
