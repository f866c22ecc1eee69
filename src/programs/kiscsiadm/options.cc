#include "src/programs/kiscsiadm/options.h"

#include <getopt.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

constexpr int kProbeOption = 1000;

absl::StatusOr<Mode> ParseMode(const std::string& text) {
  if (text == "discovery") return Mode::kDiscovery;
  if (text == "discoverydb") return Mode::kDiscoveryDb;
  if (text == "node") return Mode::kNode;
  if (text == "session") return Mode::kSession;
  if (text == "iface") return Mode::kIface;
  if (text == "fw") return Mode::kFw;
  if (text == "host") return Mode::kHost;
  return InvalidParameterError(absl::StrCat("invalid mode '", text, "'"));
}

absl::StatusOr<Op> ParseOp(const std::string& text) {
  if (text == "new") return Op::kNew;
  if (text == "delete") return Op::kDelete;
  if (text == "update") return Op::kUpdate;
  if (text == "show") return Op::kShow;
  if (text == "nonpersistent") return Op::kNonPersistent;
  return InvalidParameterError(absl::StrCat("Invalid operation '", text, "'"));
}

absl::StatusOr<int> ParseInt(const char* option, const std::string& text) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 0) {
    return InvalidParameterError(
        absl::StrCat("invalid value '", text, "' for ", option));
  }
  return value;
}

}  // namespace

bool Options::HasOp(Op op) const {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  static const option kLongOptions[] = {
      {"mode", required_argument, nullptr, 'm'},
      {"type", required_argument, nullptr, 't'},
      {"portal", required_argument, nullptr, 'p'},
      {"targetname", required_argument, nullptr, 'T'},
      {"interface", required_argument, nullptr, 'I'},
      {"op", required_argument, nullptr, 'o'},
      {"name", required_argument, nullptr, 'n'},
      {"value", required_argument, nullptr, 'v'},
      {"print", required_argument, nullptr, 'P'},
      {"login", no_argument, nullptr, 'l'},
      {"logout", no_argument, nullptr, 'u'},
      {"loginall", required_argument, nullptr, 'L'},
      {"logoutall", required_argument, nullptr, 'U'},
      {"show", no_argument, nullptr, 'S'},
      {"stats", no_argument, nullptr, 's'},
      {"rescan", no_argument, nullptr, 'R'},
      {"discover", no_argument, nullptr, 'D'},
      {"sid", required_argument, nullptr, 'r'},
      {"debug", required_argument, nullptr, 'd'},
      {"probe", no_argument, nullptr, kProbeOption},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  Options options;
  bool name_pending = false;  // a -n waits for its -v
  optind =
      0;  // full re-initialisation, so tests can parse several command lines
  opterr = 0;
  for (;;) {
    int index = 0;
    int c = getopt_long(argc, argv, ":m:t:p:T:I:o:n:v:P:luL:U:SsRDr:d:hV",
                        kLongOptions, &index);
    if (c == -1) break;
    std::string arg = optarg != nullptr ? optarg : "";
    switch (c) {
      case 'm': {
        auto mode = ParseMode(arg);
        if (!mode.ok()) return mode.status();
        options.mode = *mode;
        break;
      }
      case 't':
        if (arg == "st") arg = "sendtargets";
        if (arg != "sendtargets" && arg != "isns" && arg != "fw") {
          return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                                  "Unknown discovery type '", arg, "'")),
                              ExitCode::kUnknownDiscoveryType);
        }
        options.type = arg;
        break;
      case 'p':
        options.portal = arg;
        break;
      case 'T':
        options.target_name = arg;
        break;
      case 'I':
        options.iface = arg;
        break;
      case 'o': {
        auto op = ParseOp(arg);
        if (!op.ok()) return op.status();
        options.ops.push_back(*op);
        break;
      }
      case 'n':
        if (name_pending) {
          return InvalidParameterError(
              absl::StrCat("-n ", options.settings.back().first,
                           " has no -v VALUE before the next -n"));
        }
        options.settings.emplace_back(arg, "");
        name_pending = true;
        break;
      case 'v':
        if (!name_pending) {
          return InvalidParameterError(
              absl::StrCat("-v ", arg, " has no -n NAME before it"));
        }
        options.settings.back().second = arg;
        name_pending = false;
        break;
      case 'P': {
        auto level = ParseInt("-P", arg);
        if (!level.ok()) return level.status();
        options.print_level = *level;
        break;
      }
      case 'l':
        options.login = true;
        break;
      case 'u':
        options.logout = true;
        break;
      case 'L':
        options.login_all = arg;
        break;
      case 'U':
        options.logout_all = arg;
        break;
      case 'S':
        options.show_secrets = true;
        break;
      case 's':
        options.stats = true;
        break;
      case 'R':
        options.rescan = true;
        break;
      case 'D':
        options.discover = true;
        break;
      case 'r':
        options.sid = arg;
        break;
      case 'd': {
        auto level = ParseInt("-d", arg);
        if (!level.ok()) return level.status();
        options.debug_level = *level;
        break;
      }
      case kProbeOption:
        options.probe = true;
        break;
      case 'h':
        options.help = true;
        break;
      case 'V':
        options.version = true;
        break;
      case ':':
        return InvalidParameterError(absl::StrCat("option '", argv[optind - 1],
                                                  "' requires an argument"));
      default:
        return InvalidParameterError(
            absl::StrCat("unrecognized option '", argv[optind - 1], "'"));
    }
  }
  if (optind < argc) {
    return InvalidParameterError(
        absl::StrCat("unexpected argument '", argv[optind], "'"));
  }
  if (name_pending) {
    return InvalidParameterError(absl::StrCat(
        "-n ", options.settings.back().first, " needs a -v VALUE"));
  }
  return options;
}

const char* UsageText() {
  return R"(Usage: kiscsiadm -m MODE [OPTIONS]
  -m discovery -t sendtargets|st -p IP[:PORT][,TPGT] [-I IFACE] [-o new|delete|update|show|nonpersistent]
  -m discovery [-p IP[:PORT]]               list discovery records, or show one
  -m discoverydb -t st -p IP[:PORT] -o new|update|show [-n NAME -v VALUE] [-D]
  -m node [-P 1] [-T TARGET] [-p IP[:PORT]] [-I IFACE] [-o new|delete|update|show] [-n NAME -v VALUE] [-S]
  -m node -T TARGET -p IP[:PORT] --probe   log in over a plain socket (no kernel), print the
                                           negotiated parameters, log out
  -m iface [-I IFACE] [-o show]
  -d LEVEL  debug output (0-8)   -V  version   -h  this help
Paths: KISCSI_SYSCONFDIR (default /etc/iscsi) holds iscsid.conf, initiatorname.iscsi and the node
database; KISCSI_RUNDIR (default /run/kiscsi) the daemon's socket.
)";
}

}  // namespace kiscsi
