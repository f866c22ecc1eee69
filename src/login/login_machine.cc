#include "src/login/login_machine.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/login/negotiation.h"
#include "src/login/target_address.h"

namespace kiscsi {
namespace {

// RFC 7143 section 12.1.3: CHAP_C and CHAP_R are at most 1024 bytes. A
// challenge shorter than an MD5 digest gives too little protection against
// precomputed responses.
constexpr size_t kMinChallengeBytes = 16;
constexpr size_t kMaxChallengeBytes = 1024;
// Key-set exchanges (not counting continuation PDUs) before we give up on a
// target that never lets the login finish.
constexpr int kMaxExchanges = 16;

// Challenges we have sent for mutual CHAP and not yet retired, across all
// machines in the process: a target that hands one back to us as its own
// challenge is trying to make us compute the answer it owes (the reflection
// attack of RFC 7143 section 12.1.3).
class ChallengeRegistry {
 public:
  static ChallengeRegistry& Get() {
    static ChallengeRegistry* registry = new ChallengeRegistry;
    return *registry;
  }
  void Add(const std::vector<uint8_t>& challenge) {
    std::lock_guard<std::mutex> lock(mutex_);
    challenges_.push_back(challenge);
  }
  void Remove(const std::vector<uint8_t>& challenge) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find(challenges_.begin(), challenges_.end(), challenge);
    if (it != challenges_.end()) challenges_.erase(it);
  }
  bool Contains(absl::Span<const uint8_t> challenge) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::vector<uint8_t>& sent : challenges_) {
      if (ConstantTimeEqual(sent, challenge)) return true;
    }
    return false;
  }

 private:
  std::mutex mutex_;
  std::vector<std::vector<uint8_t>> challenges_;
};

bool IsAuthKey(absl::string_view key) {
  return key == "AuthMethod" || absl::StartsWith(key, "CHAP_");
}

std::string LoginWhat(absl::string_view target_name) {
  return target_name.empty() ? "discovery login"
                             : absl::StrCat("login to ", target_name);
}

std::string StatusCode(uint8_t status_class, uint8_t status_detail) {
  return absl::StrFormat("status 0x%02x%02x", status_class, status_detail);
}

}  // namespace

absl::Status LoginStatusToError(uint8_t status_class, uint8_t status_detail,
                                absl::string_view target_name) {
  if (status_class == 0) return absl::OkStatus();
  struct Mapping {
    absl::StatusCode code;
    ExitCode exit_code;
    absl::string_view what;
    absl::string_view hint;
  };
  Mapping m{absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
            "unknown login status class", "the target's logs"};
  if (status_class == 1) {
    m = {absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
         "target redirected the login", "the TargetAddress it sent"};
  } else if (status_class == 2) {
    switch (status_detail) {
      case 0x01:
        m = {absl::StatusCode::kUnauthenticated, ExitCode::kLoginAuthFailed,
             "authentication failed",
             "node.session.auth.username/password and chap_algs"};
        break;
      case 0x02:
        m = {absl::StatusCode::kPermissionDenied, ExitCode::kLoginAuthFailed,
             "authorization failed",
             "the target's ACL for this initiator name "
             "(/etc/iscsi/initiatorname.iscsi)"};
        break;
      case 0x03:
        m = {absl::StatusCode::kNotFound, ExitCode::kFatalLogin,
             "target name is unknown at this portal",
             "the target name, or rerun discovery"};
        break;
      case 0x04:
        m = {absl::StatusCode::kNotFound, ExitCode::kFatalLogin,
             "target has been removed from this portal",
             "the target's configuration, or rerun discovery"};
        break;
      case 0x05:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target does not support iSCSI version 0",
             "the target's iSCSI version"};
        break;
      case 0x06:
        m = {absl::StatusCode::kResourceExhausted, ExitCode::kLogin,
             "too many connections on this session",
             "node.session.iscsi.MaxConnections and existing sessions"};
        break;
      case 0x07:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target reports a missing parameter",
             "the node record (initiator and target names)"};
        break;
      case 0x08:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target cannot include this connection in the session",
             "the session's TSIH and connection ID"};
        break;
      case 0x09:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "target does not support this session type",
             "whether the portal serves discovery or normal sessions"};
        break;
      case 0x0a:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "session does not exist on the target",
             "the session's TSIH; log in with a new session"};
        break;
      case 0x0b:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
             "target says a request was invalid during login",
             "the target's logs"};
        break;
      default:
        m = {absl::StatusCode::kFailedPrecondition, ExitCode::kFatalLogin,
             "initiator error", "the target's logs"};
        break;
    }
  } else if (status_class == 3) {
    switch (status_detail) {
      case 0x01:
        m = {absl::StatusCode::kUnavailable, ExitCode::kAgain,
             "target service unavailable", "retry later"};
        break;
      case 0x02:
        m = {absl::StatusCode::kUnavailable, ExitCode::kAgain,
             "target out of resources", "retry later"};
        break;
      default:
        m = {absl::StatusCode::kUnavailable, ExitCode::kAgain, "target error",
             "retry later or the target's logs"};
        break;
    }
  }
  return WithExitCode(
      absl::Status(m.code,
                   absl::StrCat(LoginWhat(target_name), ": ", m.what, " (",
                                StatusCode(status_class, status_detail),
                                "): check ", m.hint)),
      m.exit_code);
}

