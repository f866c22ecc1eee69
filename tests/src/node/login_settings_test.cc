#include "src/node/login_settings.h"

#include "conf/iscsid_conf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

conf::Record DefaultNode(const std::string& target) {
  conf::Record record = conf::IscsidConf().NewNodeRecord();
  record.Set("node.name", target);
  return record;
}

const Identity kIdentity{"iqn.2026-11.org.kiscsi:unit", "unit-alias"};

TEST(LoginSettingsTest, DefaultsFollowIscsidConf) {
  auto config = LoginConfigFromNode(DefaultNode("iqn.2026-11.t:a"), kIdentity);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target_name, "iqn.2026-11.t:a");
  EXPECT_EQ(config->initiator_name, "iqn.2026-11.org.kiscsi:unit");
  EXPECT_EQ(config->initiator_alias, "unit-alias");
  EXPECT_EQ(config->session_type, SessionType::kNormal);
  EXPECT_FALSE(config->auth.chap);
  const OperationalConfig& op = config->operational;
  EXPECT_EQ(op.header_digest, DigestPreference::kNone);
  EXPECT_EQ(op.max_recv_data_segment_length, 262144u);
  EXPECT_EQ(op.first_burst_length, 262144u);
  EXPECT_EQ(op.max_burst_length, 16776192u);
  EXPECT_FALSE(op.initial_r2t);
  EXPECT_TRUE(op.immediate_data);
  EXPECT_EQ(NodeLoginTimeout(DefaultNode("iqn.2026-11.t:a")),
            absl::Seconds(15));
}

TEST(LoginSettingsTest, ChapAndDigestsFromTheRecord) {
  conf::Record node = DefaultNode("iqn.2026-11.t:a");
  node.Set("node.session.auth.authmethod", "CHAP");
  node.Set("node.session.auth.username", "u");
  node.Set("node.session.auth.password", "p");
  node.Set("node.session.auth.username_in", "t");
  node.Set("node.session.auth.password_in", "q");
  node.Set("node.session.auth.chap_algs", "SHA3-256,SHA256,MD5");
  node.Set("node.conn[0].iscsi.HeaderDigest", "CRC32C,None");
  node.Set("node.conn[0].iscsi.DataDigest", "CRC32C");
  node.Set("iface.initiatorname", "iqn.2026-11.org.kiscsi:per-iface");
  auto config = LoginConfigFromNode(node, kIdentity);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->auth.chap);
  EXPECT_EQ(config->auth.username_in, "t");
  EXPECT_THAT(config->auth.algorithms,
              ElementsAre(ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256,
                          ChapAlgorithm::kMd5));
  EXPECT_EQ(config->operational.header_digest, DigestPreference::kCrc32cOrNone);
  EXPECT_EQ(config->operational.data_digest, DigestPreference::kCrc32c);
  EXPECT_EQ(config->initiator_name, "iqn.2026-11.org.kiscsi:per-iface");
}

TEST(LoginSettingsTest, UnusableAuthIsAnInvalidParameter) {
  conf::Record node = DefaultNode("iqn.2026-11.t:a");
  node.Set("node.session.auth.authmethod", "CHAP");
  auto no_user = LoginConfigFromNode(node, kIdentity);
  EXPECT_EQ(ExitCodeOf(no_user.status()), ExitCode::kInvalid);
  EXPECT_THAT(std::string(no_user.status().message()),
              HasSubstr("username is empty"));

  node.Set("node.session.auth.username", "u");
  node.Set("node.session.auth.username_in", "t");
  auto half_mutual = LoginConfigFromNode(node, kIdentity);
  EXPECT_EQ(ExitCodeOf(half_mutual.status()), ExitCode::kInvalid);

  conf::Record algs = DefaultNode("iqn.2026-11.t:a");
  algs.Set("node.session.auth.chap_algs", "MD4");
  auto bad_alg = LoginConfigFromNode(algs, kIdentity);
  EXPECT_THAT(std::string(bad_alg.status().message()), HasSubstr("MD4"));
}

TEST(LoginSettingsTest, DiscoveryRecord) {
  conf::IscsidConf conf;
  conf::Record record = conf.NewDiscoveryRecord("192.0.2.1", 3260);
  record.Set("discovery.sendtargets.auth.authmethod", "CHAP");
  record.Set("discovery.sendtargets.auth.username", "d");
  record.Set("discovery.sendtargets.auth.password", "s");
  auto options = DiscoveryOptionsFromRecord(record, kIdentity);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->auth.chap);
  EXPECT_EQ(options->auth.username, "d");
  EXPECT_EQ(options->max_recv_data_segment_length, 32768u);
  EXPECT_EQ(options->login_timeout, absl::Seconds(15));
  EXPECT_EQ(options->active_timeout, absl::Seconds(30));
}

TEST(LoginSettingsTest, RandomIsidHasTheRandomType) {
  auto a = RandomIsid();
  auto b = RandomIsid();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0] & 0xc0, 0x80);
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace kiscsi
