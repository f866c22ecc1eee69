// libFuzzer target: iBFT value parsing must never crash, a table that parses
// must print and turn into a node record, and that record must be one the
// node database reads back unchanged.
//
// Input: one file per line, "K:NAME=VALUE" with K one of i (initiator),
// n (ethernet0), t (target0). "\n" in VALUE is a newline and "\\" a
// backslash; a newline is appended to VALUE (as sysfs ends its values)
// unless the line ends with a single backslash (as subnet-mask).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conf/boot_firmware.h"
#include "conf/record.h"

namespace {

using kiscsi::conf::FirmwareFiles;

std::string Unescape(std::string_view value) {
  std::string out;
  bool newline = true;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\') {
      out += value[i];
    } else if (i + 1 == value.size()) {
      newline = false;
    } else if (value[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += value[i + 1];
      ++i;
    }
  }
  if (newline) out += '\n';
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiscsi::conf;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FirmwareFiles initiator_files, nic_files, target_files;
  while (!input.empty()) {
    size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    size_t equals = line.find('=');
    if (line.size() < 2 || line[1] != ':' || equals == std::string_view::npos) {
      continue;
    }
    std::string name(line.substr(2, equals - 2));
    std::string value = Unescape(line.substr(equals + 1));
    switch (line[0]) {
      case 'i':
        initiator_files[name] = value;
        break;
      case 'n':
        nic_files[name] = value;
        break;
      case 't':
        target_files[name] = value;
        break;
      default:
        break;
    }
  }

  auto initiator = ParseFirmwareInitiator(initiator_files, "/f/initiator");
  auto nic = ParseFirmwareNic("ethernet0", nic_files, "/f/ethernet0");
  auto target = ParseFirmwareTarget("target0", target_files, "/f/target0");
  if (!initiator.ok() || !nic.ok() || !target.ok()) return 0;

  FirmwareBootEntry entry;
  entry.source = "ibft";
  entry.initiator = *initiator;
  entry.nic = *nic;
  entry.target = *target;
  std::string text = FormatFirmwareRecord(entry);
  if (text.rfind("# BEGIN RECORD ", 0) != 0) std::abort();
  (void)entry.target.LunNumber();
  (void)entry.nic.UsesDhcp();

  auto record = NodeRecordFromFirmware(entry, DefaultRecord(RecordKind::kNode));
  if (!record.ok()) return 0;
  std::string file = FormatRecordFile(*record, RecordKind::kNode);
  auto reparsed = ParseRecordText(file, "fw", RecordKind::kNode);
  if (!reparsed.ok()) std::abort();
  if (FormatRecordFile(reparsed->record, RecordKind::kNode) != file) {
    std::abort();
  }
  return 0;
}
