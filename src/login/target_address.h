// Parsing of the TargetAddress key (RFC 7143 section 13.8), as sent in login
// redirects and SendTargets answers: "domainname[:port][,portal-group-tag]"
// where domainname is a DNS name, a dotted IPv4 address, or an IPv6 address in
// brackets.
#ifndef KISCSI_SRC_LOGIN_TARGET_ADDRESS_H_
#define KISCSI_SRC_LOGIN_TARGET_ADDRESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiscsi {

inline constexpr uint16_t kDefaultIscsiPort = 3260;

struct ParsedTargetAddress {
  std::string address;  // host name or IP literal, IPv6 without brackets
  uint16_t port = kDefaultIscsiPort;
  std::optional<uint16_t> portal_group_tag;
};

// Fails (InvalidArgument) on an empty host, an unclosed bracket, a port
// outside 1..65535, a tag outside 0..65535, or characters that cannot appear in
// a host name or address.
absl::StatusOr<ParsedTargetAddress> ParseTargetAddress(absl::string_view value);

}  // namespace kiscsi

#endif  // KISCSI_SRC_LOGIN_TARGET_ADDRESS_H_