class LoginMachine::Impl {
 public:
  explicit Impl(LoginConfig config)
      : config_(std::move(config)),
        negotiator_(config_.session_type, config_.operational,
                    config_.tsih == 0),
        exp_statsn_(config_.exp_statsn) {}

  ~Impl() {
    if (!our_challenge_.empty())
      ChallengeRegistry::Get().Remove(our_challenge_);
  }

  absl::StatusOr<LoginRequestPdu> Start();
  absl::StatusOr<LoginStep> OnResponse(const LoginResponse& response);

 private:
  enum class Phase {
    kIdle,           // Start() not called
    kAuthMethod,     // sent the first request with AuthMethod
    kChapAlgorithm,  // sent CHAP_A
    kChapResponse,   // sent CHAP_N/CHAP_R (and our challenge)
    kSecurityDone,  // authentication settled, waiting for the target to transit
    kOperational,   // sent operational keys, waiting for the target to transit
    kFinished,      // done, redirected or failed
  };

  absl::StatusOr<LoginStep> Handle(const LoginResponse& response);
  absl::StatusOr<LoginStep> HandleKeys(const LoginResponse& response,
                                       TextPairs pairs);
  absl::StatusOr<LoginStep> HandleRedirect(const LoginResponse& response);
  absl::Status HandleAuthMethod(const TextPairs& auth, bool transit);
  absl::StatusOr<TextPairs> HandleChapChallenge(const TextPairs& auth);
  absl::Status HandleChapVerdict(const TextPairs& auth);
  absl::StatusOr<LoginStep> Transit(const LoginResponse& response,
                                    TextPairs replies);
  absl::StatusOr<LoginStep> Finish(const LoginResponse& response);

  LoginRequestPdu NewRequest() const;
  // Queues `pairs` as the next request (split into continuation PDUs when
  // needed) and returns the first PDU.
  LoginStep Send(TextPairs pairs, bool transit, LoginStage nsg);
  LoginStep SendNextSegment();

  absl::Status Fail(absl::StatusCode code, ExitCode exit_code,
                    absl::string_view message) const;
  absl::Status ProtocolError(absl::string_view message) const {
    return Fail(absl::StatusCode::kFailedPrecondition, ExitCode::kLogin,
                message);
  }
  absl::Status AuthError(absl::string_view message) const {
    return Fail(absl::StatusCode::kUnauthenticated, ExitCode::kLoginAuthFailed,
                message);
  }
  bool Mutual() const { return !config_.auth.username_in.empty(); }

