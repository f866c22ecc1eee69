#include "src/session/session_setup.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/session/kernel_pdu.h"
#include "src/session/live_params.h"

namespace kiscsi {
namespace {

// SCSI peripheral types that get a block device (disk, optical, RBC, CD-ROM).
bool NeedsBlockDevice(const SysfsDevice& device) {
  if (!device.type.has_value()) return true;
  const int type = *device.type;
  return type == 0 || type == 5 || type == 7 || type == 14;
}

std::string Flag(bool value) { return value ? "1" : "0"; }

absl::Status TransportError(absl::Status status) {
  return WithExitCode(std::move(status), ExitCode::kTransport);
}

}  // namespace

Isid IsidForSid(uint32_t sid) {
  return {0x00,
          0x02,
          0x3d,
          static_cast<uint8_t>(sid >> 16),
          static_cast<uint8_t>(sid >> 8),
          static_cast<uint8_t>(sid)};
}

std::string IsidHex(const Isid& isid) {
  std::string hex;
  for (const uint8_t byte : isid) absl::StrAppendFormat(&hex, "%02x", byte);
  return hex;
}

absl::StatusOr<std::unique_ptr<BlockingCall>> StartHostScan(
    EventLoop& loop, const std::string& sysfs_root, uint32_t host_no,
    absl::AnyInvocable<void(absl::Status)> done) {
  return BlockingCall::Start<absl::Status>(
      loop, [sysfs_root, host_no] { return ScanScsiHost(sysfs_root, host_no); },
      std::move(done));
}

SessionSetup::SessionSetup(KernelEventRouter& router, SessionSpec spec,
                           SessionPaths paths, Done done)
    : router_(router),
      loop_(router.loop()),
      kernel_(router.kernel()),
      spec_(std::move(spec)),
      paths_(std::move(paths)),
      done_(std::move(done)),
      current_portal_(spec_.portal) {}

SessionSetup::~SessionSetup() {
  if (finish_timer_.has_value()) loop_.CancelTimer(*finish_timer_);
  if (state_ != State::kFinished) Teardown();
}

std::string SessionSetup::name() const {
  return absl::StrCat(
      "session", sid_.has_value() ? absl::StrCat(" ", *sid_) : "", " (",
      spec_.login.target_name, ", ", FormatPortal(spec_.portal, ':'), ")");
}

void SessionSetup::Start() {
  state_ = State::kConnecting;
  login_timer_ = loop_.AddTimer(spec_.timeouts.login_timeout, [this] {
    login_timer_.reset();
    Fail(WithExitCode(
        absl::DeadlineExceededError(absl::StrCat(
            "login timed out after ",
            absl::ToInt64Milliseconds(spec_.timeouts.login_timeout), " ms")),
        ExitCode::kTransportTimeout));
  });
  if (spec_.existing.has_value()) {
    const SessionSpec::Existing& existing = *spec_.existing;
    sid_ = existing.sid;
    cid_ = existing.cid;
    host_no_ = existing.host_no;
    // Reinstatement: the same ISID, TSIH 0 (RFC 7143 6.3.5).
    spec_.login.isid = IsidForSid(*sid_);
    spec_.login.tsih = 0;
    spec_.login.transport_sets_itt = true;  // the kernel stamps it
    spec_.login.cid = static_cast<uint16_t>(*cid_);
    router_.Subscribe(*sid_, *cid_, [this](const KernelEvent& event) {
      OnKernelEvent(event);
    });
    subscribed_ = true;
    if (existing.stop_first) {
      // Until this, BIND_CONN/SEND_PDU/START_CONN answer -ENOTCONN.
      step_ = "stop connection for recovery";
      absl::Status stopped =
          kernel_.StopConn(*sid_, *cid_, StopConnFlag::kRecover);
      if (!stopped.ok()) {
        Fail(std::move(stopped));
        return;
      }
    }
  }
  Connect(spec_.portal);
}

void SessionSetup::Connect(const Portal& portal) {
  step_ = "connect";
  current_portal_ = portal;
  ConnectOptions options;
  options.per_address_timeout = spec_.connect_timeout;
  connector_ = std::make_unique<TcpConnector>(
      loop_, portal, options, [this](absl::StatusOr<UniqueFd> socket) {
        OnConnected(std::move(socket));
      });
  connector_->Start();
}

void SessionSetup::OnConnected(absl::StatusOr<UniqueFd> socket) {
  connector_.reset();
  if (!socket.ok()) {
    Fail(socket.status());
    return;
  }
  socket_ = *std::move(socket);
  if (!sid_.has_value()) {
    CreateKernelObjects();
  } else {
    BindAndLogin();
  }
}

void SessionSetup::CreateKernelObjects() {
  step_ = "create session";
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(
      spec_.login.cmdsn, spec_.cmds_max, spec_.queue_depth);
  if (!session.ok()) {
    Fail(session.status());
    return;
  }
  sid_ = session->sid;
  session_created_ = true;
  host_no_ = session->host_no;
  spec_.login.isid = IsidForSid(*sid_);
  spec_.login.tsih = 0;
  spec_.login.transport_sets_itt = true;  // the kernel stamps it

  step_ = "create connection";
  absl::StatusOr<uint32_t> cid = kernel_.CreateConn(*sid_, 0);
  if (!cid.ok()) {
    Fail(cid.status());
    return;
  }
  cid_ = *cid;
  spec_.login.cid = static_cast<uint16_t>(*cid_);
  router_.Subscribe(*sid_, *cid_,
                    [this](const KernelEvent& event) { OnKernelEvent(event); });
  subscribed_ = true;
  BindAndLogin();
}

void SessionSetup::BindAndLogin() {
  step_ = "bind connection";
  absl::Status status = kernel_.BindConn(*sid_, *cid_, socket_.get(), true);
  if (!status.ok()) {
    Fail(std::move(status));
    return;
  }
  bound_ = true;
  step_ = "set parameters";
  status = SetIdentityParams();
  if (!status.ok()) {
    Fail(std::move(status));
    return;
  }
  step_ = "login";
  state_ = State::kLogin;
  machine_ = std::make_unique<LoginMachine>(spec_.login);
  absl::StatusOr<LoginRequest> request = machine_->Start();
  if (!request.ok()) {
    Fail(request.status());
    return;
  }
  status = SendLoginRequest(*request);
  if (!status.ok()) Fail(std::move(status));
}

absl::Status SessionSetup::SetParam(IscsiParam param,
                                    const std::string& value) {
  return SetKernelParam(kernel_, *sid_, *cid_, param, value);
}

absl::Status SessionSetup::SetIdentityParams() {
  const AuthConfig& auth = spec_.login.auth;
  RETURN_IF_ERROR(SetParam(IscsiParam::kTargetName, spec_.login.target_name));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kPersistentAddress, spec_.portal.address));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kPersistentPort, absl::StrCat(spec_.portal.port)));
  if (auth.chap) {
    RETURN_IF_ERROR(SetParam(IscsiParam::kUsername, auth.username));
    RETURN_IF_ERROR(SetParam(IscsiParam::kPassword, auth.password));
    if (!auth.username_in.empty()) {
      RETURN_IF_ERROR(SetParam(IscsiParam::kUsernameIn, auth.username_in));
      RETURN_IF_ERROR(SetParam(IscsiParam::kPasswordIn, auth.password_in));
    }
  }
  RETURN_IF_ERROR(SetParam(IscsiParam::kFastAbort, Flag(spec_.fast_abort)));
  RETURN_IF_ERROR(ApplyTimeoutParams(kernel_, *sid_, *cid_, spec_.timeouts));
  RETURN_IF_ERROR(SetParam(IscsiParam::kIfaceName, spec_.iface_name));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kInitiatorName, spec_.login.initiator_name));
  RETURN_IF_ERROR(SetParam(IscsiParam::kIsid, IsidHex(spec_.login.isid)));
  return SetParam(IscsiParam::kDiscoverySess, "0");
}

