// kiscsiadm against a real tgtd on 127.0.0.1: what a user types and what they
// see.

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/host/subprocess.h"
#include "tests/host/tgtd.h"

namespace kiscsi::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInitiator[] = "iqn.2026-11.org.kiscsi:host-test";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class KiscsiadmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kiscsi-host-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    work_ = pattern;
    etc_ = work_ + "/etc";
    ASSERT_EQ(mkdir(etc_.c_str(), 0755), 0);
    std::ofstream(etc_ + "/initiatorname.iscsi")
        << "InitiatorName=" << kInitiator << "\n";
    tgtd_ = std::make_unique<Tgtd>(work_ + "/tgtd");
    ASSERT_TRUE(tgtd_->running());
  }

  void TearDown() override {
    tgtd_.reset();
    std::filesystem::remove_all(work_);
  }

  ProcessResult Adm(std::vector<std::string> args) {
    args.insert(args.begin(), KISCSIADM_PATH);
    // A run dir of its own: no daemon listens there.
    return RunProcess(
        args, {"KISCSI_SYSCONFDIR=" + etc_, "KISCSI_RUNDIR=" + work_ + "/run"});
  }

  std::string Portal() const { return tgtd_->portal(); }
  std::string Port() const { return std::to_string(tgtd_->port()); }
  std::string NodePath(const std::string& target) const {
    return etc_ + "/nodes/" + target + "/127.0.0.1," + Port() + ",1/default";
  }

  // Discovers, then sets `key` to `value` in the node record of `target`.
  void Update(const std::string& target, const std::string& key,
              const std::string& value) {
    ProcessResult r = Adm({"-m", "node", "-T", target, "-p", Portal(), "-o",
                           "update", "-n", key, "-v", value});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void UseChap(const std::string& target, const std::string& user,
               const std::string& password) {
    Update(target, "node.session.auth.authmethod", "CHAP");
    Update(target, "node.session.auth.username", user);
    Update(target, "node.session.auth.password", password);
  }

  std::string work_;
  std::string etc_;
  std::unique_ptr<Tgtd> tgtd_;
};

TEST_F(KiscsiadmTest, DiscoveryPrintsIscsiadmLinesAndWritesRecords) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  tgtd_->AddTarget(2, "iqn.2026-11.test:fmt2");
  tgtd_->AddTarget(3, "iqn.2026-11.test:fmt3");

  ProcessResult r = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:fmt1\n" +
                       "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:fmt2\n" +
                       "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:fmt3\n");
  EXPECT_EQ(r.err, "");

  // The files open-iscsi 2.1.8 writes, with the same content.
  std::string expected_record = absl::StrReplaceAll(
      ReadFile(TESTDATA_DIR "/open-iscsi-2.1.8-node-record"),
      {{"@PORT@", Port()}});
  EXPECT_EQ(ReadFile(NodePath("iqn.2026-11.test:fmt2")), expected_record);
  struct stat st;
  ASSERT_EQ(stat(NodePath("iqn.2026-11.test:fmt2").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string discovery_dir = etc_ + "/send_targets/127.0.0.1," + Port();
  EXPECT_EQ(
      ReadFile(discovery_dir + "/st_config"),
      absl::StrReplaceAll(ReadFile(TESTDATA_DIR "/open-iscsi-2.1.8-st_config"),
                          {{"@PORT@", Port()}}));
  for (const char* t : {"fmt1", "fmt2", "fmt3"}) {
    std::string link = discovery_dir + "/iqn.2026-11.test:" + t +
                       ",127.0.0.1," + Port() + ",1,default";
    EXPECT_TRUE(std::filesystem::is_symlink(link)) << link;
    EXPECT_TRUE(std::filesystem::exists(link)) << "dangling " << link;
  }
}

TEST_F(KiscsiadmTest, NodeListingAndTree) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  tgtd_->AddTarget(2, "iqn.2026-11.test:fmt2");
  ASSERT_EQ(
      Adm({"-m", "discovery", "-t", "sendtargets", "-p", Portal()}).exit_code,
      0);

  ProcessResult list = Adm({"-m", "node"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out, "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:fmt1\n" +
                          "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:fmt2\n");
  ProcessResult tree = Adm({"-m", "node", "-P", "1"});
  EXPECT_EQ(tree.exit_code, 0);
  EXPECT_EQ(tree.out,
            "Target: iqn.2026-11.test:fmt1\n\tPortal: 127.0.0.1:" + Port() +
                ",1\n\t\tIface Name: default\n" +
                "Target: iqn.2026-11.test:fmt2\n\tPortal: 127.0.0.1:" + Port() +
                ",1\n\t\tIface Name: default\n");
}

TEST_F(KiscsiadmTest, RediscoveryDropsTargetsThePortalNoLongerReports) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:stay");
  tgtd_->AddTarget(2, "iqn.2026-11.test:go");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  Update("iqn.2026-11.test:stay", "node.startup", "automatic");
  ASSERT_EQ(tgtd_->Admin({"--op", "delete", "--mode", "target", "--tid", "2"}),
            0);

  ProcessResult r = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:stay\n");
  EXPECT_FALSE(std::filesystem::exists(etc_ + "/nodes/iqn.2026-11.test:go"));
  // The record that stayed keeps the user's edit.
  EXPECT_THAT(ReadFile(NodePath("iqn.2026-11.test:stay")),
              HasSubstr("node.startup = automatic\n"));
}

