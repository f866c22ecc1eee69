// Internal to conf/: the value helpers shared by the two halves of the boot
// firmware module, boot_firmware.cc (parsing one directory's files into
// structs, formatting, the node record) and boot_firmware_sysfs.cc (reading
// the sysfs tree). Not for use outside conf/boot_firmware*.cc.
#ifndef KISCSI_CONF_BOOT_FIRMWARE_INTERNAL_H_
#define KISCSI_CONF_BOOT_FIRMWARE_INTERNAL_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "conf/boot_firmware.h"

namespace kiscsi::conf::internal {

// InvalidArgument (ExitCode kInvalid): "<where>/<file>: <what>".
absl::Status Invalid(std::string_view where, std::string_view file,
                     std::string_view what);

// The value of `file` with one trailing newline removed, or nullopt when the
// file is absent.
std::optional<std::string_view> RawValue(const FirmwareFiles& files,
                                         std::string_view file);

// The number at the end of a directory name: "ethernet12" -> 12.
std::optional<int> NameNumber(std::string_view name, std::string_view prefix);

}  // namespace kiscsi::conf::internal

#endif  // KISCSI_CONF_BOOT_FIRMWARE_INTERNAL_H_
