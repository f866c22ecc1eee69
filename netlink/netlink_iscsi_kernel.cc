#include "netlink/netlink_iscsi_kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/base/unique_fd.h"

extern char** environ;

namespace kiscsi {
namespace {

constexpr size_t kMinBhsSize = 48;
constexpr uint32_t kNoConnection = 0xffffffff;

// Loads iscsi_tcp (and with it scsi_transport_iscsi). Failure is only logged:
// the caller looks for the transport again either way.
void RunModprobe(const std::string& modprobe_path) {
  char arg0[] = "modprobe";
  char arg1[] = "-q";
  char arg2[] = "iscsi_tcp";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  pid_t pid;
  const int error =
      posix_spawn(&pid, modprobe_path.c_str(), nullptr, nullptr, argv, environ);
  if (error != 0) {
    KISCSI_LOG(kDebug) << "cannot run " << modprobe_path << ": "
                       << ErrnoStatus(error, "posix_spawn").message();
    return;
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    KISCSI_LOG(kDebug) << modprobe_path << " iscsi_tcp failed";
  }
}

// Whether `modprobe_path` has not been run yet by this process; marks it run.
// Loading a module that is missing or cannot load does not get better by
// retrying, and a daemon asks for the transport on every login: one attempt
// per process (per modprobe path, which tests vary).
bool FirstModprobe(const std::string& modprobe_path) {
  static std::mutex mutex;
  static auto* tried = new std::set<std::string>();
  std::lock_guard<std::mutex> lock(mutex);
  return tried->insert(modprobe_path).second;
}

// The handle file's contents, or NotFound if it does not exist.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(path);
    return ErrnoStatus(error, absl::StrCat("read ", path));
  }
  char buffer[64];
  ssize_t got;
  do {
    got = read(fd.get(), buffer, sizeof(buffer));
  } while (got < 0 && errno == EINTR);
  if (got < 0) return ErrnoStatus(errno, absl::StrCat("read ", path));
  return std::string(buffer, static_cast<size_t>(got));
}

}  // namespace

absl::StatusOr<uint64_t> ReadTransportHandle(const std::string& sysfs_root,
                                             const std::string& modprobe_path) {
  const std::string path =
      absl::StrCat(sysfs_root, "/class/iscsi_transport/tcp/handle");
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (absl::IsNotFound(text.status()) && !modprobe_path.empty() &&
      FirstModprobe(modprobe_path)) {
    RunModprobe(modprobe_path);
    text = ReadSmallFile(path);
  }
  if (absl::IsNotFound(text.status())) {
    return WithExitCode(
        absl::NotFoundError(absl::StrCat(
            "the kernel has no iscsi_tcp transport (", path,
            " is missing; load scsi_transport_iscsi / iscsi_tcp)")),
        ExitCode::kTransportNotFound);
  }
  if (!text.ok()) return text.status();
  uint64_t handle = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &handle)) {
    return WithExitCode(absl::InternalError(absl::StrCat(
                            path, " holds \"", absl::CHexEscape(*text),
                            "\", not a decimal number")),
                        ExitCode::kTransportNotFound);
  }
  return handle;
}

absl::StatusOr<std::unique_ptr<NetlinkIscsiKernel>> NetlinkIscsiKernel::Open(
    uint64_t transport_handle, const NetlinkSocketOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<NetlinkSocket> socket,
                   NetlinkSocket::Open(options));
  return std::unique_ptr<NetlinkIscsiKernel>(
      new NetlinkIscsiKernel(std::move(socket), transport_handle));
}

NetlinkIscsiKernel::NetlinkIscsiKernel(std::unique_ptr<NetlinkSocket> socket,
                                       uint64_t transport_handle)
    : socket_(std::move(socket)), transport_handle_(transport_handle) {}

RequestHeader NetlinkIscsiKernel::NextHeader() {
  return RequestHeader{transport_handle_, socket_->NextSeq(),
                       socket_->portid()};
}

absl::StatusOr<KernelReply> NetlinkIscsiKernel::Call(
    const std::vector<uint8_t>& message, absl::string_view what,
    bool check_retcode) {
  absl::StatusOr<KernelReply> reply = socket_->Request(message);
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat(what, ": ", reply.status().message()));
  }
  if (reply->if_error.has_value()) {
    return KernelErrnoStatus(what, *reply->if_error);
  }
  if (check_retcode && reply->retcode != 0) {
    return KernelErrnoStatus(what, reply->retcode);
  }
  return reply;
}

absl::StatusOr<CreatedSession> NetlinkIscsiKernel::CreateSession(
    uint32_t initial_cmdsn, uint16_t cmds_max, uint16_t queue_depth) {
  ASSIGN_OR_RETURN(const KernelReply reply,
                   Call(EncodeCreateSession(NextHeader(), initial_cmdsn,
                                            cmds_max, queue_depth),
                        "CREATE_SESSION", /*check_retcode=*/false));
  return reply.session;
}

absl::Status NetlinkIscsiKernel::DestroySession(uint32_t sid) {
  return Call(EncodeDestroySession(NextHeader(), sid),
              absl::StrCat("DESTROY_SESSION sid ", sid), true)
      .status();
}

