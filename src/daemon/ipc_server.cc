// IpcServer (ipc_server.h): accepting clients on the listening socket,
// reading and decoding their requests, at most kMaxRequestsInFlight at a time
// per client, and writing replies and progress back without ever blocking the
// event loop. Creating the listening socket (ListenOnPath) is in
// ipc_listen.cc.
#include "src/daemon/ipc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/monotonic.h"
#include "src/base/status_macros.h"

namespace kiscsi::daemon {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kAcceptsPerWakeup = 32;
// How long accepting pauses when the process runs out of descriptors.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// Connections refused as too many that are kept until they have read their
// refusal (beyond that, they are closed at once), and for how long at most.
constexpr size_t kMaxRefusing = 8;
constexpr absl::Duration kRefusalTimeout = absl::Seconds(1);
// Warnings a client may cause per second (malformed requests), and those
// about connections (refused, unreadable) over all clients.
constexpr int kClientWarningsPerSecond = 5;
constexpr int kConnectionWarningsPerSecond = 10;

}  // namespace

struct IpcServer::Client {
  uint64_t id = 0;
  UniqueFd fd;
  pid_t pid = 0;
  uid_t uid = 0;
  bool allowed = false;
  ipc::MessageReader reader;
  std::vector<uint8_t> out;  // reply bytes not yet sent, from out_pos on
  size_t out_pos = 0;
  size_t in_flight = 0;
  bool read_closed = false;         // no more requests will be read
  bool close_when_flushed = false;  // close once `out` is sent
  // Refused as one too many: its input is discarded until it closes.
  bool refused = false;
  // Requests wait in `reader` until `out` has room again.
  bool paused = false;
  uint32_t interest = 0;  // the epoll mask registered
  EventLoop::TimerId idle_timer = 0;
  EventLoop::TimerId resume_timer = 0;  // handles `reader`'s requests
  absl::Time last_active;               // MonotonicNow() of the last request
  LogRateLimiter warnings{kClientWarningsPerSecond, absl::Seconds(1)};

  size_t pending_output() const { return out.size() - out_pos; }
  bool output_full() const { return pending_output() >= kMaxPendingOutput; }
  bool idle() const {
    return !refused && in_flight == 0 && pending_output() == 0 &&
           !close_when_flushed;
  }
};

// The `progress` and `done` callbacks handed to the CommandHandler for one
// request. Destroyed without having been answered, it answers with an
// internal error.
class IpcServer::PendingReply {
 public:
  PendingReply(std::weak_ptr<IpcServer*> server, uint64_t client_id,
               uint32_t request_id, ipc::MessageType type, bool progress)
      : server_(std::move(server)),
        client_id_(client_id),
        request_id_(request_id),
        type_(type),
        progress_(progress) {}
  PendingReply(const PendingReply&) = delete;
  PendingReply& operator=(const PendingReply&) = delete;
  ~PendingReply() {
    if (answered_) return;
    KISCSI_LOG(kError) << ipc::MessageTypeName(type_)
                       << " request dropped without a reply";
    Send(ipc::ReplyFromStatus(WithExitCode(
        absl::InternalError(absl::StrCat("kiscsid dropped the ",
                                         ipc::MessageTypeName(type_),
                                         " request without answering")),
        ExitCode::kInternal)));
  }

  // Lines for the user while the request runs: a Progress message now if
  // the client asked for one, else the head of the reply.
  void Progress(std::vector<std::string> lines) {
    if (answered_ || lines.empty()) return;
    if (!progress_) {
      held_lines_.insert(held_lines_.end(),
                         std::make_move_iterator(lines.begin()),
                         std::make_move_iterator(lines.end()));
      return;
    }
    if (std::shared_ptr<IpcServer*> server = server_.lock()) {
      (*server)->SendProgress(client_id_, request_id_, lines);
    }
  }

  void Send(ipc::Reply reply) {
    if (answered_) {
      KISCSI_LOG(kError) << ipc::MessageTypeName(type_)
                         << " request answered twice; second reply dropped";
      return;
    }
    answered_ = true;
    reply.out_lines.insert(reply.out_lines.begin(),
                           std::make_move_iterator(held_lines_.begin()),
                           std::make_move_iterator(held_lines_.end()));
    if (std::shared_ptr<IpcServer*> server = server_.lock()) {
      (*server)->Finish(client_id_, request_id_, reply);
    }
  }

