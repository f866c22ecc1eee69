#include "src/discovery/sendtargets.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"
#include "src/login/chap.h"
#include "src/login/target_address.h"
#include "src/protocol/pdu.h"
#include "src/transport/pdu_channel.h"
#include "src/transport/tcp_login.h"

namespace kiscsi {
namespace {

// RFC 7143 6.1 / 4.2.7.1: an iSCSI name is at most 223 bytes.
constexpr size_t kMaxTargetNameLength = 223;
// All data segments of one SendTargets answer together. With the active
// timeout this is what bounds an exchange (also one of endless empty F=0
// responses).
constexpr size_t kMaxAnswerBytes = 1 << 20;

constexpr uint32_t kLoginItt = 0;
constexpr uint32_t kTextItt = 1;
constexpr uint32_t kLogoutItt = 2;

absl::Status AnswerError(std::string message) {
  return WithExitCode(absl::UnavailableError(std::move(message)),
                      ExitCode::kTransport);
}

// The target answered, but with something unusable: InvalidArgument (see the
// header), exit code kTransport all the same.
absl::Status UnusableAnswer(std::string message) {
  return WithExitCode(absl::InvalidArgumentError(std::move(message)),
                      ExitCode::kTransport);
}

TextLimits AnswerLimits() {
  TextLimits limits;
  limits.max_total_length = kMaxAnswerBytes;
  return limits;
}

absl::Duration Remaining(absl::Time deadline) {
  return std::max(deadline - MonotonicNow(), absl::ZeroDuration());
}

// RFC 7143 10.12.5: T=10b (random format), B and C random, qualifier D zero.
absl::StatusOr<Isid> RandomIsid() {
  ASSIGN_OR_RETURN(std::vector<uint8_t> random, RandomBytes(3));
  return Isid{0x80, random[0], random[1], random[2], 0, 0};
}

// A target name becomes a directory name in the node database: refuse anything
// that could step outside it or hide in a listing.
absl::Status ValidateTargetName(absl::string_view name) {
  if (name.empty())
    return UnusableAnswer("SendTargets answer has an empty TargetName");
  if (name.size() > kMaxTargetNameLength) {
    return UnusableAnswer(
        absl::StrCat("SendTargets answer has a TargetName of ", name.size(),
                     " bytes (the limit is ", kMaxTargetNameLength, ")"));
  }
  const bool bad_character = std::any_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '/' || u <= 0x20 || u == 0x7f;
  });
  if (bad_character || name.front() == '.') {
    return UnusableAnswer(
        absl::StrCat("SendTargets answer has an unusable TargetName '",
                     absl::CHexEscape(name), "'"));
  }
  return absl::OkStatus();
}

// Rewords a channel failure so it says we were waiting for the SendTargets
// answer.
absl::Status DuringExchange(const absl::Status& status,
                            absl::string_view portal,
                            absl::Duration active_timeout) {
  if (absl::IsDeadlineExceeded(status)) {
    return WithExitCode(
        absl::DeadlineExceededError(absl::StrCat(
            "timed out after ", absl::ToInt64Milliseconds(active_timeout),
            " ms waiting for the SendTargets answer from ", portal)),
        ExitCode::kTransportTimeout);
  }
  if (absl::IsUnavailable(status)) {
    return AnswerError(
        absl::StrCat("connection closed by target during SendTargets (",
                     status.message(), ")"));
  }
  return WithExitCode(
      absl::Status(status.code(), absl::StrCat("SendTargets to ", portal,
                                               " failed: ", status.message())),
      ExitCodeOf(status));
}

