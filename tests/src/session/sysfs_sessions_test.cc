#include "src/session/sysfs_sessions.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text << "\n";
}

// A sysfs tree shaped like the kernel's for iscsi_tcp sessions.
class FakeSysfs {
 public:
  FakeSysfs() {
    char dir[] = "/tmp/kiscsi-sysfs-XXXXXX";
    root_ = mkdtemp(dir);
  }
  ~FakeSysfs() { fs::remove_all(root_); }
  const std::string& root() const { return root_; }

  void AddSession(uint32_t sid, uint32_t host, const std::string& target,
                  const std::string& address, int port) {
    const fs::path device = fs::path(root_) / "devices/platform" /
                            ("host" + std::to_string(host)) /
                            ("session" + std::to_string(sid));
    fs::create_directories(device);
    const fs::path session = fs::path(root_) / "class/iscsi_session" /
                             ("session" + std::to_string(sid));
    fs::create_directories(session);
    fs::create_directory_symlink(device, session / "device");
    const std::pair<const char*, std::string> attributes[] = {
        {"targetname", target},
        {"tpgt", "1"},
        {"state", "LOGGED_IN"},
        {"creator", "1234"},
        {"recovery_tmo", "120"},
        {"abort_tmo", "15"},
        {"lu_reset_tmo", "30"},
        {"tgt_reset_tmo", "30"},
        {"ifacename", "default"},
        {"initiatorname", "iqn.1993-08.org.debian:01:c85bc2516951"},
        {"username", ""},
        {"username_in", ""},
        {"password", "pw-out"},
        {"password_in", ""},
        {"first_burst_len", "65536"},
        {"max_burst_len", "262144"},
        {"immediate_data", "1"},
        {"initial_r2t", "1"},
        {"max_outstanding_r2t", "1"},
        {"erl", "0"}};
    for (const auto& [name, value] : attributes)
      WriteFile(session / name, value);
    const fs::path conn = fs::path(root_) / "class/iscsi_connection" /
                          ("connection" + std::to_string(sid) + ":0");
    const std::pair<const char*, std::string> conn_attributes[] = {
        {"state", "up"},
        {"address", address},
        {"port", std::to_string(port)},
        {"persistent_address", address},
        {"persistent_port", std::to_string(port)},
        {"local_port", "40000"},
        {"max_recv_dlength", "262144"},
        {"max_xmit_dlength", "262144"},
        {"header_digest", "0"},
        {"data_digest", "0"},
        {"ping_tmo", "5"},
        {"recv_tmo", "5"}};
    for (const auto& [name, value] : conn_attributes)
      WriteFile(conn / name, value);
    const fs::path iscsi_host =
        fs::path(root_) / "class/iscsi_host" / ("host" + std::to_string(host));
    WriteFile(iscsi_host / "ipaddress", "127.0.0.1");
    // What Debian's 6.1 kernel shows for a software iSCSI host (seen in the
    // VM).
    WriteFile(iscsi_host / "hwaddress", "(null)");
    WriteFile(iscsi_host / "netdev", "(null)");
    const fs::path scsi_host =
        fs::path(root_) / "class/scsi_host" / ("host" + std::to_string(host));
    WriteFile(scsi_host / "proc_name", "iscsi_tcp");
    WriteFile(scsi_host / "state", "running");
  }

  void AddLun(uint32_t sid, uint32_t host, uint32_t lun, int type,
              const std::string& block) {
    const std::string h = std::to_string(host);
    const fs::path dir = fs::path(root_) / "devices/platform" / ("host" + h) /
                         ("session" + std::to_string(sid)) /
                         ("target" + h + ":0:0") /
                         (h + ":0:0:" + std::to_string(lun));
    WriteFile(dir / "type", std::to_string(type));
    WriteFile(dir / "state", "running");
    if (!block.empty()) fs::create_directories(dir / "block" / block);
  }

 private:
  std::string root_;
};

SessionListOptions Level(int level) {
  SessionListOptions options;
  options.print_level = level;
  return options;
}

constexpr char kP1[] =
    "Target: iqn.2026-11.test:fmt1 (non-flash)\n"
    "\tCurrent Portal: 127.0.0.1:3260,1\n"
    "\tPersistent Portal: 127.0.0.1:3260,1\n"
    "\t\t**********\n"
    "\t\tInterface:\n"
    "\t\t**********\n"
    "\t\tIface Name: default\n"
    "\t\tIface Transport: tcp\n"
    "\t\tIface Initiatorname: iqn.1993-08.org.debian:01:c85bc2516951\n"
    "\t\tIface IPaddress: 127.0.0.1\n"
    "\t\tIface HWaddress: default\n"
    "\t\tIface Netdev: default\n"
    "\t\tSID: 1\n"
    "\t\tiSCSI Connection State: LOGGED IN\n"
    "\t\tiSCSI Session State: LOGGED_IN\n"
    "\t\tInternal iscsid Session State: NO CHANGE\n";

