// The iSCSI boot firmware tables the kernel publishes in sysfs: the iBFT
// (/sys/firmware/ibft/, from the iscsi_ibft module) and the offload drivers'
// copies (/sys/firmware/iscsi_boot<host>/). This module reads them into plain
// structs, prints them as `iscsistart -f` / `iscsiadm -m fw` do, and turns a
// boot target into a node record. It never writes and never talks to the
// kernel other than by reading files; the netdev of a NIC is found through
// sysfs (the `device` link, else the MAC over class/net).
//
// Parsing (boot_firmware.cc) is split from reading (boot_firmware_sysfs.cc):
// ParseFirmwareNic/Target/Initiator take a name -> contents map of one
// directory, so the value parsing is fuzzed and unit-tested without a file
// system.
//
//   ASSIGN_OR_RETURN(std::vector<FirmwareBootEntry> entries,
//                    ReadBootFirmware("/sys"));
//   for (const auto& e : entries) std::cout << FormatFirmwareRecord(e);
#ifndef KISCSI_CONF_BOOT_FIRMWARE_H_
#define KISCSI_CONF_BOOT_FIRMWARE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/record.h"

namespace kiscsi::conf {

// Flag bits of the NIC and target structures (and the initiator's bit 0/1).
inline constexpr int kFirmwareFlagValid = 1;
inline constexpr int kFirmwareFlagBootSelected = 2;

// One ethernetN directory. Absent files leave fields empty / zero.
struct FirmwareNic {
  std::string id;  // directory name: "ethernet0"
  int index = 0;
  int flags = 0;
  std::string ip_address;  // "10.0.2.15", or IPv6 text; "" when absent
  int prefix_length = 0;
  std::string subnet_mask;  // as sysfs prints it (no newline there)
  int origin = 0;           // 0 other, 1 manual, 2 well-known, 3 DHCP, 4 RA
  std::string gateway;
  std::string primary_dns;
  std::string secondary_dns;
  std::string dhcp_server;  // the `dhcp` file
  int vlan = 0;
  // Whether the `vlan` file exists (the iBFT always has it): `iscsistart -f`
  // prints iface.vlan_id then, even when it is 0.
  bool has_vlan = false;
  std::string mac;  // "52:54:00:12:34:56"
  std::string hostname;
  // The network device that has this NIC, "" when none was found.
  std::string net_device;

  bool boot_selected() const { return flags & kFirmwareFlagBootSelected; }
  // As open-iscsi decides iface.bootproto: origin 3, or a DHCP server
  // address other than 0.0.0.0.
  bool UsesDhcp() const;
};

// One targetN directory.
struct FirmwareTarget {
  std::string id;  // "target0"
  int index = 0;
  int flags = 0;
  std::string ip_address;
  int port = 3260;  // when the file is absent
  std::string lun;  // as sysfs prints it: "01000000" for LUN 1
  int chap_type = 0;
  int nic_association = 0;
  std::string target_name;
  std::string chap_name;
  std::string chap_secret;
  std::string reverse_chap_name;
  std::string reverse_chap_secret;

