// The SendTargets side of the node database (node_db.h): discovery records
// (send_targets/<address>,<port>/st_config), the links from a discovery
// portal to the nodes it reported, and applying a discovery result (new
// records added, vanished ones removed, under the database lock).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conf/db_lock.h"
#include "conf/file_util.h"
#include "conf/node_db.h"
#include "conf/node_db_internal.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi::conf {
namespace {

using internal::CheckAddress;
using internal::CheckIfaceName;
using internal::CheckNewKey;
using internal::CheckPortAndTpgt;
using internal::DatabaseError;
using internal::DirEntry;
using internal::EntryType;
using internal::InvalidError;
using internal::kRecordMode;
using internal::kStConfig;
using internal::LinkName;
using internal::ListDir;
using internal::MakeDir;
using internal::ParseNumber;
using internal::ParsePortalName;
using internal::PortalName;
using internal::RemoveDirIfUnused;
using internal::SplitRight;
using internal::TypeOfPath;
using internal::Unlink;
using internal::ValidateValues;

absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::Status NodeDb::DeleteDiscoveryRecord(const DiscoveryPortal& portal) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  RETURN_IF_ERROR(ReadDiscoveryRecord(portal).status());
  ASSIGN_OR_RETURN(std::vector<NodeKey> linked, ListDiscoveryLinks(portal));
  for (const NodeKey& key : linked) RETURN_IF_ERROR(RemoveNodeFiles(key));
  const std::string dir = DiscoveryDir(portal);
  RETURN_IF_ERROR(Unlink(absl::StrCat(dir, "/", kStConfig)));
  return RemoveDirIfUnused(dir);
}

absl::Status NodeDb::WriteDiscoveryRecord(const Record& record) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  DiscoveryPortal portal{.address =
                             record.Get("discovery.sendtargets.address")};
  std::optional<int64_t> port = record.GetInt("discovery.sendtargets.port");
  if (!port.has_value()) {
    return InvalidError("discovery record without discovery.sendtargets.port");
  }
  portal.port = static_cast<int>(std::clamp<int64_t>(*port, 0, 65536));
  RETURN_IF_ERROR(CheckAddress(portal.address));
  RETURN_IF_ERROR(CheckPortAndTpgt(portal.port, kTpgtUnknown));
  RETURN_IF_ERROR(ValidateValues(record, RecordKind::kDiscovery));
  RETURN_IF_ERROR(MakeDir(root_));
  RETURN_IF_ERROR(MakeDir(root_ + "/send_targets"));
  std::string dir = DiscoveryDir(portal);
  RETURN_IF_ERROR(MakeDir(dir));
  return WriteFileAtomically(absl::StrCat(dir, "/", kStConfig),
                             FormatRecordFile(record, RecordKind::kDiscovery),
                             kRecordMode);
}

absl::StatusOr<Record> NodeDb::ReadDiscoveryRecord(
    const DiscoveryPortal& portal) const {
  RETURN_IF_ERROR(CheckAddress(portal.address));
  RETURN_IF_ERROR(CheckPortAndTpgt(portal.port, kTpgtUnknown));
  std::string path = absl::StrCat(DiscoveryDir(portal), "/", kStConfig);
  absl::StatusOr<Record> record = ReadRecordFile(path, RecordKind::kDiscovery);
  if (absl::IsNotFound(record.status())) {
    return WithExitCode(
        absl::NotFoundError(absl::StrCat("No discovery record for ",
                                         portal.address, ",", portal.port)),
        ExitCode::kNoObjectsFound);
  }
  return record;
}

absl::StatusOr<std::vector<DiscoveryPortal>> NodeDb::ListDiscoveryPortals()
    const {
  std::vector<DiscoveryPortal> portals;
  ASSIGN_OR_RETURN(std::vector<DirEntry> entries,
                   ListDir(root_ + "/send_targets"));
  for (const DirEntry& entry : entries) {
    if (entry.type != EntryType::kDirectory) continue;
    auto fields = SplitRight(entry.name, 2);
    if (!fields.has_value() || (*fields)[0].empty()) continue;
    std::optional<int> port = ParseNumber((*fields)[1]);
    if (!port.has_value()) continue;
    portals.push_back({std::string((*fields)[0]), *port});
  }
  std::sort(portals.begin(), portals.end());
  return portals;
}

