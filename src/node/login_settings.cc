#include "src/node/login_settings.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"
#include "src/login/chap.h"

namespace kiscsi {
namespace {

absl::StatusOr<DigestPreference> ParseDigest(const conf::Record& record,
                                             const std::string& key) {
  std::string value = record.Get(key);
  if (value.empty() || value == "None") return DigestPreference::kNone;
  if (value == "CRC32C") return DigestPreference::kCrc32c;
  if (value == "CRC32C,None") return DigestPreference::kCrc32cOrNone;
  if (value == "None,CRC32C") return DigestPreference::kNoneOrCrc32c;
  return InvalidParameterError(
      absl::StrCat("invalid value '", value, "' for ", key,
                   ": expected None, CRC32C, CRC32C,None or None,CRC32C"));
}

// Reads the five CHAP keys under `prefix` ("node.session.auth").
absl::StatusOr<AuthConfig> ParseAuth(const conf::Record& record,
                                     const std::string& prefix,
                                     const std::string& algs_key) {
  AuthConfig auth;
  std::string method = record.Get(prefix + ".authmethod");
  if (method == "CHAP") {
    auth.chap = true;
  } else if (!method.empty() && method != "None") {
    return InvalidParameterError(
        absl::StrCat("invalid value '", method, "' for ", prefix,
                     ".authmethod: expected None or CHAP"));
  }
  auth.username = record.Get(prefix + ".username");
  auth.password = record.Get(prefix + ".password");
  auth.username_in = record.Get(prefix + ".username_in");
  auth.password_in = record.Get(prefix + ".password_in");
  std::vector<std::string> names = record.GetList(algs_key);
  if (!names.empty()) {
    auth.algorithms.clear();
    for (const std::string& name : names) {
      auto algorithm = ChapAlgorithmFromName(name);
      if (!algorithm.has_value()) {
        return InvalidParameterError(
            absl::StrCat("unknown CHAP algorithm '", name, "' in ", algs_key,
                         ": expected MD5, SHA1, SHA256 or SHA3-256"));
      }
      auth.algorithms.push_back(*algorithm);
    }
  }
  if (auth.chap && auth.username.empty()) {
    return InvalidParameterError(absl::StrCat(
        prefix, ".authmethod is CHAP but ", prefix, ".username is empty"));
  }
  if (auth.username_in.empty() != auth.password_in.empty()) {
    return InvalidParameterError(absl::StrCat("mutual CHAP needs both ", prefix,
                                              ".username_in and ", prefix,
                                              ".password_in"));
  }
  return auth;
}

template <typename T>
void SetIfPresent(const conf::Record& record, const std::string& key, T& out) {
  if (auto value = record.GetInt(key); value.has_value()) {
    out = static_cast<T>(*value);
  }
}

void SetBoolIfPresent(const conf::Record& record, const std::string& key,
                      bool& out) {
  if (auto value = record.GetBool(key); value.has_value()) out = *value;
}

absl::Duration Seconds(const conf::Record& record, const std::string& key,
                       int fallback) {
  auto value = record.GetInt(key);
  return absl::Seconds(value.has_value() && *value > 0 ? *value : fallback);
}

}  // namespace

absl::StatusOr<LoginConfig> LoginConfigFromNode(const conf::Record& node,
                                                const Identity& identity) {
  LoginConfig config;
  config.session_type = SessionType::kNormal;
  config.target_name = node.Get("node.name");
  if (config.target_name.empty())
    return InvalidParameterError("node record has no node.name");
  std::string iface_initiator = node.Get("iface.initiatorname");
  config.initiator_name =
      iface_initiator.empty() ? identity.initiator_name : iface_initiator;
  config.initiator_alias = identity.initiator_alias;
  ASSIGN_OR_RETURN(config.auth, ParseAuth(node, "node.session.auth",
                                          "node.session.auth.chap_algs"));
  OperationalConfig& op = config.operational;
  ASSIGN_OR_RETURN(op.header_digest,
                   ParseDigest(node, "node.conn[0].iscsi.HeaderDigest"));
  ASSIGN_OR_RETURN(op.data_digest,
                   ParseDigest(node, "node.conn[0].iscsi.DataDigest"));
  SetIfPresent(node, "node.conn[0].iscsi.MaxRecvDataSegmentLength",
               op.max_recv_data_segment_length);
  SetIfPresent(node, "node.conn[0].iscsi.MaxXmitDataSegmentLength",
               op.max_xmit_data_segment_length);
  SetBoolIfPresent(node, "node.session.iscsi.InitialR2T", op.initial_r2t);
  SetBoolIfPresent(node, "node.session.iscsi.ImmediateData", op.immediate_data);
  SetIfPresent(node, "node.session.iscsi.FirstBurstLength",
               op.first_burst_length);
  SetIfPresent(node, "node.session.iscsi.MaxBurstLength", op.max_burst_length);
  SetIfPresent(node, "node.session.iscsi.DefaultTime2Wait",
               op.default_time2wait);
  SetIfPresent(node, "node.session.iscsi.DefaultTime2Retain",
               op.default_time2retain);
  SetIfPresent(node, "node.session.iscsi.MaxOutstandingR2T",
               op.max_outstanding_r2t);
  SetIfPresent(node, "node.session.iscsi.ERL", op.error_recovery_level);
  SetIfPresent(node, "node.session.iscsi.MaxConnections", op.max_connections);
  SetIfPresent(node, "node.session.initial_cmdsn", config.cmdsn);
  return config;
}

absl::Duration NodeLoginTimeout(const conf::Record& node) {
  return Seconds(node, "node.conn[0].timeo.login_timeout", 15);
}

absl::Duration NodeLogoutTimeout(const conf::Record& node) {
  return Seconds(node, "node.conn[0].timeo.logout_timeout", 15);
}

absl::StatusOr<DiscoveryOptions> DiscoveryOptionsFromRecord(
    const conf::Record& discovery, const Identity& identity) {
  DiscoveryOptions options;
  options.initiator_name = identity.initiator_name;
  options.initiator_alias = identity.initiator_alias;
  // open-iscsi 2.1.8 stores the discovery CHAP algorithms under the node key in
  // st_config.
  ASSIGN_OR_RETURN(options.auth,
                   ParseAuth(discovery, "discovery.sendtargets.auth",
                             "node.session.auth.chap_algs"));
  SetIfPresent(discovery,
               "discovery.sendtargets.iscsi.MaxRecvDataSegmentLength",
               options.max_recv_data_segment_length);
  options.login_timeout =
      Seconds(discovery, "discovery.sendtargets.timeo.login_timeout", 15);
  options.active_timeout =
      Seconds(discovery, "discovery.sendtargets.timeo.active_timeout", 30);
  return options;
}

absl::StatusOr<Isid> RandomIsid() {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, RandomBytes(6));
  Isid isid;
  for (size_t i = 0; i < isid.size(); ++i) isid[i] = bytes[i];
  // T = 10b (random) in the top two bits of the first byte; the rest stays
  // random.
  isid[0] = static_cast<uint8_t>(0x80 | (isid[0] & 0x3f));
  return isid;
}

}  // namespace kiscsi
