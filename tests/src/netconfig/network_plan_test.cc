#include "src/netconfig/network_plan.h"

#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi::netconfig {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

conf::FirmwareBootEntry Entry(std::string target_ip,
                              std::string target_id = "target0") {
  conf::FirmwareBootEntry entry;
  entry.source = "ibft";
  entry.nic.id = "ethernet0";
  entry.nic.flags = 3;
  entry.nic.ip_address = "10.0.2.15";
  entry.nic.prefix_length = 24;
  entry.nic.origin = 1;
  entry.nic.mac = "52:54:00:12:34:56";
  entry.nic.net_device = "eth0";
  entry.target.id = std::move(target_id);
  entry.target.flags = 3;
  entry.target.ip_address = std::move(target_ip);
  entry.target.target_name = "iqn.2003-01.org.example:disk";
  return entry;
}

std::vector<std::string> Routes(const InterfacePlan& plan) {
  std::vector<std::string> routes;
  for (const RoutePlan& route : plan.routes) {
    routes.push_back(route.Describe(plan.device));
  }
  return routes;
}

TEST(IpAddressTest, ParsesBothFamiliesAndMappedIpv4) {
  EXPECT_EQ(IpAddress::Parse("10.0.2.15")->ToString(), "10.0.2.15");
  EXPECT_EQ(
      IpAddress::Parse("fd00:0000:0000:0000:0000:0000:0000:0001")->ToString(),
      "fd00::1");
  std::optional<IpAddress> mapped = IpAddress::Parse("::ffff:10.0.2.2");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->family, AF_INET);
  EXPECT_EQ(mapped->ToString(), "10.0.2.2");
  EXPECT_FALSE(IpAddress::Parse("10.0.2"));
  EXPECT_FALSE(IpAddress::Parse(""));
}

TEST(NetworkPlanTest, TargetInsideSubnetGetsADirectRoute) {
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({Entry("10.0.2.2")});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 1u);
  const InterfacePlan& eth0 = plan->interfaces[0];
  EXPECT_EQ(eth0.device, "eth0");
  EXPECT_EQ(eth0.vlan_id, 0);
  EXPECT_EQ(eth0.address.ToString(), "10.0.2.15");
  EXPECT_EQ(eth0.prefix_length, 24);
  EXPECT_THAT(Routes(eth0), ElementsAre("10.0.2.2/32 dev eth0 scope link"));
  EXPECT_TRUE(eth0.routes[0].replace);
  EXPECT_THAT(eth0.target_ids, ElementsAre("target0"));
  EXPECT_THAT(plan->notes, IsEmpty());
}

TEST(NetworkPlanTest, TargetOutsideSubnetGoesThroughTheGatewayAndADefault) {
  conf::FirmwareBootEntry entry = Entry("192.168.7.9");
  entry.nic.gateway = "10.0.2.1";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 1u);
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("192.168.7.9/32 via 10.0.2.1 dev eth0",
                          "default via 10.0.2.1 dev eth0"));
  // The default route never replaces one that is there.
  EXPECT_FALSE(plan->interfaces[0].routes[1].replace);
}

TEST(NetworkPlanTest, TargetInsideSubnetStillGetsTheDefaultRoute) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.gateway = "10.0.2.1";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("10.0.2.2/32 dev eth0 scope link",
                          "default via 10.0.2.1 dev eth0"));
}

TEST(NetworkPlanTest, ZeroGatewayMeansNoDefaultRoute) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.gateway = "0.0.0.0";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("10.0.2.2/32 dev eth0 scope link"));
}

TEST(NetworkPlanTest, GatewayOutsideTheSubnetIsOnlink) {
  conf::FirmwareBootEntry entry = Entry("192.168.7.9");
  entry.nic.gateway = "10.0.9.1";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("192.168.7.9/32 via 10.0.9.1 dev eth0 onlink",
                          "default via 10.0.9.1 dev eth0 onlink"));
}

TEST(NetworkPlanTest, TargetOutsideSubnetWithoutGatewayIsAnError) {
  absl::StatusOr<NetworkPlan> plan =
      PlanFirmwareNetwork({Entry("192.168.7.9")});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("192.168.7.9"));
  EXPECT_THAT(plan.status().message(), HasSubstr("no gateway"));
  EXPECT_EQ(ExitCodeOf(plan.status()), ExitCode::kInvalid);
}

