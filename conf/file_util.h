// Small file helpers for the configuration module: bounded reads and atomic
// replacement.
#ifndef KISCSI_CONF_FILE_UTIL_H_
#define KISCSI_CONF_FILE_UTIL_H_

#include <sys/types.h>

#include <chrono>
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

// How old a temporary file of WriteFileAtomically must be to count as left
// over by a killed writer.
inline constexpr std::chrono::seconds kStaleTemporaryFileAge{5};

// Writes `content` to a temporary file beside `path` with `mode`, syncs it and
// renames it over `path`, so readers see the old or the new file, never a
// partial one. The file is unnamed (O_TMPFILE) until just before the rename
// where the filesystem allows, so a killed writer leaves nothing; then
// temporary files of `path`'s directory older than kStaleTemporaryFileAge are
// removed. The directory must exist.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content, mode_t mode);

// True for the names of WriteFileAtomically's temporary files:
// ".NAME.tmp.XXXXXX".
bool IsTemporaryFileName(std::string_view name);

// Removes WriteFileAtomically's temporary files in `dir` (not below it) that
// are at least `min_age` old; zero removes them all (for a caller that holds
// the lock every writer of `dir` takes). A missing `dir` is not an error.
absl::Status RemoveStaleTemporaryFiles(const std::string& dir,
                                       std::chrono::seconds min_age);

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_FILE_UTIL_H_
