#include "conf/node_db.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/conf/test_util.h"

namespace kiscsi::conf {
namespace {

using ::kiscsi::conf::testing::ReadWholeFile;
using ::kiscsi::conf::testing::TempDir;
using ::kiscsi::conf::testing::TestData;
using ::kiscsi::conf::testing::WriteWholeFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kFmt1[] = "iqn.2026-11.test:fmt1";
constexpr char kFmt2[] = "iqn.2026-11.test:fmt2";
const DiscoveryPortal kPortal{"127.0.0.1", 3260};

NodeKey Key(const std::string& target, const std::string& address = "127.0.0.1",
            int port = 3260, int tpgt = 1,
            const std::string& iface = "default") {
  NodeKey key;
  key.target_name = target;
  key.address = address;
  key.port = port;
  key.tpgt = tpgt;
  key.iface = iface;
  return key;
}

DiscoveredTarget Found(const std::string& target,
                       const std::string& address = "127.0.0.1", int tpgt = 1) {
  DiscoveredTarget found;
  found.target_name = target;
  found.address = address;
  found.port = 3260;
  found.tpgt = tpgt;
  return found;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Every path under `root` (relative), sorted; shows whether anything escaped or
// lingered.
std::vector<std::string> Tree(const std::string& root) {
  std::vector<std::string> paths;
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    std::string rel = pending.back();
    pending.pop_back();
    std::string dir = rel.empty() ? root : root + "/" + rel;
    for (const std::string& name : [&dir] {
           std::vector<std::string> names;
           if (DIR* d = ::opendir(dir.c_str())) {
             while (struct dirent* e = ::readdir(d)) {
               std::string n = e->d_name;
               if (n != "." && n != "..") names.push_back(n);
             }
             ::closedir(d);
           }
           return names;
         }()) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      paths.push_back(child);
      struct stat st;
      if (::lstat((root + "/" + child).c_str(), &st) == 0 &&
          S_ISDIR(st.st_mode)) {
        pending.push_back(child);
      }
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

class NodeDbTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& rel) const {
    return dir_.path() + "/" + rel;
  }

  TempDir dir_;
  NodeDb db_{dir_.path()};
  IscsidConf conf_;
};

TEST_F(NodeDbTest, DiscoveryWritesWhatOpenIscsiWrites) {
  std::vector<DiscoveredTarget> found = {Found(kFmt2), Found(kFmt1)};
  absl::StatusOr<DiscoveryChanges> changes =
      db_.ApplyDiscoveryResult(kPortal, found, conf_);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_THAT(changes->added, ElementsAre(Key(kFmt1), Key(kFmt2)));
  EXPECT_THAT(changes->kept, IsEmpty());
  EXPECT_THAT(changes->removed, IsEmpty());

  // The transcript's `=== files` listing, plus the directories.
  EXPECT_THAT(
      Tree(dir_.path()),
      ElementsAre("nodes", "nodes/iqn.2026-11.test:fmt1",
                  "nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1",
                  "nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1/default",
                  "nodes/iqn.2026-11.test:fmt2",
                  "nodes/iqn.2026-11.test:fmt2/127.0.0.1,3260,1",
                  "nodes/iqn.2026-11.test:fmt2/127.0.0.1,3260,1/default",
                  "send_targets", "send_targets/127.0.0.1,3260",
                  "send_targets/127.0.0.1,3260/"
                  "iqn.2026-11.test:fmt1,127.0.0.1,3260,1,default",
                  "send_targets/127.0.0.1,3260/"
                  "iqn.2026-11.test:fmt2,127.0.0.1,3260,1,default",
                  "send_targets/127.0.0.1,3260/st_config"));

  std::string record =
      Path("nodes/iqn.2026-11.test:fmt2/127.0.0.1,3260,1/default");
  EXPECT_EQ(ReadWholeFile(record), TestData("node_record_2.1.8"));
  EXPECT_EQ(ReadWholeFile(Path("send_targets/127.0.0.1,3260/st_config")),
            TestData("st_config_2.1.8"));
  EXPECT_EQ(ModeOf(record), 0600u);
  EXPECT_EQ(ModeOf(Path("send_targets/127.0.0.1,3260/st_config")), 0600u);
  EXPECT_EQ(ModeOf(Path("nodes/iqn.2026-11.test:fmt2")), 0700u);

  std::string link = Path(
      "send_targets/127.0.0.1,3260/"
      "iqn.2026-11.test:fmt2,127.0.0.1,3260,1,default");
  char target[4096];
  ssize_t length = ::readlink(link.c_str(), target, sizeof(target));
  ASSERT_GT(length, 0);
  EXPECT_EQ(std::string(target, static_cast<size_t>(length)),
            "../../nodes/iqn.2026-11.test:fmt2/127.0.0.1,3260,1");
  // The link resolves to the portal directory holding the record.
  EXPECT_EQ(ReadWholeFile(link + "/default"), TestData("node_record_2.1.8"));
}

TEST_F(NodeDbTest, RediscoveryKeepsAndRemoves) {
  std::vector<DiscoveredTarget> both = {Found(kFmt1), Found(kFmt2)};
  ASSERT_TRUE(db_.ApplyDiscoveryResult(kPortal, both, conf_).ok());
  ASSERT_TRUE(db_.UpdateNode(Key(kFmt1), "node.startup", "automatic").ok());

  std::vector<DiscoveredTarget> now = {Found(kFmt1),
                                       Found("iqn.2026-11.test:fmt3")};
  absl::StatusOr<DiscoveryChanges> changes =
      db_.ApplyDiscoveryResult(kPortal, now, conf_);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_THAT(changes->added, ElementsAre(Key("iqn.2026-11.test:fmt3")));
  EXPECT_THAT(changes->kept, ElementsAre(Key(kFmt1)));
  EXPECT_THAT(changes->removed, ElementsAre(Key(kFmt2)));

  // The kept record was not rewritten.
  absl::StatusOr<Record> fmt1 = db_.ReadNode(Key(kFmt1));
  ASSERT_TRUE(fmt1.ok()) << fmt1.status();
  EXPECT_EQ(fmt1->Get("node.startup"), "automatic");
  // The removed one left nothing behind.
  EXPECT_FALSE(Exists(Path("nodes/iqn.2026-11.test:fmt2")));
  EXPECT_FALSE(
      Exists(Path("send_targets/127.0.0.1,3260/"
                  "iqn.2026-11.test:fmt2,127.0.0.1,3260,1,default")));
  absl::StatusOr<std::vector<NodeKey>> nodes = db_.ListNodes();
  ASSERT_TRUE(nodes.ok());
  EXPECT_THAT(*nodes, ElementsAre(Key(kFmt1), Key("iqn.2026-11.test:fmt3")));
}

TEST_F(NodeDbTest, RediscoveryLeavesOtherPortalsAndStaticRecordsAlone) {
  std::vector<DiscoveredTarget> one = {Found(kFmt1)};
  ASSERT_TRUE(db_.ApplyDiscoveryResult(kPortal, one, conf_).ok());
  DiscoveryPortal other{"10.0.0.2", 3260};
  std::vector<DiscoveredTarget> there = {Found(kFmt2, "10.0.0.2")};
  ASSERT_TRUE(db_.ApplyDiscoveryResult(other, there, conf_).ok());
  Record manual = conf_.NewNodeRecord();
  ASSERT_TRUE(db_.WriteNode(Key("iqn.2026-11.test:static"), manual).ok());

  absl::StatusOr<DiscoveryChanges> changes =
      db_.ApplyDiscoveryResult(kPortal, {}, conf_);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_THAT(changes->removed, ElementsAre(Key(kFmt1)));
  absl::StatusOr<std::vector<NodeKey>> nodes = db_.ListNodes();
  ASSERT_TRUE(nodes.ok());
  EXPECT_THAT(*nodes, ElementsAre(Key(kFmt2, "10.0.0.2"),
                                  Key("iqn.2026-11.test:static")));
  absl::StatusOr<std::vector<DiscoveryPortal>> portals =
      db_.ListDiscoveryPortals();
  ASSERT_TRUE(portals.ok());
  EXPECT_EQ(portals->size(), 2u);
  EXPECT_EQ((*portals)[0].address, "10.0.0.2");
}

TEST_F(NodeDbTest, ReadsRecordsOpenIscsiWrote) {
  std::string portal_dir = Path("nodes/iqn.2026-11.test:fmt2/127.0.0.1,3260,1");
  ASSERT_EQ(::mkdir(Path("nodes").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(Path("nodes/iqn.2026-11.test:fmt2").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(portal_dir.c_str(), 0700), 0);
  WriteWholeFile(portal_dir + "/default", TestData("node_record_2.1.8"));
  // open-iscsi's links are absolute.
  ASSERT_EQ(::mkdir(Path("send_targets").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(Path("send_targets/127.0.0.1,3260").c_str(), 0700), 0);
  WriteWholeFile(Path("send_targets/127.0.0.1,3260/st_config"),
                 TestData("st_config_2.1.8"));
  std::string link = Path(
      "send_targets/127.0.0.1,3260/"
      "iqn.2026-11.test:fmt2,127.0.0.1,3260,1,default");
  ASSERT_EQ(::symlink(portal_dir.c_str(), link.c_str()), 0);

  absl::StatusOr<std::vector<NodeKey>> nodes = db_.ListNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_THAT(*nodes, ElementsAre(Key(kFmt2)));
  absl::StatusOr<Record> record = db_.ReadNode(Key(kFmt2));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("node.discovery_type"), "send_targets");
  EXPECT_EQ(record->GetInt("node.session.queue_depth"), 32);
  absl::StatusOr<Record> discovery = db_.ReadDiscoveryRecord(kPortal);
  ASSERT_TRUE(discovery.ok()) << discovery.status();
  EXPECT_EQ(discovery->GetInt("discovery.sendtargets.reopen_max"), 5);
  absl::StatusOr<std::vector<NodeKey>> links = db_.ListDiscoveryLinks(kPortal);
  ASSERT_TRUE(links.ok());
  EXPECT_THAT(*links, ElementsAre(Key(kFmt2)));

  ASSERT_TRUE(db_.DeleteNode(Key(kFmt2)).ok());
  EXPECT_FALSE(Exists(link));
  EXPECT_THAT(
      Tree(dir_.path()),
      ElementsAre("nodes", "send_targets", "send_targets/127.0.0.1,3260",
                  "send_targets/127.0.0.1,3260/st_config"));
}

TEST_F(NodeDbTest, ReadsTheOldSingleFileLayout) {
  ASSERT_EQ(::mkdir(Path("nodes").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(Path("nodes/iqn.2026-11.test:fmt2").c_str(), 0700), 0);
  std::string legacy = Path("nodes/iqn.2026-11.test:fmt2/127.0.0.1,3260,1");
  WriteWholeFile(legacy, TestData("node_record_2.1.8"));

  absl::StatusOr<std::vector<NodeKey>> nodes = db_.ListNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_THAT(*nodes, ElementsAre(Key(kFmt2)));
  ASSERT_TRUE(db_.UpdateNode(Key(kFmt2), "node.startup", "onboot").ok());
  EXPECT_THAT(ReadWholeFile(legacy), HasSubstr("\nnode.startup = onboot\n"));

  // A second iface at that portal moves the old file into the directory layout.
  Record iser_record = conf_.NewNodeRecord();
  ASSERT_TRUE(
      db_.WriteNode(Key(kFmt2, "127.0.0.1", 3260, 1, "iser"), iser_record)
          .ok());
  EXPECT_THAT(ReadWholeFile(legacy + "/default"),
              HasSubstr("\nnode.startup = onboot\n"));
  nodes = db_.ListNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_THAT(*nodes, ElementsAre(Key(kFmt2),
                                  Key(kFmt2, "127.0.0.1", 3260, 1, "iser")));

  ASSERT_TRUE(db_.DeleteNode(Key(kFmt2)).ok());
  ASSERT_TRUE(db_.DeleteNode(Key(kFmt2, "127.0.0.1", 3260, 1, "iser")).ok());
  EXPECT_THAT(Tree(dir_.path()), ElementsAre("nodes"));
}

TEST_F(NodeDbTest, WriteReadRoundTripWithIpv6AndSorting) {
  Record record = conf_.NewNodeRecord();
  record.Set("node.session.auth.authmethod", "CHAP");
  record.Set("node.session.auth.username", "alice");
  record.Set("node.session.auth.password", "wonderland");
  std::vector<NodeKey> keys = {Key("iqn.2026-11.test:b", "fe80::1", 3260, 2),
                               Key("iqn.2026-11.test:a", "10.0.0.2"),
                               Key("iqn.2026-11.test:a", "10.0.0.1", 3261)};
  for (const NodeKey& key : keys) ASSERT_TRUE(db_.WriteNode(key, record).ok());
  EXPECT_TRUE(Exists(Path("nodes/iqn.2026-11.test:b/fe80::1,3260,2/default")));

  absl::StatusOr<std::vector<NodeKey>> nodes = db_.ListNodes();
  ASSERT_TRUE(nodes.ok());
  EXPECT_THAT(*nodes, ElementsAre(keys[2], keys[1], keys[0]));

  absl::StatusOr<Record> read = db_.ReadNode(keys[0]);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->Get("node.conn[0].address"), "fe80::1");
  EXPECT_EQ(read->Get("node.tpgt"), "2");
  EXPECT_EQ(read->Get("node.session.auth.password"), "wonderland");
  std::string path = Path("nodes/iqn.2026-11.test:b/fe80::1,3260,2/default");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(FormatRecordFile(*read, RecordKind::kNode), ReadWholeFile(path));

  NodeFilter by_target;
  by_target.target_name = "iqn.2026-11.test:a";
  absl::StatusOr<std::vector<NodeKey>> found = db_.FindNodes(by_target);
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, ElementsAre(keys[2], keys[1]));
  NodeFilter by_portal;
  by_portal.address = "10.0.0.1";
  by_portal.port = 3261;
  found = db_.FindNodes(by_portal);
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, ElementsAre(keys[2]));
  NodeFilter by_iface;
  by_iface.iface = "iser";
  found = db_.FindNodes(by_iface);
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, IsEmpty());
}

TEST_F(NodeDbTest, UpdateAppliesEveryPairInOrderOrNone) {
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());
  const std::vector<std::pair<std::string, std::string>> chap = {
      {"node.session.auth.authmethod", "CHAP"},
      {"node.session.auth.username", "user1"},
      {"node.session.auth.password", "secret-1"},
      {"node.startup", "manual"},
      {"node.startup", "automatic"}};
  ASSERT_TRUE(db_.UpdateNode(Key(kFmt1), chap).ok());
  absl::StatusOr<Record> record = db_.ReadNode(Key(kFmt1));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->Get("node.session.auth.authmethod"), "CHAP");
  EXPECT_EQ(record->Get("node.session.auth.username"), "user1");
  EXPECT_EQ(record->Get("node.session.auth.password"), "secret-1");
  EXPECT_EQ(record->Get("node.startup"), "automatic");  // the last one wins
  // One bad pair: nothing of the call is written.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"node.session.auth.username", "user2"},
      {"node.session.cmds_max", "lots"}};
  EXPECT_EQ(ExitCodeOf(db_.UpdateNode(Key(kFmt1), bad)), ExitCode::kInvalid);
  EXPECT_EQ(db_.ReadNode(Key(kFmt1))->Get("node.session.auth.username"),
            "user1");
}