  LoginConfig config_;
  Negotiator negotiator_;
  Phase phase_ = Phase::kIdle;
  LoginStage csg_ = LoginStage::kSecurityNegotiation;
  uint32_t exp_statsn_;
  int exchanges_ = 0;
  TextAssembler assembler_;
  // Outgoing text that did not fit one PDU, and the T/NSG bits of its last PDU.
  std::deque<std::vector<uint8_t>> pending_segments_;
  bool pending_transit_ = false;
  LoginStage pending_nsg_ = LoginStage::kSecurityNegotiation;
  // Whether the last request sent had T=1 (a target may only transit when we
  // asked to).
  bool asked_transit_ = false;
  // CHAP state.
  std::optional<ChapAlgorithm> chap_algorithm_;
  uint8_t our_chap_id_ = 0;
  std::vector<uint8_t> our_challenge_;
  bool target_authenticated_ = false;
};

absl::Status LoginMachine::Impl::Fail(absl::StatusCode code, ExitCode exit_code,
                                      absl::string_view message) const {
  return WithExitCode(
      absl::Status(code,
                   absl::StrCat(LoginWhat(config_.target_name), ": ", message)),
      exit_code);
}

LoginRequestPdu LoginMachine::Impl::NewRequest() const {
  LoginRequestPdu request;
  request.csg = csg_;
  request.version_max = 0;
  request.version_min = 0;
  request.isid = config_.isid;
  request.tsih = config_.tsih;
  request.itt = config_.itt;
  request.cid = config_.cid;
  request.cmdsn = config_.cmdsn;
  request.exp_statsn = exp_statsn_;
  return request;
}

LoginStep LoginMachine::Impl::Send(TextPairs pairs, bool transit,
                                   LoginStage nsg) {
  std::vector<uint8_t> text = EncodeText(pairs);
  pending_segments_.clear();
  for (std::vector<uint8_t>& segment :
       SplitTextSegments(text, kLoginDataSegmentLength)) {
    pending_segments_.push_back(std::move(segment));
  }
  pending_transit_ = transit;
  pending_nsg_ = nsg;
  ++exchanges_;
  return SendNextSegment();
}

LoginStep LoginMachine::Impl::SendNextSegment() {
  LoginStep step;
  step.kind = LoginStep::kSend;
  step.request = NewRequest();
  step.request.data = std::move(pending_segments_.front());
  pending_segments_.pop_front();
  if (!pending_segments_.empty()) {
    step.request.cont = true;
  } else {
    step.request.transit = pending_transit_;
    if (pending_transit_) step.request.nsg = pending_nsg_;
  }
  asked_transit_ = step.request.transit;
  return step;
}

absl::StatusOr<LoginRequestPdu> LoginMachine::Impl::Start() {
  if (phase_ != Phase::kIdle) {
    return absl::FailedPreconditionError("LoginMachine::Start called twice");
  }
  const AuthConfig& auth = config_.auth;
  auto invalid = [](absl::string_view message) {
    return WithExitCode(absl::InvalidArgumentError(message),
                        ExitCode::kInvalid);
  };
  if (config_.initiator_name.empty()) {
    return invalid(
        "no initiator name: make one with 'kiscsi-iname -w' (it writes "
        "/etc/iscsi/initiatorname.iscsi)");
  }
  if (config_.session_type == SessionType::kNormal &&
      config_.target_name.empty()) {
    return invalid("no target name for a normal session: set node.name");
  }
  if (auth.chap) {
    if (auth.username.empty() || auth.password.empty()) {
      return invalid(
          "CHAP is configured without a user name or password: set "
          "node.session.auth.username and node.session.auth.password");
    }
    if (auth.algorithms.empty()) {
      return invalid(
          "CHAP is configured with no algorithms: set "
          "node.session.auth.chap_algs");
    }
    if (auth.username_in.empty() != auth.password_in.empty()) {
      return invalid(
          "mutual CHAP needs both node.session.auth.username_in and "
          "node.session.auth.password_in");
    }
    // RFC 7143 section 12.1.3: a secret must not authenticate both directions.
    if (Mutual() && auth.password == auth.password_in) {
      return invalid(
          "node.session.auth.password and password_in are the same; mutual "
          "CHAP needs a different secret for each direction");
    }
  } else if (!auth.username_in.empty()) {
    return invalid(
        "mutual CHAP (node.session.auth.username_in) needs "
        "node.session.auth.authmethod = CHAP");
  }

  RETURN_IF_ERROR(negotiator_.CheckConfig());

  TextPairs pairs;
  pairs.push_back({"InitiatorName", config_.initiator_name});
  if (!config_.initiator_alias.empty()) {
    pairs.push_back({"InitiatorAlias", config_.initiator_alias});
  }
  if (config_.session_type == SessionType::kNormal) {
    pairs.push_back({"SessionType", "Normal"});
    pairs.push_back({"TargetName", config_.target_name});
  } else {
    pairs.push_back({"SessionType", "Discovery"});
  }
  if (!auth.chap) {
    // Nothing to authenticate: skip the security stage (RFC 7143 section 6.3)
    // and offer the operational keys in the first request, asking for full
    // feature phase, as open-iscsi does. A login takes one round trip less; a
    // target that insists on authentication answers 0201 (authentication
    // failed).
    csg_ = LoginStage::kOperationalNegotiation;
    phase_ = Phase::kOperational;
    ASSIGN_OR_RETURN(TextPairs offer, negotiator_.Offer());
    pairs.insert(pairs.end(), offer.begin(), offer.end());
    return Send(std::move(pairs), true, LoginStage::kFullFeaturePhase).request;
  }
  pairs.push_back({"AuthMethod", "CHAP,None"});
  phase_ = Phase::kAuthMethod;
  return Send(std::move(pairs), false, LoginStage::kOperationalNegotiation)
      .request;
}