 private:
  std::weak_ptr<IpcServer*> server_;
  uint64_t client_id_;
  uint32_t request_id_;
  ipc::MessageType type_;
  bool progress_;                        // the client wants Progress messages
  std::vector<std::string> held_lines_;  // progress for the reply's head
  bool answered_ = false;
};

absl::StatusOr<std::unique_ptr<IpcServer>> IpcServer::Create(
    EventLoop& loop, UniqueFd listener, CommandHandler& handler,
    IpcServerOptions options) {
  const int flags = ::fcntl(listener.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "make the listening socket non-blocking");
  }
  std::unique_ptr<IpcServer> server(
      new IpcServer(loop, std::move(listener), handler, options));
  RETURN_IF_ERROR(
      loop.AddFd(server->listener_.get(), EPOLLIN,
                 [raw = server.get()](uint32_t) { raw->OnListenerReady(); }));
  return server;
}

IpcServer::IpcServer(EventLoop& loop, UniqueFd listener,
                     CommandHandler& handler, IpcServerOptions options)
    : loop_(loop),
      listener_(std::move(listener)),
      handler_(handler),
      options_(options),
      connection_warnings_(kConnectionWarningsPerSecond, absl::Seconds(1)),
      self_(std::make_shared<IpcServer*>(this)) {}

IpcServer::~IpcServer() {
  self_.reset();
  if (resume_timer_ != 0) loop_.CancelTimer(resume_timer_);
  loop_.RemoveFd(listener_.get());
  for (auto& [id, client] : clients_) {
    loop_.RemoveFd(client->fd.get());
    if (client->idle_timer != 0) loop_.CancelTimer(client->idle_timer);
    if (client->resume_timer != 0) loop_.CancelTimer(client->resume_timer);
  }
}

size_t IpcServer::output_buffer_bytes() const {
  size_t bytes = 0;
  for (const auto& [id, client] : clients_) bytes += client->out.capacity();
  return bytes;
}

IpcServer::Client* IpcServer::Find(uint64_t id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

void IpcServer::OnListenerReady() {
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.valid()) {
      Accept(std::move(fd));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR || errno == ECONNABORTED) continue;
    // Out of descriptors or memory: the listener stays readable, so stop
    // watching it for a moment rather than spin.
    KISCSI_LOG(kWarning) << "accept: " << std::strerror(errno)
                         << "; pausing for "
                         << absl::ToInt64Milliseconds(kAcceptPause) << " ms";
    PauseAccepting();
    return;
  }
}

void IpcServer::PauseAccepting() {
  if (resume_timer_ != 0) return;
  (void)loop_.ModifyFd(listener_.get(), 0);
  resume_timer_ = loop_.AddTimer(kAcceptPause, [this] {
    resume_timer_ = 0;
    absl::Status status = loop_.ModifyFd(listener_.get(), EPOLLIN);
    if (!status.ok()) {
      KISCSI_LOG(kError) << status.message();
    }
  });
}

