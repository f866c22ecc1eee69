#include "conf/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/unique_fd.h"

namespace kiscsi::conf {
namespace {

absl::Status DatabaseError(int error_number, std::string_view what) {
  return WithExitCode(ErrnoStatus(error_number, {what.data(), what.size()}),
                      ExitCode::kDatabase);
}

}  // namespace

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
  // before the regular-file check below could refuse it.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    int error = errno;
    if (error == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    return DatabaseError(error, absl::StrCat("open ", path));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return DatabaseError(errno, absl::StrCat("stat ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file")),
        ExitCode::kDatabase);
  }
  if (static_cast<size_t>(st.st_size) > kMaxConfigFileSize) {
    return WithExitCode(
        absl::InvalidArgumentError(
            absl::StrCat(path, ": larger than ", kMaxConfigFileSize, " bytes")),
        ExitCode::kDatabase);
  }
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) {
    return DatabaseError(errno, absl::StrCat("fcntl ", path));
  }
  std::string content;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return DatabaseError(errno, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > kMaxConfigFileSize) {
      return WithExitCode(
          absl::InvalidArgumentError(absl::StrCat(
              path, ": larger than ", kMaxConfigFileSize, " bytes")),
          ExitCode::kDatabase);
    }
  }
  return content;
}

bool IsTemporaryFileName(std::string_view name) {
  // "." NAME ".tmp." and six characters, as WriteFileAtomically makes them.
  constexpr std::string_view kInfix = ".tmp.";
  return name.size() > 1 + kInfix.size() + 6 && name.front() == '.' &&
         name.substr(name.size() - 6 - kInfix.size(), kInfix.size()) == kInfix;
}

absl::Status RemoveStaleTemporaryFiles(const std::string& dir,
                                       std::chrono::seconds min_age) {
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return absl::OkStatus();
    return DatabaseError(errno, absl::StrCat("open directory ", dir));
  }
  const time_t now = ::time(nullptr);
  absl::Status result;
  while (struct dirent* entry = ::readdir(stream)) {
    if (!IsTemporaryFileName(entry->d_name)) continue;
    struct stat st;
    if (::fstatat(::dirfd(stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
            0 ||
        !S_ISREG(st.st_mode) || now - st.st_mtime < min_age.count()) {
      continue;
    }
    if (::unlinkat(::dirfd(stream), entry->d_name, 0) != 0 && errno != ENOENT &&
        result.ok()) {
      result = DatabaseError(errno,
                             absl::StrCat("remove ", dir, "/", entry->d_name));
    } else {
      KISCSI_LOG(kDebug) << "removed stale temporary file " << dir << "/"
                         << entry->d_name;
    }
  }
  ::closedir(stream);
  return result;
}

namespace {

absl::Status WriteAll(int fd, std::string_view content,
                      const std::string& what) {
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return DatabaseError(errno, absl::StrCat("write ", what));
    }
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Six random characters for a temporary name.
std::string RandomSuffix() {
  static constexpr char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[6] = {};
  if (::getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes)) {
    const auto seed = static_cast<uint64_t>(::time(nullptr)) ^
                      (static_cast<uint64_t>(::getpid()) << 20);
    for (size_t i = 0; i < sizeof(bytes); ++i) bytes[i] = seed >> (i * 7);
  }
  std::string suffix;
  for (unsigned char b : bytes)
    suffix.push_back(kChars[b % (sizeof(kChars) - 1)]);
  return suffix;
}

}  // namespace

namespace {

// Writes `content` to a new file named `prefix` + six characters and returns
// the name. With `unnamed`, the file is made with O_TMPFILE and linked in only
// once it is complete and synced; NotFound-like failures of that path (no
// O_TMPFILE support, no /proc) are Unimplemented so that the caller can fall
// back to a named file.
absl::StatusOr<std::string> WriteTemporaryFile(const std::string& dir,
                                               const std::string& prefix,
                                               std::string_view content,
                                               mode_t mode, bool unnamed) {
  std::string temp;
  UniqueFd fd;
  if (unnamed) {
    fd = UniqueFd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode));
    if (!fd.valid()) {
      return absl::UnimplementedError(absl::StrCat("O_TMPFILE in ", dir));
    }
  } else {
    temp = prefix + "XXXXXX";
    fd = UniqueFd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd.valid()) {
      return DatabaseError(errno,
                           absl::StrCat("create a temporary file in ", dir));
    }
  }
  auto fail = [&temp](absl::Status status) {
    if (!temp.empty()) ::unlink(temp.c_str());
    return status;
  };
  const std::string what = unnamed ? absl::StrCat("a new file in ", dir) : temp;
  if (::fchmod(fd.get(), mode) != 0) {
    return fail(DatabaseError(errno, absl::StrCat("chmod ", what)));
  }
  if (absl::Status written = WriteAll(fd.get(), content, what); !written.ok()) {
    return fail(written);
  }
  if (::fsync(fd.get()) != 0) {
    return fail(DatabaseError(errno, absl::StrCat("fsync ", what)));
  }
  if (unnamed) {
    const std::string proc = absl::StrCat("/proc/self/fd/", fd.get());
    for (int attempt = 0;; ++attempt) {
      temp = prefix + RandomSuffix();
      if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, temp.c_str(),
                   AT_SYMLINK_FOLLOW) == 0) {
        break;
      }
      if (errno != EEXIST || attempt == 100) {
        return absl::UnimplementedError(
            absl::StrCat("link a new file into ", dir, ": ", strerror(errno)));
      }
    }
  }
  if (::close(fd.Release()) != 0) {
    return fail(DatabaseError(errno, absl::StrCat("close ", temp)));
  }
  return temp;
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content, mode_t mode) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A dot name: directory listings of the database skip it.
  const std::string prefix = absl::StrCat(dir, "/.", base, ".tmp.");

  // The content is written to an unnamed file (O_TMPFILE) that gets a name
  // only for the rename, so a writer killed while writing or syncing leaves
  // nothing behind. Without O_TMPFILE (or /proc) a named file is written.
  absl::StatusOr<std::string> temp =
      WriteTemporaryFile(dir, prefix, content, mode, /*unnamed=*/true);
  if (absl::IsUnimplemented(temp.status())) {
    KISCSI_LOG(kDebug) << temp.status().message()
                       << ": writing a named temporary file";
    temp = WriteTemporaryFile(dir, prefix, content, mode, /*unnamed=*/false);
  }
  if (!temp.ok()) return temp.status();
  if (::rename(temp->c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp->c_str());
    return DatabaseError(error, absl::StrCat("rename ", *temp, " to ", path));
  }
  // Temporary files of writers killed before their rename (a named one, or
  // between link and rename) may hold CHAP secrets. Anything older than
  // kStaleTemporaryFileAge is no write in progress.
  absl::Status cleaned = RemoveStaleTemporaryFiles(dir, kStaleTemporaryFileAge);
  if (!cleaned.ok()) {
    KISCSI_LOG(kWarning) << cleaned.message();
  }
  return absl::OkStatus();
}

}  // namespace kiscsi::conf
