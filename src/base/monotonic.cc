#include "src/base/monotonic.h"

#include <time.h>

namespace kiscsi {

absl::Time MonotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::TimeFromTimespec(ts);
}

}  // namespace kiscsi
