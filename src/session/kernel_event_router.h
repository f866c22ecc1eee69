// Hands kernel iSCSI events to whoever is waiting for them.
//
// One NETLINK_ISCSI event socket serves every session of the process, so one
// KernelEventRouter owns its registration on the EventLoop, drains
// IscsiKernel::ReadEvents() whenever it becomes readable, and routes each
// event: RECV_PDU, CONN_ERROR and CONN_LOGIN_STATE go to the subscriber of
// their (sid, cid) (a login or logout in flight, the daemon's connection
// object), UNBIND_SESSION and DESTROY_SESSION to a subscriber of one of the
// session's connections (DESTROY_SESSION to the default handler as well), the
// news that events were lost (socket overrun) to every subscriber and the
// default handler; everything else, and events nobody subscribed to, go to
// the default handler (the daemon's recovery and adoption logic).
//
// Handlers run on the loop and may subscribe and unsubscribe (themselves
// included) while events are being routed.
#ifndef KISCSI_SRC_SESSION_KERNEL_EVENT_ROUTER_H_
#define KISCSI_SRC_SESSION_KERNEL_EVENT_ROUTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "netlink/iscsi_kernel.h"
#include "src/base/event_loop.h"

namespace kiscsi {

class KernelEventRouter {
 public:
  using Handler = std::function<void(const KernelEvent& event)>;

  KernelEventRouter(EventLoop& loop, IscsiKernel& kernel);
  ~KernelEventRouter();
  KernelEventRouter(const KernelEventRouter&) = delete;
  KernelEventRouter& operator=(const KernelEventRouter&) = delete;

  // Registers the kernel's event fd on the loop.
  absl::Status Start();

  // Events for (sid, cid); replaces an earlier subscription for the pair.
  void Subscribe(uint32_t sid, uint32_t cid, Handler handler);
  void Unsubscribe(uint32_t sid, uint32_t cid);
  // Everything not routed to a subscriber. Without one such events are
  // logged at debug level and dropped.
  void SetDefaultHandler(Handler handler);

  // Reads and routes what the kernel has queued (Start() does this whenever
  // the event fd is readable).
  void Drain();

  IscsiKernel& kernel() { return kernel_; }
  EventLoop& loop() { return loop_; }

 private:
  void Route(const KernelEvent& event);

  EventLoop& loop_;
  IscsiKernel& kernel_;
  bool registered_ = false;
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, std::shared_ptr<Handler>>
      subscribers_;
  std::shared_ptr<Handler> default_handler_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_KERNEL_EVENT_ROUTER_H_
