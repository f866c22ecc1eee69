#include "src/daemon/daemon.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/daemon/systemd.h"

namespace kiscsi::daemon {
namespace {

sigset_t HandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  return signals;
}

// CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it.
uint64_t MonotonicMicros() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 +
         static_cast<uint64_t>(now.tv_nsec) / 1000;
}

constexpr char kReadyState[] = "READY=1\nSTATUS=Serving kiscsiadm requests";

}  // namespace

void NotifySystemd(absl::string_view state) {
  absl::Status status = SdNotify(state);
  if (!status.ok()) {
    KISCSI_LOG(kWarning) << status.message();
  }
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Create(
    EventLoop& loop, UniqueFd listener, CommandHandler& handler,
    IpcServerOptions options) {
  const sigset_t signals = HandledSignals();
  sigset_t old_mask;
  const int error = ::pthread_sigmask(SIG_BLOCK, &signals, &old_mask);
  if (error != 0) return ErrnoStatus(error, "block signals");
  // From here on the destructor restores the mask.
  std::unique_ptr<Daemon> daemon(new Daemon(loop, handler, old_mask));
  daemon->signal_fd_.Reset(
      ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!daemon->signal_fd_.valid()) return ErrnoStatus(errno, "signalfd");
  RETURN_IF_ERROR(
      loop.AddFd(daemon->signal_fd_.get(), EPOLLIN,
                 [raw = daemon.get()](uint32_t) { raw->OnSignals(); }));
  ASSIGN_OR_RETURN(daemon->server_, IpcServer::Create(loop, std::move(listener),
                                                      handler, options));
  return daemon;
}

Daemon::~Daemon() {
  server_.reset();
  if (signal_fd_.valid()) {
    loop_.RemoveFd(signal_fd_.get());
    // Consume signals that arrived after the loop stopped: unblocked, they
    // would take their default action and kill the process.
    signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof(info)) ==
           static_cast<ssize_t>(sizeof(info))) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

absl::Status Daemon::Run() {
  NotifySystemd(kReadyState);
  KISCSI_LOG(kInfo) << "ready";
  absl::Status status = loop_.Run();
  NotifySystemd("STOPPING=1");
  return status;
}

void Daemon::OnSignals() {
  for (;;) {
    signalfd_siginfo info;
    const ssize_t n = ::read(signal_fd_.get(), &info, sizeof(info));
    if (n != static_cast<ssize_t>(sizeof(info))) {
      if (n < 0 && errno == EINTR) continue;
      return;  // EAGAIN: nothing more pending
    }
    const int signal = static_cast<int>(info.ssi_signo);
    if (signal == SIGHUP) {
      KISCSI_LOG(kInfo) << "SIGHUP from pid " << info.ssi_pid
                        << ": reloading the configuration";
      Reload();
      continue;
    }
    KISCSI_LOG(kInfo) << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
                      << " from pid " << info.ssi_pid
                      << ": exiting; iSCSI sessions stay logged in";
    loop_.Stop();
    return;
  }
}

void Daemon::Reload() {
  NotifySystemd(
      absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", MonotonicMicros()));
  handler_.Reload([](ipc::Reply reply) {
    if (reply.code != absl::StatusCode::kOk) {
      KISCSI_LOG(kError) << "reload failed: " << reply.message;
    }
    NotifySystemd(kReadyState);
  });
}

}  // namespace kiscsi::daemon
