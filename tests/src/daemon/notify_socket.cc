#include "tests/src/daemon/notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kiscsi::daemon::testing {

NotifySocket::NotifySocket(std::string name)
    : name_(std::move(name)),
      fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  EXPECT_LT(name_.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, name_.data(), name_.size());
  socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
  if (name_[0] == '@') {
    address.sun_path[0] = '\0';
  } else {
    length += 1;
  }
  EXPECT_EQ(
      ::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), length), 0)
      << name_ << ": " << std::strerror(errno);
}

std::optional<std::string> NotifySocket::Receive(absl::Duration timeout) {
  pollfd entry{fd_.get(), POLLIN, 0};
  if (::poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) !=
      1) {
    return std::nullopt;
  }
  char buffer[4096];
  const ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
  if (n < 0) return std::nullopt;
  return std::string(buffer, static_cast<size_t>(n));
}

bool NotifySocket::WaitFor(const std::string& prefix, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::optional<std::string> message = Receive(deadline - absl::Now());
    if (message.has_value() && message->rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace kiscsi::daemon::testing