TEST_F(NodeDbTest, UpdateValidatesKeyAndValue) {
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());

  absl::Status typo = db_.UpdateNode(Key(kFmt1), "node.sesion.cmds_max", "64");
  EXPECT_EQ(ExitCodeOf(typo), ExitCode::kInvalid);
  EXPECT_EQ(typo.message(),
            "unknown key 'node.sesion.cmds_max' (did you mean "
            "'node.session.cmds_max'?)");
  absl::Status bad =
      db_.UpdateNode(Key(kFmt1), "node.session.cmds_max", "lots");
  EXPECT_EQ(ExitCodeOf(bad), ExitCode::kInvalid);
  EXPECT_EQ(
      bad.message(),
      "invalid value 'lots' for node.session.cmds_max: expected an integer "
      "from 1 to 4096");
  EXPECT_EQ(
      ExitCodeOf(db_.UpdateNode(Key(kFmt1), "node.name", "iqn.2026-11.test:x")),
      ExitCode::kInvalid);
  absl::Status missing =
      db_.UpdateNode(Key("iqn.2026-11.test:none"), "node.startup", "automatic");
  EXPECT_EQ(ExitCodeOf(missing), ExitCode::kNoObjectsFound);

  ASSERT_TRUE(
      db_.UpdateNode(Key(kFmt1), "node.conn[0].iscsi.HeaderDigest", "crc32c")
          .ok());
  ASSERT_TRUE(
      db_.UpdateNode(Key(kFmt1), "node.session.auth.password", "pw").ok());
  std::string file = ReadWholeFile(
      Path("nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1/default"));
  EXPECT_THAT(file, HasSubstr("\nnode.conn[0].iscsi.HeaderDigest = CRC32C\n"));
  EXPECT_THAT(file, HasSubstr("\nnode.session.auth.password = pw\n"));
  EXPECT_THAT(file, HasSubstr("\nnode.session.cmds_max = 128\n"));
}

