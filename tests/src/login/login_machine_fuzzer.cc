// Feeds arbitrary Login Responses (header bits, status and data segment) to a
// LoginMachine after Start(); every input must end in a step or a clean error,
// never a crash or a hang.
//
// Input: one selector byte (session type and authentication), then records of
//   flags (T, C, CSG, NSG, corrupt ITT, TSIH), status class, status detail,
//   16-bit data length, data.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "src/login/login_machine.h"

namespace {

kiscsi::LoginConfig ConfigFor(uint8_t selector) {
  kiscsi::LoginConfig config;
  config.initiator_name = "iqn.2005-03.org.kiscsi:fuzz";
  config.isid = {0x80, 0, 0, 0, 0, 1};
  config.itt = 7;
  if ((selector & 1) != 0) {
    config.session_type = kiscsi::SessionType::kDiscovery;
  } else {
    config.target_name = "iqn.2003-01.org.example:fuzz";
  }
  if ((selector & 2) != 0) {
    config.auth.chap = true;
    config.auth.username = "user";
    config.auth.password = "initiator-secret";
    config.auth.algorithms = {kiscsi::ChapAlgorithm::kMd5,
                              kiscsi::ChapAlgorithm::kSha256};
    if ((selector & 4) != 0) {
      config.auth.username_in = "target";
      config.auth.password_in = "target-secret";
    }
  }
  if ((selector & 8) != 0) {
    config.operational.header_digest = kiscsi::DigestPreference::kCrc32cOrNone;
  }
  if ((selector & 16) != 0) config.tsih = 0x1234;
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const kiscsi::LoginConfig config = ConfigFor(data[0]);
  kiscsi::LoginMachine machine(config);
  if (!machine.Start().ok()) return 0;
  size_t pos = 1;
  uint32_t statsn = 1;
  while (pos + 5 <= size) {
    const uint8_t flags = data[pos];
    kiscsi::LoginResponse response;
    response.transit = (flags & 0x01) != 0;
    response.cont = (flags & 0x02) != 0;
    response.csg = static_cast<kiscsi::LoginStage>((flags >> 2) & 3);
    response.nsg = static_cast<kiscsi::LoginStage>((flags >> 4) & 3);
    response.isid = config.isid;
    response.itt = (flags & 0x40) != 0 ? config.itt + 1 : config.itt;
    response.tsih = (flags & 0x80) != 0 ? 0x1234 : 0;
    response.status_class = data[pos + 1];
    response.status_detail = data[pos + 2];
    size_t length = (size_t{data[pos + 3]} << 8) | data[pos + 4];
    pos += 5;
    if (length > size - pos) length = size - pos;
    response.data.assign(data + pos, data + pos + length);
    pos += length;
    response.statsn = statsn++;
    auto step = machine.OnResponse(response);
    if (!step.ok() || step->kind != kiscsi::LoginStep::kSend) break;
  }
  return 0;
}
