// The login state machine (login_machine.h): the request queue and
// continuation PDUs, the stage transitions, the operational stage and the
// final response. The security stage (AuthMethod, CHAP) is in
// login_security.cc, the status class/detail messages in login_status.cc.
#include "src/login/login_machine.h"

#include <deque>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/login/login_machine_impl.h"
#include "src/login/negotiation.h"
#include "src/login/target_address.h"

namespace kiscsi {
namespace {

// Key-set exchanges (not counting continuation PDUs) before we give up on a
// target that never lets the login finish.
constexpr int kMaxExchanges = 16;

bool IsAuthKey(absl::string_view key) {
  return key == "AuthMethod" || absl::StartsWith(key, "CHAP_");
}

}  // namespace

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
    RetireChallenge();
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
        LoginStatusText(response.status_class, response.status_detail), ")"));
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
