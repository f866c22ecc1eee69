#include "tests/fake_target/fake_target.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/protocol/pdu.h"

namespace kiscsi {
namespace {

constexpr uint16_t kTsih = 0x0101;
constexpr uint32_t kFirstStatSn = 0x1000;
constexpr uint32_t kCommandWindow = 32;
constexpr uint32_t kFirstTtt = 0x100;
// What the fake accepts from the initiator: generous, but bounded.
constexpr uint32_t kReadLimit = 65536;
constexpr uint32_t kLoginDataLimit = 8192;
// Target values for negotiation (RFC 7143 section 13 result functions).
constexpr uint32_t kTargetBurstLength = 262144;
constexpr uint32_t kTargetTime2Wait = 2;
constexpr uint32_t kTargetTime2Retain = 20;

// Login status classes and details (RFC 7143 11.13.5).
constexpr uint8_t kRedirection = 1;
constexpr uint8_t kInitiatorError = 2;
constexpr uint8_t kMiscError = 0x00;
constexpr uint8_t kAuthenticationFailure = 0x01;
constexpr uint8_t kAuthorizationFailure = 0x02;
constexpr uint8_t kNotFound = 0x03;
constexpr uint8_t kMissingParameter = 0x07;
constexpr uint8_t kSessionTypeUnsupported = 0x09;

// Reject reasons (RFC 7143 11.17.1).
constexpr uint8_t kRejectCommandNotSupported = 0x05;
constexpr uint8_t kRejectProtocolError = 0x04;
constexpr uint8_t kRejectInvalidField = 0x09;

std::vector<std::string> SplitList(absl::string_view value) {
  return absl::StrSplit(value, ',');
}

bool Contains(const std::vector<std::string>& list, absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string YesNo(bool value) { return value ? "Yes" : "No"; }

std::optional<bool> ParseYesNo(absl::string_view value) {
  if (value == "Yes") return true;
  if (value == "No") return false;
  return std::nullopt;
}

std::optional<uint32_t> ParseNumber(absl::string_view value) {
  uint32_t number = 0;
  if (!absl::SimpleAtoi(value, &number)) return std::nullopt;
  return number;
}

// CHAP_I: decimal, or a one-byte hex value.
std::optional<uint8_t> ParseChapId(absl::string_view value) {
  if (std::optional<uint32_t> number = ParseNumber(value);
      number && *number <= 255) {
    return static_cast<uint8_t>(*number);
  }
  absl::StatusOr<std::vector<uint8_t>> bytes = DecodeBinaryValue(value);
  if (bytes.ok() && bytes->size() == 1) return (*bytes)[0];
  return std::nullopt;
}

// Valid pairs adding up to at least `size` bytes.
std::vector<uint8_t> FillerText(size_t size) {
  TextPairs pairs;
  size_t total = 0;
  while (total < size) {
    pairs.push_back({"X-Filler", std::string(1000, 'a')});
    total += 1010;
  }
  return EncodeText(pairs);
}

}  // namespace

class FakeTarget::Connection {
 public:
  Connection(FakeTarget& owner, UniqueFd fd)
      : owner_(owner),
        config_(owner.config_),
        fd_(std::move(fd)),
        reader_({.max_data_segment_length = kReadLimit, .digests = {}}) {}

  void Serve() {
    if (Login()) FullFeature();
  }

 private:
  enum class ChapState { kNone, kWantAlgorithm, kWantResponse, kDone };
  struct Piece {
    std::vector<uint8_t> data;
    bool cont = false;
  };

  // Waits for `events` on the connection, or only for the stop event when
  // `events` is 0. False when stopping, on timeout or on a poll error.
  bool Wait(short events, int timeout_ms) {
    pollfd fds[2] = {{owner_.stop_.get(), POLLIN, 0}, {fd_.get(), events, 0}};
    for (;;) {
      const int ready = poll(fds, events == 0 ? 1 : 2, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0 || fds[0].revents != 0) return false;
      return true;
    }
  }

