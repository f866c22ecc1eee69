// kiscsistart: logs in to one target through the kernel without a daemon, for
// an initramfs. The session outlives this process; kiscsid adopts it later.

#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conf/iscsid_conf.h"
#include "netlink/netlink_iscsi_kernel.h"
#include "src/base/exit_code.h"
#include "src/base/log.h"
#include "src/node/session_settings.h"
#include "src/programs/kiscsistart/start_options.h"
#include "src/session/session_setup.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

// Failures that a later attempt can get past: the network or the target is
// still coming up.
bool Retryable(const absl::Status& status) {
  switch (ExitCodeOf(status)) {
    case ExitCode::kTransport:
    case ExitCode::kTransportTimeout:
    case ExitCode::kPduTimeout:
    case ExitCode::kAgain:
      return true;
    default:
      return false;
  }
}

absl::Status Run(const StartOptions& options) {
  conf::IscsidConf conf;
  if (!options.config_path.empty()) {
    auto loaded = conf::LoadIscsidConf(options.config_path);
    if (!loaded.ok()) return loaded.status();
    for (const conf::Diagnostic& d : loaded->diagnostics) {
      KISCSI_LOG(kWarning) << d.message;
    }
    conf = std::move(loaded->conf);
  }
  auto record = BuildBootRecord(options, conf.NewNodeRecord());
  if (!record.ok()) return record.status();
  auto spec =
      SessionSpecFromNode(*record, Identity{options.initiator_name, ""});
  if (!spec.ok()) return spec.status();

  auto handle = ReadTransportHandle();
  if (!handle.ok()) return handle.status();
  auto kernel = NetlinkIscsiKernel::Open(*handle);
  if (!kernel.ok()) return kernel.status();

  const std::string portal = FormatPortal(spec->portal, ',');
  const int attempts = std::max<int64_t>(
      1, record->GetInt("node.session.initial_login_retry_max").value_or(1));
  absl::Duration backoff = absl::Milliseconds(200);
  for (int attempt = 1;; ++attempt) {
    std::cout << "kiscsistart: Logging into " << options.target_name << " "
              << portal << "," << options.tpgt << std::endl;
    auto session = LoginBlocking(**kernel, *spec);
    if (session.ok()) {
      std::cout << "kiscsistart: Connection" << session->sid
                << ":0 to [target: " << options.target_name
                << ", portal: " << portal
                << "] through [iface: " << spec->iface_name
                << "] is operational now" << std::endl;
      for (const SysfsDevice& device : session->devices) {
        if (!device.block.empty()) {
          std::cout << "kiscsistart: attached disk " << device.block << " ("
                    << device.host << ":" << device.channel << ":" << device.id
                    << ":" << device.lun << ")" << std::endl;
        }
      }
      // The kernel holds its own reference to the socket: the session stays
      // when we exit.
      return absl::OkStatus();
    }
    if (!Retryable(session.status()) || attempt >= attempts) {
      return session.status();
    }
    KISCSI_LOG(kWarning) << session.status().message() << "; retrying in "
                         << absl::ToInt64Milliseconds(backoff) << " ms ("
                         << attempt << "/" << attempts << ")";
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

}  // namespace
}  // namespace kiscsi

int main(int argc, char** argv) {
  kiscsi::SetLogPrefix("kiscsistart: ");
  auto options = kiscsi::ParseStartOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << "kiscsistart: " << options.status().message() << "\n"
              << kiscsi::StartUsageText();
    return static_cast<int>(kiscsi::ExitCodeOf(options.status()));
  }
  if (options->help) {
    std::cout << kiscsi::StartUsageText();
    return 0;
  }
  if (options->version) {
    std::cout << "kiscsistart version " << KISCSI_VERSION << "\n";
    return 0;
  }
  if (options->firmware_boot || options->firmware_net ||
      options->firmware_print) {
    std::cerr << "kiscsistart: iBFT boot (-b, -N, -f) is not supported yet; "
                 "give the target with -i -t -g -a\n";
    return static_cast<int>(kiscsi::ExitCode::kOperationNotSupported);
  }
  if (options->debug_level > 0) {
    kiscsi::SetLogLevel(options->debug_level >= 4 ? kiscsi::LogLevel::kDebug
                                                  : kiscsi::LogLevel::kInfo);
  }
  absl::Status status = kiscsi::Run(*options);
  if (!status.ok()) {
    std::cerr << "kiscsistart: " << status.message() << "\n";
    return static_cast<int>(kiscsi::ExitCodeOf(status));
  }
  return 0;
}
