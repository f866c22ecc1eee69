// Connection error codes of CONN_ERROR events (ISCSI_ERR_*, 1001..1022) in
// words. ConnErrorName() itself is declared in netlink/iscsi_kernel.h; this
// header adds a hint at likely causes for the codes an operator meets most.
#ifndef KISCSI_NETLINK_CONN_ERROR_H_
#define KISCSI_NETLINK_CONN_ERROR_H_

#include <cstdint>
#include <string>

#include "netlink/iscsi_kernel.h"

namespace kiscsi {

// A sentence on what usually causes `error`, for a log line after
// ConnErrorName(); empty when there is nothing more useful to say.
std::string ConnErrorHint(uint32_t error);

}  // namespace kiscsi

#endif  // KISCSI_NETLINK_CONN_ERROR_H_