TEST_F(KiscsiadmTest, DiscoveryChap) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  // An account bound to no target guards tgtd's discovery sessions.
  ASSERT_EQ(tgtd_->Admin({"--op", "new", "--mode", "account", "--user", "disc",
                          "--password", "discovery-secret-1"}),
            0);
  ASSERT_EQ(
      tgtd_->Admin({"--op", "bind", "--mode", "account", "--user", "disc"}), 0);

  ProcessResult without = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  EXPECT_EQ(without.exit_code, 24) << without.err;
  EXPECT_THAT(without.err, HasSubstr("discovery.sendtargets.auth.username"));

  ProcessResult created =
      Adm({"-m", "discoverydb", "-t", "st", "-p", Portal(), "-o", "new"});
  ASSERT_EQ(created.exit_code, 0) << created.err;

  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"discovery.sendtargets.auth.authmethod", "CHAP"},
           {"discovery.sendtargets.auth.username", "disc"},
           {"discovery.sendtargets.auth.password", "discovery-secret-1"}}) {
    ProcessResult u = Adm({"-m", "discoverydb", "-t", "st", "-p", Portal(),
                           "-o", "update", "-n", key, "-v", value});
    ASSERT_EQ(u.exit_code, 0) << u.err;
  }
  ProcessResult with = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  EXPECT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(with.out, "127.0.0.1:" + Port() + ",1 iqn.2026-11.test:fmt1\n");

  // The secret is stored for the next run but never printed without -S.
  ProcessResult show =
      Adm({"-m", "discoverydb", "-t", "st", "-p", Portal(), "-o", "show"});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_THAT(show.out,
              HasSubstr("discovery.sendtargets.auth.password = ********\n"));
  EXPECT_THAT(show.out, Not(HasSubstr("discovery-secret-1")));
}

TEST_F(KiscsiadmTest, ProbeWithoutAuthPrintsNegotiatedParams) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:open");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult r = Adm(
      {"-m", "node", "-T", "iqn.2026-11.test:open", "-p", Portal(), "--probe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string tag =
      "[iface: default, target: iqn.2026-11.test:open, portal: 127.0.0.1," +
      Port() + "]";
  EXPECT_THAT(r.out, HasSubstr("Login to " + tag + " successful (probe"));
  EXPECT_THAT(r.out, HasSubstr("\tAuthentication: None\n"));
  EXPECT_THAT(r.out, HasSubstr("\tMaxRecvDataSegmentLength: 262144\n"));
  EXPECT_THAT(r.out, HasSubstr("\tHeaderDigest: None\n"));
  EXPECT_THAT(r.out, HasSubstr("Logout of " + tag + " successful (probe"));
}

