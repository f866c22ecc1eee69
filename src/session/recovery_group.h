// Recoveries that wait for the same portal, coordinated.
//
// When a portal goes away, every session behind it starts recovering. Each
// retrying on its own either keeps the target waiting for seconds after it
// returns (slow back-off) or hammers a target that is down (fast retries from
// every session). A RecoveryGroups keeps, per portal, one "scout": the first
// session that waits for it retries at a short fixed interval, the others keep
// their back-off; as soon as any of them logs in again, every other session
// waiting for that portal attempts at once. The load on a target that is down
// stays at one fast retrier per portal plus the slow ones; the latency after
// its return is the scout's interval plus one login.
#ifndef KISCSI_SRC_SESSION_RECOVERY_GROUP_H_
#define KISCSI_SRC_SESSION_RECOVERY_GROUP_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace kiscsi {

class RecoveryGroups {
 public:
  // What a member is: an opaque key (its SessionRecovery) and how to wake it.
  using Member = const void*;
  using Wake = std::function<void()>;

  // `member` waits for `portal` ("address:port"). The first member of a
  // portal is its scout. Joining twice is a no-op.
  void Join(const std::string& portal, Member member, Wake wake);
  // `member` no longer waits (it is back, gave up, or is gone). A scout that
  // leaves hands the role to the longest-waiting member left.
  void Leave(Member member);
  bool IsScout(Member member) const;
  // `member` is back in: wakes every other member waiting for its portal.
  // The wake callbacks run before this returns and must not call Join or
  // Leave themselves (schedule the attempt instead).
  void Recovered(Member member);

  size_t waiting(const std::string& portal) const;

 private:
  struct Entry {
    Member member;
    Wake wake;
  };
  // Members per portal in joining order; the front one is the scout.
  absl::flat_hash_map<std::string, std::vector<Entry>> portals_;
  absl::flat_hash_map<Member, std::string> portal_of_;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_RECOVERY_GROUP_H_
