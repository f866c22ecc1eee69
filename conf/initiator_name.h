// iSCSI names (RFC 7143 section 4.2.7) and /etc/iscsi/initiatorname.iscsi.
//
// The file holds `InitiatorName=iqn....` and optionally `InitiatorAlias=...`;
// `#` starts a comment line and whitespace around keys and values is ignored.
// Names have three forms:
//   iqn.YYYY-MM.<reversed domain>[:<anything>]
//       e.g. iqn.1993-08.org.debian:01:c85bc2516951
//   eui.<16 hex digits>, e.g. eui.02004567a425678d
//   naa.<16 or 32 hex digits>, e.g. naa.52004567ba64678d
// at most 223 bytes, made of letters, digits, '-', '.', ':', '_' (and non-ASCII
// characters, which RFC 3722 allows). Names compare case-insensitively; the
// normalized form is lowercase.
#ifndef KISCSI_CONF_INITIATOR_NAME_H_
#define KISCSI_CONF_INITIATOR_NAME_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiscsi::conf {

inline constexpr size_t kMaxIscsiNameLength = 223;

// The prefix GenerateInitiatorName uses by default.
inline constexpr std::string_view kDefaultInitiatorNamePrefix =
    "iqn.2004-10.org.kiscsi";

// OK if `name` is a well-formed iqn., eui. or naa. name (any letter case);
// otherwise InvalidArgument explaining what is wrong (ExitCode kInvalid).
absl::Status ValidateIscsiName(std::string_view name);

// RFC 3722 maps ASCII upper case to lower case: "iqn.2000-01.com.Example:Disk"
// -> "iqn.2000-01.com.example:disk". Non-ASCII characters are left as they are.
std::string NormalizeIscsiName(std::string_view name);

struct InitiatorNameFile {
  std::string name;
  std::string alias;  // "" when the file has none
};

// Reads initiatorname.iscsi. NotFound "No initiator name set in FILE: make one
// with 'kiscsi-iname -w'" (with FILE after -w when it is not
// InitiatorNamePath()) when the file is missing or has no InitiatorName line;
// InvalidArgument "FILE:LINE: invalid initiator name ..." when the name is
// malformed. Other lines are ignored, as open-iscsi does. The name is returned
// as written (targets' ACLs were configured with that spelling).
absl::StatusOr<InitiatorNameFile> ReadInitiatorNameFile(
    const std::string& path);
// The same for the file's `text`; `path` names it in messages.
absl::StatusOr<InitiatorNameFile> ParseInitiatorNameText(
    std::string_view text, const std::string& path);

// "<prefix>:01:<12 random lowercase hex digits>" with bytes from getrandom(2),
// like iscsi-iname. `prefix` must itself be a valid iqn. name without a ':'
// part.
absl::StatusOr<std::string> GenerateInitiatorName(
    std::string_view prefix = kDefaultInitiatorNamePrefix);

// Writes `InitiatorName=<name>` (and `InitiatorAlias=<alias>` when not empty)
// to `path`, mode 0644, atomically. Validates both first.
absl::Status WriteInitiatorNameFile(const std::string& path,
                                    std::string_view name,
                                    std::string_view alias = "");

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_INITIATOR_NAME_H_