TEST_F(NodeDbTest, HostileNamesNeverLeaveTheRoot) {
  for (const std::string& name :
       {std::string("../../etc/passwd"), std::string("a/b"),
        std::string("iqn.x:.."), std::string(".."), std::string(".hidden"),
        std::string("iqn.2001-04.com.example:a/../../b"),
        std::string("iqn.2001-04.com.example:a\0b", 27),
        "iqn.2001-04.com.example:" + std::string(250, 'a')}) {
    std::vector<DiscoveredTarget> found = {Found(kFmt1), Found(name)};
    absl::StatusOr<DiscoveryChanges> changes =
        db_.ApplyDiscoveryResult(kPortal, found, conf_);
    EXPECT_FALSE(changes.ok()) << name;
    EXPECT_EQ(ExitCodeOf(changes.status()), ExitCode::kInvalid) << name;
    EXPECT_EQ(ExitCodeOf(db_.WriteNode(Key(name), conf_.NewNodeRecord())),
              ExitCode::kInvalid)
        << name;
  }
  for (const char* address : {"../x", "a/b", "", "..", "10.0.0.1,1"}) {
    EXPECT_FALSE(db_.WriteNode(Key(kFmt1, address), conf_.NewNodeRecord()).ok())
        << address;
    std::vector<DiscoveredTarget> found = {Found(kFmt1, address)};
    EXPECT_FALSE(db_.ApplyDiscoveryResult(kPortal, found, conf_).ok())
        << address;
  }
  EXPECT_FALSE(db_.WriteNode(Key(kFmt1, "127.0.0.1", 3260, 1, "../../x"),
                             conf_.NewNodeRecord())
                   .ok());
  EXPECT_FALSE(
      db_.WriteNode(Key(kFmt1, "127.0.0.1", 0, 1), conf_.NewNodeRecord()).ok());
  EXPECT_FALSE(
      db_.UpdateNode(Key("../../etc"), "node.startup", "automatic").ok());
  EXPECT_FALSE(db_.DeleteNode(Key("..")).ok());
  // Nothing at all was written.
  EXPECT_THAT(Tree(dir_.path()), IsEmpty());
}

