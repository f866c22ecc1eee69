#include "src/session/session_recovery.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "netlink/conn_error.h"
#include "src/base/log.h"
#include "src/protocol/pdu.h"
#include "src/session/kernel_pdu.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

// How long a reinstated connection is watched after an error seen while it
// logged in.
constexpr absl::Duration kStaleErrorWindow = absl::Milliseconds(500);

SessionRecovery::Random DefaultRandom() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

}  // namespace

SessionRecovery::SessionRecovery(KernelEventRouter& router, SessionSpec spec,
                                 uint32_t time2wait, RecoveryPolicy policy,
                                 SessionPaths paths, UniqueFd socket,
                                 Random random)
    : router_(router),
      loop_(router.loop()),
      spec_(std::move(spec)),
      time2wait_(time2wait),
      policy_(policy),
      paths_(std::move(paths)),
      socket_(std::move(socket)),
      random_(random ? std::move(random) : DefaultRandom()),
      backoff_(policy_.initial_backoff) {
  spec_.connect_timeout = policy_.connect_timeout;
  // An attempt runs once the devices exist; it does not wait for them.
  spec_.device_timeout = absl::ZeroDuration();
}

SessionRecovery::~SessionRecovery() {
  LeaveGroup();
  CancelTimer();
  attempt_.reset();  // undoes an unfinished attempt (the conn stays stopped)
}

std::string SessionRecovery::name() const {
  return absl::StrCat("session ", sid(), " (", spec_.login.target_name, ", ",
                      FormatPortal(spec_.portal, ':'), ")");
}

void SessionRecovery::CancelTimer() {
  if (timer_.has_value()) loop_.CancelTimer(*timer_);
  timer_.reset();
}

bool SessionRecovery::KernelSaysUp() const {
  std::ifstream file(
      absl::StrCat(paths_.sysfs_root, "/class/iscsi_connection/connection",
                   spec_.existing->sid, ":", spec_.existing->cid, "/state"));
  std::string state;
  return std::getline(file, state) && state == "up";
}

// An error that came in while the attempt logged in is either a late one of
// an earlier attempt's socket (harmless) or the new connection's own. The
// kernel takes the connection out of "up" when it fails it, though not
// always before it reports the error: watch its state for a while.
void SessionRecovery::VerifyConnection() {
  timer_.reset();
  if (state_ != State::kUp) return;
  if (!KernelSaysUp()) {
    Begin("connection error on the reinstated connection",
          absl::Seconds(time2wait_));
    return;
  }
  if (loop_.Now() >= verify_until_) {
    KISCSI_LOG(kInfo) << name()
                      << ": the error seen while logging in was an earlier "
                         "connection's; the new one is up";
    return;
  }
  timer_ =
      loop_.AddTimer(absl::Milliseconds(20), [this] { VerifyConnection(); });
}

// LUNs the target added while the connection was down. A rescan still
// blocked from an earlier reinstatement scans the target too once it gets
// through, so there is never more than one.
void SessionRecovery::Rescan() {
  if (rescan_ != nullptr) {
    KISCSI_LOG(kDebug) << name() << ": the previous rescan is still running";
    return;
  }
  absl::StatusOr<std::unique_ptr<BlockingCall>> scan = StartHostScan(
      loop_, paths_.sysfs_root, spec_.existing->host_no,
      [this](absl::Status scanned) {
        rescan_.reset();
        if (!scanned.ok()) {
          KISCSI_LOG(kWarning) << name() << ": rescan: " << scanned.message();
        }
      });
  if (!scan.ok()) {
    KISCSI_LOG(kWarning) << name() << ": rescan: " << scan.status().message();
    return;
  }
  rescan_ = *std::move(scan);
}

