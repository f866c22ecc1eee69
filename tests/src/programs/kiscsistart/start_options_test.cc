#include "src/programs/kiscsistart/start_options.h"

#include <string>
#include <vector>

#include "conf/iscsid_conf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<StartOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kiscsistart");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseStartOptions(static_cast<int>(args.size()), argv.data());
}

TEST(StartOptionsTest, TheArchWikiLine) {
  auto o = Parse({"-i", "iqn.2026-11.com.example:host1", "-t",
                  "iqn.2026-11.com.example:root", "-g", "1", "-a", "192.0.2.10",
                  "-d", "1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->tpgt, 1);
  EXPECT_EQ(o->port, 3260);
  auto record = BuildBootRecord(*o, conf::IscsidConf().NewNodeRecord());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.name"), "iqn.2026-11.com.example:root");
  EXPECT_EQ(record->Get("node.conn[0].address"), "192.0.2.10");
  EXPECT_EQ(record->Get("iface.initiatorname"),
            "iqn.2026-11.com.example:host1");
  // Boot defaults: no NOP pings that could declare a busy root disk dead.
  EXPECT_EQ(record->Get("node.conn[0].timeo.noop_out_interval"), "0");
  EXPECT_EQ(record->Get("node.conn[0].timeo.noop_out_timeout"), "0");
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "None");
}

TEST(StartOptionsTest, ChapAndSettings) {
  auto o = Parse({"-i", "iqn.2026-11.com.example:h",
                  "-t", "iqn.2026-11.com.example:r",
                  "-g", "2",
                  "-a", "fd00::1",
                  "-p", "3261",
                  "-u", "u",
                  "-w", "p",
                  "-U", "tu",
                  "-W", "tp",
                  "-P", "node.session.timeo.replacement_timeout=86400",
                  "-P", "node.conn[0].iscsi.MaxXmitDataSegmentLength=26144"});
  ASSERT_TRUE(o.ok()) << o.status();
  auto record = BuildBootRecord(*o, conf::IscsidConf().NewNodeRecord());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "CHAP");
  EXPECT_EQ(record->Get("node.session.auth.password_in"), "tp");
  EXPECT_EQ(record->Get("node.session.timeo.replacement_timeout"), "86400");
  EXPECT_EQ(record->Get("node.conn[0].iscsi.MaxXmitDataSegmentLength"),
            "26144");
  EXPECT_EQ(record->Get("node.conn[0].port"), "3261");
}

TEST(StartOptionsTest, BadSettingsNameTheProblem) {
  std::vector<std::string> base = {"-i", "iqn.2026-11.com.example:h",
                                   "-t", "iqn.2026-11.com.example:r",
                                   "-g", "1",
                                   "-a", "192.0.2.1"};
  auto typo = base;
  typo.insert(typo.end(), {"-P", "node.session.timeo.replacment_timeout=5"});
  auto o = Parse(typo);
  ASSERT_TRUE(o.ok());
  auto record = BuildBootRecord(*o, conf::IscsidConf().NewNodeRecord());
  EXPECT_EQ(ExitCodeOf(record.status()), ExitCode::kInvalid);
  EXPECT_THAT(std::string(record.status().message()),
              HasSubstr("node.session.timeo.replacement_timeout"));

  auto no_equals = base;
  no_equals.insert(no_equals.end(), {"-P", "node.startup"});
  EXPECT_EQ(ExitCodeOf(Parse(no_equals).status()), ExitCode::kInvalid);

  EXPECT_THAT(std::string(Parse({"-t", "iqn.x:y"}).status().message()),
              HasSubstr("-i INITIATORNAME"));
  auto half_chap = base;
  half_chap.insert(half_chap.end(), {"-u", "user"});
  EXPECT_EQ(ExitCodeOf(Parse(half_chap).status()), ExitCode::kInvalid);
  auto bad_port = base;
  bad_port.insert(bad_port.end(), {"-p", "70000"});
  EXPECT_EQ(ExitCodeOf(Parse(bad_port).status()), ExitCode::kInvalid);
}

}  // namespace
}  // namespace kiscsi
