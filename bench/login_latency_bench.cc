// Discovery and login latency against a real tgtd that this benchmark starts on
// 127.0.0.1 (needs tgtd and tgtadm in PATH). Wall-clock time per operation:
//   BM_SendTargets    discovery login + SendTargets=All (32 targets) + logout
//   BM_Probe          normal-session login (no auth) + logout, plain socket
//   BM_ProbeChapMd5   the same with CHAP MD5

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "src/discovery/probe.h"
#include "src/discovery/sendtargets.h"
#include "tests/host/subprocess.h"

namespace kiscsi {
namespace {

using testing::RunProcess;
using testing::StartProcess;

constexpr int kTargets = 32;
constexpr char kInitiator[] = "iqn.2026-11.org.kiscsi:bench";

class TgtdInstance {
 public:
  TgtdInstance() : port_(testing::PickFreePort()) {
    char pattern[] = "/tmp/kiscsi-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) std::abort();
    dir_ = pattern;
    env_ = {"TGT_IPC_SOCKET=" + dir_ + "/ipc"};
    pid_ = StartProcess(
        {"tgtd", "-f", "--iscsi", "portal=127.0.0.1:" + std::to_string(port_)},
        env_, dir_ + "/tgtd.log");
    for (int i = 0; i < 200 && Admin({"--op", "show", "--mode", "target"}) != 0;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (int tid = 1; tid <= kTargets; ++tid) {
      std::string t = std::to_string(tid);
      Admin({"--op", "new", "--mode", "target", "--tid", t, "-T",
             "iqn.2026-11.bench:t" + t});
      Admin({"--op", "bind", "--mode", "target", "--tid", t, "-I", "ALL"});
    }
    Admin({"--op", "new", "--mode", "account", "--user", "bench", "--password",
           "bench-secret-1"});
    Admin(
        {"--op", "bind", "--mode", "account", "--tid", "2", "--user", "bench"});
  }
  ~TgtdInstance() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  Portal portal() const { return Portal{"127.0.0.1", port_}; }
  int Admin(std::vector<std::string> args) {
    args.insert(args.begin(), {"tgtadm", "--lld", "iscsi"});
    return RunProcess(args, env_).exit_code;
  }

 private:
  uint16_t port_;
  std::string dir_;
  std::vector<std::string> env_;
  int pid_ = -1;
};

// Started by the first benchmark that needs it (none for --benchmark_list_tests
// or a filter that selects only others), stopped by main: a benchmark run
// leaves no tgtd and no directory behind.
std::unique_ptr<TgtdInstance>& TargetSlot() {
  static std::unique_ptr<TgtdInstance>* slot =
      new std::unique_ptr<TgtdInstance>();
  return *slot;
}

TgtdInstance& Target() {
  std::unique_ptr<TgtdInstance>& slot = TargetSlot();
  if (slot == nullptr) slot = std::make_unique<TgtdInstance>();
  return *slot;
}

void BM_SendTargets(benchmark::State& state) {
  Portal portal = Target().portal();
  DiscoveryOptions options;
  options.initiator_name = kInitiator;
  for (auto _ : state) {
    auto found = DiscoverSendTargets(portal, options);
    if (!found.ok() || found->size() != kTargets) {
      state.SkipWithError(std::string(found.status().message()).c_str());
      break;
    }
  }
}
BENCHMARK(BM_SendTargets)->UseRealTime()->Unit(benchmark::kMicrosecond);

void ProbeLoop(benchmark::State& state, const std::string& target, bool chap) {
  Portal portal = Target().portal();
  LoginConfig config;
  config.initiator_name = kInitiator;
  config.target_name = target;
  config.isid = {0x80, 0x12, 0x34, 0x56, 0x00, 0x01};
  if (chap) {
    config.auth.chap = true;
    config.auth.username = "bench";
    config.auth.password = "bench-secret-1";
  }
  for (auto _ : state) {
    auto probe = Probe(portal, config, absl::Seconds(5), absl::Seconds(5));
    if (!probe.ok()) {
      state.SkipWithError(std::string(probe.status().message()).c_str());
      break;
    }
  }
}

void BM_Probe(benchmark::State& state) {
  ProbeLoop(state, "iqn.2026-11.bench:t1", false);
}
BENCHMARK(BM_Probe)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_ProbeChapMd5(benchmark::State& state) {
  ProbeLoop(state, "iqn.2026-11.bench:t2", true);
}
BENCHMARK(BM_ProbeChapMd5)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kiscsi

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  kiscsi::TargetSlot().reset();  // kills tgtd, removes its directory
  return 0;
}