  bool ReadPdu(Pdu& pdu) {
    for (;;) {
      if (std::optional<Pdu> next = reader_.Next()) {
        pdu = *std::move(next);
        return true;
      }
      if (!Wait(POLLIN, -1)) return false;
      uint8_t buffer[4096];
      const ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
      if (n == 0) return false;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return false;
      }
      if (!reader_.Feed(absl::MakeConstSpan(buffer, static_cast<size_t>(n)))
               .ok())
        return false;
    }
  }

  bool WriteBytes(absl::Span<const uint8_t> bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_.get(), bytes.data() + sent,
                             bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        if (!Wait(POLLOUT, -1)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  // The configured delay, cut short (false) if the target is stopping.
  bool Delay() {
    if (config_.answer_delay_ms <= 0) return true;
    pollfd stop = {owner_.stop_.get(), POLLIN, 0};
    const absl::Time until =
        absl::Now() + absl::Milliseconds(config_.answer_delay_ms);
    for (;;) {
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) return true;
      const int ready = poll(&stop, 1,
                             static_cast<int>(absl::ToInt64Milliseconds(
                                 absl::Ceil(left, absl::Milliseconds(1)))));
      if (ready > 0) return false;
    }
  }

  bool Send(Pdu pdu) {
    return Delay() && WriteBytes(SerializePdu(std::move(pdu), digests_));
  }

  LoginResponse ResponseTo(const LoginRequestPdu& request) {
    LoginResponse response;
    response.csg = request.csg;
    response.isid = request.isid;
    response.itt = request.itt;
    response.statsn = statsn_++;
    response.exp_cmdsn = request.cmdsn;
    response.max_cmdsn = request.cmdsn + kCommandWindow;
    return response;
  }

  bool FailLogin(const LoginRequestPdu& request, uint8_t status_class,
                 uint8_t status_detail, TextPairs pairs = {}) {
    LoginResponse response = ResponseTo(request);
    response.status_class = status_class;
    response.status_detail = status_detail;
    response.data = EncodeText(pairs);
    Send(Encode(response));
    return false;
  }

  // Faults and checks on the first Login Request. nullopt: carry on; otherwise
  // the login ends.
  std::optional<bool> FirstRequest(const LoginRequestPdu& request,
                                   const TextPairs& pairs) {
    if (config_.close_during_login) return false;
    if (config_.malformed_login_response != FakeMalformedReply::kNone) {
      Pdu pdu = Encode(ResponseTo(request));
      if (config_.malformed_login_response == FakeMalformedReply::kBadOpcode) {
        pdu.bhs[0] = 0x1b;
        Send(std::move(pdu));
      } else if (Delay()) {
        const std::vector<uint8_t> bytes = SerializePdu(std::move(pdu));
        WriteBytes(absl::MakeConstSpan(bytes).subspan(0, kBhsSize / 2));
      }
      return false;
    }
    if (config_.reject_login) {
      SendReject(Encode(request), kRejectProtocolError);
      return false;
    }
    if (config_.oversized_login_response) {
      LoginResponse response = ResponseTo(request);
      response.data = FillerText(2 * kLoginDataLimit);
      Send(Encode(response));
      return false;
    }
    if (config_.login_status_class != 0) {
      return FailLogin(request, config_.login_status_class,
                       config_.login_status_detail);
    }
    const std::string* initiator = FindTextValue(pairs, "InitiatorName");
    if (initiator == nullptr)
      return FailLogin(request, kInitiatorError, kMissingParameter);
    if (!config_.accepted_initiator.empty() &&
        *initiator != config_.accepted_initiator) {
      return FailLogin(request, kInitiatorError, kAuthorizationFailure);
    }
    const std::string* session_type = FindTextValue(pairs, "SessionType");
    if (session_type != nullptr && *session_type != "Normal" &&
        *session_type != "Discovery") {
      return FailLogin(request, kInitiatorError, kSessionTypeUnsupported);
    }
    discovery_ = session_type != nullptr && *session_type == "Discovery";
    if (config_.redirect_to.has_value() || config_.redirect_to_self) {
      const Portal to =
          config_.redirect_to_self ? owner_.portal() : *config_.redirect_to;
      return FailLogin(
          request, kRedirection, config_.redirect_permanent ? 0x02 : 0x01,
          {{"TargetAddress", absl::StrCat(FormatPortal(to, ':'), ",1")}});
    }
    if (!discovery_) {
      const std::string* target = FindTextValue(pairs, "TargetName");
      if (target == nullptr)
        return FailLogin(request, kInitiatorError, kMissingParameter);
      const bool known = std::any_of(
          config_.targets.begin(), config_.targets.end(),
          [&](const FakeTargetEntry& entry) { return entry.name == *target; });
      if (!known) return FailLogin(request, kInitiatorError, kNotFound);
    }
    return std::nullopt;
  }

  // The answer to an operational key, or nullopt for a declaration that needs
  // none.
  std::optional<std::string> Negotiate(const std::string& key,
                                       const std::string& value) {
    if (key == "InitiatorName" || key == "InitiatorAlias" ||
        key == "SessionType" || key == "TargetName") {
      return std::nullopt;
    }
    if (key == "HeaderDigest" || key == "DataDigest") {
      for (const std::string& offer : SplitList(value)) {
        if (offer != "CRC32C" && offer != "None") continue;
        (key == "HeaderDigest" ? negotiated_digests_.header
                               : negotiated_digests_.data) = offer == "CRC32C";
        return offer;
      }
      return "Reject";
    }
    if (key == "InitialR2T" || key == "ImmediateData" ||
        key == "DataPDUInOrder" || key == "DataSequenceInOrder" ||
        key == "IFMarker" || key == "OFMarker") {
      const std::optional<bool> offer = ParseYesNo(value);
      if (!offer.has_value()) return "Reject";
      // Target values: InitialR2T=No and ImmediateData=Yes (so the initiator's
      // wins), in-order delivery Yes (OR), markers No (AND).
      if (key == "DataPDUInOrder" || key == "DataSequenceInOrder")
        return YesNo(true);
      if (key == "IFMarker" || key == "OFMarker") return YesNo(false);
      return YesNo(*offer);
    }
    const std::optional<uint32_t> number = ParseNumber(value);
    if (key == "MaxRecvDataSegmentLength") {
      if (!number.has_value() || *number < 512 ||
          *number > kMaxDataSegmentLength) {
        return "Reject";
      }
      initiator_mrdsl_ = *number;
      return std::nullopt;
    }
    std::optional<uint32_t> result;
    if (key == "FirstBurstLength" || key == "MaxBurstLength") {
      if (number) result = std::min(*number, kTargetBurstLength);
    } else if (key == "DefaultTime2Wait") {
      if (number) result = std::max(*number, kTargetTime2Wait);
    } else if (key == "DefaultTime2Retain") {
      if (number) result = std::min(*number, kTargetTime2Retain);
    } else if (key == "MaxOutstandingR2T" || key == "MaxConnections") {
      if (number) result = std::min(*number, 1u);
    } else if (key == "ErrorRecoveryLevel") {
      if (number) result = 0;
    } else {
      return "NotUnderstood";
    }
    if (!result.has_value()) return "Reject";
    return absl::StrCat(*result);
  }

  // Handles the security keys of one request. False: authentication failed.
  bool Security(const TextPairs& pairs, TextPairs& out) {
    const std::string* method = FindTextValue(pairs, "AuthMethod");
    if (method != nullptr) {
      const std::vector<std::string> offers = SplitList(*method);
      if (config_.require_chap) {
        if (!Contains(offers, "CHAP")) return false;
        out.push_back({"AuthMethod", "CHAP"});
        chap_ = ChapState::kWantAlgorithm;
      } else {
        if (!Contains(offers, "None")) return false;
        out.push_back({"AuthMethod", "None"});
      }
    }
    if (const std::string* algorithms = FindTextValue(pairs, "CHAP_A")) {
      if (chap_ != ChapState::kWantAlgorithm) return false;
      for (const std::string& offer : SplitList(*algorithms)) {
        const std::optional<uint32_t> number = ParseNumber(offer);
        if (!number.has_value()) continue;
        const std::optional<ChapAlgorithm> algorithm =
            ChapAlgorithmFromNumber(static_cast<int>(*number));
        if (algorithm.has_value() &&
            std::find(config_.chap_algorithms.begin(),
                      config_.chap_algorithms.end(),
                      *algorithm) != config_.chap_algorithms.end()) {
          algorithm_ = *algorithm;
          break;
        }
      }
      if (!algorithm_.has_value()) return false;
      absl::StatusOr<std::vector<uint8_t>> id = RandomBytes(1);
      absl::StatusOr<std::vector<uint8_t>> challenge =
          RandomBytes(config_.chap_challenge_length);
      if (!id.ok() || !challenge.ok()) return false;
      chap_id_ = (*id)[0];
      challenge_ = *std::move(challenge);
      out.push_back({"CHAP_A", absl::StrCat(static_cast<int>(*algorithm_))});
      out.push_back({"CHAP_I", absl::StrCat(chap_id_)});
      out.push_back({"CHAP_C", EncodeHexValue(challenge_)});
      chap_ = ChapState::kWantResponse;
      absl::MutexLock lock(&owner_.mu_);
      owner_.record_.chap_algorithm = algorithm_;
      owner_.record_.mutual_chap = false;
    }
    const std::string* response = FindTextValue(pairs, "CHAP_R");
    if (response == nullptr) return true;
    if (chap_ != ChapState::kWantResponse) return false;
    const std::string* name = FindTextValue(pairs, "CHAP_N");
    if (name == nullptr || *name != config_.chap_username) return false;
    absl::StatusOr<std::vector<uint8_t>> got = DecodeBinaryValue(*response);
    const std::vector<uint8_t> expected =
        ChapResponse(*algorithm_, chap_id_, config_.chap_password, challenge_);
    if (!got.ok() || !ConstantTimeEqual(*got, expected)) return false;

    const std::string* their_id = FindTextValue(pairs, "CHAP_I");
    const std::string* their_challenge = FindTextValue(pairs, "CHAP_C");
    if (their_id != nullptr || their_challenge != nullptr) {
      if (their_id == nullptr || their_challenge == nullptr ||
          config_.mutual_username.empty()) {
        return false;
      }
      const std::optional<uint8_t> id = ParseChapId(*their_id);
      absl::StatusOr<std::vector<uint8_t>> challenge =
          DecodeBinaryValue(*their_challenge);
      // A challenge equal to ours would make us answer our own question
      // (reflection).
      if (!id.has_value() || !challenge.ok() || challenge->empty() ||
          *challenge == challenge_) {
        return false;
      }
      std::vector<uint8_t> answer =
          ChapResponse(*algorithm_, *id, config_.mutual_password, *challenge);
      if (config_.corrupt_mutual_response) answer[0] ^= 0xff;
      out.push_back({"CHAP_N", config_.mutual_username});
      out.push_back({"CHAP_R", EncodeHexValue(answer)});
      absl::MutexLock lock(&owner_.mu_);
      owner_.record_.mutual_chap = true;
    }
    chap_ = ChapState::kDone;
    authenticated_ = true;
    return true;
  }

  // Runs the login; true once in full feature phase.
  bool Login() {
    TextAssembler text;
    bool first = true;
    authenticated_ = !config_.require_chap;
    for (;;) {
      Pdu pdu;
      if (!ReadPdu(pdu) ||
          pdu.opcode() != static_cast<uint8_t>(Opcode::kLoginRequest)) {
        return false;
      }
      absl::StatusOr<LoginRequestPdu> request = DecodeLoginRequest(pdu);
      if (!request.ok()) return false;
      if (!text.Append(request->data, request->cont).ok()) {
        return FailLogin(*request, kInitiatorError, kMiscError);
      }
      if (request->cont) {
        if (!Send(Encode(ResponseTo(*request)))) return false;
        continue;
      }
      absl::StatusOr<TextPairs> pairs = text.Take();
      if (!pairs.ok()) return FailLogin(*request, kInitiatorError, kMiscError);
      {
        absl::MutexLock lock(&owner_.mu_);
        if (first) owner_.record_.login_keys.clear();
        owner_.record_.login_keys.insert(owner_.record_.login_keys.end(),
                                         pairs->begin(), pairs->end());
      }

      TextPairs out;
      if (first) {
        first = false;
        if (std::optional<bool> end = FirstRequest(*request, *pairs))
          return *end;
        if (!discovery_) out.push_back({"TargetPortalGroupTag", "1"});
      }
      if (request->csg == LoginStage::kSecurityNegotiation) {
        if (!Security(*pairs, out)) {
          return FailLogin(*request, kInitiatorError, kAuthenticationFailure);
        }
      } else if (!authenticated_) {
        return FailLogin(*request, kInitiatorError, kAuthenticationFailure);
      }
      for (const TextPair& pair : *pairs) {
        if (pair.key == "AuthMethod" || pair.key.rfind("CHAP_", 0) == 0)
          continue;
        if (std::optional<std::string> answer =
                Negotiate(pair.key, pair.value)) {
          out.push_back({pair.key, *answer});
        }
      }
      const bool has_mrdsl =
          FindTextValue(*pairs, "MaxRecvDataSegmentLength") != nullptr;
      if (!declared_mrdsl_ &&
          (has_mrdsl || request->csg == LoginStage::kOperationalNegotiation)) {
        out.push_back({"MaxRecvDataSegmentLength",
                       absl::StrCat(config_.max_recv_data_segment_length)});
        declared_mrdsl_ = true;
      }

      LoginResponse response = ResponseTo(*request);
      if (request->transit && authenticated_) {
        response.transit = true;
        response.nsg = request->nsg;
      }
      const bool done =
          response.transit && response.nsg == LoginStage::kFullFeaturePhase;
      if (done) response.tsih = kTsih;
      response.data = EncodeText(out);
      if (done) {
        // Recorded before the answer goes out, so a test sees it once its login
        // returns.
        absl::MutexLock lock(&owner_.mu_);
        ++owner_.record_.logins;
      }
      if (!Send(Encode(response))) return false;
      if (done) {
        digests_ = negotiated_digests_;
        reader_.SetLimits(
            {.max_data_segment_length = kReadLimit, .digests = digests_});
        return true;
      }
    }
  }

  bool MaybeNopIn() {
    if (!config_.nop_in_before_answers) return true;
    NopIn nop;
    nop.statsn = statsn_;  // an unsolicited NOP-In does not advance StatSN
    nop.exp_cmdsn = exp_cmdsn_;
    nop.max_cmdsn = exp_cmdsn_ + kCommandWindow;
    return Send(Encode(nop));
  }

  bool SendReject(const Pdu& rejected, uint8_t reason) {
    Reject reject;
    reject.reason = reason;
    reject.statsn = statsn_++;
    reject.exp_cmdsn = exp_cmdsn_;
    reject.max_cmdsn = exp_cmdsn_ + kCommandWindow;
    reject.rejected_bhs = rejected.bhs;
    return Send(Encode(reject));
  }

  TextPairs SendTargetsPairs(const FakeTargetEntry& entry) {
    TextPairs pairs = {{"TargetName", entry.name}};
    for (const std::string& address : entry.addresses)
      pairs.push_back({"TargetAddress", address});
    return pairs;
  }

  std::deque<Piece> SendTargetsAnswer(const std::string& which) {
    std::vector<const FakeTargetEntry*> entries;
    for (const FakeTargetEntry& entry : config_.targets) {
      if (which == "All" || which == entry.name) entries.push_back(&entry);
    }
    std::deque<Piece> pieces;
    if (config_.sendtargets_split == FakeSendTargetsSplit::kPerTarget) {
      for (const FakeTargetEntry* entry : entries) {
        pieces.push_back({EncodeText(SendTargetsPairs(*entry)), false});
      }
      if (pieces.empty()) pieces.push_back({});
      return pieces;
    }
    TextPairs all;
    for (const FakeTargetEntry* entry : entries) {
      TextPairs pairs = SendTargetsPairs(*entry);
      all.insert(all.end(), pairs.begin(), pairs.end());
    }
    size_t segment = initiator_mrdsl_;
    if (config_.sendtargets_split == FakeSendTargetsSplit::kContinuation) {
      segment = std::min(segment, config_.sendtargets_segment_size);
    }
    std::vector<std::vector<uint8_t>> segments =
        SplitTextSegments(EncodeText(all), segment);
    for (size_t i = 0; i < segments.size(); ++i) {
      pieces.push_back({std::move(segments[i]), i + 1 < segments.size()});
    }
    return pieces;
  }

  bool SendNextPiece(const TextRequest& request) {
    Piece piece = std::move(pending_.front());
    pending_.pop_front();
    TextResponse response;
    response.itt = request.itt;
    response.statsn = statsn_++;
    response.exp_cmdsn = exp_cmdsn_;
    response.max_cmdsn = exp_cmdsn_ + kCommandWindow;
    response.data = std::move(piece.data);
    if (pending_.empty()) {
      response.final = true;
      response.cont = false;
      response.ttt = kReservedTag;
    } else {
      response.final = false;
      response.cont = piece.cont;
      response.ttt = pending_ttt_ = next_ttt_++;
    }
    return MaybeNopIn() && Send(Encode(response));
  }

  bool AnswerText(const Pdu& pdu) {
    absl::StatusOr<TextRequest> request = DecodeTextRequest(pdu);
    if (!request.ok()) return SendReject(pdu, kRejectProtocolError);
    if (!request->immediate) exp_cmdsn_ = request->cmdsn + 1;
    {
      absl::MutexLock lock(&owner_.mu_);
      ++owner_.record_.text_requests;
    }
    if (config_.reject_text) return SendReject(pdu, kRejectProtocolError);
    if (request->ttt != kReservedTag) {
      if (pending_.empty() || request->ttt != pending_ttt_) {
        return SendReject(pdu, kRejectInvalidField);
      }
      {
        absl::MutexLock lock(&owner_.mu_);
        ++owner_.record_.continuation_requests;
      }
      return SendNextPiece(*request);
    }
    if (request->cont) return SendReject(pdu, kRejectProtocolError);
    absl::StatusOr<TextPairs> pairs = DecodeText(request->data);
    if (!pairs.ok()) return SendReject(pdu, kRejectProtocolError);
    const std::string* which = FindTextValue(*pairs, "SendTargets");
    if (config_.oversized_text_response) {
      TextResponse response;
      response.itt = request->itt;
      response.statsn = statsn_++;
      response.exp_cmdsn = exp_cmdsn_;
      response.max_cmdsn = exp_cmdsn_ + kCommandWindow;
      response.data = FillerText(initiator_mrdsl_ + 4096);
      return Send(Encode(response));
    }
    pending_ = which != nullptr && discovery_ ? SendTargetsAnswer(*which)
                                              : std::deque<Piece>{Piece{}};
    return SendNextPiece(*request);
  }

  void FullFeature() {
    for (;;) {
      Pdu pdu;
      if (!ReadPdu(pdu)) return;
      switch (static_cast<Opcode>(pdu.opcode())) {
        case Opcode::kTextRequest:
          if (!AnswerText(pdu)) return;
          break;
        case Opcode::kLogoutRequest: {
          absl::StatusOr<LogoutRequestPdu> request = DecodeLogoutRequest(pdu);
          if (!request.ok()) {
            if (!SendReject(pdu, kRejectProtocolError)) return;
            break;
          }
          {
            absl::MutexLock lock(&owner_.mu_);
            ++owner_.record_.logouts;
          }
          LogoutResponse response;
          response.itt = request->itt;
          response.statsn = statsn_++;
          response.exp_cmdsn = exp_cmdsn_;
          response.max_cmdsn = exp_cmdsn_ + kCommandWindow;
          if (MaybeNopIn()) Send(Encode(response));
          return;
        }
        default:
          if (!SendReject(pdu, kRejectCommandNotSupported)) return;
      }
    }
  }

  FakeTarget& owner_;
  const FakeTargetConfig& config_;
  UniqueFd fd_;
  PduReader reader_;
  DigestOptions digests_;
  DigestOptions negotiated_digests_;
  uint32_t statsn_ = kFirstStatSn;
  uint32_t exp_cmdsn_ = 0;
  uint32_t initiator_mrdsl_ = kLoginDataLimit;
  bool discovery_ = false;
  bool declared_mrdsl_ = false;
  bool authenticated_ = false;
  ChapState chap_ = ChapState::kNone;
  std::optional<ChapAlgorithm> algorithm_;
  uint8_t chap_id_ = 0;
  std::vector<uint8_t> challenge_;
  std::deque<Piece> pending_;  // SendTargets pieces not yet sent
  uint32_t pending_ttt_ = kReservedTag;
  uint32_t next_ttt_ = kFirstTtt;
};

absl::StatusOr<std::unique_ptr<FakeTarget>> FakeTarget::Start(
    FakeTargetConfig config) {
  UniqueFd listener(
      socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return absl::ErrnoToStatus(errno, "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(listener.get(), reinterpret_cast<const sockaddr*>(&address),
           sizeof(address)) != 0) {
    return absl::ErrnoToStatus(errno, "bind 127.0.0.1");
  }
  if (listen(listener.get(), 16) != 0)
    return absl::ErrnoToStatus(errno, "listen");
  socklen_t length = sizeof(address);
  if (getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address),
                  &length) != 0) {
    return absl::ErrnoToStatus(errno, "getsockname");
  }
  UniqueFd stop(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) return absl::ErrnoToStatus(errno, "eventfd");
  std::unique_ptr<FakeTarget> target(
      new FakeTarget(std::move(config), std::move(listener), std::move(stop),
                     ntohs(address.sin_port)));
  target->acceptor_ = std::thread([raw = target.get()] { raw->AcceptLoop(); });
  return target;
}

FakeTarget::FakeTarget(FakeTargetConfig config, UniqueFd listener,
                       UniqueFd stop, uint16_t port)
    : config_(std::move(config)),
      listener_(std::move(listener)),
      stop_(std::move(stop)),
      port_(port) {}

FakeTarget::~FakeTarget() {
  const uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of a bad descriptor.
  [[maybe_unused]] const ssize_t written =
      write(stop_.get(), &one, sizeof(one));
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&mu_);
    workers.swap(workers_);
  }
  for (std::thread& worker : workers) worker.join();
}

FakeTargetRecord FakeTarget::record() const {
  absl::MutexLock lock(&mu_);
  return record_;
}

void FakeTarget::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if ((fds[1].revents & POLLIN) == 0) continue;
    UniqueFd fd(accept4(listener_.get(), nullptr, nullptr,
                        SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) continue;
    absl::MutexLock lock(&mu_);
    ++record_.connections;
    workers_.emplace_back([connection = std::make_shared<Connection>(
                               *this, std::move(fd))] { connection->Serve(); });
  }
}

}  // namespace kiscsi