absl::Status SessionSetup::SetNegotiatedParams() {
  const NegotiatedParams& p = login_result_.params;
  RETURN_IF_ERROR(SetParam(IscsiParam::kMaxRecvDlength,
                           absl::StrCat(p.max_recv_data_segment_length)));
  RETURN_IF_ERROR(SetParam(IscsiParam::kMaxXmitDlength,
                           absl::StrCat(p.max_xmit_data_segment_length)));
  RETURN_IF_ERROR(SetParam(IscsiParam::kHdrdgstEn, Flag(p.header_digest)));
  RETURN_IF_ERROR(SetParam(IscsiParam::kDatadgstEn, Flag(p.data_digest)));
  RETURN_IF_ERROR(SetParam(IscsiParam::kInitialR2tEn, Flag(p.initial_r2t)));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kMaxR2t, absl::StrCat(p.max_outstanding_r2t)));
  RETURN_IF_ERROR(SetParam(IscsiParam::kImmDataEn, Flag(p.immediate_data)));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kFirstBurst, absl::StrCat(p.first_burst_length)));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kMaxBurst, absl::StrCat(p.max_burst_length)));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kPduInorderEn, Flag(p.data_pdu_in_order)));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kDataseqInorderEn, Flag(p.data_sequence_in_order)));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kErl, absl::StrCat(p.error_recovery_level)));
  RETURN_IF_ERROR(SetParam(IscsiParam::kIfmarkerEn, "0"));
  RETURN_IF_ERROR(SetParam(IscsiParam::kOfmarkerEn, "0"));
  RETURN_IF_ERROR(
      SetParam(IscsiParam::kExpStatsn, absl::StrCat(login_result_.statsn + 1)));
  return SetParam(IscsiParam::kTpgt, absl::StrCat(p.target_portal_group_tag));
}

