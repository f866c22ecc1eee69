#include "src/base/dir_watch.h"

#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"

namespace kiscsi {

absl::StatusOr<std::unique_ptr<DirWatch>> DirWatch::Create(
    EventLoop& loop, const std::string& dir,
    absl::AnyInvocable<void()> on_change) {
  UniqueFd fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "inotify_init1");
  if (inotify_add_watch(fd.get(), dir.c_str(),
                        IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR) < 0) {
    return ErrnoStatus(errno, absl::StrCat("watch ", dir));
  }
  std::unique_ptr<DirWatch> watch(
      new DirWatch(loop, std::move(fd), std::move(on_change)));
  absl::Status added =
      loop.AddFd(watch->fd_.get(), EPOLLIN,
                 [w = watch.get()](uint32_t) { w->OnReadable(); });
  if (!added.ok()) {
    watch->fd_.Reset();  // never registered: the destructor must not remove
    return added;
  }
  return watch;
}

DirWatch::DirWatch(EventLoop& loop, UniqueFd fd,
                   absl::AnyInvocable<void()> on_change)
    : loop_(loop), fd_(std::move(fd)), on_change_(std::move(on_change)) {}

DirWatch::~DirWatch() {
  if (fd_.valid()) loop_.RemoveFd(fd_.get());
}

void DirWatch::OnReadable() {
  // What changed does not matter, only that something did: drain it all.
  alignas(inotify_event) char buffer[4096];
  while (read(fd_.get(), buffer, sizeof(buffer)) > 0) {
  }
  on_change_();  // may destroy this object: nothing after it
}

}  // namespace kiscsi
