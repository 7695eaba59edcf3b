#include "model/generate.h"

namespace medscribe::model {

StatusOr<std::vector<int64_t>> GenerateGreedy(ReportModel& m,
                                              const std::vector<int64_t>& prompt_ids,
                                              const torch::Tensor& image,
                                              const GenerateOptions& o) {
  torch::NoGradGuard no_grad;
  m->eval();
  const torch::Tensor ids = torch::tensor(prompt_ids, torch::kLong).view({1, -1});
  torch::Tensor embeds;
  if (o.image_token_id >= 0) {
    const torch::Tensor mask = torch::ones_like(ids);
    try {
      embeds = m->Splice(image.unsqueeze(0), ids, mask, {}, o.image_token_id).embeds;
    } catch (const c10::Error& e) {
      return InvalidArgumentError(std::string("cannot build the prompt: ") +
                                  e.what_without_backtrace());
    }
  } else {
    embeds = m->decoder->embed(ids);
  }
  const int64_t limit = m->config.decoder.max_position_embeddings;
  if (embeds.size(1) >= limit) {
    return InvalidArgumentError("the prompt takes " + std::to_string(embeds.size(1)) +
                                " positions; the model's context is " + std::to_string(limit));
  }
  KvCache cache;
  torch::Tensor logits = m->decoder->forward_cached(embeds, cache);
  std::vector<int64_t> out;
  while (static_cast<int64_t>(out.size()) < o.max_new_tokens && cache.length < limit) {
    const int64_t next = logits[0][-1].argmax().item<int64_t>();
    if (next == o.eos_id) break;
    out.push_back(next);
    if (cache.length + 1 >= limit) break;
    logits = m->decoder->forward_cached(
        m->decoder->embed(torch::tensor({next}, torch::kLong).view({1, 1})), cache);
  }
  return out;
}

}  // namespace medscribe::model
