#include "tests/src/session/holding_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "gtest/gtest.h"

namespace kiscsi {

HoldingListener::HoldingListener(EventLoop& loop) : loop_(loop) {
  fd_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(
      bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  EXPECT_EQ(listen(fd_.get(), 1024), 0);
  socklen_t length = sizeof(address);
  getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  EXPECT_TRUE(loop_
                  .AddFd(fd_.get(), EPOLLIN,
                         [this](uint32_t) {
                           for (;;) {
                             const int fd =
                                 accept4(fd_.get(), nullptr, nullptr,
                                         SOCK_CLOEXEC | SOCK_NONBLOCK);
                             if (fd < 0) return;
                             accepted_.emplace_back(fd);
                           }
                         })
                  .ok());
}

HoldingListener::~HoldingListener() { loop_.RemoveFd(fd_.get()); }

}  // namespace kiscsi
