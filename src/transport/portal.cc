#include "src/transport/portal.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

constexpr size_t kMaxHostNameLength = 253;

absl::Status SpecError(absl::string_view spec, absl::string_view problem) {
  return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                          "invalid portal '", spec, "': ", problem)),
                      ExitCode::kInvalid);
}

// A decimal number in [min, 65535] with no sign, spaces or other decoration.
std::optional<uint16_t> ParseU16(absl::string_view text, uint32_t min) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
  }
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

// An IPv6 literal, optionally with a "%zone" suffix (fe80::1%eth0).
bool IsIpv6Literal(absl::string_view text) {
  const size_t percent = text.find('%');
  const absl::string_view zone = percent == absl::string_view::npos
                                     ? absl::string_view()
                                     : text.substr(percent + 1);
  if (percent != absl::string_view::npos) {
    if (zone.empty()) return false;
    for (char c : zone) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
          c != '_' && c != '-') {
        return false;
      }
    }
  }
  const std::string address(text.substr(0, percent));
  in6_addr parsed;
  return inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

// A host name or IPv4 literal: dot-separated labels of letters, digits, '-' and
// '_'.
bool IsHostName(absl::string_view text) {
  if (text.empty() || text.size() > kMaxHostNameLength) return false;
  if (text.front() == '.' || text.back() == '.' ||
      text.find("..") != absl::string_view::npos) {
    return false;
  }
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<PortalSpec> ParsePortalSpec(absl::string_view spec) {
  PortalSpec result;
  absl::string_view rest = spec;
  if (rest.empty()) return SpecError(spec, "empty");

  // ",TPGT": neither bracketed nor bare IPv6 addresses contain a comma.
  const size_t comma = rest.find(',');
  if (comma != absl::string_view::npos) {
    const absl::string_view tpgt_text = rest.substr(comma + 1);
    // "-1" is how iscsiadm prints an unknown tag (a record made with -o new
    // and no tag; the ArchWiki's discovery line): the same as no tag.
    if (tpgt_text != "-1") {
      const std::optional<uint16_t> tpgt = ParseU16(tpgt_text, 0);
      if (!tpgt.has_value()) {
        return SpecError(
            spec, absl::StrCat("portal group tag '", tpgt_text,
                               "' is not a number from 0 to 65535 (or -1)"));
      }
      result.tpgt = *tpgt;
    }
    rest = rest.substr(0, comma);
  }

  absl::string_view host;
  absl::string_view port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos)
      return SpecError(spec, "missing ']' after IPv6 address");
    host = rest.substr(1, close - 1);
    const absl::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return SpecError(spec,
                         absl::StrCat("unexpected '", after, "' after ']'"));
      }
      port_text = after.substr(1);
      has_port = true;
    }
    if (!IsIpv6Literal(host)) {
      return SpecError(spec,
                       absl::StrCat("'", host, "' is not an IPv6 address"));
    }
  } else if (rest.find(':') != rest.rfind(':')) {
    // Two or more colons without brackets: a bare IPv6 address, which cannot
    // carry a port.
    host = rest;
    if (!IsIpv6Literal(host)) {
      return SpecError(spec, absl::StrCat("'", host,
                                          "' is not an IPv6 address (write "
                                          "[ADDRESS]:PORT to give a port)"));
    }
  } else {
    const size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port_text = rest.substr(colon + 1);
      has_port = true;
    }
    if (!IsHostName(host)) {
      return SpecError(
          spec, host.empty()
                    ? absl::string_view("no address")
                    : absl::string_view("not an IP address or host name"));
    }
  }

  if (has_port) {
    const std::optional<uint16_t> port = ParseU16(port_text, 1);
    if (!port.has_value()) {
      return SpecError(spec, absl::StrCat("port '", port_text,
                                          "' is not a number from 1 to 65535"));
    }
    result.portal.port = *port;
  }
  result.portal.address = std::string(host);
  return result;
}

std::string FormatPortal(const Portal& portal, char sep) {
  const bool ipv6 = portal.address.find(':') != std::string::npos;
  if (ipv6 && sep == ':')
    return absl::StrCat("[", portal.address, "]:", portal.port);
  return absl::StrCat(portal.address, std::string(1, sep), portal.port);
}

bool IsAddressLiteral(const std::string& address) {
  in6_addr parsed;
  return inet_pton(AF_INET, address.c_str(), &parsed) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

absl::StatusOr<std::vector<SocketAddress>> ResolvePortal(const Portal& portal) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(portal.port);
  const int gai =
      getaddrinfo(portal.address.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) {
    return WithExitCode(
        absl::UnavailableError(absl::StrCat(
            "cannot resolve '", portal.address, "': ",
            gai == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(gai))),
        ExitCode::kTransport);
  }
  std::vector<SocketAddress> addresses;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    SocketAddress address;
    std::memcpy(&address.storage, ai->ai_addr, ai->ai_addrlen);
    address.length = ai->ai_addrlen;
    addresses.push_back(address);
  }
  freeaddrinfo(found);
  return addresses;
}

}  // namespace kiscsi
