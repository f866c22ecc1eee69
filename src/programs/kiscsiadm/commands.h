// kiscsiadm's modes: each takes the parsed options and prints what iscsiadm
// would print.
//
// Output goes to `out`; warnings (e.g. iscsid.conf typos) to `err`. Failures
// are returned as absl::Status carrying the iscsiadm exit code
// (src/base/exit_code.h); main() prints them as "PROGRAM: MESSAGE" and exits
// with that code. PROGRAM is the name the program was run as: installed as
// iscsiadm, every line says "iscsiadm: ".
#ifndef KISCSI_SRC_PROGRAMS_KISCSIADM_COMMANDS_H_
#define KISCSI_SRC_PROGRAMS_KISCSIADM_COMMANDS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conf/iscsid_conf.h"
#include "conf/node_db.h"
#include "src/programs/kiscsiadm/options.h"

namespace kiscsi {

struct CommandContext {
  // Node database root, iscsid.conf, initiatorname.iscsi.
  std::string sysconf_dir;
  // Where the kernel's sessions are read: /sys (a fake tree in tests).
  std::string sysfs_dir;
  std::ostream& out;
  std::ostream& err;
  // What starts every error and warning line: the name the program was run
  // as and ": " ("iscsiadm: " when installed under open-iscsi's name).
  std::string prefix = "kiscsiadm: ";
};

// iscsid.conf of context.sysconf_dir; its warnings go to context.err.
absl::StatusOr<conf::IscsidConf> LoadConf(CommandContext& context);

// The node records that -T, -p and -I select.
absl::StatusOr<conf::NodeFilter> FilterFromOptions(const Options& options);

absl::Status RunDiscovery(const Options& options, CommandContext& context);
absl::Status RunNode(const Options& options, CommandContext& context);
absl::Status RunIface(const Options& options, CommandContext& context);

// Dispatches on options.mode.
absl::Status RunCommand(const Options& options, CommandContext& context);

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSIADM_COMMANDS_H_
