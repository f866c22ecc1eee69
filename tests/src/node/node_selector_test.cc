// The one rule by which -T/-p/-I select node records (logins) and kernel
// sessions (logouts). Each case below failed with one of the two rules the
// CLI and the daemon used before they shared this one: the CLI's logout read
// a -p without a port as port 3260, and an exact text compare of addresses
// told "[fd00::1]" and "fd00:0::1" apart.
#include "src/node/node_selector.h"

#include <string>

#include "gtest/gtest.h"
#include "src/node/session_names.h"

namespace kiscsi {
namespace {

constexpr char kTarget[] = "iqn.2026-12.test:disk";

SysfsSession Session(const std::string& address, uint16_t port,
                     const std::string& iface) {
  SysfsSession session;
  session.sid = 1;
  session.target_name = kTarget;
  session.iface_name = iface;
  session.tpgt = 1;
  SysfsConnection connection;
  connection.persistent_address = address;
  connection.persistent_port = port;
  session.connection = connection;
  return session;
}

conf::NodeFilter Args(std::optional<std::string> target,
                      std::optional<std::string> portal,
                      std::optional<std::string> iface) {
  absl::StatusOr<conf::NodeFilter> filter =
      NodeFilterFromArgs(target, portal, iface);
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.value_or(conf::NodeFilter{});
}

TEST(NodeSelectorTest, PortalWithoutAPortMatchesAnyPort) {
  const conf::NodeFilter filter = Args(std::nullopt, "192.0.2.1", std::nullopt);
  EXPECT_FALSE(filter.port.has_value());
  EXPECT_TRUE(SessionMatches(filter, Session("192.0.2.1", 3261, "default")));
  EXPECT_TRUE(NodeMatches(
      filter, conf::NodeKey{kTarget, "192.0.2.1", 3261, 1, "default"}));
  EXPECT_FALSE(SessionMatches(filter, Session("192.0.2.2", 3260, "default")));
}

TEST(NodeSelectorTest, PortalWithAPortMatchesThatPortOnly) {
  const conf::NodeFilter filter =
      Args(std::nullopt, "192.0.2.1:3261", std::nullopt);
  EXPECT_TRUE(SessionMatches(filter, Session("192.0.2.1", 3261, "default")));
  EXPECT_FALSE(SessionMatches(filter, Session("192.0.2.1", 3260, "default")));
  EXPECT_FALSE(NodeMatches(
      filter, conf::NodeKey{kTarget, "192.0.2.1", 3260, 1, "default"}));
}

TEST(NodeSelectorTest, NoIfaceMatchesAnyIfaceAndNoneIsDefault) {
  const conf::NodeFilter any = Args(kTarget, std::nullopt, std::nullopt);
  EXPECT_TRUE(SessionMatches(any, Session("192.0.2.1", 3260, "iface1")));
  EXPECT_TRUE(
      NodeMatches(any, conf::NodeKey{kTarget, "192.0.2.1", 3260, 1, "iface1"}));
  const conf::NodeFilter named_default = Args(kTarget, std::nullopt, "default");
  EXPECT_TRUE(SessionMatches(named_default, Session("192.0.2.1", 3260, "")));
  EXPECT_FALSE(
      SessionMatches(named_default, Session("192.0.2.1", 3260, "iface1")));
}

TEST(NodeSelectorTest, Ipv6AddressesCompareAsAddresses) {
  const conf::NodeFilter bracketed =
      Args(std::nullopt, "[fd00:0::1]:3260", std::nullopt);
  EXPECT_TRUE(SessionMatches(bracketed, Session("fd00::1", 3260, "default")));
  EXPECT_TRUE(NodeMatches(
      bracketed, conf::NodeKey{kTarget, "FD00::0:1", 3260, 1, "default"}));
  const conf::NodeFilter bare = Args(std::nullopt, "fd00::1", std::nullopt);
  EXPECT_FALSE(bare.port.has_value());
  EXPECT_TRUE(SessionMatches(bare, Session("fd00:0:0::1", 3262, "default")));
  EXPECT_FALSE(SessionMatches(bare, Session("fd00::2", 3260, "default")));
  EXPECT_TRUE(SameAddress("[fd00::1]", "fd00:0000::1"));
  EXPECT_FALSE(SameAddress("fd00::1", "192.0.2.1"));
  EXPECT_TRUE(SameAddress("target.example", "target.example"));
}

TEST(NodeSelectorTest, TargetNamesCompareExactly) {
  const conf::NodeFilter filter = Args(kTarget, std::nullopt, std::nullopt);
  SysfsSession other = Session("192.0.2.1", 3260, "default");
  other.target_name = "iqn.2026-12.test:disk2";
  EXPECT_FALSE(SessionMatches(filter, other));
  other.target_name = "IQN.2026-12.test:disk";
  EXPECT_FALSE(SessionMatches(filter, other));
}

TEST(NodeSelectorTest, TpgtSelectsOnlySessionsThatHaveIt) {
  const conf::NodeFilter filter =
      Args(std::nullopt, "192.0.2.1:3260,1", std::nullopt);
  ASSERT_EQ(filter.tpgt, 1);
  SysfsSession session = Session("192.0.2.1", 3260, "default");
  EXPECT_TRUE(SessionMatches(filter, session));
  session.tpgt = 2;
  EXPECT_FALSE(SessionMatches(filter, session));
  session.tpgt.reset();
  EXPECT_FALSE(SessionMatches(filter, session));
}

TEST(NodeSelectorTest, NoFieldsSelectEverySession) {
  SysfsSession session;
  session.sid = 4;
  session.target_name = kTarget;
  EXPECT_TRUE(SessionMatches(conf::NodeFilter{}, session));
}

TEST(NodeSelectorTest, MalformedPortalFails) {
  EXPECT_FALSE(NodeFilterFromArgs(std::nullopt, "[fd00::1", std::nullopt).ok());
}

TEST(NodeSelectorTest, SessionIsNodeUsesTheSameRule) {
  const conf::NodeKey key{kTarget, "fd00::1", 3260, 1, "default"};
  EXPECT_TRUE(SessionIsNode(Session("fd00:0::1", 3260, ""), key));
  EXPECT_FALSE(SessionIsNode(Session("fd00::1", 3261, "default"), key));
  EXPECT_FALSE(SessionIsNode(Session("fd00::1", 3260, "iface1"), key));
}

}  // namespace
}  // namespace kiscsi
