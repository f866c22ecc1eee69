#include "src/login/target_address.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kiscsi {
namespace {

// Digits only, no sign or spaces, within [low, high].
std::optional<uint16_t> ParseSmallNumber(absl::string_view text, uint32_t low,
                                         uint32_t high) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value < low || value > high) return std::nullopt;
  return static_cast<uint16_t>(value);
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  // Hex digits and colons, a dotted IPv4 tail, or a "%zone" suffix.
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ':' ||
         c == '.' || c == '%';
}

absl::Status BadAddress(absl::string_view value, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(
      "TargetAddress \"", absl::CHexEscape(value), "\" ", problem));
}

}  // namespace

absl::StatusOr<ParsedTargetAddress> ParseTargetAddress(
    absl::string_view value) {
  ParsedTargetAddress parsed;
  absl::string_view rest = value;
  const size_t comma = rest.rfind(',');
  if (comma != absl::string_view::npos) {
    auto tag = ParseSmallNumber(rest.substr(comma + 1), 0, 65535);
    if (!tag.has_value()) {
      return BadAddress(value, "has a portal group tag that is not 0..65535");
    }
    parsed.portal_group_tag = *tag;
    rest = rest.substr(0, comma);
  }
  absl::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return BadAddress(value, "has an unclosed '[' around IPv6");
    }
    parsed.address = std::string(rest.substr(1, close - 1));
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return BadAddress(value, "has text after the IPv6 address");
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        return BadAddress(value, "has an empty port");
      }
    }
    // Brackets hold an IPv6 address, which has a ':' before any "%zone".
    const absl::string_view ip =
        absl::string_view(parsed.address).substr(0, parsed.address.find('%'));
    if (ip.find(':') == absl::string_view::npos ||
        !std::all_of(parsed.address.begin(), parsed.address.end(),
                     IsIpv6Char)) {
      return BadAddress(value, "is not a valid IPv6 address");
    }
  } else {
    const size_t colon = rest.find(':');
    if (colon != absl::string_view::npos) {
      port_text = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
      if (port_text.empty()) {
        return BadAddress(value, "has an empty port");
      }
    }
    for (char c : rest) {
      if (!IsHostChar(c)) {
        return BadAddress(
            value,
            "is not a host name, IPv4 address or bracketed IPv6 address");
      }
    }
    parsed.address = std::string(rest);
  }
  if (parsed.address.empty()) {
    return BadAddress(value, "has no host");
  }
  if (!port_text.empty()) {
    auto port = ParseSmallNumber(port_text, 1, 65535);
    if (!port.has_value()) {
      return BadAddress(value, "has a port that is not 1..65535");
    }
    parsed.port = *port;
  }
  return parsed;
}

}  // namespace kiscsi
