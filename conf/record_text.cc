// The other half of conf/record.h: the Record container (ordered key/value
// pairs) and open-iscsi's record text format, parsed leniently (unknown keys
// kept, diagnostics instead of failures where open-iscsi tolerates it) and
// formatted in the schema's order so files match open-iscsi's byte for byte.
// The schema itself (key tables, value checks) is in record.cc.
#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "conf/record.h"
#include "conf/record_internal.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/base/string_views.h"

namespace kiscsi::conf {
namespace {

using internal::FindIn;
using internal::SplitList;
using internal::TablesFor;

void AppendLine(std::string& out, std::string_view key,
                std::string_view value) {
  absl::StrAppend(&out, ToAbsl(key), " = ", ToAbsl(value), "\n");
}

// Calls `emit(key, value, spec)` for every key to print: table order, then
// unknown keys.
template <typename Emit>
void ForEachPrinted(const Record& record, RecordKind kind, Emit emit) {
  std::vector<std::span<const KeySpec>> tables = TablesFor(kind);
  absl::flat_hash_set<absl::string_view> printed;
  for (std::span<const KeySpec> table : tables) {
    for (const KeySpec& spec : table) {
      if (!printed.insert(ToAbsl(spec.name)).second) continue;
      emit(spec.name, record.Get(spec.name), &spec);
    }
  }
  for (const auto& [key, value] : record.entries()) {
    if (printed.contains(key)) continue;
    emit(key, value, static_cast<const KeySpec*>(nullptr));
  }
}

}  // namespace

void Record::Set(std::string_view key, std::string_view value) {
  auto it = index_.find(ToAbsl(key));
  if (it != index_.end()) {
    entries_[it->second].second = std::string(value);
    return;
  }
  index_.emplace(std::string(key), entries_.size());
  entries_.emplace_back(std::string(key), std::string(value));
}

bool Record::Has(std::string_view key) const {
  return index_.contains(ToAbsl(key));
}

std::string Record::Get(std::string_view key) const {
  auto it = index_.find(ToAbsl(key));
  return it == index_.end() ? std::string() : entries_[it->second].second;
}

bool Record::Erase(std::string_view key) {
  auto it = index_.find(ToAbsl(key));
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].first] = i;
  return true;
}

std::optional<int64_t> Record::GetInt(std::string_view key) const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(ToAbsl(Get(key)), &value)) return std::nullopt;
  return value;
}

std::optional<bool> Record::GetBool(std::string_view key) const {
  std::string value = Get(key);
  if (value == "Yes") return true;
  if (value == "No") return false;
  return std::nullopt;
}

std::vector<std::string> Record::GetList(std::string_view key) const {
  std::vector<std::string> elements;
  std::string value = Get(key);
  for (absl::string_view part : SplitList(value)) {
    if (!part.empty()) elements.emplace_back(part);
  }
  return elements;
}

Record DefaultRecord(RecordKind kind) {
  Record record;
  for (std::span<const KeySpec> table : TablesFor(kind)) {
    for (const KeySpec& spec : table) {
      if (!record.Has(spec.name)) record.Set(spec.name, spec.default_value);
    }
  }
  return record;
}

