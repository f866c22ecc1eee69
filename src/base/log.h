// Minimal leveled logging to stderr (the journal picks it up under systemd).
//
//   KISCSI_LOG(kInfo) << "session " << sid << " logged in";
//
// Debian's Abseil has no absl::log, hence this. Lines below the threshold set
// by SetLogLevel cost one comparison. Never stream a CHAP secret: there is no
// filter behind this. Tests can take the lines instead (SetLogSinkForTesting)
// to count what a user would read.
//
// Lines a peer can trigger at will (a malformed request) go through a
// LogRateLimiter, so that a flood costs a few lines, not the journal:
//
//   if (limiter.Allow(MonotonicNow())) {
//     KISCSI_LOG(kWarning) << "bad request" << limiter.SuppressedNote();
//   }
#ifndef KISCSI_SRC_BASE_LOG_H_
#define KISCSI_SRC_BASE_LOG_H_

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace kiscsi {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// A prefix for every line, e.g. the program name ("kiscsiadm: ").
void SetLogPrefix(const char* prefix);

// Receives every line that passes the threshold, as it would be written
// (prefix and severity included, no newline), instead of stderr; nullptr
// restores stderr. Not synchronized: set it while no other thread logs.
using LogSink = std::function<void(LogLevel level, std::string_view line)>;
void SetLogSinkForTesting(LogSink sink);

// Lets at most `burst` lines through per `interval` (counted from the first
// line of each interval) and counts the ones it holds back.
class LogRateLimiter {
 public:
  LogRateLimiter(int burst, absl::Duration interval)
      : burst_(burst), interval_(interval) {}

  // Whether a line may be logged at `now` (a MonotonicNow() reading); if
  // not, the line counts as suppressed.
  bool Allow(absl::Time now);
  // The lines held back since the last note was taken, as " (K similar
  // messages suppressed)", or "" if none; resets the count.
  std::string SuppressedNote();
  uint64_t suppressed() const { return suppressed_; }

 private:
  int burst_;
  absl::Duration interval_;
  absl::Time window_start_ = absl::InfinitePast();
  int in_window_ = 0;
  uint64_t suppressed_ = 0;
};

class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  template <typename T>
  LogLine& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace kiscsi

#define KISCSI_LOG(level)                                    \
  if (::kiscsi::LogLevel::level < ::kiscsi::GetLogLevel()) { \
  } else                                                     \
    ::kiscsi::LogLine(::kiscsi::LogLevel::level)

#endif  // KISCSI_SRC_BASE_LOG_H_
