#include "conf/boot_firmware.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "conf/record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/conf/test_util.h"

namespace kiscsi::conf {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fake sysfs root in a temporary directory.
class FakeSysfs {
 public:
  const std::string& root() const { return dir_.path(); }

  // Writes `content` to root/relative, making the directories on the way.
  void Write(const std::string& relative, const std::string& content) {
    MakeDirs(relative.substr(0, relative.rfind('/')));
    testing::WriteWholeFile(root() + "/" + relative, content);
  }

  void MakeDirs(const std::string& relative) {
    std::string path = root();
    size_t start = 0;
    while (start <= relative.size()) {
      size_t slash = relative.find('/', start);
      if (slash == std::string::npos) slash = relative.size();
      path += "/" + relative.substr(start, slash - start);
      ::mkdir(path.c_str(), 0755);
      start = slash + 1;
    }
  }

  void Remove(const std::string& relative) {
    ASSERT_EQ(::unlink((root() + "/" + relative).c_str()), 0) << relative;
  }

  // The table of boot-path.md section 2(b), as the kernel shows it, under
  // firmware/`table`.
  void WriteStandardTable(const std::string& table = "ibft") {
    std::string t = "firmware/" + table;
    Write(t + "/initiator/index", "0\n");
    Write(t + "/initiator/flags", "3\n");
    Write(t + "/initiator/initiator-name", "iqn.2026-12.test.boot:initiator\n");
    Write(t + "/ethernet0/index", "0\n");
    Write(t + "/ethernet0/flags", "3\n");
    Write(t + "/ethernet0/ip-addr", "10.0.2.15\n");
    Write(t + "/ethernet0/prefix-len", "24\n");
    Write(t + "/ethernet0/subnet-mask", "255.255.255.0");  // no newline
    Write(t + "/ethernet0/origin", "1\n");
    Write(t + "/ethernet0/gateway", "10.0.2.2\n");
    Write(t + "/ethernet0/primary-dns", "10.0.2.3\n");
    Write(t + "/ethernet0/vlan", "0\n");
    Write(t + "/ethernet0/mac", "52:54:00:12:34:56\n");
    Write(t + "/ethernet0/hostname", "ibftguest\n");
    Write(t + "/target0/index", "0\n");
    Write(t + "/target0/flags", "3\n");
    Write(t + "/target0/ip-addr", "10.0.2.2\n");
    Write(t + "/target0/port", "3261\n");
    Write(t + "/target0/lun", "01000000\n");
    Write(t + "/target0/chap-type", "0\n");
    Write(t + "/target0/nic-assoc", "0\n");
    Write(t + "/target0/target-name", "iqn.2026-12.test.boot:root\n");
    if (table == "ibft") {
      Write(t + "/acpi_header/signature", "iBFT\n");
      Write(t + "/acpi_header/oem_id", "KISCSI\n");
      Write(t + "/acpi_header/oem_table_id", "TESTIBFT\n");
    }
  }

  // An interface in class/net with `mac`; `physical` gives it a device link.
  void AddInterface(const std::string& name, const std::string& mac,
                    bool physical) {
    Write("class/net/" + name + "/address", mac + "\n");
    if (physical) MakeDirs("class/net/" + name + "/device");
  }