absl::Status SessionSetup::SendLoginRequest(const LoginRequest& request) {
  return SendPduThroughKernel(kernel_, *sid_, *cid_, Encode(request));
}

// The kernel reports a Login Response (RECV_PDU) before it frees the
// connection's login task, and refuses a SEND_PDU until then with -EPERM
// ("Login/Text in progress. Cannot start new task."): on a busy machine the
// next request can get there first. It is sent again a millisecond later, a
// bounded number of times (the login timeout bounds them too).
void SessionSetup::SendNextLoginRequest(LoginRequest request, int retries) {
  constexpr int kMaxRetries = 50;
  absl::Status sent = SendLoginRequest(request);
  if (sent.code() == absl::StatusCode::kPermissionDenied &&
      retries < kMaxRetries) {
    KISCSI_LOG(kDebug) << name() << ": login task still busy, sending again";
    resend_timer_ = loop_.AddTimer(
        absl::Milliseconds(1), [this, request = std::move(request), retries] {
          resend_timer_.reset();
          SendNextLoginRequest(request, retries + 1);
        });
    return;
  }
  if (!sent.ok()) Fail(std::move(sent));
}

void SessionSetup::OnKernelEvent(const KernelEvent& event) {
  if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
    if (state_ == State::kLogin) {
      Fail(TransportError(absl::UnavailableError(
          absl::StrCat("connection error ", ConnErrorName(error->error)))));
    } else {
      KISCSI_LOG(kWarning) << name() << ": connection error "
                           << ConnErrorName(error->error) << " during "
                           << step_;
    }
    return;
  }
  if (const auto* pdu = std::get_if<RecvPduEvent>(&event)) {
    if (state_ == State::kLogin) {
      OnLoginPdu(pdu->pdu);
    } else {
      KISCSI_LOG(kDebug) << name() << ": PDU from the kernel during " << step_
                         << " ignored";
    }
  }
}

void SessionSetup::OnLoginPdu(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<Pdu> pdu = PduFromKernel(bytes);
  if (!pdu.ok()) {
    Fail(WithExitCode(pdu.status(), ExitCode::kLogin));
    return;
  }
  const auto opcode = static_cast<Opcode>(pdu->opcode());
  if (opcode == Opcode::kReject) {
    absl::StatusOr<Reject> reject = DecodeReject(*pdu);
    Fail(WithExitCode(
        absl::InternalError(absl::StrCat(
            "target rejected the Login Request (",
            reject.ok() ? RejectReasonName(reject->reason) : "undecodable",
            ")")),
        ExitCode::kLogin));
    return;
  }
  if (opcode != Opcode::kLoginResponse) {
    KISCSI_LOG(kDebug) << name() << ": " << OpcodeName(pdu->opcode())
                       << " during login ignored";
    return;
  }
  absl::StatusOr<LoginResponse> response = DecodeLoginResponse(*pdu);
  if (!response.ok()) {
    Fail(WithExitCode(response.status(), ExitCode::kLogin));
    return;
  }
  absl::StatusOr<LoginStep> step = machine_->OnResponse(*response);
  if (!step.ok()) {
    Fail(step.status());
    return;
  }
  switch (step->kind) {
    case LoginStep::kSend:
      SendNextLoginRequest(std::move(step->request), 0);
      return;
    case LoginStep::kRedirect:
      OnRedirect(step->redirect);
      return;
    case LoginStep::kDone:
      OnLoggedIn(step->result);
      return;
  }
}