TEST_F(KiscsiadmTest, ProbeWithChapMd5) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:chap");
  tgtd_->AddAccount(1, "user1", "initiator-secret-1");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  UseChap("iqn.2026-11.test:chap", "user1", "initiator-secret-1");
  ProcessResult r = Adm(
      {"-m", "node", "-T", "iqn.2026-11.test:chap", "-p", Portal(), "--probe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\tAuthentication: CHAP (MD5)\n"));
}

TEST_F(KiscsiadmTest, ProbeWithMutualChap) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:mutual");
  tgtd_->AddAccount(1, "user1", "initiator-secret-1");
  tgtd_->AddAccount(1, "target1", "target-secret-22", /*outgoing=*/true);
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  const std::string t = "iqn.2026-11.test:mutual";
  UseChap(t, "user1", "initiator-secret-1");
  Update(t, "node.session.auth.username_in", "target1");
  Update(t, "node.session.auth.password_in", "target-secret-22");
  ProcessResult r = Adm({"-m", "node", "-T", t, "-p", Portal(), "--probe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(
      r.out,
      HasSubstr(
          "\tAuthentication: CHAP (MD5), target authenticated (mutual)\n"));

  // The target proves itself with a secret we do not expect: refuse it.
  Update(t, "node.session.auth.password_in", "not-the-target-secret");
  ProcessResult bad = Adm({"-m", "node", "-T", t, "-p", Portal(), "--probe"});
  EXPECT_EQ(bad.exit_code, 24) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("username_in/password_in"));
  EXPECT_THAT(bad.err, Not(HasSubstr("not-the-target-secret")));
}

TEST_F(KiscsiadmTest, WrongPasswordExits24AndNeverPrintsTheSecret) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:chap");
  tgtd_->AddAccount(1, "user1", "initiator-secret-1");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  UseChap("iqn.2026-11.test:chap", "user1", "wrong-secret-value");
  ProcessResult r = Adm(
      {"-m", "node", "-T", "iqn.2026-11.test:chap", "-p", Portal(), "--probe"});
  EXPECT_EQ(r.exit_code, 24);
  EXPECT_THAT(r.err, HasSubstr("node.session.auth.username"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("wrong-secret-value")));
}

TEST_F(KiscsiadmTest, UnknownTargetIsANonRetryableLoginFailure) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:real");
  ProcessResult created = Adm({"-m", "node", "-T", "iqn.2026-11.test:ghost",
                               "-p", Portal(), "-o", "new"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(
      created.out,
      "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 127.0.0.1," +
          Port() + ",-1 iqn.2026-11.test:ghost] added\n");
  ProcessResult r = Adm({"-m", "node", "-T", "iqn.2026-11.test:ghost", "-p",
                         Portal(), "--probe"});
  EXPECT_EQ(r.exit_code, 19) << r.err;
  EXPECT_THAT(r.err, HasSubstr("iqn.2026-11.test:ghost"));
  EXPECT_THAT(r.err, HasSubstr("target name is unknown at this portal"));
}

// iscsiadm's unknown portal group tag: a record made without one lists as the
// unsigned number iscsiadm prints, and -p IP:PORT,-1 (the ArchWiki's
// discovery line, or a line kiscsiadm printed pasted back) is accepted.
TEST_F(KiscsiadmTest, UnknownTpgtListsAsIscsiadmAndMinusOneIsAccepted) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:tagless");
  ASSERT_EQ(Adm({"-m", "node", "-T", "iqn.2026-11.test:tagless", "-p", Portal(),
                 "-o", "new"})
                .exit_code,
            0);
  ProcessResult list = Adm({"-m", "node"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out,
            "127.0.0.1:" + Port() + ",4294967295 iqn.2026-11.test:tagless\n");
  ProcessResult show = Adm({"-m", "node", "-T", "iqn.2026-11.test:tagless",
                            "-p", "127.0.0.1:" + Port() + ",-1", "-o", "show"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("node.name = iqn.2026-11.test:tagless"));
  ProcessResult discovery =
      Adm({"-m", "discovery", "-t", "sendtargets", "-p", Portal() + ",-1"});
  EXPECT_EQ(discovery.exit_code, 0) << discovery.err;
  EXPECT_THAT(discovery.out, HasSubstr(",1 iqn.2026-11.test:tagless"));
}

// One -o update with several -n/-v pairs (how volume-attach libraries set up
// CHAP) applies them all, in order.
TEST_F(KiscsiadmTest, UpdateWithSeveralPairsAppliesThemAll) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:pairs");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult update = Adm({"-m", "node",
                              "-T", "iqn.2026-11.test:pairs",
                              "-p", Portal(),
                              "-o", "update",
                              "-n", "node.session.auth.authmethod",
                              "-v", "CHAP",
                              "-n", "node.session.auth.username",
                              "-v", "user1",
                              "-n", "node.session.auth.password",
                              "-v", "secret-pairs-1"});
  ASSERT_EQ(update.exit_code, 0) << update.err;
  ProcessResult show = Adm({"-m", "node", "-T", "iqn.2026-11.test:pairs", "-p",
                            Portal(), "-o", "show", "-S"});
  EXPECT_THAT(show.out, HasSubstr("node.session.auth.authmethod = CHAP\n"));
  EXPECT_THAT(show.out, HasSubstr("node.session.auth.username = user1\n"));
  EXPECT_THAT(show.out,
              HasSubstr("node.session.auth.password = secret-pairs-1\n"));
}