 private:
  testing::TempDir dir_;
};

constexpr char kStandardRecord[] =
    "# BEGIN RECORD 2.1.8\n"
    "iface.initiatorname = iqn.2026-12.test.boot:initiator\n"
    "iface.transport_name = tcp\n"
    "iface.hwaddress = 52:54:00:12:34:56\n"
    "iface.bootproto = STATIC\n"
    "iface.ipaddress = 10.0.2.15\n"
    "iface.prefix_len = 24\n"
    "iface.subnet_mask = 255.255.255.0\n"
    "iface.gateway = 10.0.2.2\n"
    "iface.primary_dns = 10.0.2.3\n"
    "iface.vlan_id = 0\n"
    "iface.net_ifacename = ens3\n"
    "node.name = iqn.2026-12.test.boot:root\n"
    "node.conn[0].address = 10.0.2.2\n"
    "node.conn[0].port = 3261\n"
    "node.boot_lun = 01000000\n"
    "# END RECORD\n";

std::vector<FirmwareBootEntry> ReadOk(const FakeSysfs& sysfs) {
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  EXPECT_TRUE(entries.ok()) << entries.status();
  return entries.ok() ? *entries : std::vector<FirmwareBootEntry>();
}

TEST(ReadBootFirmwareTest, StandardTableReadsAndPrintsAsIscsistart) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.AddInterface("lo", "00:00:00:00:00:00", false);
  sysfs.AddInterface("ens3", "52:54:00:12:34:56", true);

  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  const FirmwareBootEntry& e = entries[0];
  EXPECT_EQ(e.source, "ibft");
  EXPECT_EQ(e.initiator.initiator_name, "iqn.2026-12.test.boot:initiator");
  EXPECT_EQ(e.initiator.flags, 3);
  EXPECT_EQ(e.nic.id, "ethernet0");
  EXPECT_EQ(e.nic.ip_address, "10.0.2.15");
  EXPECT_EQ(e.nic.prefix_length, 24);
  EXPECT_EQ(e.nic.subnet_mask, "255.255.255.0");
  EXPECT_EQ(e.nic.origin, 1);
  EXPECT_EQ(e.nic.gateway, "10.0.2.2");
  EXPECT_EQ(e.nic.primary_dns, "10.0.2.3");
  EXPECT_EQ(e.nic.secondary_dns, "");
  EXPECT_EQ(e.nic.mac, "52:54:00:12:34:56");
  EXPECT_EQ(e.nic.hostname, "ibftguest");
  EXPECT_EQ(e.nic.net_device, "ens3");
  EXPECT_TRUE(e.nic.boot_selected());
  EXPECT_FALSE(e.nic.UsesDhcp());
  EXPECT_EQ(e.target.id, "target0");
  EXPECT_EQ(e.target.ip_address, "10.0.2.2");
  EXPECT_EQ(e.target.port, 3261);
  EXPECT_EQ(e.target.lun, "01000000");
  EXPECT_EQ(e.target.LunNumber(), 1u);
  EXPECT_EQ(e.target.target_name, "iqn.2026-12.test.boot:root");
  EXPECT_TRUE(e.target.boot_selected());
  EXPECT_EQ(FormatFirmwareRecord(e), kStandardRecord);
}

TEST(ReadBootFirmwareTest, PortDefaultsTo3260) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Remove("firmware/ibft/target0/port");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].target.port, 3260);
  EXPECT_THAT(FormatFirmwareRecord(entries[0]),
              HasSubstr("node.conn[0].port = 3260\n"));
}

TEST(ReadBootFirmwareTest, ChapAndMutualChapArePrinted) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/target0/chap-type", "2\n");
  sysfs.Write("firmware/ibft/target0/chap-name", "bootuser\n");
  sysfs.Write("firmware/ibft/target0/chap-secret", "bootsecret12\n");
  sysfs.Write("firmware/ibft/target0/rev-chap-name", "targetuser\n");
  sysfs.Write("firmware/ibft/target0/rev-chap-name-secret", "targetsecret\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].target.chap_type, 2);
  EXPECT_THAT(FormatFirmwareRecord(entries[0]),
              HasSubstr("node.conn[0].port = 3261\n"
                        "node.session.auth.username = bootuser\n"
                        "node.session.auth.password = bootsecret12\n"
                        "node.session.auth.username_in = targetuser\n"
                        "node.session.auth.password_in = targetsecret\n"
                        "node.boot_lun = 01000000\n"));
}

TEST(ReadBootFirmwareTest, OneWayChapPrintsNoReverseKeys) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/target0/chap-name", "bootuser\n");
  sysfs.Write("firmware/ibft/target0/chap-secret", "bootsecret12\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  std::string record = FormatFirmwareRecord(entries[0]);
  EXPECT_THAT(record, HasSubstr("node.session.auth.password = bootsecret12\n"));
  EXPECT_THAT(record, Not(HasSubstr("username_in")));
  EXPECT_THAT(record, Not(HasSubstr("password_in")));
}

