#include "tests/host/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace kiscsi::testing {
namespace {

std::vector<char*> MakeEnvp(const std::vector<std::string>& extra,
                            std::vector<std::string>& storage) {
  for (char** e = environ; *e != nullptr; ++e) storage.emplace_back(*e);
  for (const std::string& s : extra) storage.push_back(s);
  std::vector<char*> envp;
  for (std::string& s : storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  return envp;
}

std::vector<char*> MakeArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& s : argv) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::abort();
}

int WaitExit(int pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) Die("waitpid");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// posix_spawnp with the current environment plus `env`; consumes `actions`.
int Spawn(const std::vector<std::string>& argv,
          const std::vector<std::string>& env,
          posix_spawn_file_actions_t* actions) {
  std::vector<std::string> env_storage;
  std::vector<char*> envp = MakeEnvp(env, env_storage);
  std::vector<char*> args = MakeArgv(argv);
  pid_t pid = 0;
  int rc =
      posix_spawnp(&pid, args[0], actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(actions);
  if (rc != 0) {
    errno = rc;
    Die(argv[0].c_str());
  }
  return pid;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    Die("pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  int pid = Spawn(argv, env, &actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  result.exit_code = WaitExit(pid);
  return result;
}

// fork and exec rather than posix_spawn: the child asks for SIGKILL when its
// parent dies (PR_SET_PDEATHSIG), so a test binary that aborts or is killed
// takes its tgtd or kiscsid along instead of leaving it running. The child
// only makes system calls between fork and exec; an exec failure comes back
// through a close-on-exec pipe.
int StartProcess(const std::vector<std::string>& argv,
                 const std::vector<std::string>& env,
                 const std::string& log_path) {
  std::vector<std::string> env_storage;
  std::vector<char*> envp = MakeEnvp(env, env_storage);
  std::vector<char*> args = MakeArgv(argv);
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) Die("pipe2");
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    int error = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
      _exit(127);  // the parent is gone already
    }
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(out, 2) < 0) {
      error = errno;
    } else {
      if (in > 2) close(in);
      if (out > 2) close(out);
      execvpe(args[0], args.data(), envp.data());
      error = errno;
    }
    ssize_t ignored = write(status_pipe[1], &error, sizeof(error));
    (void)ignored;
    _exit(127);
  }
  close(status_pipe[1]);
  int error = 0;
  ssize_t n;
  do {
    n = read(status_pipe[0], &error, sizeof(error));
  } while (n < 0 && errno == EINTR);
  close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(error))) {
    waitpid(pid, nullptr, 0);
    errno = error;
    Die(argv[0].c_str());
  }
  return pid;
}

uint16_t PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace kiscsi::testing
