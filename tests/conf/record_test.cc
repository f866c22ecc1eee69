#include "conf/record.h"

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/conf/test_util.h"

namespace kiscsi::conf {
namespace {

using ::kiscsi::conf::testing::TestData;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Normalize(std::string_view key, std::string_view value) {
  const KeySpec* spec = FindKeySpec(RecordKind::kIscsidConf, key);
  EXPECT_NE(spec, nullptr) << key;
  if (spec == nullptr) return "";
  absl::StatusOr<std::string> normalized = NormalizeValue(*spec, value);
  if (!normalized.ok())
    return "ERROR: " + std::string(normalized.status().message());
  return *normalized;
}

TEST(NormalizeValueTest, IntegersAreRangeChecked) {
  EXPECT_EQ(Normalize("node.session.cmds_max", " 64 "), "64");
  EXPECT_EQ(Normalize("node.session.cmds_max", "abc"),
            "ERROR: invalid value 'abc' for node.session.cmds_max: expected an "
            "integer from 1 to 4096");
  EXPECT_EQ(Normalize("node.session.cmds_max", "0"),
            "ERROR: invalid value '0' for node.session.cmds_max: expected an "
            "integer from 1 to 4096");
  EXPECT_EQ(Normalize("node.session.xmit_thread_priority", "-20"), "-20");
  EXPECT_EQ(Normalize("node.session.timeo.replacement_timeout", "86400"),
            "86400");
  EXPECT_THAT(Normalize("node.conn[0].port", "99999999999999999999"),
              StartsWith("ERROR: "));
}

TEST(NormalizeValueTest, BoolsAndEnumsTakeTheCanonicalSpelling) {
  EXPECT_EQ(Normalize("node.session.iscsi.InitialR2T", "yes"), "Yes");
  EXPECT_EQ(Normalize("node.leading_login", "NO"), "No");
  EXPECT_EQ(
      Normalize("node.leading_login", "true"),
      "ERROR: invalid value 'true' for node.leading_login: expected Yes or No");
  EXPECT_EQ(Normalize("node.startup", "Automatic"), "automatic");
  EXPECT_EQ(
      Normalize("node.startup", "boot"),
      "ERROR: invalid value 'boot' for node.startup: expected one of manual, "
      "automatic, onboot");
  EXPECT_EQ(Normalize("node.session.auth.authmethod", "chap"), "CHAP");
  EXPECT_EQ(Normalize("node.session.scan", "manual"), "manual");
  EXPECT_EQ(Normalize("node.conn[0].iscsi.HeaderDigest", "crc32c, none"),
            "CRC32C,None");
  EXPECT_EQ(Normalize("node.conn[0].iscsi.DataDigest", "None,CRC32C"),
            "None,CRC32C");
  EXPECT_THAT(Normalize("node.conn[0].iscsi.DataDigest", "CRC32"),
              StartsWith("ERROR: invalid value 'CRC32'"));
}

TEST(NormalizeValueTest, ChapAlgorithmLists) {
  EXPECT_EQ(Normalize("node.session.auth.chap_algs", "sha3-256, SHA256,MD5"),
            "SHA3-256,SHA256,MD5");
  EXPECT_EQ(
      Normalize("node.session.auth.chap_algs", "MD5,SHA512"),
      "ERROR: invalid value 'MD5,SHA512' for node.session.auth.chap_algs: "
      "expected a comma-separated list of MD5, SHA1, SHA256, SHA3-256");
  EXPECT_THAT(Normalize("node.session.auth.chap_algs", ""),
              StartsWith("ERROR: "));
  EXPECT_THAT(Normalize("node.session.auth.chap_algs", "MD5,,SHA1"),
              StartsWith("ERROR: "));
}

TEST(NormalizeValueTest, StringsRejectControlCharacters) {
  EXPECT_EQ(Normalize("node.session.auth.username", " alice "), "alice");
  EXPECT_EQ(
      Normalize("node.session.auth.username", std::string("a\0b", 3)),
      "ERROR: invalid value 'a\\x00\\x62' for node.session.auth.username: "
      "expected text without control characters");
}

TEST(SchemaTest, KnowsTheKeysOfEachKind) {
  ASSERT_NE(FindKeySpec(RecordKind::kNode, "node.session.auth.password"),
            nullptr);
  EXPECT_TRUE(
      FindKeySpec(RecordKind::kNode, "node.session.auth.password")->secret);
  EXPECT_TRUE(FindKeySpec(RecordKind::kDiscovery,
                          "discovery.sendtargets.auth.password_in")
                  ->secret);
  EXPECT_FALSE(
      FindKeySpec(RecordKind::kNode, "node.session.auth.username")->secret);
  EXPECT_EQ(FindKeySpec(RecordKind::kNode, "iscsid.startup"), nullptr);
  EXPECT_NE(FindKeySpec(RecordKind::kIscsidConf, "iscsid.startup"), nullptr);
  EXPECT_NE(
      FindKeySpec(RecordKind::kIscsidConf, "discovery.sendtargets.reopen_max"),
      nullptr);
  EXPECT_NE(FindKeySpec(RecordKind::kIface, "iface.transport_name"), nullptr);
  EXPECT_EQ(FindKeySpec(RecordKind::kIface, "node.name"), nullptr);
  EXPECT_EQ(IfaceRecordKeys().front().name, "iface.iscsi_ifacename");
  EXPECT_EQ(IfaceRecordKeys().back().name, "iface.discovery_logout");
}

TEST(SchemaTest, BothReopenLogFrequencySpellingsAreAccepted) {
  const KeySpec* old_spelling =
      FindKeySpec(RecordKind::kIscsidConf, "node.session.conn_reopen_log_freq");
  const KeySpec* new_spelling =
      FindKeySpec(RecordKind::kIscsidConf, "node.session.sess_reopen_log_freq");
  ASSERT_NE(old_spelling, nullptr);
  EXPECT_EQ(old_spelling, new_spelling);
  EXPECT_EQ(CanonicalKeyName("node.session.conn_reopen_log_freq"),
            "node.session.sess_reopen_log_freq");
}

TEST(SchemaTest, SuggestsTheNearestKey) {
  EXPECT_EQ(NearestKey(RecordKind::kIscsidConf,
                       "node.sesion.timeo.replacement_timeout"),
            "node.session.timeo.replacement_timeout");
  EXPECT_EQ(NearestKey(RecordKind::kNode, "node.session.iscsi.initialr2t"),
            "node.session.iscsi.InitialR2T");
  EXPECT_EQ(
      UnknownKeyMessage(RecordKind::kNode, "node.conn[0].timeo.login_timout"),
      "unknown key 'node.conn[0].timeo.login_timout' (did you mean "
      "'node.conn[0].timeo.login_timeout'?)");
  EXPECT_EQ(UnknownKeyMessage(RecordKind::kNode, "frobnicate"),
            "unknown key 'frobnicate'");
}

TEST(RecordTest, KeepsInsertionOrderAndTypedViews) {
  Record record;
  record.Set("b", "1");
  record.Set("a", "Yes");
  record.Set("c", "MD5, SHA1");
  record.Set("b", "2");
  ASSERT_EQ(record.entries().size(), 3u);
  EXPECT_EQ(record.entries()[0].first, "b");
  EXPECT_EQ(record.GetInt("b"), 2);
  EXPECT_EQ(record.GetBool("a"), true);
  EXPECT_EQ(record.GetBool("b"), std::nullopt);
  EXPECT_EQ(record.GetInt("missing"), std::nullopt);
  EXPECT_THAT(record.GetList("c"), ElementsAre("MD5", "SHA1"));
  EXPECT_TRUE(record.Erase("b"));
  EXPECT_FALSE(record.Has("b"));
  EXPECT_EQ(record.Get("a"), "Yes");
  EXPECT_EQ(record.entries()[0].first, "a");
}

TEST(RecordTextTest, OpenIscsiNodeRecordRoundTripsByteForByte) {
  std::string text = TestData("node_record_2.1.8");
  absl::StatusOr<ParsedRecord> parsed =
      ParseRecordText(text, "default", RecordKind::kNode);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->diagnostics.empty());
  EXPECT_EQ(parsed->record.Get("node.name"), "iqn.2026-11.test:fmt2");
  EXPECT_EQ(parsed->record.GetInt("node.conn[0].port"), 3260);
  // Keys left out of the file are empty.
  EXPECT_TRUE(parsed->record.Has("node.session.auth.username"));
  EXPECT_EQ(parsed->record.Get("node.session.auth.username"), "");
  EXPECT_EQ(FormatRecordFile(parsed->record, RecordKind::kNode), text);
}

TEST(RecordTextTest, OpenIscsiDiscoveryRecordRoundTripsByteForByte) {
  std::string text = TestData("st_config_2.1.8");
  absl::StatusOr<ParsedRecord> parsed =
      ParseRecordText(text, "st_config", RecordKind::kDiscovery);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(FormatRecordFile(parsed->record, RecordKind::kDiscovery), text);
}

TEST(RecordTextTest, ShowMatchesIscsiadmOutput) {
  absl::StatusOr<ParsedRecord> parsed = ParseRecordText(
      TestData("node_record_2.1.8"), "default", RecordKind::kNode);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  parsed->record.Set("node.name", "iqn.2026-11.test:fmt1");
  std::string shown =
      FormatRecordShow(parsed->record, RecordKind::kNode, false);
  // The transcript holds the first 80 lines of `iscsiadm -m node -o show`.
  EXPECT_THAT(shown, StartsWith(TestData("show_head_2.1.8")));
  EXPECT_THAT(shown,
              HasSubstr("\nnode.conn[0].iscsi.OFMarker = No\n# END RECORD\n"));
}

TEST(RecordTextTest, ShowMasksSecretsUnlessAsked) {
  Record record = DefaultRecord(RecordKind::kNode);
  record.Set("node.session.auth.password", "s3cret");
  std::string masked = FormatRecordShow(record, RecordKind::kNode, false);
  EXPECT_THAT(masked, HasSubstr("\nnode.session.auth.password = ********\n"));
  EXPECT_THAT(masked, HasSubstr("\nnode.session.auth.password_in = <empty>\n"));
  EXPECT_FALSE(absl::StrContains(masked, "s3cret"));
  EXPECT_THAT(FormatRecordShow(record, RecordKind::kNode, true),
              HasSubstr("\nnode.session.auth.password = s3cret\n"));
  // Files hold the secret itself (they are mode 0600).
  EXPECT_THAT(FormatRecordFile(record, RecordKind::kNode),
              HasSubstr("\nnode.session.auth.password = s3cret\n"));
}

TEST(RecordTextTest, UnknownKeysWarnAndSurviveARewrite) {
  absl::StatusOr<ParsedRecord> parsed = ParseRecordText(
      "# BEGIN RECORD 2.1.8\nnode.name = iqn.2001-04.com.example:a\n"
      "node.future_key = 7\n# END RECORD\n",
      "rec", RecordKind::kNode);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->diagnostics.size(), 1u);
  EXPECT_EQ(parsed->diagnostics[0].severity, Diagnostic::Severity::kWarning);
  EXPECT_EQ(parsed->diagnostics[0].message,
            "rec:3: unknown key 'node.future_key'");
  EXPECT_THAT(
      FormatRecordFile(parsed->record, RecordKind::kNode),
      HasSubstr("node.conn[0].iscsi.OFMarker = No\nnode.future_key = 7\n"
                "# END RECORD\n"));
}