TEST(ReadBootFirmwareTest, TwoNicsAndTargetsInTargetIndexOrder) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  std::string t = "firmware/ibft/";
  sysfs.Write(t + "ethernet1/index", "1\n");
  sysfs.Write(t + "ethernet1/flags", "1\n");
  sysfs.Write(t + "ethernet1/ip-addr", "192.168.7.20\n");
  sysfs.Write(t + "ethernet1/origin", "1\n");
  sysfs.Write(t + "ethernet1/vlan", "0\n");
  sysfs.Write(t + "ethernet1/mac", "52:54:00:AB:CD:EF\n");
  // target10 sorts before target2 as text; the index decides.
  for (const char* name : {"target2", "target10"}) {
    std::string d = t + name;
    std::string number = std::string(name).substr(6);
    sysfs.Write(d + "/index", number + "\n");
    sysfs.Write(d + "/flags", "1\n");
    sysfs.Write(d + "/ip-addr", "192.168.7." + number + "\n");
    sysfs.Write(d + "/nic-assoc", "1\n");
    sysfs.Write(d + "/target-name",
                "iqn.2026-12.test.boot:disk" + number + "\n");
  }
  sysfs.AddInterface("ens3", "52:54:00:12:34:56", true);
  sysfs.AddInterface("ens4", "52:54:00:ab:cd:ef", true);  // lower case

  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].target.id, "target0");
  EXPECT_EQ(entries[0].nic.id, "ethernet0");
  EXPECT_EQ(entries[0].nic.net_device, "ens3");
  EXPECT_EQ(entries[1].target.id, "target2");
  EXPECT_EQ(entries[1].target.index, 2);
  EXPECT_EQ(entries[1].nic.id, "ethernet1");
  EXPECT_EQ(entries[1].nic.net_device, "ens4");
  EXPECT_FALSE(entries[1].target.boot_selected());
  EXPECT_EQ(entries[2].target.id, "target10");
  EXPECT_EQ(entries[2].target.ip_address, "192.168.7.10");
  EXPECT_EQ(entries[2].target.port, 3260);
  EXPECT_EQ(entries[2].nic.ip_address, "192.168.7.20");
  for (const FirmwareBootEntry& e : entries) {
    EXPECT_EQ(e.initiator.initiator_name, "iqn.2026-12.test.boot:initiator");
  }
  std::string second = FormatFirmwareRecord(entries[1]);
  EXPECT_THAT(second, HasSubstr("iface.hwaddress = 52:54:00:AB:CD:EF\n"
                                "iface.bootproto = STATIC\n"
                                "iface.ipaddress = 192.168.7.20\n"
                                "iface.vlan_id = 0\n"
                                "iface.net_ifacename = ens4\n"
                                "node.name = iqn.2026-12.test.boot:disk2\n"));
  // No prefix: neither prefix_len nor subnet_mask; no LUN: no boot_lun.
  EXPECT_THAT(second, Not(HasSubstr("prefix_len")));
  EXPECT_THAT(second, Not(HasSubstr("subnet_mask")));
  EXPECT_THAT(second, Not(HasSubstr("boot_lun")));
}

TEST(ReadBootFirmwareTest, Ipv6AddressesAreKept) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  std::string t = "firmware/ibft/";
  sysfs.Write(t + "ethernet0/ip-addr",
              "fd00:0000:0000:0000:0000:0000:0000:000f\n");
  sysfs.Write(t + "ethernet0/prefix-len", "64\n");
  sysfs.Remove(t + "ethernet0/subnet-mask");
  sysfs.Write(t + "ethernet0/gateway",
              "fd00:0000:0000:0000:0000:0000:0000:0001\n");
  sysfs.Remove(t + "ethernet0/primary-dns");
  sysfs.Write(t + "target0/ip-addr",
              "fd00:0000:0000:0000:0000:0000:0000:0002\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_THAT(FormatFirmwareRecord(entries[0]),
              HasSubstr("iface.ipaddress = "
                        "fd00:0000:0000:0000:0000:0000:0000:000f\n"
                        "iface.prefix_len = 64\n"
                        "iface.gateway = "
                        "fd00:0000:0000:0000:0000:0000:0000:0001\n"
                        "iface.vlan_id = 0\n"));
  EXPECT_EQ(entries[0].target.ip_address,
            "fd00:0000:0000:0000:0000:0000:0000:0002");
}

TEST(ReadBootFirmwareTest, VlanIsPrinted) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/ethernet0/vlan", "100\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].nic.vlan, 100);
  EXPECT_TRUE(entries[0].nic.has_vlan);
  EXPECT_THAT(FormatFirmwareRecord(entries[0]),
              HasSubstr("iface.vlan_id = 100\n"));
}

TEST(ReadBootFirmwareTest, DhcpOriginPrintsDhcp) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/ethernet0/origin", "3\n");
  sysfs.Write("firmware/ibft/ethernet0/dhcp", "10.0.2.2\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].nic.dhcp_server, "10.0.2.2");
  EXPECT_TRUE(entries[0].nic.UsesDhcp());
  EXPECT_THAT(FormatFirmwareRecord(entries[0]),
              HasSubstr("iface.bootproto = DHCP\n"));
}