TEST_F(NodeDbTest, MalformedRecordNamesPathAndLine) {
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());
  std::string path =
      Path("nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1/default");
  WriteWholeFile(path,
                 "# BEGIN RECORD 2.1.8\nnode.name = " + std::string(kFmt1) +
                     "\nnode.session.queue_depth = deep\n# END RECORD\n");
  absl::StatusOr<Record> record = db_.ReadNode(Key(kFmt1));
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.status().message(),
            path +
                ":3: invalid value 'deep' for node.session.queue_depth: "
                "expected an integer from 1 to 1024");
}

// Temporary files of writes that were killed (they may hold CHAP secrets):
// a later write of the record clears the stale ones, and deleting the record
// leaves neither them nor its folders behind.
TEST_F(NodeDbTest, InterruptedWritesLeaveNothingBehind) {
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());
  const std::string portal =
      Path("nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1");
  const std::string stale = portal + "/.default.tmp.AbC123";
  WriteWholeFile(stale, "node.session.auth.password = Secret1234567\n");
  // A minute old: no write in progress takes that long.
  struct timespec times[2] = {{::time(nullptr) - 60, 0},
                              {::time(nullptr) - 60, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, stale.c_str(), times, 0), 0);
  const std::string fresh = portal + "/.default.tmp.XyZ789";
  WriteWholeFile(fresh, "being written\n");

  ASSERT_TRUE(db_.UpdateNode(Key(kFmt1), "node.startup", "automatic").ok());
  EXPECT_FALSE(Exists(stale));
  EXPECT_TRUE(Exists(fresh));  // might be another writer's, still at work

  WriteWholeFile(stale, "node.session.auth.password = Secret1234567\n");
  ASSERT_TRUE(db_.DeleteNode(Key(kFmt1)).ok());
  EXPECT_THAT(Tree(dir_.path()), ElementsAre("nodes"));
}

