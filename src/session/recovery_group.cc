#include "src/session/recovery_group.h"

#include <algorithm>
#include <utility>

namespace kiscsi {

void RecoveryGroups::Join(const std::string& portal, Member member, Wake wake) {
  if (portal_of_.contains(member)) return;
  portal_of_[member] = portal;
  portals_[portal].push_back(Entry{member, std::move(wake)});
}

void RecoveryGroups::Leave(Member member) {
  auto it = portal_of_.find(member);
  if (it == portal_of_.end()) return;
  auto group = portals_.find(it->second);
  portal_of_.erase(it);
  if (group == portals_.end()) return;
  std::vector<Entry>& entries = group->second;
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [member](const Entry& entry) {
                                 return entry.member == member;
                               }),
                entries.end());
  if (entries.empty()) portals_.erase(group);
}

bool RecoveryGroups::IsScout(Member member) const {
  auto it = portal_of_.find(member);
  if (it == portal_of_.end()) return false;
  auto group = portals_.find(it->second);
  return group != portals_.end() && !group->second.empty() &&
         group->second.front().member == member;
}

void RecoveryGroups::Recovered(Member member) {
  auto it = portal_of_.find(member);
  if (it == portal_of_.end()) return;
  auto group = portals_.find(it->second);
  if (group == portals_.end()) return;
  // Copy: a wake callback may not Join or Leave, but be safe against it.
  const std::vector<Entry> entries = group->second;
  for (const Entry& entry : entries) {
    if (entry.member != member && entry.wake) entry.wake();
  }
}

size_t RecoveryGroups::waiting(const std::string& portal) const {
  auto group = portals_.find(portal);
  return group == portals_.end() ? 0 : group->second.size();
}

}  // namespace kiscsi