void SessionSetup::OnRedirect(const Redirect& redirect) {
  const Portal to{redirect.address, redirect.port};
  redirects_.push_back(to);
  if (static_cast<int>(redirects_.size()) > spec_.max_redirects) {
    std::string path = FormatPortal(spec_.portal, ':');
    for (const Portal& portal : redirects_)
      absl::StrAppend(&path, " -> ", FormatPortal(portal, ':'));
    Fail(WithExitCode(
        absl::FailedPreconditionError(absl::StrCat(
            "too many redirects (", spec_.max_redirects, "): ", path)),
        ExitCode::kFatalLogin));
    return;
  }
  KISCSI_LOG(kInfo) << name() << ": redirected to " << FormatPortal(to, ':');
  // The connection gets a new socket: stop it as for recovery, then rebind.
  step_ = "redirect";
  absl::Status stopped = kernel_.StopConn(*sid_, *cid_, StopConnFlag::kRecover);
  if (!stopped.ok()) {
    Fail(std::move(stopped));
    return;
  }
  machine_.reset();
  socket_.Reset();
  state_ = State::kConnecting;
  Connect(to);
}

void SessionSetup::OnLoggedIn(const LoginResult& result) {
  login_result_ = result;
  step_ = "set negotiated parameters";
  absl::Status status = SetNegotiatedParams();
  if (!status.ok()) {
    Fail(std::move(status));
    return;
  }
  step_ = "start connection";
  status = kernel_.StartConn(*sid_, *cid_);
  if (!status.ok()) {
    Fail(std::move(status));
    return;
  }
  if (login_timer_.has_value()) {
    loop_.CancelTimer(*login_timer_);
    login_timer_.reset();
  }
  // The connection is up: its errors are for whoever keeps the session (the
  // router's default handler, the daemon's recovery), not for the scan and
  // the wait for devices, which a failed connection stalls until it is
  // recovered.
  router_.Unsubscribe(*sid_, *cid_);
  subscribed_ = false;
  KISCSI_LOG(kInfo) << name() << ": "
                    << (spec_.existing.has_value() ? "reinstated" : "logged in")
                    << " (host " << host_no_ << ", isid "
                    << IsidHex(spec_.login.isid) << ")";
  state_ = State::kDevices;
  if (spec_.existing.has_value()) {
    // The devices exist: bring back those the outage took offline and finish
    // without waiting for device nodes (the owner rescans, see
    // StartHostScan).
    ReviveDevices(revived_);
    device_deadline_ = loop_.Now();
    PollDevices();
    return;
  }
  if (!spec_.scan) {
    PollDevices();
    return;
  }
  step_ = "scan";
  absl::StatusOr<std::unique_ptr<BlockingCall>> scan =
      StartHostScan(loop_, paths_.sysfs_root, host_no_,
                    [this](absl::Status scanned) { OnScanned(scanned); });
  if (!scan.ok()) {
    Fail(scan.status());
    return;
  }
  scan_ = *std::move(scan);
}

void SessionSetup::OnScanned(absl::Status scanned) {
  scan_.reset();
  if (!scanned.ok()) {
    Fail(std::move(scanned));
    return;
  }
  step_ = "wait for devices";
  device_deadline_ = loop_.Now() + spec_.device_timeout;
  PollDevices();
}

void SessionSetup::ReviveDevices(std::vector<SysfsDevice>& revived) {
  for (SysfsDevice& device : ReadSessionDevices(paths_.sysfs_root, *sid_)) {
    if (device.state != "offline" && device.state != "transport-offline") {
      continue;
    }
    const std::string hctl = DeviceHctl(device);
    absl::Status revived_one = SetScsiDeviceState(
        SessionDeviceDir(paths_.sysfs_root, *sid_, device), "running");
    if (!revived_one.ok()) {
      KISCSI_LOG(kWarning) << name() << ": cannot set " << hctl << " ("
                           << device.state
                           << ") back to running: " << revived_one.message();
      continue;
    }
    KISCSI_LOG(kInfo) << name() << ": " << hctl
                      << (device.block.empty() ? "" : " ") << device.block
                      << " was " << device.state << ", set back to running";
    revived.push_back(std::move(device));
  }
}

void SessionSetup::WatchDeviceNodes() {
  absl::StatusOr<std::unique_ptr<DirWatch>> watch =
      DirWatch::Create(loop_, paths_.dev_root, [this] {
        if (device_timer_.has_value()) loop_.CancelTimer(*device_timer_);
        PollDevices();
      });
  if (!watch.ok()) {
    KISCSI_LOG(kDebug) << name() << ": polling for device nodes every "
                       << absl::ToInt64Milliseconds(paths_.device_poll_interval)
                       << " ms: " << watch.status().message();
    return;
  }
  dev_watch_ = *std::move(watch);
}

