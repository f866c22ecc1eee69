#include "src/transport/portal.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <optional>
#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/src/base/param_name.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

struct GoodCase {
  std::string spec;
  std::string address;
  uint16_t port;
  std::optional<uint16_t> tpgt;
};

void PrintTo(const GoodCase& c, std::ostream* os) {
  *os << '"' << c.spec << '"';
}

class ParsePortalSpecGoodTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParsePortalSpecGoodTest, Parses) {
  const GoodCase& c = GetParam();
  absl::StatusOr<PortalSpec> spec = ParsePortalSpec(c.spec);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->portal.address, c.address);
  EXPECT_EQ(spec->portal.port, c.port);
  EXPECT_EQ(spec->tpgt, c.tpgt);
}

INSTANTIATE_TEST_SUITE_P(
    Specs, ParsePortalSpecGoodTest,
    ::testing::Values(
        GoodCase{"127.0.0.1", "127.0.0.1", 3260, std::nullopt},
        GoodCase{"127.0.0.1:3261", "127.0.0.1", 3261, std::nullopt},
        GoodCase{"127.0.0.1:3261,7", "127.0.0.1", 3261, 7},
        GoodCase{"127.0.0.1,1", "127.0.0.1", 3260, 1},
        GoodCase{"[fd00::1]", "fd00::1", 3260, std::nullopt},
        GoodCase{"[fd00::1]:860", "fd00::1", 860, std::nullopt},
        GoodCase{"[fd00::1]:860,2", "fd00::1", 860, 2},
        GoodCase{"[fe80::1%eth0]:3260", "fe80::1%eth0", 3260, std::nullopt},
        GoodCase{"fd00::1", "fd00::1", 3260, std::nullopt},
        GoodCase{"fd00::1,3", "fd00::1", 3260, 3},
        GoodCase{"::1", "::1", 3260, std::nullopt},
        GoodCase{"storage.example.com", "storage.example.com", 3260,
                 std::nullopt},
        GoodCase{"san-01:3260,1", "san-01", 3260, 1},
        GoodCase{"10.0.0.1:65535,65535", "10.0.0.1", 65535, 65535},
        // iscsiadm's unknown tag, as the ArchWiki's discovery line gives it
        // and as kiscsiadm prints a record made without one.
        GoodCase{"127.0.0.1,-1", "127.0.0.1", 3260, std::nullopt},
        GoodCase{"127.0.0.1:3270,-1", "127.0.0.1", 3270, std::nullopt}),
    [](const auto& info) { return ParamName(info.param.spec, info.index); });

struct BadCase {
  std::string spec;
  std::string phrase;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << '"' << c.spec << '"';
}

class ParsePortalSpecBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParsePortalSpecBadTest, FailsWithInvalidExitCode) {
  const BadCase& c = GetParam();
  absl::StatusOr<PortalSpec> spec = ParsePortalSpec(c.spec);
  ASSERT_FALSE(spec.ok()) << c.spec << " parsed as " << spec->portal.address;
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExitCodeOf(spec.status()), ExitCode::kInvalid);
  EXPECT_THAT(spec.status().message(), HasSubstr(c.phrase));
}

INSTANTIATE_TEST_SUITE_P(
    Specs, ParsePortalSpecBadTest,
    ::testing::Values(BadCase{"", "empty"}, BadCase{"127.0.0.1:", "port ''"},
                      BadCase{"127.0.0.1:0", "port '0'"},
                      BadCase{"127.0.0.1:65536", "port '65536'"},
                      BadCase{"127.0.0.1:+80", "port '+80'"},
                      BadCase{"127.0.0.1:x", "port 'x'"},
                      BadCase{"127.0.0.1,", "portal group tag ''"},
                      BadCase{"127.0.0.1,70000", "portal group tag '70000'"},
                      BadCase{"127.0.0.1,-2", "portal group tag '-2'"},
                      BadCase{"127.0.0.1,1,2", "portal group tag '1,2'"},
                      BadCase{"[fd00::1", "missing ']'"},
                      BadCase{"[fd00::1]3260", "after ']'"},
                      BadCase{"[not-v6]:3260", "not an IPv6 address"},
                      BadCase{"fd00::zz", "not an IPv6 address"},
                      BadCase{":3260", "no address"},
                      BadCase{"host name", "not an IP address or host name"},
                      BadCase{"a/b", "not an IP address or host name"},
                      BadCase{"host..example",
                              "not an IP address or host name"}),
    [](const auto& info) { return ParamName(info.param.spec, info.index); });

TEST(FormatPortalTest, Ipv4WithEitherSeparator) {
  const Portal portal{"127.0.0.1", 3260};
  EXPECT_EQ(FormatPortal(portal, ':'), "127.0.0.1:3260");
  EXPECT_EQ(FormatPortal(portal, ','), "127.0.0.1,3260");
}

TEST(FormatPortalTest, Ipv6BracketedOnlyWithColon) {
  const Portal portal{"fd00::1", 860};
  EXPECT_EQ(FormatPortal(portal, ':'), "[fd00::1]:860");
  EXPECT_EQ(FormatPortal(portal, ','), "fd00::1,860");
}

TEST(FormatPortalTest, RoundTripsThroughParse) {
  for (const Portal& portal :
       {Portal{"10.1.2.3", 3261}, Portal{"fd00::5", 3260},
        Portal{"san.example.com", 860}}) {
    absl::StatusOr<PortalSpec> spec =
        ParsePortalSpec(FormatPortal(portal, ':'));
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->portal, portal);
  }
}

TEST(IsAddressLiteralTest, LiteralsAreNotNames) {
  EXPECT_TRUE(IsAddressLiteral("10.1.2.3"));
  EXPECT_TRUE(IsAddressLiteral("fd00::5"));
  EXPECT_TRUE(IsAddressLiteral("::1"));
  EXPECT_FALSE(IsAddressLiteral("san.example.com"));
  EXPECT_FALSE(IsAddressLiteral("localhost"));
  EXPECT_FALSE(IsAddressLiteral("[fd00::5]"));  // brackets are -p syntax
  EXPECT_FALSE(IsAddressLiteral(""));
}

TEST(ResolvePortalTest, LiteralGivesItsOwnAddress) {
  absl::StatusOr<std::vector<SocketAddress>> addresses =
      ResolvePortal(Portal{"127.0.0.1", 3261});
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  ASSERT_EQ(addresses->size(), 1u);
  const auto* in = reinterpret_cast<const sockaddr_in*>((*addresses)[0].get());
  EXPECT_EQ(in->sin_family, AF_INET);
  EXPECT_EQ(ntohs(in->sin_port), 3261);
  EXPECT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
}

}  // namespace
}  // namespace kiscsi