TEST(RecordTextTest, KiscsiDiskKeysInNodeRecordsNeedNoWarning) {
  std::string text = TestData("node_record_2.1.8");
  const std::string end = "# END RECORD\n";
  ASSERT_TRUE(absl::EndsWith(text, end));
  std::string with_keys = text.substr(0, text.size() - end.size()) +
                          "kiscsi.disk.timeout = 90\n"
                          "kiscsi.disk.scheduler = mq-deadline\n" +
                          end;
  absl::StatusOr<ParsedRecord> parsed =
      ParseRecordText(with_keys, "rec", RecordKind::kNode);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->diagnostics.empty());
  EXPECT_EQ(parsed->record.GetInt("kiscsi.disk.timeout"), 90);
  EXPECT_EQ(FormatRecordFile(parsed->record, RecordKind::kNode), with_keys);
  EXPECT_THAT(FormatRecordShow(parsed->record, RecordKind::kNode, false),
              HasSubstr("\nkiscsi.disk.timeout = 90\n"
                        "kiscsi.disk.scheduler = mq-deadline\n# END"));
  // A record that does not set them shows and writes as open-iscsi's.
  EXPECT_FALSE(
      absl::StrContains(FormatRecordShow(DefaultRecord(RecordKind::kNode),
                                         RecordKind::kNode, false),
                        "kiscsi"));
  EXPECT_FALSE(absl::StrContains(
      FormatRecordFile(DefaultRecord(RecordKind::kNode), RecordKind::kNode),
      "kiscsi"));
}

