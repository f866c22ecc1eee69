#include "tests/src/session/scripted_target.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/protocol/pdu.h"
#include "src/protocol/text_codec.h"
#include "src/session/kernel_pdu.h"

namespace kiscsi {
namespace {

constexpr uint16_t kTsih = 0x1234;

std::vector<uint8_t> Bytes(Pdu pdu) {
  pdu.UpdateLengths();
  std::vector<uint8_t> bytes(pdu.bhs.begin(), pdu.bhs.end());
  bytes.insert(bytes.end(), pdu.data.begin(), pdu.data.end());
  return bytes;
}

std::optional<uint16_t> PeerPort(int fd) {
  sockaddr_in peer{};
  socklen_t length = sizeof(peer);
  if (fd < 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0)
    return std::nullopt;
  return ntohs(peer.sin_port);
}

bool IsDeclaration(const std::string& key) {
  return key == "InitiatorName" || key == "InitiatorAlias" ||
         key == "SessionType" || key == "TargetName" ||
         key == "MaxRecvDataSegmentLength";
}

}  // namespace

std::vector<std::vector<uint8_t>> ScriptedTarget::Respond(
    uint32_t sid, uint32_t cid, std::vector<uint8_t> bytes) {
  if (config_.silent) return {};
  absl::StatusOr<Pdu> pdu = PduFromKernel(bytes);
  if (!pdu.ok()) return {};
  Conn& conn = conns_[{sid, cid}];
  if (pdu->opcode() == static_cast<uint8_t>(Opcode::kLogoutRequest)) {
    ++logouts_;
    LogoutResponse response;
    response.statsn = conn.statsn++;
    return {Bytes(Encode(response))};
  }
  absl::StatusOr<LoginRequestPdu> request = DecodeLoginRequest(*pdu);
  if (!request.ok()) return {};
  absl::StatusOr<TextPairs> pairs = DecodeText(request->data);
  if (!pairs.ok()) return {};

  LoginResponse response;
  response.csg = request->csg;
  response.isid = request->isid;
  response.itt = request->itt;
  response.exp_cmdsn = request->cmdsn;
  response.max_cmdsn = request->cmdsn + 32;
  const bool first = FindTextValue(*pairs, "InitiatorName") != nullptr;
  if (first) {
    conn = Conn();
    conn.statsn = config_.first_statsn;
    conn.authenticated = config_.chap_username.empty();
  }
  response.statsn = conn.statsn++;
  const auto fail = [&](uint8_t status_class, uint8_t detail,
                        TextPairs out = {}) {
    response.status_class = status_class;
    response.status_detail = detail;
    response.data = EncodeText(out);
    return std::vector<std::vector<uint8_t>>{Bytes(Encode(response))};
  };
  TextPairs out;
  if (first) {
    if (config_.status_class != 0)
      return fail(config_.status_class, config_.status_detail);
    if (config_.redirect_port.has_value() &&
        PeerPort(kernel_.BoundFd(sid, cid)) == config_.redirect_port) {
      return fail(
          1, 1,
          {{"TargetAddress",
            absl::StrCat(FormatPortal(config_.redirect_to, ':'), ",1")}});
    }
    out.push_back({"TargetPortalGroupTag", absl::StrCat(config_.tpgt)});
  }
  for (const TextPair& pair : *pairs) {
    if (pair.key == "AuthMethod") {
      const bool chap = !config_.chap_username.empty();
      out.push_back({"AuthMethod", chap ? "CHAP" : "None"});
    } else if (pair.key == "CHAP_A") {
      const std::vector<std::string> offers = absl::StrSplit(pair.value, ',');
      int number = 0;
      if (!absl::SimpleAtoi(offers.front(), &number)) return fail(2, 1);
      conn.algorithm = static_cast<ChapAlgorithm>(number);
      conn.chap_id = 7;
      conn.challenge = std::vector<uint8_t>(16, 0x5a);
      out.push_back({"CHAP_A", absl::StrCat(static_cast<int>(conn.algorithm))});
      out.push_back({"CHAP_I", absl::StrCat(conn.chap_id)});
      out.push_back({"CHAP_C", EncodeHexValue(conn.challenge)});
    } else if (pair.key == "CHAP_R") {
      const std::string* name = FindTextValue(*pairs, "CHAP_N");
      absl::StatusOr<std::vector<uint8_t>> got = DecodeBinaryValue(pair.value);
      const std::vector<uint8_t> expected = ChapResponse(
          conn.algorithm, conn.chap_id, config_.chap_password, conn.challenge);
      if (name == nullptr || *name != config_.chap_username || !got.ok() ||
          *got != expected) {
        return fail(2, 1);  // authentication failure
      }
      conn.authenticated = true;
      const std::string* id = FindTextValue(*pairs, "CHAP_I");
      const std::string* challenge = FindTextValue(*pairs, "CHAP_C");
      if (id != nullptr && challenge != nullptr) {
        int id_number = 0;
        if (!absl::SimpleAtoi(*id, &id_number)) return fail(2, 1);
        absl::StatusOr<std::vector<uint8_t>> their =
            DecodeBinaryValue(*challenge);
        if (!their.ok()) return fail(2, 1);
        out.push_back({"CHAP_N", config_.mutual_username});
        out.push_back(
            {"CHAP_R", EncodeHexValue(ChapResponse(
                           conn.algorithm, static_cast<uint8_t>(id_number),
                           config_.mutual_password, *their))});
      }
    } else if (pair.key == "CHAP_N" || pair.key == "CHAP_I" ||
               pair.key == "CHAP_C") {
      continue;
    } else if (!IsDeclaration(pair.key)) {
      const std::vector<std::string> offers = absl::StrSplit(pair.value, ',');
      out.push_back({pair.key, offers.front()});
    }
  }
  if (request->csg == LoginStage::kOperationalNegotiation && !conn.started) {
    out.push_back({"MaxRecvDataSegmentLength", "65536"});
    conn.started = true;
  }
  if (request->transit && conn.authenticated) {
    response.transit = true;
    response.nsg = request->nsg;
  }
  if (response.transit && response.nsg == LoginStage::kFullFeaturePhase) {
    response.tsih = kTsih;
    conn.final_statsn = response.statsn;
  }
  response.data = EncodeText(out);
  return {Bytes(Encode(response))};
}

}  // namespace kiscsi
