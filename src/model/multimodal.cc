#include "model/multimodal.h"

#include "model/tensor_parallel.h"

#include <set>

namespace medscribe::model {
namespace F = torch::nn::functional;

torch::Tensor ImageEmbeddingsFromTokens(Projector& projector, FindingHead* findings,
                                        const torch::Tensor& vision_tokens,
                                        torch::Tensor* head_outputs) {
  if (findings == nullptr || findings->is_empty()) return projector(vision_tokens);
  const torch::Tensor out = (*findings)(vision_tokens);
  if (head_outputs != nullptr) *head_outputs = out;
  const torch::Tensor slots = (*findings)->Slots(out);
  if (!projector->patch_tokens) return slots;
  return torch::cat({projector(vision_tokens), slots}, 1);
}

namespace {
// The position of each row's single <image> token [B].
torch::Tensor ImagePositions(const torch::Tensor& input_ids, int64_t image_token_id) {
  const torch::Tensor is_image = input_ids.eq(image_token_id);
  TORCH_CHECK(is_image.sum(1).eq(1).all().item<bool>(),
              "every prompt must hold exactly one <image> token");
  return is_image.to(torch::kLong).argmax(1);
}
}  // namespace

ReportModelImpl::ReportModelImpl(const ModelConfig& c) : config(c) {
  vision = register_module("vision", VisionEncoder(c.vision));
  projector = register_module("projector", Projector(c));
  if (c.findings.enabled) findings = register_module("findings", FindingHead(c));
  decoder = register_module("decoder", LlamaForCausalLM(c.decoder));
}

torch::Tensor ReportModelImpl::ImageEmbeddings(const torch::Tensor& images) {
  return ImageEmbeddingsFromTokens(projector, &findings, vision(images));
}

SplicedInputs ReportModelImpl::Splice(const torch::Tensor& images, const torch::Tensor& input_ids,
                                      const torch::Tensor& attention_mask,
                                      const torch::Tensor& labels, int64_t image_token_id) {
  return SpliceEmbeds(ImageEmbeddings(images), input_ids, attention_mask, labels, image_token_id);
}

SplicedInputs ReportModelImpl::SpliceEmbeds(const torch::Tensor& image_embeds,
                                            const torch::Tensor& input_ids,
                                            const torch::Tensor& attention_mask,
                                            const torch::Tensor& labels, int64_t image_token_id) {
  const torch::Tensor text = decoder->embed(input_ids);  // [B, T, hidden]
  const torch::Tensor where = ImagePositions(input_ids, image_token_id);
  std::vector<torch::Tensor> e;
  for (int64_t i = 0; i < input_ids.size(0); ++i) {
    const int64_t p = where[i].item<int64_t>();
    const int64_t t = input_ids.size(1);
    e.push_back(torch::cat(
        {text[i].narrow(0, 0, p), image_embeds[i], text[i].narrow(0, p + 1, t - p - 1)}));
  }
  SplicedInputs out =
      SpliceLayout(input_ids, attention_mask, labels, image_token_id, image_embeds.size(1));
  out.embeds = torch::stack(e);
  return out;
}

SplicedInputs ReportModelImpl::SpliceLayout(const torch::Tensor& input_ids,
                                            const torch::Tensor& attention_mask,
                                            const torch::Tensor& labels, int64_t image_token_id,
                                            int64_t n) {
  const torch::Tensor where = ImagePositions(input_ids, image_token_id);
  std::vector<torch::Tensor> m, l;
  const auto mask_opts = attention_mask.options();
  for (int64_t i = 0; i < input_ids.size(0); ++i) {
    const int64_t p = where[i].item<int64_t>();
    const int64_t t = input_ids.size(1);
    m.push_back(torch::cat({attention_mask[i].narrow(0, 0, p), torch::ones({n}, mask_opts),
                            attention_mask[i].narrow(0, p + 1, t - p - 1)}));
    if (labels.defined()) {
      l.push_back(
          torch::cat({labels[i].narrow(0, 0, p), torch::full({n}, kIgnoreIndex, labels.options()),
                      labels[i].narrow(0, p + 1, t - p - 1)}));
    }
  }
  SplicedInputs out{{}, torch::stack(m), {}};
  if (labels.defined()) out.labels = torch::stack(l);
  return out;
}

torch::Tensor ReportModelImpl::forward(const torch::Tensor& images, const torch::Tensor& input_ids,
                                       const torch::Tensor& attention_mask,
                                       int64_t image_token_id) {
  const SplicedInputs s = Splice(images, input_ids, attention_mask, {}, image_token_id);
  return decoder->forward_embeds(s.embeds, s.attention_mask);
}

namespace {
torch::Tensor ShiftedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                  F::CrossEntropyFuncOptions::reduction_t reduction) {
  const int64_t v = logits.size(-1);
  const torch::Tensor pred = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, v});
  const torch::Tensor target = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});
  return F::cross_entropy(
      pred.to(torch::kFloat32), target,
      F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex).reduction(reduction));
}
}  // namespace

