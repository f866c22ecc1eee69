#include "tests/src/ipc/socket_testing.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/src/base/temp_dir.h"

namespace kiscsi::ipc::testing {
namespace {

sockaddr_un AddressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  EXPECT_LT(path.size(), sizeof(address.sun_path)) << path;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  return address;
}

bool WaitReadable(int fd, absl::Duration timeout) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1,
                static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
}

}  // namespace

std::string MakeTempDir() { return MakeScratchDir("kiscsi_ipc"); }

UniqueFd ListenAt(const std::string& path, int backlog) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_un address = AddressOf(path);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address)),
            0)
      << std::strerror(errno);
  EXPECT_EQ(::listen(fd.get(), backlog), 0) << std::strerror(errno);
  return fd;
}

RawConnection::RawConnection(const std::string& path)
    : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  const sockaddr_un address = AddressOf(path);
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
    fd_.Reset();
  }
}

void RawConnection::Send(const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_.get(), bytes.data() + sent,
                             bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ADD_FAILURE() << "send: " << std::strerror(errno);
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

std::optional<Message> RawConnection::Read(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (std::optional<Message> message = reader_.Next()) return message;
    if (!WaitReadable(fd_.get(), deadline - absl::Now())) return std::nullopt;
    uint8_t buffer[4096];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) return std::nullopt;
    if (!reader_.Feed(absl::MakeConstSpan(buffer, static_cast<size_t>(n)))
             .ok()) {
      return std::nullopt;
    }
  }
}

bool RawConnection::ClosedWithin(absl::Duration timeout) {
  if (!WaitReadable(fd_.get(), timeout)) return false;
  uint8_t byte;
  return ::recv(fd_.get(), &byte, 1, 0) == 0;
}

Reply ReplyIn(const Message& message) {
  EXPECT_EQ(message.header.type, MessageType::kReply);
  absl::StatusOr<Reply> reply = DecodeReply(message.payload);
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *reply : Reply{};
}

}  // namespace kiscsi::ipc::testing