// Sends SendTargets=All and collects the answer, asking for more while the
// target sends F=0.
absl::StatusOr<TextPairs> ExchangeSendTargets(PduChannel& channel,
                                              absl::string_view portal,
                                              uint32_t cmdsn,
                                              uint32_t& exp_statsn,
                                              absl::Duration active_timeout) {
  const absl::Time deadline = MonotonicNow() + active_timeout;
  TextRequest request;
  request.immediate = true;
  request.final = true;
  request.itt = kTextItt;
  request.cmdsn = cmdsn;
  request.exp_statsn = exp_statsn;
  request.data = EncodeText({{"SendTargets", "All"}});

  SendTargetsExchange exchange{std::string(portal), kTextItt};
  for (;;) {
    if (absl::Status sent = channel.Send(Encode(request)); !sent.ok()) {
      return DuringExchange(sent, portal, active_timeout);
    }
    Pdu pdu;
    for (;;) {
      absl::StatusOr<Pdu> received = channel.Receive(Remaining(deadline));
      if (!received.ok())
        return DuringExchange(received.status(), portal, active_timeout);
      pdu = *std::move(received);
      const auto opcode = static_cast<Opcode>(pdu.opcode());
      if (opcode != Opcode::kNopIn && opcode != Opcode::kAsyncMessage) break;
      KISCSI_LOG(kDebug) << "skipping " << OpcodeName(pdu.opcode()) << " from "
                         << portal << " during SendTargets";
    }
    ASSIGN_OR_RETURN(const bool complete, exchange.Add(pdu));
    exp_statsn = exchange.exp_statsn();
    if (complete) return exchange.Take();
    request.ttt = exchange.next_ttt();
    request.exp_statsn = exp_statsn;
    request.data.clear();
  }
}

}  // namespace

SendTargetsExchange::SendTargetsExchange(std::string portal, uint32_t itt)
    : portal_(std::move(portal)),
      itt_(itt),
      next_ttt_(kReservedTag),
      decoder_(AnswerLimits()) {}

absl::Status SendTargetsExchange::Error(std::string message) const {
  return AnswerError(std::move(message));
}

absl::StatusOr<bool> SendTargetsExchange::Add(const Pdu& pdu) {
  if (complete_) {
    return Error(absl::StrCat(OpcodeName(pdu.opcode()), " from ", portal_,
                              " after the final Text Response"));
  }
  if (pdu.opcode() == static_cast<uint8_t>(Opcode::kReject)) {
    absl::StatusOr<Reject> reject = DecodeReject(pdu);
    return Error(absl::StrCat("target ", portal_,
                              " rejected the SendTargets Text Request (",
                              reject.ok() ? RejectReasonName(reject->reason)
                                          : std::string("undecodable Reject"),
                              ")"));
  }
  if (pdu.opcode() != static_cast<uint8_t>(Opcode::kTextResponse)) {
    return Error(absl::StrCat("unexpected ", OpcodeName(pdu.opcode()), " from ",
                              portal_, " instead of a Text Response"));
  }
  absl::StatusOr<TextResponse> response = DecodeTextResponse(pdu);
  if (!response.ok()) {
    return Error(absl::StrCat("malformed Text Response from ", portal_, ": ",
                              response.status().message()));
  }
  if (response->itt != itt_) {
    return Error(absl::StrCat("Text Response from ", portal_,
                              " for task tag 0x", absl::Hex(response->itt),
                              ", expected 0x", absl::Hex(itt_)));
  }
  exp_statsn_ = response->statsn + 1;
  if (response->data.size() > kMaxAnswerBytes - decoder_.total_bytes()) {
    return Error(absl::StrCat("SendTargets answer from ", portal_, " exceeds ",
                              kMaxAnswerBytes, " bytes"));
  }
  // Pairs run on across responses whatever the C bit says (see the header).
  if (absl::Status appended = decoder_.Append(response->data); !appended.ok()) {
    return Error(absl::StrCat("bad SendTargets answer from ", portal_, ": ",
                              appended.message()));
  }
  if (response->final) {  // DecodeTextResponse refuses F=1 with C=1
    complete_ = true;
    return true;
  }
  // RFC 7143 11.11: F=0 means more follows; ask for it with the target's
  // transfer tag.
  if (response->ttt == kReservedTag) {
    return Error(
        absl::StrCat("Text Response from ", portal_,
                     " announces more (F=0) without a Target Transfer Tag"));
  }
  next_ttt_ = response->ttt;
  return false;
}

