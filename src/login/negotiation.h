// Operational parameter negotiation for login (RFC 7143 sections 6.2-6.6 and
// 13).
//
// A Negotiator holds what the initiator wants (OperationalConfig), produces the
// keys to offer, checks the target's answers against what was offered, answers
// keys the target proposes on its own, and finally yields the values in force
// (NegotiatedParams), with RFC defaults for anything that was not negotiated.
// It knows nothing about PDUs or login stages:
//
//   Negotiator negotiator(SessionType::kNormal, config.operational);
//   ASSIGN_OR_RETURN(TextPairs offer, negotiator.Offer());
//   ... send offer, receive the target's complete key set ...
//   ASSIGN_OR_RETURN(TextPairs replies, negotiator.OnTargetKeys(target_pairs));
//   ... send replies (answers to the target's proposals), repeat until the
//   target transits ... ASSIGN_OR_RETURN(NegotiatedParams params,
//   negotiator.Finish());
//
// Errors carry ExitCode::kLogin (the target broke the rules) or
// ExitCode::kInvalid (our own configuration is unusable) and name the key and
// values involved.
#ifndef KISCSI_SRC_LOGIN_NEGOTIATION_H_
#define KISCSI_SRC_LOGIN_NEGOTIATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "src/login/login_machine.h"
#include "src/protocol/text_codec.h"

namespace kiscsi {

// Numerical bounds from RFC 7143 section 13.
inline constexpr uint32_t kMinDataSegmentLength = 512;
inline constexpr uint32_t kMaxNegotiatedLength = (1u << 24) - 1;
// MaxRecvDataSegmentLength in force while logging in (RFC 7143 section 13.12).
inline constexpr uint32_t kLoginDataSegmentLength = 8192;

class Negotiator {
 public:
  // `leading_connection` is false when adding a connection to an existing
  // session (TSIH != 0): session-wide keys are then neither offered nor
  // accepted.
  Negotiator(SessionType session_type, const OperationalConfig& config,
             bool leading_connection = true);

  // Fails (ExitCode::kInvalid) when the configuration holds a value outside its
  // RFC range or FirstBurstLength > MaxBurstLength.
  absl::Status CheckConfig() const;

  // The keys to offer, in a stable order, after CheckConfig(). Keys the target
  // already proposed (and we answered) are left out. Call at most once.
  absl::StatusOr<TextPairs> Offer();

  // Processes one complete key set from the target: answers to our offers,
  // declarations, and the target's own proposals. Returns the pairs to send
  // back (answers to proposals; possibly empty).
  absl::StatusOr<TextPairs> OnTargetKeys(const TextPairs& pairs);

  // The values in force. Fails when the outcome is inconsistent
  // (FirstBurstLength > MaxBurstLength while relevant) or unacceptable (no
  // digest although the configuration requires CRC32C).
  absl::StatusOr<NegotiatedParams> Finish() const;

 private:
  enum class KeyState { kOffered, kDone };

  absl::Status OnTargetKey(const TextPair& pair, TextPairs& replies);
  absl::Status OnAnswer(const TextPair& pair);
  absl::Status OnProposal(const TextPair& pair, TextPairs& replies);
  bool FirstBurstIrrelevantForUs() const;
  bool SessionKeysAllowed() const;
  void AddOffer(absl::string_view key, std::string value, TextPairs& offer);

  SessionType session_type_;
  OperationalConfig config_;
  bool leading_connection_;
  // Our wishes, in NegotiatedParams form so the key table can address both the
  // same way.
  NegotiatedParams ours_;
  NegotiatedParams result_;
  std::vector<std::string> header_digests_;  // our list, in order of preference
  std::vector<std::string> data_digests_;
  bool declared_max_recv_ = false;
  bool target_declared_max_recv_ = false;
  absl::flat_hash_map<std::string, KeyState> keys_;
  // Declarative values the target sent, to tolerate an identical repeat.
  absl::flat_hash_map<std::string, std::string> declarations_;
};

// Parses an RFC 7143 numerical value: decimal or "0x" hex, at most 2^32 - 1.
absl::StatusOr<uint32_t> ParseNumericalValue(absl::string_view value);

}  // namespace kiscsi

#endif  // KISCSI_SRC_LOGIN_NEGOTIATION_H_
