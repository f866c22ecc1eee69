// io_probe: keeps one O_DIRECT writer per block device busy and reports every
// pause in their completions, for the VM benchmarks of recovery and adoption
// (bench/vm/recovery_bench.sh).
//
//   io_probe [--block-size BYTES] [--span-mib MIB] [--gap-ms MS]
//            [--interval-ms MS] DEVICE...
//
// Each device gets a thread that writes BYTES-sized blocks round-robin over
// the first MIB MiB of the device, each block stamped with its sequence
// number, and waits for each write to complete before the next one, then
// for --interval-ms (default 0: none), which keeps many devices from
// starving a small machine. Times are
// CLOCK_REALTIME microseconds, the clock bash's $EPOCHREALTIME reads, so a
// script can relate them to what it did (target down, target up, daemon
// start). Lines on stdout, flushed one by one:
//   START dev=D us=T                     first write completed
//   GAP dev=D start_us=A end_us=B ms=M   no completion for M ms (>= --gap-ms):
//                                        the write in flight was stuck from A
//                                        until B
//   ERROR dev=D us=T errno=E msg=...     a write failed (the writer goes on)
//   PHASE dev=D phase=P writes=N max_gap_ms=M
//                                        SIGUSR1 ended phase P (counted from
//                                        0): its writes and longest pause,
//                                        printed at the device's next
//                                        completion
//   SUMMARY dev=D writes=N errors=E max_gap_ms=M max_gap_end_us=B
// SIGUSR1 starts a new phase (e.g. "before" and "after" a daemon start).
// SIGTERM or SIGINT stops the writers after their current write; then the
// SUMMARY lines are printed and the exit status is 1 when any write failed.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_phase{0};
std::mutex g_out_mutex;

void OnStop(int) { g_stop.store(true); }
void OnNextPhase(int) { g_phase.fetch_add(1); }

int64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

template <typename... Args>
void Emit(const char* format, Args... args) {
  std::lock_guard<std::mutex> lock(g_out_mutex);
  std::printf(format, args...);
  std::fflush(stdout);
}

struct Options {
  size_t block_size = 4096;
  uint64_t span_bytes = uint64_t{16} << 20;
  int64_t gap_us = 50000;
  int64_t interval_us = 0;
  std::vector<std::string> devices;
};

struct Result {
  uint64_t writes = 0;
  uint64_t errors = 0;
  int64_t max_gap_us = 0;
  int64_t max_gap_end_us = 0;
};

void Writer(const Options& options, const std::string& device, Result& result) {
  const int fd = open(device.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    Emit("ERROR dev=%s us=%" PRId64 " errno=%d msg=open: %s\n", device.c_str(),
         NowUs(), errno, std::strerror(errno));
    ++result.errors;
    return;
  }
  void* buffer = nullptr;
  if (posix_memalign(&buffer, 4096, options.block_size) != 0) {
    Emit("ERROR dev=%s us=%" PRId64 " errno=%d msg=out of memory\n",
         device.c_str(), NowUs(), ENOMEM);
    ++result.errors;
    close(fd);
    return;
  }
  std::memset(buffer, 0xa5, options.block_size);
  const uint64_t blocks = options.span_bytes / options.block_size;
  int64_t last = NowUs();
  int phase = g_phase.load();
  uint64_t phase_writes = 0;
  int64_t phase_max_gap_us = 0;
  for (uint64_t i = 0; !g_stop.load(); ++i) {
    std::memcpy(buffer, &i, sizeof(i));
    const off_t offset = static_cast<off_t>((i % blocks) * options.block_size);
    const ssize_t n = pwrite(fd, buffer, options.block_size, offset);
    const int64_t now = NowUs();
    if (n != static_cast<ssize_t>(options.block_size)) {
      const int error = n < 0 ? errno : EIO;
      Emit("ERROR dev=%s us=%" PRId64 " errno=%d msg=write: %s\n",
           device.c_str(), now, error, std::strerror(error));
      ++result.errors;
      // A failed device fails fast: do not spin on it.
      usleep(10000);
      continue;
    }
    if (result.writes++ == 0) {
      Emit("START dev=%s us=%" PRId64 "\n", device.c_str(), now);
    } else if (now - last >= options.gap_us) {
      Emit("GAP dev=%s start_us=%" PRId64 " end_us=%" PRId64 " ms=%.1f\n",
           device.c_str(), last, now, (now - last) / 1000.0);
    }
    if (result.writes > 1 && now - last > result.max_gap_us) {
      result.max_gap_us = now - last;
      result.max_gap_end_us = now;
    }
    if (const int current = g_phase.load(); current != phase) {
      Emit("PHASE dev=%s phase=%d writes=%" PRIu64 " max_gap_ms=%.1f\n",
           device.c_str(), phase, phase_writes, phase_max_gap_us / 1000.0);
      phase = current;
      phase_writes = 0;
      phase_max_gap_us = 0;
    }
    // The pause that spans a phase change counts in the new phase.
    if (result.writes > 1) {
      phase_max_gap_us = std::max(phase_max_gap_us, now - last);
    }
    ++phase_writes;
    last = now;
    if (options.interval_us > 0) usleep(options.interval_us);
  }
  free(buffer);
  close(fd);
}

