// kiscsiadm's kernel-session commands: `-m session` (read from sysfs, as
// iscsiadm does, so it works without the daemon), rescans, and logins/logouts,
// which kiscsid carries out.
#ifndef KISCSI_SRC_PROGRAMS_KISCSIADM_SESSION_COMMANDS_H_
#define KISCSI_SRC_PROGRAMS_KISCSIADM_SESSION_COMMANDS_H_

#include <vector>

#include "absl/status/status.h"
#include "conf/node_db.h"
#include "src/programs/kiscsiadm/commands.h"
#include "src/programs/kiscsiadm/options.h"

namespace kiscsi {

// -m session [-r SID] [-P N] [-S] [-u] [-R] [-s]
absl::Status RunSession(const Options& options, CommandContext& context);
// -m node [-T T] [-p P] -l | -u
absl::Status LoginNodes(const Options& options, CommandContext& context);
// Logs in to these records (e.g. what a discovery just found), all at once.
absl::Status LoginNodeKeys(const std::vector<conf::NodeKey>& keys,
                           CommandContext& context);
// -m node [-T T] [-p P] -R: rescans the sessions of the matching records.
absl::Status RescanNodes(const Options& options, CommandContext& context);
// -m fw -l: kiscsid logs in to the boot firmware table's targets.
absl::Status LoginFirmware(CommandContext& context);
absl::Status LogoutNodes(const Options& options, CommandContext& context);
// -m node -L | -U all|manual|automatic|onboot
absl::Status LoginAll(const Options& options, CommandContext& context);
absl::Status LogoutAll(const Options& options, CommandContext& context);

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSIADM_SESSION_COMMANDS_H_
