#include "conf/initiator_name.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "conf/file_util.h"
#include "conf/record.h"
#include "src/base/errno_status.h"
#include "src/base/exit_code.h"
#include "src/base/paths.h"
#include "src/base/status_macros.h"

namespace kiscsi::conf {
namespace {

absl::Status Invalid(std::string_view name, std::string_view why) {
  return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                          "invalid iSCSI name '", Printable(name),
                          "': ", absl::string_view(why.data(), why.size()))),
                      ExitCode::kInvalid);
}

// Length of the UTF-8 sequence starting at text[i], or 0 when it is malformed.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  unsigned char lead = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  uint32_t min_code = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    min_code = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    min_code = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    min_code = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  uint32_t code = lead & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    unsigned char c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    code = (code << 6) | (c & 0x3f);
  }
  if (code < min_code || code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff)) {
    return 0;
  }
  return length;
}

bool IsHex(std::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsDigits(std::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !text.empty();
}

absl::Status ValidateIqn(std::string_view name) {
  // iqn.YYYY-MM.<reversed domain>[:<unique part>]
  std::string_view rest = name.substr(4);
  if (rest.size() < 8 || !IsDigits(rest.substr(0, 4)) || rest[4] != '-' ||
      !IsDigits(rest.substr(5, 2)) || rest[7] != '.') {
    return Invalid(name, "an iqn. name continues with a date YYYY-MM and '.'");
  }
  int month = (rest[5] - '0') * 10 + (rest[6] - '0');
  if (month < 1 || month > 12) {
    return Invalid(name, "the month of an iqn. name is 01 to 12");
  }
  std::string_view authority = rest.substr(8);
  authority = authority.substr(0, authority.find(':'));
  if (authority.empty()) {
    return Invalid(name,
                   "an iqn. name needs a reversed domain name after the date");
  }
  for (absl::string_view label : absl::StrSplit(
           absl::string_view(authority.data(), authority.size()), '.')) {
    if (label.empty()) {
      return Invalid(name, "empty label in the domain name of an iqn. name");
    }
  }
  return absl::OkStatus();
}

// Says how to make the missing name: kiscsi-iname -w writes
// InitiatorNamePath() unless told another file.
absl::Status NoInitiatorName(const std::string& path) {
  const bool default_path =
      std::filesystem::path(path).lexically_normal() ==
      std::filesystem::path(InitiatorNamePath()).lexically_normal();
  return absl::NotFoundError(absl::StrCat(
      "No initiator name set in ", path, ": make one with '",
      default_path ? "kiscsi-iname -w" : "kiscsi-iname -w " + path, "'"));
}

}  // namespace

absl::Status ValidateIscsiName(std::string_view name) {
  if (name.empty()) return Invalid(name, "empty");
  if (name.size() > kMaxIscsiNameLength) {
    return Invalid(name,
                   absl::StrCat("longer than ", kMaxIscsiNameLength, " bytes"));
  }
  for (size_t i = 0; i < name.size();) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80) {
      size_t length = Utf8SequenceLength(name, i);
      if (length == 0) return Invalid(name, "malformed UTF-8");
      i += length;
      continue;
    }
    // RFC 3722 has no '_', but open-iscsi accepts it and some targets use it in
    // their names; it is harmless in a path, so refusing it would only break
    // discovery.
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.' && c != ':' &&
        c != '_') {
      return Invalid(
          name,
          absl::StrCat("character '", absl::CHexEscape(std::string(1, name[i])),
                       "' is not allowed (letters, digits, "
                       "'-', '.', ':' and '_' are)"));
    }
    ++i;
  }
  absl::string_view view(name.data(), name.size());
  if (absl::StartsWithIgnoreCase(view, "iqn.")) return ValidateIqn(name);
  if (absl::StartsWithIgnoreCase(view, "eui.")) {
    if (name.size() != 4 + 16 || !IsHex(name.substr(4))) {
      return Invalid(name, "an eui. name has exactly 16 hex digits");
    }
    return absl::OkStatus();
  }
  if (absl::StartsWithIgnoreCase(view, "naa.")) {
    std::string_view digits = name.substr(4);
    if ((digits.size() != 16 && digits.size() != 32) || !IsHex(digits)) {
      return Invalid(name, "a naa. name has 16 or 32 hex digits");
    }
    return absl::OkStatus();
  }
  return Invalid(name, "must start with iqn., eui. or naa.");
}

std::string NormalizeIscsiName(std::string_view name) {
  return absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
}

absl::StatusOr<InitiatorNameFile> ReadInitiatorNameFile(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (absl::IsNotFound(text.status())) return NoInitiatorName(path);
  if (!text.ok()) return text.status();
  return ParseInitiatorNameText(*text, path);
}

absl::StatusOr<InitiatorNameFile> ParseInitiatorNameText(
    std::string_view text, const std::string& path) {
  InitiatorNameFile file;
  std::optional<size_t> name_line;
  size_t line_number = 0;
  for (absl::string_view raw_line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw_line);
    if (line.empty() || line.front() == '#') continue;
    size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, equals));
    absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(equals + 1));
    if (key == "InitiatorName") {
      file.name = std::string(value);
      name_line = line_number;
    } else if (key == "InitiatorAlias") {
      file.alias = std::string(value);
    }
  }
  if (!name_line.has_value() || file.name.empty()) return NoInitiatorName(path);
  absl::Status valid = ValidateIscsiName(file.name);
  if (!valid.ok()) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            path, ":", *name_line, ": ", valid.message())),
                        ExitCode::kInvalid);
  }
  return file;
}

absl::StatusOr<std::string> GenerateInitiatorName(std::string_view prefix) {
  if (prefix.find(':') != std::string_view::npos ||
      !absl::StartsWithIgnoreCase(
          absl::string_view(prefix.data(), prefix.size()), "iqn.")) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "initiator name prefix '", Printable(prefix),
                            "' must be an iqn. name without ':' (e.g. "
                            "iqn.2004-10.org.kiscsi)")),
                        ExitCode::kInvalid);
  }
  RETURN_IF_ERROR(ValidateIscsiName(prefix));
  std::array<unsigned char, 6> bytes;
  size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "getrandom");
    }
    filled += static_cast<size_t>(n);
  }
  std::string name = absl::StrCat(
      absl::string_view(prefix.data(), prefix.size()), ":01:",
      absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(bytes.data()), bytes.size())));
  RETURN_IF_ERROR(ValidateIscsiName(name));
  return name;
}

absl::Status WriteInitiatorNameFile(const std::string& path,
                                    std::string_view name,
                                    std::string_view alias) {
  RETURN_IF_ERROR(ValidateIscsiName(name));
  absl::string_view alias_view(alias.data(), alias.size());
  bool has_control = std::any_of(alias.begin(), alias.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (alias_view != absl::StripAsciiWhitespace(alias_view) || has_control) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(
            "invalid initiator alias '", Printable(alias),
            "': text without control characters or surrounding spaces")),
        ExitCode::kInvalid);
  }
  std::string content = absl::StrCat(
      "InitiatorName=", absl::string_view(name.data(), name.size()), "\n");
  if (!alias.empty())
    absl::StrAppend(&content, "InitiatorAlias=", alias_view, "\n");
  return WriteFileAtomically(path, content, 0644);
}

}  // namespace kiscsi::conf
