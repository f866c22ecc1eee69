#include "conf/iscsid_conf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/conf/test_util.h"

namespace kiscsi::conf {
namespace {

using ::kiscsi::conf::testing::TempDir;
using ::kiscsi::conf::testing::TestData;
using ::kiscsi::conf::testing::WriteWholeFile;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The active lines of Debian's iscsid.conf plus the commented-out ones users
// enable.
constexpr char kDebianLikeConf[] = R"(#
# Open-iSCSI default configuration.
#
iscsid.startup = /bin/systemctl start iscsid.socket
iscsid.safe_logout = Yes

node.startup = automatic
node.leading_login = No
node.session.auth.authmethod = CHAP
node.session.auth.chap_algs = SHA3-256,SHA256,SHA1,MD5
node.session.auth.username = alice
node.session.auth.password = wonderland
discovery.sendtargets.auth.authmethod = CHAP
node.session.timeo.replacement_timeout=86400
node.conn[0].timeo.noop_out_interval =0
node.conn[0].timeo.noop_out_timeout= 0
   node.session.cmds_max   =   256
node.session.xmit_thread_priority = -20
node.session.iscsi.InitialR2T = No
node.conn[0].iscsi.HeaderDigest = CRC32C,None
node.conn[0].iscsi.DataDigest = None
node.session.scan = manual
node.session.conn_reopen_log_freq = 10
)";

// A FIFO (or any special file) where iscsid.conf should be is refused at once,
// not waited on for a writer.
TEST(IscsidConfTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string path = dir.path() + "/iscsid.conf";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto loading =
      std::async(std::launch::async, [&path] { return LoadIscsidConf(path); });
  if (loading.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // Unblock the reader so that the test can end.
    int writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) ::close(writer);
    FAIL() << "LoadIscsidConf blocked on a FIFO for 5 s";
  }
  absl::StatusOr<LoadedIscsidConf> loaded = loading.get();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(), path + ": not a regular file");
}

// An invalid secret is named by its key, never shown.
TEST(IscsidConfTest, InvalidSecretIsNeverPrinted) {
  for (const char* text :
       {"node.session.auth.password = Leaky\x01Secret77\n",
        "discovery.sendtargets.auth.password_in = Leaky\x01Secret77\n"}) {
    absl::StatusOr<LoadedIscsidConf> loaded =
        ParseIscsidConf(text, "/etc/iscsi/iscsid.conf");
    ASSERT_FALSE(loaded.ok());
    const std::string message(loaded.status().message());
    EXPECT_THAT(message, ::testing::HasSubstr("/etc/iscsi/iscsid.conf:1:"));
    EXPECT_THAT(message, ::testing::HasSubstr(".password"));
    EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("Leaky")));
    EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("Secret77")));
  }
  IscsidConf conf;
  absl::Status set =
      conf.Set("node.session.auth.password", "Leaky\x01Secret77");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.message(), ::testing::Not(::testing::HasSubstr("Secret77")));
}

