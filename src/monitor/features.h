// The features a drift profile counts (docs/monitoring.md), with one definition for the training
// data (ingest, `medscribe monitor --reference`) and for live traffic (the gateway), so that both
// sides count the same thing. None of them is PHI: categories and numbers, never identifiers,
// names, dates or free text.
//
// Input side (what the model reads):
//   department, encounter_class, sex, age (90 and over as 90), device_model, modality and
//   pixel_spacing_mm (of the first image's file), lab:<LOINC code> (each numeric lab value),
//   labs_per_encounter, dictation (present or absent), image_mean and image_std (of the first
//   image as the model reads it, in [0, 1]).
// Output side (what a report says, the training report or the draft):
//   report_words, and finding:<CheXpert class> (present or absent, as eval/labeler.h reads it).
//
// Thread safety: pure functions; the builder is the caller's.
#pragma once

#include <cstddef>
#include <string_view>

#include "monitor/drift.h"

namespace medscribe::monitor {

// The input-side features of a sample (docs/formats/dataset.md, `<key>.json`), but not those of
// its image or report. False (nothing added) when `sample_json` is not a JSON object.
bool AddSampleFeatures(std::string_view sample_json, ProfileBuilder& b);

// image_mean and image_std (population) of `n` pixels. Nothing when n == 0.
void AddImageFeatures(const float* pixels, size_t n, ProfileBuilder& b);

// report_words and finding:<class> for each of the 14 CheXpert classes.
void AddReportFeatures(std::string_view report, ProfileBuilder& b);

}  // namespace medscribe::monitor
