// The open-iscsi node database, read and written in open-iscsi 2.1.8's on-disk
// layout:
//
//   ROOT/nodes/<target>/<address>,<port>,<tpgt>/<iface>     node record (mode
//   0600) ROOT/nodes/<target>/<address>,<port>,<tpgt>             node record
//   of old open-iscsi (a file) ROOT/send_targets/<address>,<port>/st_config
//   SendTargets discovery record
//   ROOT/send_targets/<address>,<port>/<target>,<address>,<port>,<tpgt>,<iface>
//                                                           symlink to the
//                                                           node's portal
//                                                           directory
//   ROOT/ifaces/<name>                                      iface record
//   (default, iser built in)
//
// ROOT is /etc/iscsi by default (SysconfDir()). IPv6 addresses appear
// unbracketed. Files are written atomically (temporary file + rename),
// directories are created 0700.
//
// The discovery links are relative
// ("../../nodes/<target>/<address>,<port>,<tpgt>"); open-iscsi makes absolute
// ones to the same directory. Relative links stay valid when the database is
// moved or copied (into an initramfs, /var/lib/iscsi on other distributions, a
// test's temporary directory); both kinds are read, since links are recognized
// by name, never followed.
//
// Target names come from the network (SendTargets) and become directory names,
// so names for new records must be valid iSCSI names (ValidateIscsiName: no
// '/', no "..", at most 223 bytes); addresses, ports, tpgts and iface names are
// checked too. Nothing is ever written outside ROOT.
//
// Inside nodes/ there are folders and files only: a symbolic link there (a
// target or portal folder, a record) is refused by writers and readers alike
// (FailedPrecondition naming the path, ExitCode kDatabase). A record is named
// by its path: a node.name inside that names another target is an error naming
// the file. Deleting a record also removes temporary files that killed writers
// left beside it, and then its empty folders.
//
// Writers take the database lock (DbLock).
//
// Sources: node_db.cc (node and iface records), node_db_discovery.cc
// (SendTargets records and links), node_db_files.cc (name checks and directory
// primitives, node_db_internal.h).
#ifndef KISCSI_CONF_NODE_DB_H_
#define KISCSI_CONF_NODE_DB_H_

#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "conf/iscsid_conf.h"
#include "conf/record.h"
#include "src/base/paths.h"

namespace kiscsi::conf {

inline constexpr int kTpgtUnknown = -1;

// Identifies one node record.
struct NodeKey {
  std::string target_name;
  std::string address;  // IPv4, IPv6 (no brackets) or host name
  int port = 3260;
  int tpgt = kTpgtUnknown;
  std::string iface = "default";

  friend auto operator<=>(const NodeKey& a, const NodeKey& b) {
    return std::tie(a.target_name, a.address, a.port, a.tpgt, a.iface) <=>
           std::tie(b.target_name, b.address, b.port, b.tpgt, b.iface);
  }
  friend bool operator==(const NodeKey&, const NodeKey&) = default;
};

// Selects node records; an unset field matches anything.
struct NodeFilter {
  std::optional<std::string> target_name;
  std::optional<std::string> address;
  std::optional<int> port;
  std::optional<int> tpgt;
  std::optional<std::string> iface;

  bool Matches(const NodeKey& key) const;
};

struct DiscoveryPortal {
  std::string address;
  int port = 3260;

  friend auto operator<=>(const DiscoveryPortal&,
                          const DiscoveryPortal&) = default;
};

// One `TargetAddress` answer of SendTargets.
struct DiscoveredTarget {
  std::string target_name;
  std::string address;
  int port = 3260;
  int tpgt = kTpgtUnknown;
};

// What ApplyDiscoveryResult did, each list sorted.
struct DiscoveryChanges {
  std::vector<NodeKey> added;  // new records, made from iscsid.conf defaults
  std::vector<NodeKey> kept;   // existing records, left untouched
  std::vector<NodeKey>
      removed;  // records from this portal it no longer reports
};

// `iscsiadm -m iface` line: "default tcp,<empty>,<empty>,<empty>,<empty>"
// (NAME TRANSPORT,HWADDRESS,IPADDRESS,NETDEV,INITIATORNAME).
std::string FormatIfaceLine(const Record& iface);

class NodeDb {
 public:
  explicit NodeDb(std::string root = SysconfDir());

  const std::string& root() const { return root_; }

  // Every node record, sorted by target name, then portal, tpgt and iface.
  absl::StatusOr<std::vector<NodeKey>> ListNodes() const;
  absl::StatusOr<std::vector<NodeKey>> FindNodes(
      const NodeFilter& filter) const;
  absl::StatusOr<bool> NodeExists(const NodeKey& key) const;

