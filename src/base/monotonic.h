// CLOCK_MONOTONIC as an absl::Time, for deadlines and elapsed times (only
// differences between its values are meaningful).
//
// Use it rather than absl::Now(): besides following the wall clock's jumps,
// absl::Now() calibrates itself against the CPU's cycle counter on its first
// call, looping over clock_gettime until a reading is fast enough; where
// clock_gettime is a real system call (no vDSO clock, as under emulation)
// that costs a short-lived program tens of milliseconds.
#ifndef KISCSI_SRC_BASE_MONOTONIC_H_
#define KISCSI_SRC_BASE_MONOTONIC_H_

#include "absl/time/time.h"

namespace kiscsi {

absl::Time MonotonicNow();

}  // namespace kiscsi

#endif  // KISCSI_SRC_BASE_MONOTONIC_H_
