#include "src/login/negotiation.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

constexpr char kIrrelevant[] = "Irrelevant";
constexpr char kReject[] = "Reject";
constexpr char kNotUnderstood[] = "NotUnderstood";
constexpr char kMaxRecvKey[] = "MaxRecvDataSegmentLength";

// How the two sides' values combine (RFC 7143 section 6.2).
enum class Rule { kMin, kMax, kOr, kAnd };

struct NumberKey {
  absl::string_view name;
  Rule rule;
  uint32_t low;
  uint32_t high;
  uint32_t NegotiatedParams::*field;
  absl::string_view config_name;
};

constexpr NumberKey kNumberKeys[] = {
    {"FirstBurstLength", Rule::kMin, kMinDataSegmentLength,
     kMaxNegotiatedLength, &NegotiatedParams::first_burst_length,
     "node.session.iscsi.FirstBurstLength"},
    {"MaxBurstLength", Rule::kMin, kMinDataSegmentLength, kMaxNegotiatedLength,
     &NegotiatedParams::max_burst_length, "node.session.iscsi.MaxBurstLength"},
    {"DefaultTime2Wait", Rule::kMax, 0, 3600,
     &NegotiatedParams::default_time2wait,
     "node.session.iscsi.DefaultTime2Wait"},
    {"DefaultTime2Retain", Rule::kMin, 0, 3600,
     &NegotiatedParams::default_time2retain,
     "node.session.iscsi.DefaultTime2Retain"},
    {"MaxOutstandingR2T", Rule::kMin, 1, 65535,
     &NegotiatedParams::max_outstanding_r2t,
     "node.session.iscsi.MaxOutstandingR2T"},
    {"ErrorRecoveryLevel", Rule::kMin, 0, 2,
     &NegotiatedParams::error_recovery_level, "node.session.iscsi.ERL"},
    {"MaxConnections", Rule::kMin, 1, 65535, &NegotiatedParams::max_connections,
     "node.session.iscsi.MaxConnections"},
};

struct BoolKey {
  absl::string_view name;
  Rule rule;
  bool NegotiatedParams::*field;
  bool session_wide;
  bool offered;  // markers are answered, never offered (RFC 7143 made them
                 // obsolete)
};

constexpr BoolKey kBoolKeys[] = {
    {"InitialR2T", Rule::kOr, &NegotiatedParams::initial_r2t, true, true},
    {"ImmediateData", Rule::kAnd, &NegotiatedParams::immediate_data, true,
     true},
    {"DataPDUInOrder", Rule::kOr, &NegotiatedParams::data_pdu_in_order, true,
     true},
    {"DataSequenceInOrder", Rule::kOr,
     &NegotiatedParams::data_sequence_in_order, true, true},
    {"IFMarker", Rule::kAnd, &NegotiatedParams::if_marker, false, false},
    {"OFMarker", Rule::kAnd, &NegotiatedParams::of_marker, false, false},
};

// Keys only an initiator sends; a target sending one is broken.
constexpr absl::string_view kInitiatorOnlyKeys[] = {
    "InitiatorName", "InitiatorAlias", "SessionType", "SendTargets"};