// The same with real kills: a child updates the record in a loop and is
// SIGKILLed at random moments.
TEST_F(NodeDbTest, KilledUpdatesLeaveNoTemporaryFileAfterDelete) {
  // A killed writer also leaves the lock taken: a lock folder of our own,
  // cleared after each kill.
  TempDir lock_dir;
  const char* saved = std::getenv("KISCSI_LOCKDIR");
  const std::string previous = saved != nullptr ? saved : "";
  ::setenv("KISCSI_LOCKDIR", lock_dir.path().c_str(), 1);
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());
  for (int round = 0; round < 40; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) {
        (void)db_.UpdateNode(Key(kFmt1), "node.session.auth.password",
                             "Secret" + std::to_string(100000 + i));
      }
    }
    ::usleep(200 + (round * 7919) % 3000);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::unlink((lock_dir.path() + "/lock.write").c_str());
  }
  std::vector<std::string> left = Tree(dir_.path());
  const auto temporary =
      std::count_if(left.begin(), left.end(), [](const std::string& path) {
        return path.find("/.default.tmp.") != std::string::npos;
      });
  std::cout << "temporary files left by 40 killed updates: " << temporary
            << "\n";
  ASSERT_TRUE(db_.DeleteNode(Key(kFmt1)).ok());
  EXPECT_THAT(Tree(dir_.path()), ElementsAre("nodes"));
  if (saved != nullptr) {
    ::setenv("KISCSI_LOCKDIR", previous.c_str(), 1);
  } else {
    ::unsetenv("KISCSI_LOCKDIR");
  }
}

