#include "src/node/sysfs_session_spec.h"

#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

// Sets `key` to `value` when sysfs has it and the schema accepts it.
template <typename T>
void SetIfValid(conf::Record& record, std::string_view key,
                const std::optional<T>& value) {
  if (value.has_value()) {
    (void)conf::SetNodeValue(record, key, absl::StrCat(*value));
  }
}

}  // namespace

Portal RecoveryPortal(const SysfsConnection& connection) {
  return Portal{
      connection.persistent_address.empty() ? connection.address
                                            : connection.persistent_address,
      connection.persistent_port.value_or(connection.port.value_or(3260))};
}

SessionSpec SessionSpecFromSysfs(const SysfsSession& session,
                                 const std::string& initiator_name) {
  SessionSpec spec;
  LoginConfig& login = spec.login;
  login.initiator_name = initiator_name;
  login.target_name = session.target_name;
  if (!session.username.empty()) {
    login.auth.chap = true;
    login.auth.username = session.username;
    login.auth.password = session.password;
    login.auth.username_in = session.username_in;
    login.auth.password_in = session.password_in;
    login.auth.algorithms = {ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256,
                             ChapAlgorithm::kSha1, ChapAlgorithm::kMd5};
  }
  OperationalConfig& op = login.operational;
  if (session.first_burst_len) op.first_burst_length = *session.first_burst_len;
  if (session.max_burst_len) op.max_burst_length = *session.max_burst_len;
  if (session.immediate_data) op.immediate_data = *session.immediate_data;
  if (session.initial_r2t) op.initial_r2t = *session.initial_r2t;
  SessionTimeouts& t = spec.timeouts;
  t.recovery_tmo = static_cast<int>(session.recovery_tmo.value_or(120));
  t.abort_tmo = static_cast<int>(session.abort_tmo.value_or(15));
  t.lu_reset_tmo = static_cast<int>(session.lu_reset_tmo.value_or(30));
  t.tgt_reset_tmo = static_cast<int>(session.tgt_reset_tmo.value_or(30));
  if (!session.iface_name.empty()) spec.iface_name = session.iface_name;
  if (!session.connection.has_value()) return spec;
  const SysfsConnection& connection = *session.connection;
  if (connection.max_recv_dlength) {
    op.max_recv_data_segment_length = *connection.max_recv_dlength;
  }
  if (connection.header_digest.value_or(false)) {
    op.header_digest = DigestPreference::kCrc32c;
  }
  if (connection.data_digest.value_or(false)) {
    op.data_digest = DigestPreference::kCrc32c;
  }
  spec.portal = RecoveryPortal(connection);
  t.noop_out_interval = static_cast<int>(connection.recv_tmo.value_or(5));
  t.noop_out_timeout = static_cast<int>(connection.ping_tmo.value_or(5));
  return spec;
}

absl::StatusOr<SysfsNodeRecord> NodeRecordFromSysfs(
    const SysfsSession& session, const std::string& system_initiator_name,
    conf::Record base) {
  if (!session.connection.has_value()) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat("session ", session.sid,
                                                " has no connection in sysfs")),
        ExitCode::kInvalid);
  }
  const SysfsConnection& connection = *session.connection;
  SysfsNodeRecord out;
  const Portal portal = RecoveryPortal(connection);
  out.key.target_name = session.target_name;
  out.key.address = portal.address;
  out.key.port = portal.port;
  out.key.tpgt = session.tpgt.has_value() ? static_cast<int>(*session.tpgt)
                                          : conf::kTpgtUnknown;
  out.key.iface = session.iface_name.empty() ? "default" : session.iface_name;

  conf::Record& record = out.record;
  record = std::move(base);
  RETURN_IF_ERROR(conf::SetNodeValue(record, "node.name", out.key.target_name));
  RETURN_IF_ERROR(
      conf::SetNodeValue(record, "node.tpgt", absl::StrCat(out.key.tpgt)));
  RETURN_IF_ERROR(conf::SetNodeValue(record, "node.startup", "onboot"));
  RETURN_IF_ERROR(
      conf::SetNodeValue(record, "iface.iscsi_ifacename", out.key.iface));
  if (!session.initiator_name.empty() &&
      session.initiator_name != system_initiator_name) {
    RETURN_IF_ERROR(conf::SetNodeValue(record, "iface.initiatorname",
                                       session.initiator_name));
  }
  RETURN_IF_ERROR(
      conf::SetNodeValue(record, "node.conn[0].address", out.key.address));
  RETURN_IF_ERROR(conf::SetNodeValue(record, "node.conn[0].port",
                                     absl::StrCat(out.key.port)));

  RETURN_IF_ERROR(conf::SetNodeAuth(record, session.username, session.password,
                                    session.username_in, session.password_in));
  if (!session.username.empty()) {
    RETURN_IF_ERROR(conf::SetNodeValue(record, "node.session.auth.chap_algs",
                                       "SHA3-256,SHA256,SHA1,MD5"));
  }

  SetIfValid(record, "node.session.timeo.replacement_timeout",
             session.recovery_tmo);
  SetIfValid(record, "node.session.err_timeo.abort_timeout", session.abort_tmo);
  SetIfValid(record, "node.session.err_timeo.lu_reset_timeout",
             session.lu_reset_tmo);
  SetIfValid(record, "node.session.err_timeo.tgt_reset_timeout",
             session.tgt_reset_tmo);
  SetIfValid(record, "node.conn[0].timeo.noop_out_interval",
             connection.recv_tmo);
  SetIfValid(record, "node.conn[0].timeo.noop_out_timeout",
             connection.ping_tmo);
  if (connection.header_digest.has_value()) {
    RETURN_IF_ERROR(
        conf::SetNodeValue(record, "node.conn[0].iscsi.HeaderDigest",
                           *connection.header_digest ? "CRC32C" : "None"));
  }
  if (connection.data_digest.has_value()) {
    RETURN_IF_ERROR(
        conf::SetNodeValue(record, "node.conn[0].iscsi.DataDigest",
                           *connection.data_digest ? "CRC32C" : "None"));
  }
  return out;
}

const conf::FirmwareBootEntry* FirmwareEntryFor(
    const std::vector<conf::FirmwareBootEntry>& entries,
    const std::string& target_name, const Portal& portal) {
  for (const conf::FirmwareBootEntry& entry : entries) {
    if (entry.target.target_name == target_name &&
        entry.target.ip_address == portal.address &&
        entry.target.port == portal.port) {
      return &entry;
    }
  }
  return nullptr;
}

}  // namespace kiscsi