const NumberKey* FindNumberKey(absl::string_view name) {
  for (const NumberKey& key : kNumberKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

const BoolKey* FindBoolKey(absl::string_view name) {
  for (const BoolKey& key : kBoolKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

bool IsDigestKey(absl::string_view name) {
  return name == "HeaderDigest" || name == "DataDigest";
}

bool IsSpecialAnswer(absl::string_view value) {
  return value == kIrrelevant || value == kReject || value == kNotUnderstood;
}

absl::Status TargetError(absl::string_view message) {
  return WithExitCode(absl::InvalidArgumentError(
                          absl::StrCat("login negotiation failed: ", message)),
                      ExitCode::kLogin);
}

absl::Status ConfigError(absl::string_view message) {
  return WithExitCode(absl::InvalidArgumentError(message), ExitCode::kInvalid);
}

std::vector<std::string> DigestList(DigestPreference preference) {
  switch (preference) {
    case DigestPreference::kNone:
      return {"None"};
    case DigestPreference::kCrc32c:
      return {"CRC32C"};
    case DigestPreference::kCrc32cOrNone:
      return {"CRC32C", "None"};
    case DigestPreference::kNoneOrCrc32c:
      return {"None", "CRC32C"};
  }
  return {"None"};
}

absl::StatusOr<bool> ParseBool(absl::string_view key, absl::string_view value) {
  if (value == "Yes") return true;
  if (value == "No") return false;
  return TargetError(absl::StrCat("target sent ", key, "=",
                                  absl::CHexEscape(value),
                                  ", expected Yes or No"));
}

const char* YesNo(bool value) { return value ? "Yes" : "No"; }

uint32_t Combine(Rule rule, uint32_t ours, uint32_t theirs) {
  return rule == Rule::kMax ? std::max(ours, theirs) : std::min(ours, theirs);
}

bool Combine(Rule rule, bool ours, bool theirs) {
  return rule == Rule::kOr ? (ours || theirs) : (ours && theirs);
}

absl::StatusOr<uint32_t> ParseRanged(absl::string_view key,
                                     absl::string_view value, uint32_t low,
                                     uint32_t high) {
  auto number = ParseNumericalValue(value);
  if (!number.ok()) {
    return TargetError(absl::StrCat("target sent ", key, "=",
                                    absl::CHexEscape(value), ": ",
                                    number.status().message()));
  }
  if (*number < low || *number > high) {
    return TargetError(absl::StrCat("target sent ", key, "=", *number,
                                    ", outside ", low, "..", high));
  }
  return *number;
}

}  // namespace

absl::StatusOr<uint32_t> ParseNumericalValue(absl::string_view value) {
  uint64_t number = 0;
  if (absl::StartsWith(value, "0x") || absl::StartsWith(value, "0X")) {
    absl::string_view digits = value.substr(2);
    if (digits.empty() || digits.size() > 8) {
      return absl::InvalidArgumentError("not a 32-bit hex number");
    }
    for (char c : digits) {
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0) return absl::InvalidArgumentError("not a hex number");
      number = number * 16 + static_cast<uint64_t>(digit);
    }
    return static_cast<uint32_t>(number);
  }
  if (value.empty() || value.size() > 10) {
    return absl::InvalidArgumentError("not a 32-bit decimal number");
  }
  for (char c : value) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError("not a decimal number");
    }
    number = number * 10 + static_cast<uint64_t>(c - '0');
  }
  if (number > UINT32_MAX) {
    return absl::InvalidArgumentError("number exceeds 32 bits");
  }
  return static_cast<uint32_t>(number);
}

Negotiator::Negotiator(SessionType session_type,
                       const OperationalConfig& config, bool leading_connection)
    : session_type_(session_type),
      config_(config),
      leading_connection_(leading_connection),
      header_digests_(DigestList(config.header_digest)),
      data_digests_(DigestList(config.data_digest)) {
  ours_.max_recv_data_segment_length = config.max_recv_data_segment_length;
  ours_.initial_r2t = config.initial_r2t;
  ours_.immediate_data = config.immediate_data;
  ours_.first_burst_length = config.first_burst_length;
  ours_.max_burst_length = config.max_burst_length;
  ours_.default_time2wait = config.default_time2wait;
  ours_.default_time2retain = config.default_time2retain;
  ours_.max_outstanding_r2t = config.max_outstanding_r2t;
  ours_.error_recovery_level = config.error_recovery_level;
  ours_.max_connections = config.max_connections;
  ours_.data_pdu_in_order = config.data_pdu_in_order;
  ours_.data_sequence_in_order = config.data_sequence_in_order;
  ours_.if_marker = false;
  ours_.of_marker = false;
}

bool Negotiator::FirstBurstIrrelevantForUs() const {
  // InitialR2T is ORed and ImmediateData ANDed, so our values alone settle this
  // case.
  return ours_.initial_r2t && !ours_.immediate_data;
}

