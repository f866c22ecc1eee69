// Minimal leveled logging to stderr (the journal picks it up under systemd).
//
//   KISCSI_LOG(kInfo) << "session " << sid << " logged in";
//
// Debian's Abseil has no absl::log, hence this. Lines below the threshold set
// by SetLogLevel cost one comparison. Never stream a CHAP secret: there is no
// filter behind this.
#ifndef KISCSI_SRC_BASE_LOG_H_
#define KISCSI_SRC_BASE_LOG_H_

#include <sstream>

namespace kiscsi {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// A prefix for every line, e.g. the program name ("kiscsiadm: ").
void SetLogPrefix(const char* prefix);

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