TEST(NetworkPlanTest, Ipv6AddressHostRouteAndDefault) {
  conf::FirmwareBootEntry entry =
      Entry("fd00:0000:0000:0000:0000:0000:0000:0002");
  entry.nic.ip_address = "fd00:0000:0000:0000:0000:0000:0000:0015";
  entry.nic.prefix_length = 64;
  entry.nic.gateway = "fd00::1";
  conf::FirmwareBootEntry far = entry;
  far.target.id = "target1";
  far.target.ip_address = "fd01::9";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry, far});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 1u);
  const InterfacePlan& eth0 = plan->interfaces[0];
  EXPECT_EQ(eth0.address.family, AF_INET6);
  EXPECT_EQ(eth0.address.ToString(), "fd00::15");
  EXPECT_EQ(eth0.prefix_length, 64);
  // No "scope link" for IPv6: the kernel ignores route scopes there.
  EXPECT_THAT(Routes(eth0), ElementsAre("fd00::2/128 dev eth0",
                                        "fd01::9/128 via fd00::1 dev eth0",
                                        "default via fd00::1 dev eth0"));
}

TEST(NetworkPlanTest, Ipv6LinkLocalGatewayIsNotOnlink) {
  conf::FirmwareBootEntry entry = Entry("fd01::9");
  entry.nic.ip_address = "fd00::15";
  entry.nic.prefix_length = 64;
  entry.nic.gateway = "fe80::1";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("fd01::9/128 via fe80::1 dev eth0",
                          "default via fe80::1 dev eth0"));
}

TEST(NetworkPlanTest, VlanGetsADeviceOnTheNetdev) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.vlan = 100;
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  const InterfacePlan& vlan = plan->interfaces[0];
  EXPECT_EQ(vlan.device, "eth0.100");
  EXPECT_EQ(vlan.parent_device, "eth0");
  EXPECT_EQ(vlan.vlan_id, 100);
  EXPECT_THAT(Routes(vlan), ElementsAre("10.0.2.2/32 dev eth0.100 scope link"));
}

TEST(NetworkPlanTest, VlanPriorityBitsAreNotPartOfTheId) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.vlan = (5 << 13) | 42;  // a whole 802.1Q tag, priority 5
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->interfaces[0].device, "eth0.42");
  EXPECT_EQ(plan->interfaces[0].vlan_id, 42);
}

TEST(NetworkPlanTest, VlanNameTooLongForIfnamsizFallsBack) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.net_device = "enp0s20f0u1u2";  // 13 characters
  entry.nic.vlan = 4000;
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->interfaces[0].device, "vlan4000");
  EXPECT_EQ(plan->interfaces[0].parent_device, "enp0s20f0u1u2");
}

TEST(NetworkPlanTest, SameNetdevOnTwoVlansIsTwoInterfaces) {
  conf::FirmwareBootEntry a = Entry("10.0.2.2");
  conf::FirmwareBootEntry b = Entry("10.0.3.2", "target1");
  b.nic.id = "ethernet1";
  b.nic.vlan = 7;
  b.nic.ip_address = "10.0.3.15";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({a, b});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 2u);
  EXPECT_EQ(plan->interfaces[0].device, "eth0");
  EXPECT_EQ(plan->interfaces[1].device, "eth0.7");
  EXPECT_THAT(Routes(plan->interfaces[1]),
              ElementsAre("10.0.3.2/32 dev eth0.7 scope link"));
}

TEST(NetworkPlanTest, PrefixFromSubnetMaskWhenPrefixIsZero) {
  conf::FirmwareBootEntry entry = Entry("10.0.0.9");
  entry.nic.prefix_length = 0;
  entry.nic.subnet_mask = "255.255.240.0";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->interfaces[0].prefix_length, 20);
  // 10.0.0.9 is inside 10.0.0.0/20 with 10.0.2.15.
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("10.0.0.9/32 dev eth0 scope link"));
}

TEST(NetworkPlanTest, NonContiguousSubnetMaskIsAnError) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.prefix_length = 0;
  entry.nic.subnet_mask = "255.0.255.0";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("255.0.255.0"));
}

TEST(NetworkPlanTest, NoPrefixAndNoMaskIsAnError) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.prefix_length = 0;
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(),
              HasSubstr("no prefix length or subnet mask"));
}

