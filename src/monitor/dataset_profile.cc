#include "monitor/dataset_profile.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "model/json.h"
#include "train/data.h"

namespace medscribe::monitor {
namespace {

using model::json::Value;

const Value* Path(const Value& v, std::initializer_list<const char*> keys) {
  const Value* at = &v;
  for (const char* k : keys) {
    at = at->Find(k);
    if (!at) return nullptr;
  }
  return at;
}

std::string StringAt(const Value& v, std::initializer_list<const char*> keys) {
  const Value* at = Path(v, keys);
  return at && at->is_string() ? at->as_string() : "unknown";
}

// "62" -> 62; "90+" (Safe Harbor's group for 90 and over) -> 90; NaN when not a number.
double Years(const std::string& age) {
  char* end = nullptr;
  const double years = std::strtod(age.c_str(), &end);
  return end == age.c_str() ? std::nan("") : std::min(years, 90.0);
}

size_t Words(const std::string& text) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

}  // namespace

StatusOr<Profile> ProfileDataset(const std::string& dir, const std::string& split,
                                 const Profile* reference) {
  ASSIGN_OR_RETURN(const train::SplitSamples samples, train::ReadSplit(dir, split));
  ProfileBuilder b(reference);
  for (const train::RawSample& s : samples.samples) {
    const Value& j = s.sample;
    b.AddCategory("department",
                  StringAt(j, {"modalities", "structured", "encounter", "department"}));
    b.AddCategory("encounter_class",
                  StringAt(j, {"modalities", "structured", "encounter", "class"}));
    b.AddCategory("sex", StringAt(j, {"modalities", "structured", "patient", "sex"}));
    const Value* age = Path(j, {"modalities", "structured", "patient", "age"});
    if (age && (age->is_number() || age->is_string()))
      b.AddNumber("age", age->is_number() ? age->as_double() : Years(age->as_string()));
    const Value* sources = Path(j, {"modalities", "image", "sources"});
    const Value* first = sources && sources->is_array() && !sources->as_array().empty()
                             ? &sources->as_array()[0]
                             : nullptr;
    b.AddCategory("device_model", first ? StringAt(*first, {"device_model"}) : "none");
    const Value* labs = Path(j, {"modalities", "structured", "labs"});
    size_t lab_count = 0;
    if (labs && labs->is_array()) {
      for (const Value& lab : labs->as_array()) {
        const Value* code = lab.Find("code");
        const Value* value = lab.Find("value");
        if (!code || !code->is_string() || !value || !value->is_number()) continue;
        b.AddNumber("lab:" + code->as_string(), value->as_double());
        ++lab_count;
      }
    }
    b.AddNumber("labs_per_encounter", static_cast<double>(lab_count));
    if (s.image.defined() && s.image.numel() > 0) {
      b.AddNumber("image_mean", s.image.mean().item<double>());
      b.AddNumber("image_std", s.image.std().item<double>());
    }
    const Value* transcript = Path(j, {"modalities", "speech_transcript"});
    b.AddCategory("dictation",
                  transcript && transcript->is_string() && !transcript->as_string().empty()
                      ? "present"
                      : "absent");
    const Value* report = j.Find("target_report");
    if (report && report->is_string())
      b.AddNumber("report_words", static_cast<double>(Words(report->as_string())));
  }
  return b.Build();
}

}  // namespace medscribe::monitor
