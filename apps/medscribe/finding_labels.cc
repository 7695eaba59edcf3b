#include "finding_labels.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "eval/clinical.h"
#include "eval/labeler.h"
#include "eval/text_metrics.h"

namespace medscribe::cli {

model::FindingTargets ReportFindingLabeler::Targets(const std::string& report) const {
  model::FindingTargets t;
  t.fill(std::numeric_limits<float>::quiet_NaN());
  const eval::Labels l = eval::LabelReport(report);
  const int devices = eval::DevicesOf(report);
  // The side fields, where the report gives a side.
  auto put_side = [](float* f, const std::string& side) {
    if (side.empty()) return;
    f[model::kRight] = side == "right";
    f[model::kLeft] = side == "left";
    f[model::kBilateral] = side == "bilateral";
  };
  auto set = [&](model::FindingKind kind, bool present, int cls) {
    float* f = t.data() + static_cast<int>(kind) * model::kFieldsPerKind;
    f[model::kPresent] = present ? 1.f : 0.f;
    if (!present || cls < 0) return;
    put_side(f, l.side[cls]);
    const std::string& sev = l.severity[cls];
    if (!sev.empty()) {
      f[model::kMild] = sev == "mild";
      f[model::kModerate] = sev == "moderate";
      f[model::kSevere] = sev == "severe";
    }
    const std::string& zone = l.zone[cls];
    if (!zone.empty()) {
      f[model::kUpper] = zone == "upper";
      f[model::kMiddle] = zone == "middle";
      f[model::kLower] = zone == "lower";
    }
  };
  using K = model::FindingKind;
  set(K::kCardiomegaly, l.positive(eval::kCardiomegaly), eval::kCardiomegaly);
  set(K::kPleuralEffusion, l.positive(eval::kPleuralEffusion), eval::kPleuralEffusion);
  const bool consolidation = l.positive(eval::kConsolidation) || l.positive(eval::kPneumonia);
  set(K::kConsolidation, consolidation,
      l.positive(eval::kConsolidation) ? eval::kConsolidation : eval::kPneumonia);
  set(K::kEdema, l.positive(eval::kEdema), eval::kEdema);
  set(K::kPneumothorax, l.positive(eval::kPneumothorax), eval::kPneumothorax);
  const bool lesion = l.positive(eval::kLungLesion);
  set(K::kLesion, lesion, eval::kLungLesion);
  if (lesion) {
    if (const auto mm = eval::LesionSizeMm(report))
      t[static_cast<int>(K::kLesion) * model::kFieldsPerKind + model::kSize] =
          static_cast<float>(model::NormalizeSize(*mm));
  }
  set(K::kAtelectasis, l.positive(eval::kAtelectasis), eval::kAtelectasis);
  const bool fracture = l.positive(eval::kFracture);
  set(K::kFracture, fracture, eval::kFracture);
  if (fracture) {
    // A rib's number places it: posterior ribs 1-4 lie in the upper zone, 5-7 in the middle,
    // 8 and below in the lower.
    const std::vector<std::string> w = eval::Words(report);
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      const bool rib = w[i + 1] == "rib" || (i + 2 < w.size() && w[i + 2] == "rib");
      const int n = std::atoi(w[i].c_str());
      if (!rib || n < 1 || n > 12 || !std::isdigit(static_cast<unsigned char>(w[i][0]))) continue;
      float* f = t.data() + static_cast<int>(K::kFracture) * model::kFieldsPerKind;
      f[model::kUpper] = n <= 4;
      f[model::kMiddle] = n >= 5 && n <= 7;
      f[model::kLower] = n >= 8;
      break;
    }
  }
  // A device's side, where the sentence that names it gives one ("Left chest wall pacemaker").
  const std::array<std::string, 4> device_side = eval::DeviceSides(report);
  const K device_kind[] = {K::kEndotrachealTube, K::kCentralLine, K::kPacemaker, K::kChestTube};
  for (int d = 0; d < 4; ++d) {
    set(device_kind[d], devices & (1 << d), -1);
    if (devices & (1 << d))
      put_side(t.data() + static_cast<int>(device_kind[d]) * model::kFieldsPerKind,
               device_side[static_cast<size_t>(d)]);
  }
  return t;
}

}  // namespace medscribe::cli