void IpcServer::Accept(UniqueFd fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) !=
      0) {
    const int error = errno;
    if (connection_warnings_.Allow(MonotonicNow())) {
      KISCSI_LOG(kWarning) << "SO_PEERCRED: " << std::strerror(error)
                           << "; closing the connection"
                           << connection_warnings_.SuppressedNote();
    }
    return;
  }
  size_t refusing = 0;
  for (const auto& [other_id, other] : clients_) refusing += other->refused;
  bool refused = false;
  if (clients_.size() - refusing >= options_.max_clients && !EvictIdle()) {
    const bool kept = refusing < kMaxRefusing;
    if (connection_warnings_.Allow(MonotonicNow())) {
      KISCSI_LOG(kWarning) << "too many connections (" << options_.max_clients
                           << ", all with requests running); refusing the one "
                           << "from pid " << credentials.pid
                           << connection_warnings_.SuppressedNote();
    }
    // Closed at once, the newcomer would find its request unsent or unread
    // ("Connection reset by peer"); kept a moment, it reads why.
    if (!kept) return;
    refused = true;
  }
  auto client = std::make_unique<Client>();
  client->id = next_client_id_++;
  client->pid = credentials.pid;
  client->uid = credentials.uid;
  client->allowed = credentials.uid == options_.allowed_uid;
  client->refused = refused;
  client->last_active = MonotonicNow();
  if (!client->allowed && !refused &&
      connection_warnings_.Allow(MonotonicNow())) {
    KISCSI_LOG(kWarning) << "refusing commands from pid " << credentials.pid
                         << " (uid " << credentials.uid << "): only uid "
                         << options_.allowed_uid << " may command kiscsid"
                         << connection_warnings_.SuppressedNote();
  }
  const uint64_t id = client->id;
  absl::Status added =
      loop_.AddFd(fd.get(), EPOLLIN,
                  [this, id](uint32_t events) { OnClientEvents(id, events); });
  if (!added.ok()) {
    KISCSI_LOG(kError) << "cannot watch a connection: " << added.message();
    return;
  }
  client->fd = std::move(fd);
  client->interest = EPOLLIN;
  Client& stored = *clients_.emplace(id, std::move(client)).first->second;
  KISCSI_LOG(kDebug) << "connection " << id << " from pid " << stored.pid;
  if (refused) {
    // Request id 0 answers whatever the client sends; its input is
    // discarded until it closes, or for kRefusalTimeout at most.
    stored.idle_timer = loop_.AddTimer(kRefusalTimeout, [this, id] {
      if (Client* late = Find(id)) {
        late->idle_timer = 0;
        Close(id);
      }
    });
    Answer(
        id, 0,
        ipc::ReplyFromStatus(WithExitCode(
            absl::ResourceExhaustedError(absl::StrCat(
                "too many connections: kiscsid serves ", options_.max_clients,
                " at most and each has a request running; try again")),
            ExitCode::kBusy)));
    return;
  }
  ArmIdleTimer(stored);
}

bool IpcServer::EvictIdle() {
  Client* oldest = nullptr;
  for (const auto& [id, client] : clients_) {
    if (client->idle() &&
        (oldest == nullptr || client->last_active < oldest->last_active)) {
      oldest = client.get();
    }
  }
  if (oldest == nullptr) return false;
  KISCSI_LOG(kDebug) << "too many connections (" << options_.max_clients
                     << "); closing connection " << oldest->id
                     << ", idle the longest";
  Close(oldest->id);
  return true;
}

void IpcServer::OnClientEvents(uint64_t id, uint32_t events) {
  if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
    // The peer is gone: nobody is left to read replies.
    Close(id);
    return;
  }
  if ((events & EPOLLOUT) != 0) Flush(id);
  if ((events & EPOLLIN) != 0) ReadFrom(id);
}

bool IpcServer::HandleBuffered(uint64_t id) {
  for (;;) {
    Client* client = Find(id);
    if (client == nullptr || client->read_closed) return false;
    if (client->output_full()) {
      // Backpressure: nothing more is read from this client until it has
      // read its replies (Flush resumes).
      client->paused = true;
      UpdateInterest(*client);
      return false;
    }
    std::optional<ipc::Message> message = client->reader.Next();
    if (!message.has_value()) return true;
    HandleMessage(id, *message);
  }
}

void IpcServer::ReadFrom(uint64_t id) {
  Client* client = Find(id);
  if (client == nullptr || client->read_closed) return;
  if (!client->refused && !HandleBuffered(id)) return;
  client = Find(id);
  if (client == nullptr) return;
  uint8_t buffer[kReadChunk];
  const ssize_t n = ::recv(client->fd.get(), buffer, sizeof(buffer), 0);
  if (n > 0 && client->refused) return;  // discarded
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    KISCSI_LOG(kDebug) << "connection " << id << ": " << std::strerror(errno);
    Close(id);
    return;
  }
  if (n == 0) {
    // The peer will send nothing more; answer what is in flight, then close.
    client->read_closed = true;
    if (client->in_flight == 0 && client->out_pos == client->out.size()) {
      Close(id);
    } else {
      UpdateInterest(*client);
    }
    return;
  }
  absl::Status fed =
      client->reader.Feed(absl::MakeConstSpan(buffer, static_cast<size_t>(n)));
  if (!fed.ok()) {
    if (connection_warnings_.Allow(MonotonicNow())) {
      KISCSI_LOG(kWarning) << "pid " << client->pid << ": " << fed.message()
                           << "; closing the connection"
                           << connection_warnings_.SuppressedNote();
    }
    client->read_closed = true;
    client->close_when_flushed = true;
    Answer(id, 0, ipc::ReplyFromStatus(fed));
    return;
  }
  HandleBuffered(id);
}

