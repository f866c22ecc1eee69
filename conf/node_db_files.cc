// The helpers of the node database (node_db_internal.h): name checks, key <->
// file name mapping, directory listing and the mkdir/unlink/rmdir primitives.
// Every path they touch is under the database root the caller built; nothing
// here follows a symbolic link inside nodes/ or takes the database lock (the
// callers in node_db.cc and node_db_discovery.cc do).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conf/file_util.h"
#include "conf/initiator_name.h"
#include "conf/node_db_internal.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi::conf::internal {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr size_t kMaxComponentLength = 255;  // NAME_MAX
constexpr size_t kMaxIfaceNameLength = 64;

absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

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

namespace {

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

}  // namespace

namespace {

bool AllCharsIn(std::string_view text, std::string_view extra) {
  return std::all_of(text.begin(), text.end(), [extra](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           extra.find(c) != std::string_view::npos;
  });
}

}  // namespace

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

namespace {

EntryType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kFile;
  if (S_ISDIR(mode)) return EntryType::kDirectory;
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  return EntryType::kOther;
}

}  // namespace

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

namespace {

// Removes `path` if it is an empty directory; a directory still in use is not
// an error.
absl::Status RemoveDirIfEmpty(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOTEMPTY || errno == EEXIST ||
      errno == ENOENT) {
    return absl::OkStatus();
  }
  return DatabaseError(errno, absl::StrCat("remove directory ", path));
}

}  // namespace

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

}  // namespace kiscsi::conf::internal
