// kiscsiadm: iscsiadm's command line for kiscsi.

#include <libgen.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/paths.h"
#include "src/programs/kiscsiadm/commands.h"
#include "src/programs/kiscsiadm/options.h"

int main(int argc, char** argv) {
  // Installed under the open-iscsi name, messages say "iscsiadm: ...".
  std::string program = basename(argv[0]);
  std::string prefix = program + ": ";
  kiscsi::SetLogPrefix(prefix.c_str());
  auto options = kiscsi::ParseOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << prefix << options.status().message() << "\n"
              << kiscsi::UsageText();
    return static_cast<int>(kiscsi::ExitCodeOf(options.status()));
  }
  if (options->help) {
    std::cout << kiscsi::UsageText();
    return 0;
  }
  if (options->version) {
    std::cout << program << " version " << KISCSI_VERSION << "\n";
    return 0;
  }
  if (options->debug_level > 0) {
    kiscsi::SetLogLevel(options->debug_level >= 4 ? kiscsi::LogLevel::kDebug
                                                  : kiscsi::LogLevel::kInfo);
  }
  const char* sysfs = std::getenv("KISCSI_SYSFS");  // tests: a fake tree
  kiscsi::CommandContext context{kiscsi::SysconfDir(),
                                 sysfs != nullptr ? sysfs : "/sys", std::cout,
                                 std::cerr, prefix};
  absl::Status status = kiscsi::RunCommand(*options, context);
  std::cout.flush();
  if (!status.ok()) {
    // An empty message: the failure says nothing (as iscsiadm for some).
    if (!status.message().empty()) {
      std::cerr << prefix << status.message() << "\n";
    }
    return static_cast<int>(kiscsi::ExitCodeOf(status));
  }
  return 0;
}