void IpcServer::HandleMessage(uint64_t id, const ipc::Message& message) {
  Client& client = *Find(id);
  const uint32_t request_id = message.header.request_id;
  if (!client.allowed) {
    client.read_closed = true;
    client.close_when_flushed = true;
    Answer(id, request_id,
           ipc::ReplyFromStatus(WithExitCode(
               absl::PermissionDeniedError(absl::StrCat(
                   "kiscsid takes commands from uid ", options_.allowed_uid,
                   " only, not from uid ", client.uid)),
               ExitCode::kAccessDenied)));
    return;
  }
  if (client.in_flight >= options_.max_requests_per_client) {
    Answer(id, request_id,
           ipc::ReplyFromStatus(WithExitCode(
               absl::ResourceExhaustedError(absl::StrCat(
                   "too many requests in flight on one connection (",
                   client.in_flight, ")")),
               ExitCode::kBusy)));
    return;
  }
  absl::StatusOr<ipc::Request> request =
      ipc::DecodeRequest(message.header, message.payload);
  client.last_active = MonotonicNow();
  if (!request.ok()) {
    // A client can send these as fast as it likes: a few lines a second.
    if (client.warnings.Allow(client.last_active)) {
      KISCSI_LOG(kWarning) << "pid " << client.pid << ": "
                           << request.status().message()
                           << client.warnings.SuppressedNote();
    }
    Answer(id, request_id, ipc::ReplyFromStatus(request.status()));
    return;
  }
  const ipc::MessageType type = ipc::TypeOf(*request);
  KISCSI_LOG(kDebug) << "pid " << client.pid << ": request " << request_id
                     << " " << ipc::MessageTypeName(type);
  ++client.in_flight;
  if (client.idle_timer != 0) {
    loop_.CancelTimer(client.idle_timer);
    client.idle_timer = 0;
  }
  auto pending = std::make_shared<PendingReply>(self_, id, request_id, type,
                                                ipc::WantsProgress(*request));
  Dispatch(
      handler_, *request,
      [pending](std::vector<std::string> lines) {
        pending->Progress(std::move(lines));
      },
      [pending](ipc::Reply reply) { pending->Send(std::move(reply)); });
}

void IpcServer::Finish(uint64_t id, uint32_t request_id,
                       const ipc::Reply& reply) {
  Client* client = Find(id);
  if (client == nullptr) {
    KISCSI_LOG(kDebug) << "reply to request " << request_id
                       << " dropped: the client has gone";
    return;
  }
  --client->in_flight;
  client->last_active = MonotonicNow();
  Answer(id, request_id, reply);
  client = Find(id);
  if (client != nullptr && client->in_flight == 0) ArmIdleTimer(*client);
}

void IpcServer::SendProgress(uint64_t id, uint32_t request_id,
                             const std::vector<std::string>& lines) {
  Client* client = Find(id);
  if (client == nullptr) return;
  absl::StatusOr<std::vector<uint8_t>> bytes =
      ipc::EncodeProgress(request_id, lines);
  if (!bytes.ok()) {
    KISCSI_LOG(kError) << "progress of request " << request_id << ": "
                       << bytes.status().message();
    return;
  }
  client->out.insert(client->out.end(), bytes->begin(), bytes->end());
  Flush(id);
}

