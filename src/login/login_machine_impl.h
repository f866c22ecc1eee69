// Internal to src/login: the definition of LoginMachine::Impl, shared by the
// files that implement it. Include it only from login_machine.cc (the request
// queue, the stage transitions, the operational and final stages) and
// login_security.cc (the security stage: AuthMethod and CHAP). Everything else
// uses login_machine.h.
#ifndef KISCSI_SRC_LOGIN_LOGIN_MACHINE_IMPL_H_
#define KISCSI_SRC_LOGIN_LOGIN_MACHINE_IMPL_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "src/base/exit_code.h"
#include "src/login/login_machine.h"
#include "src/login/negotiation.h"

namespace kiscsi {

// "login to <target>" or "discovery login", the start of every message.
std::string LoginWhat(absl::string_view target_name);
// "status 0x0201" for a login status class/detail pair.
std::string LoginStatusText(uint8_t status_class, uint8_t status_detail);

class LoginMachine::Impl {
 public:
  explicit Impl(LoginConfig config)
      : config_(std::move(config)),
        negotiator_(config_.session_type, config_.operational,
                    config_.tsih == 0),
        exp_statsn_(config_.exp_statsn) {}

  ~Impl() { RetireChallenge(); }

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
  // The security stage (login_security.cc).
  absl::Status HandleAuthMethod(const TextPairs& auth, bool transit);
  absl::StatusOr<TextPairs> HandleChapChallenge(const TextPairs& auth);
  absl::Status HandleChapVerdict(const TextPairs& auth);
  // Stops watching for our mutual CHAP challenge once its login is over.
  void RetireChallenge();
  // The operational and final stages (login_machine.cc).
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

}  // namespace kiscsi

#endif  // KISCSI_SRC_LOGIN_LOGIN_MACHINE_IMPL_H_