torch::Tensor NextTokenLoss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return ShiftedCrossEntropy(logits, labels, torch::kMean);
}

torch::Tensor NextTokenLossSum(const torch::Tensor& logits, const torch::Tensor& labels) {
  return ShiftedCrossEntropy(logits, labels, torch::kSum);
}

torch::Tensor TargetLossSum(LlamaForCausalLM& decoder, const torch::Tensor& hidden,
                            const torch::Tensor& labels, const torch::Tensor& token_weights) {
  const int64_t d = hidden.size(-1);
  const torch::Tensor h = hidden.narrow(1, 0, hidden.size(1) - 1).reshape({-1, d});
  const torch::Tensor target = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});
  const torch::Tensor rows = target.ne(kIgnoreIndex).nonzero().squeeze(1);
  const torch::Tensor wanted = target.index_select(0, rows);
  if (decoder->tp) {
    return TensorParallelCrossEntropySum(h.index_select(0, rows), wanted, decoder->output_rows(),
                                         decoder->config.vocab_size, decoder->tp, token_weights);
  }
  const torch::Tensor logits = decoder->logits(h.index_select(0, rows));
  if (!token_weights.defined())
    return F::cross_entropy(logits.to(torch::kFloat32), wanted,
                            F::CrossEntropyFuncOptions().reduction(torch::kSum));
  const torch::Tensor each = F::cross_entropy(logits.to(torch::kFloat32), wanted,
                                              F::CrossEntropyFuncOptions().reduction(torch::kNone));
  return (each * token_weights.to(each.device()).index_select(0, wanted)).sum();
}

NamedTensors NamedWeights(torch::nn::Module& m) {
  NamedTensors out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace_back(p.key(), p.value());
  // Floating-point buffers are state too (batch norm's running statistics).
  for (const auto& b : m.named_buffers(/*recurse=*/true))
    if (b.value().is_floating_point()) out.emplace_back(b.key(), b.value());
  return out;
}

Status LoadWeights(torch::nn::Module& m, const Safetensors& weights, bool allow_extra,
                   const std::string& prefix) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  // Copies the stored tensor named prefix + key into `dst` after checking shape and type.
  auto load = [&](const std::string& key, torch::Tensor& dst) -> Status {
    const std::string name = prefix + key;
    auto it = weights.tensors.find(name);
    if (it == weights.tensors.end()) return DataLossError("weights lack '" + name + "'");
    if (it->second.sizes() != dst.sizes()) {
      return DataLossError("'" + name + "' has shape " + c10::str(it->second.sizes()) +
                           ", the model needs " + c10::str(dst.sizes()) +
                           " (config and weights do not match)");
    }
    if (!it->second.is_floating_point()) {
      return DataLossError("'" + name + "' holds " +
                           std::string(c10::toString(it->second.scalar_type())) +
                           " values; the model needs floating point (a quantized file is read by "
                           "the engine)");
    }
    dst.copy_(it->second.to(dst.dtype()));
    used.insert(name);
    return OkStatus();
  };
  for (auto& p : m.named_parameters(true)) RETURN_IF_ERROR(load(p.key(), p.value()));
  // Floating-point buffers (batch-norm statistics) are saved with the weights; counters are not.
  // A buffer added after weights were first saved may be missing from an older file: it keeps
  // its initial value, which means what the older model did (the finding head's present_offset:
  // 0, every kind read at probability 0.5).
  const auto added_later = [](const std::string& key) {
    return key == "present_offset" || key.ends_with(".present_offset");
  };
  for (auto& b : m.named_buffers(true)) {
    if (!b.value().is_floating_point()) continue;
    if (added_later(b.key()) && !weights.tensors.count(prefix + b.key())) continue;
    RETURN_IF_ERROR(load(b.key(), b.value()));
  }
  if (!allow_extra) {
    for (const auto& [name, t] : weights.tensors) {
      if (!used.count(name) && name.rfind(prefix, 0) == 0) {
        return DataLossError("weights hold '" + name + "', which the model does not have");
      }
    }
  }
  return OkStatus();
}

}  // namespace medscribe::model
