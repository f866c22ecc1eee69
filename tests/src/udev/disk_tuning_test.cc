#include "src/udev/disk_tuning.h"

#include <filesystem>
#include <string>

#include "conf/iscsid_conf.h"
#include "conf/node_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/src/udev/fake_sysfs.h"

namespace kiscsi::udev {
namespace {

using testing::AddIscsiDisk;
using testing::AddScsiDevice;
using ::testing::HasSubstr;
using testing::kDiskDevpath;
using testing::kScsiDevpath;
using testing::kTarget;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

class DiskTuningTest : public ::testing::Test {
 protected:
  DiskTuningRequest Request(const std::string& devpath,
                            DiskSettings defaults = {60, "none"}) {
    DiskTuningRequest request;
    request.sysfs_root = sysfs_.path();
    request.devpath = devpath;
    request.defaults = defaults;
    request.node_db_root = etc_.path();
    return request;
  }
  std::string Sys(const std::string& path) { return sysfs_.path() + path; }

  // A node record for session 1's target and portal with `extra` keys.
  void AddNodeRecord(int tpgt,
                     std::vector<std::pair<std::string, std::string>> extra) {
    conf::NodeKey key{kTarget, "10.0.2.2", 3261, tpgt, "default"};
    conf::Record record = conf::IscsidConf().NewNodeRecord();
    for (const auto& [name, value] : extra) record.Set(name, value);
    ASSERT_TRUE(conf::NodeDb(etc_.path()).WriteNode(key, record).ok());
  }

  TempDir sysfs_;
  TempDir etc_;
};

TEST_F(DiskTuningTest, IscsiDiskGetsTheTimeout) {
  AddIscsiDisk(sysfs_.path());
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done,
            "0:0:0:1 (session1 iqn.2026-12.test.boot:root): timeout 60 s");
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "60");
  // The scsi_device event leaves the scheduler to the disk's event.
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/queue/scheduler"),
            "[mq-deadline] none\n");
}

TEST_F(DiskTuningTest, OpticalMemoryAndRbcDevicesGetTheTimeoutToo) {
  for (int type : {7, 14}) {
    AddIscsiDisk(sysfs_.path(), type);
    absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_THAT(*done, HasSubstr("timeout 60 s")) << type;
    EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "60") << type;
  }
}

TEST_F(DiskTuningTest, CdromIsLeftAlone) {
  AddIscsiDisk(sysfs_.path(), /*type=*/5);
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "");
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
  done = TuneDevice(Request(kDiskDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "");
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/queue/scheduler"),
            "[mq-deadline] none\n");
}

TEST_F(DiskTuningTest, DisksOutsideIscsiSessionsAreLeftAlone) {
  // A scsi_debug disk and a virtio disk, both of type 0 where a type exists.
  const std::string scsi_debug =
      "/devices/pseudo_0/adapter0/host2/target2:0:0/2:0:0:0";
  AddScsiDevice(sysfs_.path(), scsi_debug, 0, "sdb");
  const std::string virtio =
      "/devices/pci0000:00/0000:00:04.0/virtio1/block/vda";
  WriteFile(Sys(virtio) + "/queue/scheduler", "[mq-deadline] none\n");
  for (const std::string& devpath :
       {scsi_debug, scsi_debug + "/block/sdb", virtio}) {
    absl::StatusOr<std::string> done = TuneDevice(Request(devpath));
    ASSERT_TRUE(done.ok()) << devpath << ": " << done.status();
    EXPECT_EQ(*done, "") << devpath;
  }
  EXPECT_EQ(ReadFile(Sys(scsi_debug) + "/timeout"), "30\n");
  EXPECT_EQ(ReadFile(Sys(scsi_debug) + "/block/sdb/queue/scheduler"),
            "[mq-deadline] none\n");
  EXPECT_EQ(ReadFile(Sys(virtio) + "/queue/scheduler"), "[mq-deadline] none\n");
}