absl::StatusOr<LoginStep> LoginMachine::Impl::OnResponse(
    const LoginResponse& response) {
  if (phase_ == Phase::kIdle) {
    return absl::FailedPreconditionError(
        "LoginMachine::OnResponse called before Start");
  }
  if (phase_ == Phase::kFinished) {
    return absl::FailedPreconditionError(
        "LoginMachine::OnResponse called after the login ended");
  }
  absl::StatusOr<LoginStep> step = Handle(response);
  if (!step.ok() || step->kind != LoginStep::kSend) {
    phase_ = Phase::kFinished;
    // A challenge is useless once its login is over; stop watching for it.
    if (!our_challenge_.empty()) {
      ChallengeRegistry::Get().Remove(our_challenge_);
      our_challenge_.clear();
    }
  }
  return step;
}

absl::StatusOr<LoginStep> LoginMachine::Impl::Handle(
    const LoginResponse& response) {
  // The status comes first: some targets (tgtd) do not echo the ISID and ITT in
  // a rejection, and the user needs the rejection's reason, not a complaint
  // about the tags.
  if (response.status_class == 1) return HandleRedirect(response);
  if (response.status_class == 2 && response.status_detail == 0x01 &&
      !config_.auth.chap) {
    return AuthError(
        "target requires authentication (status 0x0201): set "
        "node.session.auth.authmethod = CHAP and "
        "node.session.auth.username/password");
  }
  RETURN_IF_ERROR(LoginStatusToError(
      response.status_class, response.status_detail, config_.target_name));
  if (response.isid != config_.isid ||
      (!config_.transport_sets_itt && response.itt != config_.itt)) {
    return ProtocolError(
        "target answered with a different ISID or initiator task tag than "
        "the login request carried");
  }
  if (response.version_active != 0) {
    return ProtocolError(absl::StrCat("target chose iSCSI version ",
                                      response.version_active,
                                      "; only version 0 is supported"));
  }
  if (response.csg != csg_) {
    return ProtocolError(absl::StrCat(
        "target answered in login stage ", static_cast<int>(response.csg),
        " to a request in stage ", static_cast<int>(csg_)));
  }
  if (response.transit && response.cont) {
    return ProtocolError("target set both the T and C bits in a response");
  }
  if (response.transit && !asked_transit_) {
    return ProtocolError(
        "target changed login stage although the initiator did not ask to");
  }
  exp_statsn_ = response.statsn + 1;

  if (!pending_segments_.empty()) {
    // The target acknowledges a partial request with an empty response.
    if (!response.data.empty() || response.transit || response.cont) {
      return ProtocolError(
          "target answered a partial (C=1) login request with data or a "
          "stage change");
    }
    return SendNextSegment();
  }

  absl::Status appended = assembler_.Append(response.data, response.cont);
  if (!appended.ok()) {
    return ProtocolError(
        absl::StrCat("login response text: ", appended.message()));
  }
  if (response.cont) {
    // Ask for the rest of the target's text with an empty request.
    // It carries T=0; whether the target may transit still follows from our
    // last request.
    LoginStep step;
    step.request = NewRequest();
    return step;
  }
  absl::StatusOr<TextPairs> pairs = assembler_.Take();
  if (!pairs.ok()) {
    return ProtocolError(
        absl::StrCat("login response text: ", pairs.status().message()));
  }
  return HandleKeys(response, *std::move(pairs));
}

