// The gateway's time sources behind one interface, so that rate limits, replica ejection and
// token expiry are tested on an injected clock instead of by waiting.
//
// Thread safety: implementations are called from any thread.
#pragma once

#include <cstdint>

namespace medscribe::gateway {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds since an arbitrary epoch (limits, ejection, refresh intervals).
  virtual int64_t SteadyMs() const = 0;
  // Seconds since the Unix epoch (token times).
  virtual int64_t UnixSeconds() const = 0;
  double SteadySeconds() const { return static_cast<double>(SteadyMs()) / 1000.0; }
};

// std::chrono's steady and system clocks. The object lives for the whole process.
const Clock& SystemClock();

}  // namespace medscribe::gateway
