#include "src/node/session_settings.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "src/base/exit_code.h"
#include "src/base/status_macros.h"

namespace kiscsi {
namespace {

int IntOr(const conf::Record& record, const char* key, int fallback) {
  auto value = record.GetInt(key);
  return value.has_value() ? static_cast<int>(*value) : fallback;
}

}  // namespace

absl::StatusOr<SessionSpec> SessionSpecFromNode(const conf::Record& node,
                                                const Identity& identity) {
  SessionSpec spec;
  ASSIGN_OR_RETURN(spec.login, LoginConfigFromNode(node, identity));
  spec.portal.address = node.Get("node.conn[0].address");
  int port = IntOr(node, "node.conn[0].port", 3260);
  if (spec.portal.address.empty() || port <= 0 || port > 65535) {
    return WithExitCode(
        absl::InvalidArgumentError(
            absl::StrCat("node record of ", spec.login.target_name,
                         " has no usable portal (node.conn[0].address/port)")),
        ExitCode::kInvalid);
  }
  spec.portal.port = static_cast<uint16_t>(port);
  std::string iface = node.Get("iface.iscsi_ifacename");
  if (!iface.empty()) spec.iface_name = iface;

  SessionTimeouts& t = spec.timeouts;
  t.login_timeout = NodeLoginTimeout(node);
  t.recovery_tmo =
      IntOr(node, "node.session.timeo.replacement_timeout", t.recovery_tmo);
  t.abort_tmo =
      IntOr(node, "node.session.err_timeo.abort_timeout", t.abort_tmo);
  t.lu_reset_tmo =
      IntOr(node, "node.session.err_timeo.lu_reset_timeout", t.lu_reset_tmo);
  t.tgt_reset_tmo =
      IntOr(node, "node.session.err_timeo.tgt_reset_timeout", t.tgt_reset_tmo);
  t.noop_out_interval =
      IntOr(node, "node.conn[0].timeo.noop_out_interval", t.noop_out_interval);
  t.noop_out_timeout =
      IntOr(node, "node.conn[0].timeo.noop_out_timeout", t.noop_out_timeout);
  spec.cmds_max = static_cast<uint16_t>(
      IntOr(node, "node.session.cmds_max", spec.cmds_max));
  spec.queue_depth = static_cast<uint16_t>(
      IntOr(node, "node.session.queue_depth", spec.queue_depth));
  if (auto fast_abort = node.GetBool("node.session.iscsi.FastAbort")) {
    spec.fast_abort = *fast_abort;
  }
  spec.scan = node.Get("node.session.scan") != "manual";
  return spec;
}

}  // namespace kiscsi