absl::StatusOr<LoginStep> LoginMachine::Impl::HandleRedirect(
    const LoginResponse& response) {
  if (response.status_detail != 0x01 && response.status_detail != 0x02) {
    return ProtocolError(absl::StrCat(
        "target sent an unknown redirection (",
        StatusCode(response.status_class, response.status_detail), ")"));
  }
  absl::StatusOr<TextPairs> pairs = DecodeText(response.data);
  if (!pairs.ok()) {
    return ProtocolError(
        absl::StrCat("redirect text: ", pairs.status().message()));
  }
  const std::string* address = FindTextValue(*pairs, "TargetAddress");
  if (address == nullptr) {
    return ProtocolError("target redirected the login without a TargetAddress");
  }
  absl::StatusOr<ParsedTargetAddress> parsed = ParseTargetAddress(*address);
  if (!parsed.ok()) {
    return ProtocolError(absl::StrCat("target redirected the login: ",
                                      parsed.status().message()));
  }
  LoginStep step;
  step.kind = LoginStep::kRedirect;
  step.redirect.address = std::move(parsed->address);
  step.redirect.port = parsed->port;
  step.redirect.permanent = response.status_detail == 0x02;
  return step;
}

absl::StatusOr<LoginStep> LoginMachine::Impl::HandleKeys(
    const LoginResponse& response, TextPairs pairs) {
  if (exchanges_ > kMaxExchanges) {
    return ProtocolError(absl::StrCat("target did not complete the login in ",
                                      kMaxExchanges, " exchanges"));
  }
  TextPairs auth;
  TextPairs others;
  for (TextPair& pair : pairs) {
    (IsAuthKey(pair.key) ? auth : others).push_back(std::move(pair));
  }
  if (csg_ != LoginStage::kSecurityNegotiation && !auth.empty()) {
    return ProtocolError(absl::StrCat("target sent ", auth.front().key,
                                      " outside the security stage"));
  }
  absl::StatusOr<TextPairs> replies = negotiator_.OnTargetKeys(others);
  if (!replies.ok()) {
    return ProtocolError(replies.status().message());
  }

  switch (phase_) {
    case Phase::kAuthMethod:
      RETURN_IF_ERROR(HandleAuthMethod(auth, response.transit));
      if (phase_ == Phase::kChapAlgorithm) {
        std::vector<std::string> numbers;
        for (ChapAlgorithm algorithm : config_.auth.algorithms) {
          numbers.push_back(absl::StrCat(static_cast<int>(algorithm)));
        }
        replies->push_back({"CHAP_A", absl::StrJoin(numbers, ",")});
        return Send(*std::move(replies), false,
                    LoginStage::kSecurityNegotiation);
      }
      break;
    case Phase::kChapAlgorithm: {
      ASSIGN_OR_RETURN(TextPairs chap, HandleChapChallenge(auth));
      replies->insert(replies->begin(), chap.begin(), chap.end());
      phase_ = Phase::kChapResponse;
      return Send(*std::move(replies), true,
                  LoginStage::kOperationalNegotiation);
    }
    case Phase::kChapResponse:
      RETURN_IF_ERROR(HandleChapVerdict(auth));
      phase_ = Phase::kSecurityDone;
      break;
    case Phase::kSecurityDone:
    case Phase::kOperational:
      if (!auth.empty()) {
        return ProtocolError(absl::StrCat("target sent ", auth.front().key,
                                          " after authentication finished"));
      }
      break;
    case Phase::kIdle:
    case Phase::kFinished:
      return absl::InternalError("login machine in an impossible phase");
  }

  if (response.transit) return Transit(response, *std::move(replies));
  // The target wants another round in this stage: answer its keys and ask to
  // move on.
  if (phase_ == Phase::kOperational) {
    return Send(*std::move(replies), true, LoginStage::kFullFeaturePhase);
  }
  return Send(*std::move(replies), true, LoginStage::kOperationalNegotiation);
}

