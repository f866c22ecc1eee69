#include "src/programs/kiscsiadm/commands.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "conf/initiator_name.h"
#include "conf/iscsid_conf.h"
#include "conf/node_db.h"
#include "src/base/exit_code.h"
#include "src/base/paths.h"
#include "src/base/status_macros.h"
#include "src/discovery/probe.h"
#include "src/discovery/sendtargets.h"
#include "src/node/login_settings.h"
#include "src/node/session_names.h"
#include "src/programs/kiscsiadm/firmware_commands.h"
#include "src/programs/kiscsiadm/session_commands.h"
#include "src/transport/portal.h"

namespace kiscsi {
namespace {

// Exit 21 without a line: what iscsiadm does for an empty discovery listing.
absl::Status SilentNoRecords() {
  return WithExitCode(absl::NotFoundError(""), ExitCode::kNoObjectsFound);
}

absl::Status NoRecords() {
  return WithExitCode(absl::NotFoundError("No records found"),
                      ExitCode::kNoObjectsFound);
}

absl::StatusOr<Identity> LoadIdentity(CommandContext& context) {
  auto file =
      conf::ReadInitiatorNameFile(InitiatorNamePath(context.sysconf_dir));
  if (!file.ok()) {
    // A login without an initiator name cannot succeed anywhere (the message
    // says how to make one).
    return WithExitCode(file.status(), ExitCode::kInvalid);
  }
  return Identity{file->name, file->alias};
}

// "127.0.0.1:3260,1 iqn..." as iscsiadm lists nodes and discovery results.
std::string NodeLine(const std::string& address, int port, int tpgt,
                     const std::string& target) {
  return absl::StrCat(
      FormatPortal(Portal{address, static_cast<uint16_t>(port)}, ':'), ",",
      tpgt, " ", target);
}

// ---------------------------------------------------------------- discovery

absl::Status SendTargetsDiscovery(const Options& options,
                                  CommandContext& context) {
  if (!options.portal.has_value()) {
    return InvalidParameterError("discovery needs a portal: -p IP[:PORT]");
  }
  ASSIGN_OR_RETURN(PortalSpec spec, ParsePortalSpec(*options.portal));
  const bool persistent = !options.HasOp(Op::kNonPersistent);
  ASSIGN_OR_RETURN(conf::IscsidConf conf, LoadConf(context));
  ASSIGN_OR_RETURN(Identity identity, LoadIdentity(context));
  conf::NodeDb db(context.sysconf_dir);
  conf::DiscoveryPortal where{spec.portal.address, spec.portal.port};
  // A discovery record the user already edited (e.g. discovery CHAP) wins over
  // iscsid.conf.
  auto record = db.ReadDiscoveryRecord(where);
  const bool new_record = absl::IsNotFound(record.status());
  if (!record.ok()) {
    if (!new_record) return record.status();
    record = conf.NewDiscoveryRecord(where.address, where.port);
  }
  ASSIGN_OR_RETURN(DiscoveryOptions discovery_options,
                   DiscoveryOptionsFromRecord(*record, identity));
  // As iscsiadm: the discovery record is written before the attempt, so it
  // stays (with its settings) when the portal does not answer. One rule for a
  // portal that answers with something unusable (a target name that is no
  // iSCSI name, a malformed TargetAddress: InvalidArgument from discovery or
  // from the node database): nothing of that answer is kept, so a discovery
  // record this run made is removed again; one that existed stays as it was.
  if (persistent) RETURN_IF_ERROR(db.WriteDiscoveryRecord(*record));
  const auto refused = [&](absl::Status status) {
    if (persistent && new_record && absl::IsInvalidArgument(status)) {
      absl::Status removed = db.DeleteDiscoveryRecord(where);
      if (!removed.ok()) {
        context.err << context.prefix << removed.message() << "\n";
      }
    }
    return status;
  };
  absl::StatusOr<std::vector<DiscoveredPortal>> discovered =
      DiscoverSendTargets(spec.portal, discovery_options);
  if (!discovered.ok()) return refused(discovered.status());
  std::vector<DiscoveredPortal> found = *std::move(discovered);
  // Without -I the nodes are bound to every iface of the ifaces folder, or to
  // default when there is none, as iscsiadm binds them.
  std::vector<std::string> ifaces;
  if (options.iface.has_value()) {
    ifaces.push_back(*options.iface);
  } else {
    ASSIGN_OR_RETURN(std::vector<conf::Record> all, db.ListIfaces());
    for (const conf::Record& iface : all) {
      const std::string name = iface.Get("iface.iscsi_ifacename");
      if (name != "default" && name != "iser") ifaces.push_back(name);
    }
    if (ifaces.empty()) ifaces.push_back("default");
  }
  if (persistent) {
    std::vector<conf::DiscoveredTarget> targets;
    for (const DiscoveredPortal& portal : found) {
      targets.push_back(
          {portal.target_name, portal.address, portal.port, portal.tpgt});
    }
    for (const std::string& iface : ifaces) {
      absl::Status applied =
          db.ApplyDiscoveryResult(where, targets, conf, iface).status();
      if (!applied.ok()) return refused(applied);
    }
    if (!options.iface.has_value() && ifaces.front() != "default") {
      // The records this portal bound to default before the ifaces existed.
      RETURN_IF_ERROR(
          db.ApplyDiscoveryResult(where, {}, conf, "default").status());
    }
  }
  if (found.empty()) {
    return WithExitCode(absl::NotFoundError("No portals found"),
                        ExitCode::kNoObjectsFound);
  }
  for (const DiscoveredPortal& portal : found) {
    context.out << NodeLine(portal.address, portal.port, portal.tpgt,
                            portal.target_name)
                << "\n";
  }
  if (!options.login) return absl::OkStatus();
  if (!persistent) {
    return InvalidParameterError(
        "-l logs in to node records; it cannot go with -o nonpersistent");
  }
  std::vector<conf::NodeKey> keys;
  for (const std::string& iface : ifaces) {
    for (const DiscoveredPortal& portal : found) {
      keys.push_back(conf::NodeKey{portal.target_name, portal.address,
                                   portal.port, portal.tpgt, iface});
    }
  }
  return LoginNodeKeys(keys, context);
}

// "Target: T", "\tPortal: IP:PORT,TPGT", "\t\tIface Name: I" lines, a target
// and a portal printed once for consecutive keys (sorted keys group them).
void PrintNodeTree(const std::vector<conf::NodeKey>& keys, std::ostream& out) {
  std::string target, portal;
  for (const conf::NodeKey& key : keys) {
    if (key.target_name != target) {
      target = key.target_name;
      portal.clear();
      out << "Target: " << target << "\n";
    }
    std::string this_portal = absl::StrCat(
        FormatPortal(Portal{key.address, static_cast<uint16_t>(key.port)}, ':'),
        ",", key.tpgt);
    if (this_portal != portal) {
      portal = this_portal;
      out << "\tPortal: " << portal << "\n";
    }
    out << "\t\tIface Name: " << key.iface << "\n";
  }
}

// `-m discovery -P 1` / `-m discoverydb -o show -P 1`: every way nodes were
// found, as iscsiadm prints it (programs parse this: os-brick finds a
// portal's targets in it). A section with nothing prints "No targets found.";
// nothing at all is exit 21.
absl::Status PrintDiscoveryTree(
    conf::NodeDb& db, const std::vector<conf::DiscoveryPortal>& portals,
    std::ostream& out) {
  // A discovery address counts even without targets, as in iscsiadm.
  int found = static_cast<int>(portals.size());
  out << "SENDTARGETS:\n";
  for (const conf::DiscoveryPortal& portal : portals) {
    out << "DiscoveryAddress: " << portal.address << "," << portal.port << "\n";
    ASSIGN_OR_RETURN(std::vector<conf::NodeKey> linked,
                     db.ListDiscoveryLinks(portal));
    PrintNodeTree(linked, out);
  }
  if (portals.empty()) out << "No targets found.\n";
  // iSNS discovery is not supported: never any.
  out << "iSNS:\nNo targets found.\n";
  ASSIGN_OR_RETURN(std::vector<conf::NodeKey> nodes, db.ListNodes());
  for (const char* type : {"static", "fw"}) {
    std::vector<conf::NodeKey> of_type;
    for (const conf::NodeKey& key : nodes) {
      auto record = db.ReadNode(key);
      if (record.ok() && record->Get("node.discovery_type") == type) {
        of_type.push_back(key);
      }
    }
    out << (std::string_view(type) == "static" ? "STATIC:\n" : "FIRMWARE:\n");
    if (of_type.empty()) out << "No targets found.\n";
    PrintNodeTree(of_type, out);
    found += static_cast<int>(of_type.size());
  }
  // Nothing at all: iscsiadm's 21, with no message.
  return found > 0 ? absl::OkStatus() : SilentNoRecords();
}

// `-m discovery` without -t: the discovery records.
absl::Status ListDiscoveryRecords(const Options& options,
                                  CommandContext& context) {
  conf::NodeDb db(context.sysconf_dir);
  if (options.portal.has_value()) {
    ASSIGN_OR_RETURN(PortalSpec spec, ParsePortalSpec(*options.portal));
    conf::DiscoveryPortal where{spec.portal.address, spec.portal.port};
    auto record = db.ReadDiscoveryRecord(where);
    if (!record.ok()) {
      return absl::IsNotFound(record.status()) ? NoRecords() : record.status();
    }
    context.out << conf::FormatRecordShow(*record, conf::RecordKind::kDiscovery,
                                          options.show_secrets);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<conf::DiscoveryPortal> portals,
                   db.ListDiscoveryPortals());
  if (options.print_level.value_or(0) >= 1) {
    return PrintDiscoveryTree(db, portals, context.out);
  }
  // iscsiadm -m discoverydb with no record prints nothing and exits 21.
  if (portals.empty()) {
    return options.mode == Mode::kDiscoveryDb ? SilentNoRecords() : NoRecords();
  }
  for (const conf::DiscoveryPortal& portal : portals) {
    context.out << FormatPortal(Portal{portal.address,
                                       static_cast<uint16_t>(portal.port)},
                                ':')
                << " via sendtargets\n";
  }
  return absl::OkStatus();
}

// `-m discoverydb -t st -p P -o new|delete|update|show`: discovery records, as
// iscsiadm.
absl::Status DiscoveryRecordOps(const Options& options,
                                CommandContext& context) {
  const bool show_only = options.HasOp(Op::kShow) && !options.HasOp(Op::kNew) &&
                         !options.HasOp(Op::kUpdate) &&
                         !options.HasOp(Op::kDelete);
  if (!options.portal.has_value()) {
    if (show_only) return ListDiscoveryRecords(options, context);
    return InvalidParameterError(
        "discoverydb -o new|update|delete needs a portal: -p IP[:PORT]");
  }
  ASSIGN_OR_RETURN(PortalSpec spec, ParsePortalSpec(*options.portal));
  conf::DiscoveryPortal where{spec.portal.address, spec.portal.port};
  conf::NodeDb db(context.sysconf_dir);
  if (options.HasOp(Op::kDelete)) {
    absl::Status deleted = db.DeleteDiscoveryRecord(where);
    if (absl::IsNotFound(deleted)) {
      return WithExitCode(absl::NotFoundError(absl::StrCat(
                              "Discovery record [",
                              FormatPortal(spec.portal, ','), "] not found.")),
                          ExitCode::kDatabase);
    }
    return deleted;
  }
  auto record = db.ReadDiscoveryRecord(where);
  if (options.HasOp(Op::kNew)) {
    // An existing record keeps the user's edits; iscsiadm says "added"
    // either way.
    if (!record.ok()) {
      if (!absl::IsNotFound(record.status())) return record.status();
      ASSIGN_OR_RETURN(conf::IscsidConf conf, LoadConf(context));
      record = conf.NewDiscoveryRecord(where.address, where.port);
      RETURN_IF_ERROR(db.WriteDiscoveryRecord(*record));
    }
    context.out << "New discovery record for ["
                << FormatPortal(spec.portal, ',') << "] added.\n";
  }
  if (!record.ok()) {
    return absl::IsNotFound(record.status()) ? NoRecords() : record.status();
  }
  if (options.HasOp(Op::kUpdate)) {
    if (options.settings.empty()) {
      return InvalidParameterError("-o update needs -n NAME -v VALUE");
    }
    // Every pair, in order; nothing is written unless all are valid.
    for (const auto& [name, text] : options.settings) {
      const conf::KeySpec* key =
          conf::FindKeySpec(conf::RecordKind::kDiscovery, name);
      if (key == nullptr) {
        return InvalidParameterError(
            conf::UnknownKeyMessage(conf::RecordKind::kDiscovery, name));
      }
      auto value = conf::NormalizeValue(*key, text);
      if (!value.ok()) return WithExitCode(value.status(), ExitCode::kInvalid);
      record->Set(key->name, *value);
    }
    RETURN_IF_ERROR(db.WriteDiscoveryRecord(*record));
  }
  if (options.HasOp(Op::kShow)) {
    context.out << conf::FormatRecordShow(*record, conf::RecordKind::kDiscovery,
                                          options.show_secrets);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- node

absl::Status NewNode(const Options& options, CommandContext& context) {
  if (!options.target_name.has_value() || !options.portal.has_value()) {
    return InvalidParameterError(
        "-o new needs a target (-T) and a portal (-p)");
  }
  ASSIGN_OR_RETURN(PortalSpec spec, ParsePortalSpec(*options.portal));
  ASSIGN_OR_RETURN(conf::IscsidConf conf, LoadConf(context));
  conf::NodeDb db(context.sysconf_dir);
  conf::NodeKey key{
      *options.target_name, spec.portal.address, spec.portal.port,
      spec.tpgt.has_value() ? int{*spec.tpgt} : conf::kTpgtUnknown,
      options.iface.value_or("default")};
  RETURN_IF_ERROR(db.WriteNode(key, conf.NewNodeRecord()));
  context.out << "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=" << key.iface
              << "] "
              << FormatPortal(
                     Portal{key.address, static_cast<uint16_t>(key.port)}, ',')
              << "," << key.tpgt << " " << key.target_name << "] added\n";
  return absl::OkStatus();
}

std::string YesNo(bool value) { return value ? "Yes" : "No"; }

void PrintProbe(const conf::NodeKey& key, const ProbeResult& probe,
                std::ostream& out) {
  const LoginResult& login = probe.login;
  const NegotiatedParams& p = login.params;
  out << "Login to " << NodeTag(key) << " successful (probe, "
      << absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(
                                        probe.connect_and_login_time))
      << ").\n";
  for (const Portal& redirect : probe.redirects) {
    out << "\tRedirected to: " << FormatPortal(redirect, ':') << "\n";
  }
  out << "\tAuthentication: ";
  if (login.chap_algorithm.has_value()) {
    out << "CHAP (" << ChapAlgorithmName(*login.chap_algorithm) << ")"
        << (login.target_authenticated ? ", target authenticated (mutual)" : "")
        << "\n";
  } else {
    out << "None\n";
  }
  out << "\tTSIH: " << login.tsih << "\n";
  out << "\tTarget Portal Group Tag: " << p.target_portal_group_tag << "\n";
  if (!p.target_alias.empty())
    out << "\tTarget Alias: " << p.target_alias << "\n";
  out << "Negotiated iSCSI params:\n";
  out << "\tHeaderDigest: " << (p.header_digest ? "CRC32C" : "None") << "\n";
  out << "\tDataDigest: " << (p.data_digest ? "CRC32C" : "None") << "\n";
  out << "\tMaxRecvDataSegmentLength: " << p.max_recv_data_segment_length
      << "\n";
  out << "\tMaxXmitDataSegmentLength: " << p.max_xmit_data_segment_length
      << "\n";
  out << "\tFirstBurstLength: " << p.first_burst_length << "\n";
  out << "\tMaxBurstLength: " << p.max_burst_length << "\n";
  out << "\tImmediateData: " << YesNo(p.immediate_data) << "\n";
  out << "\tInitialR2T: " << YesNo(p.initial_r2t) << "\n";
  out << "\tMaxOutstandingR2T: " << p.max_outstanding_r2t << "\n";
  out << "\tDefaultTime2Wait: " << p.default_time2wait << "\n";
  out << "\tDefaultTime2Retain: " << p.default_time2retain << "\n";
  out << "\tErrorRecoveryLevel: " << p.error_recovery_level << "\n";
  out << "\tMaxConnections: " << p.max_connections << "\n";
  out << "Logout of " << NodeTag(key) << " successful (probe, "
      << absl::StrFormat("%.1f ms",
                         absl::ToDoubleMilliseconds(probe.logout_time))
      << ").\n";
}

absl::Status ProbeNodes(const std::vector<conf::NodeKey>& keys,
                        conf::NodeDb& db, CommandContext& context) {
  ASSIGN_OR_RETURN(Identity identity, LoadIdentity(context));
  absl::Status first_error;
  for (const conf::NodeKey& key : keys) {
    absl::Status status = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(conf::Record record, db.ReadNode(key));
      ASSIGN_OR_RETURN(LoginConfig config,
                       LoginConfigFromNode(record, identity));
      ASSIGN_OR_RETURN(config.isid, RandomIsid());
      context.out << "Probing " << NodeTag(key) << "\n";
      ASSIGN_OR_RETURN(
          ProbeResult probe,
          Probe(Portal{key.address, static_cast<uint16_t>(key.port)}, config,
                NodeLoginTimeout(record), NodeLogoutTimeout(record)));
      PrintProbe(key, probe, context.out);
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      context.err << context.prefix << "Could not probe " << NodeTag(key)
                  << ": " << status.message() << "\n";
      if (first_error.ok()) first_error = status;
    }
  }
  if (!first_error.ok()) {
    // The detail was printed per node; keep the exit code of the first failure.
    return WithExitCode(
        absl::Status(first_error.code(), "Could not probe all portals"),
        ExitCodeOf(first_error));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<conf::IscsidConf> LoadConf(CommandContext& context) {
  ASSIGN_OR_RETURN(conf::LoadedIscsidConf loaded,
                   conf::LoadIscsidConf(context.sysconf_dir + "/iscsid.conf"));
  for (const conf::Diagnostic& diagnostic : loaded.diagnostics) {
    context.err << context.prefix << "warning: " << diagnostic.message << "\n";
  }
  return std::move(loaded.conf);
}

absl::StatusOr<conf::NodeFilter> FilterFromOptions(const Options& options) {
  conf::NodeFilter filter;
  filter.target_name = options.target_name;
  filter.iface = options.iface;
  if (options.portal.has_value()) {
    ASSIGN_OR_RETURN(PortalSpec spec, ParsePortalSpec(*options.portal));
    filter.address = spec.portal.address;
    filter.port = spec.portal.port;
    if (spec.tpgt.has_value()) filter.tpgt = *spec.tpgt;
  }
  return filter;
}

absl::Status RunDiscovery(const Options& options, CommandContext& context) {
  const bool record_ops =
      options.HasOp(Op::kNew) || options.HasOp(Op::kUpdate) ||
      options.HasOp(Op::kShow) || options.HasOp(Op::kDelete);
  if (options.mode == Mode::kDiscoveryDb && record_ops) {
    RETURN_IF_ERROR(DiscoveryRecordOps(options, context));
    if (!options.discover) return absl::OkStatus();
  }
  if (options.mode == Mode::kDiscoveryDb && !options.discover) {
    return ListDiscoveryRecords(options, context);
  }
  if (options.type.empty()) return ListDiscoveryRecords(options, context);
  if (options.type == "fw") return FirmwareDiscovery(options, context);
  if (options.type != "sendtargets") {
    return WithExitCode(absl::UnimplementedError(absl::StrCat(
                            "discovery type '", options.type,
                            "' is not supported; use sendtargets")),
                        ExitCode::kOperationNotSupported);
  }
  return SendTargetsDiscovery(options, context);
}

absl::Status RunNode(const Options& options, CommandContext& context) {
  if (options.login_all.has_value()) return LoginAll(options, context);
  if (options.logout_all.has_value()) return LogoutAll(options, context);
  if (options.login) return LoginNodes(options, context);
  if (options.rescan) return RescanNodes(options, context);
  if (options.logout) return LogoutNodes(options, context);
  if (options.HasOp(Op::kNew)) return NewNode(options, context);
  ASSIGN_OR_RETURN(conf::NodeFilter filter, FilterFromOptions(options));
  conf::NodeDb db(context.sysconf_dir);
  ASSIGN_OR_RETURN(std::vector<conf::NodeKey> keys, db.FindNodes(filter));
  if (keys.empty()) return NoRecords();

  if (options.probe) return ProbeNodes(keys, db, context);
  if (options.HasOp(Op::kDelete)) {
    for (const conf::NodeKey& key : keys) RETURN_IF_ERROR(db.DeleteNode(key));
    return absl::OkStatus();
  }
  if (options.HasOp(Op::kUpdate)) {
    if (options.settings.empty())
      return InvalidParameterError("-o update needs -n NAME -v VALUE");
    for (const auto& [name, value] : options.settings) {
      if (conf::FindKeySpec(conf::RecordKind::kNode, name) == nullptr) {
        // iscsiadm's two lines, then kiscsi's suggestion, indented.
        context.err << context.prefix << "Cannot modify " << name
                    << ". Invalid param name.\n"
                    << context.prefix << "  "
                    << conf::UnknownKeyMessage(conf::RecordKind::kNode, name)
                    << "\n";
        return InvalidParameterError(
            "Could not execute operation on all records: invalid parameter");
      }
    }
    for (const conf::NodeKey& key : keys) {
      RETURN_IF_ERROR(db.UpdateNode(key, options.settings));
    }
    return absl::OkStatus();
  }
  const bool selected = options.target_name.has_value() ||
                        options.portal.has_value() || options.iface.has_value();
  if (options.HasOp(Op::kShow) ||
      (selected && !options.print_level.has_value())) {
    for (const conf::NodeKey& key : keys) {
      ASSIGN_OR_RETURN(conf::Record record, db.ReadNode(key));
      context.out << conf::FormatRecordShow(record, conf::RecordKind::kNode,
                                            options.show_secrets);
    }
    return absl::OkStatus();
  }
  if (options.print_level.value_or(0) >= 1) {
    PrintNodeTree(keys, context.out);
    return absl::OkStatus();
  }
  for (const conf::NodeKey& key : keys) {
    // iscsiadm lists an unknown tag (-1) as the unsigned number it is stored
    // as; its discovery output says -1.
    context.out << absl::StrCat(
                       FormatPortal(
                           Portal{key.address, static_cast<uint16_t>(key.port)},
                           ':'),
                       ",", static_cast<uint32_t>(key.tpgt), " ",
                       key.target_name)
                << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunIface(const Options& options, CommandContext& context) {
  conf::NodeDb db(context.sysconf_dir);
  const bool changes = options.HasOp(Op::kNew) || options.HasOp(Op::kUpdate) ||
                       options.HasOp(Op::kDelete);
  if (changes && !options.iface.has_value()) {
    return InvalidParameterError("iface -o new|update|delete needs -I IFACE");
  }
  if (options.HasOp(Op::kNew)) {
    // iscsiadm writes the record ("updated") and says it was added, also when
    // it existed; kiscsi keeps an existing one's settings.
    absl::Status made = db.NewIface(*options.iface);
    if (!made.ok() && !absl::IsAlreadyExists(made)) return made;
    context.out << *options.iface << " updated.\n"
                << "New interface " << *options.iface << " added\n";
  }
  if (options.HasOp(Op::kUpdate)) {
    if (options.settings.empty()) {
      return InvalidParameterError("-o update needs -n NAME -v VALUE");
    }
    RETURN_IF_ERROR(db.UpdateIface(*options.iface, options.settings));
    context.out << *options.iface << " updated.\n";
  }
  if (options.HasOp(Op::kDelete)) {
    absl::Status deleted = db.DeleteIface(*options.iface);
    if (absl::IsNotFound(deleted)) {
      context.err << context.prefix << "Could not read iface info for "
                  << *options.iface << ".\n";
      return InvalidParameterError(absl::StrCat(
          "Could not delete iface ", *options.iface, ": invalid parameter"));
    }
    RETURN_IF_ERROR(deleted);
    context.out << *options.iface << " unbound and deleted.\n";
  }
  if (changes && !options.HasOp(Op::kShow)) return absl::OkStatus();
  if (options.iface.has_value()) {
    absl::StatusOr<conf::Record> record = db.ReadIface(*options.iface);
    // iscsiadm fails to open the file: a database error (6).
    if (absl::IsNotFound(record.status())) {
      return WithExitCode(record.status(), ExitCode::kDatabase);
    }
    if (!record.ok()) return record.status();
    context.out << conf::FormatRecordShow(*record, conf::RecordKind::kIface,
                                          options.show_secrets);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<conf::Record> ifaces, db.ListIfaces());
  for (const conf::Record& iface : ifaces) {
    context.out << conf::FormatIfaceLine(iface) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunCommand(const Options& options, CommandContext& context) {
  switch (options.mode) {
    case Mode::kDiscovery:
    case Mode::kDiscoveryDb:
      return RunDiscovery(options, context);
    case Mode::kNode:
      return RunNode(options, context);
    case Mode::kIface:
      return RunIface(options, context);
    case Mode::kSession:
      return RunSession(options, context);
    case Mode::kFw:
      return RunFirmware(options, context);
    case Mode::kHost:
      return RunHost(options, context);
    case Mode::kNone:
      break;
  }
  return InvalidParameterError(
      "no mode given: use -m discovery|node|session|iface (see -h)");
}

}  // namespace kiscsi