absl::Status Negotiator::CheckConfig() const {
  if (config_.max_recv_data_segment_length < kMinDataSegmentLength ||
      config_.max_recv_data_segment_length > kMaxNegotiatedLength) {
    return ConfigError(
        absl::StrCat("node.conn[0].iscsi.MaxRecvDataSegmentLength ",
                     config_.max_recv_data_segment_length, " is outside ",
                     kMinDataSegmentLength, "..", kMaxNegotiatedLength));
  }
  if (config_.max_xmit_data_segment_length != 0 &&
      (config_.max_xmit_data_segment_length < kMinDataSegmentLength ||
       config_.max_xmit_data_segment_length > kMaxNegotiatedLength)) {
    return ConfigError(absl::StrCat(
        "node.conn[0].iscsi.MaxXmitDataSegmentLength ",
        config_.max_xmit_data_segment_length, " is outside ",
        kMinDataSegmentLength, "..", kMaxNegotiatedLength, " (or 0)"));
  }
  if (!SessionKeysAllowed()) return absl::OkStatus();
  for (const NumberKey& key : kNumberKeys) {
    const uint32_t value = ours_.*key.field;
    if (value < key.low || value > key.high) {
      return ConfigError(absl::StrCat(key.config_name, " ", value,
                                      " is outside ", key.low, "..", key.high));
    }
  }
  if (!FirstBurstIrrelevantForUs() &&
      ours_.first_burst_length > ours_.max_burst_length) {
    return ConfigError(absl::StrCat(
        "node.session.iscsi.FirstBurstLength ", ours_.first_burst_length,
        " exceeds node.session.iscsi.MaxBurstLength ", ours_.max_burst_length));
  }
  return absl::OkStatus();
}

bool Negotiator::SessionKeysAllowed() const {
  return session_type_ == SessionType::kNormal && leading_connection_;
}

void Negotiator::AddOffer(absl::string_view key, std::string value,
                          TextPairs& offer) {
  // A key the target already proposed is settled; offering it again would
  // repeat it.
  auto [it, inserted] = keys_.try_emplace(key, KeyState::kOffered);
  if (inserted) offer.push_back({std::string(key), std::move(value)});
}

absl::StatusOr<TextPairs> Negotiator::Offer() {
  RETURN_IF_ERROR(CheckConfig());
  TextPairs offer;
  AddOffer("HeaderDigest", absl::StrJoin(header_digests_, ","), offer);
  AddOffer("DataDigest", absl::StrJoin(data_digests_, ","), offer);
  offer.push_back(
      {kMaxRecvKey, absl::StrCat(config_.max_recv_data_segment_length)});
  declared_max_recv_ = true;
  if (!SessionKeysAllowed()) return offer;
  for (const BoolKey& key : kBoolKeys) {
    if (key.offered) AddOffer(key.name, YesNo(ours_.*key.field), offer);
  }
  for (const NumberKey& key : kNumberKeys) {
    if (key.field == &NegotiatedParams::first_burst_length &&
        FirstBurstIrrelevantForUs()) {
      continue;
    }
    AddOffer(key.name, absl::StrCat(ours_.*key.field), offer);
  }
  return offer;
}

absl::StatusOr<TextPairs> Negotiator::OnTargetKeys(const TextPairs& pairs) {
  TextPairs replies;
  for (const TextPair& pair : pairs) {
    RETURN_IF_ERROR(OnTargetKey(pair, replies));
  }
  return replies;
}

