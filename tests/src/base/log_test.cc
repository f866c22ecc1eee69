#include "src/base/log.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kiscsi {
namespace {

TEST(LogRateLimiterTest, BurstPerIntervalThenSuppressed) {
  LogRateLimiter limiter(3, absl::Seconds(1));
  const absl::Time start = absl::UnixEpoch() + absl::Hours(1);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    if (limiter.Allow(start + absl::Microseconds(i))) ++allowed;
  }
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(limiter.suppressed(), 997u);
  // The next interval lets a burst through again; the first line of it
  // carries the count of what was held back.
  EXPECT_TRUE(limiter.Allow(start + absl::Seconds(1)));
  EXPECT_EQ(limiter.SuppressedNote(), " (997 similar messages suppressed)");
  EXPECT_EQ(limiter.SuppressedNote(), "");
  EXPECT_TRUE(limiter.Allow(start + absl::Seconds(1)));
  EXPECT_TRUE(limiter.Allow(start + absl::Seconds(1)));
  EXPECT_FALSE(limiter.Allow(start + absl::Milliseconds(1999)));
  EXPECT_EQ(limiter.SuppressedNote(), " (1 similar message suppressed)");
}

TEST(LogRateLimiterTest, FirstLineIsAllowed) {
  LogRateLimiter limiter(1, absl::Seconds(1));
  EXPECT_TRUE(limiter.Allow(absl::UnixEpoch()));
  EXPECT_FALSE(limiter.Allow(absl::UnixEpoch()));
  EXPECT_EQ(limiter.SuppressedNote(), " (1 similar message suppressed)");
}

TEST(LogSinkTest, TakesTheLinesWithPrefixAndSeverity) {
  std::vector<std::string> lines;
  SetLogSinkForTesting(
      [&lines](LogLevel, std::string_view line) { lines.emplace_back(line); });
  SetLogPrefix("kiscsid: ");
  KISCSI_LOG(kWarning) << "pid " << 42 << ": bad";
  KISCSI_LOG(kDebug) << "below the threshold";
  SetLogPrefix("");
  SetLogSinkForTesting(nullptr);
  EXPECT_EQ(lines, std::vector<std::string>{"kiscsid: warning: pid 42: bad"});
}

}  // namespace
}  // namespace kiscsi