void SessionRecovery::OnConnError(uint32_t error) {
  const std::string hint = ConnErrorHint(error);
  const std::string what =
      absl::StrCat("connection ", spec_.existing->cid, " error ",
                   ConnErrorName(error), hint.empty() ? "" : ": ", hint);
  switch (state_) {
    case State::kUp:
    case State::kGaveUp:
      Begin(what, absl::Seconds(time2wait_));
      return;
    case State::kWaiting:
      KISCSI_LOG(kDebug) << name() << ": " << what
                         << " while recovering (the same failure); ignored";
      // Whatever it was, the next attempt stops the connection first.
      stopped_ = false;
      return;
    case State::kAttempting:
      // Either a late error of an earlier attempt's socket, or one on the new
      // connection after it logged in: the kernel's state tells them apart
      // once the attempt is done.
      KISCSI_LOG(kDebug) << name() << ": " << what << " during an attempt";
      error_while_attempting_ = true;
      return;
  }
}

void SessionRecovery::OnPdu(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<Pdu> pdu = PduFromKernel(bytes);
  if (!pdu.ok() ||
      pdu->opcode() != static_cast<uint8_t>(Opcode::kAsyncMessage)) {
    KISCSI_LOG(kDebug) << name() << ": "
                       << (pdu.ok() ? OpcodeName(pdu->opcode())
                                    : std::string("undecodable PDU"))
                       << " from the kernel ignored";
    return;
  }
  absl::StatusOr<AsyncMessage> message = DecodeAsyncMessage(*pdu);
  if (!message.ok()) {
    KISCSI_LOG(kWarning) << name() << ": undecodable Async Message: "
                         << message.status().message();
    return;
  }
  const auto event = static_cast<AsyncEvent>(message->async_event);
  std::string reason;
  absl::Duration wait = absl::Seconds(time2wait_);
  switch (event) {
    case AsyncEvent::kLogoutRequest:
      // open-iscsi logs out; a root disk must stay, so the connection is
      // dropped and logged in again (the target sees a reinstatement).
      reason = absl::StrCat("target requests logout (within ",
                            message->parameter3, " s); re-logging in");
      break;
    case AsyncEvent::kConnectionDrop:
    case AsyncEvent::kSessionDrop:
      reason = absl::StrCat(
          "target drops the ",
          event == AsyncEvent::kConnectionDrop ? "connection" : "session",
          " (Time2Wait ", message->parameter2, " s, Time2Retain ",
          message->parameter3, " s)");
      wait = absl::Seconds(message->parameter2);
      break;
    default:
      KISCSI_LOG(kInfo) << name() << ": Async Message event "
                        << static_cast<int>(message->async_event) << " ignored";
      return;
  }
  if (state_ == State::kWaiting || state_ == State::kAttempting) {
    KISCSI_LOG(kDebug) << name() << ": " << reason
                       << " while recovering; ignored";
    return;
  }
  Begin(reason, wait);
}

void SessionRecovery::RecoverNow(const std::string& reason) {
  if (state_ == State::kWaiting || state_ == State::kAttempting) return;
  Begin(reason, absl::ZeroDuration());
}

void SessionRecovery::Begin(const std::string& reason, absl::Duration wait) {
  CancelTimer();
  state_ = State::kWaiting;
  attempts_ = 0;
  backoff_ = policy_.initial_backoff;
  began_ = loop_.Now();
  last_summary_ = began_;
  error_while_attempting_ = false;
  KISCSI_LOG(kWarning) << name() << ": " << reason << "; recovering after "
                       << absl::ToInt64Milliseconds(wait) << " ms";
  // First of all: the kernel refuses everything else on this connection with
  // -ENOTCONN until it is stopped for recovery.
  const SessionSpec::Existing& existing = *spec_.existing;
  absl::Status stopped = router_.kernel().StopConn(existing.sid, existing.cid,
                                                   StopConnFlag::kRecover);
  stopped_ = stopped.ok();
  if (!stopped.ok()) {
    KISCSI_LOG(kWarning) << name() << ": " << stopped.message()
                         << " (the attempt stops it again)";
  }
  socket_.Reset();  // the kernel has let go of it
  if (groups_ != nullptr) {
    groups_->Join(FormatPortal(spec_.portal, ':'), this, [this] { WakeUp(); });
  }
  timer_ = loop_.AddTimer(wait, [this] {
    timer_.reset();
    Attempt();
  });
}