absl::StatusOr<ParsedRecord> ParseRecordText(std::string_view text,
                                             std::string_view file_name,
                                             RecordKind kind) {
  ParsedRecord parsed;
  parsed.record = DefaultRecord(kind);
  std::vector<std::string> errors;
  size_t line_number = 0;
  for (absl::string_view raw_line : absl::StrSplit(ToAbsl(text), '\n')) {
    ++line_number;
    std::string where = absl::StrCat(ToAbsl(file_name), ":", line_number, ": ");
    if (raw_line.size() > kMaxLineLength) {
      errors.push_back(absl::StrCat(where, "line is longer than ",
                                    kMaxLineLength, " characters"));
      continue;
    }
    absl::string_view line = absl::StripAsciiWhitespace(raw_line);
    if (line.empty() || line.front() == '#') continue;
    size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      // A line that might hold a secret is not shown.
      const std::string lower = absl::AsciiStrToLower(line);
      const bool secret = absl::StrContains(lower, "password") ||
                          absl::StrContains(lower, "secret");
      errors.push_back(
          secret
              ? absl::StrCat(where,
                             "expected 'key = value' (the line is not shown: "
                             "it may hold a secret)")
              : absl::StrCat(where, "expected 'key = value', got '",
                             Printable(ToStd(line)), "'"));
      continue;
    }
    std::string_view key =
        ToStd(absl::StripAsciiWhitespace(line.substr(0, equals)));
    std::string_view value =
        ToStd(absl::StripAsciiWhitespace(line.substr(equals + 1)));
    if (key.empty()) {
      errors.push_back(absl::StrCat(where, "missing key before '='"));
      continue;
    }
    const KeySpec* spec = FindKeySpec(kind, key);
    const KeySpec* extension =
        kind == RecordKind::kNode ? FindIn(NodeExtensionKeys(), key) : nullptr;
    if (extension != nullptr) {
      // Kept like an unknown key, without a warning when valid. An invalid
      // value is dropped with a warning rather than making the node unusable.
      absl::StatusOr<std::string> normalized =
          NormalizeValue(*extension, value);
      if (normalized.ok()) {
        parsed.record.Set(extension->name, *normalized);
      } else {
        parsed.diagnostics.push_back(
            {Diagnostic::Severity::kWarning,
             absl::StrCat(where, normalized.status().message(), " (ignored)")});
      }
      continue;
    }
    if (spec == nullptr) {
      parsed.diagnostics.push_back(
          {Diagnostic::Severity::kWarning,
           absl::StrCat(where, UnknownKeyMessage(kind, key))});
      parsed.record.Set(key, value);
      continue;
    }
    absl::StatusOr<std::string> normalized = NormalizeValue(*spec, value);
    if (!normalized.ok()) {
      errors.push_back(absl::StrCat(where, normalized.status().message()));
      continue;
    }
    parsed.record.Set(spec->name, *normalized);
    parsed.set_keys.emplace_back(spec->name);
  }
  if (!errors.empty()) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrJoin(errors, "\n")),
                        ExitCode::kInvalid);
  }
  return parsed;
}

std::string FormatRecordFile(const Record& record, RecordKind kind) {
  std::string out =
      absl::StrCat("# BEGIN RECORD ", ToAbsl(kRecordVersion), "\n");
  ForEachPrinted(
      record, kind,
      [&out](std::string_view key, std::string_view value, const KeySpec*) {
        if (!value.empty()) AppendLine(out, key, value);
      });
  out += "# END RECORD\n";
  return out;
}

std::string FormatRecordShow(const Record& record, RecordKind kind,
                             bool show_secrets) {
  std::string out =
      absl::StrCat("# BEGIN RECORD ", ToAbsl(kRecordVersion), "\n");
  ForEachPrinted(
      record, kind,
      [&out, show_secrets](std::string_view key, std::string_view value,
                           const KeySpec* spec) {
        if (value.empty()) {
          AppendLine(out, key, "<empty>");
        } else if (spec != nullptr && spec->secret && !show_secrets) {
          AppendLine(out, key, "********");
        } else {
          AppendLine(out, key, value);
        }
      });
  out += "# END RECORD\n";
  return out;
}

absl::Status SetNodeValue(Record& record, std::string_view key,
                          std::string_view value) {
  const KeySpec* spec = FindKeySpec(RecordKind::kNode, key);
  if (spec == nullptr) {
    return absl::InternalError(
        absl::StrCat("no node key ", ToAbsl(key), " in the schema"));
  }
  absl::StatusOr<std::string> normalized = NormalizeValue(*spec, value);
  if (!normalized.ok()) {
    if (spec->secret) {
      return WithExitCode(absl::InvalidArgumentError(
                              absl::StrCat("invalid value for ", ToAbsl(key))),
                          ExitCode::kInvalid);
    }
    return normalized.status();  // already names the key, with kInvalid
  }
  record.Set(key, *normalized);
  return absl::OkStatus();
}

absl::Status SetNodeAuth(Record& record, std::string_view username,
                         std::string_view password,
                         std::string_view username_in,
                         std::string_view password_in) {
  const bool chap = !username.empty();
  const bool mutual = chap && !username_in.empty();
  RETURN_IF_ERROR(SetNodeValue(record, "node.session.auth.authmethod",
                               chap ? "CHAP" : "None"));
  RETURN_IF_ERROR(
      SetNodeValue(record, "node.session.auth.username", chap ? username : ""));
  RETURN_IF_ERROR(
      SetNodeValue(record, "node.session.auth.password", chap ? password : ""));
  RETURN_IF_ERROR(SetNodeValue(record, "node.session.auth.username_in",
                               mutual ? username_in : ""));
  return SetNodeValue(record, "node.session.auth.password_in",
                      mutual ? password_in : "");
}

}  // namespace kiscsi::conf
