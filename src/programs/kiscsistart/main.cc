// kiscsistart: logs in to targets through the kernel without a daemon, for an
// initramfs: the one given on the command line, or every boot-selected target
// of the boot firmware table (-b). -N brings up the network from that table
// and -f prints it. Sessions outlive this process; kiscsid adopts them later.

#include <libgen.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "conf/boot_firmware.h"
#include "conf/iscsid_conf.h"
#include "netlink/netlink_iscsi_kernel.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"
#include "src/netconfig/firmware_network.h"
#include "src/node/session_settings.h"
#include "src/programs/kiscsistart/boot_login.h"
#include "src/programs/kiscsistart/start_options.h"
#include "src/session/session_setup.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

// "kiscsistart: ", or "iscsistart: " when installed under open-iscsi's name.
std::string g_prefix = "kiscsistart: ";

// Where sysfs is; tests point KISCSI_SYSFS at a fake tree.
std::string SysfsRoot() {
  const char* sysfs = std::getenv("KISCSI_SYSFS");
  return sysfs != nullptr ? sysfs : "/sys";
}

absl::StatusOr<conf::IscsidConf> LoadConf(const StartOptions& options) {
  if (options.config_path.empty()) return conf::IscsidConf();
  ASSIGN_OR_RETURN(conf::LoadedIscsidConf loaded,
                   conf::LoadIscsidConf(options.config_path));
  for (const conf::Diagnostic& d : loaded.diagnostics) {
    KISCSI_LOG(kWarning) << d.message;
  }
  return std::move(loaded.conf);
}

// One login to make: what to say about it and how.
struct Planned {
  std::string target_name;
  std::string portal;  // "10.0.2.2:3261"
  int tpgt = 1;
  BootTarget boot;
};

absl::StatusOr<Planned> PlanLogin(const conf::Record& record,
                                  const Identity& identity) {
  ASSIGN_OR_RETURN(SessionSpec spec, SessionSpecFromNode(record, identity));
  Planned planned;
  planned.target_name = record.Get("node.name");
  planned.portal = FormatPortal(spec.portal, ':');
  planned.tpgt = static_cast<int>(record.GetInt("node.tpgt").value_or(1));
  planned.boot.attempts = static_cast<int>(std::max<int64_t>(
      1, record.GetInt("node.session.initial_login_retry_max").value_or(1)));
  planned.boot.spec = std::move(spec);
  return planned;
}

// The session already logged in to `planned`'s target and portal, if any:
// running -b again (an initramfs hook's retry loop) must not make a second.
std::optional<uint32_t> ExistingSession(
    const std::vector<SysfsSession>& sessions, const Planned& planned) {
  for (const SysfsSession& s : sessions) {
    if (s.target_name != planned.target_name || !s.connection.has_value()) {
      continue;
    }
    const SysfsConnection& c = *s.connection;
    if (c.persistent_address == planned.boot.spec.portal.address &&
        c.persistent_port == planned.boot.spec.portal.port) {
      return s.sid;
    }
  }
  return std::nullopt;
}

// Logs in to every planned target at once and reports each as iscsistart
// does. Fails with the first failure's status after reporting all.
absl::Status LoginPlanned(std::vector<Planned> planned) {
  absl::StatusOr<std::vector<SysfsSession>> sessions =
      ReadSysfsSessions(SysfsRoot());
  std::vector<Planned> to_login;
  for (Planned& p : planned) {
    std::optional<uint32_t> sid;
    if (sessions.ok()) sid = ExistingSession(*sessions, p);
    if (sid.has_value()) {
      std::cout << g_prefix << p.target_name << " " << p.portal << "," << p.tpgt
                << " is already logged in (session " << *sid << ")"
                << std::endl;
      continue;
    }
    std::cout << g_prefix << "Logging into " << p.target_name << " " << p.portal
              << "," << p.tpgt << std::endl;
    to_login.push_back(std::move(p));
  }
  if (to_login.empty()) return absl::OkStatus();

  ASSIGN_OR_RETURN(uint64_t handle, ReadTransportHandle());
  ASSIGN_OR_RETURN(std::unique_ptr<NetlinkIscsiKernel> kernel,
                   NetlinkIscsiKernel::Open(handle));
  std::vector<BootTarget> targets;
  for (const Planned& p : to_login) targets.push_back(p.boot);
  std::vector<absl::StatusOr<SessionResult>> outcomes =
      LoginAll(*kernel, targets,
               [&](size_t i, const absl::Status& failure, int attempt,
                   absl::Duration wait) {
                 KISCSI_LOG(kWarning)
                     << to_login[i].target_name << " " << to_login[i].portal
                     << ": " << failure.message() << "; retrying in "
                     << absl::ToInt64Milliseconds(wait) << " ms (" << attempt
                     << "/" << to_login[i].boot.attempts << ")";
               });
  absl::Status first_failure;
  int failures = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Planned& p = to_login[i];
    if (!outcomes[i].ok()) {
      // main() prints the returned failure; with several targets each is
      // named here.
      if (outcomes.size() > 1) {
        std::cerr << g_prefix << outcomes[i].status().message() << "\n";
      }
      if (first_failure.ok()) first_failure = outcomes[i].status();
      ++failures;
      continue;
    }
    const SessionResult& session = *outcomes[i];
    std::cout << g_prefix << "Connection" << session.sid
              << ":0 to [target: " << p.target_name
              << ", portal: " << FormatPortal(p.boot.spec.portal, ',')
              << "] through [iface: " << p.boot.spec.iface_name
              << "] is operational now" << std::endl;
    for (const SysfsDevice& device : session.devices) {
      if (!device.block.empty()) {
        std::cout << g_prefix << "attached disk " << device.block << " ("
                  << device.host << ":" << device.channel << ":" << device.id
                  << ":" << device.lun << ")" << std::endl;
      }
    }
    // The kernel holds its own reference to the socket: the session stays
    // when we exit.
  }
  if (failures == 0 || outcomes.size() == 1) return first_failure;
  return WithExitCode(
      absl::Status(first_failure.code(),
                   absl::StrCat("could not log in to ", failures, " of ",
                                outcomes.size(), " targets")),
      ExitCodeOf(first_failure));
}

