#include "src/programs/kiscsiadm/firmware_commands.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conf/boot_firmware.h"
#include "conf/iscsid_conf.h"
#include "conf/node_db.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/programs/kiscsiadm/session_commands.h"
#include "src/session/sysfs_sessions.h"
#include "src/transport/portal.h"

namespace kiscsi {

absl::Status RunFirmware(const Options& options, CommandContext& context) {
  if (options.login) return LoginFirmware(context);
  if (options.logout || !options.ops.empty()) {
    return WithExitCode(
        absl::UnimplementedError(
            "firmware mode prints the table (no option) or logs in to its "
            "targets (-l); other operations are not supported"),
        ExitCode::kOperationNotSupported);
  }
  ASSIGN_OR_RETURN(std::vector<conf::FirmwareBootEntry> entries,
                   conf::ReadBootFirmware(context.sysfs_dir));
  for (const conf::FirmwareBootEntry& entry : entries) {
    context.out << conf::FormatFirmwareRecord(entry);
  }
  return absl::OkStatus();
}

absl::Status FirmwareDiscovery(const Options& options,
                               CommandContext& context) {
  ASSIGN_OR_RETURN(std::vector<conf::FirmwareBootEntry> entries,
                   conf::ReadBootFirmware(context.sysfs_dir));
  ASSIGN_OR_RETURN(conf::IscsidConf conf, LoadConf(context));
  const bool persistent = !options.HasOp(Op::kNonPersistent);
  conf::NodeDb db(context.sysconf_dir);
  std::vector<conf::NodeKey> keys;
  for (const conf::FirmwareBootEntry& entry : entries) {
    ASSIGN_OR_RETURN(conf::Record record,
                     conf::NodeRecordFromFirmware(entry, conf.NewNodeRecord()));
    conf::NodeKey key{entry.target.target_name, entry.target.ip_address,
                      entry.target.port,
                      static_cast<int>(record.GetInt("node.tpgt").value_or(1)),
                      options.iface.value_or("default")};
    if (persistent) RETURN_IF_ERROR(db.WriteNode(key, record));
    context.out << FormatPortal(
                       Portal{key.address, static_cast<uint16_t>(key.port)},
                       ':')
                << "," << key.tpgt << " " << key.target_name << "\n";
    keys.push_back(std::move(key));
  }
  if (options.login) return LoginNodeKeys(keys, context);
  return absl::OkStatus();
}

absl::Status RunHost(const Options& options, CommandContext& context) {
  if (!options.ops.empty() || options.login || options.logout) {
    return WithExitCode(
        absl::UnimplementedError("host mode only lists hosts (-P 0 or 1)"),
        ExitCode::kOperationNotSupported);
  }
  const int level = options.print_level.value_or(0);
  if (level < 0 || level > 1) {
    return WithExitCode(
        absl::UnimplementedError(absl::StrCat(
            "host mode prints levels 0 and 1; -P ", level,
            " (flash nodes, CHAP entries, host statistics) is not supported")),
        ExitCode::kOperationNotSupported);
  }
  std::vector<SysfsHost> hosts = ReadSysfsHosts(context.sysfs_dir);
  if (hosts.empty()) {
    return WithExitCode(absl::NotFoundError("No iSCSI hosts."),
                        ExitCode::kNoObjectsFound);
  }
  context.out << FormatHostList(hosts, level);
  return absl::OkStatus();
}

}  // namespace kiscsi