TEST_F(DiskTuningTest, BlockDiskGetsTheScheduler) {
  AddIscsiDisk(sysfs_.path());
  absl::StatusOr<std::string> done = TuneDevice(Request(kDiskDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "sda: scheduler none");
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/queue/scheduler"), "none");
  // The disk's event leaves the timeout to the scsi_device's event.
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
}

TEST_F(DiskTuningTest, PartitionsTargetsAndSessionsAreLeftAlone) {
  AddIscsiDisk(sysfs_.path());
  WriteFile(Sys(kDiskDevpath) + "/sda1/queue/scheduler",
            "[mq-deadline] none\n");
  for (const std::string& devpath :
       {std::string(kDiskDevpath) + "/sda1",
        std::string("/devices/platform/host0/session1/target0:0:0"),
        std::string("/devices/platform/host0/session1"),
        std::string("/devices/platform/host0")}) {
    absl::StatusOr<std::string> done = TuneDevice(Request(devpath));
    ASSERT_TRUE(done.ok()) << devpath << ": " << done.status();
    EXPECT_EQ(*done, "") << devpath;
  }
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/sda1/queue/scheduler"),
            "[mq-deadline] none\n");
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
}

TEST_F(DiskTuningTest, ZeroTimeoutAndEmptySchedulerLeaveTheKernelsValues) {
  AddIscsiDisk(sysfs_.path());
  for (const char* devpath : {kScsiDevpath, kDiskDevpath}) {
    absl::StatusOr<std::string> done =
        TuneDevice(Request(devpath, DiskSettings{0, ""}));
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(*done, "") << devpath;
  }
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/queue/scheduler"),
            "[mq-deadline] none\n");
}

TEST_F(DiskTuningTest, NodeRecordOverridesIscsidConf) {
  AddIscsiDisk(sysfs_.path());
  AddNodeRecord(1, {{"kiscsi.disk.timeout", "120"},
                    {"kiscsi.disk.scheduler", "mq-deadline"}});
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_THAT(*done, HasSubstr("timeout 120 s"));
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "120");
  done = TuneDevice(Request(kDiskDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "sda: scheduler mq-deadline");
  EXPECT_EQ(ReadFile(Sys(kDiskDevpath) + "/queue/scheduler"), "mq-deadline");
}

TEST_F(DiskTuningTest, NodeRecordTimeoutZeroLeavesTheKernelsValue) {
  AddIscsiDisk(sysfs_.path());
  AddNodeRecord(1, {{"kiscsi.disk.timeout", "0"}});
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "");
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
}

TEST_F(DiskTuningTest, OnlyTheSessionsOwnNodeRecordCounts) {
  AddIscsiDisk(sysfs_.path());
  // Same target and portal, another tpgt; and another target.
  AddNodeRecord(2, {{"kiscsi.disk.timeout", "120"}});
  conf::Record other = conf::IscsidConf().NewNodeRecord();
  other.Set("kiscsi.disk.timeout", "90");
  ASSERT_TRUE(conf::NodeDb(etc_.path())
                  .WriteNode({"iqn.2026-12.test.boot:data", "10.0.2.2", 3261, 1,
                              "default"},
                             other)
                  .ok());
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "60");
}

TEST_F(DiskTuningTest, NodeRecordWithoutTheKeysKeepsIscsidConfValues) {
  AddIscsiDisk(sysfs_.path());
  AddNodeRecord(1, {});
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "60");
}

TEST_F(DiskTuningTest, MissingSessionAttributesStillApplyIscsidConf) {
  // The devpath says session1, but class/iscsi_session is gone (a logout
  // racing the event): the iscsid.conf values still apply.
  AddScsiDevice(sysfs_.path(), kScsiDevpath, 0);
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(*done, "0:0:0:1 (session1): timeout 60 s");
}

TEST_F(DiskTuningTest, MissingTypeIsAnErrorNamingTheFile) {
  WriteSysfsSession(sysfs_.path(), 1, kTarget, "10.0.2.2", 3261);
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(), HasSubstr(Sys(kScsiDevpath) + "/type"));
  done = TuneDevice(Request(kDiskDevpath));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(), HasSubstr(Sys(kScsiDevpath) + "/type"));
}

