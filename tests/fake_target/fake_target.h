// An in-process iSCSI target for tests: real PDUs over TCP on 127.0.0.1
// (ephemeral port).
//
// FakeTarget implements the target side of login (security stage with CHAP,
// including mutual CHAP and the SHA-2/SHA-3 digests, and operational
// negotiation with target values), SendTargets discovery, and logout. It parses
// what it receives with PduReader and the Decode* functions and trusts none of
// it. Faults a test can switch on: redirects (including a redirect to itself
// forever), login status errors, a connection closed mid-login, malformed or
// oversized replies, a Rejected Text Request, split SendTargets answers, slow
// answers and unsolicited NOP-Ins. It records what it received for tests to
// assert on.
//
// One thread accepts connections and one thread serves each connection; every
// wait is a poll that also watches a stop event, so the destructor stops and
// joins them promptly.
#ifndef KISCSI_TESTS_FAKE_TARGET_FAKE_TARGET_H_
#define KISCSI_TESTS_FAKE_TARGET_FAKE_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "src/base/unique_fd.h"
#include "src/login/chap.h"
#include "src/protocol/text_codec.h"
#include "src/transport/portal.h"

namespace kiscsi {

struct FakeTargetEntry {
  std::string name;
  // TargetAddress values SendTargets reports, e.g. "127.0.0.1:3260,1"; none:
  // the target is reachable where discovery happened.
  std::vector<std::string> addresses;
};

enum class FakeMalformedReply {
  kNone,
  kBadOpcode,  // a PDU with an opcode no target sends (0x1b)
  kTruncated,  // half a BHS, then the connection closes
};

enum class FakeSendTargetsSplit {
  kNone,          // one Text Response, unless it exceeds the initiator's
                  // MaxRecvDataSegmentLength
  kContinuation,  // pieces of `sendtargets_segment_size` bytes, C=1 and F=0
                  // until the last
  kPerTarget,     // one Text Response per target with F=0, C=0 until the last
};

struct FakeTargetConfig {
  std::vector<FakeTargetEntry> targets{};
  // InitiatorName allowed to log in; empty accepts any (others get 0x0202).
  std::string accepted_initiator{};

  // CHAP, required for every session when set.
  bool require_chap = false;
  std::vector<ChapAlgorithm> chap_algorithms = {ChapAlgorithm::kMd5};
  std::string chap_username{};
  std::string chap_password{};
  // Mutual CHAP: the name and secret the target proves itself with (the
  // initiator's username_in/password_in). Empty: the target refuses to
  // authenticate itself.
  std::string mutual_username{};
  std::string mutual_password{};
  size_t chap_challenge_length = 16;
  bool corrupt_mutual_response =
      false;  // answer the initiator's challenge wrongly

  uint32_t max_recv_data_segment_length = 8192;  // declared by the target

  // Faults, applied to the first Login Request of every connection unless said
  // otherwise.
  std::optional<Portal> redirect_to{};
  bool redirect_to_self = false;  // a redirect loop
  bool redirect_permanent = false;
  uint8_t login_status_class = 0;  // non-zero: fail the login with class/detail
  uint8_t login_status_detail = 0;
  bool close_during_login = false;
  FakeMalformedReply malformed_login_response = FakeMalformedReply::kNone;
  bool reject_login = false;  // answer the Login Request with a Reject PDU
  bool oversized_login_response =
      false;  // over the 8192 bytes allowed during login
  bool oversized_text_response =
      false;                 // over the initiator's MaxRecvDataSegmentLength
  bool reject_text = false;  // Reject every Text Request
  FakeSendTargetsSplit sendtargets_split = FakeSendTargetsSplit::kNone;
  size_t sendtargets_segment_size = 64;
  int answer_delay_ms = 0;  // wait before every PDU the target sends
  bool nop_in_before_answers =
      false;  // an unsolicited NOP-In before each full-feature answer
};

struct FakeTargetRecord {
  int connections = 0;
  int logins = 0;  // reached full feature phase
  int text_requests = 0;
  int continuation_requests =
      0;  // Text Requests that asked for more with our TTT
  int logouts = 0;
  TextPairs login_keys;  // every pair of the latest connection's Login
                         // Requests, in order
  std::optional<ChapAlgorithm> chap_algorithm;  // of the latest CHAP exchange
  bool mutual_chap = false;  // the latest initiator challenged us
};

class FakeTarget {
 public:
  static absl::StatusOr<std::unique_ptr<FakeTarget>> Start(
      FakeTargetConfig config);
  ~FakeTarget();
  FakeTarget(const FakeTarget&) = delete;
  FakeTarget& operator=(const FakeTarget&) = delete;

  Portal portal() const { return {"127.0.0.1", port_}; }
  FakeTargetRecord record() const;

 private:
  class Connection;

  FakeTarget(FakeTargetConfig config, UniqueFd listener, UniqueFd stop,
             uint16_t port);
  void AcceptLoop();

  const FakeTargetConfig config_;
  UniqueFd listener_;
  UniqueFd stop_;  // an eventfd, readable once the target is stopping
  uint16_t port_;
  std::thread acceptor_;

  mutable absl::Mutex mu_;
  FakeTargetRecord record_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kiscsi

#endif  // KISCSI_TESTS_FAKE_TARGET_FAKE_TARGET_H_
