// A named statistics counter: one value of a connection's GET_STATS answer
// (netlink/), carried to the CLI in a Stats reply (src/ipc/) and printed by
// `kiscsiadm -m session -s`. It lives in base because both the netlink codec
// and the IPC codec use it and neither may depend on the other.
//
// This header owns the type only; the encodings (struct iscsi_stats, the IPC
// session_stats record) belong to their codecs.
#ifndef KISCSI_SRC_BASE_STAT_COUNTER_H_
#define KISCSI_SRC_BASE_STAT_COUNTER_H_

#include <cstdint>
#include <string>

namespace kiscsi {

// A counter named as the kernel names it (e.g. "txdata_octets",
// "tx_sendpage_failures"). Over IPC the name is 1..255 bytes without NUL.
struct StatCounter {
  std::string name;
  uint64_t value = 0;
  bool operator==(const StatCounter&) const = default;
};

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_STAT_COUNTER_H_