absl::Status LoginMachine::Impl::HandleAuthMethod(const TextPairs& auth,
                                                  bool transit) {
  const std::string* method = FindTextValue(auth, "AuthMethod");
  for (const TextPair& pair : auth) {
    if (pair.key != "AuthMethod") {
      return ProtocolError(
          absl::StrCat("target sent ", pair.key, " before agreeing to CHAP"));
    }
  }
  if (auth.size() > 1) {
    return ProtocolError("target answered AuthMethod more than once");
  }
  if (method == nullptr) {
    return AuthError(
        "target did not answer AuthMethod; check "
        "node.session.auth.authmethod");
  }
  if (*method == "CHAP") {
    if (transit) {
      return ProtocolError("target left the security stage before CHAP ran");
    }
    phase_ = Phase::kChapAlgorithm;
    return absl::OkStatus();
  }
  if (*method == "None") {
    if (Mutual()) {
      return AuthError(
          "target declined CHAP, but mutual CHAP is configured "
          "(node.session.auth.username_in), so the target must prove itself");
    }
    phase_ = Phase::kSecurityDone;
    return absl::OkStatus();
  }
  if (*method == "Reject") {
    return AuthError(
        "target rejected AuthMethod=CHAP,None: check "
        "node.session.auth.authmethod and the target's auth setup");
  }
  return AuthError(
      absl::StrCat("target answered AuthMethod=", absl::CHexEscape(*method),
                   ", which was not offered: check "
                   "node.session.auth.authmethod"));
}