TEST(FirmwareNicTest, UsesDhcpFromOriginOrServer) {
  FirmwareNic nic;
  nic.origin = 1;
  EXPECT_FALSE(nic.UsesDhcp());
  nic.dhcp_server = "0.0.0.0";
  EXPECT_FALSE(nic.UsesDhcp());
  nic.dhcp_server = "10.0.2.2";
  EXPECT_TRUE(nic.UsesDhcp());
  nic.dhcp_server = "";
  nic.origin = 3;
  EXPECT_TRUE(nic.UsesDhcp());
}

TEST(ReadBootFirmwareTest, NetDeviceFromDeviceNetDirectory) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.MakeDirs("firmware/ibft/ethernet0/device/net/eth7");
  sysfs.AddInterface("ens3", "52:54:00:12:34:56", true);  // not consulted
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].nic.net_device, "eth7");
}

TEST(ReadBootFirmwareTest, NetDeviceFromNetColonEntry) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.MakeDirs("firmware/ibft/ethernet0/device/net:eth9");
  sysfs.AddInterface("ens3", "52:54:00:12:34:56", true);
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].nic.net_device, "eth9");
}

TEST(ReadBootFirmwareTest, NetDeviceByMacPrefersTheDeviceWithALink) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  // virtio-net: the netdev is under device/virtio0/net, so the MAC decides.
  sysfs.MakeDirs("firmware/ibft/ethernet0/device/virtio0/net/ens3");
  sysfs.AddInterface("br0", "52:54:00:12:34:56", false);
  sysfs.AddInterface("ens3", "52:54:00:12:34:56", true);
  sysfs.AddInterface("ens3.100", "52:54:00:12:34:56", false);
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].nic.net_device, "ens3");
}

TEST(ReadBootFirmwareTest, NoMatchingNetDeviceLeavesItEmpty) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.AddInterface("ens4", "52:54:00:00:00:01", true);
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].nic.net_device, "");
  EXPECT_THAT(FormatFirmwareRecord(entries[0]),
              Not(HasSubstr("net_ifacename")));
}

TEST(ReadBootFirmwareTest, IscsiBootTablesFollowTheIbft) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.WriteStandardTable("iscsi_boot0");
  std::string t = "firmware/iscsi_boot0/";
  sysfs.Write(t + "initiator/isid", "00023d000001\n");
  sysfs.Remove(t + "ethernet0/vlan");  // offload drivers may not show it
  sysfs.Write(t + "target0/target-name", "iqn.2026-12.test.boot:offload\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].source, "ibft");
  EXPECT_EQ(entries[1].source, "iscsi_boot0");
  EXPECT_EQ(entries[1].target.target_name, "iqn.2026-12.test.boot:offload");
  EXPECT_EQ(entries[1].initiator.isid, "00023d000001");
  EXPECT_FALSE(entries[1].nic.has_vlan);
  std::string record = FormatFirmwareRecord(entries[1]);
  EXPECT_THAT(record, HasSubstr("iface.initiatorname = "
                                "iqn.2026-12.test.boot:initiator\n"
                                "iface.isid = 00023d000001\n"
                                "iface.transport_name = tcp\n"));
  EXPECT_THAT(record, Not(HasSubstr("vlan_id")));
}

TEST(ReadBootFirmwareTest, IscsiBootAloneIsATable) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable("iscsi_boot3");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].source, "iscsi_boot3");
}

TEST(ReadBootFirmwareTest, NoTableIsNotFoundWithExitCode21) {
  FakeSysfs sysfs;
  sysfs.MakeDirs("firmware/acpi");
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(static_cast<int>(ExitCodeOf(entries.status())), 21);
  EXPECT_THAT(entries.status().message(),
              HasSubstr("is the iscsi_ibft module loaded?"));

  // No firmware directory at all.
  entries = ReadBootFirmware(sysfs.root() + "/nonexistent");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(static_cast<int>(ExitCodeOf(entries.status())), 21);
}

TEST(ReadBootFirmwareTest, TableWithoutValidTargetIsNotFound) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/target0/flags", "0\n");
  sysfs.Remove("firmware/ibft/target0/target-name");  // flags 0: not read
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(static_cast<int>(ExitCodeOf(entries.status())), 21);
  EXPECT_THAT(entries.status().message(), HasSubstr("no valid target"));
}

TEST(ReadBootFirmwareTest, TargetWithFlagsZeroIsSkipped) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/target1/index", "1\n");
  sysfs.Write("firmware/ibft/target1/flags", "0\n");
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].target.id, "target0");
}