absl::Status Negotiator::OnTargetKey(const TextPair& pair, TextPairs& replies) {
  const std::string& key = pair.key;
  if (key == "AuthMethod" || absl::StartsWith(key, "CHAP_")) {
    return TargetError(
        absl::StrCat("target sent ", key, " outside security negotiation"));
  }
  for (absl::string_view initiator_key : kInitiatorOnlyKeys) {
    if (key == initiator_key) {
      return TargetError(
          absl::StrCat("target sent ", key, ", which only initiators send"));
    }
  }

  // Declarations: recorded, never answered; an identical repeat is harmless.
  const bool declarative = key == kMaxRecvKey || key == "TargetAlias" ||
                           key == "TargetPortalGroupTag" ||
                           key == "TargetAddress" || key == "TargetName";
  if (declarative) {
    auto [it, inserted] = declarations_.try_emplace(key, pair.value);
    if (!inserted) {
      if (it->second == pair.value) return absl::OkStatus();
      return TargetError(absl::StrCat("target declared ", key,
                                      " twice with different values"));
    }
    if (key == kMaxRecvKey) {
      ASSIGN_OR_RETURN(result_.max_xmit_data_segment_length,
                       ParseRanged(key, pair.value, kMinDataSegmentLength,
                                   kMaxNegotiatedLength));
      target_declared_max_recv_ = true;
    } else if (key == "TargetPortalGroupTag") {
      ASSIGN_OR_RETURN(uint32_t tag, ParseRanged(key, pair.value, 0, 65535));
      result_.target_portal_group_tag = static_cast<uint16_t>(tag);
    } else if (key == "TargetAlias") {
      result_.target_alias = pair.value;
    }
    return absl::OkStatus();
  }

  auto it = keys_.find(key);
  if (it != keys_.end() && it->second == KeyState::kDone) {
    return TargetError(absl::StrCat("target sent ", key, " more than once"));
  }
  if (it != keys_.end()) {
    it->second = KeyState::kDone;
    return OnAnswer(pair);
  }
  keys_[key] = KeyState::kDone;
  return OnProposal(pair, replies);
}

absl::Status Negotiator::OnAnswer(const TextPair& pair) {
  const std::string& key = pair.key;
  const std::string& value = pair.value;
  if (IsDigestKey(key)) {
    const std::vector<std::string>& ours =
        key == "HeaderDigest" ? header_digests_ : data_digests_;
    bool& result =
        key == "HeaderDigest" ? result_.header_digest : result_.data_digest;
    if (IsSpecialAnswer(value)) {
      // Without agreement the default, None, applies; Finish() checks it is
      // acceptable.
      result = false;
      return absl::OkStatus();
    }
    if (std::find(ours.begin(), ours.end(), value) == ours.end()) {
      return TargetError(
          absl::StrCat("target answered ", key, "=", absl::CHexEscape(value),
                       ", not one of the offered ", absl::StrJoin(ours, ",")));
    }
    result = value == "CRC32C";
    return absl::OkStatus();
  }
  // Irrelevant, Reject and NotUnderstood leave the RFC default in force on both
  // sides.
  if (IsSpecialAnswer(value)) return absl::OkStatus();

  if (const NumberKey* number_key = FindNumberKey(key)) {
    ASSIGN_OR_RETURN(uint32_t theirs, ParseRanged(key, value, number_key->low,
                                                  number_key->high));
    const uint32_t ours = ours_.*number_key->field;
    if (Combine(number_key->rule, ours, theirs) != theirs) {
      return TargetError(absl::StrCat(
          "target answered ", key, "=", theirs, " to our offer of ", ours,
          ", but the result must be the ",
          number_key->rule == Rule::kMax ? "maximum" : "minimum",
          " of the two"));
    }
    result_.*number_key->field = theirs;
    return absl::OkStatus();
  }
  if (const BoolKey* bool_key = FindBoolKey(key)) {
    ASSIGN_OR_RETURN(bool theirs, ParseBool(key, value));
    const bool ours = ours_.*bool_key->field;
    if (Combine(bool_key->rule, ours, theirs) != theirs) {
      return TargetError(absl::StrCat("target answered ", key, "=",
                                      YesNo(theirs), " to our offer of ",
                                      YesNo(ours)));
    }
    result_.*bool_key->field = theirs;
    return absl::OkStatus();
  }
  return TargetError(
      absl::StrCat("unexpected answer ", key, "=", absl::CHexEscape(value)));
}

