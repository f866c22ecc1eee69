#include "src/base/log.h"

#include <unistd.h>

#include <string>
#include <utility>

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
