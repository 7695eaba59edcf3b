// The prompt: one function, used by training and by serving, turns a sample (the dataset's
// <key>.json, docs/formats/dataset.md) into the text the decoder reads, so both see the same bytes.
//
//   <image>
//   <history> 67-year-old female, Emergency Department (EMER). Diagnoses: J18.9 Pneumonia, ...
//   Procedures: 71045 ... Note: <notes>
//   <labs> Leukocytes 17.2 10*3/uL (H; 4-11) 2.8 h before. ... | none
//   <dictation> <transcript> | none
//   <report>
// The target the model learns (and generates) follows <report> and ends with </s>.
#pragma once

#include <string>

#include "common/status.h"
#include "model/json.h"

namespace medscribe::model {

struct PromptOptions {
  bool image = true;      // false: ablation without the image section's placeholder
  bool dictation = true;  // false: ablation without the dictation
  size_t max_note_chars = 1500;
};

struct Prompt {
  std::string text;    // the prompt, ending with "<report>"
  std::string target;  // the report ("" when the sample has none, e.g. at serving time)
};

// InvalidArgument when `sample` is not a sample object.
StatusOr<Prompt> BuildPrompt(const json::Value& sample, const PromptOptions& options = {});

}  // namespace medscribe::model
