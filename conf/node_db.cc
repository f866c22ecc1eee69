#include "conf/node_db.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conf/db_lock.h"
#include "conf/file_util.h"
#include "conf/initiator_name.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"

namespace kiscsi::conf {
namespace {

constexpr char kStConfig[] = "st_config";
constexpr mode_t kDirMode = 0700;
constexpr mode_t kRecordMode = 0600;
constexpr size_t kMaxComponentLength = 255;  // NAME_MAX
constexpr size_t kMaxIfaceNameLength = 64;

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

absl::Status InvalidError(std::string message) {
  return WithExitCode(absl::InvalidArgumentError(std::move(message)),
                      ExitCode::kInvalid);
}

absl::Status DatabaseError(int error_number, std::string_view what) {
  return WithExitCode(ErrnoStatus(error_number, A(what)), ExitCode::kDatabase);
}

absl::Status NoRecords(const NodeKey& key) {
  return WithExitCode(
      absl::NotFoundError(absl::StrCat(
          "No records found for target ", Printable(key.target_name),
          ", portal ", Printable(key.address), ",", key.port, ",", key.tpgt,
          ", iface ", Printable(key.iface))),
      ExitCode::kNoObjectsFound);
}

// A name that is safe as one path component: not empty, no '/', no NUL, no
// leading '.' (which also rules out "." and ".."), at most NAME_MAX bytes.
absl::Status CheckComponent(std::string_view what, std::string_view name) {
  std::string why;
  if (name.empty()) {
    why = "empty";
  } else if (name.size() > kMaxComponentLength) {
    why = absl::StrCat("longer than ", kMaxComponentLength, " bytes");
  } else if (name.find('/') != std::string_view::npos) {
    why = "contains '/'";
  } else if (name.find('\0') != std::string_view::npos) {
    why = "contains a NUL byte";
  } else if (name.front() == '.') {
    why = "starts with '.'";
  } else {
    return absl::OkStatus();
  }
  return InvalidError(
      absl::StrCat("invalid ", A(what), " '", Printable(name), "': ", why));
}

bool AllCharsIn(std::string_view text, std::string_view extra) {
  return std::all_of(text.begin(), text.end(), [extra](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           extra.find(c) != std::string_view::npos;
  });
}

// IPv4, IPv6 (with an optional %zone) or a host name.
absl::Status CheckAddress(std::string_view address) {
  RETURN_IF_ERROR(CheckComponent("address", address));
  if (!AllCharsIn(address, ".:-%_")) {
    return InvalidError(absl::StrCat("invalid address '", Printable(address),
                                     "': expected an IPv4 or IPv6 address or a "
                                     "host name"));
  }
  return absl::OkStatus();
}

absl::Status CheckIfaceName(std::string_view name) {
  RETURN_IF_ERROR(CheckComponent("iface name", name));
  if (name.size() > kMaxIfaceNameLength || !AllCharsIn(name, ".:-_")) {
    return InvalidError(absl::StrCat(
        "invalid iface name '", Printable(name),
        "': letters, digits, '.', ':', '-' and '_', at most 64 characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckPortAndTpgt(int port, int tpgt) {
  if (port < 1 || port > 65535) {
    return InvalidError(
        absl::StrCat("invalid port ", port, ": expected 1 to 65535"));
  }
  if (tpgt < kTpgtUnknown || tpgt > 65535) {
    return InvalidError(
        absl::StrCat("invalid tpgt ", tpgt, ": expected -1 to 65535"));
  }
  return absl::OkStatus();
}

// For keys that name an existing record (they may have been written by
// open-iscsi).
absl::Status CheckExistingKey(const NodeKey& key) {
  RETURN_IF_ERROR(CheckComponent("target name", key.target_name));
  RETURN_IF_ERROR(CheckAddress(key.address));
  RETURN_IF_ERROR(CheckIfaceName(key.iface));
  return CheckPortAndTpgt(key.port, key.tpgt);
}

// For keys of records about to be created: the target name must be a valid
// iSCSI name.
absl::Status CheckNewKey(const NodeKey& key) {
  absl::Status name_ok = ValidateIscsiName(key.target_name);
  if (!name_ok.ok()) {
    return InvalidError(
        absl::StrCat("invalid target name: ", name_ok.message()));
  }
  return CheckExistingKey(key);
}

std::string PortalName(std::string_view address, int port, int tpgt) {
  return absl::StrCat(A(address), ",", port, ",", tpgt);
}

std::string LinkName(const NodeKey& key) {
  return absl::StrCat(key.target_name, ",", key.address, ",", key.port, ",",
                      key.tpgt, ",", key.iface);
}

// Splits "a,b,c" from the right into `count` fields; the first field keeps any
// extra commas.
std::optional<std::vector<std::string_view>> SplitRight(std::string_view text,
                                                        size_t count) {
  std::vector<std::string_view> fields(count);
  for (size_t i = count - 1; i > 0; --i) {
    size_t comma = text.rfind(',');
    if (comma == std::string_view::npos) return std::nullopt;
    fields[i] = text.substr(comma + 1);
    text = text.substr(0, comma);
  }
  fields[0] = text;
  return fields;
}

std::optional<int> ParseNumber(std::string_view text) {
  int value = 0;
  if (text.empty() || !absl::SimpleAtoi(A(text), &value)) return std::nullopt;
  return value;
}

// "<address>,<port>,<tpgt>" -> key fields.
bool ParsePortalName(std::string_view name, NodeKey& key) {
  auto fields = SplitRight(name, 3);
  if (!fields.has_value()) return false;
  auto port = ParseNumber((*fields)[1]);
  auto tpgt = ParseNumber((*fields)[2]);
  if (!port.has_value() || !tpgt.has_value() || (*fields)[0].empty()) {
    return false;
  }
  key.address = std::string((*fields)[0]);
  key.port = *port;
  key.tpgt = *tpgt;
  return true;
}

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct DirEntry {
  std::string name;
  EntryType type;
};

EntryType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kFile;
  if (S_ISDIR(mode)) return EntryType::kDirectory;
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  return EntryType::kOther;
}

// The entries of `dir` without dot names (., .., our temporary files), sorted
// by name; empty when `dir` does not exist.
absl::StatusOr<std::vector<DirEntry>> ListDir(const std::string& dir) {
  std::vector<DirEntry> entries;
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT) return entries;
    return DatabaseError(errno, absl::StrCat("open directory ", dir));
  }
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(stream);
    if (entry == nullptr) break;
    if (entry->d_name[0] == '.') continue;
    std::string name = entry->d_name;
    struct stat st;
    if (::lstat(absl::StrCat(dir, "/", name).c_str(), &st) != 0) continue;
    entries.push_back({std::move(name), TypeOf(st.st_mode)});
  }
  int error = errno;
  ::closedir(stream);
  if (error != 0)
    return DatabaseError(error, absl::StrCat("read directory ", dir));
  std::sort(
      entries.begin(), entries.end(),
      [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

absl::StatusOr<EntryType> TypeOfPath(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return EntryType::kOther;
    return DatabaseError(errno, absl::StrCat("stat ", path));
  }
  return TypeOf(st.st_mode);
}

// nodes/ holds folders and files, never links: open-iscsi and kiscsi make
// none, and a link there would let records be written to (or read from) a
// place outside the database. Writers and readers refuse them alike.
absl::Status LinkRefused(const std::string& path) {
  return WithExitCode(
      absl::FailedPreconditionError(absl::StrCat(
          path,
          " is a symbolic link: the node database does not follow links in "
          "nodes/ (replace it with the folder itself)")),
      ExitCode::kDatabase);
}

// OK when `path` does not exist or is not a symbolic link.
absl::Status CheckNotLink(const std::string& path) {
  ASSIGN_OR_RETURN(EntryType type, TypeOfPath(path));
  if (type == EntryType::kSymlink) return LinkRefused(path);
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), kDirMode) == 0 || errno == EEXIST) {
    return absl::OkStatus();
  }
  return DatabaseError(errno, absl::StrCat("create directory ", path));
}

