#include "conf/db_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/monotonic.h"
#include "src/base/paths.h"

namespace kiscsi::conf {
namespace {

// How deep this thread is in locked operations (0: it holds no lock).
thread_local int t_depth = 0;

constexpr absl::Duration kRetryInterval = absl::Milliseconds(10);

absl::Status LockError(int error, const std::string& what) {
  return WithExitCode(
      ErrnoStatus(error, absl::StrCat("node database lock: ", what)),
      ExitCode::kDatabase);
}

}  // namespace

absl::StatusOr<DbLock> DbLock::Acquire(absl::Duration timeout) {
  const std::string dir = DbLockDir();
  const std::string lock_file = dir + "/lock";
  const std::string write_file = dir + "/lock.write";
  if (t_depth > 0) {
    ++t_depth;
    return DbLock(write_file);
  }
  // Like mkdir -p: a minimal system (an initramfs, a container) may have no
  // /run/lock yet.
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string part = dir.substr(0, slash);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return LockError(errno, absl::StrCat("cannot create ", part));
    }
    if (slash == std::string::npos) break;
  }
  const int fd = open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return LockError(errno, absl::StrCat("cannot create ", lock_file));
  close(fd);
  const absl::Time deadline = MonotonicNow() + timeout;
  for (;;) {
    if (link(lock_file.c_str(), write_file.c_str()) == 0) break;
    if (errno != EEXIST) {
      return LockError(errno, absl::StrCat("cannot create ", write_file));
    }
    if (MonotonicNow() >= deadline) {
      return WithExitCode(
          absl::UnavailableError(absl::StrCat(
              "the node database is locked (", write_file, " has existed for ",
              absl::FormatDuration(timeout),
              "); if no iscsiadm, kiscsiadm or iscsid is writing, a crashed "
              "one left it: remove it")),
          ExitCode::kDatabase);
    }
    usleep(static_cast<useconds_t>(absl::ToInt64Microseconds(kRetryInterval)));
  }
  t_depth = 1;
  return DbLock(write_file);
}

DbLock::DbLock(DbLock&& other) noexcept
    : write_file_(std::move(other.write_file_)), active_(other.active_) {
  other.active_ = false;
}

DbLock::~DbLock() {
  if (!active_) return;
  if (--t_depth == 0) unlink(write_file_.c_str());
}

}  // namespace kiscsi::conf
