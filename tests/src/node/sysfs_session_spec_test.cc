// What a session found in sysfs, without a node record, logs in with again
// when the daemon recovers it, and the node record the daemon writes for it.
#include "src/node/sysfs_session_spec.h"

#include <string>
#include <vector>

#include "conf/iscsid_conf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;

SysfsSession ChapSession() {
  SysfsSession session;
  session.sid = 3;
  session.target_name = "iqn.2026-12.test:disk";
  session.iface_name = "iface1";
  session.username = "user";
  session.password = "secret";
  session.username_in = "target";
  session.password_in = "secret-in";
  session.first_burst_len = 65536;
  session.max_burst_len = 262144;
  session.immediate_data = false;
  session.initial_r2t = true;
  session.recovery_tmo = 20;
  session.abort_tmo = 5;
  SysfsConnection connection;
  connection.address = "192.0.2.9";
  connection.port = 3262;
  connection.persistent_address = "192.0.2.1";
  connection.persistent_port = 3261;
  connection.max_recv_dlength = 131072;
  connection.header_digest = true;
  connection.data_digest = false;
  connection.recv_tmo = 0;
  connection.ping_tmo = 7;
  session.connection = connection;
  return session;
}

TEST(SysfsSessionSpecTest, CarriesIdentityCredentialsAndNegotiatedValues) {
  const SessionSpec spec =
      SessionSpecFromSysfs(ChapSession(), "iqn.2026-12.test:initiator");
  EXPECT_EQ(spec.login.initiator_name, "iqn.2026-12.test:initiator");
  EXPECT_EQ(spec.login.target_name, "iqn.2026-12.test:disk");
  EXPECT_TRUE(spec.login.auth.chap);
  EXPECT_EQ(spec.login.auth.username, "user");
  EXPECT_EQ(spec.login.auth.password, "secret");
  EXPECT_EQ(spec.login.auth.username_in, "target");
  EXPECT_EQ(spec.login.auth.password_in, "secret-in");
  EXPECT_THAT(spec.login.auth.algorithms,
              ElementsAre(ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256,
                          ChapAlgorithm::kSha1, ChapAlgorithm::kMd5));
  const OperationalConfig& op = spec.login.operational;
  EXPECT_EQ(op.first_burst_length, 65536u);
  EXPECT_EQ(op.max_burst_length, 262144u);
  EXPECT_FALSE(op.immediate_data);
  EXPECT_TRUE(op.initial_r2t);
  EXPECT_EQ(op.max_recv_data_segment_length, 131072u);
  EXPECT_EQ(op.header_digest, DigestPreference::kCrc32c);
  EXPECT_NE(op.data_digest, DigestPreference::kCrc32c);
  // The persistent portal, not the one the connection was redirected to.
  EXPECT_EQ(spec.portal, (Portal{"192.0.2.1", 3261}));
  EXPECT_EQ(spec.iface_name, "iface1");
  EXPECT_EQ(spec.timeouts.recovery_tmo, 20);
  EXPECT_EQ(spec.timeouts.abort_tmo, 5);
  EXPECT_EQ(spec.timeouts.noop_out_interval, 0);
  EXPECT_EQ(spec.timeouts.noop_out_timeout, 7);
  EXPECT_FALSE(spec.existing.has_value());
}

TEST(SysfsSessionSpecTest, MissingValuesGetIscsidDefaults) {
  SysfsSession session;
  session.target_name = "iqn.2026-12.test:disk";
  session.connection = SysfsConnection{};
  session.connection->address = "192.0.2.9";
  const SessionSpec spec = SessionSpecFromSysfs(session, "iqn.i");
  EXPECT_FALSE(spec.login.auth.chap);
  EXPECT_EQ(spec.portal, (Portal{"192.0.2.9", 3260}));
  EXPECT_EQ(spec.iface_name, "default");
  EXPECT_EQ(spec.timeouts.recovery_tmo, 120);
  EXPECT_EQ(spec.timeouts.abort_tmo, 15);
  EXPECT_EQ(spec.timeouts.lu_reset_tmo, 30);
  EXPECT_EQ(spec.timeouts.tgt_reset_tmo, 30);
  EXPECT_EQ(spec.timeouts.noop_out_interval, 5);
  EXPECT_EQ(spec.timeouts.noop_out_timeout, 5);
}

TEST(SysfsSessionSpecTest, FirmwareEntryMatchesTargetAndPortal) {
  std::vector<conf::FirmwareBootEntry> entries(2);
  entries[0].target.target_name = "iqn.a";
  entries[0].target.ip_address = "192.0.2.1";
  entries[0].target.port = 3260;
  entries[1].target.target_name = "iqn.b";
  entries[1].target.ip_address = "192.0.2.1";
  entries[1].target.port = 3260;
  EXPECT_EQ(FirmwareEntryFor(entries, "iqn.b", Portal{"192.0.2.1", 3260}),
            &entries[1]);
  EXPECT_EQ(FirmwareEntryFor(entries, "iqn.b", Portal{"192.0.2.1", 3261}),
            nullptr);
  EXPECT_EQ(FirmwareEntryFor(entries, "iqn.c", Portal{"192.0.2.1", 3260}),
            nullptr);
}

constexpr char kSystemInitiator[] = "iqn.2026-12.test:initiator";

// The record's file as the node database writes it.
std::string RecordText(const SysfsSession& session, conf::Record base = {}) {
  auto made = NodeRecordFromSysfs(session, kSystemInitiator, std::move(base));
  EXPECT_TRUE(made.ok()) << made.status();
  if (!made.ok()) return "";
  return conf::FormatRecordFile(made->record, conf::RecordKind::kNode);
}

