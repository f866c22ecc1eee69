// SendTargets discovery (RFC 7143 section 12.3 and appendix C) over a userspace
// TCP session.
//
// DiscoverSendTargets logs in to a portal with SessionType=Discovery, asks for
// SendTargets=All, follows the target's continuation of a long answer (F=0
// responses with a Target Transfer Tag, pairs split across PDUs with the C
// bit), logs out and returns one entry per (target, portal) in the order the
// target reported them.
#ifndef KISCSI_SRC_DISCOVERY_SENDTARGETS_H_
#define KISCSI_SRC_DISCOVERY_SENDTARGETS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/login/login_machine.h"
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

// Login failures keep the login's exit code (e.g. 24 for a wrong discovery CHAP
// secret). A Reject, an unexpected PDU or a malformed answer is ExitCode
// kTransport; a timeout during the exchange is kTransportTimeout. A failed
// logout afterwards is only logged.
absl::StatusOr<std::vector<DiscoveredPortal>> DiscoverSendTargets(
    const Portal& portal, const DiscoveryOptions& options);

// Turns the pairs of a SendTargets answer into entries. A target without
// TargetAddress is reachable at `discovery_portal` with portal group tag 1. A
// TargetAddress before any TargetName, a malformed TargetAddress or an unusable
// TargetName is an error.
absl::StatusOr<std::vector<DiscoveredPortal>> ParseSendTargetsAnswer(
    const TextPairs& pairs, const Portal& discovery_portal);

}  // namespace kiscsi

#endif  // KISCSI_SRC_DISCOVERY_SENDTARGETS_H_
