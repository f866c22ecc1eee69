// login_timer: times one login command for the VM login benchmark
// (bench/vm/login_bench.sh) without polling, so that measuring does not take
// CPU from what is measured (a shell loop globbing sysfs every few
// milliseconds does, on a 2-vCPU emulated guest).
//
//   login_timer [--disks N] [--timeout-ms MS] [--log FILE] -- COMMAND [ARGS...]
//
// Starts COMMAND (posix_spawnp; its stdout and stderr go to FILE, default
// /dev/null, so that this program's stdout holds only its result), then sleeps
// in epoll on an inotify watch of /dev and on a pidfd of COMMAND. Each new
// /dev entry recounts the iSCSI disks: block devices under
// /sys/class/iscsi_session/session*/device/target*/H:C:T:L/block/ whose /dev
// node exists. Prints one line:
//   disk_ms=D cmd_ms=C rc=R
// D: from just before the spawn until N disks had /dev nodes (default 1; 0
// for none), stamped when the /dev events before the count that found them
// were read, not when that count ended; C: until COMMAND exited; R: its exit
// status (128+signal when a signal ended it). Exit status 0 when both happened,
// 1 on a timeout (default 120000 ms; the line then says "timeout" and what was
// seen), 2 on a usage or system error.
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern char** environ;

namespace {

constexpr char kSessions[] = "/sys/class/iscsi_session";

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

// The names in DIR for which `keep` is true ("." and ".." left out).
template <typename Keep>
std::vector<std::string> List(const std::string& dir, Keep keep) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (keep(name)) names.push_back(std::move(name));
  }
  closedir(d);
  return names;
}

bool StartsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// iSCSI disks whose /dev node exists.
int CountDisks() {
  int disks = 0;
  for (const std::string& session : List(kSessions, [](const std::string& n) {
         return StartsWith(n, "session");
       })) {
    const std::string device =
        std::string(kSessions) + "/" + session + "/device";
    for (const std::string& target : List(device, [](const std::string& n) {
           return StartsWith(n, "target");
         })) {
      const std::string target_dir = device + "/" + target;
      for (const std::string& lun : List(target_dir, [](const std::string& n) {
             return n.find(':') != std::string::npos;
           })) {
        for (const std::string& block :
             List(target_dir + "/" + lun + "/block",
                  [](const std::string&) { return true; })) {
          struct stat st {};
          if (stat(("/dev/" + block).c_str(), &st) == 0 &&
              S_ISBLK(st.st_mode)) {
            ++disks;
          }
        }
      }
    }
  }
  return disks;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "login_timer: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: login_timer [--disks N] [--timeout-ms MS] [--log FILE] "
               "-- COMMAND [ARGS...]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int want = 1;
  long timeout_ms = 120000;
  const char* log = "/dev/null";
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) Usage();
    if (arg == "--log") {
      log = argv[++i];
      continue;
    }
    char* end = nullptr;
    const long value = std::strtol(argv[i + 1], &end, 10);
    if (*end != '\0' || value < 0) Usage();
    if (arg == "--disks") {
      want = static_cast<int>(value);
    } else if (arg == "--timeout-ms") {
      timeout_ms = value;
    } else {
      Usage();
    }
    ++i;
  }
  if (i >= argc) Usage();

  const int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify < 0) Die("inotify_init1");
  if (inotify_add_watch(inotify, "/dev", IN_CREATE | IN_MOVED_TO) < 0) {
    Die("inotify_add_watch /dev");
  }
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) Die("epoll_create1");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = inotify;
  if (epoll_ctl(epoll, EPOLL_CTL_ADD, inotify, &event) < 0) Die("epoll_ctl");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log,
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const double t0 = NowMs();
  pid_t pid = -1;
  if (int err =
          posix_spawnp(&pid, argv[i], &actions, nullptr, argv + i, environ)) {
    errno = err;
    Die(argv[i]);
  }
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) Die("pidfd_open");
  event.data.fd = pidfd;
  if (epoll_ctl(epoll, EPOLL_CTL_ADD, pidfd, &event) < 0) Die("epoll_ctl");

  double disk_ms = -1;
  double cmd_ms = -1;
  int rc = -1;
  int seen = 0;
  // Reads every queued /dev event; returns when it was done.
  auto drain = [&] {
    char buffer[4096];
    while (read(inotify, buffer, sizeof(buffer)) > 0) {
    }
    return NowMs();
  };
  // A count that finds the disks stands for the moment of the drain before
  // it when no /dev entry has come since (the nodes were all there then),
  // else for now: the count's own sysfs reads, slow under emulation, are the
  // timer's work, not the command's.
  auto count = [&](double drained_ms) {
    if (disk_ms >= 0) return;
    seen = CountDisks();
    if (seen < want) return;
    int queued = 0;
    if (ioctl(inotify, FIONREAD, &queued) < 0) Die("ioctl FIONREAD");
    disk_ms = (queued > 0 ? NowMs() : drained_ms) - t0;
  };
  count(drain());
  while (disk_ms < 0 || cmd_ms < 0) {
    const double left = timeout_ms - (NowMs() - t0);
    if (left <= 0) break;
    epoll_event ready[2];
    const int n = epoll_wait(epoll, ready, 2, static_cast<int>(left) + 1);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    for (int k = 0; k < n; ++k) {
      if (ready[k].data.fd == inotify) {
        count(drain());
      } else if (cmd_ms < 0) {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) Die("waitpid");
        cmd_ms = NowMs() - t0;
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        epoll_ctl(epoll, EPOLL_CTL_DEL, pidfd, nullptr);
        // A failed command makes no disk: stop waiting for one.
        if (rc != 0 && disk_ms < 0) {
          std::printf("disk_ms=none cmd_ms=%.1f rc=%d disks=%d\n", cmd_ms, rc,
                      CountDisks());
          return 0;
        }
        count(drain());
      }
    }
  }
  if (disk_ms < 0 || cmd_ms < 0) {
    std::printf("timeout after %ld ms: disks=%d of %d, command %s\n",
                timeout_ms, CountDisks(), want,
                cmd_ms < 0 ? "still running" : "exited");
    if (cmd_ms < 0) kill(pid, SIGTERM);
    return 1;
  }
  std::printf("disk_ms=%.1f cmd_ms=%.1f rc=%d\n", disk_ms, cmd_ms, rc);
  return 0;
}
