#include "src/node/session_names.h"

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/node/node_selector.h"
#include "src/transport/portal.h"

namespace kiscsi {

std::string NodeTag(const conf::NodeKey& key) {
  return absl::StrCat(
      "[iface: ", key.iface, ", target: ", key.target_name, ", portal: ",
      FormatPortal(Portal{key.address, static_cast<uint16_t>(key.port)}, ','),
      "]");
}

std::string SessionTag(const SysfsSession& session) {
  std::string portal;
  if (session.connection.has_value()) {
    const SysfsConnection& c = *session.connection;
    portal = FormatPortal(
        Portal{c.persistent_address, c.persistent_port.value_or(3260)}, ',');
  }
  return absl::StrCat("[sid: ", session.sid, ", target: ", session.target_name,
                      ", portal: ", portal, "]");
}

bool SessionIsNode(const SysfsSession& session, const conf::NodeKey& key) {
  conf::NodeFilter filter;
  filter.target_name = key.target_name;
  filter.address = key.address;
  filter.port = key.port;
  filter.iface = key.iface;
  return session.connection.has_value() && SessionMatches(filter, session);
}

int64_t CountNodeSessions(const std::vector<SysfsSession>& sessions,
                          const conf::NodeKey& key) {
  int64_t count = 0;
  for (const SysfsSession& session : sessions) {
    if (SessionIsNode(session, key)) ++count;
  }
  return count;
}

int64_t WantedSessions(const conf::Record& record) {
  return record.GetInt("node.session.nr_sessions").value_or(1);
}

absl::Status SessionsPresent(const conf::NodeKey& key, int64_t wanted,
                             int64_t present) {
  return WithExitCode(
      absl::AlreadyExistsError(absl::StrCat(
          key.iface, ": ", wanted, " session", wanted == 1 ? "" : "s",
          " requested, but ", present, " already present.")),
      ExitCode::kSessionExists);
}

}  // namespace kiscsi
