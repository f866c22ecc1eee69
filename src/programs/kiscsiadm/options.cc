#include "src/programs/kiscsiadm/options.h"

#include <getopt.h>

#include <algorithm>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

constexpr int kProbeOption = 1000;

// getopt_long's tables: AcceptedOptions() reads the same ones, so an option
// added here without a line in UsageText() or the manual fails a test.
constexpr char kShortOptions[] = ":m:t:p:T:I:o:n:v:P:luL:U:SsRWDr:d:hV";
constexpr option kLongOptions[] = {
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
    {"no_wait", no_argument, nullptr, 'W'},
    {"discover", no_argument, nullptr, 'D'},
    {"sid", required_argument, nullptr, 'r'},
    {"debug", required_argument, nullptr, 'd'},
    {"probe", no_argument, nullptr, kProbeOption},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {nullptr, 0, nullptr, 0},
};

constexpr std::pair<std::string_view, Mode> kModes[] = {
    {"discovery", Mode::kDiscovery}, {"discoverydb", Mode::kDiscoveryDb},
    {"node", Mode::kNode},           {"session", Mode::kSession},
    {"iface", Mode::kIface},         {"fw", Mode::kFw},
    {"host", Mode::kHost},
};

absl::StatusOr<Mode> ParseMode(const std::string& text) {
  for (const auto& [name, mode] : kModes) {
    if (text == name) return mode;
  }
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
  Options options;
  bool name_pending = false;  // a -n waits for its -v
  optind =
      0;  // full re-initialisation, so tests can parse several command lines
  opterr = 0;
  for (;;) {
    int index = 0;
    int c = getopt_long(argc, argv, kShortOptions, kLongOptions, &index);
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
      case 'W':
        options.no_wait = true;
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
  -m discovery [-p IP[:PORT]] [-P 1]       list discovery records, or show one
  -m discovery -t sendtargets|st -p IP[:PORT][,TPGT] [-I IFACE]
               [-o new|delete|update|show|nonpersistent] [-l]
                                           SendTargets discovery; -l logs in
  -m discovery -t fw [-l]                  node records from the boot firmware table
  -m discoverydb -t st -p IP[:PORT] -o new|delete|update|show [-n NAME -v VALUE] [-D]
  -m node [-P 1] [-T TARGET] [-p IP[:PORT]] [-I IFACE] [-o new|delete|update|show]
          [-n NAME -v VALUE] [-S]
  -m node [-T TARGET] [-p IP[:PORT]] [-I IFACE] -l|-u
                                           log in to (out of) the matching records
  -m node -L|-U all|manual|automatic|onboot
                                           log in to (out of) records by node.startup
  -m node -T TARGET -p IP[:PORT] --probe   log in over a plain socket (no kernel), print the
                                           negotiated parameters, log out
  -m session [-r SID] [-P 0|1|2|3] [-S]    list sessions
  -m session [-r SID] -u|-R|-s             log out, rescan LUNs, print statistics
  -m iface [-I IFACE] [-o new|delete|update|show] [-n NAME -v VALUE]
  -m fw [-l]                               the boot firmware table's records; -l logs in
  -m host [-P 0|1]                         iSCSI hosts
Options:
  -m, --mode=MODE           discovery, discoverydb, node, session, iface, fw, host
  -t, --type=TYPE           discovery type: sendtargets (st) or fw
  -p, --portal=IP[:PORT][,TPGT]
                            IPv4, [IPv6] or host name; port 3260 by default
  -T, --targetname=TARGET   target name
  -I, --interface=IFACE     iface record (default "default")
  -o, --op=OP               new, delete, update, show, nonpersistent
  -n, --name=NAME           a record key, set by the -v that follows
  -v, --value=VALUE         the value of the -n before it
  -P, --print=LEVEL         print level (tree output)
  -l, --login               log in
  -u, --logout              log out
  -L, --loginall=WHICH      log in to all, manual, automatic or onboot records
  -U, --logoutall=WHICH     log out of them
  -S, --show                show secrets instead of ********
  -s, --stats               session statistics
  -R, --rescan              rescan the sessions' LUNs (-m session, -m node)
  -W, --no_wait             accepted for iscsiadm's command line (iscsi.service uses it); a
                            login still returns once its disks exist
  -D, --discover            with -m discoverydb: run the discovery
  -r, --sid=SID|PATH        one session, by number or sysfs path
  -d, --debug=LEVEL         debug output (0-8) on standard error
      --probe               check a login without the kernel (see above)
  -h, --help                this help
  -V, --version             the version
Paths: KISCSI_SYSCONFDIR (default /etc/iscsi) holds iscsid.conf, initiatorname.iscsi and the node
database; KISCSI_RUNDIR (default /run/kiscsi) the daemon's socket.
)";
}

std::vector<OptionInfo> AcceptedOptions() {
  std::vector<OptionInfo> accepted;
  auto long_names_for = [](int value) {
    std::vector<std::string> names;
    for (const option* o = kLongOptions; o->name != nullptr; ++o) {
      if (o->val == value) names.emplace_back(o->name);
    }
    return names;
  };
  std::string_view letters = kShortOptions;
  for (size_t i = 0; i < letters.size(); ++i) {
    if (letters[i] == ':') continue;
    OptionInfo info;
    info.letter = letters[i];
    info.takes_value = i + 1 < letters.size() && letters[i + 1] == ':';
    info.long_names = long_names_for(letters[i]);
    accepted.push_back(std::move(info));
  }
  // Long-only options: values that are no letter of kShortOptions.
  for (const option* o = kLongOptions; o->name != nullptr; ++o) {
    if (o->val > 0 && o->val < 128 &&
        letters.find(static_cast<char>(o->val)) != std::string_view::npos) {
      continue;
    }
    OptionInfo info;
    info.long_names.emplace_back(o->name);
    info.takes_value = o->has_arg != no_argument;
    accepted.push_back(std::move(info));
  }
  return accepted;
}

std::vector<std::string> AcceptedModes() {
  std::vector<std::string> modes;
  for (const auto& [name, mode] : kModes) modes.emplace_back(name);
  return modes;
}

}  // namespace kiscsi