// Installed under open-iscsi's name, every line says "iscsiadm: ": error
// lines, warnings and the per-node login failures alike.
TEST_F(KiscsiadmTest, RunAsIscsiadmEveryLineSaysIscsiadm) {
  const std::string link = work_ + "/iscsiadm";
  ASSERT_EQ(symlink(KISCSIADM_PATH, link.c_str()), 0);
  std::ofstream(etc_ + "/iscsid.conf") << "node.sesion.cmds_max = 64\n";
  tgtd_->AddTarget(1, "iqn.2026-11.test:named");
  const std::vector<std::string> env = {"KISCSI_SYSCONFDIR=" + etc_,
                                        "KISCSI_RUNDIR=" + work_ + "/run"};
  ProcessResult discovery =
      RunProcess({link, "-m", "discovery", "-t", "st", "-p", Portal()}, env);
  EXPECT_EQ(discovery.exit_code, 0) << discovery.err;
  EXPECT_THAT(discovery.err, HasSubstr("iscsiadm: warning: "));
  ProcessResult login = RunProcess(
      {link, "-m", "node", "-T", "iqn.2026-11.test:named", "-l"}, env);
  EXPECT_EQ(login.exit_code, 20);
  EXPECT_THAT(login.err, HasSubstr("iscsiadm: Could not login to "));
  EXPECT_THAT(login.err, HasSubstr("iscsiadm: initiator reported error (20 - "
                                   "could not connect to iscsid)\n"));
  EXPECT_THAT(login.err, ::testing::EndsWith(
                             "iscsiadm: Could not log into all portals\n"));
  ProcessResult none =
      RunProcess({link, "-m", "node", "-T", "iqn.x:none"}, env);
  EXPECT_EQ(none.err, "iscsiadm: No records found\n");
  EXPECT_THAT(discovery.err + login.err + none.err,
              Not(HasSubstr("kiscsiadm")));
}

