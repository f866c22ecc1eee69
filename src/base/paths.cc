#include "src/base/paths.h"

#include <cstdlib>

namespace kiscsi {
namespace {

std::string FromEnv(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return value;
}

}  // namespace

std::string SysconfDir() { return FromEnv("KISCSI_SYSCONFDIR", "/etc/iscsi"); }
std::string RunDir() { return FromEnv("KISCSI_RUNDIR", "/run/kiscsi"); }
std::string DbLockDir() { return FromEnv("KISCSI_LOCKDIR", "/run/lock/iscsi"); }
std::string IscsidConfPath() { return SysconfDir() + "/iscsid.conf"; }
std::string InitiatorNamePath() { return InitiatorNamePath(SysconfDir()); }
std::string InitiatorNamePath(std::string_view sysconf_dir) {
  std::string path(sysconf_dir);
  path += "/initiatorname.iscsi";
  return path;
}

}  // namespace kiscsi
