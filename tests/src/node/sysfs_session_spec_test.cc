// What a session found in sysfs, without a node record, logs in with again
// when the daemon recovers it.
#include "src/node/sysfs_session_spec.h"

#include <vector>

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

}  // namespace
}  // namespace kiscsi