void SessionRecovery::WakeUp() {
  if (state_ != State::kWaiting || attempts_ == 0 || !timer_.has_value()) {
    return;
  }
  CancelTimer();
  KISCSI_LOG(kInfo)
      << name() << ": another session of the portal is back; attempting now";
  timer_ = loop_.AddTimer(absl::ZeroDuration(), [this] {
    timer_.reset();
    Attempt();
  });
}

void SessionRecovery::LeaveGroup() {
  if (groups_ != nullptr) groups_->Leave(this);
}

absl::Duration SessionRecovery::Jittered(absl::Duration delay) {
  const double factor = 1.0 + policy_.jitter * (2.0 * random_() - 1.0);
  return delay * std::max(0.0, factor);
}

void SessionRecovery::Attempt() {
  ++attempts_;
  state_ = State::kAttempting;
  SessionSpec spec = spec_;
  spec.existing->stop_first = !stopped_;
  stopped_ = false;  // a failed attempt leaves the conn stopped, to be sure
  KISCSI_LOG(kDebug) << name() << ": recovery attempt " << attempts_;
  attempt_ = std::make_unique<SessionSetup>(
      router_, std::move(spec), paths_,
      [this](absl::StatusOr<SessionResult> result) {
        OnAttemptDone(std::move(result));
      });
  attempt_->Start();
}

void SessionRecovery::OnAttemptDone(absl::StatusOr<SessionResult> result) {
  // The setup's callback may destroy it; keep it alive until we return.
  std::unique_ptr<SessionSetup> finished = std::move(attempt_);
  if (result.ok()) {
    state_ = State::kUp;
    if (groups_ != nullptr) {
      groups_->Recovered(this);
      groups_->Leave(this);
    }
    time2wait_ = result->login.params.default_time2wait;
    // A warning like the error it ends: at the default level the journal
    // says both that the session failed and that it is back.
    KISCSI_LOG(kWarning) << name() << ": recovered after " << attempts_
                         << (attempts_ == 1 ? " attempt" : " attempts")
                         << " in "
                         << absl::ToInt64Milliseconds(loop_.Now() - began_)
                         << " ms";
    if (on_recovered_) on_recovered_(*result);
    socket_ = std::move(result->socket);  // held until the next error
    if (spec_.scan) Rescan();
    if (error_while_attempting_) {
      verify_until_ = loop_.Now() + kStaleErrorWindow;
      VerifyConnection();
    }
    return;
  }
  if (policy_.reopen_max > 0 && attempts_ >= policy_.reopen_max) {
    state_ = State::kGaveUp;
    LeaveGroup();
    KISCSI_LOG(kError) << name() << ": giving up after " << attempts_
                       << " attempts (node.session.reopen_max): "
                       << result.status().message();
    return;
  }
  const bool scout = groups_ != nullptr && groups_->IsScout(this);
  const absl::Duration delay = Jittered(
      scout ? std::min(policy_.scout_interval, policy_.max_backoff) : backoff_);
  backoff_ = std::min(backoff_ * 2, policy_.max_backoff);
  state_ = State::kWaiting;
  KISCSI_LOG(kDebug) << name() << ": recovery attempt " << attempts_
                     << " failed (" << result.status().message()
                     << "), next in " << absl::ToInt64Milliseconds(delay)
                     << " ms" << (scout ? " (the portal's scout)" : "");
  const absl::Time now = loop_.Now();
  if (now - last_summary_ >= policy_.summary_interval) {
    last_summary_ = now;
    KISCSI_LOG(kWarning) << name() << ": still recovering: " << attempts_
                         << (attempts_ == 1 ? " attempt" : " attempts")
                         << " in "
                         << absl::StrFormat("%.1f",
                                            absl::ToDoubleSeconds(now - began_))
                         << " s, last error: " << result.status().message();
  }
  timer_ = loop_.AddTimer(delay, [this] {
    timer_.reset();
    Attempt();
  });
}

}  // namespace kiscsi
