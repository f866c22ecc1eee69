// The security stage of the login (RFC 7143 sections 6.3, 12.1): the answer
// to AuthMethod, the target's CHAP challenge and our response, and for mutual
// CHAP our own challenge and the check of the target's answer. Part of
// LoginMachine::Impl (login_machine_impl.h); the stage transitions around it
// are in login_machine.cc.
//
// It owns the process-wide registry of our outstanding mutual CHAP challenges
// (reflection attack defence). It must never put a CHAP secret in a message.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "src/base/status_macros.h"
#include "src/login/chap.h"
#include "src/login/login_machine_impl.h"

namespace kiscsi {
namespace {

// RFC 7143 section 12.1.3: CHAP_C and CHAP_R are at most 1024 bytes. A
// challenge shorter than an MD5 digest gives too little protection against
// precomputed responses.
constexpr size_t kMinChallengeBytes = 16;
constexpr size_t kMaxChallengeBytes = 1024;

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

}  // namespace

void LoginMachine::Impl::RetireChallenge() {
  if (our_challenge_.empty()) return;
  ChallengeRegistry::Get().Remove(our_challenge_);
  our_challenge_.clear();
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

}  // namespace kiscsi
