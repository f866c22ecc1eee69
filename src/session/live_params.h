// The one mapping from a node record's settings to the kernel's SET_PARAMs
// that may change on a live session (the timeouts: replacement_timeout, task
// management timeouts, NOP-Out interval and timeout), and the one rule for a
// kernel that lacks a parameter.
//
// A login sets them before the login PDUs (session_setup.h); the daemon sets
// them again on a session it adopts or whose record changed, without a
// re-login. Both go through ApplyTimeoutParams, so they set the same
// parameters and treat a missing one alike. This module only talks to the
// kernel through IscsiKernel; it reads no records and decides no policy.
#ifndef KISCSI_SRC_SESSION_LIVE_PARAMS_H_
#define KISCSI_SRC_SESSION_LIVE_PARAMS_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "netlink/iscsi_kernel.h"
#include "src/session/session_spec.h"

namespace kiscsi {

// SET_PARAM on the connection; a parameter this kernel or transport does not
// have (-ENOSYS, -EOPNOTSUPP: Unimplemented) is skipped with a debug line and
// counts as success. Other errors are returned as they are.
absl::Status SetKernelParam(IscsiKernel& kernel, uint32_t sid, uint32_t cid,
                            IscsiParam param, std::string_view value);

// SESS_RECOVERY_TMO, ABORT_TMO, LU_RESET_TMO, TGT_RESET_TMO, PING_TMO and
// RECV_TMO from `timeouts`, in that order, through SetKernelParam. Stops at
// and returns the first error that is not a missing parameter.
absl::Status ApplyTimeoutParams(IscsiKernel& kernel, uint32_t sid, uint32_t cid,
                                const SessionTimeouts& timeouts);

}  // namespace kiscsi

#endif  // KISCSI_SRC_SESSION_LIVE_PARAMS_H_
