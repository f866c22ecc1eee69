#include "src/node/sysfs_session_spec.h"

namespace kiscsi {

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
