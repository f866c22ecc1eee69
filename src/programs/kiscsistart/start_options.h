// kiscsistart's command line: open-iscsi iscsistart's options, turned into a
// node record.
//
//   kiscsistart -i INITIATOR -t TARGET -g TPGT -a ADDRESS [-p PORT]
//               [-u USER -w PASSWORD [-U USER_IN -W PASSWORD_IN]]
//               [-c CONFIG] [-P NAME=VALUE]... [-d LEVEL]
//   kiscsistart [-N] [-b] [-c CONFIG] [-P NAME=VALUE]...   (iBFT)
//   kiscsistart -f
//
// The record starts from iscsid.conf's defaults (or the built-in ones), then
// applies the boot defaults an initramfs wants (NOPs off, many initial login
// retries), then -P settings, then the identity and CHAP options.
#ifndef KISCSI_SRC_PROGRAMS_KISCSISTART_START_OPTIONS_H_
#define KISCSI_SRC_PROGRAMS_KISCSISTART_START_OPTIONS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "conf/record.h"

namespace kiscsi {

struct StartOptions {
  std::string initiator_name;                                 // -i
  std::string target_name;                                    // -t
  int tpgt = -1;                                              // -g
  std::string address;                                        // -a
  int port = 3260;                                            // -p
  std::string username, password, username_in, password_in;   // -u -w -U -W
  std::string config_path;                                    // -c
  std::vector<std::pair<std::string, std::string>> settings;  // -P NAME=VALUE
  int debug_level = 0;                                        // -d
  bool firmware_boot = false;                                 // -b
  bool firmware_net = false;                                  // -N
  bool firmware_print = false;                                // -f
  bool help = false;
  bool version = false;
};

// Errors are InvalidArgument with ExitCode kInvalid naming the option.
absl::StatusOr<StartOptions> ParseStartOptions(int argc, char** argv);
const char* StartUsageText();

// What a root disk wants on top of `record`: NOP-Outs off (a missed ping on a
// busy link must not fail the root disk), many initial login retries (the
// network may still be coming up), then the -P settings (validated against
// the node schema), which win.
absl::Status ApplyBootSettings(const StartOptions& options,
                               conf::Record& record);

// The node record to log in with from -i/-t/-g/-a/-p/-u/-w/-U/-W: `base`
// (iscsid.conf's node defaults), ApplyBootSettings, identity, CHAP.
absl::StatusOr<conf::Record> BuildBootRecord(const StartOptions& options,
                                             conf::Record base);

}  // namespace kiscsi

#endif  // KISCSI_SRC_PROGRAMS_KISCSISTART_START_OPTIONS_H_
