#include "src/session/session_logout.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/unique_fd.h"
#include "src/protocol/pdu.h"
#include "src/session/kernel_pdu.h"

namespace kiscsi {
namespace {

// The first line of a small sysfs attribute; nullopt if it cannot be read.
std::optional<std::string> ReadLine(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  char buffer[128];
  const ssize_t got = read(fd.get(), buffer, sizeof(buffer));
  if (got < 0) return std::nullopt;
  std::string text(buffer, static_cast<size_t>(got));
  return text.substr(0, text.find('\n'));
}

std::string SessionDir(const std::string& sysfs_root, uint32_t sid) {
  return absl::StrCat(sysfs_root, "/class/iscsi_session/session", sid);
}

bool HasScsiTarget(const std::string& device_dir) {
  DIR* dir = opendir(device_dir.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (const dirent* entry = readdir(dir)) {
    if (absl::StartsWith(entry->d_name, "target")) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace

bool UnbindFinished(const std::string& sysfs_root, uint32_t sid) {
  const std::string session = SessionDir(sysfs_root, sid);
  if (std::optional<std::string> state = ReadLine(session + "/target_state")) {
    return *state != "SCANNED" && *state != "UNBINDING";
  }
  return !HasScsiTarget(session + "/device");
}

bool SessionInSysfs(const std::string& sysfs_root, uint32_t sid) {
  const std::string session = SessionDir(sysfs_root, sid);
  return access(session.c_str(), F_OK) == 0;
}

bool ExpectsUnbindEvent(const std::string& sysfs_root, uint32_t sid) {
  const std::string session = SessionDir(sysfs_root, sid);
  if (ReadLine(session + "/state") != "LOGGED_IN") return false;
  // Kernels since 5.7 say how far the target got; older ones only show it.
  if (std::optional<std::string> state = ReadLine(session + "/target_state")) {
    return *state == "SCANNED";
  }
  return HasScsiTarget(session + "/device");
}

SessionLogout::SessionLogout(KernelEventRouter& router, LogoutSpec spec,
                             Done done)
    : router_(router),
      loop_(router.loop()),
      kernel_(router.kernel()),
      spec_(std::move(spec)),
      done_(std::move(done)) {}

SessionLogout::~SessionLogout() {
  if (!finished_ && (waiting_ || unbinding_)) Teardown(/*wait=*/false);
  if (destroying_) {
    // The kernel finishes the destruction on its own.
    router_.Unsubscribe(spec_.sid, spec_.cid);
    loop_.CancelTimer(*destroy_timer_);
  }
  if (finish_timer_.has_value()) loop_.CancelTimer(*finish_timer_);
}

std::string SessionLogout::name() const {
  return absl::StrCat("session ", spec_.sid, " (", spec_.target_name, ", ",
                      FormatPortal(spec_.portal, ':'), ")");
}

void SessionLogout::Start() {
  const bool expect_event = ExpectsUnbindEvent(spec_.sysfs_root, spec_.sid);
  absl::Status unbound = kernel_.UnbindSession(spec_.sid);
  if (!unbound.ok()) {
    Finish(StepError("unbind session", unbound));
    return;
  }
  router_.Subscribe(spec_.sid, spec_.cid,
                    [this](const KernelEvent& event) { OnKernelEvent(event); });
  if (!expect_event) {
    SendLogout();
    return;
  }
  unbinding_ = true;
  unbind_timer_ = loop_.AddTimer(spec_.timeout, [this] {
    unbind_timer_.reset();
    unbinding_ = false;
    KISCSI_LOG(kWarning) << name() << ": SCSI devices not removed after "
                         << absl::ToInt64Milliseconds(spec_.timeout)
                         << " ms; logging out anyway";
    SendLogout();
  });
}

void SessionLogout::SendLogout() {
  LogoutRequestPdu request;
  request.immediate = true;
  request.reason = LogoutReason::kCloseSession;
  request.cid = static_cast<uint16_t>(spec_.cid);
  // The kernel stamps ITT, CmdSN and ExpStatSN.
  waiting_ = true;
  absl::Status sent =
      SendPduThroughKernel(kernel_, spec_.sid, spec_.cid, Encode(request));
  if (!sent.ok()) {
    KISCSI_LOG(kWarning) << name() << ": cannot send Logout Request ("
                         << sent.message() << "); closing the connection";
    Teardown(/*wait=*/true);
    return;
  }
  timeout_timer_ = loop_.AddTimer(spec_.timeout, [this] {
    timeout_timer_.reset();
    KISCSI_LOG(kWarning) << name() << ": no Logout Response after "
                         << absl::ToInt64Milliseconds(spec_.timeout)
                         << " ms; closing the connection";
    Teardown(/*wait=*/true);
  });
}

void SessionLogout::OnKernelEvent(const KernelEvent& event) {
  // Lost events (a socket overrun) may include the one waited for: sysfs
  // says whether it happened.
  const bool lost = std::holds_alternative<EventsLostEvent>(event);
  if (destroying_) {
    if (std::holds_alternative<DestroySessionEvent>(event) ||
        (lost && !SessionInSysfs(spec_.sysfs_root, spec_.sid))) {
      EndDestroy(absl::OkStatus());
    }
    return;
  }
  if (unbinding_) {
    if (std::holds_alternative<UnbindSessionEvent>(event) ||
        (lost && UnbindFinished(spec_.sysfs_root, spec_.sid))) {
      unbinding_ = false;
      loop_.CancelTimer(*unbind_timer_);
      unbind_timer_.reset();
      SendLogout();
      return;
    }
    if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
      // No Logout Request can go out; terminating the connection also fails
      // the removal's outstanding commands, so it ends.
      KISCSI_LOG(kWarning) << name() << ": connection error "
                           << ConnErrorName(error->error)
                           << " while removing the SCSI devices; closing the"
                              " connection";
      Teardown(/*wait=*/true);
    }
    return;
  }
  if (!waiting_) return;
  if (lost) {
    KISCSI_LOG(kWarning) << name()
                         << ": kernel events were lost, the Logout Response"
                            " may be among them; closing the connection";
    Teardown(/*wait=*/true);
    return;
  }
  if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
    KISCSI_LOG(kWarning) << name() << ": connection error "
                         << ConnErrorName(error->error)
                         << " during logout; closing the connection";
    Teardown(/*wait=*/true);
    return;
  }
  const auto* pdu_event = std::get_if<RecvPduEvent>(&event);
  if (pdu_event == nullptr) return;
  absl::StatusOr<Pdu> pdu = PduFromKernel(pdu_event->pdu);
  if (!pdu.ok() ||
      pdu->opcode() != static_cast<uint8_t>(Opcode::kLogoutResponse)) {
    return;  // NOP-In, async messages: not what the logout waits for
  }
  absl::StatusOr<LogoutResponse> response = DecodeLogoutResponse(*pdu);
  if (!response.ok()) {
    KISCSI_LOG(kWarning) << name() << ": bad Logout Response: "
                         << response.status().message();
  } else if (response->response != 0) {
    KISCSI_LOG(kWarning) << name() << ": target answered the logout with "
                         << static_cast<int>(response->response);
  }
  Teardown(/*wait=*/true);
}

void SessionLogout::Teardown(bool wait) {
  waiting_ = false;
  unbinding_ = false;
  if (unbind_timer_.has_value()) loop_.CancelTimer(*unbind_timer_);
  unbind_timer_.reset();
  if (timeout_timer_.has_value()) loop_.CancelTimer(*timeout_timer_);
  timeout_timer_.reset();
  absl::Status first;
  const auto step = [&](absl::string_view what, const absl::Status& status) {
    if (status.ok() || !first.ok()) return;
    first = StepError(what, status);
  };
  step("stop connection",
       kernel_.StopConn(spec_.sid, spec_.cid, StopConnFlag::kTerm));
  step("destroy connection", kernel_.DestroyConn(spec_.sid, spec_.cid));
  absl::Status destroyed = absl::UnimplementedError("");
  if (wait && first.ok()) {
    destroyed = kernel_.DestroySessionAsync(spec_.sid);
    if (destroyed.ok()) {
      // Still subscribed: the DestroySessionEvent ends the logout.
      destroying_ = true;
      destroy_timer_ = loop_.AddTimer(spec_.timeout, [this] {
        destroy_timer_.reset();
        if (!SessionInSysfs(spec_.sysfs_root, spec_.sid)) {
          EndDestroy(absl::OkStatus());
          return;
        }
        EndDestroy(absl::DeadlineExceededError(absl::StrCat(
            "still in sysfs ", absl::ToInt64Milliseconds(spec_.timeout),
            " ms after DESTROY_SESSION_ASYNC")));
      });
      return;
    }
  }
  router_.Unsubscribe(spec_.sid, spec_.cid);
  // A kernel without DESTROY_SESSION_ASYNC, or the destructor: the session
  // is gone when the call returns.
  if (absl::IsUnimplemented(destroyed)) {
    destroyed = kernel_.DestroySession(spec_.sid);
  }
  step("destroy session", std::move(destroyed));
  if (first.ok()) {
    KISCSI_LOG(kInfo) << name() << ": logged out";
  }
  Finish(std::move(first));
}

void SessionLogout::EndDestroy(absl::Status status) {
  destroying_ = false;
  router_.Unsubscribe(spec_.sid, spec_.cid);
  if (destroy_timer_.has_value()) loop_.CancelTimer(*destroy_timer_);
  destroy_timer_.reset();
  if (!status.ok()) {
    Finish(StepError("destroy session", status));
    return;
  }
  KISCSI_LOG(kInfo) << name() << ": logged out";
  Finish(absl::OkStatus());
}

absl::Status SessionLogout::StepError(absl::string_view what,
                                      const absl::Status& status) const {
  return WithExitCode(
      absl::Status(status.code(),
                   absl::StrCat(name(), ": ", what, ": ", status.message())),
      ExitCode::kLogout);
}

void SessionLogout::Finish(absl::Status status) {
  if (!status.ok()) {
    KISCSI_LOG(kError) << status.message();
  }
  finished_ = true;
  outcome_ = std::move(status);
  finish_timer_ = loop_.AddTimer(absl::ZeroDuration(), [this] {
    finish_timer_.reset();
    Done done = std::move(done_);
    done(std::move(outcome_));  // may destroy this object
  });
}

}  // namespace kiscsi
