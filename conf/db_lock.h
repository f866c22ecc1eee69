// The node database's write lock, shared with open-iscsi: whoever holds it
// (kiscsiadm, kiscsid, a coexisting iscsiadm or iscsid) is the only writer.
//
// The protocol is open-iscsi's: the lock is held while the hard link
// LOCK_DIR/lock.write to LOCK_DIR/lock exists; link(2) either makes it or
// fails with EEXIST, atomically. A waiter tries again every 10 ms. LOCK_DIR
// is /run/lock/iscsi (KISCSI_LOCKDIR in tests).
//
//   ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
//   ... read, change and write records ...
//   (released when `lock` goes out of scope)
//
// Acquiring again in a thread that holds the lock only counts, as open-iscsi
// does, so a locked operation may call another.
#ifndef KISCSI_CONF_DB_LOCK_H_
#define KISCSI_CONF_DB_LOCK_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kiscsi::conf {

class DbLock {
 public:
  // Waits at most `timeout` for the lock. On timeout fails with Unavailable
  // (ExitCode kDatabase) naming the lock file, which a crashed writer may
  // have left behind.
  static absl::StatusOr<DbLock> Acquire(
      absl::Duration timeout = absl::Seconds(30));

  DbLock(DbLock&& other) noexcept;
  DbLock& operator=(DbLock&&) = delete;
  DbLock(const DbLock&) = delete;
  ~DbLock();

 private:
  explicit DbLock(std::string write_file)
      : write_file_(std::move(write_file)), active_(true) {}
  std::string write_file_;
  bool active_ = false;  // false once moved from
};

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_DB_LOCK_H_