// nodes/ holds folders, never links to them: a link is refused on write and on
// read alike, naming the path.
TEST_F(NodeDbTest, SymlinkedFolderInNodesIsRefusedOnWriteAndRead) {
  TempDir elsewhere;
  ASSERT_EQ(::mkdir(Path("nodes").c_str(), 0700), 0);
  const std::string link = Path("nodes/iqn.2026-11.test:fmt1");
  ASSERT_EQ(::symlink(elsewhere.path().c_str(), link.c_str()), 0);

  absl::Status written = db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord());
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.message(), HasSubstr(link));
  EXPECT_THAT(written.message(), HasSubstr("symbolic link"));
  EXPECT_THAT(Tree(elsewhere.path()), IsEmpty());

  // A record someone put there through the link is not read either.
  ASSERT_EQ(::mkdir((elsewhere.path() + "/127.0.0.1,3260,1").c_str(), 0700), 0);
  WriteWholeFile(elsewhere.path() + "/127.0.0.1,3260,1/default",
                 "node.name = " + std::string(kFmt1) + "\n");
  absl::StatusOr<Record> read = db_.ReadNode(Key(kFmt1));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr(link));
  absl::StatusOr<std::vector<NodeKey>> listed = db_.ListNodes();
  ASSERT_FALSE(listed.ok());
  EXPECT_THAT(listed.status().message(), HasSubstr(link));
  EXPECT_THAT(listed.status().message(), HasSubstr("symbolic link"));
}

