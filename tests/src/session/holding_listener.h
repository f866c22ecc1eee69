// A TCP listener on 127.0.0.1 for session tests: it accepts every connection
// and holds it open (the fake kernel never reads from the sockets it binds).
#ifndef KISCSI_TESTS_SRC_SESSION_HOLDING_LISTENER_H_
#define KISCSI_TESTS_SRC_SESSION_HOLDING_LISTENER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "src/base/event_loop.h"
#include "src/base/unique_fd.h"
#include "src/transport/portal.h"

namespace kiscsi {

class HoldingListener {
 public:
  explicit HoldingListener(EventLoop& loop);
  ~HoldingListener();
  HoldingListener(const HoldingListener&) = delete;
  HoldingListener& operator=(const HoldingListener&) = delete;

  Portal portal() const { return {"127.0.0.1", port_}; }
  size_t accepted() const { return accepted_.size(); }

 private:
  EventLoop& loop_;
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::vector<UniqueFd> accepted_;
};

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_SESSION_HOLDING_LISTENER_H_