// Volume-attach programs run iscsiadm for several volumes at once: three
// processes updating one record lose nothing (the database lock, shared with
// open-iscsi, serialises the read-modify-write of each update).
TEST_F(KiscsiadmTest, ConcurrentUpdatesOfOneRecordLoseNothing) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:busy");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  constexpr int kRounds = 40;
  const char* keys[] = {"node.session.cmds_max", "node.session.queue_depth",
                        "node.session.timeo.replacement_timeout"};
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (const char* key : keys) {
    writers.emplace_back([&, key] {
      for (int i = 1; i <= kRounds; ++i) {
        ProcessResult r =
            Adm({"-m", "node", "-T", "iqn.2026-11.test:busy", "-p", Portal(),
                 "-o", "update", "-n", key, "-v", std::to_string(100 + i)});
        if (r.exit_code != 0) ++failures;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(failures, 0);
  const std::string record = ReadFile(NodePath("iqn.2026-11.test:busy"));
  for (const char* key : keys) {
    EXPECT_THAT(record, HasSubstr(std::string(key) + " = " +
                                  std::to_string(100 + kRounds) + "\n"))
        << key;
  }
}

// os-brick reads a portal's targets from `-m discoverydb -o show -P 1` (no
// portal): iscsiadm's tree, and exit 21 with no message when it is empty.
TEST_F(KiscsiadmTest, DiscoverydbShowWithoutPortalPrintsTheTree) {
  const std::string empty =
      "SENDTARGETS:\nNo targets found.\niSNS:\nNo targets found.\n"
      "STATIC:\nNo targets found.\nFIRMWARE:\nNo targets found.\n";
  ProcessResult none = Adm({"-m", "discoverydb", "-o", "show", "-P", "1"});
  EXPECT_EQ(none.exit_code, 21);  // as iscsiadm 2.1.8: no message
  EXPECT_EQ(none.err, "");
  EXPECT_EQ(none.out, empty);
  tgtd_->AddTarget(1, "iqn.2026-11.test:tree");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ASSERT_EQ(Adm({"-m", "node", "-T", "iqn.2026-11.test:static", "-p",
                 "127.0.0.1:3999,2", "-o", "new"})
                .exit_code,
            0);
  ProcessResult tree = Adm({"-m", "discoverydb", "-o", "show", "-P", "1"});
  EXPECT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_EQ(tree.out, "SENDTARGETS:\nDiscoveryAddress: 127.0.0.1," + Port() +
                          "\nTarget: iqn.2026-11.test:tree\n\tPortal: "
                          "127.0.0.1:" +
                          Port() +
                          ",1\n\t\tIface Name: default\niSNS:\nNo targets "
                          "found.\nSTATIC:\nTarget: iqn.2026-11.test:static\n"
                          "\tPortal: 127.0.0.1:3999,2\n\t\tIface Name: "
                          "default\nFIRMWARE:\nNo targets found.\n");
}

// `-m discoverydb -t st -p P -o delete` deletes the record and what it found,
// as iscsiadm does (it used to print the record and delete nothing).
TEST_F(KiscsiadmTest, DiscoverydbDeleteRemovesTheRecordAndItsNodes) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:gone");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult r =
      Adm({"-m", "discoverydb", "-t", "st", "-p", Portal(), "-o", "delete"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(etc_ + "/send_targets/127.0.0.1," +
                                       Port() + "/st_config"));
  EXPECT_FALSE(std::filesystem::exists(NodePath("iqn.2026-11.test:gone")));
  EXPECT_EQ(Adm({"-m", "node"}).exit_code, 21);
  ProcessResult again =
      Adm({"-m", "discoverydb", "-t", "st", "-p", Portal(), "-o", "delete"});
  EXPECT_EQ(again.exit_code, 6);
  EXPECT_EQ(again.err, "kiscsiadm: Discovery record [127.0.0.1," + Port() +
                           "] not found.\n");
}

// -m iface -o new/update/delete do what they say (they used to write nothing
// and exit 0); the built-in ifaces cannot be changed or deleted.
TEST_F(KiscsiadmTest, IfaceNewUpdateDelete) {
  ProcessResult created = Adm({"-m", "iface", "-I", "myif", "-o", "new"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "myif updated.\nNew interface myif added\n");
  // Again: iscsiadm says the same and exits 0.
  ProcessResult again = Adm({"-m", "iface", "-I", "myif", "-o", "new"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, created.out);
  ProcessResult updated = Adm({"-m", "iface", "-I", "myif", "-o", "update",
                               "-n", "iface.net_ifacename", "-v", "eth0", "-n",
                               "iface.hwaddress", "-v", "52:54:00:12:34:56"});
  EXPECT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(updated.out, "myif updated.\n");
  const std::string file = ReadFile(etc_ + "/ifaces/myif");
  EXPECT_THAT(file, HasSubstr("iface.net_ifacename = eth0\n"));
  EXPECT_THAT(file, HasSubstr("iface.hwaddress = 52:54:00:12:34:56\n"));
  ProcessResult list = Adm({"-m", "iface"});
  EXPECT_THAT(list.out, HasSubstr("myif tcp,52:54:00:12:34:56,<empty>,eth0,"));
  ProcessResult builtin = Adm({"-m", "iface", "-I", "default", "-o", "delete"});
  EXPECT_EQ(builtin.exit_code, 7);
  EXPECT_THAT(builtin.err, HasSubstr("special interface"));
  ProcessResult deleted = Adm({"-m", "iface", "-I", "myif", "-o", "delete"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "myif unbound and deleted.\n");
  EXPECT_FALSE(std::filesystem::exists(etc_ + "/ifaces/myif"));
  EXPECT_EQ(Adm({"-m", "iface", "-I", "myif"}).exit_code, 6);
  ProcessResult missing = Adm({"-m", "iface", "-I", "myif", "-o", "delete"});
  EXPECT_EQ(missing.exit_code, 7);
  EXPECT_EQ(missing.err,
            "kiscsiadm: Could not read iface info for myif.\n"
            "kiscsiadm: Could not delete iface myif: invalid parameter\n");
}

// Discovery without -I binds the records to the ifaces of the ifaces folder
// when there are any, as iscsiadm does.
TEST_F(KiscsiadmTest, DiscoveryBindsToTheIfacesThereAre) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:bound");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ASSERT_EQ(Adm({"-m", "iface", "-I", "nic1", "-o", "new"}).exit_code, 0);
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult tree = Adm({"-m", "node", "-P", "1"});
  EXPECT_EQ(tree.out, "Target: iqn.2026-11.test:bound\n\tPortal: 127.0.0.1:" +
                          Port() + ",1\n\t\tIface Name: nic1\n");
}

TEST_F(KiscsiadmTest, ConnectionRefusedExits4) {
  // Nothing listens on tgtd's port once it is gone.
  std::string portal = Portal();
  tgtd_.reset();
  ProcessResult r = Adm({"-m", "discovery", "-t", "st", "-p", portal});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("Connection refused"));
}

TEST_F(KiscsiadmTest, NoRecordsExits21) {
  ProcessResult r = Adm({"-m", "node"});
  EXPECT_EQ(r.exit_code, 21);
  EXPECT_EQ(r.err, "kiscsiadm: No records found\n");
  ProcessResult t =
      Adm({"-m", "node", "-T", "iqn.2026-11.test:none", "-p", "127.0.0.1"});
  EXPECT_EQ(t.exit_code, 21);
}

TEST_F(KiscsiadmTest, LoginWithoutDaemonSaysSoPerNode) {
  // No record: the records' own answer comes first, as with iscsiadm.
  ProcessResult none = Adm(
      {"-m", "node", "-T", "iqn.2026-11.test:none", "-p", "127.0.0.1", "-l"});
  EXPECT_EQ(none.exit_code, 21);
  EXPECT_EQ(none.err, "kiscsiadm: No records found\n");
  tgtd_->AddTarget(1, "iqn.2026-11.test:nod");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult r = Adm({"-m", "node", "-T", "iqn.2026-11.test:nod", "-l"});
  EXPECT_EQ(r.exit_code, 20) << r.err;
  const std::string tag =
      "[iface: default, target: iqn.2026-11.test:nod, "
      "portal: 127.0.0.1," +
      Port() + "]";
  EXPECT_EQ(r.out, "Logging in to " + tag + "\n");
  EXPECT_THAT(r.err, HasSubstr("kiscsiadm: Could not login to " + tag +
                               ".\nkiscsiadm: initiator reported error (20 - "
                               "could not connect to iscsid)\n"));
  EXPECT_THAT(r.err, HasSubstr("could not connect to kiscsid"));
  EXPECT_THAT(r.err, ::testing::EndsWith(
                         "kiscsiadm: Could not log into all portals\n"));
}

TEST_F(KiscsiadmTest, UpdateWithMisspelledKeySuggestsTheRightOne) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult r = Adm({"-m", "node", "-T", "iqn.2026-11.test:fmt1", "-p",
                         Portal(), "-o", "update", "-n",
                         "node.session.timeo.replacment_timeout", "-v", "30"});
  EXPECT_EQ(r.exit_code, 7);
  // iscsiadm's lines first, then the suggestion.
  EXPECT_THAT(r.err, ::testing::StartsWith(
                         "kiscsiadm: Cannot modify "
                         "node.session.timeo.replacment_timeout. Invalid param "
                         "name.\nkiscsiadm:   unknown key"));
  EXPECT_THAT(r.err, HasSubstr("node.session.timeo.replacement_timeout"));
  EXPECT_THAT(r.err, ::testing::EndsWith(
                         "kiscsiadm: Could not execute operation on all "
                         "records: invalid parameter\n"));
  ProcessResult bad =
      Adm({"-m", "node", "-T", "iqn.2026-11.test:fmt1", "-p", Portal(), "-o",
           "update", "-n", "node.session.cmds_max", "-v", "lots"});
  EXPECT_EQ(bad.exit_code, 7);
  EXPECT_THAT(bad.err, HasSubstr("lots"));
}

TEST_F(KiscsiadmTest, ShowHidesSecretsUnlessAsked) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  UseChap("iqn.2026-11.test:fmt1", "user1", "shown-only-with-S");
  ProcessResult hidden =
      Adm({"-m", "node", "-T", "iqn.2026-11.test:fmt1", "-p", Portal()});
  EXPECT_EQ(hidden.exit_code, 0);
  EXPECT_THAT(hidden.out, HasSubstr("node.session.auth.password = ********\n"));
  EXPECT_THAT(hidden.out,
              HasSubstr("node.session.auth.username_in = <empty>\n"));
  ProcessResult shown =
      Adm({"-m", "node", "-T", "iqn.2026-11.test:fmt1", "-p", Portal(), "-S"});
  EXPECT_THAT(shown.out,
              HasSubstr("node.session.auth.password = shown-only-with-S\n"));
}

TEST_F(KiscsiadmTest, DeleteRemovesRecordAndDiscoveryLink) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult r = Adm({"-m", "node", "-T", "iqn.2026-11.test:fmt1", "-p",
                         Portal(), "-o", "delete"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Adm({"-m", "node"}).exit_code, 21);
  EXPECT_FALSE(std::filesystem::exists(
      etc_ + "/send_targets/127.0.0.1," + Port() +
      "/iqn.2026-11.test:fmt1,127.0.0.1," + Port() + ",1,default"));
}

TEST_F(KiscsiadmTest, IscsidConfTypoWarnsAndInvalidValueStops) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  const std::string conf = etc_ + "/iscsid.conf";
  std::ofstream(conf) << "# site settings\n"
                      << "node.startup = automatic\n"
                      << "node.sesion.timeo.replacement_timeout = 30\n";
  ProcessResult typo = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  EXPECT_EQ(typo.exit_code, 0) << typo.err;
  EXPECT_THAT(typo.err, HasSubstr(conf + ":3: unknown key"));
  EXPECT_THAT(typo.err, HasSubstr("node.session.timeo.replacement_timeout"));
  // The valid line was applied to the new record.
  EXPECT_THAT(ReadFile(NodePath("iqn.2026-11.test:fmt1")),
              HasSubstr("node.startup = automatic\n"));

  std::ofstream(conf) << "node.session.cmds_max = many\n";
  ProcessResult invalid = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  EXPECT_EQ(invalid.exit_code, 7);
  EXPECT_THAT(invalid.err, HasSubstr(conf + ":1: invalid value 'many'"));
  EXPECT_EQ(invalid.out, "");
}

// tgtd cuts an answer longer than its text buffer into Text Responses with F=0
// and C=0, splitting a key=value pair across two of them (RFC 7143 lets a pair
// span the PDUs of one text exchange). 1000 targets with long names make an
// answer of about 110 KiB.
TEST_F(KiscsiadmTest, DiscoveryOfAThousandTargetsFromTgtd) {
  constexpr int kTargets = 1000;
  const auto name = [](int i) {
    return "iqn.2026-11.test:a-long-target-name-that-fills-the-answer-" +
           std::to_string(10000 + i);
  };
  for (int i = 1; i <= kTargets; ++i) {
    const std::string tid = std::to_string(i);
    ASSERT_EQ(tgtd_->Admin({"--op", "new", "--mode", "target", "--tid", tid,
                            "-T", name(i)}),
              0);
    ASSERT_EQ(tgtd_->Admin({"--op", "bind", "--mode", "target", "--tid", tid,
                            "-I", "ALL"}),
              0);
  }
  ProcessResult r = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  std::string expected;
  for (int i = 1; i <= kTargets; ++i) {
    expected += "127.0.0.1:" + Port() + ",1 " + name(i) + "\n";
  }
  EXPECT_EQ(r.out, expected);
  EXPECT_TRUE(std::filesystem::exists(NodePath(name(1))));
  EXPECT_TRUE(std::filesystem::exists(NodePath(name(kTargets))));
}

// An invalid secret is refused without being shown, from -o update and from
// iscsid.conf alike.
TEST_F(KiscsiadmTest, InvalidSecretIsNeverPrinted) {
  tgtd_->AddTarget(1, "iqn.2026-11.test:fmt1");
  ASSERT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", Portal()}).exit_code, 0);
  ProcessResult update =
      Adm({"-m", "node", "-T", "iqn.2026-11.test:fmt1", "-p", Portal(), "-o",
           "update", "-n", "node.session.auth.password", "-v",
           "Leaky\x01Secret77"});
  EXPECT_NE(update.exit_code, 0);
  EXPECT_THAT(update.err, HasSubstr("node.session.auth.password"));
  EXPECT_THAT(update.err + update.out, Not(HasSubstr("Secret77")));

  std::ofstream(etc_ + "/iscsid.conf")
      << "node.session.auth.password_in = Leaky\x01Secret77\n";
  ProcessResult conf = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  EXPECT_EQ(conf.exit_code, 7);
  EXPECT_THAT(conf.err, HasSubstr("iscsid.conf:1:"));
  EXPECT_THAT(conf.err + conf.out, Not(HasSubstr("Secret77")));
}

// A FIFO where iscsid.conf should be is refused at once.
TEST_F(KiscsiadmTest, FifoAsIscsidConfIsRefusedAtOnce) {
  const std::string conf = etc_ + "/iscsid.conf";
  ASSERT_EQ(mkfifo(conf.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = RunProcess(
      {"timeout", "10", KISCSIADM_PATH, "-m", "discovery", "-t", "st", "-p",
       Portal()},
      {"KISCSI_SYSCONFDIR=" + etc_, "KISCSI_RUNDIR=" + work_ + "/run"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(r.exit_code, 124) << "kiscsiadm hung on the FIFO";
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr(conf + ": not a regular file"));
}

// A portal whose answer is refused (a target name that is no iSCSI name)
// leaves no discovery record behind when this discovery made it; one that
// does not answer keeps it, as iscsiadm's does.
TEST_F(KiscsiadmTest, RefusedAnswerLeavesNoNewDiscoveryRecord) {
  tgtd_->AddTarget(1, "not-an-iscsi-name");
  ProcessResult r = Adm({"-m", "discovery", "-t", "st", "-p", Portal()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not-an-iscsi-name"));
  EXPECT_FALSE(std::filesystem::exists(etc_ + "/send_targets/127.0.0.1," +
                                       Port() + "/st_config"));
  EXPECT_FALSE(std::filesystem::exists(etc_ + "/nodes"));

  const std::string closed = "127.0.0.1:" + std::to_string(PickFreePort());
  EXPECT_EQ(Adm({"-m", "discovery", "-t", "st", "-p", closed}).exit_code, 4);
  EXPECT_TRUE(std::filesystem::exists(
      etc_ + "/send_targets/" + absl::StrReplaceAll(closed, {{":", ","}}) +
      "/st_config"));
}

}  // namespace
}  // namespace kiscsi::testing
