#include "netlink/testing/fake_iscsi_kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "netlink/uevent_codec.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

constexpr size_t kMinBhsSize = 48;

const char* FlagName(StopConnFlag flag) {
  switch (flag) {
    case StopConnFlag::kTerm:
      return "TERM";
    case StopConnFlag::kSuspend:
      return "SUSPEND";
    case StopConnFlag::kRecover:
      return "RECOVER";
  }
  return "?";
}

std::string ConnWhat(absl::string_view request, uint32_t sid, uint32_t cid) {
  return absl::StrCat(request, " sid ", sid, " cid ", cid);
}

}  // namespace

FakeIscsiKernel::FakeIscsiKernel()
    : event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

absl::Status FakeIscsiKernel::Begin(absl::string_view request,
                                    absl::string_view what, std::string line) {
  calls_.push_back(std::move(line));
  auto it = fail_next_.find(std::string(request));
  if (it == fail_next_.end()) return absl::OkStatus();
  const int32_t error = it->second;
  fail_next_.erase(it);
  return KernelErrnoStatus(what, error);
}

absl::StatusOr<FakeIscsiKernel::Conn*> FakeIscsiKernel::FindConn(
    uint32_t sid, uint32_t cid, absl::string_view what) {
  auto session = sessions_.find(sid);
  if (session == sessions_.end()) return KernelErrnoStatus(what, -EINVAL);
  auto conn = session->second.conns.find(cid);
  if (conn == session->second.conns.end()) {
    return KernelErrnoStatus(what, -EINVAL);
  }
  return &conn->second;
}

void FakeIscsiKernel::Queue(KernelEvent event) {
  events_.push_back(std::move(event));
  const uint64_t one = 1;
  // A full eventfd counter is still readable, which is all that matters.
  (void)!write(event_fd_.get(), &one, sizeof(one));
}

absl::StatusOr<CreatedSession> FakeIscsiKernel::CreateSession(
    uint32_t /*initial_cmdsn*/, uint16_t /*cmds_max*/,
    uint16_t /*queue_depth*/) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Begin("CREATE_SESSION", "CREATE_SESSION", "CREATE_SESSION"));
  const CreatedSession created{next_sid_++, next_host_no_++};
  sessions_[created.sid].host_no = created.host_no;
  Queue(CreateSessionEvent{created.sid, created.host_no});
  return created;
}

absl::Status FakeIscsiKernel::DestroySession(uint32_t sid) {
  absl::MutexLock lock(&mu_);
  return Destroy("DESTROY_SESSION", sid);
}

absl::Status FakeIscsiKernel::DestroySessionAsync(uint32_t sid) {
  absl::MutexLock lock(&mu_);
  return Destroy("DESTROY_SESSION_ASYNC", sid);
}

