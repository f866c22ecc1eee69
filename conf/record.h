// The typed key table shared by iscsid.conf, node records, discovery records
// and iface records, and the open-iscsi record text format.
//
// A Record is an ordered list of `key = value` pairs (values are strings, as in
// the files). The schema (KeySpec tables) gives each key its type, range or
// allowed values, default and whether it is a secret. The tables are in the
// order open-iscsi 2.1.8 prints records (`-o show` and the record files), so
// formatting a Record reproduces open-iscsi's files byte for byte.
//
//   ASSIGN_OR_RETURN(ParsedRecord parsed,
//                    ParseRecordText(text, path, RecordKind::kNode));
//   std::string file = FormatRecordFile(parsed.record, RecordKind::kNode);
#ifndef KISCSI_CONF_RECORD_H_
#define KISCSI_CONF_RECORD_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiscsi::conf {

// The version open-iscsi writes into "# BEGIN RECORD <version>".
inline constexpr std::string_view kRecordVersion = "2.1.8";
// iscsid.conf and record lines longer than this are rejected.
inline constexpr size_t kMaxLineLength = 2047;

enum class ValueType {
  kString,  // any single line of text
  kInt,     // decimal integer in [min, max]
  kBool,    // Yes | No
  kEnum,    // one of choices
  kList,    // comma-separated, each one of choices
};

// Which table a key is looked up in.
enum class RecordKind {
  kNode,        // nodes/<target>/<portal>/<iface>
  kDiscovery,   // send_targets/<portal>/st_config
  kIface,       // ifaces/<name>
  kIscsidConf,  // iscsid.conf: node, discovery and daemon keys
};

struct KeySpec {
  std::string_view name;
  ValueType type = ValueType::kString;
  std::string_view default_value;
  int64_t min = 0;                            // kInt only
  int64_t max = 0;                            // kInt only
  std::span<const std::string_view> choices;  // kEnum and kList
  bool secret = false;  // printed as ******** unless secrets are requested
};

// Keys in the order open-iscsi prints them.
std::span<const KeySpec> NodeRecordKeys();
std::span<const KeySpec> DiscoveryRecordKeys();
std::span<const KeySpec> IfaceRecordKeys();
// Keys only iscsid.conf has (iscsid.*, discovery.sendtargets.auth.chap_algs,
// ...).
std::span<const KeySpec> DaemonKeys();
// kiscsi's own keys a node record may set to override iscsid.conf for that
// node (kiscsi.disk.timeout, kiscsi.disk.scheduler; no default). They are not
// in NodeRecordKeys(): records that do not set them print exactly as
// open-iscsi's. ParseRecordText keeps them like unknown keys (printed last),
// without a warning when the value is valid; an invalid value is a warning and
// is dropped.
std::span<const KeySpec> NodeExtensionKeys();

// Old spellings accepted on input, mapped to the name kiscsi writes
// (node.session.conn_reopen_log_freq -> node.session.sess_reopen_log_freq).
// Other names are returned unchanged.
std::string_view CanonicalKeyName(std::string_view name);

// The spec of `name` (after CanonicalKeyName) in the tables of `kind`, or
// nullptr.
const KeySpec* FindKeySpec(RecordKind kind, std::string_view name);

// The known key of `kind` closest to `name` by edit distance, or "" when none
// is close.
std::string NearestKey(RecordKind kind, std::string_view name);

// "unknown key 'X'" plus " (did you mean 'Y'?)" when a key is close.
std::string UnknownKeyMessage(RecordKind kind, std::string_view name);

// What a valid value looks like: "an integer from 1 to 4096", "Yes or No",
// "one of manual, automatic, onboot", ...
std::string ExpectedValueText(const KeySpec& spec);

// Checks `value` against `spec` and returns its canonical spelling ("yes" ->
// "Yes", "crc32c,none" -> "CRC32C,None", " MD5 , SHA1" -> "MD5,SHA1"). Fails
// with InvalidArgument "invalid value 'V' for KEY: expected ...".
absl::StatusOr<std::string> NormalizeValue(const KeySpec& spec,
                                           std::string_view value);

// `text` as it can appear in a message: unchanged if printable, C-escaped
// otherwise.
std::string Printable(std::string_view text);

// An ordered key -> value map. Setting an existing key keeps its position.
class Record {
 public:
  void Set(std::string_view key, std::string_view value);
  bool Has(std::string_view key) const;
  // The value, or "" when absent.
  std::string Get(std::string_view key) const;
  bool Erase(std::string_view key);

  // Typed views; nullopt when the key is absent, empty or not of that type.
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<bool> GetBool(std::string_view key) const;  // Yes / No
  // The comma-separated elements, trimmed; empty elements dropped.
  std::vector<std::string> GetList(std::string_view key) const;

  const std::vector<std::pair<std::string, std::string>>& entries() const {
    return entries_;
  }

  friend bool operator==(const Record& a, const Record& b) {
    return a.entries_ == b.entries_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// Every key of `kind` with its default, in print order. For kIscsidConf: node
// keys, then discovery keys not already present, then daemon keys.
Record DefaultRecord(RecordKind kind);

// A problem found while reading a file; the message starts with "FILE:LINE: ".
struct Diagnostic {
  enum class Severity { kWarning, kError };
  Severity severity = Severity::kError;
  std::string message;
};

struct ParsedRecord {
  Record record;  // DefaultRecord(kind) overlaid with the file's values
  std::vector<std::string>
      set_keys;  // known keys the text set (canonical names)
  std::vector<Diagnostic> diagnostics;  // warnings only (errors fail the parse)
};

// Parses `key = value` text (iscsid.conf or a record file): `#` comment lines,
// blank lines, spaces around `=` optional. Unknown keys are warnings and are
// kept (after the known keys; NodeExtensionKeys in node records need no
// warning); malformed lines, over-long lines and invalid values are errors.
// On error returns InvalidArgument whose message lists every error line
// ("FILE:LINE: ..."), ExitCode kInvalid.
absl::StatusOr<ParsedRecord> ParseRecordText(std::string_view text,
                                             std::string_view file_name,
                                             RecordKind kind);

// The file open-iscsi writes: "# BEGIN RECORD 2.1.8", then `key = value` for
// every non-empty value in table order (unknown keys last, in their order),
// then "# END RECORD".
std::string FormatRecordFile(const Record& record, RecordKind kind);

// `iscsiadm -o show`: like the file but empty values print as <empty> and
// non-empty secrets as
// ******** unless `show_secrets`.
std::string FormatRecordShow(const Record& record, RecordKind kind,
                             bool show_secrets);

// Sets `key` of a node record to `value` once the node schema accepts it (the
// value normalized). The error names the key, and the value only when the key
// is not a secret.
absl::Status SetNodeValue(Record& record, std::string_view key,
                          std::string_view value);

// The node record's authentication: CHAP with `username`/`password` when a
// user is given, mutual when `username_in` is too, else None with every
// credential cleared.
absl::Status SetNodeAuth(Record& record, std::string_view username,
                         std::string_view password,
                         std::string_view username_in,
                         std::string_view password_in);

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_RECORD_H_
