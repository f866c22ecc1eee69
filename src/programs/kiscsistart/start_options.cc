#include "src/programs/kiscsistart/start_options.h"

#include <getopt.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

absl::StatusOr<int> ParseNumber(const char* option, const char* text, int min,
                                int max) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return InvalidParameterError(absl::StrCat("invalid value '", text, "' for ",
                                              option, ": expected ", min,
                                              " to ", max));
  }
  return value;
}

absl::Status SetKey(conf::Record& record, absl::string_view name,
                    absl::string_view value) {
  std::string key(name);
  const conf::KeySpec* spec = conf::FindKeySpec(conf::RecordKind::kNode, key);
  if (spec == nullptr) {
    return InvalidParameterError(
        conf::UnknownKeyMessage(conf::RecordKind::kNode, key));
  }
  auto normalized = conf::NormalizeValue(*spec, std::string(value));
  if (!normalized.ok()) {
    return WithExitCode(normalized.status(), ExitCode::kInvalid);
  }
  record.Set(spec->name, *normalized);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StartOptions> ParseStartOptions(int argc, char** argv) {
  static const option kLongOptions[] = {
      {"initiatorname", required_argument, nullptr, 'i'},
      {"targetname", required_argument, nullptr, 't'},
      {"tgpt", required_argument, nullptr, 'g'},  // iscsistart's spelling
      {"tpgt", required_argument, nullptr, 'g'},
      {"address", required_argument, nullptr, 'a'},
      {"port", required_argument, nullptr, 'p'},
      {"username", required_argument, nullptr, 'u'},
      {"password", required_argument, nullptr, 'w'},
      {"username_in", required_argument, nullptr, 'U'},
      {"password_in", required_argument, nullptr, 'W'},
      {"config", required_argument, nullptr, 'c'},
      {"param", required_argument, nullptr, 'P'},
      {"debug", required_argument, nullptr, 'd'},
      {"fwparam_connect", no_argument, nullptr, 'b'},
      {"fwparam_network", no_argument, nullptr, 'N'},
      {"fwparam_print", no_argument, nullptr, 'f'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  StartOptions options;
  optind = 0;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":i:t:g:a:p:u:w:U:W:c:P:d:bNfvVh",
                        kLongOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'i':
        options.initiator_name = optarg;
        break;
      case 't':
        options.target_name = optarg;
        break;
      case 'g': {
        ASSIGN_OR_RETURN(options.tpgt, ParseNumber("-g", optarg, 0, 65535));
        break;
      }
      case 'a':
        options.address = optarg;
        break;
      case 'p': {
        ASSIGN_OR_RETURN(options.port, ParseNumber("-p", optarg, 1, 65535));
        break;
      }
      case 'u':
        options.username = optarg;
        break;
      case 'w':
        options.password = optarg;
        break;
      case 'U':
        options.username_in = optarg;
        break;
      case 'W':
        options.password_in = optarg;
        break;
      case 'c':
        options.config_path = optarg;
        break;
      case 'P': {
        std::string setting = optarg;
        size_t eq = setting.find('=');
        if (eq == std::string::npos || eq == 0) {
          return InvalidParameterError(
              absl::StrCat("-P takes NAME=VALUE, not '", setting, "'"));
        }
        options.settings.emplace_back(setting.substr(0, eq),
                                      setting.substr(eq + 1));
        break;
      }
      case 'd': {
        ASSIGN_OR_RETURN(options.debug_level, ParseNumber("-d", optarg, 0, 8));
        break;
      }
      case 'b':
        options.firmware_boot = true;
        break;
      case 'N':
        options.firmware_net = true;
        break;
      case 'f':
        options.firmware_print = true;
        break;
      case 'v':  // iscsistart's spelling
      case 'V':
        options.version = true;
        break;
      case 'h':
        options.help = true;
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
  if (options.help || options.version || options.firmware_boot ||
      options.firmware_net || options.firmware_print) {
    return options;
  }
  if (options.initiator_name.empty() || options.target_name.empty() ||
      options.address.empty() || options.tpgt < 0) {
    return InvalidParameterError(
        "a login needs -i INITIATORNAME, -t TARGETNAME, -g TPGT and -a "
        "ADDRESS");
  }
  if (options.username.empty() != options.password.empty()) {
    return InvalidParameterError("CHAP needs both -u USERNAME and -w PASSWORD");
  }
  if (options.username_in.empty() != options.password_in.empty()) {
    return InvalidParameterError(
        "mutual CHAP needs both -U USERNAME_IN and -W PASSWORD_IN");
  }
  if (!options.username_in.empty() && options.username.empty()) {
    return InvalidParameterError("mutual CHAP (-U/-W) needs CHAP (-u/-w) too");
  }
  return options;
}

absl::Status ApplyBootSettings(const StartOptions& options,
                               conf::Record& record) {
  RETURN_IF_ERROR(SetKey(record, "node.conn[0].timeo.noop_out_interval", "0"));
  RETURN_IF_ERROR(SetKey(record, "node.conn[0].timeo.noop_out_timeout", "0"));
  RETURN_IF_ERROR(SetKey(record, "node.session.initial_login_retry_max", "60"));
  for (const auto& [name, value] : options.settings) {
    RETURN_IF_ERROR(SetKey(record, name, value));
  }
  return absl::OkStatus();
}

absl::StatusOr<conf::Record> BuildBootRecord(const StartOptions& options,
                                             conf::Record record) {
  RETURN_IF_ERROR(ApplyBootSettings(options, record));
  record.Set("node.name", options.target_name);
  record.Set("node.tpgt", std::to_string(options.tpgt));
  record.Set("node.conn[0].address", options.address);
  record.Set("node.conn[0].port", std::to_string(options.port));
  record.Set("iface.initiatorname", options.initiator_name);
  if (!options.username.empty()) {
    record.Set("node.session.auth.authmethod", "CHAP");
    record.Set("node.session.auth.username", options.username);
    record.Set("node.session.auth.password", options.password);
    record.Set("node.session.auth.username_in", options.username_in);
    record.Set("node.session.auth.password_in", options.password_in);
  }
  return record;
}

const char* StartUsageText() {
  return R"(Usage: kiscsistart -i INITIATORNAME -t TARGETNAME -g TPGT -a ADDRESS [-p PORT]
                   [-u USERNAME -w PASSWORD [-U USERNAME_IN -W PASSWORD_IN]]
                   [-c CONFIG] [-P NAME=VALUE]... [-d LEVEL]
       kiscsistart [-N] [-b] [-c CONFIG] [-P NAME=VALUE]... [-d LEVEL]
       kiscsistart -f
Logs in to targets through the kernel (iscsi_tcp) without a daemon, for an initramfs.
  -b, --fwparam_connect  log in to every boot-selected target of the boot firmware table (iBFT)
  -N, --fwparam_network  bring up the network the boot firmware table describes
  -f, --fwparam_print    print the boot firmware table's records, as iscsistart -f does
  -P NAME=VALUE  any node record setting, e.g. -P node.session.timeo.replacement_timeout=86400
  -c CONFIG      iscsid.conf to take defaults from (default: built-in defaults)
  -d LEVEL       debug output (0-8)
  -v, -V, --version  print the version and exit
  -h, --help     print this help and exit
)";
}

}  // namespace kiscsi
