#include "src/programs/kiscsistart/boot_login.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "src/base/event_loop.h"
#include "src/base/exit_code.h"
#include "src/session/kernel_event_router.h"

namespace kiscsi {

bool RetryableLoginFailure(const absl::Status& status) {
  switch (ExitCodeOf(status)) {
    case ExitCode::kTransport:
    case ExitCode::kTransportTimeout:
    case ExitCode::kPduTimeout:
    case ExitCode::kAgain:
      return true;
    default:
      return false;
  }
}

namespace {

// One target's attempts: a SessionSetup at a time, a timer between them.
struct Attempts {
  const BootTarget* target = nullptr;
  int made = 0;
  absl::Duration backoff = kFirstBootBackoff;
  std::unique_ptr<SessionSetup> setup;
  std::optional<absl::StatusOr<SessionResult>> outcome;
};

}  // namespace

std::vector<absl::StatusOr<SessionResult>> LoginAll(
    IscsiKernel& kernel, const std::vector<BootTarget>& targets,
    RetryNotice on_retry, const SessionPaths& paths) {
  auto fail_all = [&](const absl::Status& status) {
    std::vector<absl::StatusOr<SessionResult>> outcomes;
    for (size_t i = 0; i < targets.size(); ++i) outcomes.emplace_back(status);
    return outcomes;
  };
  auto loop = EventLoop::Create();
  if (!loop.ok()) return fail_all(loop.status());
  KernelEventRouter router(**loop, kernel);
  if (absl::Status started = router.Start(); !started.ok()) {
    return fail_all(started);
  }

  std::vector<Attempts> attempts(targets.size());
  size_t finished = 0;
  std::function<void(size_t)> start = [&](size_t i) {
    Attempts& a = attempts[i];
    ++a.made;
    a.setup = std::make_unique<SessionSetup>(
        router, a.target->spec, paths,
        [&, i](absl::StatusOr<SessionResult> result) {
          Attempts& a = attempts[i];
          a.setup.reset();  // allowed from its own callback
          if (!result.ok() && RetryableLoginFailure(result.status()) &&
              a.made < std::max(1, a.target->attempts)) {
            on_retry(i, result.status(), a.made, a.backoff);
            (*loop)->AddTimer(a.backoff, [&, i] { start(i); });
            a.backoff = std::min(a.backoff * 2, kMaxBootBackoff);
            return;
          }
          a.outcome = std::move(result);
          ++finished;
        });
    a.setup->Start();
  };
  for (size_t i = 0; i < targets.size(); ++i) {
    attempts[i].target = &targets[i];
    start(i);
  }
  // Each setup bounds itself and the attempts are counted; this only guards
  // against a loop failure.
  absl::Status ran = (*loop)->RunUntil(
      [&] { return finished == targets.size(); }, absl::InfiniteDuration());
  // Unfinished setups (a loop failure) undo their work while the router is
  // still there.
  for (Attempts& a : attempts) a.setup.reset();
  std::vector<absl::StatusOr<SessionResult>> outcomes;
  outcomes.reserve(targets.size());
  for (Attempts& a : attempts) {
    if (a.outcome.has_value()) {
      outcomes.push_back(std::move(*a.outcome));
    } else {
      outcomes.push_back(ran.ok() ? absl::InternalError("login did not end")
                                  : ran);
    }
  }
  return outcomes;
}

}  // namespace kiscsi
