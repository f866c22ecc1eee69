// The node database (node_db.h): node records (locate, list, read, write,
// update, delete, including old open-iscsi's single-file layout) and iface
// records. SendTargets discovery records and their links are in
// node_db_discovery.cc; the name checks and directory primitives both use are
// in node_db_files.cc.
#include "conf/node_db.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conf/db_lock.h"
#include "conf/file_util.h"
#include "conf/initiator_name.h"
#include "conf/node_db_internal.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"

namespace kiscsi::conf {
namespace {

using internal::BuiltinIface;
using internal::CheckExistingKey;
using internal::CheckIfaceName;
using internal::CheckNewKey;
using internal::CheckNotLink;
using internal::DatabaseError;
using internal::DirEntry;
using internal::EntryType;
using internal::InvalidError;
using internal::kRecordMode;
using internal::LinkName;
using internal::LinkRefused;
using internal::ListDir;
using internal::MakeDir;
using internal::MakeNodeDir;
using internal::NoRecords;
using internal::ParsePortalName;
using internal::PortalName;
using internal::RemoveDirIfUnused;
using internal::TypeOfPath;
using internal::Unlink;
using internal::ValidateValues;

// Keys that identify a record (they are its path) or record where it was
// discovered; open-iscsi does not let `-o update` change them either.
constexpr std::string_view kReadOnlyKeys[] = {
    "node.name",
    "node.tpgt",
    "node.conn[0].address",
    "node.conn[0].port",
    "iface.iscsi_ifacename",
    "node.discovery_address",
    "node.discovery_port",
    "node.discovery_type",
};
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

bool NodeFilter::Matches(const NodeKey& key) const {
  return (!target_name.has_value() || *target_name == key.target_name) &&
         (!address.has_value() || *address == key.address) &&
         (!port.has_value() || *port == key.port) &&
         (!tpgt.has_value() || *tpgt == key.tpgt) &&
         (!iface.has_value() || *iface == key.iface);
}

std::string FormatIfaceLine(const Record& iface) {
  auto field = [&iface](std::string_view key) {
    std::string value = iface.Get(key);
    return value.empty() ? std::string("<empty>") : value;
  };
  return absl::StrCat(
      field("iface.iscsi_ifacename"), " ", field("iface.transport_name"), ",",
      field("iface.hwaddress"), ",", field("iface.ipaddress"), ",",
      field("iface.net_ifacename"), ",", field("iface.initiatorname"));
}

NodeDb::NodeDb(std::string root) : root_(std::move(root)) {}

std::string NodeDb::NodesDir() const { return root_ + "/nodes"; }

std::string NodeDb::PortalPath(const NodeKey& key) const {
  return absl::StrCat(NodesDir(), "/", key.target_name, "/",
                      PortalName(key.address, key.port, key.tpgt));
}

std::string NodeDb::DiscoveryDir(const DiscoveryPortal& portal) const {
  return absl::StrCat(root_, "/send_targets/", portal.address, ",",
                      portal.port);
}

absl::StatusOr<Record> NodeDb::ReadRecordFile(const std::string& path,
                                              RecordKind kind) const {
  ASSIGN_OR_RETURN(std::string text, ReadConfigFile(path));
  ASSIGN_OR_RETURN(ParsedRecord parsed, ParseRecordText(text, path, kind));
  for (const Diagnostic& diagnostic : parsed.diagnostics) {
    KISCSI_LOG(kWarning) << diagnostic.message;
  }
  return std::move(parsed.record);
}

absl::StatusOr<std::string> NodeDb::LegacyIface(const std::string& path) const {
  ASSIGN_OR_RETURN(Record record, ReadRecordFile(path, RecordKind::kNode));
  std::string iface = record.Get("iface.iscsi_ifacename");
  return iface.empty() ? std::string("default") : iface;
}

absl::StatusOr<std::optional<NodeDb::Location>> NodeDb::Locate(
    const NodeKey& key) const {
  RETURN_IF_ERROR(CheckExistingKey(key));
  RETURN_IF_ERROR(CheckNotLink(absl::StrCat(NodesDir(), "/", key.target_name)));
  std::string portal = PortalPath(key);
  ASSIGN_OR_RETURN(EntryType portal_type, TypeOfPath(portal));
  if (portal_type == EntryType::kSymlink) return LinkRefused(portal);
  if (portal_type == EntryType::kFile) {
    ASSIGN_OR_RETURN(std::string iface, LegacyIface(portal));
    if (iface != key.iface) return std::nullopt;
    return Location{portal, true};
  }
  if (portal_type != EntryType::kDirectory) return std::nullopt;
  std::string path = absl::StrCat(portal, "/", key.iface);
  ASSIGN_OR_RETURN(EntryType type, TypeOfPath(path));
  if (type == EntryType::kSymlink) return LinkRefused(path);
  if (type != EntryType::kFile) return std::nullopt;
  return Location{path, false};
}

absl::StatusOr<std::vector<NodeKey>> NodeDb::ListNodes() const {
  std::vector<NodeKey> keys;
  ASSIGN_OR_RETURN(std::vector<DirEntry> targets, ListDir(NodesDir()));
  for (const DirEntry& target : targets) {
    std::string target_dir = absl::StrCat(NodesDir(), "/", target.name);
    if (target.type == EntryType::kSymlink) return LinkRefused(target_dir);
    if (target.type != EntryType::kDirectory) continue;
    ASSIGN_OR_RETURN(std::vector<DirEntry> portals, ListDir(target_dir));
    for (const DirEntry& portal : portals) {
      NodeKey key;
      key.target_name = target.name;
      if (!ParsePortalName(portal.name, key)) {
        KISCSI_LOG(kWarning) << "ignoring " << target_dir << "/" << portal.name
                             << ": not <address>,<port>,<tpgt>";
        continue;
      }
      std::string portal_path = absl::StrCat(target_dir, "/", portal.name);
      if (portal.type == EntryType::kSymlink) return LinkRefused(portal_path);
      if (portal.type == EntryType::kFile) {
        absl::StatusOr<std::string> iface = LegacyIface(portal_path);
        if (!iface.ok()) {
          KISCSI_LOG(kWarning) << iface.status().message();
          continue;
        }
        key.iface = *iface;
        keys.push_back(key);
        continue;
      }
      if (portal.type != EntryType::kDirectory) continue;
      ASSIGN_OR_RETURN(std::vector<DirEntry> ifaces, ListDir(portal_path));
      for (const DirEntry& iface : ifaces) {
        if (iface.type == EntryType::kSymlink) {
          return LinkRefused(absl::StrCat(portal_path, "/", iface.name));
        }
        if (iface.type != EntryType::kFile) continue;
        key.iface = iface.name;
        keys.push_back(key);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::StatusOr<std::vector<NodeKey>> NodeDb::FindNodes(
    const NodeFilter& filter) const {
  ASSIGN_OR_RETURN(std::vector<NodeKey> keys, ListNodes());
  std::erase_if(keys,
                [&filter](const NodeKey& key) { return !filter.Matches(key); });
  return keys;
}

absl::StatusOr<bool> NodeDb::NodeExists(const NodeKey& key) const {
  ASSIGN_OR_RETURN(std::optional<Location> location, Locate(key));
  return location.has_value();
}

absl::StatusOr<Record> NodeDb::ReadNode(const NodeKey& key) const {
  ASSIGN_OR_RETURN(std::optional<Location> location, Locate(key));
  if (!location.has_value()) return NoRecords(key);
  ASSIGN_OR_RETURN(Record record,
                   ReadRecordFile(location->path, RecordKind::kNode));
  // A record is named by its path: discovery, login, probe, listings and
  // deletion all go by it. A node.name inside that says otherwise (a file
  // edited or copied by hand) would log in to one target and be listed as
  // another, so it is an error naming the file rather than a silent choice.
  // Names compare case-insensitively (RFC 3722); an empty node.name is
  // taken from the path.
  const std::string name = record.Get("node.name");
  if (!name.empty() &&
      NormalizeIscsiName(name) != NormalizeIscsiName(key.target_name)) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(
            location->path, ": node.name '", Printable(name),
            "' differs from the record's folder '", Printable(key.target_name),
            "' (fix node.name or move the record)")),
        ExitCode::kDatabase);
  }
  record.Set("node.name", key.target_name);
  return record;
}

absl::Status NodeDb::WriteNode(const NodeKey& key, const Record& record) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  RETURN_IF_ERROR(CheckNewKey(key));
  Record full = record;
  full.Set("node.name", key.target_name);
  full.Set("node.tpgt", absl::StrCat(key.tpgt));
  full.Set("node.conn[0].address", key.address);
  full.Set("node.conn[0].port", absl::StrCat(key.port));
  full.Set("iface.iscsi_ifacename", key.iface);
  RETURN_IF_ERROR(ValidateValues(full, RecordKind::kNode));
  std::string content = FormatRecordFile(full, RecordKind::kNode);

  RETURN_IF_ERROR(CheckNotLink(absl::StrCat(NodesDir(), "/", key.target_name)));
  std::string portal = PortalPath(key);
  ASSIGN_OR_RETURN(EntryType portal_type, TypeOfPath(portal));
  if (portal_type == EntryType::kSymlink) return LinkRefused(portal);
  if (portal_type == EntryType::kFile) {
    ASSIGN_OR_RETURN(std::string legacy_iface, LegacyIface(portal));
    if (legacy_iface == key.iface) {
      return WriteFileAtomically(portal, content, kRecordMode);
    }
    // Another iface at this portal: move the old single-file record into the
    // directory layout first.
    std::string moved = absl::StrCat(portal, ".legacy");
    if (::rename(portal.c_str(), moved.c_str()) != 0) {
      return DatabaseError(errno, absl::StrCat("rename ", portal));
    }
    RETURN_IF_ERROR(MakeDir(portal));
    std::string target = absl::StrCat(portal, "/", legacy_iface);
    if (::rename(moved.c_str(), target.c_str()) != 0) {
      return DatabaseError(errno,
                           absl::StrCat("rename ", moved, " to ", target));
    }
  }
  RETURN_IF_ERROR(MakeDir(root_));
  RETURN_IF_ERROR(MakeDir(NodesDir()));
  RETURN_IF_ERROR(MakeNodeDir(absl::StrCat(NodesDir(), "/", key.target_name)));
  RETURN_IF_ERROR(MakeNodeDir(portal));
  const std::string path = absl::StrCat(portal, "/", key.iface);
  RETURN_IF_ERROR(CheckNotLink(path));
  return WriteFileAtomically(path, content, kRecordMode);
}

absl::Status NodeDb::UpdateNode(
    const NodeKey& key,
    absl::Span<const std::pair<std::string, std::string>> settings) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  std::vector<std::pair<std::string_view, std::string>> checked;
  for (const auto& [name, value] : settings) {
    const KeySpec* spec = FindKeySpec(RecordKind::kNode, name);
    if (spec == nullptr) {
      return InvalidError(UnknownKeyMessage(RecordKind::kNode, name));
    }
    if (std::find(std::begin(kReadOnlyKeys), std::end(kReadOnlyKeys),
                  spec->name) != std::end(kReadOnlyKeys)) {
      return InvalidError(absl::StrCat(
          A(spec->name),
          " cannot be changed: it identifies the record or where it "
          "was discovered; create a new record instead"));
    }
    ASSIGN_OR_RETURN(std::string normalized, NormalizeValue(*spec, value));
    checked.emplace_back(spec->name, std::move(normalized));
  }
  ASSIGN_OR_RETURN(std::optional<Location> location, Locate(key));
  if (!location.has_value()) return NoRecords(key);
  // Through ReadNode: a node.name that differs from the folder is refused
  // here too.
  ASSIGN_OR_RETURN(Record record, ReadNode(key));
  for (const auto& [name, value] : checked) record.Set(name, value);
  return WriteFileAtomically(
      location->path, FormatRecordFile(record, RecordKind::kNode), kRecordMode);
}

absl::Status NodeDb::RemoveNodeFiles(const NodeKey& key) {
  ASSIGN_OR_RETURN(std::optional<Location> location, Locate(key));
  if (location.has_value()) {
    RETURN_IF_ERROR(Unlink(location->path));
    if (!location->legacy) RETURN_IF_ERROR(RemoveDirIfUnused(PortalPath(key)));
    RETURN_IF_ERROR(
        RemoveDirIfUnused(absl::StrCat(NodesDir(), "/", key.target_name)));
  }
  ASSIGN_OR_RETURN(std::vector<DiscoveryPortal> portals,
                   ListDiscoveryPortals());
  for (const DiscoveryPortal& portal : portals) {
    RETURN_IF_ERROR(
        Unlink(absl::StrCat(DiscoveryDir(portal), "/", LinkName(key))));
  }
  return absl::OkStatus();
}

absl::Status NodeDb::DeleteNode(const NodeKey& key) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  ASSIGN_OR_RETURN(bool exists, NodeExists(key));
  if (!exists) return NoRecords(key);
  return RemoveNodeFiles(key);
}