absl::Status LoginFromOptions(const StartOptions& options) {
  ASSIGN_OR_RETURN(conf::IscsidConf conf, LoadConf(options));
  ASSIGN_OR_RETURN(conf::Record record,
                   BuildBootRecord(options, conf.NewNodeRecord()));
  ASSIGN_OR_RETURN(Planned planned,
                   PlanLogin(record, Identity{options.initiator_name, ""}));
  std::vector<Planned> all;
  all.push_back(std::move(planned));
  return LoginPlanned(std::move(all));
}

absl::Status PrintFirmware() {
  ASSIGN_OR_RETURN(std::vector<conf::FirmwareBootEntry> entries,
                   conf::ReadBootFirmware(SysfsRoot()));
  for (const conf::FirmwareBootEntry& entry : entries) {
    std::cout << conf::FormatFirmwareRecord(entry);
  }
  return absl::OkStatus();
}

absl::Status FirmwareNetwork() {
  ASSIGN_OR_RETURN(std::vector<conf::FirmwareBootEntry> entries,
                   conf::ReadBootFirmware(SysfsRoot()));
  return netconfig::BringUpFirmwareNetwork(entries, std::cout);
}

absl::Status FirmwareLogin(const StartOptions& options) {
  ASSIGN_OR_RETURN(std::vector<conf::FirmwareBootEntry> entries,
                   conf::ReadBootFirmware(SysfsRoot()));
  ASSIGN_OR_RETURN(conf::IscsidConf conf, LoadConf(options));
  std::vector<Planned> planned;
  for (const conf::FirmwareBootEntry& entry : entries) {
    if (!entry.target.boot_selected()) continue;
    if (entry.initiator.initiator_name.empty()) {
      return WithExitCode(
          absl::InvalidArgumentError(absl::StrCat(
              "the boot firmware table (", entry.source,
              ") has no initiator name; give one with -i and log in "
              "with -t/-g/-a")),
          ExitCode::kInvalid);
    }
    ASSIGN_OR_RETURN(conf::Record record,
                     conf::NodeRecordFromFirmware(entry, conf.NewNodeRecord()));
    RETURN_IF_ERROR(ApplyBootSettings(options, record));
    ASSIGN_OR_RETURN(
        Planned p,
        PlanLogin(record, Identity{entry.initiator.initiator_name, ""}));
    planned.push_back(std::move(p));
  }
  if (planned.empty()) {
    return WithExitCode(
        absl::NotFoundError("the boot firmware table selects no target for "
                            "booting (no target has the boot-selected flag)"),
        ExitCode::kNoObjectsFound);
  }
  return LoginPlanned(std::move(planned));
}

absl::Status Run(const StartOptions& options) {
  if (options.firmware_print) return PrintFirmware();
  if (options.firmware_net) RETURN_IF_ERROR(FirmwareNetwork());
  if (options.firmware_boot) return FirmwareLogin(options);
  if (options.firmware_net) return absl::OkStatus();
  return LoginFromOptions(options);
}

}  // namespace
}  // namespace kiscsi

int main(int argc, char** argv) {
  const std::string program = basename(argv[0]);
  kiscsi::g_prefix = program + ": ";
  kiscsi::SetLogPrefix(kiscsi::g_prefix.c_str());
  auto options = kiscsi::ParseStartOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << kiscsi::g_prefix << options.status().message() << "\n"
              << absl::StrReplaceAll(kiscsi::StartUsageText(),
                                     {{"kiscsistart", program}});
    return static_cast<int>(kiscsi::ExitCodeOf(options.status()));
  }
  if (options->help) {
    std::cout << absl::StrReplaceAll(kiscsi::StartUsageText(),
                                     {{"kiscsistart", program}});
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
  absl::Status status = kiscsi::Run(*options);
  std::cout.flush();
  if (!status.ok()) {
    std::cerr << kiscsi::g_prefix << status.message() << "\n";
    return static_cast<int>(kiscsi::ExitCodeOf(status));
  }
  return 0;
}