absl::Status FakeIscsiKernel::Destroy(absl::string_view request, uint32_t sid) {
  const std::string what = absl::StrCat(request, " sid ", sid);
  RETURN_IF_ERROR(Begin(request, what, absl::StrCat(request, " ", sid)));
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return KernelErrnoStatus(what, -EINVAL);
  if (!it->second.conns.empty()) return KernelErrnoStatus(what, -EBUSY);
  const uint32_t host_no = it->second.host_no;
  if (!it->second.unbound) QueueUnbind(sid, host_no);
  if (hold_destroy_events_ && request == "DESTROY_SESSION_ASYNC") {
    held_destroy_events_.push_back(DestroySessionEvent{sid, host_no});
  } else {
    Queue(DestroySessionEvent{sid, host_no});
  }
  sessions_.erase(it);
  for (auto param = host_params_.begin(); param != host_params_.end();) {
    if (std::get<0>(param->first) == host_no) {
      param = host_params_.erase(param);
    } else {
      ++param;
    }
  }
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::UnbindSession(uint32_t sid) {
  absl::MutexLock lock(&mu_);
  const std::string what = absl::StrCat("UNBIND_SESSION sid ", sid);
  RETURN_IF_ERROR(
      Begin("UNBIND_SESSION", what, absl::StrCat("UNBIND_SESSION ", sid)));
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return KernelErrnoStatus(what, -EINVAL);
  if (!it->second.unbound) {
    it->second.unbound = true;
    QueueUnbind(sid, it->second.host_no);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> FakeIscsiKernel::CreateConn(uint32_t sid,
                                                     uint32_t cid) {
  absl::MutexLock lock(&mu_);
  const std::string what = ConnWhat("CREATE_CONN", sid, cid);
  RETURN_IF_ERROR(
      Begin("CREATE_CONN", what, absl::StrCat("CREATE_CONN ", sid, " ", cid)));
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return KernelErrnoStatus(what, -EINVAL);
  if (!it->second.conns.try_emplace(cid).second) {
    return KernelErrnoStatus(what, -EEXIST);
  }
  return cid;
}

absl::Status FakeIscsiKernel::DestroyConn(uint32_t sid, uint32_t cid) {
  absl::MutexLock lock(&mu_);
  const std::string what = ConnWhat("DESTROY_CONN", sid, cid);
  RETURN_IF_ERROR(Begin("DESTROY_CONN", what,
                        absl::StrCat("DESTROY_CONN ", sid, " ", cid)));
  RETURN_IF_ERROR(FindConn(sid, cid, what).status());
  sessions_[sid].conns.erase(cid);
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::BindConn(uint32_t sid, uint32_t cid,
                                       int socket_fd, bool /*is_leading*/) {
  absl::MutexLock lock(&mu_);
  const std::string what = ConnWhat("BIND_CONN", sid, cid);
  RETURN_IF_ERROR(
      Begin("BIND_CONN", what, absl::StrCat("BIND_CONN ", sid, " ", cid)));
  ASSIGN_OR_RETURN(Conn * conn, FindConn(sid, cid, what));
  if (conn->failed) return KernelErrnoStatus(what, -ENOTCONN);
  if (conn->state != LinkState::kDown) return KernelErrnoStatus(what, -EBUSY);
  if (socket_fd < 0 || fcntl(socket_fd, F_GETFD) < 0) {
    return KernelErrnoStatus(what, -EBADF);
  }
  struct stat st;
  if (fstat(socket_fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return KernelErrnoStatus(what, -ENOTSOCK);
  }
  conn->state = LinkState::kBound;
  conn->fd = socket_fd;
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::SetParam(uint32_t sid, uint32_t cid,
                                       IscsiParam param,
                                       absl::string_view value) {
  absl::MutexLock lock(&mu_);
  const std::string what = absl::StrCat(
      ConnWhat("SET_PARAM", sid, cid), " param ", static_cast<uint32_t>(param));
  RETURN_IF_ERROR(
      Begin("SET_PARAM", what,
            absl::StrCat("SET_PARAM ", sid, " ", cid, " ",
                         static_cast<uint32_t>(param), "=", value)));
  ASSIGN_OR_RETURN(Conn * conn, FindConn(sid, cid, what));
  if (param != IscsiParam::kSessRecoveryTmo &&
      (conn->failed || conn->state == LinkState::kDown)) {
    return KernelErrnoStatus(what, -ENOTCONN);
  }
  conn->params[param] = std::string(value);
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::StartConn(uint32_t sid, uint32_t cid) {
  absl::MutexLock lock(&mu_);
  const std::string what = ConnWhat("START_CONN", sid, cid);
  RETURN_IF_ERROR(
      Begin("START_CONN", what, absl::StrCat("START_CONN ", sid, " ", cid)));
  ASSIGN_OR_RETURN(Conn * conn, FindConn(sid, cid, what));
  if (conn->failed || conn->state == LinkState::kDown) {
    return KernelErrnoStatus(what, -ENOTCONN);
  }
  conn->state = LinkState::kUp;
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::StopConn(uint32_t sid, uint32_t cid,
                                       StopConnFlag flag) {
  absl::MutexLock lock(&mu_);
  const std::string what = absl::StrCat(ConnWhat("STOP_CONN", sid, cid),
                                        " flag ", static_cast<uint32_t>(flag));
  RETURN_IF_ERROR(
      Begin("STOP_CONN", what,
            absl::StrCat("STOP_CONN ", sid, " ", cid, " ", FlagName(flag))));
  ASSIGN_OR_RETURN(Conn * conn, FindConn(sid, cid, what));
  if (flag == StopConnFlag::kRecover) conn->failed = false;
  conn->state = LinkState::kDown;
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::SendPdu(uint32_t sid, uint32_t cid,
                                      absl::Span<const uint8_t> bhs,
                                      absl::Span<const uint8_t> data) {
  std::vector<uint8_t> pdu(bhs.begin(), bhs.end());
  pdu.insert(pdu.end(), data.begin(), data.end());
  PduResponder responder;
  {
    absl::MutexLock lock(&mu_);
    const std::string what = ConnWhat("SEND_PDU", sid, cid);
    RETURN_IF_ERROR(
        Begin("SEND_PDU", what, absl::StrCat("SEND_PDU ", sid, " ", cid)));
    if (bhs.size() < kMinBhsSize || bhs.size() % 4 != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": a ", bhs.size(), "-byte header; expected a 48-byte BHS"));
    }
    ASSIGN_OR_RETURN(Conn * conn, FindConn(sid, cid, what));
    if (conn->failed || conn->state == LinkState::kDown) {
      return KernelErrnoStatus(what, -ENOTCONN);
    }
    sent_pdus_.push_back(pdu);
    responder = responder_;
  }
  if (!responder) return absl::OkStatus();
  std::vector<std::vector<uint8_t>> answers =
      responder(sid, cid, std::move(pdu));
  absl::MutexLock lock(&mu_);
  for (std::vector<uint8_t>& answer : answers) {
    Queue(RecvPduEvent{sid, cid, std::move(answer)});
  }
  return absl::OkStatus();
}

absl::Status FakeIscsiKernel::SetHostParam(uint32_t host_no, HostParam param,
                                           absl::string_view value) {
  absl::MutexLock lock(&mu_);
  const std::string what = absl::StrCat(
      "SET_HOST_PARAM host ", host_no, " param ", static_cast<uint32_t>(param));
  RETURN_IF_ERROR(
      Begin("SET_HOST_PARAM", what,
            absl::StrCat("SET_HOST_PARAM ", host_no, " ",
                         static_cast<uint32_t>(param), "=", value)));
  bool host_exists = false;
  for (const auto& [sid, session] : sessions_) {
    host_exists = host_exists || session.host_no == host_no;
  }
  if (!host_exists) return KernelErrnoStatus(what, -ENODEV);
  host_params_[{host_no, static_cast<uint32_t>(param)}] = std::string(value);
  return absl::OkStatus();
}

absl::StatusOr<ConnStats> FakeIscsiKernel::GetStats(uint32_t sid,
                                                    uint32_t cid) {
  absl::MutexLock lock(&mu_);
  const std::string what = ConnWhat("GET_STATS", sid, cid);
  RETURN_IF_ERROR(
      Begin("GET_STATS", what, absl::StrCat("GET_STATS ", sid, " ", cid)));
  absl::StatusOr<Conn*> conn = FindConn(sid, cid, what);
  if (!conn.ok()) return KernelErrnoStatus(what, -EEXIST);
  if ((*conn)->stats.has_value()) return *(*conn)->stats;
  ConnStats stats;
  stats.custom = {{"tx_sendpage_failures", 0},
                  {"rx_discontiguous_hdr", 0},
                  {"eh_abort_cnt", 0}};
  return stats;
}

int FakeIscsiKernel::event_fd() const { return event_fd_.get(); }

absl::StatusOr<std::vector<KernelEvent>> FakeIscsiKernel::ReadEvents() {
  absl::MutexLock lock(&mu_);
  uint64_t count;
  // Resets the eventfd; EAGAIN just means nothing was signalled.
  (void)!read(event_fd_.get(), &count, sizeof(count));
  return std::exchange(events_, {});
}

void FakeIscsiKernel::SetPduResponder(PduResponder responder) {
  absl::MutexLock lock(&mu_);
  responder_ = std::move(responder);
}

bool FakeIscsiKernel::InjectConnError(uint32_t sid, uint32_t cid,
                                      uint32_t error) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Conn*> conn = FindConn(sid, cid, "");
  if (!conn.ok()) return false;
  (*conn)->failed = true;
  Queue(ConnErrorEvent{sid, cid, error});
  return true;
}

void FakeIscsiKernel::QueueUnbind(uint32_t sid, uint32_t host_no) {
  if (hold_unbind_events_) {
    held_unbind_events_.push_back(UnbindSessionEvent{sid, host_no});
  } else {
    Queue(UnbindSessionEvent{sid, host_no});
  }
}

void FakeIscsiKernel::HoldUnbindEvents(bool hold) {
  absl::MutexLock lock(&mu_);
  Hold(hold, hold_unbind_events_, held_unbind_events_);
}

void FakeIscsiKernel::HoldDestroyEvents(bool hold) {
  absl::MutexLock lock(&mu_);
  Hold(hold, hold_destroy_events_, held_destroy_events_);
}

void FakeIscsiKernel::Hold(bool hold, bool& holding,
                           std::vector<KernelEvent>& held) {
  holding = hold;
  if (hold) return;
  for (KernelEvent& event : std::exchange(held, {})) Queue(std::move(event));
}

void FakeIscsiKernel::QueueEvent(KernelEvent event) {
  absl::MutexLock lock(&mu_);
  Queue(std::move(event));
}

void FakeIscsiKernel::FailNext(absl::string_view request,
                               int32_t negative_errno) {
  absl::MutexLock lock(&mu_);
  fail_next_[std::string(request)] = negative_errno;
}

bool FakeIscsiKernel::SetStats(uint32_t sid, uint32_t cid, ConnStats stats) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Conn*> conn = FindConn(sid, cid, "");
  if (!conn.ok()) return false;
  (*conn)->stats = std::move(stats);
  return true;
}

std::vector<std::string> FakeIscsiKernel::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

std::vector<std::vector<uint8_t>> FakeIscsiKernel::sent_pdus() const {
  absl::MutexLock lock(&mu_);
  return sent_pdus_;
}

std::optional<std::string> FakeIscsiKernel::GetParam(uint32_t sid, uint32_t cid,
                                                     IscsiParam param) const {
  absl::MutexLock lock(&mu_);
  auto session = sessions_.find(sid);
  if (session == sessions_.end()) return std::nullopt;
  auto conn = session->second.conns.find(cid);
  if (conn == session->second.conns.end()) return std::nullopt;
  auto value = conn->second.params.find(param);
  if (value == conn->second.params.end()) return std::nullopt;
  return value->second;
}

std::optional<std::string> FakeIscsiKernel::GetHostParam(
    uint32_t host_no, HostParam param) const {
  absl::MutexLock lock(&mu_);
  auto value = host_params_.find({host_no, static_cast<uint32_t>(param)});
  if (value == host_params_.end()) return std::nullopt;
  return value->second;
}

bool FakeIscsiKernel::SessionExists(uint32_t sid) const {
  absl::MutexLock lock(&mu_);
  return sessions_.contains(sid);
}

std::optional<std::string> FakeIscsiKernel::ConnState(uint32_t sid,
                                                      uint32_t cid) const {
  absl::MutexLock lock(&mu_);
  auto session = sessions_.find(sid);
  if (session == sessions_.end()) return std::nullopt;
  auto conn = session->second.conns.find(cid);
  if (conn == session->second.conns.end()) return std::nullopt;
  if (conn->second.failed) return "failed";
  switch (conn->second.state) {
    case LinkState::kDown:
      return "down";
    case LinkState::kBound:
      return "bound";
    case LinkState::kUp:
      return "up";
  }
  return std::nullopt;
}

int FakeIscsiKernel::BoundFd(uint32_t sid, uint32_t cid) const {
  absl::MutexLock lock(&mu_);
  auto session = sessions_.find(sid);
  if (session == sessions_.end()) return -1;
  auto conn = session->second.conns.find(cid);
  return conn == session->second.conns.end() ? -1 : conn->second.fd;
}

}  // namespace kiscsi