absl::StatusOr<Record> NodeDb::ReadIface(std::string_view name) const {
  if (name == "default") return BuiltinIface("default", "tcp");
  if (name == "iser") return BuiltinIface("iser", "iser");
  RETURN_IF_ERROR(CheckIfaceName(name));
  std::string path = absl::StrCat(root_, "/ifaces/", A(name));
  absl::StatusOr<Record> record = ReadRecordFile(path, RecordKind::kIface);
  if (absl::IsNotFound(record.status())) {
    return WithExitCode(absl::NotFoundError(absl::StrCat(
                            "Could not find iface '", A(name), "'")),
                        ExitCode::kNoObjectsFound);
  }
  // Like open-iscsi, the file name is the iface's name.
  if (record.ok()) record->Set("iface.iscsi_ifacename", name);
  return record;
}

absl::StatusOr<std::vector<Record>> NodeDb::ListIfaces() const {
  // The folder's ifaces first, then the built-in ones, as iscsiadm lists them.
  std::vector<Record> ifaces;
  ASSIGN_OR_RETURN(std::vector<DirEntry> entries, ListDir(root_ + "/ifaces"));
  for (const DirEntry& entry : entries) {
    if (entry.type != EntryType::kFile || entry.name == "default" ||
        entry.name == "iser") {
      continue;
    }
    ASSIGN_OR_RETURN(Record iface, ReadIface(entry.name));
    ifaces.push_back(std::move(iface));
  }
  ifaces.push_back(BuiltinIface("default", "tcp"));
  ifaces.push_back(BuiltinIface("iser", "iser"));
  return ifaces;
}

