// Process-wide logging on top of spdlog.
//
// Logs go to stderr, as text or as one JSON object per line (for log shippers). Contract for every
// caller: log messages never contain PHI (names, identifiers, dates of birth, free text from
// records); log counts, pseudonymous ids, digests and paths chosen by the operator instead.
//
// Example:
//   InitLogging({.level = "info", .json = false});
//   LOG_INFO("wrote {} encounters to {}", n, out_dir);
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/status.h"

namespace medscribe {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
  bool json = false;           // one JSON object per line instead of text
};

// Configures the default logger. Safe to call more than once (the last call wins).
// Returns InvalidArgument for an unknown level.
Status InitLogging(const LogOptions& options);

}  // namespace medscribe

#define LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