// A record is named by its path; a node.name inside that says otherwise is an
// error naming the file (rather than logging in with one name and probing
// with the other).
TEST_F(NodeDbTest, NodeNameThatDiffersFromTheFolderIsAnError) {
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());
  const std::string path =
      Path("nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1/default");
  WriteWholeFile(path, "node.name = " + std::string(kFmt2) + "\n");
  absl::StatusOr<Record> record = db_.ReadNode(Key(kFmt1));
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.status().message(), HasSubstr(path));
  EXPECT_THAT(record.status().message(), HasSubstr(kFmt2));
  // Updating it is refused the same way.
  absl::Status updated = db_.UpdateNode(Key(kFmt1), "node.startup", "manual");
  EXPECT_THAT(updated.message(), HasSubstr(path));
  // Letter case aside (names compare case-insensitively).
  WriteWholeFile(path, "node.name = IQN.2026-11.TEST:FMT1\n");
  EXPECT_TRUE(db_.ReadNode(Key(kFmt1)).ok());
}

// An invalid secret is never shown, not even in part.
TEST_F(NodeDbTest, InvalidSecretIsNeverPrinted) {
  ASSERT_TRUE(db_.WriteNode(Key(kFmt1), conf_.NewNodeRecord()).ok());
  absl::Status updated = db_.UpdateNode(
      Key(kFmt1), "node.session.auth.password", "Leaky\x01Secret77");
  ASSERT_FALSE(updated.ok());
  EXPECT_THAT(updated.message(), HasSubstr("node.session.auth.password"));
  EXPECT_THAT(updated.message(), Not(HasSubstr("Leaky")));
  EXPECT_THAT(updated.message(), Not(HasSubstr("Secret77")));

  const std::string path =
      Path("nodes/iqn.2026-11.test:fmt1/127.0.0.1,3260,1/default");
  for (const char* line : {"node.session.auth.password_in = Leaky\x01Secret77",
                           "node.session.auth.password Leaky Secret77"}) {
    WriteWholeFile(path, std::string(line) + "\n");
    absl::StatusOr<Record> record = db_.ReadNode(Key(kFmt1));
    ASSERT_FALSE(record.ok()) << line;
    EXPECT_THAT(record.status().message(), HasSubstr(path + ":1:"));
    EXPECT_THAT(record.status().message(), Not(HasSubstr("Leaky")));
    EXPECT_THAT(record.status().message(), Not(HasSubstr("Secret77")));
  }
}

TEST_F(NodeDbTest, DeleteMissingIsNoRecordsFound) {
  absl::Status status = db_.DeleteNode(Key(kFmt1));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kNoObjectsFound);
}

TEST_F(NodeDbTest, Ifaces) {
  ASSERT_EQ(::mkdir(Path("ifaces").c_str(), 0700), 0);
  WriteWholeFile(Path("ifaces/eth1"),
                 "# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = eth1\n"
                 "iface.net_ifacename = eth1\niface.transport_name = tcp\n"
                 "iface.hwaddress = 52:54:00:12:34:56\n# END RECORD\n");
  absl::StatusOr<std::vector<Record>> ifaces = db_.ListIfaces();
  ASSERT_TRUE(ifaces.ok()) << ifaces.status();
  std::vector<std::string> lines;
  for (const Record& iface : *ifaces) lines.push_back(FormatIfaceLine(iface));
  EXPECT_THAT(lines,
              ElementsAre("eth1 tcp,52:54:00:12:34:56,<empty>,eth1,<empty>",
                          "default tcp,<empty>,<empty>,<empty>,<empty>",
                          "iser iser,<empty>,<empty>,<empty>,<empty>"));
  EXPECT_EQ(ExitCodeOf(db_.ReadIface("eth9").status()),
            ExitCode::kNoObjectsFound);

  // Records discovered through an iface carry its settings.
  std::vector<DiscoveredTarget> found = {Found(kFmt1)};
  ASSERT_TRUE(db_.ApplyDiscoveryResult(kPortal, found, conf_, "eth1").ok());
  absl::StatusOr<Record> record =
      db_.ReadNode(Key(kFmt1, "127.0.0.1", 3260, 1, "eth1"));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->Get("iface.net_ifacename"), "eth1");
  EXPECT_EQ(record->Get("iface.hwaddress"), "52:54:00:12:34:56");
}

}  // namespace
}  // namespace kiscsi::conf