  bool boot_selected() const { return flags & kFirmwareFlagBootSelected; }
  // The boot LUN as the number Linux gives it (the "L" of H:C:T:L and the N
  // of by-path's "lun-N"): for a single-level LUN the first level's two bytes,
  // byte 0 << 8 | byte 1, so 00 01 is 1 (and flat 41 2c is 0x412c). nullopt
  // when the text cannot be read back into bytes unambiguously.
  //
  // sysfs prints each of the 8 bytes with %x, unpadded and concatenated, so
  // a byte is one hex digit, or two not starting with 0. The text is split
  // into 8 such bytes: if exactly one split leaves bytes 2-7 zero (a
  // single-level LUN, what firmware boots from), that one is the LUN
  // ("01000000"
  // -> 1, "0ff000000" -> 255, "412c000000" -> 0x412c); else if exactly one
  // split exists at all, its bytes are taken as a multi-level LUN (all four
  // levels, as Linux's scsilun_to_int); else nullopt ("1ff000000" is 01 ff or
  // 1f 0f). Upper-case digits are accepted; anything else gives nullopt.
  std::optional<uint64_t> LunNumber() const;
};

struct FirmwareInitiator {
  int flags = 0;
  std::string initiator_name;
  std::string isid;  // offload drivers only
};

// One target with the NIC it names and the table's initiator: one record of
// `iscsistart -f`.
struct FirmwareBootEntry {
  std::string source;  // "ibft" or "iscsi_boot0": the sysfs directory
  FirmwareInitiator initiator;
  FirmwareNic nic;
  FirmwareTarget target;
};

// The files of one sysfs directory: name -> contents exactly as read.
using FirmwareFiles = std::map<std::string, std::string, std::less<>>;

// Value parsing. `where` names the directory in messages
// ("/sys/firmware/ibft/target0"); errors are InvalidArgument naming the file
// and the bad value (never a CHAP secret's), with ExitCode kInvalid.
// Required: NIC flags (non-zero) and mac; target flags (non-zero),
// target-name, ip-addr. One trailing newline is stripped; a value with a
// control character, an address inet_pton does not take, or a name longer
// than 223 bytes (iSCSI names) or 255 (other strings) is refused. `index`
// defaults to the number in `id` ("target1" -> 1). net_device is left empty:
// ReadBootFirmware fills it.
absl::StatusOr<FirmwareNic> ParseFirmwareNic(std::string_view id,
                                             const FirmwareFiles& files,
                                             std::string_view where);
absl::StatusOr<FirmwareTarget> ParseFirmwareTarget(std::string_view id,
                                                   const FirmwareFiles& files,
                                                   std::string_view where);
absl::StatusOr<FirmwareInitiator> ParseFirmwareInitiator(
    const FirmwareFiles& files, std::string_view where);

// Reads every table under `sysfs_root` ("/sys"): firmware/ibft, then
// firmware/iscsi_boot* in name order. One entry per valid target, in index
// order; a target whose nic-assoc names no NIC is an error naming it.
// NotFound with ExitCode kNoObjectsFound when there is no table or no target;
// PermissionDenied (kAccessDenied) when the files cannot be read (they need
// CAP_SYS_ADMIN). NICs and targets whose flags are 0 are skipped. Each NIC's
// net_device is found through sysfs: <nic>/device/net/<name>, else a
// <nic>/device/net:<name> entry, else the class/net interface with the
// NIC's MAC (one with a `device` link first, so eth0 before a VLAN or bridge
// on it; then name order); "" when none matches.
absl::StatusOr<std::vector<FirmwareBootEntry>> ReadBootFirmware(
    std::string_view sysfs_root);

// "# BEGIN RECORD 2.1.8\n" ... "# END RECORD\n": the lines `iscsistart -f`
// prints for one entry, in its order (secrets included, as it prints them).
std::string FormatFirmwareRecord(const FirmwareBootEntry& entry);

// `base` (iscsid.conf's node defaults) with the entry's target, portal, tpgt 1
// (the table has none; open-iscsi uses 1), CHAP from the table (one-way and
// mutual; authmethod None and no credentials when the table has no CHAP
// name), the table's initiator name as iface.initiatorname,
// node.discovery_type = fw and node.startup = onboot. The iface stays as in
// `base` ("default", not bound to the NIC): open-iscsi gives a firmware
// target a NIC-bound iface only for offload cards, and a binding by netdev
// name would break once udev renames the NIC. The node schema has no
// node.boot_lun, so the LUN is not in the record (see entry.target.lun).
// InvalidArgument (kInvalid) when a value does not fit the schema (port 0).
absl::StatusOr<Record> NodeRecordFromFirmware(const FirmwareBootEntry& entry,
                                              Record base);

namespace internal {
// The status for a failed open or read of `path` with `error_number`:
// PermissionDenied (ExitCode kAccessDenied) for EACCES and EPERM, saying the
// table needs CAP_SYS_ADMIN; otherwise the errno's status with ExitCode
// kSysfsLookup. Exposed for tests (root reads any file).
absl::Status FirmwareReadError(int error_number, std::string_view path);
}  // namespace internal

}  // namespace kiscsi::conf

#endif  // KISCSI_CONF_BOOT_FIRMWARE_H_