bool ParseNumber(const char* text, uint64_t& value) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long parsed = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  value = parsed;
  return true;
}

int Usage(const char* message) {
  std::fprintf(stderr,
               "io_probe: %s\nusage: io_probe [--block-size BYTES] "
               "[--span-mib MIB] [--gap-ms MS] [--interval-ms MS] DEVICE...\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--block-size" || arg == "--span-mib" || arg == "--gap-ms" ||
        arg == "--interval-ms") {
      uint64_t value = 0;
      // Only the pause between writes may be 0 (none).
      const bool zero_ok = arg == "--interval-ms";
      if (i + 1 >= argc || !ParseNumber(argv[i + 1], value) ||
          (value == 0 && !zero_ok)) {
        return Usage(
            (arg + (zero_ok ? " needs a number" : " needs a positive number"))
                .c_str());
      }
      ++i;
      if (arg == "--block-size") {
        if (value % 512 != 0) return Usage("--block-size must be sectors");
        options.block_size = value;
      } else if (arg == "--span-mib") {
        options.span_bytes = value << 20;
      } else if (arg == "--interval-ms") {
        options.interval_us = static_cast<int64_t>(value) * 1000;
      } else {
        options.gap_us = static_cast<int64_t>(value) * 1000;
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage(("unknown option " + arg).c_str());
    } else {
      options.devices.push_back(arg);
    }
  }
  if (options.devices.empty()) return Usage("no device");
  if (options.span_bytes < options.block_size) {
    return Usage("--span-mib is smaller than one block");
  }

  struct sigaction action {};
  action.sa_handler = OnStop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  action.sa_handler = OnNextPhase;
  sigaction(SIGUSR1, &action, nullptr);

  std::vector<Result> results(options.devices.size());
  std::vector<std::thread> threads;
  threads.reserve(options.devices.size());
  for (size_t i = 0; i < options.devices.size(); ++i) {
    threads.emplace_back(Writer, std::cref(options),
                         std::cref(options.devices[i]), std::ref(results[i]));
  }
  for (std::thread& thread : threads) thread.join();

  bool failed = false;
  for (size_t i = 0; i < options.devices.size(); ++i) {
    const Result& r = results[i];
    Emit("SUMMARY dev=%s writes=%" PRIu64 " errors=%" PRIu64
         " max_gap_ms=%.1f max_gap_end_us=%" PRId64 "\n",
         options.devices[i].c_str(), r.writes, r.errors, r.max_gap_us / 1000.0,
         r.max_gap_end_us);
    failed = failed || r.errors > 0;
  }
  return failed ? 1 : 0;
}