absl::StatusOr<TextPairs> SendTargetsExchange::Take() {
  if (!complete_) {
    return Error(
        absl::StrCat("SendTargets answer from ", portal_, " is not complete"));
  }
  complete_ = false;
  absl::StatusOr<TextPairs> pairs = decoder_.Finish();
  if (!pairs.ok()) {
    return Error(absl::StrCat("bad SendTargets answer from ", portal_, ": ",
                              pairs.status().message()));
  }
  return pairs;
}

absl::StatusOr<std::vector<DiscoveredPortal>> ParseSendTargetsAnswer(
    const TextPairs& pairs, const Portal& discovery_portal) {
  std::vector<DiscoveredPortal> found;
  std::optional<std::string> target;
  bool target_has_address = false;
  const auto finish_target = [&] {
    if (target.has_value() && !target_has_address) {
      found.push_back(
          {*target, discovery_portal.address, discovery_portal.port, 1});
    }
  };
  for (const TextPair& pair : pairs) {
    if (pair.key == "TargetName") {
      finish_target();
      RETURN_IF_ERROR(ValidateTargetName(pair.value));
      target = pair.value;
      target_has_address = false;
    } else if (pair.key == "TargetAddress") {
      if (!target.has_value()) {
        return UnusableAnswer(
            absl::StrCat("SendTargets answer has TargetAddress=", pair.value,
                         " before any TargetName"));
      }
      absl::StatusOr<ParsedTargetAddress> parsed =
          ParseTargetAddress(pair.value);
      if (!parsed.ok()) {
        return UnusableAnswer(absl::StrCat(
            "SendTargets answer for ", *target,
            " has a bad TargetAddress: ", parsed.status().message()));
      }
      if (!parsed->portal_group_tag.has_value()) {
        return UnusableAnswer(absl::StrCat("SendTargets answer for ", *target,
                                           " has TargetAddress=", pair.value,
                                           " without a portal group tag"));
      }
      found.push_back({*target, std::move(parsed->address), parsed->port,
                       *parsed->portal_group_tag});
      target_has_address = true;
    } else {
      KISCSI_LOG(kDebug) << "ignoring " << pair.key << " in SendTargets answer";
    }
  }
  finish_target();
  return found;
}

absl::StatusOr<std::vector<DiscoveredPortal>> DiscoverSendTargets(
    const Portal& portal, const DiscoveryOptions& options) {
  LoginConfig config;
  config.session_type = SessionType::kDiscovery;
  config.initiator_name = options.initiator_name;
  config.initiator_alias = options.initiator_alias;
  ASSIGN_OR_RETURN(config.isid, RandomIsid());
  config.itt = kLoginItt;
  config.auth = options.auth;
  config.operational.max_recv_data_segment_length =
      options.max_recv_data_segment_length;

  ASSIGN_OR_RETURN(TcpLoginOutcome login,
                   LoginOverTcp(portal, config, options.login_timeout));
  const std::string where = FormatPortal(login.portal, ':');
  const uint32_t cmdsn = login.result.exp_cmdsn;
  uint32_t exp_statsn = login.result.statsn + 1;
  ASSIGN_OR_RETURN(TextPairs pairs,
                   ExchangeSendTargets(*login.channel, where, cmdsn, exp_statsn,
                                       options.active_timeout));
  ASSIGN_OR_RETURN(std::vector<DiscoveredPortal> found,
                   ParseSendTargetsAnswer(pairs, login.portal));

  absl::Status logout = LogoutOverChannel(*login.channel, cmdsn, exp_statsn,
                                          kLogoutItt, options.login_timeout);
  if (!logout.ok()) {
    KISCSI_LOG(kWarning) << "discovery session with " << where << ": "
                         << logout.message();
  }
  return found;
}

}  // namespace kiscsi
