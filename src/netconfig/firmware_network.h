// Brings up the network of the iSCSI boot firmware table: `kiscsistart -N`.
// ApplyNetworkPlan() sends a NetworkPlan (network_plan.h) to the kernel over
// rtnetlink (libnl-route-3) and only moves bytes; every decision is the
// plan's. Each step is reported in a line for the user, the first one per
// interface being open-iscsi's "Setting up software interface eth0".
//
// Applying is idempotent, since an initramfs hook may run -N before a retry
// loop: a link already up, an address or a default route already present and
// a VLAN device that exists are reported as such, not as errors; host routes
// to the targets are replaced.
//
//   ASSIGN_OR_RETURN(auto entries, conf::ReadBootFirmware("/sys"));
//   RETURN_IF_ERROR(netconfig::BringUpFirmwareNetwork(entries, std::cout));
#ifndef KISCSI_SRC_NETCONFIG_FIRMWARE_NETWORK_H_
#define KISCSI_SRC_NETCONFIG_FIRMWARE_NETWORK_H_

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/boot_firmware.h"
#include "src/netconfig/network_plan.h"

namespace kiscsi::netconfig {

// Applies `plan` through rtnetlink. `report` gets one line per step, without
// a newline: "Setting up software interface eth0" (open-iscsi's line) first
// for each interface, then what was done. An interface whose set-up fails gets
// "Setting up software interface eth0 failed" and the others are still set
// up; the first error is returned, naming the step. Needs CAP_NET_ADMIN.
absl::Status ApplyNetworkPlan(
    const NetworkPlan& plan,
    const std::function<void(std::string_view line)>& report);

// The same, collecting the lines; the lines so far are lost on error.
absl::StatusOr<std::vector<std::string>> ApplyNetworkPlan(
    const NetworkPlan& plan);

// `kiscsistart -N`: plans and applies, printing each line (with "\n") to
// `out`. An empty `entries` is NotFound with ExitCode kNoObjectsFound and
// prints open-iscsi's "Could not setup fw entries." first.
absl::Status BringUpFirmwareNetwork(
    const std::vector<conf::FirmwareBootEntry>& entries, std::ostream& out);

}  // namespace kiscsi::netconfig

#endif  // KISCSI_SRC_NETCONFIG_FIRMWARE_NETWORK_H_