void IpcServer::Answer(uint64_t id, uint32_t request_id,
                       const ipc::Reply& reply) {
  Client& client = *Find(id);
  absl::StatusOr<std::vector<uint8_t>> bytes =
      ipc::EncodeReply(request_id, reply);
  if (!bytes.ok()) {
    KISCSI_LOG(kError) << "reply to request " << request_id << ": "
                       << bytes.status().message();
    bytes = ipc::EncodeReply(
        request_id, ipc::ReplyFromStatus(
                        WithExitCode(absl::InternalError(absl::StrCat(
                                         "kiscsid could not send its reply: ",
                                         bytes.status().message())),
                                     ExitCode::kInternal)));
  }
  client.out.insert(client.out.end(), bytes->begin(), bytes->end());
  Flush(id);
}

void IpcServer::Flush(uint64_t id) {
  Client* client = Find(id);
  if (client == nullptr) return;
  while (client->out_pos < client->out.size()) {
    const ssize_t n =
        ::send(client->fd.get(), client->out.data() + client->out_pos,
               client->out.size() - client->out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      client->out_pos += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    KISCSI_LOG(kDebug) << "connection " << id << ": " << std::strerror(errno);
    Close(id);
    return;
  }
  if (client->out_pos == client->out.size()) {
    if (client->out.capacity() > kMaxPendingOutput) {
      // A burst of large replies: give the memory back.
      std::vector<uint8_t>().swap(client->out);
    }
    client->out.clear();
    client->out_pos = 0;
    if (client->close_when_flushed ||
        (client->read_closed && client->in_flight == 0)) {
      Close(id);
      return;
    }
  } else if (client->out_pos >= kMaxPendingOutput) {
    // Keep the unsent tail only, so that a slow reader does not make the
    // buffer grow with what it has read.
    client->out.erase(
        client->out.begin(),
        client->out.begin() + static_cast<std::ptrdiff_t>(client->out_pos));
    client->out_pos = 0;
  }
  if (client->paused && !client->output_full() && client->resume_timer == 0) {
    // Requests the reader holds are handled from the loop, not from here
    // (Flush runs inside HandleMessage too).
    client->paused = false;
    client->resume_timer = loop_.AddTimer(absl::ZeroDuration(), [this, id] {
      Client* resumed = Find(id);
      if (resumed == nullptr) return;
      resumed->resume_timer = 0;
      if (HandleBuffered(id)) {
        if (Client* dry = Find(id)) UpdateInterest(*dry);
      }
    });
  }
  UpdateInterest(*client);
}

void IpcServer::UpdateInterest(Client& client) {
  // A paused client's requests wait until its replies are read.
  uint32_t wanted = client.read_closed || client.paused || client.output_full()
                        ? 0u
                        : uint32_t{EPOLLIN};
  if (client.out_pos < client.out.size()) wanted |= EPOLLOUT;
  if (wanted == client.interest) return;
  absl::Status status = loop_.ModifyFd(client.fd.get(), wanted);
  if (!status.ok()) {
    KISCSI_LOG(kError) << status.message();
    Close(client.id);
    return;
  }
  client.interest = wanted;
}

void IpcServer::ArmIdleTimer(Client& client) {
  if (client.idle_timer != 0) loop_.CancelTimer(client.idle_timer);
  const uint64_t id = client.id;
  client.idle_timer = loop_.AddTimer(options_.idle_timeout, [this, id] {
    Client* idle = Find(id);
    if (idle == nullptr) return;
    idle->idle_timer = 0;
    KISCSI_LOG(kDebug) << "closing idle connection " << id;
    Close(id);
  });
}

void IpcServer::Close(uint64_t id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client& client = *it->second;
  loop_.RemoveFd(client.fd.get());
  if (client.idle_timer != 0) loop_.CancelTimer(client.idle_timer);
  if (client.resume_timer != 0) loop_.CancelTimer(client.resume_timer);
  if (client.warnings.suppressed() > 0) {
    KISCSI_LOG(kWarning) << "pid " << client.pid
                         << ": connection closed after more malformed requests"
                         << client.warnings.SuppressedNote();
  }
  KISCSI_LOG(kDebug) << "connection " << id << " closed";
  clients_.erase(it);
}

}  // namespace kiscsi::daemon