TEST(IscsidConfTest, MissingFileMeansDefaults) {
  TempDir dir;
  absl::StatusOr<LoadedIscsidConf> loaded =
      LoadIscsidConf(dir.path() + "/iscsid.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->diagnostics, IsEmpty());
  const IscsidConf& conf = loaded->conf;
  EXPECT_EQ(conf.GetString("node.startup"), "manual");
  EXPECT_EQ(conf.GetInt("node.session.timeo.replacement_timeout"), 120);
  EXPECT_EQ(conf.GetInt("node.conn[0].timeo.noop_out_interval"), 5);
  EXPECT_EQ(conf.GetInt("discovery.sendtargets.iscsi.MaxRecvDataSegmentLength"),
            32768);
  EXPECT_EQ(conf.GetBool("node.session.iscsi.ImmediateData"), true);
  EXPECT_EQ(conf.GetBool("iscsid.safe_logout"), false);
  EXPECT_EQ(conf.HeaderDigest(), "None");
  EXPECT_THAT(conf.NodeChapAlgorithms(), ElementsAre("MD5"));
  EXPECT_EQ(conf.GetInt("node.session.sess_reopen_log_freq"), std::nullopt);
  EXPECT_FALSE(conf.IsSet("node.startup"));
}

TEST(IscsidConfTest, ParsesEveryValueType) {
  TempDir dir;
  std::string path = dir.path() + "/iscsid.conf";
  WriteWholeFile(path, kDebianLikeConf);
  absl::StatusOr<LoadedIscsidConf> loaded = LoadIscsidConf(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->diagnostics, IsEmpty());
  const IscsidConf& conf = loaded->conf;
  EXPECT_EQ(conf.GetString("iscsid.startup"),
            "/bin/systemctl start iscsid.socket");
  EXPECT_EQ(conf.GetBool("iscsid.safe_logout"), true);
  EXPECT_EQ(conf.GetString("node.startup"), "automatic");
  EXPECT_EQ(conf.GetString("node.session.auth.authmethod"), "CHAP");
  EXPECT_THAT(conf.NodeChapAlgorithms(),
              ElementsAre("SHA3-256", "SHA256", "SHA1", "MD5"));
  // open-iscsi applies the node list to discovery unless discovery has its own.
  EXPECT_THAT(conf.DiscoveryChapAlgorithms(),
              ElementsAre("SHA3-256", "SHA256", "SHA1", "MD5"));
  EXPECT_EQ(conf.GetString("node.session.auth.password"), "wonderland");
  EXPECT_EQ(conf.GetInt("node.session.timeo.replacement_timeout"), 86400);
  EXPECT_EQ(conf.GetInt("node.conn[0].timeo.noop_out_interval"), 0);
  EXPECT_EQ(conf.GetInt("node.conn[0].timeo.noop_out_timeout"), 0);
  EXPECT_EQ(conf.GetInt("node.session.cmds_max"), 256);
  EXPECT_EQ(conf.GetInt("node.session.xmit_thread_priority"), -20);
  EXPECT_EQ(conf.GetBool("node.session.iscsi.InitialR2T"), false);
  EXPECT_EQ(conf.HeaderDigest(), "CRC32C,None");
  EXPECT_EQ(conf.DataDigest(), "None");
  EXPECT_EQ(conf.GetString("node.session.scan"), "manual");
  // The old spelling lands on the new key.
  EXPECT_EQ(conf.GetInt("node.session.sess_reopen_log_freq"), 10);
  EXPECT_TRUE(conf.IsSet("node.session.conn_reopen_log_freq"));
  // Keys that are not integers have no integer view.
  EXPECT_EQ(conf.GetInt("node.startup"), std::nullopt);
}

TEST(IscsidConfTest, ReopenBackoffCapIsOursWithBounds) {
  IscsidConf conf;
  EXPECT_EQ(conf.GetInt("kiscsid.reopen_backoff_max_ms"), 500);
  EXPECT_TRUE(conf.Set("kiscsid.reopen_backoff_max_ms", "250").ok());
  EXPECT_EQ(conf.GetInt("kiscsid.reopen_backoff_max_ms"), 250);
  EXPECT_FALSE(conf.Set("kiscsid.reopen_backoff_max_ms", "5").ok());
  EXPECT_FALSE(conf.Set("kiscsid.reopen_backoff_max_ms", "fast").ok());
  EXPECT_EQ(conf.GetInt("kiscsid.reopen_backoff_max_ms"), 250);
}

TEST(IscsidConfTest, DiscoveryChapAlgorithmsOfTheirOwn) {
  absl::StatusOr<LoadedIscsidConf> loaded = ParseIscsidConf(
      "node.session.auth.chap_algs = SHA256\n"
      "discovery.sendtargets.auth.chap_algs = MD5\n",
      "c");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->conf.NodeChapAlgorithms(), ElementsAre("SHA256"));
  EXPECT_THAT(loaded->conf.DiscoveryChapAlgorithms(), ElementsAre("MD5"));
  EXPECT_EQ(loaded->conf.NewDiscoveryRecord("10.0.0.1", 3260)
                .Get("node.session.auth.chap_algs"),
            "MD5");
}

