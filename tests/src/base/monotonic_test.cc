#include "src/base/monotonic.h"

#include <time.h>

#include "gtest/gtest.h"

namespace kiscsi {
namespace {

TEST(MonotonicNowTest, IsClockMonotonic) {
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  const absl::Time now = MonotonicNow();
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &after);
  EXPECT_GE(now, absl::TimeFromTimespec(before));
  EXPECT_LE(now, absl::TimeFromTimespec(after));
}

TEST(MonotonicNowTest, NeverGoesBack) {
  absl::Time last = MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const absl::Time now = MonotonicNow();
    EXPECT_GE(now, last);
    last = now;
  }
}

}  // namespace
}  // namespace kiscsi
