#include "tests/host/tgtd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "tests/host/subprocess.h"

namespace kiscsi::testing {
namespace {

bool CanConnect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

Tgtd::Tgtd(const std::string& work_dir) : work_dir_(work_dir) { Start(); }

void Tgtd::Start() {
  mkdir(work_dir_.c_str(), 0755);
  ipc_socket_ = work_dir_ + "/tgtd.ipc";
  // A port picked this way can be taken by someone else before tgtd binds it;
  // try a few.
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = PickFreePort();
    ASSERT_NE(port_, 0);
    int pid = StartProcess(
        {"tgtd", "-f", "--iscsi", "portal=127.0.0.1:" + std::to_string(port_)},
        {"TGT_IPC_SOCKET=" + ipc_socket_}, work_dir_ + "/tgtd.log");
    for (int i = 0; i < 200; ++i) {  // up to 2 s
      if (CanConnect(port_) &&
          Admin({"--op", "show", "--mode", "target"}) == 0) {
        pid_ = pid;
        break;
      }
      if (waitpid(pid, nullptr, WNOHANG) == pid) break;  // exited: port taken?
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ < 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  ASSERT_GT(pid_, 0) << "tgtd did not start; see " << work_dir_ << "/tgtd.log";
}

Tgtd::~Tgtd() {
  if (pid_ > 0) {
    // `tgtd -f` ignores SIGTERM; nothing is left to flush in a test instance.
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

int Tgtd::Admin(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"tgtadm", "--lld", "iscsi"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult result = RunProcess(argv, {"TGT_IPC_SOCKET=" + ipc_socket_});
  if (result.exit_code != 0) {
    ADD_FAILURE() << "tgtadm failed (" << result.exit_code
                  << "): " << result.err;
  }
  return result.exit_code;
}

void Tgtd::AddTarget(int tid, const std::string& name, uint64_t lun_bytes) {
  std::string backing = work_dir_ + "/lun" + std::to_string(tid) + ".img";
  { std::ofstream create(backing, std::ios::trunc); }
  ASSERT_EQ(truncate(backing.c_str(), lun_bytes), 0);
  std::string t = std::to_string(tid);
  ASSERT_EQ(Admin({"--op", "new", "--mode", "target", "--tid", t, "-T", name}),
            0);
  ASSERT_EQ(Admin({"--op", "new", "--mode", "logicalunit", "--tid", t, "--lun",
                   "1", "-b", backing}),
            0);
  ASSERT_EQ(
      Admin({"--op", "bind", "--mode", "target", "--tid", t, "-I", "ALL"}), 0);
}

void Tgtd::AddAccount(int tid, const std::string& user,
                      const std::string& password, bool outgoing) {
  ASSERT_EQ(Admin({"--op", "new", "--mode", "account", "--user", user,
                   "--password", password}),
            0);
  std::vector<std::string> bind = {"--op",    "bind",  "--mode",
                                   "account", "--tid", std::to_string(tid),
                                   "--user",  user};
  if (outgoing) bind.push_back("--outgoing");
  ASSERT_EQ(Admin(bind), 0);
}

}  // namespace kiscsi::testing