TEST(ReadBootFirmwareTest, NicAssocNamingNoNicIsAnError) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/target0/nic-assoc", "4\n");
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(static_cast<int>(ExitCodeOf(entries.status())),
            static_cast<int>(ExitCode::kInvalid));
  EXPECT_THAT(entries.status().message(),
              HasSubstr(sysfs.root() +
                        "/firmware/ibft/target0/nic-assoc: 4 names no valid "
                        "NIC"));
  EXPECT_THAT(entries.status().message(), HasSubstr("NIC indexes: 0"));
}

TEST(ReadBootFirmwareTest, NicWithFlagsZeroCannotCarryATarget) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/ethernet0/flags", "0\n");
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(),
              HasSubstr("target0/nic-assoc: 0 names no valid NIC"));
  EXPECT_THAT(entries.status().message(), HasSubstr("it has none"));
}

TEST(ReadBootFirmwareTest, MissingTargetNameNamesTheFile) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Remove("firmware/ibft/target0/target-name");
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(static_cast<int>(ExitCodeOf(entries.status())),
            static_cast<int>(ExitCode::kInvalid));
  EXPECT_THAT(entries.status().message(),
              HasSubstr(sysfs.root() + "/firmware/ibft/target0/target-name: "
                                       "missing"));
}

TEST(ReadBootFirmwareTest, BadIntegerNamesFileAndValue) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.Write("firmware/ibft/target0/port", "32x61\n");
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(static_cast<int>(ExitCodeOf(entries.status())),
            static_cast<int>(ExitCode::kInvalid));
  EXPECT_THAT(
      entries.status().message(),
      HasSubstr(sysfs.root() + "/firmware/ibft/target0/port: invalid value "
                               "'32x61': expected a decimal integer from 0 "
                               "to 65535"));
}

TEST(ReadBootFirmwareTest, AttributeThatIsNoRegularFileIsAnError) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  sysfs.MakeDirs("firmware/ibft/target0/chap-name");  // a directory
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(),
              HasSubstr(sysfs.root() + "/firmware/ibft/target0/chap-name"));
}

TEST(ReadBootFirmwareTest, FifoDoesNotBlock) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  std::string fifo = sysfs.root() + "/firmware/ibft/target0/chap-name";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<std::vector<FirmwareBootEntry>> entries =
      ReadBootFirmware(sysfs.root());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(),
              HasSubstr("target0/chap-name: not a regular file"));
}

TEST(FirmwareReadErrorTest, AccessDeniedIsPermissionDeniedExitCode13) {
  absl::Status status = internal::FirmwareReadError(
      EACCES, "/sys/firmware/ibft/target0/chap-secret");
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(static_cast<int>(ExitCodeOf(status)), 13);
  EXPECT_THAT(status.message(),
              HasSubstr("/sys/firmware/ibft/target0/chap-secret"));
  EXPECT_THAT(status.message(), HasSubstr("CAP_SYS_ADMIN"));

  status = internal::FirmwareReadError(EPERM, "/x");
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);

  status = internal::FirmwareReadError(EIO, "/sys/firmware/ibft/target0/lun");
  EXPECT_NE(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kSysfsLookup);
  EXPECT_THAT(status.message(), HasSubstr("/sys/firmware/ibft/target0/lun"));
}

// --- value parsing without a file system -----------------------------------

FirmwareFiles GoodTargetFiles() {
  return {{"index", "0\n"},
          {"flags", "3\n"},
          {"ip-addr", "10.0.2.2\n"},
          {"target-name", "iqn.2026-12.test.boot:root\n"},
          {"nic-assoc", "0\n"}};
}

FirmwareFiles GoodNicFiles() {
  return {{"index", "0\n"},
          {"flags", "3\n"},
          {"mac", "52:54:00:12:34:56\n"},
          {"vlan", "0\n"}};
}

constexpr char kWhere[] = "/sys/firmware/ibft/target0";

TEST(ParseFirmwareTargetTest, RequiredFilesAreNamed) {
  for (const char* file : {"flags", "ip-addr", "target-name"}) {
    FirmwareFiles files = GoodTargetFiles();
    files.erase(file);
    absl::StatusOr<FirmwareTarget> target =
        ParseFirmwareTarget("target0", files, kWhere);
    ASSERT_FALSE(target.ok()) << file;
    EXPECT_THAT(target.status().message(),
                HasSubstr(std::string(kWhere) + "/" + file + ": missing"));
  }
  FirmwareFiles files = GoodTargetFiles();
  files["flags"] = "0\n";
  EXPECT_FALSE(ParseFirmwareTarget("target0", files, kWhere).ok());
}

