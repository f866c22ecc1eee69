#include "src/session/session_setup.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"

namespace kiscsi {

SessionSetup::SessionSetup(KernelEventRouter& router, SessionSpec spec,
                           SessionPaths paths, Done done)
    : router_(router),
      loop_(router.loop()),
      spec_(std::move(spec)),
      paths_(std::move(paths)),
      done_(std::move(done)) {}

SessionSetup::~SessionSetup() {
  if (finish_timer_.has_value()) loop_.CancelTimer(*finish_timer_);
  if (state_ != State::kFinished) Teardown();
}

std::string SessionSetup::name() const {
  return SessionName(spec_, login_ != nullptr ? login_->sid() : std::nullopt);
}

void SessionSetup::Start() {
  state_ = State::kLogin;
  login_ = std::make_unique<KernelLogin>(
      router_, spec_, [this](absl::Status status) { OnLoggedIn(status); });
  login_->Start();  // may have failed already: nothing after this
}

void SessionSetup::OnLoggedIn(absl::Status status) {
  if (!status.ok()) {
    Fail(std::move(status));
    return;
  }
  state_ = State::kDevices;
  const KernelLoginResult& login = login_->result();
  DeviceWait::Options options;
  options.scan = spec_.scan;
  options.reinstated = spec_.existing.has_value();
  options.device_timeout = spec_.device_timeout;
  devices_ = std::make_unique<DeviceWait>(
      loop_, paths_, login.sid, login.host_no, options, name(),
      [this](absl::StatusOr<DeviceWaitResult> devices) {
        OnDevices(std::move(devices));
      });
  devices_->Start();
}

void SessionSetup::OnDevices(absl::StatusOr<DeviceWaitResult> devices) {
  if (!devices.ok()) {
    Fail(devices.status());
    return;
  }
  const KernelLoginResult& login = login_->result();
  SessionResult result;
  static_cast<KernelLoginResult&>(result) = login;
  result.devices = std::move(devices->devices);
  result.revived = std::move(devices->revived);
  result.devices_ready = devices->devices_ready;
  result.socket = login_->TakeSocket();
  login_->Release();  // the session is its keeper's now
  Finish(std::move(result));
}

void SessionSetup::Fail(absl::Status status) {
  if (state_ == State::kFinished) return;
  const std::string& step = state_ == State::kDevices && devices_ != nullptr
                                ? devices_->step()
                                : login_->step();
  const ExitCode code = ExitCodeOf(status);
  absl::Status failure = WithExitCode(
      absl::Status(status.code(),
                   absl::StrCat(name(), ": ", step, ": ", status.message())),
      code);
  if (spec_.existing.has_value()) {
    // A reinstatement attempt: its owner logs the outcome and retries.
    KISCSI_LOG(kDebug) << failure.message();
  } else {
    KISCSI_LOG(kError) << failure.message();
  }
  Teardown();
  Finish(std::move(failure));
}

void SessionSetup::Teardown() {
  devices_.reset();  // a scan still blocked in the kernel reports to nobody
  login_.reset();    // undoes what the login made
}

void SessionSetup::Finish(absl::StatusOr<SessionResult> outcome) {
  state_ = State::kFinished;
  outcome_ = std::move(outcome);
  finish_timer_ = loop_.AddTimer(absl::ZeroDuration(), [this] {
    finish_timer_.reset();
    Done done = std::move(done_);
    absl::StatusOr<SessionResult> outcome = std::move(*outcome_);
    outcome_.reset();
    done(std::move(outcome));  // may destroy this object
  });
}

}  // namespace kiscsi
