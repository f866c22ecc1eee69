// Where the programs find their files. Every path is relocatable through the
// environment so that tests never touch the real /etc or /run:
//   KISCSI_SYSCONFDIR (default /etc/iscsi): iscsid.conf, initiatorname.iscsi,
//                     nodes/, send_targets/, ifaces/
//   KISCSI_RUNDIR     (default /run/kiscsi): the daemon's socket, lock files
//   KISCSI_LOCKDIR    (default /run/lock/iscsi): the node database's write
//                     lock, shared with open-iscsi (conf/db_lock.h)
#ifndef KISCSI_SRC_BASE_PATHS_H_
#define KISCSI_SRC_BASE_PATHS_H_

#include <string>
#include <string_view>

namespace kiscsi {

std::string SysconfDir();
std::string RunDir();
std::string DbLockDir();
std::string IscsidConfPath();     // SysconfDir()/iscsid.conf
std::string InitiatorNamePath();  // SysconfDir()/initiatorname.iscsi
// The initiator name file of another configuration directory (a program's
// --sysconfdir, a test tree): <sysconf_dir>/initiatorname.iscsi.
std::string InitiatorNamePath(std::string_view sysconf_dir);

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_PATHS_H_