TEST(IscsidConfTest, TypoIsAWarningWithASuggestion) {
  absl::StatusOr<LoadedIscsidConf> loaded = ParseIscsidConf(
      "# comment\n\nnode.sesion.timeo.replacement_timeout = 5\n"
      "completely.unrelated = 1\n",
      "/etc/iscsi/iscsid.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->diagnostics.size(), 2u);
  EXPECT_EQ(loaded->diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(loaded->diagnostics[0].message,
            "/etc/iscsi/iscsid.conf:3: unknown key "
            "'node.sesion.timeo.replacement_timeout' (did you mean "
            "'node.session.timeo.replacement_timeout'?)");
  EXPECT_EQ(loaded->diagnostics[1].message,
            "/etc/iscsi/iscsid.conf:4: unknown key 'completely.unrelated'");
  // The misspelled setting did not take effect.
  EXPECT_EQ(loaded->conf.GetInt("node.session.timeo.replacement_timeout"), 120);
}

TEST(IscsidConfTest, InvalidValueFailsTheLoadWithFileAndLine) {
  TempDir dir;
  std::string path = dir.path() + "/iscsid.conf";
  WriteWholeFile(path, "node.startup = manual\nnode.session.cmds_max = abc\n");
  absl::StatusOr<LoadedIscsidConf> loaded = LoadIscsidConf(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExitCodeOf(loaded.status()), ExitCode::kInvalid);
  EXPECT_EQ(loaded.status().message(),
            path +
                ":2: invalid value 'abc' for node.session.cmds_max: expected "
                "an integer from 1 to 4096");
}

TEST(IscsidConfTest, EveryBadLineIsReported) {
  absl::StatusOr<LoadedIscsidConf> loaded = ParseIscsidConf(
      "node.startup = sometimes\n" + std::string(3000, 'x') +
          "\nnode.session.scan = auto\nnode.conn[0].iscsi.DataDigest = MD5\n",
      "conf");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(
      loaded.status().message(),
      "conf:1: invalid value 'sometimes' for node.startup: expected one of "
      "manual, automatic, onboot\n"
      "conf:2: line is longer than 2047 characters\n"
      "conf:4: invalid value 'MD5' for node.conn[0].iscsi.DataDigest: "
      "expected one of None, CRC32C, CRC32C,None, None,CRC32C");
}

TEST(IscsidConfTest, SetValidates) {
  IscsidConf conf;
  EXPECT_TRUE(conf.Set("node.session.queue_depth", "64").ok());
  EXPECT_EQ(conf.GetInt("node.session.queue_depth"), 64);
  absl::Status unknown = conf.Set("node.session.queue_dept", "64");
  EXPECT_EQ(ExitCodeOf(unknown), ExitCode::kInvalid);
  EXPECT_EQ(unknown.message(),
            "unknown key 'node.session.queue_dept' (did you mean "
            "'node.session.queue_depth'?)");
  EXPECT_EQ(ExitCodeOf(conf.Set("node.session.queue_depth", "-1")),
            ExitCode::kInvalid);
  EXPECT_EQ(conf.GetInt("node.session.queue_depth"), 64);
}

TEST(IscsidConfTest, NewRecordsCarryTheSettings) {
  absl::StatusOr<LoadedIscsidConf> loaded =
      ParseIscsidConf(kDebianLikeConf, "c");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Record node = loaded->conf.NewNodeRecord();
  EXPECT_EQ(node.Get("node.startup"), "automatic");
  EXPECT_EQ(node.Get("node.session.timeo.replacement_timeout"), "86400");
  EXPECT_EQ(node.Get("node.session.auth.username"), "alice");
  EXPECT_FALSE(node.Has("iscsid.startup"));
  EXPECT_FALSE(node.Has("discovery.sendtargets.auth.authmethod"));
  Record discovery = loaded->conf.NewDiscoveryRecord("127.0.0.1", 3260);
  EXPECT_EQ(discovery.Get("discovery.sendtargets.auth.authmethod"), "CHAP");
}

TEST(IscsidConfTest, DefaultDiscoveryRecordIsOpenIscsis) {
  IscsidConf conf;
  EXPECT_EQ(FormatRecordFile(conf.NewDiscoveryRecord("127.0.0.1", 3260),
                             RecordKind::kDiscovery),
            TestData("st_config_2.1.8"));
}

}  // namespace
}  // namespace kiscsi::conf
