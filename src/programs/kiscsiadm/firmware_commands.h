// kiscsiadm's boot firmware and host modes: `-m fw` prints the boot firmware
// table's records as iscsiadm does, `-m fw -l` logs in to its targets through
// kiscsid (no node record is written), `-m discovery -t fw` writes them as
// node records with node.startup = onboot, and `-m host [-P 1]` lists the
// iSCSI hosts from sysfs.
#ifndef KISCSI_SRC_PROGRAMS_KISCSIADM_FIRMWARE_COMMANDS_H_
#define KISCSI_SRC_PROGRAMS_KISCSIADM_FIRMWARE_COMMANDS_H_

#include "absl/status/status.h"
#include "src/programs/kiscsiadm/commands.h"
#include "src/programs/kiscsiadm/options.h"

namespace kiscsi {

// -m fw [-l]
absl::Status RunFirmware(const Options& options, CommandContext& context);
// -m discovery -t fw
absl::Status FirmwareDiscovery(const Options& options, CommandContext& context);
// -m host [-P N]
absl::Status RunHost(const Options& options, CommandContext& context);

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSIADM_FIRMWARE_COMMANDS_H_
