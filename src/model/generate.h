// Greedy report generation with the report model: the prompt (with its image) is encoded once,
// then one token at a time is appended using the decoder's key/value cache, until the end token
// or a length limit.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "model/multimodal.h"

namespace medscribe::model {

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  int64_t eos_id = 3;
  int64_t image_token_id = -1;  // -1: the prompt has no image (text-only model)
};

// prompt_ids: bos + prompt tokens (one <image> token unless image_token_id is -1);
// image [C, S, S] (ignored without an image token). Returns the generated ids without the end
// token. InvalidArgument when the prompt does not fit the context.
StatusOr<std::vector<int64_t>> GenerateGreedy(ReportModel& m,
                                              const std::vector<int64_t>& prompt_ids,
                                              const torch::Tensor& image, const GenerateOptions& o);

}  // namespace medscribe::model