absl::StatusOr<TextPairs> LoginMachine::Impl::HandleChapChallenge(
    const TextPairs& auth) {
  const std::string* algorithm_text = nullptr;
  const std::string* id_text = nullptr;
  const std::string* challenge_text = nullptr;
  for (const TextPair& pair : auth) {
    const std::string** slot = nullptr;
    if (pair.key == "CHAP_A") slot = &algorithm_text;
    if (pair.key == "CHAP_I") slot = &id_text;
    if (pair.key == "CHAP_C") slot = &challenge_text;
    if (slot == nullptr) {
      return AuthError(absl::StrCat("target sent ", pair.key,
                                    " instead of its CHAP challenge"));
    }
    if (*slot != nullptr) {
      return AuthError(absl::StrCat("target sent ", pair.key, " twice"));
    }
    *slot = &pair.value;
  }
  std::vector<std::string> offered;
  for (ChapAlgorithm algorithm : config_.auth.algorithms) {
    offered.push_back(std::string(ChapAlgorithmName(algorithm)));
  }
  const std::string offered_list = absl::StrJoin(offered, ",");
  if (algorithm_text == nullptr || *algorithm_text == "Reject") {
    return AuthError(
        absl::StrCat("target supports none of the CHAP algorithms offered (",
                     offered_list, "): check node.session.auth.chap_algs"));
  }
  absl::StatusOr<uint32_t> number = ParseNumericalValue(*algorithm_text);
  std::optional<ChapAlgorithm> algorithm;
  if (number.ok() && *number <= 255) {
    algorithm = ChapAlgorithmFromNumber(static_cast<int>(*number));
  }
  if (!algorithm.has_value() ||
      std::find(config_.auth.algorithms.begin(), config_.auth.algorithms.end(),
                *algorithm) == config_.auth.algorithms.end()) {
    return AuthError(
        absl::StrCat("target chose CHAP_A=", absl::CHexEscape(*algorithm_text),
                     ", which was not offered (", offered_list,
                     "): check node.session.auth.chap_algs"));
  }
  if (id_text == nullptr || challenge_text == nullptr) {
    return AuthError("target sent no CHAP_I or CHAP_C challenge");
  }
  absl::StatusOr<uint32_t> id = ParseNumericalValue(*id_text);
  if (!id.ok() || *id > 255) {
    return AuthError("target sent a CHAP_I that is not a number 0..255");
  }
  absl::StatusOr<std::vector<uint8_t>> challenge =
      DecodeBinaryValue(*challenge_text);
  if (!challenge.ok()) {
    return AuthError(absl::StrCat("target sent a bad CHAP_C: ",
                                  challenge.status().message()));
  }
  if (challenge->size() < kMinChallengeBytes ||
      challenge->size() > kMaxChallengeBytes) {
    return AuthError(absl::StrCat(
        "target sent a ", challenge->size(), "-byte CHAP_C; it must be ",
        kMinChallengeBytes, "..", kMaxChallengeBytes, " bytes"));
  }
  if (ChallengeRegistry::Get().Contains(*challenge)) {
    return AuthError(
        "target sent back a CHAP challenge this initiator issued (reflection "
        "attack); refusing to answer it");
  }
  chap_algorithm_ = *algorithm;
  const std::vector<uint8_t> response = ChapResponse(
      *algorithm, static_cast<uint8_t>(*id), config_.auth.password, *challenge);
  TextPairs pairs;
  pairs.push_back({"CHAP_N", config_.auth.username});
  pairs.push_back({"CHAP_R", EncodeHexValue(response)});
  if (Mutual()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> id_byte, RandomBytes(1));
    const size_t length =
        std::max(kMinChallengeBytes, ChapDigestSize(*algorithm));
    std::vector<uint8_t> ours;
    // Never hand the target its own challenge back (RFC 7143 section 12.1.3).
    do {
      ASSIGN_OR_RETURN(ours, RandomBytes(length));
    } while (ConstantTimeEqual(ours, *challenge));
    our_chap_id_ = id_byte[0];
    our_challenge_ = std::move(ours);
    ChallengeRegistry::Get().Add(our_challenge_);
    pairs.push_back({"CHAP_I", absl::StrCat(our_chap_id_)});
    pairs.push_back({"CHAP_C", EncodeHexValue(our_challenge_)});
  }
  return pairs;
}

absl::Status LoginMachine::Impl::HandleChapVerdict(const TextPairs& auth) {
  const std::string* sent_back = FindTextValue(auth, "CHAP_C");
  if (sent_back != nullptr && !our_challenge_.empty()) {
    absl::StatusOr<std::vector<uint8_t>> challenge =
        DecodeBinaryValue(*sent_back);
    if (challenge.ok() && ConstantTimeEqual(*challenge, our_challenge_)) {
      return AuthError(
          "target sent back our own CHAP challenge (reflection attack)");
    }
  }
  const std::string* name = nullptr;
  const std::string* answer = nullptr;
  for (const TextPair& pair : auth) {
    if (!Mutual() || (pair.key != "CHAP_N" && pair.key != "CHAP_R")) {
      return AuthError(absl::StrCat("target sent unexpected ", pair.key,
                                    " after our CHAP response"));
    }
    const std::string** slot = pair.key == "CHAP_N" ? &name : &answer;
    if (*slot != nullptr) {
      return AuthError(absl::StrCat("target sent ", pair.key, " twice"));
    }
    *slot = &pair.value;
  }
  if (!Mutual()) return absl::OkStatus();
  if (name == nullptr || answer == nullptr) {
    return AuthError(
        "target did not answer our CHAP challenge (no CHAP_N/CHAP_R) although "
        "mutual CHAP is configured: check the target's mutual CHAP setup");
  }
  if (*name != config_.auth.username_in) {
    return AuthError(
        absl::StrCat("target identified itself as \"", absl::CHexEscape(*name),
                     "\" in mutual CHAP: check node.session.auth.username_in"));
  }
  absl::StatusOr<std::vector<uint8_t>> received = DecodeBinaryValue(*answer);
  if (!received.ok()) {
    return AuthError(absl::StrCat("target sent a bad CHAP_R: ",
                                  received.status().message()));
  }
  const std::vector<uint8_t> expected = ChapResponse(
      *chap_algorithm_, our_chap_id_, config_.auth.password_in, our_challenge_);
  if (!ConstantTimeEqual(*received, expected)) {
    return AuthError(
        "target failed mutual CHAP authentication: check "
        "node.session.auth.username_in/password_in");
  }
  target_authenticated_ = true;
  return absl::OkStatus();
}

