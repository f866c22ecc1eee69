// Writes the part of a kernel session's sysfs tree that session listings and
// session tags read, for tests that need sessions to exist without caring
// about their details.
#ifndef KISCSI_TESTS_SRC_SESSION_SYSFS_SESSION_WRITER_H_
#define KISCSI_TESTS_SRC_SESSION_SYSFS_SESSION_WRITER_H_

#include <cstdint>
#include <string>

namespace kiscsi {

// Under `sysfs_root`: class/iscsi_session/session<sid> (targetname, tpgt 1,
// LOGGED_IN) and its connection <sid>:0 (up, current and persistent portal
// `address`:`port`).
void WriteSysfsSession(const std::string& sysfs_root, uint32_t sid,
                       const std::string& target, const std::string& address,
                       uint16_t port);

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_SESSION_SYSFS_SESSION_WRITER_H_