TEST(ParseFirmwareTargetTest, IndexDefaultsToTheDirectoryNumber) {
  FirmwareFiles files = GoodTargetFiles();
  files.erase("index");
  absl::StatusOr<FirmwareTarget> target =
      ParseFirmwareTarget("target1", files, kWhere);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->index, 1);
}

TEST(ParseFirmwareTargetTest, OnlyOneNewlineIsStripped) {
  FirmwareFiles files = GoodTargetFiles();
  files["target-name"] = "iqn.2026-12.test.boot:root\n\n";
  absl::StatusOr<FirmwareTarget> target =
      ParseFirmwareTarget("target0", files, kWhere);
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(target.status().message(),
              HasSubstr("target0/target-name: invalid value "
                        "'iqn.2026-12.test.boot:root\\n'"));
}

TEST(ParseFirmwareTargetTest, NulAndControlCharactersAreRefused) {
  FirmwareFiles files = GoodTargetFiles();
  files["target-name"] = std::string("iqn.2026-12.a\0b\n", 16);
  EXPECT_FALSE(ParseFirmwareTarget("target0", files, kWhere).ok());
  files = GoodTargetFiles();
  files["chap-name"] = "user\tname\n";
  absl::StatusOr<FirmwareTarget> target =
      ParseFirmwareTarget("target0", files, kWhere);
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(target.status().message(), HasSubstr("target0/chap-name:"));
}

TEST(ParseFirmwareTargetTest, NameLengthLimits) {
  FirmwareFiles files = GoodTargetFiles();
  std::string name = "iqn.2026-12.test:" + std::string(223 - 17, 'x');
  ASSERT_EQ(name.size(), 223u);
  files["target-name"] = name + "\n";
  EXPECT_TRUE(ParseFirmwareTarget("target0", files, kWhere).ok());
  files["target-name"] = name + "y\n";
  absl::StatusOr<FirmwareTarget> target =
      ParseFirmwareTarget("target0", files, kWhere);
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(target.status().message(),
              HasSubstr("target0/target-name: invalid value"));
  EXPECT_THAT(target.status().message(), HasSubstr("longer than 223"));

  files = GoodTargetFiles();
  files["chap-name"] = std::string(256, 'u') + "\n";
  EXPECT_FALSE(ParseFirmwareTarget("target0", files, kWhere).ok());
  files["chap-name"] = std::string(255, 'u') + "\n";
  EXPECT_TRUE(ParseFirmwareTarget("target0", files, kWhere).ok());
}

TEST(ParseFirmwareTargetTest, SecretsNeverAppearInErrors) {
  const std::string secret = "Hunter2Secret";
  for (const char* file : {"chap-secret", "rev-chap-name-secret"}) {
    for (const std::string& bad :
         {secret + "\x01" + "\n", secret + std::string(300, 'z') + "\n",
          secret + std::string("\0x\n", 3)}) {
      FirmwareFiles files = GoodTargetFiles();
      files["chap-name"] = "user\n";
      files["rev-chap-name"] = "target\n";
      files[file] = bad;
      absl::StatusOr<FirmwareTarget> target =
          ParseFirmwareTarget("target0", files, kWhere);
      ASSERT_FALSE(target.ok()) << file;
      EXPECT_THAT(
          target.status().message(),
          HasSubstr(std::string(kWhere) + "/" + file + ": invalid " + file));
      EXPECT_THAT(target.status().message(), Not(HasSubstr("Hunter")));
      EXPECT_THAT(target.status().message(), Not(HasSubstr("zzz")));
    }
  }
}

TEST(ParseFirmwareTargetTest, BadAddressNamesFileAndValue) {
  FirmwareFiles files = GoodTargetFiles();
  files["ip-addr"] = "10.0.2.256\n";
  absl::StatusOr<FirmwareTarget> target =
      ParseFirmwareTarget("target0", files, kWhere);
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(target.status().message(),
              HasSubstr("target0/ip-addr: invalid value '10.0.2.256'"));
}

TEST(ParseFirmwareNicTest, SubnetMaskWithOrWithoutNewline) {
  FirmwareFiles files = GoodNicFiles();
  files["subnet-mask"] = "255.255.255.0";
  absl::StatusOr<FirmwareNic> nic = ParseFirmwareNic("ethernet0", files, "/e0");
  ASSERT_TRUE(nic.ok()) << nic.status();
  EXPECT_EQ(nic->subnet_mask, "255.255.255.0");
  files["subnet-mask"] = "255.255.255.0\n";
  nic = ParseFirmwareNic("ethernet0", files, "/e0");
  ASSERT_TRUE(nic.ok()) << nic.status();
  EXPECT_EQ(nic->subnet_mask, "255.255.255.0");
}