  // The record: built-in defaults overlaid with the file. NotFound (ExitCode
  // kNoObjectsFound) when there is none; InvalidArgument "PATH:LINE: ..." when
  // the file is malformed, InvalidArgument "PATH: node.name '...' differs from
  // the record's folder" when node.name names another target (letter case
  // aside). Unknown keys are kept (and logged as warnings).
  absl::StatusOr<Record> ReadNode(const NodeKey& key) const;

  // Creates or replaces the record of `key`. The identity keys (node.name,
  // node.tpgt, node.conn[0].address, node.conn[0].port, iface.iscsi_ifacename)
  // are taken from `key`; every other known value is validated.
  absl::Status WriteNode(const NodeKey& key, const Record& record);

  // `iscsiadm -m node -o update -n NAME -v VALUE [-n NAME -v VALUE]...`:
  // every pair, in order, in one write; nothing is written unless all are
  // valid. Unknown names fail with InvalidArgument naming the nearest key,
  // invalid values and identity keys with InvalidArgument; all ExitCode
  // kInvalid.
  absl::Status UpdateNode(
      const NodeKey& key,
      absl::Span<const std::pair<std::string, std::string>> settings);
  absl::Status UpdateNode(const NodeKey& key, std::string_view name,
                          std::string_view value) {
    const std::pair<std::string, std::string> setting{name, value};
    return UpdateNode(key, absl::MakeConstSpan(&setting, 1));
  }

  // Removes the record, its directories once empty and the discovery links to
  // it.
  absl::Status DeleteNode(const NodeKey& key);

  // Writes send_targets/<address>,<port>/st_config; address and port come from
  // the record.
  absl::Status WriteDiscoveryRecord(const Record& record);
  absl::StatusOr<Record> ReadDiscoveryRecord(
      const DiscoveryPortal& portal) const;
  // `iscsiadm -m discoverydb -t st -p P -o delete`: the discovery record and
  // the node records it found (what its directory links to), as iscsiadm
  // does. NotFound (ExitCode kNoObjectsFound) when there is no such record.
  absl::Status DeleteDiscoveryRecord(const DiscoveryPortal& portal);
  // Portals that have a send_targets directory, sorted.
  absl::StatusOr<std::vector<DiscoveryPortal>> ListDiscoveryPortals() const;
  // The nodes linked from a discovery portal's directory, sorted.
  absl::StatusOr<std::vector<NodeKey>> ListDiscoveryLinks(
      const DiscoveryPortal& portal) const;

  // Records the answer of a SendTargets discovery at `portal` through iface
  // `iface_name`, as iscsiadm's default discovery does: writes st_config if
  // missing, creates records for new targets from `conf` (with
  // node.discovery_address/port/type set), leaves existing records untouched,
  // links all of them, and deletes the records previously discovered through
  // this portal and iface that are no longer reported. Every name is validated
  // before anything is written: one hostile target name fails the whole result.
  absl::StatusOr<DiscoveryChanges> ApplyDiscoveryResult(
      const DiscoveryPortal& portal, absl::Span<const DiscoveredTarget> found,
      const IscsidConf& conf, std::string_view iface_name = "default");

  // The iface record `name`: "default" (tcp) and "iser" are built in, others
  // are read from ifaces/<name>. NotFound (ExitCode kNoObjectsFound) when there
  // is no such iface.
  absl::StatusOr<Record> ReadIface(std::string_view name) const;
  // `iscsiadm -m iface -I NAME -o new`: ifaces/NAME with the defaults
  // (transport tcp). AlreadyExists (ExitCode kSessionExists, as iscsiadm) if
  // it exists; the built-in default and iser ifaces always exist.
  absl::Status NewIface(std::string_view name);
  // `-o update -n NAME -v VALUE ...`: every pair in order, in one write;
  // nothing is written unless all are valid. The built-in ifaces are not
  // stored and cannot be changed (InvalidArgument).
  absl::Status UpdateIface(
      std::string_view name,
      absl::Span<const std::pair<std::string, std::string>> settings);
  // `-o delete`: the iface's file and the node records bound to it.
  absl::Status DeleteIface(std::string_view name);
  // Built-in ifaces first, then ifaces/ sorted by name.
  absl::StatusOr<std::vector<Record>> ListIfaces() const;

 private:
  struct Location {
    std::string path;
    bool legacy = false;  // the portal entry itself is the record file
  };
  absl::StatusOr<std::optional<Location>> Locate(const NodeKey& key) const;
  absl::StatusOr<std::string> LegacyIface(const std::string& path) const;
  absl::StatusOr<Record> ReadRecordFile(const std::string& path,
                                        RecordKind kind) const;
  absl::Status RemoveNodeFiles(const NodeKey& key);
  absl::Status LinkDiscoveredNode(const DiscoveryPortal& portal,
                                  const NodeKey& key);

  std::string NodesDir() const;
  std::string PortalPath(const NodeKey& key) const;
  std::string DiscoveryDir(const DiscoveryPortal& portal) const;

  std::string root_;
};

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_NODE_DB_H_
