// kiscsid: the iSCSI initiator daemon (open-iscsi's iscsid for kiscsi).
//
// Always runs in the foreground and logs to stderr, which the journal
// captures under systemd (Type=notify); -f is accepted for iscsid's command
// line. Commands are taken only from the user kiscsid runs as (root).

#include <getopt.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "conf/iscsid_conf.h"
#include "netlink/netlink_iscsi_kernel.h"
#include "src/base/errno_status.h"
#include "src/base/event_loop.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/paths.h"
#include "src/base/status_macros.h"
#include "src/daemon/daemon.h"
#include "src/daemon/ipc_server.h"
#include "src/daemon/root_storage.h"
#include "src/daemon/session_manager.h"
#include "src/daemon/systemd.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi {
namespace {

constexpr char kUsage[] =
    "Usage: kiscsid [OPTION]\n"
    "  -c, --config=FILE   read FILE instead of SYSCONFDIR/iscsid.conf\n"
    "  -f, --foreground    accepted for iscsid's command line: kiscsid always\n"
    "                      runs in the foreground and logs to stderr\n"
    "  -d, --debug=LEVEL   0 logs warnings and errors, 1..4 adds progress\n"
    "                      messages, 5..8 debug details (default 1)\n"
    "  -n, --no-pid-file   accepted for iscsid's command line: kiscsid writes\n"
    "                      no pid file\n"
    "  -h, --help          print this help and exit\n"
    "  -v, -V, --version   print the version and exit\n";

struct Options {
  std::string config_path;
  int debug_level = 1;
  bool help = false;
  bool version = false;
};

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  static const option kLongOptions[] = {
      {"config", required_argument, nullptr, 'c'},
      {"foreground", no_argument, nullptr, 'f'},
      {"debug", required_argument, nullptr, 'd'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {"no-pid-file", no_argument, nullptr, 'n'},
      {nullptr, 0, nullptr, 0},
  };
  Options options;
  options.config_path = IscsidConfPath();
  opterr = 0;
  int option;
  while ((option = getopt_long(argc, argv, "c:fd:hnvV", kLongOptions,
                               nullptr)) != -1) {
    switch (option) {
      case 'c':
        options.config_path = optarg;
        break;
      case 'f':
      case 'n':
        break;
      case 'd':
        if (!absl::SimpleAtoi(optarg, &options.debug_level) ||
            options.debug_level < 0 || options.debug_level > 8) {
          return WithExitCode(
              absl::InvalidArgumentError(absl::StrCat(
                  "invalid debug level '", optarg, "': expected 0 to 8")),
              ExitCode::kInvalid);
        }
        break;
      case 'h':
        options.help = true;
        break;
      case 'v':  // iscsid's spelling
      case 'V':
        options.version = true;
        break;
      default:
        return WithExitCode(
            absl::InvalidArgumentError(
                optopt != 0
                    ? absl::StrCat("invalid option -",
                                   std::string(1, static_cast<char>(optopt)))
                    : absl::StrCat("invalid option ", argv[optind - 1])),
            ExitCode::kInvalid);
    }
  }
  if (optind < argc) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "unexpected argument '", argv[optind], "'")),
                        ExitCode::kInvalid);
  }
  return options;
}

LogLevel LevelFor(int debug_level) {
  if (debug_level == 0) return LogLevel::kWarning;
  if (debug_level <= 4) return LogLevel::kInfo;
  return LogLevel::kDebug;
}

// The socket systemd passed, or a new one at DaemonSocketPath() (in RunDir(),
// created 0755 if missing). `created` tells whether the caller should remove
// the socket file on exit.
absl::StatusOr<UniqueFd> OpenListener(bool& created) {
  ASSIGN_OR_RETURN(std::vector<daemon::ListenFd> passed,
                   daemon::TakeListenFds());
  if (!passed.empty()) {
    created = false;
    KISCSI_LOG(kInfo) << "using the socket passed by systemd";
    return daemon::PickListener(std::move(passed));
  }
  const std::string run_dir = RunDir();
  if (::mkdir(run_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("create ", run_dir));
  }
  const std::string path = ipc::DaemonSocketPath();
  ASSIGN_OR_RETURN(UniqueFd listener, daemon::ListenOnPath(path));
  created = true;
  KISCSI_LOG(kInfo) << "listening on " << path;
  return listener;
}

