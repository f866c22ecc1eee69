// kiscsi-iname: prints a new initiator name, like open-iscsi's iscsi-iname.
//
//   kiscsi-iname [-p PREFIX]          print a name
//   kiscsi-iname [-p PREFIX] -w FILE  write InitiatorName=... to FILE, unless
//                                     it already has one

#include <unistd.h>

#include <iostream>
#include <string>

#include "conf/initiator_name.h"

namespace {

int Usage(const char* program) {
  std::cerr << "Usage: " << program << " [-p PREFIX] [-w FILE]\n"
            << "  -p PREFIX  iqn. prefix (default "
            << kiscsi::conf::kDefaultInitiatorNamePrefix << ")\n"
            << "  -w FILE    write the name to FILE (initiatorname.iscsi) if "
               "it has none\n";
  return 7;
}

}  // namespace

int main(int argc, char** argv) {
  std::string prefix(kiscsi::conf::kDefaultInitiatorNamePrefix);
  std::string file;
  int c;
  while ((c = getopt(argc, argv, "p:w:h")) != -1) {
    switch (c) {
      case 'p':
        prefix = optarg;
        break;
      case 'w':
        file = optarg;
        break;
      default:
        return Usage(argv[0]);
    }
  }
  if (optind != argc) return Usage(argv[0]);
  if (!file.empty()) {
    auto existing = kiscsi::conf::ReadInitiatorNameFile(file);
    if (existing.ok())
      return 0;  // never replace a name targets' ACLs already know
  }
  auto name = kiscsi::conf::GenerateInitiatorName(prefix);
  if (!name.ok()) {
    std::cerr << argv[0] << ": " << name.status().message() << "\n";
    return 7;
  }
  if (file.empty()) {
    std::cout << *name << "\n";
    return 0;
  }
  absl::Status written = kiscsi::conf::WriteInitiatorNameFile(file, *name);
  if (!written.ok()) {
    std::cerr << argv[0] << ": " << written.message() << "\n";
    return 6;
  }
  return 0;
}
