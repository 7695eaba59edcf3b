#include "model/export.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/io.h"
#include "model/multimodal.h"
#include "model/safetensors.h"

namespace medscribe::model {
namespace fs = std::filesystem;

namespace {

StatusOr<std::string> Slurp(const fs::path& p) { return ReadBytes(p.string()); }

Status Write(const fs::path& p, const std::string& text) {
  return WriteBytesAtomic(p.string(), text);
}

}  // namespace

StatusOr<FloatModelFiles> ReadFloatModelDir(const std::string& model_dir,
                                            std::string_view if_quantized) {
  const fs::path in(model_dir);
  ASSIGN_OR_RETURN(std::string text, Slurp(in / "config.json"));
  auto j = json::Parse(text);
  if (!j.ok()) return DataLossError(model_dir + "/config.json: " + j.status().message());
  auto config = FromJson(*j);
  if (!config.ok())
    return InvalidArgumentError(model_dir + "/config.json: " + config.status().message());
  ASSIGN_OR_RETURN(Safetensors weights, LoadSafetensors((in / "model.safetensors").string()));
  if (auto q = weights.metadata.find("medscribe.quantization"); q != weights.metadata.end()) {
    return FailedPreconditionError(model_dir + " is a " + q->second +
                                   "-quantized model: " + std::string(if_quantized));
  }
  return FloatModelFiles{*std::move(config), std::move(weights)};
}

StatusOr<LoadedModel> LoadModelDir(const std::string& model_dir) {
  ASSIGN_OR_RETURN(FloatModelFiles files,
                   ReadFloatModelDir(model_dir,
                                     "it runs in the engine (medscribe generate), not in the "
                                     "training-time model"));
  LoadedModel out{files.config, ReportModel(files.config)};
  RETURN_IF_ERROR(LoadWeights(*out.model, files.weights));
  out.model->eval();
  return out;
}

Status ExportHf(const std::string& model_dir, const std::string& out_dir) {
  const fs::path in(model_dir), out(out_dir);
  ASSIGN_OR_RETURN(std::string config_text, Slurp(in / "config.json"));
  auto cj = json::Parse(config_text);
  if (!cj.ok()) return DataLossError(model_dir + "/config.json: " + cj.status().message());
  auto config = FromJson(*cj);
  if (!config.ok()) {
    return InvalidArgumentError(model_dir + "/config.json is not a MedScribe model config (" +
                                config.status().message() + ")");
  }
  ASSIGN_OR_RETURN(Safetensors weights, LoadSafetensors((in / "model.safetensors").string()));
  ASSIGN_OR_RETURN(std::string tokenizer, Slurp(in / "tokenizer.model"));
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return IoError("cannot create '" + out_dir + "': " + ec.message());
  NamedTensors decoder, rest;
  for (const auto& [name, t] : weights.tensors) {
    if (name.rfind("decoder.", 0) == 0) {
      decoder.emplace_back(name.substr(8), t);
    } else {
      rest.emplace_back(name, t);
    }
  }
  if (decoder.empty())
    return DataLossError(model_dir + "/model.safetensors holds no decoder tensors");
  RETURN_IF_ERROR(
      SaveSafetensors((out / "model.safetensors").string(), decoder, {{"format", "pt"}}));
  RETURN_IF_ERROR(
      SaveSafetensors((out / "medscribe_vision.safetensors").string(), rest, {{"format", "pt"}}));
  // Ids fixed by MedScribe's tokenizer: pad 0, bos 2, eos 3.
  RETURN_IF_ERROR(
      Write(out / "config.json", json::Dump(HfLlamaConfig(config->decoder, 2, 3, 0), 2) + "\n"));
  RETURN_IF_ERROR(Write(out / "medscribe_config.json", json::Dump(ToJson(*config), 2) + "\n"));
  return Write(out / "tokenizer.model", tokenizer);
}

StatusOr<DecoderConfig> ReadHfDecoderConfig(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, Slurp(fs::path(dir) / "config.json"));
  auto j = json::Parse(text);
  if (!j.ok()) return InvalidArgumentError(dir + "/config.json: " + j.status().message());
  if (const json::Value* t = j->Find("model_type");
      t && t->is_string() && t->as_string() != "llama" && t->as_string() != "mistral") {
    return InvalidArgumentError(dir + "/config.json: model_type '" + t->as_string() +
                                "' is not LLaMA-compatible");
  }
  DecoderConfig d;
  auto take = [&](const char* key, int& out) -> Status {
    ASSIGN_OR_RETURN(int64_t v, json::GetInt(*j, key));
    out = static_cast<int>(v);
    return OkStatus();
  };
  RETURN_IF_ERROR(take("vocab_size", d.vocab_size));
  RETURN_IF_ERROR(take("hidden_size", d.hidden_size));
  RETURN_IF_ERROR(take("intermediate_size", d.intermediate_size));
  RETURN_IF_ERROR(take("num_hidden_layers", d.num_hidden_layers));
  RETURN_IF_ERROR(take("num_attention_heads", d.num_attention_heads));
  d.num_key_value_heads = d.num_attention_heads;
  if (j->Find("num_key_value_heads"))
    RETURN_IF_ERROR(take("num_key_value_heads", d.num_key_value_heads));
  if (j->Find("max_position_embeddings"))
    RETURN_IF_ERROR(take("max_position_embeddings", d.max_position_embeddings));
  if (auto v = json::GetNumber(*j, "rope_theta"); v.ok()) d.rope_theta = *v;
  if (auto v = json::GetNumber(*j, "rms_norm_eps"); v.ok()) d.rms_norm_eps = *v;
  if (auto v = json::GetBool(*j, "tie_word_embeddings"); v.ok()) d.tie_word_embeddings = *v;
  if (const json::Value* s = j->Find("rope_scaling"); s && !s->is_null()) {
    return InvalidArgumentError(dir + "/config.json: rope_scaling is not supported");
  }
  return d;
}

Status LoadHfDecoder(LlamaForCausalLM& decoder, const std::string& dir) {
  ASSIGN_OR_RETURN(Safetensors weights, LoadSafetensorsDir(dir));
  // Some checkpoints carry rotary tables as tensors; they are recomputed here.
  for (auto it = weights.tensors.begin(); it != weights.tensors.end();) {
    it = it->first.find("rotary_emb") != std::string::npos ? weights.tensors.erase(it)
                                                           : std::next(it);
  }
  return LoadWeights(*decoder, weights);
}

}  // namespace medscribe::model