constexpr char kP2Extra[] =
    "\t\t*********\n"
    "\t\tTimeouts:\n"
    "\t\t*********\n"
    "\t\tRecovery Timeout: 120\n"
    "\t\tTarget Reset Timeout: 30\n"
    "\t\tLUN Reset Timeout: 30\n"
    "\t\tAbort Timeout: 15\n"
    "\t\t*****\n"
    "\t\tCHAP:\n"
    "\t\t*****\n"
    "\t\tusername: <empty>\n"
    "\t\tpassword: ********\n"
    "\t\tusername_in: <empty>\n"
    "\t\tpassword_in: ********\n"
    "\t\t************************\n"
    "\t\tNegotiated iSCSI params:\n"
    "\t\t************************\n"
    "\t\tHeaderDigest: None\n"
    "\t\tDataDigest: None\n"
    "\t\tMaxRecvDataSegmentLength: 262144\n"
    "\t\tMaxXmitDataSegmentLength: 262144\n"
    "\t\tFirstBurstLength: 65536\n"
    "\t\tMaxBurstLength: 262144\n"
    "\t\tImmediateData: Yes\n"
    "\t\tInitialR2T: Yes\n"
    "\t\tMaxOutstandingR2T: 1\n";

TEST(SysfsSessionsTest, NoSessionClassMeansNoSessions) {
  FakeSysfs sysfs;
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(sysfs.root());
  ASSERT_TRUE(sessions.ok());
  EXPECT_TRUE(sessions->empty());
  EXPECT_EQ(ExitCodeOf(ReadSysfsSession(sysfs.root(), 3).status()),
            ExitCode::kSessionNotFound);
}

TEST(SysfsSessionsTest, ReadsSessionConnectionHostAndDevices) {
  FakeSysfs sysfs;
  sysfs.AddSession(1, 2, "iqn.2026-11.test:fmt1", "127.0.0.1", 3260);
  sysfs.AddLun(1, 2, 1, 0, "sdb");
  sysfs.AddLun(1, 2, 0, 12, "");
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(sysfs.root());
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  ASSERT_EQ(sessions->size(), 1u);
  const SysfsSession& s = sessions->front();
  EXPECT_EQ(s.sid, 1u);
  EXPECT_EQ(s.host_no, 2u);
  EXPECT_EQ(s.creator, 1234);
  EXPECT_EQ(s.transport, "tcp");
  EXPECT_EQ(s.password, "");  // not asked for
  ASSERT_TRUE(s.connection.has_value());
  EXPECT_EQ(s.connection->local_port, 40000);
  EXPECT_EQ(s.connection->header_digest, false);
  ASSERT_EQ(s.devices.size(), 2u);
  EXPECT_EQ(s.devices[0].lun, 0u);
  EXPECT_EQ(s.devices[0].type, 12);
  EXPECT_EQ(s.devices[1].block, "sdb");
  absl::StatusOr<SysfsSession> with_passwords =
      ReadSysfsSession(sysfs.root(), 1, {.include_passwords = true});
  ASSERT_TRUE(with_passwords.ok());
  EXPECT_EQ(with_passwords->password, "pw-out");
}

TEST(SysfsSessionsTest, IdentityOnlyReadsWhatSelectsAndNamesASession) {
  FakeSysfs sysfs;
  sysfs.AddSession(1, 2, "iqn.2026-11.test:fmt1", "127.0.0.1", 3260);
  sysfs.AddLun(1, 2, 1, 0, "sdb");
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(sysfs.root(), {.identity_only = true});
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  ASSERT_EQ(sessions->size(), 1u);
  const SysfsSession& s = sessions->front();
  EXPECT_EQ(s.sid, 1u);
  EXPECT_EQ(s.target_name, "iqn.2026-11.test:fmt1");
  EXPECT_EQ(s.state, "LOGGED_IN");
  ASSERT_TRUE(s.connection.has_value());
  EXPECT_EQ(s.connection->persistent_address, "127.0.0.1");
  EXPECT_EQ(s.connection->persistent_port, 3260);
  // Nothing else is read.
  EXPECT_EQ(s.creator, std::nullopt);
  EXPECT_EQ(s.host_no, std::nullopt);
  EXPECT_EQ(s.connection->local_port, std::nullopt);
  EXPECT_TRUE(s.devices.empty());
}

TEST(SysfsSessionsTest, FormatsLikeIscsiadm) {
  FakeSysfs sysfs;
  sysfs.AddSession(1, 2, "iqn.2026-11.test:fmt1", "127.0.0.1", 3260);
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(sysfs.root());
  ASSERT_TRUE(sessions.ok());
  EXPECT_EQ(FormatSessionList(*sessions, {}),
            "tcp: [1] 127.0.0.1:3260,1 iqn.2026-11.test:fmt1 (non-flash)\n");
  EXPECT_EQ(FormatSessionList(*sessions, Level(1)), kP1);
  EXPECT_EQ(FormatSessionList(*sessions, Level(2)),
            std::string(kP1) + kP2Extra);
}

