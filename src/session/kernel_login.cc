#include "src/session/kernel_login.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/session/kernel_pdu.h"
#include "src/session/live_params.h"

namespace kiscsi {
namespace {

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

std::string SessionName(const SessionSpec& spec, std::optional<uint32_t> sid) {
  return absl::StrCat("session", sid.has_value() ? absl::StrCat(" ", *sid) : "",
                      " (", spec.login.target_name, ", ",
                      FormatPortal(spec.portal, ':'), ")");
}

KernelLogin::KernelLogin(KernelEventRouter& router, const SessionSpec& spec,
                         Done done)
    : router_(router),
      loop_(router.loop()),
      kernel_(router.kernel()),
      spec_(spec),
      done_(std::move(done)),
      current_portal_(spec_.portal) {}

KernelLogin::~KernelLogin() {
  connector_.reset();  // a lookup still waiting for DNS reports to nobody
  CancelTimers();
  if (subscribed_) router_.Unsubscribe(*sid_, *cid_);
  subscribed_ = false;
  if (!released_) Undo();
}

void KernelLogin::Start() {
  state_ = State::kConnecting;
  login_timer_ = loop_.AddTimer(spec_.timeouts.login_timeout, [this] {
    login_timer_.reset();
    Report(WithExitCode(
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
        Report(std::move(stopped));
        return;
      }
    }
  }
  Connect(spec_.portal);
}

void KernelLogin::Connect(const Portal& portal) {
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

void KernelLogin::OnConnected(absl::StatusOr<UniqueFd> socket) {
  connector_.reset();
  if (!socket.ok()) {
    Report(socket.status());
    return;
  }
  socket_ = *std::move(socket);
  if (!sid_.has_value()) {
    CreateKernelObjects();
  } else {
    BindAndLogin();
  }
}

void KernelLogin::CreateKernelObjects() {
  step_ = "create session";
  absl::StatusOr<CreatedSession> session = kernel_.CreateSession(
      spec_.login.cmdsn, spec_.cmds_max, spec_.queue_depth);
  if (!session.ok()) {
    Report(session.status());
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
    Report(cid.status());
    return;
  }
  cid_ = *cid;
  spec_.login.cid = static_cast<uint16_t>(*cid_);
  router_.Subscribe(*sid_, *cid_,
                    [this](const KernelEvent& event) { OnKernelEvent(event); });
  subscribed_ = true;
  BindAndLogin();
}

void KernelLogin::BindAndLogin() {
  step_ = "bind connection";
  absl::Status status = kernel_.BindConn(*sid_, *cid_, socket_.get(), true);
  if (!status.ok()) {
    Report(std::move(status));
    return;
  }
  bound_ = true;
  step_ = "set parameters";
  status = SetIdentityParams();
  if (!status.ok()) {
    Report(std::move(status));
    return;
  }
  step_ = "login";
  state_ = State::kLogin;
  machine_ = std::make_unique<LoginMachine>(spec_.login);
  absl::StatusOr<LoginRequestPdu> request = machine_->Start();
  if (!request.ok()) {
    Report(request.status());
    return;
  }
  status = SendLoginRequest(*request);
  if (!status.ok()) Report(std::move(status));
}

absl::Status KernelLogin::SetParam(IscsiParam param, const std::string& value) {
  return SetKernelParam(kernel_, *sid_, *cid_, param, value);
}

absl::Status KernelLogin::SetIdentityParams() {
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

absl::Status KernelLogin::SetNegotiatedParams(const LoginResult& result) {
  const NegotiatedParams& p = result.params;
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
      SetParam(IscsiParam::kExpStatsn, absl::StrCat(result.statsn + 1)));
  return SetParam(IscsiParam::kTpgt, absl::StrCat(p.target_portal_group_tag));
}

absl::Status KernelLogin::SendLoginRequest(const LoginRequestPdu& request) {
  return SendPduThroughKernel(kernel_, *sid_, *cid_, Encode(request));
}

// The kernel reports a Login Response (RECV_PDU) before it frees the
// connection's login task, and refuses a SEND_PDU until then with -EPERM
// ("Login/Text in progress. Cannot start new task."): on a busy machine the
// next request can get there first. It is sent again a millisecond later, a
// bounded number of times (the login timeout bounds them too).
void KernelLogin::SendNextLoginRequest(LoginRequestPdu request, int retries) {
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
  if (!sent.ok()) Report(std::move(sent));
}

void KernelLogin::OnKernelEvent(const KernelEvent& event) {
  if (const auto* error = std::get_if<ConnErrorEvent>(&event)) {
    if (state_ == State::kLogin) {
      Report(TransportError(absl::UnavailableError(
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

void KernelLogin::OnLoginPdu(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<Pdu> pdu = PduFromKernel(bytes);
  if (!pdu.ok()) {
    Report(WithExitCode(pdu.status(), ExitCode::kLogin));
    return;
  }
  const auto opcode = static_cast<Opcode>(pdu->opcode());
  if (opcode == Opcode::kReject) {
    absl::StatusOr<Reject> reject = DecodeReject(*pdu);
    Report(WithExitCode(
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
    Report(WithExitCode(response.status(), ExitCode::kLogin));
    return;
  }
  absl::StatusOr<LoginStep> step = machine_->OnResponse(*response);
  if (!step.ok()) {
    Report(step.status());
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

void KernelLogin::OnRedirect(const Redirect& redirect) {
  const Portal to{redirect.address, redirect.port};
  redirects_.push_back(to);
  if (static_cast<int>(redirects_.size()) > spec_.max_redirects) {
    std::string path = FormatPortal(spec_.portal, ':');
    for (const Portal& portal : redirects_)
      absl::StrAppend(&path, " -> ", FormatPortal(portal, ':'));
    Report(WithExitCode(
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
    Report(std::move(stopped));
    return;
  }
  machine_.reset();
  socket_.Reset();
  state_ = State::kConnecting;
  Connect(to);
}

void KernelLogin::OnLoggedIn(const LoginResult& result) {
  step_ = "set negotiated parameters";
  absl::Status status = SetNegotiatedParams(result);
  if (!status.ok()) {
    Report(std::move(status));
    return;
  }
  step_ = "start connection";
  status = kernel_.StartConn(*sid_, *cid_);
  if (!status.ok()) {
    Report(std::move(status));
    return;
  }
  CancelTimers();
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
  state_ = State::kDone;
  result_.sid = *sid_;
  result_.cid = *cid_;
  result_.host_no = host_no_;
  result_.isid = spec_.login.isid;
  result_.portal = current_portal_;
  result_.redirects = redirects_;
  result_.login = result;
  Report(absl::OkStatus());
}

void KernelLogin::CancelTimers() {
  if (login_timer_.has_value()) loop_.CancelTimer(*login_timer_);
  if (resend_timer_.has_value()) loop_.CancelTimer(*resend_timer_);
  login_timer_.reset();
  resend_timer_.reset();
}

void KernelLogin::Report(absl::Status status) {
  if (reported_) return;
  reported_ = true;
  if (!status.ok()) {
    // Nothing more happens until the owner destroys this object.
    connector_.reset();
    CancelTimers();
    machine_.reset();
  }
  Done done = std::move(done_);
  done(std::move(status));  // may destroy this object
}

void KernelLogin::Undo() {
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

}  // namespace kiscsi