TEST(RecordTextTest, KiscsiDiskKeysInNodeRecordsAreChecked) {
  absl::StatusOr<ParsedRecord> parsed =
      ParseRecordText("kiscsi.disk.timout = 9\nkiscsi.disk.timeout = -1\n",
                      "rec", RecordKind::kNode);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->diagnostics.size(), 2u);
  EXPECT_EQ(parsed->diagnostics[0].message,
            "rec:1: unknown key 'kiscsi.disk.timout' (did you mean "
            "'kiscsi.disk.timeout'?)");
  // An invalid value is dropped rather than making the node unusable.
  EXPECT_EQ(parsed->diagnostics[1].message,
            "rec:2: invalid value '-1' for kiscsi.disk.timeout: expected an "
            "integer from 0 to 3600 (ignored)");
  EXPECT_FALSE(parsed->record.Has("kiscsi.disk.timeout"));
}

TEST(RecordTextTest, ErrorsNameFileAndLine) {
  absl::StatusOr<ParsedRecord> parsed = ParseRecordText(
      "node.name = iqn.2001-04.com.example:a\nthis line is wrong\n"
      "node.session.cmds_max = many\n = 5\n",
      "/x/rec", RecordKind::kNode);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExitCodeOf(parsed.status()), ExitCode::kInvalid);
  EXPECT_EQ(
      parsed.status().message(),
      "/x/rec:2: expected 'key = value', got 'this line is wrong'\n"
      "/x/rec:3: invalid value 'many' for node.session.cmds_max: expected an "
      "integer from 1 to 4096\n"
      "/x/rec:4: missing key before '='");
}

TEST(RecordTextTest, LongLinesAreRejected) {
  std::string ok_line =
      "node.session.auth.username = " + std::string(kMaxLineLength - 29, 'u');
  ASSERT_EQ(ok_line.size(), kMaxLineLength);
  EXPECT_TRUE(ParseRecordText(ok_line + "\n", "f", RecordKind::kNode).ok());
  absl::StatusOr<ParsedRecord> parsed =
      ParseRecordText("# ok\n" + ok_line + "u\n", "f", RecordKind::kNode);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "f:2: line is longer than 2047 characters");
}

}  // namespace
}  // namespace kiscsi::conf
