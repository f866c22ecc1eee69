#include "src/base/log.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiscsi {
namespace {

LogLevel g_level = LogLevel::kWarning;
const char* g_prefix = "";
LogSink& Sink() {
  static LogSink* sink = new LogSink();
  return *sink;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }
void SetLogPrefix(const char* prefix) { g_prefix = prefix; }
void SetLogSinkForTesting(LogSink sink) { Sink() = std::move(sink); }

bool LogRateLimiter::Allow(absl::Time now) {
  if (now - window_start_ >= interval_) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ < burst_) {
    ++in_window_;
    return true;
  }
  ++suppressed_;
  return false;
}

std::string LogRateLimiter::SuppressedNote() {
  if (suppressed_ == 0) return "";
  const uint64_t count = suppressed_;
  suppressed_ = 0;
  return absl::StrCat(" (", count, " similar message", count == 1 ? "" : "s",
                      " suppressed)");
}

LogLine::~LogLine() {
  const char* severity = level_ == LogLevel::kError     ? "error: "
                         : level_ == LogLevel::kWarning ? "warning: "
                                                        : "";
  std::string line = g_prefix + (severity + stream_.str());
  if (const LogSink& sink = Sink()) {
    sink(level_, line);
    return;
  }
  line += '\n';
  // One write so that lines from concurrent processes do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace kiscsi