TEST_F(DiskTuningTest, GarbageTypeIsAnError) {
  AddIscsiDisk(sysfs_.path());
  WriteFile(Sys(kScsiDevpath) + "/type", "disk\n");
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(), HasSubstr("'disk'"));
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
}

TEST_F(DiskTuningTest, UnwritableAttributesAreErrorsNamingTheFile) {
  AddIscsiDisk(sysfs_.path());
  // A directory cannot be opened for writing, not even by root.
  std::filesystem::remove(Sys(kScsiDevpath) + "/timeout");
  std::filesystem::create_directory(Sys(kScsiDevpath) + "/timeout");
  absl::StatusOr<std::string> done = TuneDevice(Request(kScsiDevpath));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(),
              HasSubstr(Sys(kScsiDevpath) + "/timeout"));
  // A disk without its queue directory.
  std::filesystem::remove_all(Sys(kDiskDevpath) + "/queue");
  done = TuneDevice(Request(kDiskDevpath));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(),
              HasSubstr(Sys(kDiskDevpath) + "/queue/scheduler"));
}

TEST_F(DiskTuningTest, MalformedDevpathsAreErrors) {
  AddIscsiDisk(sysfs_.path());
  for (const char* devpath :
       {"", "devices/platform/host0/session1/target0:0:0/0:0:0:1",
        "/devices/platform/host0/session1/../session1/target0:0:0/0:0:0:1"}) {
    absl::StatusOr<std::string> done = TuneDevice(Request(devpath));
    EXPECT_FALSE(done.ok()) << devpath;
  }
  EXPECT_EQ(ReadFile(Sys(kScsiDevpath) + "/timeout"), "30\n");
}

TEST(SettingsFromConfTest, DefaultsLeaveTheTimeoutAndSetNoScheduler) {
  EXPECT_EQ(SettingsFromConf(conf::IscsidConf()), (DiskSettings{0, "none"}));
}

TEST(SettingsFromConfTest, ReadsTheKeys) {
  absl::StatusOr<conf::LoadedIscsidConf> loaded = conf::ParseIscsidConf(
      "kiscsi.disk.timeout = 45\nkiscsi.disk.scheduler = mq-deadline\n",
      "iscsid.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->diagnostics.empty());
  EXPECT_EQ(SettingsFromConf(loaded->conf), (DiskSettings{45, "mq-deadline"}));

  loaded = conf::ParseIscsidConf("kiscsi.disk.scheduler =\n", "iscsid.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(SettingsFromConf(loaded->conf), (DiskSettings{0, ""}));
}

TEST(SettingsFromConfTest, TyposWarnAndBadValuesFail) {
  absl::StatusOr<conf::LoadedIscsidConf> loaded =
      conf::ParseIscsidConf("kiscsi.disk.timout = 45\n", "iscsid.conf");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->diagnostics.size(), 1u);
  EXPECT_EQ(loaded->diagnostics[0].message,
            "iscsid.conf:1: unknown key 'kiscsi.disk.timout' (did you mean "
            "'kiscsi.disk.timeout'?)");
  EXPECT_EQ(SettingsFromConf(loaded->conf).timeout_seconds, 0);

  loaded = conf::ParseIscsidConf("kiscsi.disk.timeout = 3601\n", "iscsid.conf");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("iscsid.conf:1: invalid value '3601' for "
                        "kiscsi.disk.timeout: expected an integer from 0 to "
                        "3600"));
}

TEST(OverrideFromNodeTest, EmptyValuesKeepTheDefaults) {
  conf::Record node = conf::IscsidConf().NewNodeRecord();
  EXPECT_EQ(OverrideFromNode({60, "none"}, node), (DiskSettings{60, "none"}));
  node.Set("kiscsi.disk.timeout", "");
  node.Set("kiscsi.disk.scheduler", "");
  EXPECT_EQ(OverrideFromNode({60, "none"}, node), (DiskSettings{60, "none"}));
  node.Set("kiscsi.disk.timeout", "0");
  node.Set("kiscsi.disk.scheduler", "bfq");
  EXPECT_EQ(OverrideFromNode({60, "none"}, node), (DiskSettings{0, "bfq"}));
}

}  // namespace
}  // namespace kiscsi::udev
