// kiscsiadm's command line: iscsiadm's options, parsed into one struct.
//
// Option letters, long names and accepted values follow iscsiadm 2.1.8 so that
// existing scripts keep working. kiscsi adds long-only options (--probe).
#ifndef KISCSI_SRC_PROGRAMS_KISCSIADM_OPTIONS_H_
#define KISCSI_SRC_PROGRAMS_KISCSIADM_OPTIONS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kiscsi {

enum class Mode {
  kNone,
  kDiscovery,
  kDiscoveryDb,
  kNode,
  kSession,
  kIface,
  kFw,
  kHost
};

// -o values; several may be given (e.g. "-o new -o delete").
enum class Op { kNew, kDelete, kUpdate, kShow, kNonPersistent };

struct Options {
  Mode mode = Mode::kNone;
  std::string type;  // -t: "sendtargets" (also given as "st"), "isns", "fw"
  std::optional<std::string> portal;       // -p as given
  std::optional<std::string> target_name;  // -T
  std::optional<std::string> iface;        // -I
  std::vector<Op> ops;                     // -o
  // -n NAME -v VALUE pairs in the order given (-o update applies them all).
  std::vector<std::pair<std::string, std::string>> settings;
  std::optional<int> print_level;         // -P
  bool login = false;                     // -l
  bool logout = false;                    // -u
  std::optional<std::string> login_all;   // -L all|manual|automatic|onboot
  std::optional<std::string> logout_all;  // -U
  bool show_secrets = false;              // -S
  bool stats = false;                     // -s
  bool rescan = false;                    // -R
  bool no_wait = false;                   // -W: accepted, logins still wait
  bool discover = false;                  // -D (discoverydb)
  std::optional<std::string> sid;         // -r SID|SYSFSPATH
  int debug_level = 0;                    // -d
  bool probe = false;                     // --probe
  bool help = false;                      // -h
  bool version = false;                   // -V

  bool HasOp(Op op) const;
};

// Parses argv (argv[0] is the program). Errors are InvalidArgument with
// ExitCode kInvalid and iscsiadm-like text ("invalid mode 'nodes'").
absl::StatusOr<Options> ParseOptions(int argc, char** argv);

// The usage text printed by -h: every mode and every option ParseOptions
// accepts (tests check it against AcceptedOptions() and AcceptedModes()).
const char* UsageText();

// One option ParseOptions accepts, read from the tables it parses with, so
// that tests can hold the help text and the manual against the parser.
struct OptionInfo {
  char letter = 0;                      // 0 for a long-only option (--probe)
  std::vector<std::string> long_names;  // "mode" for --mode
  bool takes_value = false;             // -m MODE, --mode=MODE
};

// Every option ParseOptions accepts, in the parser's order.
std::vector<OptionInfo> AcceptedOptions();

// Every MODE that -m accepts ("discovery", "discoverydb", "node", ...).
std::vector<std::string> AcceptedModes();

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSIADM_OPTIONS_H_
