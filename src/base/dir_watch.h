// Calls back on an EventLoop when entries appear in a directory (created,
// moved in, or their attributes changed): the event that ends the wait for a
// new disk's /dev node, where polling would add up to a poll period to every
// login.
//
// One inotify descriptor per watch, registered on the loop; events are
// drained and coalesced into one callback per wake-up. The callback may
// destroy the DirWatch.
#ifndef KISCSI_SRC_BASE_DIR_WATCH_H_
#define KISCSI_SRC_BASE_DIR_WATCH_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"

namespace kiscsi {

class DirWatch {
 public:
  // Fails if `dir` cannot be watched (missing, not a directory, no inotify
  // instances left).
  static absl::StatusOr<std::unique_ptr<DirWatch>> Create(
      EventLoop& loop, const std::string& dir,
      absl::AnyInvocable<void()> on_change);
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

 private:
  DirWatch(EventLoop& loop, UniqueFd fd, absl::AnyInvocable<void()> on_change);
  void OnReadable();

  EventLoop& loop_;
  UniqueFd fd_;
  absl::AnyInvocable<void()> on_change_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_DIR_WATCH_H_
