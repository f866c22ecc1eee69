// kiscsi-iname: prints a new initiator name, like open-iscsi's iscsi-iname,
// and writes initiatorname.iscsi.
//
//   kiscsi-iname [-p PREFIX]                print a new name
//   kiscsi-iname [-p PREFIX] -w [-f] [FILE] write InitiatorName=... to FILE
//                                           (default SYSCONFDIR/
//                                           initiatorname.iscsi) unless it
//                                           has a name already (-f: replace)
//
// Exit status: 0, 7 for a bad option or prefix (or a malformed name in FILE
// without -f), 6 when FILE cannot be read or written.

#include <getopt.h>
#include <libgen.h>
#include <sys/stat.h>

#include <cerrno>
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "conf/initiator_name.h"
#include "src/base/paths.h"

namespace {

constexpr int kExitInvalid = 7;
constexpr int kExitDatabase = 6;

void PrintUsage(std::ostream& out, const std::string& program) {
  out << "Usage: " << program << " [-p PREFIX]\n"
      << "       " << program << " [-p PREFIX] -w [-f] [FILE]\n"
      << "Prints a new iSCSI initiator name, or writes it to FILE.\n"
      << "  -p, --prefix=PREFIX  iqn. name to start with (default "
      << kiscsi::conf::kDefaultInitiatorNamePrefix << ")\n"
      << "  -w, --write          write InitiatorName=NAME to FILE (default "
      << kiscsi::InitiatorNamePath()
      << ")\n"
         "                       with mode 0644, unless FILE names an "
         "initiator already;\n"
         "                       prints the name FILE then holds\n"
      << "  -f, --force          with -w: replace the name FILE holds "
         "(targets' ACLs\n"
         "                       must then learn the new one)\n"
      << "  -h, --help           print this help and exit\n"
      << "  -V, --version        print the version and exit\n";
}

int Fail(const std::string& program, absl::string_view message, int code) {
  std::cerr << program << ": " << message << "\n";
  return code;
}

// Makes the directory that will hold `file` when it is missing (one level:
// /etc/iscsi on a machine without open-iscsi's package).
void MakeParentDirectory(const std::string& file) {
  size_t slash = file.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  ::mkdir(file.substr(0, slash).c_str(), 0755);  // the write reports failures
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = basename(argv[0]);
  static const option kLongOptions[] = {
      {"prefix", required_argument, nullptr, 'p'},
      {"write", no_argument, nullptr, 'w'},
      {"force", no_argument, nullptr, 'f'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  std::string prefix(kiscsi::conf::kDefaultInitiatorNamePrefix);
  bool write = false;
  bool force = false;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":p:wfhV", kLongOptions, nullptr)) !=
         -1) {
    switch (c) {
      case 'p':
        prefix = optarg;
        break;
      case 'w':
        write = true;
        break;
      case 'f':
        force = true;
        break;
      case 'h':
        PrintUsage(std::cout, program);
        return 0;
      case 'V':
        std::cout << program << " version " << KISCSI_VERSION << "\n";
        return 0;
      case ':':
        std::cerr << program << ": option '" << argv[optind - 1]
                  << "' requires an argument\n";
        PrintUsage(std::cerr, program);
        return kExitInvalid;
      default:
        std::cerr << program << ": unrecognized option '" << argv[optind - 1]
                  << "'\n";
        PrintUsage(std::cerr, program);
        return kExitInvalid;
    }
  }
  // FILE belongs to -w; anything else is a mistake.
  const int operands = argc - optind;
  if (operands > (write ? 1 : 0)) {
    std::cerr << program << ": unexpected argument '"
              << argv[optind + (write ? 1 : 0)] << "'\n";
    PrintUsage(std::cerr, program);
    return kExitInvalid;
  }
  if (force && !write) {
    std::cerr << program << ": -f goes with -w\n";
    PrintUsage(std::cerr, program);
    return kExitInvalid;
  }
  const std::string file =
      operands == 1 ? std::string(argv[optind]) : kiscsi::InitiatorNamePath();
  if (write && !force) {
    auto existing = kiscsi::conf::ReadInitiatorNameFile(file);
    if (existing.ok()) {
      // Never replace a name targets' ACLs already know.
      std::cerr << program << ": " << file << " already names this initiator; "
                << "kept (-f replaces it)\n";
      std::cout << existing->name << "\n";
      return 0;
    }
    if (absl::IsInvalidArgument(existing.status())) {
      return Fail(program,
                  std::string(existing.status().message()) +
                      " (fix it, or replace it with -w -f)",
                  kExitInvalid);
    }
    if (!absl::IsNotFound(existing.status())) {
      return Fail(program, existing.status().message(), kExitDatabase);
    }
  }
  auto name = kiscsi::conf::GenerateInitiatorName(prefix);
  if (!name.ok()) return Fail(program, name.status().message(), kExitInvalid);
  if (write) {
    MakeParentDirectory(file);
    absl::Status written = kiscsi::conf::WriteInitiatorNameFile(file, *name);
    if (!written.ok()) return Fail(program, written.message(), kExitDatabase);
  }
  std::cout << *name << "\n";
  return 0;
}
