// SendTargets discovery (RFC 7143 section 12.3 and appendix C) over a userspace
// TCP session.
//
// DiscoverSendTargets logs in to a portal with SessionType=Discovery, asks for
// SendTargets=All, follows the target's continuation of a long answer (F=0
// responses with a Target Transfer Tag, pairs split across PDUs with the C
// bit), logs out and returns one entry per (target, portal) in the order the
// target reported them.
//
// The answer is one stream of key=value pairs across the whole exchange: a pair
// may be cut at any PDU boundary, with the C bit (RFC 7143 11.11.2) or without
// it (tgtd cuts answers over its 32 KiB buffer into F=0 C=0 responses in the
// middle of a pair). The exchange is bounded by bytes (1 MiB) and by
// DiscoveryOptions::active_timeout, not by a count of pairs or PDUs.
#ifndef KISCSI_SRC_DISCOVERY_SENDTARGETS_H_
#define KISCSI_SRC_DISCOVERY_SENDTARGETS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/login/login_machine.h"
#include "src/protocol/pdu.h"
#include "src/protocol/text_codec.h"
#include "src/transport/portal.h"

namespace kiscsi {

struct DiscoveredPortal {
  std::string target_name;
  std::string address;
  uint16_t port = 3260;
  uint16_t tpgt = 1;
  bool operator==(const DiscoveredPortal&) const = default;
};

struct DiscoveryOptions {
  std::string initiator_name;
  std::string initiator_alias;
  AuthConfig auth;  // discovery.sendtargets.auth.*
  uint32_t max_recv_data_segment_length = 32768;
  absl::Duration login_timeout = absl::Seconds(15);
  // Bound on the whole SendTargets exchange
  // (discovery.sendtargets.timeo.active_timeout).
  absl::Duration active_timeout = absl::Seconds(30);
};

// One SendTargets exchange as the target's PDUs arrive, without I/O: checks
// each PDU, decodes the pairs it completes and says whether more is to be
// asked for. Errors carry ExitCode kTransport.
class SendTargetsExchange {
 public:
  // `portal` names the target in messages; `itt` is the Text Request's task
  // tag.
  SendTargetsExchange(std::string portal, uint32_t itt);

  // Takes the next PDU from the target (the caller skips NOP-Ins and Async
  // Messages). Returns true when the answer is complete (F=1), false when the
  // target has more: ask with next_ttt().
  absl::StatusOr<bool> Add(const Pdu& pdu);
  // The Target Transfer Tag to continue with after Add() returned false.
  uint32_t next_ttt() const { return next_ttt_; }
  // StatSN + 1 of the last Text Response.
  uint32_t exp_statsn() const { return exp_statsn_; }
  // The answer's pairs, once Add() returned true.
  absl::StatusOr<TextPairs> Take();

 private:
  absl::Status Error(std::string message) const;

  std::string portal_;
  uint32_t itt_;
  uint32_t next_ttt_ = 0xffffffff;
  uint32_t exp_statsn_ = 0;
  bool complete_ = false;
  TextStreamDecoder decoder_;
};

// Login failures keep the login's exit code (e.g. 24 for a wrong discovery CHAP
// secret). A Reject, an unexpected PDU or a malformed answer is ExitCode
// kTransport; a timeout during the exchange is kTransportTimeout. A failed
// logout afterwards is only logged.
absl::StatusOr<std::vector<DiscoveredPortal>> DiscoverSendTargets(
    const Portal& portal, const DiscoveryOptions& options);

// An answer with an unusable TargetName or TargetAddress is InvalidArgument
// (the portal answered; what it said is refused), other failures are not.
//
// Turns the pairs of a SendTargets answer into entries. A target without
// TargetAddress is reachable at `discovery_portal` with portal group tag 1. A
// TargetAddress before any TargetName, a malformed TargetAddress or an unusable
// TargetName is an error.
absl::StatusOr<std::vector<DiscoveredPortal>> ParseSendTargetsAnswer(
    const TextPairs& pairs, const Portal& discovery_portal);

}  // namespace kiscsi

#endif  // KISCSI_SRC_DISCOVERY_SENDTARGETS_H_
