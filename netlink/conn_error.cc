#include "netlink/conn_error.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace kiscsi {
namespace {

constexpr uint32_t kFirstConnError = 1001;
constexpr const char* kConnErrorNames[] = {
    "DataSN error",                      // 1001
    "data offset error",                 // 1002
    "MaxCmdSN error",                    // 1003
    "ExpCmdSN error",                    // 1004
    "bad opcode",                        // 1005
    "data length error",                 // 1006
    "AHS length error",                  // 1007
    "protocol error",                    // 1008
    "LUN error",                         // 1009
    "bad ITT",                           // 1010
    "conn failed",                       // 1011
    "R2TSN error",                       // 1012
    "session failed",                    // 1013
    "header digest error",               // 1014
    "data digest error",                 // 1015
    "parameter not found",               // 1016
    "no SCSI command",                   // 1017
    "invalid host",                      // 1018
    "transmit failed",                   // 1019
    "TCP connection closed",             // 1020
    "SCSI error handler session reset",  // 1021
    "NOP-Out timed out",                 // 1022
};
constexpr uint32_t kConnErrorCount =
    sizeof(kConnErrorNames) / sizeof(kConnErrorNames[0]);
static_assert(kFirstConnError + kConnErrorCount - 1 == kConnErrNopTimedOut);

}  // namespace

std::string ConnErrorName(uint32_t error) {
  if (error < kFirstConnError || error - kFirstConnError >= kConnErrorCount) {
    return absl::StrCat("error ", error);
  }
  return absl::StrCat(kConnErrorNames[error - kFirstConnError], " (", error,
                      ")");
}

std::string ConnErrorHint(uint32_t error) {
  switch (error) {
    case kConnErrConnFailed:
      return "likely causes: NOP-Outs unanswered on a busy link, an MTU "
             "mismatch dropping large frames, a socket error, or a control PDU "
             "the kernel could not deliver to the daemon (event socket full)";
    case kConnErrTcpConnClose:
      return "the target closed the TCP connection (target restart, ACL "
             "change, or the target dropped this session for another login)";
    case kConnErrNopTimedOut:
      return "the target did not answer a NOP-Out within the ping timeout: "
             "the network path is down or congested";
    case 1014:
    case 1015:
      return "a digest mismatch: data was corrupted on the path (check NIC "
             "offloads and cabling)";
    default:
      return "";
  }
}

}  // namespace kiscsi
