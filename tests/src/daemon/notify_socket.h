// The receiving end of systemd's notification protocol, for tests: a datagram
// socket bound to a path or an abstract name, as $NOTIFY_SOCKET names it.
#ifndef KISCSI_TESTS_SRC_DAEMON_NOTIFY_SOCKET_H_
#define KISCSI_TESTS_SRC_DAEMON_NOTIFY_SOCKET_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "src/base/unique_fd.h"

namespace kiscsi::daemon::testing {

class NotifySocket {
 public:
  // `name`: a path, or "@name" for the abstract namespace.
  explicit NotifySocket(std::string name);

  const std::string& name() const { return name_; }
  // The next datagram, or nullopt after `timeout`.
  std::optional<std::string> Receive(
      absl::Duration timeout = absl::Seconds(10));
  // Receives until a datagram starting with `prefix` arrives; false after
  // `timeout`.
  bool WaitFor(const std::string& prefix,
               absl::Duration timeout = absl::Seconds(10));

 private:
  std::string name_;
  UniqueFd fd_;
};

}  // namespace kiscsi::daemon::testing

#endif  // KISCSI_TESTS_SRC_DAEMON_NOTIFY_SOCKET_H_
