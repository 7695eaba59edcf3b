#include "monitor/features.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "common/strings.h"
#include "eval/labeler.h"

namespace medscribe::monitor {
namespace {

using Json = nlohmann::json;

const Json* Path(const Json& v, std::initializer_list<const char*> keys) {
  const Json* at = &v;
  for (const char* k : keys) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(k);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string StringAt(const Json& v, std::initializer_list<const char*> keys) {
  const Json* at = Path(v, keys);
  return at && at->is_string() ? at->get<std::string>() : "unknown";
}

// 62 or "62" -> 62; "90+" (Safe Harbor's group for 90 and over) -> 90; NaN otherwise.
double Years(const Json& age) {
  if (age.is_number()) return std::min(age.get<double>(), 90.0);
  if (!age.is_string()) return std::nan("");
  const std::string s = age.get<std::string>();
  char* end = nullptr;
  const double years = std::strtod(s.c_str(), &end);
  return end == s.c_str() ? std::nan("") : std::min(years, 90.0);
}

}  // namespace

bool AddSampleFeatures(std::string_view sample_json, ProfileBuilder& b) {
  const Json j = Json::parse(sample_json, nullptr, false);
  if (!j.is_object()) return false;
  b.AddCategory("department", StringAt(j, {"modalities", "structured", "encounter", "department"}));
  b.AddCategory("encounter_class", StringAt(j, {"modalities", "structured", "encounter", "class"}));
  b.AddCategory("sex", StringAt(j, {"modalities", "structured", "patient", "sex"}));
  if (const Json* age = Path(j, {"modalities", "structured", "patient", "age"}))
    b.AddNumber("age", Years(*age));
  const Json* sources = Path(j, {"modalities", "image", "sources"});
  const Json* first =
      sources && sources->is_array() && !sources->empty() ? &(*sources)[0] : nullptr;
  b.AddCategory("device_model", first ? StringAt(*first, {"device_model"}) : "none");
  b.AddCategory("modality", first ? StringAt(*first, {"modality"}) : "none");
  b.AddCategory("view", first ? StringAt(*first, {"view_position"}) : "none");
  if (const Json* spacing = first ? Path(*first, {"pixel_spacing_mm"}) : nullptr;
      spacing && spacing->is_array() && !spacing->empty() && (*spacing)[0].is_number())
    b.AddNumber("pixel_spacing_mm", (*spacing)[0].get<double>());
  size_t lab_count = 0;
  if (const Json* labs = Path(j, {"modalities", "structured", "labs"}); labs && labs->is_array()) {
    for (const Json& lab : *labs) {
      const Json* code = Path(lab, {"code"});
      const Json* value = Path(lab, {"value"});
      if (!code || !code->is_string() || !value || !value->is_number()) continue;
      b.AddNumber("lab:" + code->get<std::string>(), value->get<double>());
      ++lab_count;
    }
  }
  b.AddNumber("labs_per_encounter", static_cast<double>(lab_count));
  const Json* transcript = Path(j, {"modalities", "speech_transcript"});
  b.AddCategory("dictation",
                transcript && transcript->is_string() && !transcript->get<std::string>().empty()
                    ? "present"
                    : "absent");
  return true;
}

void AddImageFeatures(const float* pixels, size_t n, ProfileBuilder& b) {
  if (n == 0) return;
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < n; ++i) sum += pixels[i];
  const double mean = sum / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) sum2 += (pixels[i] - mean) * (pixels[i] - mean);
  b.AddNumber("image_mean", mean);
  b.AddNumber("image_std", std::sqrt(sum2 / static_cast<double>(n)));
}

void AddReportFeatures(std::string_view report, ProfileBuilder& b) {
  b.AddNumber("report_words", static_cast<double>(SplitWhitespace(report).size()));
  const eval::Labels labels = eval::LabelReport(report);
  for (int c = 0; c < eval::kNumClasses; ++c)
    b.AddCategory(std::string("finding:") + eval::kClassNames[c],
                  labels.positive(c) ? "present" : "absent");
}

}  // namespace medscribe::monitor