// Removes `path` if it is an empty directory; a directory still in use is not
// an error.
absl::Status RemoveDirIfEmpty(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOTEMPTY || errno == EEXIST ||
      errno == ENOENT) {
    return absl::OkStatus();
  }
  return DatabaseError(errno, absl::StrCat("remove directory ", path));
}

// MakeDir for the folders inside nodes/: an existing link is refused.
absl::Status MakeNodeDir(const std::string& path) {
  RETURN_IF_ERROR(CheckNotLink(path));
  return MakeDir(path);
}

// Removes the folder `path` when nothing but temporary files of killed writers
// is left in it. The caller holds the database lock, so no write is in
// progress there.
absl::Status RemoveDirIfUnused(const std::string& path) {
  RETURN_IF_ERROR(RemoveStaleTemporaryFiles(path, std::chrono::seconds(0)));
  return RemoveDirIfEmpty(path);
}

absl::Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return DatabaseError(errno, absl::StrCat("remove ", path));
}

// Checks every known value of `record` against the schema.
absl::Status ValidateValues(const Record& record, RecordKind kind) {
  for (const auto& [key, value] : record.entries()) {
    const KeySpec* spec = FindKeySpec(kind, key);
    if (spec == nullptr) continue;
    // Keys without a default may stay empty.
    if (value.empty() && spec->default_value.empty()) continue;
    RETURN_IF_ERROR(NormalizeValue(*spec, value).status());
  }
  return absl::OkStatus();
}

Record BuiltinIface(std::string_view name, std::string_view transport) {
  Record iface = DefaultRecord(RecordKind::kIface);
  iface.Set("iface.iscsi_ifacename", name);
  iface.Set("iface.transport_name", transport);
  return iface;
}

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
