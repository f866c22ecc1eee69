#include "conf/initiator_name.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/conf/test_util.h"

namespace kiscsi::conf {
namespace {

using ::kiscsi::conf::testing::ReadWholeFile;
using ::kiscsi::conf::testing::TempDir;
using ::kiscsi::conf::testing::WriteWholeFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(ValidateIscsiNameTest, AcceptsTheThreeForms) {
  for (const char* name : {
           "iqn.1993-08.org.debian:01:c85bc2516951",
           "iqn.2026-11.test:fmt1",
           "iqn.2001-04.com.example",
           "iqn.2001-04.com.example:storage:diskarrays-sn-a8675309",
           "iqn.2000-01.com.Synology:DiskStation.Target-1",
           "eui.02004567A425678D",
           "naa.52004567BA64678D",
           "naa.62004567BA64678D0123456789ABCDEF",
           "iqn.2001-04.com.example:caf\xc3\xa9",
           // Not RFC 3722, but open-iscsi takes it and NAS products use it.
           "iqn.2004-04.com.qnap:ts-453:iscsi.vm_store.abc123",
       }) {
    EXPECT_TRUE(ValidateIscsiName(name).ok()) << name;
  }
}

TEST(ValidateIscsiNameTest, RejectsMalformedNames) {
  for (const char* name : {
           "",
           "iqn.2001-04.com.example:a/b",
           "iqn.x:..",
           "../../etc/passwd",
           "iqn.2001-13.com.example",
           "iqn.2001-04",
           "iqn.2001-04.:x",
           "iqn.2001-04.com..example",
           "iqn.2001-04.com.example:with space",
           "eui.02004567A425678",
           "eui.02004567A425678G",
           "naa.1234",
           "target1",
           "iqn.2001-04.com.example:\xff",
       }) {
    absl::Status status = ValidateIscsiName(name);
    EXPECT_FALSE(status.ok()) << name;
    EXPECT_EQ(ExitCodeOf(status), ExitCode::kInvalid) << name;
  }
  EXPECT_EQ(ValidateIscsiName("target1").message(),
            "invalid iSCSI name 'target1': must start with iqn., eui. or naa.");
  std::string long_name = "iqn.2001-04.com.example:" + std::string(200, 'a');
  EXPECT_THAT(ValidateIscsiName(long_name).message(),
              HasSubstr("longer than 223 bytes"));
  EXPECT_TRUE(ValidateIscsiName(long_name.substr(0, 223)).ok());
}

TEST(NormalizeIscsiNameTest, LowercasesAscii) {
  EXPECT_EQ(NormalizeIscsiName("iqn.2000-01.com.Synology:DiskStation"),
            "iqn.2000-01.com.synology:diskstation");
  EXPECT_EQ(NormalizeIscsiName("EUI.02004567A425678D"), "eui.02004567a425678d");
}

TEST(InitiatorNameFileTest, ReadsNameAndAlias) {
  TempDir dir;
  std::string path = dir.path() + "/initiatorname.iscsi";
  WriteWholeFile(path,
                 "## DO NOT EDIT OR REMOVE THIS FILE!\n"
                 "# InitiatorName=iqn.2000-01.com.example:commented\n"
                 "\n"
                 "  InitiatorName = iqn.1993-08.org.debian:01:c85bc2516951  \n"
                 "InitiatorAlias=backup host\n");
  absl::StatusOr<InitiatorNameFile> file = ReadInitiatorNameFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->name, "iqn.1993-08.org.debian:01:c85bc2516951");
  EXPECT_EQ(file->alias, "backup host");
}

// A missing name says how to make one: kiscsi-iname -w, naming the file
// unless it is the one kiscsi-iname -w writes anyway.
TEST(InitiatorNameFileTest, MissingNameIsNotFoundAndSaysHowToMakeOne) {
  TempDir dir;
  std::string path = dir.path() + "/initiatorname.iscsi";
  absl::StatusOr<InitiatorNameFile> missing = ReadInitiatorNameFile(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "No initiator name set in " + path +
                ": make one with 'kiscsi-iname -w " + path + "'");
  WriteWholeFile(path, "# only comments\nInitiatorAlias=x\nInitiatorName=\n");
  absl::StatusOr<InitiatorNameFile> empty = ReadInitiatorNameFile(path);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(empty.status().message(), "No initiator name set in " + path +
                                          ": make one with 'kiscsi-iname -w " +
                                          path + "'");

  const char* saved = std::getenv("KISCSI_SYSCONFDIR");
  std::string restore = saved != nullptr ? saved : "";
  ASSERT_EQ(setenv("KISCSI_SYSCONFDIR", dir.path().c_str(), 1), 0);
  absl::StatusOr<InitiatorNameFile> in_sysconf = ReadInitiatorNameFile(path);
  if (saved != nullptr) {
    setenv("KISCSI_SYSCONFDIR", restore.c_str(), 1);
  } else {
    unsetenv("KISCSI_SYSCONFDIR");
  }
  EXPECT_EQ(
      in_sysconf.status().message(),
      "No initiator name set in " + path + ": make one with 'kiscsi-iname -w'");
}

TEST(InitiatorNameFileTest, MalformedNameNamesTheLine) {
  TempDir dir;
  std::string path = dir.path() + "/initiatorname.iscsi";
  WriteWholeFile(path, "# x\nInitiatorName=myhost\n");
  absl::StatusOr<InitiatorNameFile> file = ReadInitiatorNameFile(path);
  EXPECT_EQ(ExitCodeOf(file.status()), ExitCode::kInvalid);
  EXPECT_EQ(file.status().message(),
            path +
                ":2: invalid iSCSI name 'myhost': must start with iqn., eui. "
                "or naa.");
}

TEST(GenerateInitiatorNameTest, MakesValidDistinctNames) {
  absl::StatusOr<std::string> a = GenerateInitiatorName();
  absl::StatusOr<std::string> b = GenerateInitiatorName();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_THAT(*a, MatchesRegex("iqn\\.2004-10\\.org\\.kiscsi:01:[0-9a-f]{12}"));
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(ValidateIscsiName(*a).ok());
  absl::StatusOr<std::string> debian =
      GenerateInitiatorName("iqn.1993-08.org.debian");
  ASSERT_TRUE(debian.ok());
  EXPECT_THAT(*debian,
              MatchesRegex("iqn\\.1993-08\\.org\\.debian:01:[0-9a-f]{12}"));
  EXPECT_FALSE(GenerateInitiatorName("iqn.1993-08.org.debian:01").ok());
  EXPECT_FALSE(GenerateInitiatorName("eui.02004567A425678D").ok());
}

TEST(WriteInitiatorNameFileTest, WritesAReadableFile) {
  TempDir dir;
  std::string path = dir.path() + "/initiatorname.iscsi";
  ASSERT_TRUE(WriteInitiatorNameFile(
                  path, "iqn.2004-10.org.kiscsi:01:0123456789ab", "db1")
                  .ok());
  EXPECT_EQ(ReadWholeFile(path),
            "InitiatorName=iqn.2004-10.org.kiscsi:01:0123456789ab\n"
            "InitiatorAlias=db1\n");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  absl::StatusOr<InitiatorNameFile> file = ReadInitiatorNameFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->name, "iqn.2004-10.org.kiscsi:01:0123456789ab");
  // Replacing keeps no alias line when there is none.
  ASSERT_TRUE(
      WriteInitiatorNameFile(path, "iqn.2004-10.org.kiscsi:01:ffffffffffff")
          .ok());
  EXPECT_EQ(ReadWholeFile(path),
            "InitiatorName=iqn.2004-10.org.kiscsi:01:ffffffffffff\n");
}

TEST(WriteInitiatorNameFileTest, RefusesBadInput) {
  TempDir dir;
  std::string path = dir.path() + "/initiatorname.iscsi";
  EXPECT_EQ(ExitCodeOf(WriteInitiatorNameFile(path, "not-a-name")),
            ExitCode::kInvalid);
  EXPECT_EQ(ExitCodeOf(WriteInitiatorNameFile(
                path, "iqn.2004-10.org.kiscsi:01:0123456789ab", "two\nlines")),
            ExitCode::kInvalid);
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace kiscsi::conf
