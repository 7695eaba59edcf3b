// The prompt: one function, used by training and by serving, turns a sample (the dataset's
// <key>.json, docs/formats/dataset.md) into the text the decoder reads, so both see the same bytes.
//
//   <image>
//   <history> 67 female, Emergency Department (EMER). Problems: I10 Essential (primary)
//   hypertension; I50.9 Heart failure. Procedures: 31500. Order: Cough and fever. Rule out
//   pneumonia. (R05.9) Note: <notes>
//   <labs> WBC 17.2 10*3/uL H; CRP 80 mg/L H; SpO2 97 % | none
//   <dictation> <transcript> [<change_...>] | none
//   <report>
// The target the model learns (and generates) follows <report> and ends with </s>.
//
// The record is compact: labs as short name, value, unit and flag (H/L; nothing when normal),
// codes with the display up to its first comma (at most four words), notes without the segments
// (lines, sentences, Chinese clauses) that held identifiers — now de-identification
// placeholders, they carry nothing clinical — cut to `max_note_chars` at a character boundary. Only
// what the sample holds is shown; the sample itself holds only what existed before the study
// (ingest/sample.h). The dictation line ends with the change against the prior study that the
// transcript states, as one token (model/dictated_change.h), when it states one.
#pragma once

#include <string>

#include "common/status.h"
#include "model/json.h"

namespace medscribe::model {

struct PromptOptions {
  bool image = true;      // false: ablation without the image section's placeholder
  bool dictation = true;  // false: ablation without the dictation
  size_t max_note_chars = 400;
  // The finding head's reading of the image (model::ImageRead), written after the image's
  // placeholder as "image read: ..."; "" writes no such line (models without read_as_text).
  std::string image_read{};
};

struct Prompt {
  std::string text;    // the prompt, ending with "<report>"
  std::string target;  // the report ("" when the sample has none, e.g. at serving time)
};

// InvalidArgument when `sample` is not a sample object.
StatusOr<Prompt> BuildPrompt(const json::Value& sample, const PromptOptions& options = {});

}  // namespace medscribe::model
