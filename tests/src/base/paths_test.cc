#include "src/base/paths.h"

#include <stdlib.h>

#include "gtest/gtest.h"

namespace kiscsi {
namespace {

TEST(PathsTest, InitiatorNameFileOfADirectory) {
  EXPECT_EQ(InitiatorNamePath("/tmp/etc-iscsi"),
            "/tmp/etc-iscsi/initiatorname.iscsi");
}

TEST(PathsTest, DefaultsFollowTheSysconfDirVariable) {
  const char* saved = getenv("KISCSI_SYSCONFDIR");
  const std::string old = saved != nullptr ? saved : "";
  unsetenv("KISCSI_SYSCONFDIR");
  EXPECT_EQ(InitiatorNamePath(), "/etc/iscsi/initiatorname.iscsi");
  EXPECT_EQ(IscsidConfPath(), "/etc/iscsi/iscsid.conf");
  setenv("KISCSI_SYSCONFDIR", "/srv/conf", 1);
  EXPECT_EQ(InitiatorNamePath(), "/srv/conf/initiatorname.iscsi");
  EXPECT_EQ(InitiatorNamePath(), InitiatorNamePath(SysconfDir()));
  if (saved != nullptr) {
    setenv("KISCSI_SYSCONFDIR", old.c_str(), 1);
  } else {
    unsetenv("KISCSI_SYSCONFDIR");
  }
}

}  // namespace
}  // namespace kiscsi
