// The iSCSI login state machine (RFC 7143 sections 6.3, 11.12, 11.13, 12, 13),
// without I/O.
//
// LoginMachine turns a LoginConfig into Login Requests and consumes Login
// Responses, walking the security (CHAP), operational and full-feature stages.
// Without CHAP it starts in the operational stage, so that a plain login takes
// one round trip.
// It never touches a socket, so the same code logs in over a plain TCP socket
// (discovery, --probe) and through the kernel (SEND_PDU/RECV_PDU) unchanged. A
// driver loop looks like:
//
//   LoginMachine machine(config);
//   ASSIGN_OR_RETURN(LoginRequestPdu request, machine.Start());
//   for (;;) {
//     send(Encode(request)); LoginResponse response = receive();
//     ASSIGN_OR_RETURN(LoginStep step, machine.OnResponse(response));
//     if (step.kind == LoginStep::kDone) return step.result;
//     if (step.kind == LoginStep::kRedirect) ...  // reconnect, new machine
//     request = std::move(step.request);
//   }
//
// Failures come back as absl::Status with an ExitCode attached
// (src/base/exit_code.h) and a one-line message that says what went wrong and
// what to check. CHAP secrets never appear in a message.
#ifndef KISCSI_SRC_LOGIN_LOGIN_MACHINE_H_
#define KISCSI_SRC_LOGIN_LOGIN_MACHINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/login/chap.h"
#include "src/protocol/pdu.h"
#include "src/protocol/text_codec.h"

namespace kiscsi {

enum class SessionType { kNormal, kDiscovery };

// iscsid.conf's HeaderDigest/DataDigest values: "None", "CRC32C",
// "CRC32C,None", "None,CRC32C".
enum class DigestPreference { kNone, kCrc32c, kCrc32cOrNone, kNoneOrCrc32c };

struct AuthConfig {
  bool chap = false;  // authmethod = CHAP
  std::string username;
  std::string password;
  // Mutual CHAP: set both to authenticate the target too.
  std::string username_in;
  std::string password_in;
  // In order of preference (iscsid.conf chap_algs).
  std::vector<ChapAlgorithm> algorithms = {ChapAlgorithm::kMd5};
};

// What the initiator asks for (iscsid.conf / node record); defaults are
// iscsid.conf's.
struct OperationalConfig {
  DigestPreference header_digest = DigestPreference::kNone;
  DigestPreference data_digest = DigestPreference::kNone;
  uint32_t max_recv_data_segment_length = 262144;  // declared by us
  uint32_t max_xmit_data_segment_length =
      0;  // our cap on sending; 0 = target's value
  bool initial_r2t = false;
  bool immediate_data = true;
  uint32_t first_burst_length = 262144;
  uint32_t max_burst_length = 16776192;
  uint32_t default_time2wait = 2;
  uint32_t default_time2retain = 0;
  uint32_t max_outstanding_r2t = 1;
  uint32_t error_recovery_level = 0;
  uint32_t max_connections = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
};

struct LoginConfig {
  SessionType session_type = SessionType::kNormal;
  std::string initiator_name;
  std::string initiator_alias;  // optional
  std::string target_name;      // required for kNormal, empty for kDiscovery
  Isid isid{};
  uint16_t tsih = 0;  // 0 for a new session (and for reinstatement)
  uint16_t cid = 0;
  uint32_t itt = 0;
  // The transport stamps the ITT of each request (the kernel does for
  // SEND_PDU), so responses carry its tag, not `itt`.
  bool transport_sets_itt = false;
  uint32_t cmdsn = 0;
  uint32_t exp_statsn = 0;
  AuthConfig auth;
  OperationalConfig operational;
};

// Values in force once the login completes (RFC 7143 section 13).
struct NegotiatedParams {
  bool header_digest = false;  // CRC32C
  bool data_digest = false;
  uint32_t max_recv_data_segment_length = 8192;  // what we declared
  uint32_t max_xmit_data_segment_length =
      8192;  // what the target declared (capped by config)
  bool initial_r2t = true;
  bool immediate_data = true;
  uint32_t first_burst_length = 65536;
  uint32_t max_burst_length = 262144;
  uint32_t default_time2wait = 2;
  uint32_t default_time2retain = 20;
  uint32_t max_outstanding_r2t = 1;
  uint32_t error_recovery_level = 0;
  uint32_t max_connections = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  bool if_marker = false;
  bool of_marker = false;
  std::string target_alias;
  uint16_t target_portal_group_tag = 0;
};

struct LoginResult {
  NegotiatedParams params;
  uint16_t tsih = 0;
  uint32_t statsn = 0;  // of the final response; ExpStatSN = statsn + 1
  uint32_t exp_cmdsn = 0;
  uint32_t max_cmdsn = 0;
  // The CHAP algorithm used, if any, and whether the target proved itself
  // (mutual CHAP).
  std::optional<ChapAlgorithm> chap_algorithm;
  bool target_authenticated = false;
};

// Status class 1: the target moved. `address` is a host name, IPv4 or IPv6
// literal.
struct Redirect {
  std::string address;
  uint16_t port = 3260;
  bool permanent =
      false;  // detail 0x02 (moved permanently) vs 0x01 (temporarily)
};

struct LoginStep {
  enum Kind { kSend, kDone, kRedirect };
  Kind kind = kSend;
  LoginRequestPdu request;  // kSend
  LoginResult result;       // kDone
  Redirect redirect;        // kRedirect
};

class LoginMachine {
 public:
  explicit LoginMachine(LoginConfig config);
  ~LoginMachine();
  LoginMachine(const LoginMachine&) = delete;
  LoginMachine& operator=(const LoginMachine&) = delete;

  // The first Login Request. Fails only on an unusable config (e.g. CHAP
  // without a username).
  absl::StatusOr<LoginRequestPdu> Start();
  // Consumes the target's answer to the last request.
  absl::StatusOr<LoginStep> OnResponse(const LoginResponse& response);

 private:
  class Impl;
  SessionType config_session_type_;
  std::unique_ptr<Impl> impl_;
};

// "Target Error: Service Unavailable" style text and the iscsiadm exit code for
// a login status class/detail pair; the Status from OnResponse already uses
// these.
absl::Status LoginStatusToError(uint8_t status_class, uint8_t status_detail,
                                absl::string_view target_name);

}  // namespace kiscsi

#endif  // KISCSI_SRC_LOGIN_LOGIN_MACHINE_H_
