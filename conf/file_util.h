// Small file helpers for the configuration module: bounded reads and atomic
// replacement.
#ifndef KISCSI_CONF_FILE_UTIL_H_
#define KISCSI_CONF_FILE_UTIL_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiscsi::conf {

// Configuration files are small; anything bigger is refused rather than read
// into memory.
inline constexpr size_t kMaxConfigFileSize = 1 << 20;

// The whole file. NotFound when it does not exist; InvalidArgument when it is
// larger than kMaxConfigFileSize or not a regular file.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

// Writes `content` to a temporary file beside `path` with `mode`, syncs it and
// renames it over `path`, so readers see the old or the new file, never a
// partial one. The directory must exist.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content, mode_t mode);

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_FILE_UTIL_H_