TEST(NodeRecordFromSysfsTest, MutualChapSessionGolden) {
  SysfsSession session = ChapSession();
  session.tpgt = 2;
  session.initiator_name = kSystemInitiator;
  session.lu_reset_tmo = 31;
  session.tgt_reset_tmo = 32;
  auto made = NodeRecordFromSysfs(session, kSystemInitiator, conf::Record());
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->key, (conf::NodeKey{"iqn.2026-12.test:disk", "192.0.2.1",
                                      3261, 2, "iface1"}));
  // Only what sysfs says, in the order open-iscsi writes records; the
  // negotiated sizes are not in it, nor the initiator name that
  // initiatorname.iscsi gives anyway.
  EXPECT_EQ(RecordText(session),
            "# BEGIN RECORD 2.1.8\n"
            "node.name = iqn.2026-12.test:disk\n"
            "node.tpgt = 2\n"
            "node.startup = onboot\n"
            "iface.iscsi_ifacename = iface1\n"
            "node.session.auth.authmethod = CHAP\n"
            "node.session.auth.username = user\n"
            "node.session.auth.password = secret\n"
            "node.session.auth.username_in = target\n"
            "node.session.auth.password_in = secret-in\n"
            "node.session.auth.chap_algs = SHA3-256,SHA256,SHA1,MD5\n"
            "node.session.timeo.replacement_timeout = 20\n"
            "node.session.err_timeo.abort_timeout = 5\n"
            "node.session.err_timeo.lu_reset_timeout = 31\n"
            "node.session.err_timeo.tgt_reset_timeout = 32\n"
            "node.conn[0].address = 192.0.2.1\n"
            "node.conn[0].port = 3261\n"
            "node.conn[0].timeo.noop_out_interval = 0\n"
            "node.conn[0].timeo.noop_out_timeout = 7\n"
            "node.conn[0].iscsi.HeaderDigest = CRC32C\n"
            "node.conn[0].iscsi.DataDigest = None\n"
            "# END RECORD\n");
}

TEST(NodeRecordFromSysfsTest, OneWayChapAndAnotherInitiatorName) {
  SysfsSession session = ChapSession();
  session.username_in = "";
  session.password_in = "";
  session.initiator_name = "iqn.2026-12.test:initramfs";
  auto made = NodeRecordFromSysfs(session, kSystemInitiator, conf::Record());
  ASSERT_TRUE(made.ok()) << made.status();
  const conf::Record& record = made->record;
  EXPECT_EQ(record.Get("iface.initiatorname"), "iqn.2026-12.test:initramfs");
  EXPECT_EQ(record.Get("node.session.auth.username"), "user");
  EXPECT_EQ(record.Get("node.session.auth.username_in"), "");
  EXPECT_EQ(record.Get("node.session.auth.password_in"), "");
  EXPECT_EQ(made->key.tpgt, conf::kTpgtUnknown);
  EXPECT_EQ(record.Get("node.tpgt"), "-1");
}

TEST(NodeRecordFromSysfsTest, StartsFromIscsidConfAndDropsItsCredentials) {
  conf::IscsidConf conf;
  ASSERT_TRUE(conf.Set("node.startup", "automatic").ok());
  ASSERT_TRUE(conf.Set("node.session.auth.authmethod", "CHAP").ok());
  ASSERT_TRUE(conf.Set("node.session.auth.username", "conf-user").ok());
  ASSERT_TRUE(conf.Set("node.session.auth.password", "conf-secret").ok());
  ASSERT_TRUE(conf.Set("node.session.cmds_max", "64").ok());
  SysfsSession session;
  session.target_name = "iqn.2026-12.test:disk";
  session.recovery_tmo = -1;  // no timeout: the schema cannot hold it
  session.connection = SysfsConnection{};
  session.connection->address = "192.0.2.9";
  auto made =
      NodeRecordFromSysfs(session, kSystemInitiator, conf.NewNodeRecord());
  ASSERT_TRUE(made.ok()) << made.status();
  const conf::Record& record = made->record;
  EXPECT_EQ(made->key, (conf::NodeKey{"iqn.2026-12.test:disk", "192.0.2.9",
                                      3260, conf::kTpgtUnknown, "default"}));
  EXPECT_EQ(record.Get("node.startup"), "onboot");
  EXPECT_EQ(record.Get("node.session.auth.authmethod"), "None");
  EXPECT_EQ(record.Get("node.session.auth.username"), "");
  EXPECT_EQ(record.Get("node.session.auth.password"), "");
  EXPECT_EQ(record.Get("node.session.cmds_max"), "64");
  EXPECT_EQ(record.Get("node.session.timeo.replacement_timeout"), "120");
  EXPECT_EQ(record.Get("node.conn[0].timeo.noop_out_interval"), "5");
  EXPECT_EQ(record.Get("iface.initiatorname"), "");
}

TEST(NodeRecordFromSysfsTest, RefusesWhatTheSchemaCannotHold) {
  SysfsSession session = ChapSession();
  session.connection->persistent_address = "bad\naddress";
  EXPECT_FALSE(
      NodeRecordFromSysfs(session, kSystemInitiator, conf::Record()).ok());
  // A secret that the schema refuses is not repeated in the message.
  session = ChapSession();
  session.password = "line\nbreak";
  auto made = NodeRecordFromSysfs(session, kSystemInitiator, conf::Record());
  ASSERT_FALSE(made.ok());
  EXPECT_THAT(std::string(made.status().message()),
              ::testing::Not(::testing::HasSubstr("break")));
  session.connection.reset();
  EXPECT_FALSE(
      NodeRecordFromSysfs(session, kSystemInitiator, conf::Record()).ok());
}

}  // namespace
}  // namespace kiscsi