TEST(ParseFirmwareNicTest, MacIsRequiredAndChecked) {
  FirmwareFiles files = GoodNicFiles();
  files.erase("mac");
  absl::StatusOr<FirmwareNic> nic = ParseFirmwareNic("ethernet0", files, "/e0");
  ASSERT_FALSE(nic.ok());
  EXPECT_THAT(nic.status().message(), HasSubstr("/e0/mac: missing"));
  files["mac"] = "52:54:00:12:34\n";
  nic = ParseFirmwareNic("ethernet0", files, "/e0");
  ASSERT_FALSE(nic.ok());
  EXPECT_THAT(nic.status().message(),
              HasSubstr("/e0/mac: invalid value '52:54:00:12:34'"));
  files = GoodNicFiles();
  files.erase("flags");
  EXPECT_FALSE(ParseFirmwareNic("ethernet0", files, "/e0").ok());
}

TEST(ParseFirmwareNicTest, RangesAreChecked) {
  FirmwareFiles files = GoodNicFiles();
  files["prefix-len"] = "129\n";
  absl::StatusOr<FirmwareNic> nic = ParseFirmwareNic("ethernet0", files, "/e0");
  ASSERT_FALSE(nic.ok());
  EXPECT_THAT(nic.status().message(),
              HasSubstr("/e0/prefix-len: invalid value '129'"));
  files["prefix-len"] = "-1\n";
  EXPECT_FALSE(ParseFirmwareNic("ethernet0", files, "/e0").ok());
  files["prefix-len"] = "\n";
  EXPECT_FALSE(ParseFirmwareNic("ethernet0", files, "/e0").ok());
}

TEST(ParseFirmwareInitiatorTest, NameLimitAndOptionalFiles) {
  absl::StatusOr<FirmwareInitiator> initiator =
      ParseFirmwareInitiator({}, "/i");
  ASSERT_TRUE(initiator.ok());
  EXPECT_EQ(initiator->initiator_name, "");
  initiator = ParseFirmwareInitiator(
      {{"initiator-name", "iqn." + std::string(230, 'a') + "\n"}}, "/i");
  ASSERT_FALSE(initiator.ok());
  EXPECT_THAT(initiator.status().message(), HasSubstr("/i/initiator-name:"));
}

TEST(LunNumberTest, ReadsTheSysfsText) {
  auto lun = [](const std::string& text) {
    FirmwareTarget target;
    target.lun = text;
    return target.LunNumber();
  };
  EXPECT_EQ(lun("00000000"), 0u);
  EXPECT_EQ(lun("01000000"), 1u);
  EXPECT_EQ(lun("0f000000"), 15u);
  EXPECT_EQ(lun("010000000"), 16u);   // 00 10
  EXPECT_EQ(lun("0ff000000"), 255u);  // 00 ff (00 0f f0 ... is multi-level)
  EXPECT_EQ(lun("0FF000000"), 255u);
  EXPECT_EQ(lun("412c000000"), 0x412cu);  // flat space addressing, LUN 300
  EXPECT_EQ(lun("11000000"), 0x0101u);    // bus 1, LUN 1
  // 01 ff or 1f 0f: cannot tell.
  EXPECT_EQ(lun("1ff000000"), std::nullopt);
  // A multi-level LUN whose every byte is < 16: 00 01 00 02 ...
  EXPECT_EQ(lun("01020000"), (uint64_t{2} << 16) | 1);
  EXPECT_EQ(lun(""), std::nullopt);
  EXPECT_EQ(lun("1"), std::nullopt);
  EXPECT_EQ(lun("0100000"), std::nullopt);            // 7 bytes
  EXPECT_EQ(lun("01000000000000000"), std::nullopt);  // 17 digits
  EXPECT_EQ(lun("0g000000"), std::nullopt);
}

// --- node records ------------------------------------------------------------

FirmwareBootEntry StandardEntry() {
  FirmwareBootEntry entry;
  entry.source = "ibft";
  entry.initiator.initiator_name = "iqn.2026-12.test.boot:initiator";
  entry.nic.id = "ethernet0";
  entry.nic.flags = 3;
  entry.nic.ip_address = "10.0.2.15";
  entry.nic.mac = "52:54:00:12:34:56";
  entry.nic.net_device = "ens3";
  entry.target.id = "target0";
  entry.target.flags = 3;
  entry.target.ip_address = "10.0.2.2";
  entry.target.port = 3261;
  entry.target.lun = "01000000";
  entry.target.target_name = "iqn.2026-12.test.boot:root";
  return entry;
}

