#include "conf/file_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/unique_fd.h"

namespace kiscsi::conf {
namespace {

absl::Status DatabaseError(int error_number, std::string_view what) {
  return WithExitCode(ErrnoStatus(error_number, {what.data(), what.size()}),
                      ExitCode::kDatabase);
}

}  // namespace

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
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

absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view content, mode_t mode) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // A dot name: directory listings of the database skip it.
  std::string temp = absl::StrCat(dir, "/.", base, ".tmp.XXXXXX");
  std::vector<char> temp_buffer(temp.begin(), temp.end());
  temp_buffer.push_back('\0');
  UniqueFd fd(::mkostemp(temp_buffer.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return DatabaseError(errno,
                         absl::StrCat("create a temporary file in ", dir));
  }
  temp.assign(temp_buffer.data());
  auto fail = [&temp](int error, std::string_view what) {
    ::unlink(temp.c_str());
    return DatabaseError(error, what);
  };
  if (::fchmod(fd.get(), mode) != 0) {
    return fail(errno, absl::StrCat("chmod ", temp));
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n =
        ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, absl::StrCat("write ", temp));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(errno, absl::StrCat("fsync ", temp));
  if (::close(fd.Release()) != 0) {
    return fail(errno, absl::StrCat("close ", temp));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return fail(errno, absl::StrCat("rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace kiscsi::conf