absl::StatusOr<std::vector<NodeKey>> NodeDb::ListDiscoveryLinks(
    const DiscoveryPortal& portal) const {
  RETURN_IF_ERROR(CheckAddress(portal.address));
  std::vector<NodeKey> keys;
  ASSIGN_OR_RETURN(std::vector<DirEntry> entries,
                   ListDir(DiscoveryDir(portal)));
  for (const DirEntry& entry : entries) {
    if (entry.name == kStConfig) continue;
    // <target>,<address>,<port>,<tpgt>,<iface>: target names have no commas.
    auto fields = SplitRight(entry.name, 5);
    if (!fields.has_value()) continue;
    NodeKey key;
    key.target_name = std::string((*fields)[0]);
    key.iface = std::string((*fields)[4]);
    if (!ParsePortalName(absl::StrCat(A((*fields)[1]), ",", A((*fields)[2]),
                                      ",", A((*fields)[3])),
                         key) ||
        key.target_name.empty() || key.iface.empty()) {
      continue;
    }
    keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::Status NodeDb::LinkDiscoveredNode(const DiscoveryPortal& portal,
                                        const NodeKey& key) {
  // The link points at the portal directory, as open-iscsi's do.
  std::string target =
      absl::StrCat("../../nodes/", key.target_name, "/",
                   PortalName(key.address, key.port, key.tpgt));
  std::string link = absl::StrCat(DiscoveryDir(portal), "/", LinkName(key));
  if (::symlink(target.c_str(), link.c_str()) == 0 || errno == EEXIST) {
    return absl::OkStatus();
  }
  return DatabaseError(errno, absl::StrCat("create link ", link));
}

absl::StatusOr<DiscoveryChanges> NodeDb::ApplyDiscoveryResult(
    const DiscoveryPortal& portal, absl::Span<const DiscoveredTarget> found,
    const IscsidConf& conf, std::string_view iface_name) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  RETURN_IF_ERROR(CheckAddress(portal.address));
  RETURN_IF_ERROR(CheckPortAndTpgt(portal.port, kTpgtUnknown));
  RETURN_IF_ERROR(CheckIfaceName(iface_name));
  std::set<NodeKey> reported;
  for (const DiscoveredTarget& target : found) {
    NodeKey key{.target_name = target.target_name,
                .address = target.address,
                .port = target.port,
                .tpgt = target.tpgt,
                .iface = std::string(iface_name)};
    absl::Status valid = CheckNewKey(key);
    if (!valid.ok()) {
      return InvalidError(
          absl::StrCat("discovery at ", portal.address, ",", portal.port,
                       " returned an unusable record: ", valid.message()));
    }
    reported.insert(std::move(key));
  }
  ASSIGN_OR_RETURN(Record iface, ReadIface(iface_name));

  std::string st_config = absl::StrCat(DiscoveryDir(portal), "/", kStConfig);
  ASSIGN_OR_RETURN(EntryType st_type, TypeOfPath(st_config));
  if (st_type != EntryType::kFile) {
    RETURN_IF_ERROR(WriteDiscoveryRecord(
        conf.NewDiscoveryRecord(portal.address, portal.port)));
  }

  DiscoveryChanges changes;
  for (const NodeKey& key : reported) {
    ASSIGN_OR_RETURN(bool exists, NodeExists(key));
    if (exists) {
      changes.kept.push_back(key);
    } else {
      Record record = conf.NewNodeRecord();
      for (const KeySpec& spec : IfaceRecordKeys()) {
        record.Set(spec.name, iface.Get(spec.name));
      }
      record.Set("node.discovery_address", portal.address);
      record.Set("node.discovery_port", absl::StrCat(portal.port));
      record.Set("node.discovery_type", "send_targets");
      RETURN_IF_ERROR(WriteNode(key, record));
      changes.added.push_back(key);
    }
    RETURN_IF_ERROR(LinkDiscoveredNode(portal, key));
  }

  ASSIGN_OR_RETURN(std::vector<NodeKey> linked, ListDiscoveryLinks(portal));
  for (const NodeKey& key : linked) {
    if (key.iface != iface_name || reported.contains(key)) continue;
    RETURN_IF_ERROR(RemoveNodeFiles(key));
    changes.removed.push_back(key);
  }
  return changes;
}

}  // namespace kiscsi::conf
