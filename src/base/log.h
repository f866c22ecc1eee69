// Minimal leveled logging to stderr (the journal picks it up under systemd).
//
//   KISCSI_LOG(kInfo) << "session " << sid << " logged in";
//
// Debian's Abseil has no absl::log, hence this. Lines below the threshold set
// by SetLogLevel cost one comparison. Never stream a CHAP secret: there is no
// filter behind this. Tests can take the lines instead (SetLogSinkForTesting)
// to count what a user would read.
#ifndef KISCSI_SRC_BASE_LOG_H_
#define KISCSI_SRC_BASE_LOG_H_

#include <functional>
#include <sstream>
#include <string_view>

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
