// kiscsid's command handler before sessions are wired in: answers Ping,
// re-reads iscsid.conf on Reload, and refuses every session request with
// ExitCode kOperationNotSupported.
//
// The session library replaces the refusals; keep this class to the daemon's
// own business (liveness and configuration).
#ifndef KISCSI_SRC_DAEMON_BASIC_COMMAND_HANDLER_H_
#define KISCSI_SRC_DAEMON_BASIC_COMMAND_HANDLER_H_

#include <string>

#include "conf/iscsid_conf.h"
#include "src/daemon/command_handler.h"

namespace kiscsi::daemon {

class BasicCommandHandler : public CommandHandler {
 public:
  // `conf` was loaded from `conf_path`, which Reload reads again.
  BasicCommandHandler(std::string conf_path, conf::IscsidConf conf)
      : conf_path_(std::move(conf_path)), conf_(std::move(conf)) {}

  const conf::IscsidConf& conf() const { return conf_; }

  // "kiscsid VERSION, pid N, protocol P" as an output line.
  void Ping(ReplyCallback done) override;
  void Login(const ipc::LoginRequest& request, ProgressCallback progress,
             ReplyCallback done) override;
  void Logout(const ipc::LogoutRequest& request, ReplyCallback done) override;
  void LogoutAll(const ipc::LogoutAllRequest& request,
                 ReplyCallback done) override;
  void LoginAll(const ipc::LoginAllRequest& request, ProgressCallback progress,
                ReplyCallback done) override;
  void ListSessions(const ipc::ListSessionsRequest& request,
                    ReplyCallback done) override;
  void Rescan(const ipc::RescanRequest& request, ReplyCallback done) override;
  void Stats(const ipc::StatsRequest& request, ReplyCallback done) override;
  // Keeps the previous settings when the file is invalid; warnings become
  // error lines of the reply (and log lines).
  void Reload(ReplyCallback done) override;

 private:
  std::string conf_path_;
  conf::IscsidConf conf_;
};

}  // namespace kiscsi::daemon

#endif  // KISCSI_SRC_DAEMON_BASIC_COMMAND_HANDLER_H_
