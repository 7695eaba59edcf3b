// The report model: vision encoder -> projector (patch tokens) and, when configured, the finding
// head (one slot token per finding kind, model/findings.h) -> image embeddings spliced into the
// token embeddings of the LLaMA decoder at the prompt's single <image> token.
//
// Parameter names: "vision.*", "projector.*", "findings.*" and "decoder.<HF LlamaForCausalLM
// name>". The decoder's tensors are exported to Hugging Face format by dropping the "decoder."
// prefix.
//
// Thread safety: a module is not thread-safe.
#pragma once

#include <string>

#include <torch/torch.h>

#include "common/status.h"
#include "model/config.h"
#include "model/findings.h"
#include "model/llama.h"
#include "model/safetensors.h"
#include "model/vision.h"

namespace medscribe::model {

inline constexpr int64_t kIgnoreIndex = -100;

struct SplicedInputs {
  torch::Tensor embeds;          // [B, T - 1 + N, hidden]
  torch::Tensor attention_mask;  // [B, T - 1 + N]
  torch::Tensor labels;          // [B, T - 1 + N] (kIgnoreIndex at image positions), if given
};

// The image's embeddings [B, image_tokens, decoder hidden] from the vision encoder's tokens
// [B, g*g, C]: projected (pooled) patch tokens (none when projector.patch_tokens is false), then
// the finding slots when `findings` is given; the head's raw outputs go to `head_outputs` when it
// is given (and the head is).
// The one path of training, the engine and the draft model.
torch::Tensor ImageEmbeddingsFromTokens(Projector& projector, FindingHead* findings,
                                        const torch::Tensor& vision_tokens,
                                        torch::Tensor* head_outputs = nullptr);

struct ReportModelImpl : torch::nn::Module {
  explicit ReportModelImpl(const ModelConfig& c);

  // Images [B, C, S, S] -> [B, image_tokens, decoder hidden].
  torch::Tensor ImageEmbeddings(const torch::Tensor& images);
  // The attention mask and labels of the spliced sequence alone (embeds undefined), for `n`
  // image embeddings: what a pipeline stage that receives the embeddings needs of the batch.
  static SplicedInputs SpliceLayout(const torch::Tensor& input_ids,
                                    const torch::Tensor& attention_mask,
                                    const torch::Tensor& labels, int64_t image_token_id, int64_t n);
  // As Splice, with the image embeddings given (e.g. from cached vision tokens).
  SplicedInputs SpliceEmbeds(const torch::Tensor& image_embeds, const torch::Tensor& input_ids,
                             const torch::Tensor& attention_mask, const torch::Tensor& labels,
                             int64_t image_token_id);

  // images [B, C, S, S] float; input_ids [B, T] with exactly one `image_token_id` per row;
  // attention_mask [B, T] (1 token, 0 padding at the end); labels [B, T] or undefined.
  SplicedInputs Splice(const torch::Tensor& images, const torch::Tensor& input_ids,
                       const torch::Tensor& attention_mask, const torch::Tensor& labels,
                       int64_t image_token_id);
  // Logits [B, T - 1 + N, vocab].
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask, int64_t image_token_id);

  ModelConfig config;
  VisionEncoder vision{nullptr};
  Projector projector{nullptr};
  FindingHead findings{nullptr};  // null unless config.findings.enabled
  LlamaForCausalLM decoder{nullptr};
};
TORCH_MODULE(ReportModel);

// Mean cross-entropy of next-token prediction over positions whose label is not kIgnoreIndex
// (logits [B, T, V] predict labels shifted by one).
torch::Tensor NextTokenLoss(const torch::Tensor& logits, const torch::Tensor& labels);
// The same, summed instead of averaged (data-parallel training divides by the global count).
torch::Tensor NextTokenLossSum(const torch::Tensor& logits, const torch::Tensor& labels);
// The summed next-token loss from hidden states [B, T, hidden], computing logits only at the
// positions that predict a target (labels shifted by one not kIgnoreIndex): the vocabulary
// projection of the prompt's positions, whose logits would be thrown away, is never computed.
// Equal to NextTokenLossSum(decoder->logits(hidden), labels). With `token_weights` ([vocab]
// float), each target's loss is weighted by the weight of its token id.
torch::Tensor TargetLossSum(LlamaForCausalLM& decoder, const torch::Tensor& hidden,
                            const torch::Tensor& labels, const torch::Tensor& token_weights = {});

// Every parameter and floating-point buffer (batch norm statistics) by name, for saving.
NamedTensors NamedWeights(torch::nn::Module& m);
// Copies `weights` into the module's parameters and floating-point buffers. Requires every one to
// be present with its exact shape (DataLoss naming the first that is missing or mismatched), but
// for buffers added after weights were first saved (the finding head's present_offset), which
// keep their initial value when missing; extra tensors are an error unless `allow_extra`.
Status LoadWeights(torch::nn::Module& m, const Safetensors& weights, bool allow_extra = false,
                   const std::string& prefix = "");

}  // namespace medscribe::model
