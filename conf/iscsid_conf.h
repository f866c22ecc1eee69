// iscsid.conf: the daemon settings and the defaults for new node and discovery
// records.
//
//   ASSIGN_OR_RETURN(LoadedIscsidConf loaded,
//   LoadIscsidConf(IscsidConfPath())); for (const Diagnostic& d :
//   loaded.diagnostics) KISCSI_LOG(kWarning) << d.message; int64_t timeout =
//   *loaded.conf.GetInt("node.session.timeo.replacement_timeout");
//
// Unlike open-iscsi, which ignores unknown keys silently, unknown keys produce
// a warning naming the nearest known key, and invalid values make the load fail
// with "FILE:LINE: invalid value
// ..." (InvalidArgument, ExitCode kInvalid). A missing file means all defaults.
#ifndef KISCSI_CONF_ISCSID_CONF_H_
#define KISCSI_CONF_ISCSID_CONF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/record.h"

namespace kiscsi::conf {

class IscsidConf {
 public:
  // All defaults (the values Debian's iscsid.conf ships active).
  IscsidConf();

  // Validates and stores one setting; `key` may be an old alias. Fails with
  // InvalidArgument (ExitCode kInvalid) for an unknown key or an invalid value.
  absl::Status Set(std::string_view key, std::string_view value);

  // Every known key with its value (defaults applied).
  const Record& values() const { return values_; }
  // Whether the file set `key` (after alias mapping).
  bool IsSet(std::string_view key) const;

  std::string GetString(std::string_view key) const;
  // nullopt for an unset key without a default, or one that is not an integer /
  // bool key.
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<bool> GetBool(std::string_view key) const;

  // "None", "CRC32C", "CRC32C,None" or "None,CRC32C".
  std::string HeaderDigest() const;
  std::string DataDigest() const;
  // CHAP algorithms in order of preference: "MD5", "SHA1", "SHA256",
  // "SHA3-256".
  std::vector<std::string> NodeChapAlgorithms() const;
  // discovery.sendtargets.auth.chap_algs when set, else
  // node.session.auth.chap_algs (open-iscsi reads the node key into discovery
  // records too).
  std::vector<std::string> DiscoveryChapAlgorithms() const;

  // A node record (RecordKind::kNode) holding this file's node settings;
  // identity keys (node.name, portal, tpgt, iface) are left at their defaults
  // for the caller to fill in.
  Record NewNodeRecord() const;
  // A SendTargets discovery record for `address`:`port` with this file's
  // discovery settings.
  Record NewDiscoveryRecord(std::string_view address, int port) const;

 private:
  Record values_;
  absl::flat_hash_set<std::string> set_keys_;
};

struct LoadedIscsidConf {
  IscsidConf conf;
  std::vector<Diagnostic>
      diagnostics;  // warnings ("FILE:LINE: unknown key ...")
};

// Parses iscsid.conf text; `file_name` prefixes every message.
absl::StatusOr<LoadedIscsidConf> ParseIscsidConf(std::string_view text,
                                                 std::string_view file_name);
// Reads and parses `path`; a missing file gives the defaults and no
// diagnostics.
absl::StatusOr<LoadedIscsidConf> LoadIscsidConf(const std::string& path);

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_ISCSID_CONF_H_
