// Hugging Face interoperability of the decoder.
//
// ExportHf writes a directory that standard LLaMA tooling loads as LlamaForCausalLM:
//   config.json         HF LlamaConfig (architectures, model_type "llama", sizes, rope_theta, ...)
//   model.safetensors   the decoder's tensors under HF names
//   tokenizer.model     the SentencePiece model
// plus MedScribe's own pieces, which HF tooling ignores:
//   medscribe_config.json, medscribe_vision.safetensors (vision encoder and projector)
//
// ReadHfDecoderConfig / LoadHfDecoder read such a directory — or any LLaMA-family checkpoint
// (single file or sharded with model.safetensors.index.json) — as a starting point for training.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "model/config.h"
#include "model/llama.h"
#include "model/multimodal.h"
#include "model/safetensors.h"

namespace medscribe::model {

struct FloatModelFiles {
  ModelConfig config;
  Safetensors weights;
};
// Reads a model directory's config.json and model.safetensors. FailedPrecondition for a quantized
// model, the message ending with `if_quantized` (what to do instead); DataLoss / InvalidArgument
// for a malformed file.
StatusOr<FloatModelFiles> ReadFloatModelDir(const std::string& model_dir,
                                            std::string_view if_quantized);

struct LoadedModel {
  ModelConfig config;
  ReportModel model{nullptr};
};
// Reads a model directory (config.json, model.safetensors), checking that config and weights
// agree. Put into evaluation mode.
StatusOr<LoadedModel> LoadModelDir(const std::string& model_dir);

// `model_dir` holds config.json (a MedScribe model config), model.safetensors and
// tokenizer.model, as `medscribe train` writes into RUN/model.
Status ExportHf(const std::string& model_dir, const std::string& out_dir);

// The decoder configuration of an HF config.json (model_type llama, or compatible fields).
// InvalidArgument naming what is missing or unsupported.
StatusOr<DecoderConfig> ReadHfDecoderConfig(const std::string& dir);

// Loads HF decoder weights from `dir` into `decoder`. DataLoss naming the first tensor that is
// missing or of another shape (e.g. a vocabulary that differs from the tokenizer's).
Status LoadHfDecoder(LlamaForCausalLM& decoder, const std::string& dir);

}  // namespace medscribe::model
