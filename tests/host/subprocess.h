// Runs a program to completion for host tests: argv, extra environment,
// captured output.
#ifndef KISCSI_TESTS_HOST_SUBPROCESS_H_
#define KISCSI_TESTS_HOST_SUBPROCESS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiscsi::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with the current environment plus `env`
// ("NAME=VALUE"). Standard input is /dev/null. Aborts the test binary if the
// program cannot be started.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

// Starts argv in the background with output appended to `log_path`; returns its
// pid. The process is killed (SIGKILL) when the thread that started it ends,
// so start it from the test's main thread; a test binary that dies takes it
// along.
int StartProcess(const std::vector<std::string>& argv,
                 const std::vector<std::string>& env,
                 const std::string& log_path);

// A TCP port on 127.0.0.1 that was free a moment ago (0 if none could be
// found); someone else may take it before the caller binds it.
uint16_t PickFreePort();

}  // namespace kiscsi::testing

#endif  // KISCSI_TESTS_HOST_SUBPROCESS_H_