absl::Status Serve(const Options& options) {
  ASSIGN_OR_RETURN(conf::LoadedIscsidConf loaded,
                   conf::LoadIscsidConf(options.config_path));
  for (const conf::Diagnostic& diagnostic : loaded.diagnostics) {
    KISCSI_LOG(kWarning) << diagnostic.message;
  }
  bool created = false;
  ASSIGN_OR_RETURN(UniqueFd listener, OpenListener(created));
  ASSIGN_OR_RETURN(std::unique_ptr<EventLoop> loop, EventLoop::Create());
  daemon::SessionManager handler(
      *loop,
      []() -> absl::StatusOr<std::unique_ptr<IscsiKernel>> {
        ASSIGN_OR_RETURN(uint64_t handle, ReadTransportHandle());
        ASSIGN_OR_RETURN(std::unique_ptr<NetlinkIscsiKernel> kernel,
                         NetlinkIscsiKernel::Open(handle));
        return std::unique_ptr<IscsiKernel>(std::move(kernel));
      },
      SysconfDir(), SessionPaths{}, options.config_path,
      std::move(loaded.conf));
  daemon::IpcServerOptions server_options;
  server_options.allowed_uid = ::geteuid();
  ASSIGN_OR_RETURN(std::unique_ptr<daemon::Daemon> frame,
                   daemon::Daemon::Create(*loop, std::move(listener), handler,
                                          server_options));
  // Every session already in the kernel (initramfs, kiscsistart, an earlier
  // daemon) is in this daemon's charge before it reports READY=1: recovery
  // on its connection errors, and at once for a connection found failed.
  handler.AdoptSessions();
  // node.startup = automatic records, as iscsid does at start; the logins run
  // on the loop alongside the commands that arrive meanwhile.
  handler.LoginAll(
      ipc::LoginAllRequest{ipc::StartupFilter::kAutomatic},
      [](std::vector<std::string> lines) {
        for (const std::string& line : lines) {
          KISCSI_LOG(kInfo) << line;
        }
      },
      [](ipc::Reply reply) {
        for (const std::string& line : reply.out_lines) {
          KISCSI_LOG(kInfo) << line;
        }
        for (const std::string& line : reply.err_lines) {
          KISCSI_LOG(kWarning) << line;
        }
      });
  absl::Status status = frame->Run();
  if (created) ::unlink(ipc::DaemonSocketPath().c_str());
  return status;
}

}  // namespace
}  // namespace kiscsi

int main(int argc, char** argv) {
  // "kiscsid", or "iscsid" when installed under open-iscsi's name; a leading
  // '@' (systemd's mark for a root storage daemon) is not part of the name.
  std::string program = basename(argv[0]);
  if (!program.empty() && program.front() == '@') program.erase(0, 1);
  const std::string prefix = program + ": ";
  kiscsi::SetLogPrefix(prefix.c_str());
  absl::StatusOr<kiscsi::Options> options = kiscsi::ParseOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << prefix << options.status().message() << "\n"
              << absl::StrReplaceAll(kiscsi::kUsage, {{"kiscsid", program}});
    return static_cast<int>(kiscsi::ExitCodeOf(options.status()));
  }
  if (options->help) {
    std::cout << absl::StrReplaceAll(kiscsi::kUsage, {{"kiscsid", program}});
    return 0;
  }
  if (options->version) {
    std::cout << program << " version " << KISCSI_VERSION << "\n";
    return 0;
  }
  kiscsi::SetLogLevel(kiscsi::LevelFor(options->debug_level));
  // Before anything else: the daemon may hold the root disk (root_storage.h).
  for (const absl::Status& pinned :
       {kiscsi::daemon::LockInMemory(), kiscsi::daemon::MarkIoFlusher()}) {
    if (!pinned.ok()) {
      KISCSI_LOG(kWarning) << pinned.message()
                           << ": a connection under the root file system may "
                              "not recover (the daemon could wait on its own "
                              "disk)";
    }
  }
  absl::Status status = kiscsi::Serve(*options);
  if (!status.ok()) {
    KISCSI_LOG(kError) << status.message();
    return static_cast<int>(kiscsi::ExitCodeOf(status));
  }
  KISCSI_LOG(kInfo) << "exited";
  return 0;
}