namespace {

absl::Status CheckNotBuiltin(std::string_view name, std::string_view what) {
  if (name == "default" || name == "iser") {
    return InvalidError(absl::StrCat(
        "iface ", A(name), " is a special interface and cannot be ", A(what)));
  }
  return CheckIfaceName(name);
}

}  // namespace

absl::Status NodeDb::NewIface(std::string_view name) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  RETURN_IF_ERROR(CheckIfaceName(name));
  if (ReadIface(name).ok()) {
    return WithExitCode(absl::AlreadyExistsError(
                            absl::StrCat("iface ", A(name), " already exists")),
                        ExitCode::kSessionExists);
  }
  RETURN_IF_ERROR(MakeDir(root_));
  RETURN_IF_ERROR(MakeDir(root_ + "/ifaces"));
  Record iface = BuiltinIface(name, "tcp");
  return WriteFileAtomically(absl::StrCat(root_, "/ifaces/", A(name)),
                             FormatRecordFile(iface, RecordKind::kIface),
                             kRecordMode);
}

absl::Status NodeDb::UpdateIface(
    std::string_view name,
    absl::Span<const std::pair<std::string, std::string>> settings) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  RETURN_IF_ERROR(CheckNotBuiltin(name, "changed"));
  ASSIGN_OR_RETURN(Record iface, ReadIface(name));
  for (const auto& [key, value] : settings) {
    const KeySpec* spec = FindKeySpec(RecordKind::kIface, key);
    if (spec == nullptr) {
      return InvalidError(UnknownKeyMessage(RecordKind::kIface, key));
    }
    if (spec->name == "iface.iscsi_ifacename") {
      return InvalidError(
          "iface.iscsi_ifacename is the file's name: create a new iface "
          "instead");
    }
    ASSIGN_OR_RETURN(std::string normalized, NormalizeValue(*spec, value));
    iface.Set(spec->name, normalized);
  }
  return WriteFileAtomically(absl::StrCat(root_, "/ifaces/", A(name)),
                             FormatRecordFile(iface, RecordKind::kIface),
                             kRecordMode);
}

absl::Status NodeDb::DeleteIface(std::string_view name) {
  ASSIGN_OR_RETURN(DbLock lock, DbLock::Acquire());
  RETURN_IF_ERROR(CheckNotBuiltin(name, "deleted"));
  RETURN_IF_ERROR(ReadIface(name).status());
  ASSIGN_OR_RETURN(std::vector<NodeKey> keys, ListNodes());
  for (const NodeKey& key : keys) {
    if (key.iface == name) RETURN_IF_ERROR(RemoveNodeFiles(key));
  }
  return Unlink(absl::StrCat(root_, "/ifaces/", A(name)));
}

}  // namespace kiscsi::conf
