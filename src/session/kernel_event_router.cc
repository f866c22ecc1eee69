#include "src/session/kernel_event_router.h"

#include <sys/epoll.h>

#include <type_traits>
#include <vector>

#include "src/base/log.h"

namespace kiscsi {
namespace {

// Reads per readiness before yielding to other descriptors; the event fd is
// level-triggered, so whatever is left is read on the next round.
constexpr int kMaxReadsPerWakeup = 16;

}  // namespace

KernelEventRouter::KernelEventRouter(EventLoop& loop, IscsiKernel& kernel)
    : loop_(loop), kernel_(kernel) {}

KernelEventRouter::~KernelEventRouter() {
  if (registered_) loop_.RemoveFd(kernel_.event_fd());
}

absl::Status KernelEventRouter::Start() {
  absl::Status status =
      loop_.AddFd(kernel_.event_fd(), EPOLLIN, [this](uint32_t) { Drain(); });
  if (status.ok()) registered_ = true;
  return status;
}

void KernelEventRouter::Subscribe(uint32_t sid, uint32_t cid, Handler handler) {
  subscribers_[{sid, cid}] = std::make_shared<Handler>(std::move(handler));
}

void KernelEventRouter::Unsubscribe(uint32_t sid, uint32_t cid) {
  subscribers_.erase(std::make_pair(sid, cid));
}

void KernelEventRouter::SetDefaultHandler(Handler handler) {
  default_handler_ = std::make_shared<Handler>(std::move(handler));
}

void KernelEventRouter::Drain() {
  for (int round = 0; round < kMaxReadsPerWakeup; ++round) {
    absl::StatusOr<std::vector<KernelEvent>> events = kernel_.ReadEvents();
    if (!events.ok()) {
      KISCSI_LOG(kWarning) << "reading kernel iSCSI events: "
                           << events.status().message();
      return;
    }
    if (events->empty()) return;
    for (const KernelEvent& event : *events) Route(event);
  }
}

void KernelEventRouter::Route(const KernelEvent& event) {
  // Copies of the shared_ptrs keep each function alive if it unsubscribes
  // itself (or another) while the event is being handed out.
  std::vector<std::shared_ptr<Handler>> handlers;
  bool also_default = false;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, RecvPduEvent> ||
                      std::is_same_v<T, ConnErrorEvent> ||
                      std::is_same_v<T, ConnLoginStateEvent>) {
          auto it = subscribers_.find(std::make_pair(e.sid, e.cid));
          if (it != subscribers_.end()) handlers.push_back(it->second);
        } else if constexpr (std::is_same_v<T, UnbindSessionEvent> ||
                             std::is_same_v<T, DestroySessionEvent>) {
          // A session event: whoever follows one of its connections. The
          // end of a session is news to the default handler as well.
          also_default = std::is_same_v<T, DestroySessionEvent>;
          for (const auto& [key, subscriber] : subscribers_) {
            if (key.first == e.sid) {
              handlers.push_back(subscriber);
              break;
            }
          }
        } else if constexpr (std::is_same_v<T, EventsLostEvent>) {
          // Anyone may have missed the event it waits for.
          also_default = true;
          for (const auto& [key, subscriber] : subscribers_) {
            handlers.push_back(subscriber);
          }
        }
      },
      event);
  if ((handlers.empty() || also_default) && default_handler_ != nullptr) {
    handlers.push_back(default_handler_);
  }
  if (handlers.empty()) {
    KISCSI_LOG(kDebug) << "kernel event " << event.index()
                       << " with no handler dropped";
    return;
  }
  for (const std::shared_ptr<Handler>& handler : handlers) (*handler)(event);
}

}  // namespace kiscsi
