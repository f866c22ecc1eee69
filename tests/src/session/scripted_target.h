// The target side of logins and logouts that travel through the fake kernel:
// install Respond() as FakeIscsiKernel's PDU responder and every Login or
// Logout Request a session sends gets the answer a target would give.
//
// Per connection it runs the security stage (None or CHAP with the chap.h
// digests, mutual CHAP), answers operational keys with the initiator's first
// offer, declares MaxRecvDataSegmentLength and TPGT, and ends with a TSIH.
// Faults: a login status class/detail on the first request, a redirect of
// connections made to one port, and silence (no answer at all).
#ifndef KISCSI_TESTS_SRC_SESSION_SCRIPTED_TARGET_H_
#define KISCSI_TESTS_SRC_SESSION_SCRIPTED_TARGET_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/login/chap.h"
#include "src/transport/portal.h"

namespace kiscsi {

struct ScriptedTargetConfig {
  std::string chap_username;  // non-empty: CHAP required
  std::string chap_password;
  std::string mutual_username;  // the target's name and secret for mutual CHAP
  std::string mutual_password;
  uint8_t status_class = 0;  // non-zero: fail the first request
  uint8_t status_detail = 0;
  // Connections whose peer port is `redirect_port` are redirected to `to`.
  std::optional<uint16_t> redirect_port;
  Portal redirect_to;
  bool silent = false;
  uint32_t first_statsn = 1000;
  uint16_t tpgt = 1;
};

class ScriptedTarget {
 public:
  ScriptedTarget(FakeIscsiKernel& kernel, ScriptedTargetConfig config)
      : kernel_(kernel), config_(std::move(config)) {}

  std::vector<std::vector<uint8_t>> Respond(uint32_t sid, uint32_t cid,
                                            std::vector<uint8_t> pdu);

  // StatSN of the final Login Response sent on (sid, cid).
  uint32_t final_statsn(uint32_t sid, uint32_t cid) {
    return conns_[{sid, cid}].final_statsn;
  }
  int logouts() const { return logouts_; }

 private:
  struct Conn {
    bool started = false;
    uint32_t statsn = 0;
    uint32_t final_statsn = 0;
    bool authenticated = false;
    uint8_t chap_id = 0;
    std::vector<uint8_t> challenge;
    ChapAlgorithm algorithm = ChapAlgorithm::kMd5;
  };

  FakeIscsiKernel& kernel_;
  const ScriptedTargetConfig config_;
  std::map<std::pair<uint32_t, uint32_t>, Conn> conns_;
  int logouts_ = 0;
};

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_SESSION_SCRIPTED_TARGET_H_
