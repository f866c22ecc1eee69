// kiscsi-udev: udev's RUN helper for iSCSI disks. Sets the SCSI command timeout
// and the I/O scheduler from iscsid.conf (kiscsi.disk.timeout,
// kiscsi.disk.scheduler) or the node record, on disks of iSCSI sessions only.
//
//   kiscsi-udev [DEVPATH]     DEVPATH defaults to $DEVPATH (udev sets it)
//
// Never fails the udev event: the exit status is 0 whatever happens; problems
// are reported on stderr, what was set on stdout. KISCSI_SYSFS (default /sys)
// and KISCSI_SYSCONFDIR (default /etc/iscsi) relocate the trees it reads.

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "conf/iscsid_conf.h"
#include "src/base/log.h"
#include "src/base/paths.h"
#include "src/udev/disk_tuning.h"

namespace {

constexpr char kUsage[] =
    "Usage: kiscsi-udev [DEVPATH]\n"
    "Sets the SCSI command timeout and the I/O scheduler of an iSCSI disk\n"
    "(SCSI type 0, 7 or 14) from iscsid.conf's kiscsi.disk.timeout and\n"
    "kiscsi.disk.scheduler, or from the same keys in the node record. Other\n"
    "devices are left alone. Run by udev; DEVPATH defaults to $DEVPATH.\n"
    "  -h, --help     this text\n"
    "  -V, --version  the version\n";

int Run(int argc, char** argv) {
  std::string devpath;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!options_done && (arg == "-h" || arg == "--help")) {
      std::cout << kUsage;
      return 0;
    }
    if (!options_done && (arg == "-V" || arg == "--version")) {
      std::cout << "kiscsi-udev version " << KISCSI_VERSION << "\n";
      return 0;
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && arg.size() > 1 && arg.front() == '-') {
      KISCSI_LOG(kError) << "unknown option '" << arg << "' (see --help)";
      return 0;
    }
    if (!devpath.empty()) {
      KISCSI_LOG(kError) << "more than one DEVPATH (see --help)";
      return 0;
    }
    devpath = arg;
  }
  if (devpath.empty()) {
    const char* from_env = std::getenv("DEVPATH");
    if (from_env == nullptr || *from_env == '\0') {
      KISCSI_LOG(kError) << "no DEVPATH given and none in the environment";
      return 0;
    }
    devpath = from_env;
  }

  auto loaded = kiscsi::conf::LoadIscsidConf(kiscsi::IscsidConfPath());
  if (!loaded.ok()) {
    KISCSI_LOG(kError) << loaded.status().message() << "; " << devpath
                       << " left unchanged";
    return 0;
  }
  for (const kiscsi::conf::Diagnostic& diagnostic : loaded->diagnostics) {
    KISCSI_LOG(kWarning) << diagnostic.message;
  }

  kiscsi::udev::DiskTuningRequest request;
  const char* sysfs = std::getenv("KISCSI_SYSFS");
  if (sysfs != nullptr && *sysfs != '\0') request.sysfs_root = sysfs;
  request.devpath = devpath;
  request.defaults = kiscsi::udev::SettingsFromConf(loaded->conf);
  request.node_db_root = kiscsi::SysconfDir();
  auto done = kiscsi::udev::TuneDevice(request);
  if (!done.ok()) {
    KISCSI_LOG(kError) << devpath << ": " << done.status().message();
    return 0;
  }
  if (!done->empty()) std::cout << "kiscsi-udev: " << *done << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kiscsi::SetLogPrefix("kiscsi-udev: ");
  Run(argc, argv);
  return 0;  // never fail the udev event
}