absl::Status Negotiator::OnProposal(const TextPair& pair, TextPairs& replies) {
  const std::string& key = pair.key;
  const std::string& value = pair.value;
  const bool session_keys = SessionKeysAllowed();
  const NumberKey* number_key = FindNumberKey(key);
  const BoolKey* bool_key = FindBoolKey(key);
  const bool known = IsDigestKey(key) || number_key != nullptr ||
                     bool_key != nullptr || key == "OFMarkInt" ||
                     key == "IFMarkInt";
  if (!known) {
    replies.push_back({key, kNotUnderstood});
    return absl::OkStatus();
  }
  if (IsSpecialAnswer(value)) {
    return TargetError(absl::StrCat("target proposed ", key, "=",
                                    absl::CHexEscape(value),
                                    " without an offer from us"));
  }
  // Marker intervals mean nothing with markers off.
  if (key == "OFMarkInt" || key == "IFMarkInt") {
    replies.push_back({key, kIrrelevant});
    return absl::OkStatus();
  }
  if (IsDigestKey(key)) {
    const std::vector<std::string>& ours =
        key == "HeaderDigest" ? header_digests_ : data_digests_;
    // The responder picks the first value of the originator's list it supports.
    for (absl::string_view offered : absl::StrSplit(value, ',')) {
      if (std::find(ours.begin(), ours.end(), offered) != ours.end()) {
        (key == "HeaderDigest" ? result_.header_digest : result_.data_digest) =
            offered == "CRC32C";
        replies.push_back({key, std::string(offered)});
        return absl::OkStatus();
      }
    }
    return TargetError(absl::StrCat("target requires ", key, "=",
                                    absl::CHexEscape(value),
                                    " but node.conn[0].iscsi.", key,
                                    " allows only ", absl::StrJoin(ours, ",")));
  }
  if (number_key != nullptr) {
    if (!session_keys ||
        (number_key->field == &NegotiatedParams::first_burst_length &&
         FirstBurstIrrelevantForUs())) {
      replies.push_back({key, kIrrelevant});
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(uint32_t theirs, ParseRanged(key, value, number_key->low,
                                                  number_key->high));
    const uint32_t result =
        Combine(number_key->rule, ours_.*number_key->field, theirs);
    result_.*number_key->field = result;
    replies.push_back({key, absl::StrCat(result)});
    return absl::OkStatus();
  }
  if (bool_key->session_wide && !session_keys) {
    replies.push_back({key, kIrrelevant});
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(bool theirs, ParseBool(key, value));
  const bool result = Combine(bool_key->rule, ours_.*bool_key->field, theirs);
  result_.*bool_key->field = result;
  replies.push_back({key, YesNo(result)});
  return absl::OkStatus();
}

absl::StatusOr<NegotiatedParams> Negotiator::Finish() const {
  NegotiatedParams params = result_;
  params.max_recv_data_segment_length = declared_max_recv_
                                            ? ours_.max_recv_data_segment_length
                                            : kLoginDataSegmentLength;
  if (!target_declared_max_recv_) {
    params.max_xmit_data_segment_length = kLoginDataSegmentLength;
  }
  if (config_.max_xmit_data_segment_length != 0) {
    params.max_xmit_data_segment_length =
        std::min(params.max_xmit_data_segment_length,
                 config_.max_xmit_data_segment_length);
  }
  if (!params.header_digest &&
      config_.header_digest == DigestPreference::kCrc32c) {
    return TargetError(
        "target did not agree to HeaderDigest=CRC32C, which "
        "node.conn[0].iscsi.HeaderDigest requires");
  }
  if (!params.data_digest && config_.data_digest == DigestPreference::kCrc32c) {
    return TargetError(
        "target did not agree to DataDigest=CRC32C, which "
        "node.conn[0].iscsi.DataDigest requires");
  }
  const bool first_burst_relevant =
      !(params.initial_r2t && !params.immediate_data);
  if (first_burst_relevant &&
      params.first_burst_length > params.max_burst_length) {
    return TargetError(
        absl::StrCat("FirstBurstLength ", params.first_burst_length,
                     " exceeds MaxBurstLength ", params.max_burst_length));
  }
  return params;
}

}  // namespace kiscsi
