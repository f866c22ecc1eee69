#include "conf/iscsid_conf.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conf/file_util.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi::conf {
namespace {

constexpr std::string_view kNodeChapAlgs = "node.session.auth.chap_algs";
constexpr std::string_view kDiscoveryChapAlgs =
    "discovery.sendtargets.auth.chap_algs";

}  // namespace

IscsidConf::IscsidConf() : values_(DefaultRecord(RecordKind::kIscsidConf)) {}

absl::Status IscsidConf::Set(std::string_view key, std::string_view value) {
  const KeySpec* spec = FindKeySpec(RecordKind::kIscsidConf, key);
  if (spec == nullptr) {
    return WithExitCode(absl::InvalidArgumentError(
                            UnknownKeyMessage(RecordKind::kIscsidConf, key)),
                        ExitCode::kInvalid);
  }
  ASSIGN_OR_RETURN(std::string normalized, NormalizeValue(*spec, value));
  values_.Set(spec->name, normalized);
  set_keys_.insert(std::string(spec->name));
  return absl::OkStatus();
}

bool IscsidConf::IsSet(std::string_view key) const {
  std::string_view name = CanonicalKeyName(key);
  return set_keys_.contains(absl::string_view(name.data(), name.size()));
}

std::string IscsidConf::GetString(std::string_view key) const {
  return values_.Get(CanonicalKeyName(key));
}

std::optional<int64_t> IscsidConf::GetInt(std::string_view key) const {
  const KeySpec* spec = FindKeySpec(RecordKind::kIscsidConf, key);
  if (spec == nullptr || spec->type != ValueType::kInt) return std::nullopt;
  return values_.GetInt(spec->name);
}

std::optional<bool> IscsidConf::GetBool(std::string_view key) const {
  const KeySpec* spec = FindKeySpec(RecordKind::kIscsidConf, key);
  if (spec == nullptr || spec->type != ValueType::kBool) return std::nullopt;
  return values_.GetBool(spec->name);
}

std::string IscsidConf::HeaderDigest() const {
  return values_.Get("node.conn[0].iscsi.HeaderDigest");
}

std::string IscsidConf::DataDigest() const {
  return values_.Get("node.conn[0].iscsi.DataDigest");
}

std::vector<std::string> IscsidConf::NodeChapAlgorithms() const {
  return values_.GetList(kNodeChapAlgs);
}

std::vector<std::string> IscsidConf::DiscoveryChapAlgorithms() const {
  return values_.GetList(IsSet(kDiscoveryChapAlgs) ? kDiscoveryChapAlgs
                                                   : kNodeChapAlgs);
}

Record IscsidConf::NewNodeRecord() const {
  Record record = DefaultRecord(RecordKind::kNode);
  for (const KeySpec& spec : NodeRecordKeys()) {
    record.Set(spec.name, values_.Get(spec.name));
  }
  return record;
}

Record IscsidConf::NewDiscoveryRecord(std::string_view address,
                                      int port) const {
  Record record = DefaultRecord(RecordKind::kDiscovery);
  for (const KeySpec& spec : DiscoveryRecordKeys()) {
    if (spec.name == kNodeChapAlgs) continue;
    record.Set(spec.name, values_.Get(spec.name));
  }
  record.Set(kNodeChapAlgs, absl::StrJoin(DiscoveryChapAlgorithms(), ","));
  record.Set("discovery.startup", "manual");
  record.Set("discovery.type", "sendtargets");
  record.Set("discovery.sendtargets.address", address);
  record.Set("discovery.sendtargets.port", absl::StrCat(port));
  return record;
}

absl::StatusOr<LoadedIscsidConf> ParseIscsidConf(std::string_view text,
                                                 std::string_view file_name) {
  ASSIGN_OR_RETURN(ParsedRecord parsed,
                   ParseRecordText(text, file_name, RecordKind::kIscsidConf));
  LoadedIscsidConf loaded;
  // The parse validated every known value; unknown keys are reported, not kept.
  for (const std::string& key : parsed.set_keys) {
    RETURN_IF_ERROR(loaded.conf.Set(key, parsed.record.Get(key)));
  }
  loaded.diagnostics = std::move(parsed.diagnostics);
  return loaded;
}

absl::StatusOr<LoadedIscsidConf> LoadIscsidConf(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (absl::IsNotFound(text.status())) return LoadedIscsidConf{};
  if (!text.ok()) return text.status();
  return ParseIscsidConf(*text, path);
}

}  // namespace kiscsi::conf