TEST(NetworkPlanTest, TwoTargetsOnOneNicShareLinkAndAddress) {
  conf::FirmwareBootEntry first = Entry("10.0.2.2");
  conf::FirmwareBootEntry second = Entry("192.168.7.9", "target1");
  first.nic.gateway = second.nic.gateway = "10.0.2.1";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({first, second});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 1u);
  EXPECT_THAT(plan->interfaces[0].target_ids,
              ElementsAre("target0", "target1"));
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("10.0.2.2/32 dev eth0 scope link",
                          "192.168.7.9/32 via 10.0.2.1 dev eth0",
                          "default via 10.0.2.1 dev eth0"));
}

TEST(NetworkPlanTest, TwoNicsGetOneDefaultRouteFromTheBootSelectedOne) {
  conf::FirmwareBootEntry a = Entry("10.0.2.2");
  a.nic.flags = conf::kFirmwareFlagValid;  // not boot-selected
  a.nic.gateway = "10.0.2.1";
  conf::FirmwareBootEntry b = Entry("10.0.3.2", "target1");
  b.nic.id = "ethernet1";
  b.nic.mac = "52:54:00:12:34:57";
  b.nic.net_device = "eth1";
  b.nic.ip_address = "10.0.3.15";
  b.nic.gateway = "10.0.3.1";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({a, b});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 2u);
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("10.0.2.2/32 dev eth0 scope link"));
  EXPECT_THAT(Routes(plan->interfaces[1]),
              ElementsAre("10.0.3.2/32 dev eth1 scope link",
                          "default via 10.0.3.1 dev eth1"));
}

TEST(NetworkPlanTest, SameTargetAddressOnTwoNicsIsRoutedByTheFirst) {
  conf::FirmwareBootEntry a = Entry("10.0.2.2");
  conf::FirmwareBootEntry b = Entry("10.0.2.2", "target1");
  b.nic.id = "ethernet1";
  b.nic.net_device = "eth1";
  b.nic.ip_address = "10.0.2.16";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({a, b});
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->interfaces.size(), 2u);
  EXPECT_THAT(Routes(plan->interfaces[0]),
              ElementsAre("10.0.2.2/32 dev eth0 scope link"));
  EXPECT_THAT(Routes(plan->interfaces[1]), IsEmpty());
  EXPECT_EQ(plan->interfaces[1].address.ToString(), "10.0.2.16");
}

TEST(NetworkPlanTest, MissingNetdevIsAnErrorNamingTheMac) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.net_device.clear();
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("no network interface has MAC 52:54:00:12:34:56"));
}

TEST(NetworkPlanTest, DhcpWithoutAddressIsNotSupported) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.ip_address.clear();
  entry.nic.origin = 3;
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(ExitCodeOf(plan.status()), ExitCode::kOperationNotSupported);
  EXPECT_THAT(plan.status().message(), HasSubstr("does not run DHCP"));
  EXPECT_THAT(plan.status().message(), HasSubstr("52:54:00:12:34:56"));
}

TEST(NetworkPlanTest, DhcpWithTheLeasedAddressIsConfiguredStatically) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.origin = 3;
  entry.nic.dhcp_server = "10.0.2.2";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->interfaces[0].address.ToString(), "10.0.2.15");
}

TEST(NetworkPlanTest, NoAddressWithoutDhcpIsAnError) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.nic.ip_address = "0.0.0.0";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(ExitCodeOf(plan.status()), ExitCode::kInvalid);
  EXPECT_THAT(plan.status().message(), HasSubstr("no IP address"));
}

TEST(NetworkPlanTest, TargetOfAnotherFamilyIsAnError) {
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({Entry("fd00::2")});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("another address family"));
}

TEST(NetworkPlanTest, OffloadEntriesAreSkippedWithANote) {
  conf::FirmwareBootEntry entry = Entry("10.0.2.2");
  entry.source = "iscsi_boot3";
  entry.nic.net_device.clear();  // would be an error for a software NIC
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->interfaces, IsEmpty());
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_THAT(plan->notes[0], HasSubstr("offload"));
}

TEST(NetworkPlanTest, NoEntriesIsAnEmptyPlan) {
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->interfaces, IsEmpty());
}

}  // namespace
}  // namespace kiscsi::netconfig
