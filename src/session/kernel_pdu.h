// PDUs as the kernel carries them for userspace: SEND_PDU takes a BHS and a
// data segment, RECV_PDU events hand back the BHS followed by the data.
#ifndef KISCSI_SRC_SESSION_KERNEL_PDU_H_
#define KISCSI_SRC_SESSION_KERNEL_PDU_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "netlink/iscsi_kernel.h"
#include "src/protocol/pdu.h"

namespace kiscsi {

// Splits a RECV_PDU payload into BHS, AHS and data as the BHS declares them
// (padding after the data is allowed). A payload shorter than declared is
// InvalidArgument.
absl::StatusOr<Pdu> PduFromKernel(absl::Span<const uint8_t> bytes);

// SEND_PDU of `pdu` (lengths updated from its vectors first).
absl::Status SendPduThroughKernel(IscsiKernel& kernel, uint32_t sid,
                                  uint32_t cid, Pdu pdu);

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_KERNEL_PDU_H_