TEST(SysfsSessionsTest, LevelThreeListsAttachedDevices) {
  FakeSysfs sysfs;
  sysfs.AddSession(1, 2, "iqn.2026-11.test:fmt1", "127.0.0.1", 3260);
  sysfs.AddLun(1, 2, 0, 12, "");
  sysfs.AddLun(1, 2, 1, 0, "sda");
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(sysfs.root());
  ASSERT_TRUE(sessions.ok());
  EXPECT_EQ(FormatSessionList(*sessions, Level(3)),
            std::string(kP1) + kP2Extra +
                "\t\t************************\n"
                "\t\tAttached SCSI devices:\n"
                "\t\t************************\n"
                "\t\tHost Number: 2\tState: running\n"
                "\t\tscsi2 Channel 00 Id 0 Lun: 0\n"
                "\t\tscsi2 Channel 00 Id 0 Lun: 1\n"
                "\t\t\tAttached scsi disk sda\t\tState: running\n");
}

TEST(SysfsSessionsTest, TreesGroupByTargetAndPortal) {
  FakeSysfs sysfs;
  sysfs.AddSession(3, 4, "iqn.2026-11.test:b", "10.0.0.2", 3260);
  sysfs.AddSession(1, 2, "iqn.2026-11.test:a", "10.0.0.1", 3260);
  sysfs.AddSession(2, 3, "iqn.2026-11.test:a", "10.0.0.1", 3260);
  sysfs.AddSession(4, 5, "iqn.2026-11.test:a", "fd00::1", 3261);
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(sysfs.root());
  ASSERT_TRUE(sessions.ok());
  EXPECT_EQ(FormatSessionList(*sessions, {}),
            "tcp: [1] 10.0.0.1:3260,1 iqn.2026-11.test:a (non-flash)\n"
            "tcp: [2] 10.0.0.1:3260,1 iqn.2026-11.test:a (non-flash)\n"
            "tcp: [3] 10.0.0.2:3260,1 iqn.2026-11.test:b (non-flash)\n"
            "tcp: [4] [fd00::1]:3261,1 iqn.2026-11.test:a (non-flash)\n");
  const std::string tree =
      FormatSessionList(*sessions, {.print_level = 1, .show_secrets = false});
  std::vector<std::string> heads;
  std::istringstream lines(tree);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Target:", 0) == 0 || line.rfind("\tCurrent", 0) == 0 ||
        line.find("SID:") != std::string::npos ||
        line.find("Internal") != std::string::npos) {
      heads.push_back(line);
    }
  }
  EXPECT_THAT(heads,
              ::testing::ElementsAre(
                  "Target: iqn.2026-11.test:a (non-flash)",
                  "\tCurrent Portal: 10.0.0.1:3260,1", "\t\tSID: 1",
                  "\t\tInternal iscsid Session State: NO CHANGE", "\t\tSID: 2",
                  "\t\tInternal iscsid Session State: NO CHANGE",
                  "\tCurrent Portal: [fd00::1]:3261,1", "\t\tSID: 4",
                  "\t\tInternal iscsid Session State: NO CHANGE",
                  "Target: iqn.2026-11.test:b (non-flash)",
                  "\tCurrent Portal: 10.0.0.2:3260,1", "\t\tSID: 3",
                  "\t\tInternal iscsid Session State: NO CHANGE"));
}

// The hosts as iscsiadm -m host prints them (compared with iscsiadm 2.1.8 in
// the vm scenario ibft): "<empty>" for what is unset, "(null)" read as unset,
// IPv6 in brackets, hosts by number.
TEST(SysfsHostsTest, ListedAsIscsiadmPrintsThem) {
  char dir[] = "/tmp/kiscsi-hosts-XXXXXX";
  const fs::path root = mkdtemp(dir);
  for (const auto& [host, ip] :
       {std::pair{"host10", "fd00::15"}, std::pair{"host2", "10.0.2.15"}}) {
    const fs::path iscsi_host = root / "class/iscsi_host" / host;
    WriteFile(iscsi_host / "ipaddress", ip);
    WriteFile(iscsi_host / "hwaddress", "(null)");
    WriteFile(iscsi_host / "netdev", "(null)");
    WriteFile(root / "class/scsi_host" / host / "proc_name", "iscsi_tcp");
    WriteFile(root / "class/scsi_host" / host / "state", "running");
  }
  const std::vector<SysfsHost> hosts = ReadSysfsHosts(root.string());
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].host_no, 2u);
  EXPECT_EQ(FormatHostList(hosts, 0),
            "tcp: [2] 10.0.2.15,[<empty>],<empty> <empty>\n"
            "tcp: [10] [fd00::15],[<empty>],<empty> <empty>\n");
  EXPECT_EQ(FormatHostList({hosts[0]}, 1),
            "Host Number: 2\n\tState: running\n\tTransport: tcp\n"
            "\tInitiatorname: <empty>\n\tIPaddress: 10.0.2.15\n"
            "\tHWaddress: <empty>\n\tNetdev: <empty>\n");
  EXPECT_TRUE(ReadSysfsHosts((root / "none").string()).empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace kiscsi