absl::StatusOr<LoginStep> LoginMachine::Impl::Transit(
    const LoginResponse& response, TextPairs replies) {
  const LoginStage nsg = response.nsg;
  if (nsg == LoginStage::kFullFeaturePhase) {
    // No request follows, so proposals needing an answer cannot be answered.
    for (const TextPair& reply : replies) {
      if (reply.value != "NotUnderstood") {
        return ProtocolError(absl::StrCat("target proposed ", reply.key,
                                          " in its final login response"));
      }
    }
    return Finish(response);
  }
  if (csg_ != LoginStage::kSecurityNegotiation ||
      nsg != LoginStage::kOperationalNegotiation) {
    return ProtocolError(absl::StrCat("target moved from login stage ",
                                      static_cast<int>(csg_), " to stage ",
                                      static_cast<int>(nsg)));
  }
  csg_ = LoginStage::kOperationalNegotiation;
  phase_ = Phase::kOperational;
  ASSIGN_OR_RETURN(TextPairs offer, negotiator_.Offer());
  offer.insert(offer.end(), replies.begin(), replies.end());
  return Send(std::move(offer), true, LoginStage::kFullFeaturePhase);
}

absl::StatusOr<LoginStep> LoginMachine::Impl::Finish(
    const LoginResponse& response) {
  if (config_.tsih == 0 && response.tsih == 0) {
    return ProtocolError("target completed the login without assigning a TSIH");
  }
  if (config_.tsih != 0 && response.tsih != config_.tsih) {
    return ProtocolError(absl::StrCat("target answered with TSIH ",
                                      response.tsih, " for session TSIH ",
                                      config_.tsih));
  }
  absl::StatusOr<NegotiatedParams> params = negotiator_.Finish();
  if (!params.ok()) return ProtocolError(params.status().message());
  LoginStep step;
  step.kind = LoginStep::kDone;
  step.result.params = *std::move(params);
  step.result.tsih = response.tsih;
  step.result.statsn = response.statsn;
  step.result.exp_cmdsn = response.exp_cmdsn;
  step.result.max_cmdsn = response.max_cmdsn;
  step.result.chap_algorithm = chap_algorithm_;
  step.result.target_authenticated = target_authenticated_;
  return step;
}

LoginMachine::LoginMachine(LoginConfig config)
    : config_session_type_(config.session_type),
      impl_(std::make_unique<Impl>(std::move(config))) {}

LoginMachine::~LoginMachine() = default;

namespace {

// Messages name the node record's CHAP keys; a discovery session's live under
// discovery.sendtargets.auth, so point the user there instead.
template <typename T>
absl::StatusOr<T> NameKeysFor(SessionType type, absl::StatusOr<T> result) {
  if (result.ok() || type != SessionType::kDiscovery) return result;
  absl::Status status = result.status();
  absl::Status renamed(
      status.code(),
      absl::StrReplaceAll(status.message(), {{"node.session.auth.",
                                              "discovery.sendtargets.auth."}}));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    renamed.SetPayload(url, payload);
  });
  return renamed;
}

}  // namespace

absl::StatusOr<LoginRequestPdu> LoginMachine::Start() {
  return NameKeysFor(config_session_type_, impl_->Start());
}

absl::StatusOr<LoginStep> LoginMachine::OnResponse(
    const LoginResponse& response) {
  return NameKeysFor(config_session_type_, impl_->OnResponse(response));
}

}  // namespace kiscsi
