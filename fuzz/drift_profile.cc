// Drift profiles come from files (a dataset's manifest, a model's run.json, the gateway's window
// files) that may have been damaged or replaced: ProfileFromJson, WindowFromJson and
// ProfileBuilder::MergeState must answer every input with a Status, and what they accept must
// hold no negative count and compare (PSI, JS) to finite numbers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "monitor/live.h"

using namespace medscribe::monitor;

namespace {
void Check(const Profile& p) {
  for (const auto& [f, h] : p.features)
    for (const auto& [bin, n] : h.counts)
      if (!(n >= 0)) __builtin_trap();
  for (const FeatureDrift& d : Compare(p, p, Thresholds{}))
    if (!std::isfinite(d.psi) || !std::isfinite(d.js)) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto p = ProfileFromJson(text); p.ok()) Check(*p);
  if (auto w = WindowFromJson(text); w.ok()) {
    Check(w->profile);
    (void)w->edit_rate();
  }
  ProfileBuilder b;
  if (b.MergeState(text).ok()) Check(b.Build());
  return 0;
}