void SessionSetup::PollDevices() {
  device_timer_.reset();
  SessionResult result;
  if (spec_.scan) {
    result.devices = ReadSessionDevices(paths_.sysfs_root, *sid_);
    bool ready = true;
    for (const SysfsDevice& device : result.devices) {
      if (!NeedsBlockDevice(device)) continue;
      if (device.block.empty() ||
          access(absl::StrCat(paths_.dev_root, "/", device.block).c_str(),
                 F_OK) != 0) {
        ready = false;
      }
    }
    if (!ready && loop_.Now() < device_deadline_) {
      if (!dev_watch_tried_) {
        dev_watch_tried_ = true;
        WatchDeviceNodes();
        // A node made before the watch began has no event: look again.
        PollDevices();
        return;
      }
      device_timer_ = loop_.AddTimer(paths_.device_poll_interval,
                                     [this] { PollDevices(); });
      return;
    }
    dev_watch_.reset();
    result.devices_ready = ready;
    if (!ready && !spec_.existing.has_value()) {
      KISCSI_LOG(kWarning) << name() << ": not every LUN has a device after "
                           << absl::ToInt64Milliseconds(spec_.device_timeout)
                           << " ms";
    }
  }
  result.sid = *sid_;
  result.cid = *cid_;
  result.host_no = host_no_;
  result.isid = spec_.login.isid;
  result.portal = current_portal_;
  result.redirects = redirects_;
  result.revived = std::move(revived_);
  result.login = login_result_;
  result.socket = std::move(socket_);
  Finish(std::move(result));  // unsubscribed since START_CONN
}

void SessionSetup::Fail(absl::Status status) {
  if (state_ == State::kFinished) return;
  const ExitCode code = ExitCodeOf(status);
  absl::Status failure = WithExitCode(
      absl::Status(status.code(),
                   absl::StrCat(name(), ": ", step_, ": ", status.message())),
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
  connector_.reset();  // a lookup still waiting for DNS reports to nobody
  scan_.reset();       // a scan still blocked in the kernel reports to nobody
  dev_watch_.reset();
  if (login_timer_.has_value()) loop_.CancelTimer(*login_timer_);
  if (device_timer_.has_value()) loop_.CancelTimer(*device_timer_);
  if (resend_timer_.has_value()) loop_.CancelTimer(*resend_timer_);
  resend_timer_.reset();
  login_timer_.reset();
  device_timer_.reset();
  if (subscribed_) router_.Unsubscribe(*sid_, *cid_);
  subscribed_ = false;
  const auto check = [this](absl::Status status) {
    if (!status.ok()) {
      KISCSI_LOG(kWarning) << name() << ": teardown: " << status.message();
    }
  };
  if (spec_.existing.has_value()) {
    // Not ours to destroy: leave the connection stopped for the next try.
    if (bound_ && cid_.has_value()) {
      check(kernel_.StopConn(*sid_, *cid_, StopConnFlag::kRecover));
    }
    bound_ = false;
    socket_.Reset();
    return;
  }
  if (cid_.has_value()) {
    // A connection stopped for a redirect still gets TERM before DESTROY.
    if (bound_) check(kernel_.StopConn(*sid_, *cid_, StopConnFlag::kTerm));
    check(kernel_.DestroyConn(*sid_, *cid_));
    cid_.reset();
  }
  bound_ = false;
  if (session_created_) check(kernel_.DestroySession(*sid_));
  session_created_ = false;
  socket_.Reset();
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

absl::StatusOr<SessionResult> LoginBlocking(IscsiKernel& kernel,
                                            const SessionSpec& spec,
                                            const SessionPaths& paths) {
  ASSIGN_OR_RETURN(std::unique_ptr<EventLoop> loop, EventLoop::Create());
  KernelEventRouter router(*loop, kernel);
  RETURN_IF_ERROR(router.Start());
  std::optional<absl::StatusOr<SessionResult>> outcome;
  SessionSetup setup(router, spec, paths,
                     [&outcome](absl::StatusOr<SessionResult> result) {
                       outcome = std::move(result);
                     });
  setup.Start();
  // The setup bounds itself; this only guards against a loop failure.
  RETURN_IF_ERROR(loop->RunUntil([&] { return outcome.has_value(); },
                                 absl::InfiniteDuration()));
  return *std::move(outcome);
}

}  // namespace kiscsi
