// Internal to conf/: what the node database's files share (node_db.cc: node
// and iface records; node_db_discovery.cc: SendTargets records and links;
// node_db_files.cc: these helpers). The checks that keep every name a safe
// single path component, the mapping of keys to file names, and the
// directory primitives that refuse symbolic links in nodes/. Include it only
// from conf/node_db*.cc; everything else uses node_db.h.
#ifndef KISCSI_CONF_NODE_DB_INTERNAL_H_
#define KISCSI_CONF_NODE_DB_INTERNAL_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/node_db.h"
#include "conf/record.h"

namespace kiscsi::conf::internal {

inline constexpr char kStConfig[] = "st_config";
inline constexpr mode_t kRecordMode = 0600;

// InvalidArgument with ExitCode kInvalid.
absl::Status InvalidError(std::string message);

// The errno's status for a failed file operation, ExitCode kDatabase.
absl::Status DatabaseError(int error_number, std::string_view what);

// NotFound (kNoObjectsFound): "No records found for target ...".
absl::Status NoRecords(const NodeKey& key);

// IPv4, IPv6 (with an optional %zone) or a host name.
absl::Status CheckAddress(std::string_view address);

// An iface name usable as a file name.
absl::Status CheckIfaceName(std::string_view name);

// A port 1..65535 and a tpgt (or kTpgtUnknown).
absl::Status CheckPortAndTpgt(int port, int tpgt);

// For keys that name an existing record (they may have been written by
// open-iscsi).
absl::Status CheckExistingKey(const NodeKey& key);

// For keys of records about to be created: the target name must be a valid
// iSCSI name.
absl::Status CheckNewKey(const NodeKey& key);

// "<address>,<port>,<tpgt>": a portal folder's name.
std::string PortalName(std::string_view address, int port, int tpgt);

// "<target>,<address>,<port>,<tpgt>,<iface>": a discovery link's name.
std::string LinkName(const NodeKey& key);

// Splits "a,b,c" from the right into `count` fields; the first field keeps any
// extra commas.
std::optional<std::vector<std::string_view>> SplitRight(std::string_view text,
                                                        size_t count);

// A decimal number, nullopt when `text` is not one.
std::optional<int> ParseNumber(std::string_view text);

// "<address>,<port>,<tpgt>" -> key fields.
bool ParsePortalName(std::string_view name, NodeKey& key);

enum class EntryType { kFile, kDirectory, kSymlink, kOther };

struct DirEntry {
  std::string name;
  EntryType type;
};

// The entries of `dir` without dot names (., .., our temporary files), sorted
// by name; empty when `dir` does not exist.
absl::StatusOr<std::vector<DirEntry>> ListDir(const std::string& dir);

// lstat's answer; kOther when `path` does not exist.
absl::StatusOr<EntryType> TypeOfPath(const std::string& path);

// nodes/ holds folders and files, never links: open-iscsi and kiscsi make
// none, and a link there would let records be written to (or read from) a
// place outside the database. Writers and readers refuse them alike.
absl::Status LinkRefused(const std::string& path);

// OK when `path` does not exist or is not a symbolic link.
absl::Status CheckNotLink(const std::string& path);

// mkdir 0700; an existing directory is fine.
absl::Status MakeDir(const std::string& path);

// MakeDir for the folders inside nodes/: an existing link is refused.
absl::Status MakeNodeDir(const std::string& path);

// Removes the folder `path` when nothing but temporary files of killed writers
// is left in it. The caller holds the database lock, so no write is in
// progress there.
absl::Status RemoveDirIfUnused(const std::string& path);

// unlink; a missing file is fine.
absl::Status Unlink(const std::string& path);

// Checks every known value of `record` against the schema.
absl::Status ValidateValues(const Record& record, RecordKind kind);

// The record of a built-in iface (default, iser) or of a new one.
Record BuiltinIface(std::string_view name, std::string_view transport);

}  // namespace kiscsi::conf::internal

#endif  // KISCSI_CONF_NODE_DB_INTERNAL_H_
