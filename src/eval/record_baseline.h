// The record-only baseline: how much of a report the record alone gives away.
//
// A logistic-regression classifier per CheXpert class reads what a clinician knows before the
// image is read (RecordFeatures) and predicts the labels the labeler extracts from the training
// reports (never the truth files); the predicted labels become a report in the training reports'
// most common phrasing (phrasebook.h). If this baseline comes close to a model, the model may be
// reading the answer from the record rather than from the image.
//
// Thread safety: a trained baseline is immutable; Predict may be called concurrently.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/labeler.h"

namespace medscribe::eval {

// The sources a record feature may come from, as feature-name prefixes: patient age band and
// sex, department and encounter class, problems and working diagnoses recorded before the study,
// procedures, the order's reason and code, labs (flag and log-scale bin), note words and
// characters, dictation words.
inline constexpr const char* kRecordFeaturePrefixes[] = {
    "age:",   "sex:",       "dept:", "class:", "problem:", "proc:",
    "order:", "ordercode:", "lab:",  "note:",  "dict:"};

// The binary features of a sample (<key>.json, docs/formats/dataset.md), sorted and unique.
// Only pre-study data: conditions count only with a positive `hours_before_study`, and nothing
// is read from the target report, the sample's meta, ids or image. `dictation` false leaves the
// transcript out.
std::vector<std::string> RecordFeatures(const nlohmann::json& sample, bool dictation = true);

class RecordBaseline {
 public:
  // Trains on (features, labels) pairs; the thresholds maximize F1 per class on `tune` (the
  // training pairs when `tune` is empty).
  static RecordBaseline Train(const std::vector<std::vector<std::string>>& features,
                              const std::vector<Labels>& labels,
                              const std::vector<std::vector<std::string>>& tune_features = {},
                              const std::vector<Labels>& tune_labels = {}, int epochs = 12);
  Labels Predict(const std::vector<std::string>& features) const;

 private:
  double Score(int c, const std::vector<std::string>& features) const;
  std::vector<std::string> vocab_;  // sorted
  std::array<std::vector<float>, kNumClasses> weights_;
  std::array<float, kNumClasses> bias_{};
  std::array<double, kNumClasses> threshold_{};
};

}  // namespace medscribe::eval