TEST(NodeRecordFromFirmwareTest, SetsTargetPortalAndBootKeys) {
  Record base = DefaultRecord(RecordKind::kNode);
  base.Set("node.session.timeo.replacement_timeout", "86400");
  absl::StatusOr<Record> record = NodeRecordFromFirmware(StandardEntry(), base);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.name"), "iqn.2026-12.test.boot:root");
  EXPECT_EQ(record->Get("node.tpgt"), "1");
  EXPECT_EQ(record->Get("node.startup"), "onboot");
  EXPECT_EQ(record->Get("node.discovery_type"), "fw");
  EXPECT_EQ(record->Get("node.conn[0].address"), "10.0.2.2");
  EXPECT_EQ(record->Get("node.conn[0].port"), "3261");
  EXPECT_EQ(record->Get("iface.initiatorname"),
            "iqn.2026-12.test.boot:initiator");
  EXPECT_EQ(record->Get("iface.iscsi_ifacename"), "default");
  EXPECT_EQ(record->Get("iface.transport_name"), "tcp");
  // Not bound to the NIC, as open-iscsi does for a software NIC.
  EXPECT_EQ(record->Get("iface.hwaddress"), "");
  EXPECT_EQ(record->Get("iface.net_ifacename"), "");
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "None");
  EXPECT_EQ(record->Get("node.session.timeo.replacement_timeout"), "86400");
  EXPECT_EQ(record->Get("node.conn[0].startup"), "manual");
  // The record is one the node database takes back unchanged.
  std::string file = FormatRecordFile(*record, RecordKind::kNode);
  absl::StatusOr<ParsedRecord> parsed =
      ParseRecordText(file, "fw", RecordKind::kNode);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(FormatRecordFile(parsed->record, RecordKind::kNode), file);
}

TEST(NodeRecordFromFirmwareTest, ChapAndMutualChap) {
  FirmwareBootEntry entry = StandardEntry();
  entry.target.chap_name = "bootuser";
  entry.target.chap_secret = "bootsecret12";
  absl::StatusOr<Record> record =
      NodeRecordFromFirmware(entry, DefaultRecord(RecordKind::kNode));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "CHAP");
  EXPECT_EQ(record->Get("node.session.auth.username"), "bootuser");
  EXPECT_EQ(record->Get("node.session.auth.password"), "bootsecret12");
  EXPECT_EQ(record->Get("node.session.auth.username_in"), "");
  EXPECT_EQ(record->Get("node.session.auth.password_in"), "");

  entry.target.reverse_chap_name = "targetuser";
  entry.target.reverse_chap_secret = "targetsecret";
  record = NodeRecordFromFirmware(entry, DefaultRecord(RecordKind::kNode));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "CHAP");
  EXPECT_EQ(record->Get("node.session.auth.username_in"), "targetuser");
  EXPECT_EQ(record->Get("node.session.auth.password_in"), "targetsecret");
}

TEST(NodeRecordFromFirmwareTest, TableWithoutChapClearsBaseCredentials) {
  Record base = DefaultRecord(RecordKind::kNode);
  base.Set("node.session.auth.authmethod", "CHAP");
  base.Set("node.session.auth.username", "confuser");
  base.Set("node.session.auth.password", "confsecret");
  absl::StatusOr<Record> record = NodeRecordFromFirmware(StandardEntry(), base);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "None");
  EXPECT_EQ(record->Get("node.session.auth.username"), "");
  EXPECT_EQ(record->Get("node.session.auth.password"), "");
}

TEST(NodeRecordFromFirmwareTest, PortZeroIsRefused) {
  FirmwareBootEntry entry = StandardEntry();
  entry.target.port = 0;
  absl::StatusOr<Record> record =
      NodeRecordFromFirmware(entry, DefaultRecord(RecordKind::kNode));
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.status().message(), HasSubstr("node.conn[0].port"));
}

TEST(NodeRecordFromFirmwareTest, FromAReadTable) {
  FakeSysfs sysfs;
  sysfs.WriteStandardTable();
  std::vector<FirmwareBootEntry> entries = ReadOk(sysfs);
  ASSERT_EQ(entries.size(), 1u);
  absl::StatusOr<Record> record =
      NodeRecordFromFirmware(entries[0], DefaultRecord(RecordKind::kNode));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.name"), "iqn.2026-12.test.boot:root");
  EXPECT_EQ(record->Get("node.conn[0].port"), "3261");
}

}  // namespace
}  // namespace kiscsi::conf