absl::Status NetlinkIscsiKernel::DestroySessionAsync(uint32_t sid) {
  return Call(EncodeDestroySessionAsync(NextHeader(), sid),
              absl::StrCat("DESTROY_SESSION_ASYNC sid ", sid), true)
      .status();
}

absl::Status NetlinkIscsiKernel::UnbindSession(uint32_t sid) {
  return Call(EncodeUnbindSession(NextHeader(), sid),
              absl::StrCat("UNBIND_SESSION sid ", sid), true)
      .status();
}

absl::StatusOr<uint32_t> NetlinkIscsiKernel::CreateConn(uint32_t sid,
                                                        uint32_t cid) {
  const std::string what = absl::StrCat("CREATE_CONN sid ", sid, " cid ", cid);
  ASSIGN_OR_RETURN(const KernelReply reply,
                   Call(EncodeCreateConn(NextHeader(), sid, cid), what,
                        /*check_retcode=*/false));
  if (reply.conn_cid == kNoConnection) {
    return absl::InternalError(
        absl::StrCat(what, ": the kernel created no connection"));
  }
  return reply.conn_cid;
}

absl::Status NetlinkIscsiKernel::DestroyConn(uint32_t sid, uint32_t cid) {
  return Call(EncodeDestroyConn(NextHeader(), sid, cid),
              absl::StrCat("DESTROY_CONN sid ", sid, " cid ", cid), true)
      .status();
}

absl::Status NetlinkIscsiKernel::BindConn(uint32_t sid, uint32_t cid,
                                          int socket_fd, bool is_leading) {
  const std::string what = absl::StrCat("BIND_CONN sid ", sid, " cid ", cid);
  if (socket_fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no socket (fd ", socket_fd, ")"));
  }
  return Call(EncodeBindConn(NextHeader(), sid, cid,
                             static_cast<uint64_t>(socket_fd), is_leading),
              what, true)
      .status();
}

absl::Status NetlinkIscsiKernel::SetParam(uint32_t sid, uint32_t cid,
                                          IscsiParam param,
                                          absl::string_view value) {
  const std::string what =
      absl::StrCat("SET_PARAM sid ", sid, " cid ", cid, " param ",
                   static_cast<uint32_t>(param));
  if (value.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the value contains a NUL byte"));
  }
  return Call(EncodeSetParam(NextHeader(), sid, cid, param, value), what, true)
      .status();
}

absl::Status NetlinkIscsiKernel::StartConn(uint32_t sid, uint32_t cid) {
  return Call(EncodeStartConn(NextHeader(), sid, cid),
              absl::StrCat("START_CONN sid ", sid, " cid ", cid), true)
      .status();
}

absl::Status NetlinkIscsiKernel::StopConn(uint32_t sid, uint32_t cid,
                                          StopConnFlag flag) {
  absl::Status status =
      Call(EncodeStopConn(NextHeader(), sid, cid, flag),
           absl::StrCat("STOP_CONN sid ", sid, " cid ", cid, " flag ",
                        static_cast<uint32_t>(flag)),
           true)
          .status();
  if (status.ok()) socket_->DropQueuedConnErrors(sid, cid);
  return status;
}

absl::Status NetlinkIscsiKernel::SendPdu(uint32_t sid, uint32_t cid,
                                         absl::Span<const uint8_t> bhs,
                                         absl::Span<const uint8_t> data) {
  const std::string what = absl::StrCat("SEND_PDU sid ", sid, " cid ", cid);
  if (bhs.size() < kMinBhsSize || bhs.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a ", bhs.size(),
                     "-byte header; expected a 48-byte BHS (plus AHS in "
                     "4-byte words)"));
  }
  return Call(EncodeSendPdu(NextHeader(), sid, cid, bhs, data), what, true)
      .status();
}

absl::Status NetlinkIscsiKernel::SetHostParam(uint32_t host_no, HostParam param,
                                              absl::string_view value) {
  const std::string what = absl::StrCat(
      "SET_HOST_PARAM host ", host_no, " param ", static_cast<uint32_t>(param));
  if (value.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the value contains a NUL byte"));
  }
  return Call(EncodeSetHostParam(NextHeader(), host_no, param, value), what,
              true)
      .status();
}

absl::StatusOr<ConnStats> NetlinkIscsiKernel::GetStats(uint32_t sid,
                                                       uint32_t cid) {
  const std::string what = absl::StrCat("GET_STATS sid ", sid, " cid ", cid);
  ASSIGN_OR_RETURN(const KernelReply reply,
                   Call(EncodeGetStats(NextHeader(), sid, cid), what,
                        /*check_retcode=*/false));
  absl::StatusOr<ConnStats> stats = DecodeStats(reply.payload);
  if (!stats.ok()) {
    return absl::Status(stats.status().code(),
                        absl::StrCat(what, ": ", stats.status().message()));
  }
  return stats;
}

int NetlinkIscsiKernel::event_fd() const { return socket_->fd(); }

absl::StatusOr<std::vector<KernelEvent>> NetlinkIscsiKernel::ReadEvents() {
  return socket_->ReadEvents();
}

}  // namespace kiscsi
