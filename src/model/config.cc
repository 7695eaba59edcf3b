#include "model/config.h"

#include "model/io.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace medscribe::model {
namespace {

Status Check(bool ok, const std::string& what) {
  return ok ? OkStatus() : InvalidArgumentError("model config: " + what);
}

bool PowerOfTwo(int v) { return v > 0 && (v & (v - 1)) == 0; }

// The decoder's fields under Hugging Face LlamaConfig names (MedScribe's config and config.json).
json::Object DecoderFields(const DecoderConfig& d) {
  return json::Object{{"vocab_size", json::Value(d.vocab_size)},
                      {"hidden_size", json::Value(d.hidden_size)},
                      {"intermediate_size", json::Value(d.intermediate_size)},
                      {"num_hidden_layers", json::Value(d.num_hidden_layers)},
                      {"num_attention_heads", json::Value(d.num_attention_heads)},
                      {"num_key_value_heads", json::Value(d.num_key_value_heads)},
                      {"max_position_embeddings", json::Value(d.max_position_embeddings)},
                      {"rope_theta", json::Value(d.rope_theta)},
                      {"rms_norm_eps", json::Value(d.rms_norm_eps)},
                      {"tie_word_embeddings", json::Value(d.tie_word_embeddings)}};
}

}  // namespace

int VisionConfig::stride8_channels() const {
  // The resnet's widths (vision.cc): a stem of max(8, hidden >> stages) channels at stride 2,
  // doubling per stage up to hidden; stage s ends at stride 2^(s + 1).
  const int stages = static_cast<int>(std::lround(std::log2(patch_size))) - 1;
  const int stem = std::max(8, hidden_size >> stages);
  return std::min(hidden_size, stem * 4);
}

bool SameImageSpacing(double prepared_mm, double model_mm) {
  return std::abs(prepared_mm - model_mm) <= 0.01 * model_mm;
}

StatusOr<ModelConfig> PresetConfig(const std::string& name) {
  ModelConfig c;
  c.name = name;
  if (name == "tiny") return c;  // the defaults
  if (name == "base") {
    c.vision = {"resnet", 256, 1, 32, 256, 1, 4, 2, "batch", false};
    c.projector = {.hidden_size = 256, .pool = true, .patch_tokens = false};
    c.findings = {.enabled = true, .hidden_size = 256, .cell_size = true, .read_as_text = true};
    c.decoder.hidden_size = 192;
    c.decoder.intermediate_size = 512;
    c.decoder.num_hidden_layers = 3;
    c.decoder.num_attention_heads = 4;
    c.decoder.num_key_value_heads = 2;
    c.decoder.max_position_embeddings = 1024;
    return c;
  }
  if (name == "quick") {
    // `base` at half the resolution (128 px: 3.36 mm per pixel on a 430 mm detector) and half
    // the encoder's width: an image warm-up epoch costs about a twentieth of base's, so that a
    // few minutes of two CPU cores read a cohort of about 1,500 images (the quickstart).
    c = PresetConfig("base").value();
    c.name = name;
    c.vision.image_size = 128;
    c.vision.patch_size = 16;
    c.vision.hidden_size = 128;
    c.findings.hidden_size = 128;
    return c;
  }
  if (name == "small") {
    c.vision = {"vit", 256, 1, 16, 256, 4, 8, 4};
    c.projector = {768, true};
    c.decoder.hidden_size = 384;
    c.decoder.intermediate_size = 1024;
    c.decoder.num_hidden_layers = 6;
    c.decoder.num_attention_heads = 6;
    c.decoder.num_key_value_heads = 2;
    c.decoder.max_position_embeddings = 2048;
    return c;
  }
  return NotFoundError("no model preset '" + name +
                       "' (presets: tiny, quick, base, small; or a JSON file)");
}

StatusOr<ModelConfig> LoadConfig(const std::string& name_or_path) {
  if (name_or_path.find('/') == std::string::npos &&
      name_or_path.find(".json") == std::string::npos) {
    return PresetConfig(name_or_path);
  }
  auto text = ReadBytes(name_or_path);
  if (!text.ok()) return NotFoundError("cannot open model config '" + name_or_path + "'");
  auto j = json::Parse(*text);
  if (!j.ok()) return InvalidArgumentError(name_or_path + ": " + j.status().message());
  auto c = FromJson(*j);
  if (!c.ok()) return InvalidArgumentError(name_or_path + ": " + c.status().message());
  return c;
}

Status Validate(const ModelConfig& c) {
  const VisionConfig& v = c.vision;
  RETURN_IF_ERROR(
      Check(v.type == "vit" || v.type == "resnet", "vision.type must be vit or resnet"));
  RETURN_IF_ERROR(
      Check(v.image_size >= 16 && v.image_size <= 4096, "vision.image_size must be 16..4096"));
  RETURN_IF_ERROR(Check(v.channels >= 1 && v.channels <= 4, "vision.channels must be 1..4"));
  RETURN_IF_ERROR(Check(v.patch_size >= 2 && v.image_size % v.patch_size == 0,
                        "vision.patch_size must divide vision.image_size"));
  RETURN_IF_ERROR(Check(v.mm_per_pixel >= 0 && v.mm_per_pixel <= 100,
                        "vision.mm_per_pixel must be 0..100 (0: images fitted to the square)"));
  if (v.type == "resnet") {
    RETURN_IF_ERROR(Check(PowerOfTwo(v.patch_size) && v.patch_size >= 4,
                          "resnet: vision.patch_size (total stride) must be a power of two >= 4"));
  }
  RETURN_IF_ERROR(
      Check(v.hidden_size >= 8 && v.hidden_size <= 8192, "vision.hidden_size must be 8..8192"));
  RETURN_IF_ERROR(
      Check(v.norm == "group" || v.norm == "batch", "vision.norm must be group or batch"));
  RETURN_IF_ERROR(Check(!v.pyramid || (v.type == "resnet" && v.patch_size >= 16),
                        "vision.pyramid needs a resnet with a total stride of at least 16"));
  RETURN_IF_ERROR(Check(!v.size_map || (v.type == "resnet" && c.findings.enabled),
                        "vision.size_map needs a resnet and the finding head (findings.enabled)"));
  RETURN_IF_ERROR(Check(v.layers >= 1 && v.layers <= 64, "vision.layers must be 1..64"));
  if (v.type == "vit") {
    RETURN_IF_ERROR(Check(v.heads >= 1 && v.hidden_size % v.heads == 0,
                          "vision.heads must divide vision.hidden_size"));
    RETURN_IF_ERROR(Check(v.mlp_ratio >= 1 && v.mlp_ratio <= 16, "vision.mlp_ratio must be 1..16"));
  }
  RETURN_IF_ERROR(Check(!c.projector.pool || v.grid() % 2 == 0,
                        "projector.pool needs an even patch grid (image_size / patch_size)"));
  RETURN_IF_ERROR(Check(c.projector.hidden_size >= 8 && c.projector.hidden_size <= 65536,
                        "projector.hidden_size must be 8..65536"));
  RETURN_IF_ERROR(Check(c.projector.patch_tokens || c.findings.enabled,
                        "projector.patch_tokens false needs the finding head (findings.enabled): "
                        "the image would not reach the decoder"));
  RETURN_IF_ERROR(Check(!c.findings.read_as_text || c.findings.enabled,
                        "findings.read_as_text needs the finding head (findings.enabled)"));
  if (c.findings.enabled) {
    RETURN_IF_ERROR(Check(c.findings.hidden_size >= 8 && c.findings.hidden_size <= 65536,
                          "findings.hidden_size must be 8..65536"));
    RETURN_IF_ERROR(Check(v.grid() >= 4, "the finding head needs a patch grid of at least 4x4"));
  }
  const DecoderConfig& d = c.decoder;
  RETURN_IF_ERROR(Check(d.vocab_size >= 16 && d.vocab_size <= 1 << 20,
                        "decoder.vocab_size must be 16..1048576"));
  RETURN_IF_ERROR(
      Check(d.hidden_size >= 8 && d.hidden_size <= 65536, "decoder.hidden_size must be 8..65536"));
  RETURN_IF_ERROR(Check(d.num_attention_heads >= 1 && d.hidden_size % d.num_attention_heads == 0,
                        "decoder.num_attention_heads must divide decoder.hidden_size"));
  RETURN_IF_ERROR(Check(d.head_dim() % 2 == 0, "decoder head dimension must be even (RoPE)"));
  RETURN_IF_ERROR(
      Check(d.num_key_value_heads >= 1 && d.num_attention_heads % d.num_key_value_heads == 0,
            "decoder.num_key_value_heads must divide decoder.num_attention_heads"));
  RETURN_IF_ERROR(Check(d.intermediate_size >= 1 && d.intermediate_size <= 1 << 20,
                        "decoder.intermediate_size must be 1..1048576"));
  RETURN_IF_ERROR(Check(d.num_hidden_layers >= 1 && d.num_hidden_layers <= 256,
                        "decoder.num_hidden_layers must be 1..256"));
  RETURN_IF_ERROR(Check(
      d.max_position_embeddings > c.image_tokens() + 16 && d.max_position_embeddings <= 1 << 20,
      "decoder.max_position_embeddings must exceed the image tokens + 16"));
  RETURN_IF_ERROR(Check(d.rope_theta > 1, "decoder.rope_theta must be > 1"));
  RETURN_IF_ERROR(
      Check(d.rms_norm_eps > 0 && d.rms_norm_eps < 1, "decoder.rms_norm_eps must be in (0, 1)"));
  return OkStatus();
}

json::Value ToJson(const ModelConfig& c) {
  const VisionConfig& v = c.vision;
  const DecoderConfig& d = c.decoder;
  json::Object vision{{"type", json::Value(v.type)},
                      {"image_size", json::Value(v.image_size)},
                      {"channels", json::Value(v.channels)},
                      {"patch_size", json::Value(v.patch_size)},
                      {"hidden_size", json::Value(v.hidden_size)},
                      {"layers", json::Value(v.layers)},
                      {"heads", json::Value(v.heads)},
                      {"mlp_ratio", json::Value(v.mlp_ratio)},
                      {"norm", json::Value(v.norm)},
                      {"pyramid", json::Value(v.pyramid)},
                      {"size_map", json::Value(v.size_map)}};
  if (v.mm_per_pixel > 0) vision["mm_per_pixel"] = json::Value(v.mm_per_pixel);
  return json::Value(json::Object{
      {"name", json::Value(c.name)},
      {"vision", json::Value(std::move(vision))},
      {"projector",
       json::Value(json::Object{{"hidden_size", json::Value(c.projector.hidden_size)},
                                {"pool", json::Value(c.projector.pool)},
                                {"patch_tokens", json::Value(c.projector.patch_tokens)}})},
      {"findings",
       json::Value(json::Object{{"enabled", json::Value(c.findings.enabled)},
                                {"hidden_size", json::Value(c.findings.hidden_size)},
                                {"cell_size", json::Value(c.findings.cell_size)},
                                {"read_as_text", json::Value(c.findings.read_as_text)}})},
      {"decoder", json::Value(DecoderFields(d))},
  });
}

StatusOr<ModelConfig> FromJson(const json::Value& j) {
  if (!j.is_object()) return InvalidArgumentError("model config must be a JSON object");
  ModelConfig c;
  auto section = [&](const char* name) -> StatusOr<const json::Value*> {
    const json::Value* s = j.Find(name);
    if (!s || !s->is_object())
      return InvalidArgumentError(std::string("missing section '") + name + "'");
    return s;
  };
  auto int_of = [](const json::Value& o, const char* key, int& out) -> Status {
    ASSIGN_OR_RETURN(int64_t v, json::GetInt(o, key));
    if (v < -(1LL << 30) || v > (1LL << 30))
      return InvalidArgumentError(std::string(key) + " out of range");
    out = static_cast<int>(v);
    return OkStatus();
  };
  if (const json::Value* n = j.Find("name"); n && n->is_string()) c.name = n->as_string();
  ASSIGN_OR_RETURN(const json::Value* v, section("vision"));
  ASSIGN_OR_RETURN(c.vision.type, json::GetString(*v, "type"));
  RETURN_IF_ERROR(int_of(*v, "image_size", c.vision.image_size));
  RETURN_IF_ERROR(int_of(*v, "channels", c.vision.channels));
  RETURN_IF_ERROR(int_of(*v, "patch_size", c.vision.patch_size));
  RETURN_IF_ERROR(int_of(*v, "hidden_size", c.vision.hidden_size));
  RETURN_IF_ERROR(int_of(*v, "layers", c.vision.layers));
  RETURN_IF_ERROR(int_of(*v, "heads", c.vision.heads));
  RETURN_IF_ERROR(int_of(*v, "mlp_ratio", c.vision.mlp_ratio));
  if (const json::Value* n = v->Find("norm"); n && n->is_string()) c.vision.norm = n->as_string();
  if (const json::Value* n = v->Find("pyramid"); n && n->is_bool()) c.vision.pyramid = n->as_bool();
  if (const json::Value* n = v->Find("size_map"); n && n->is_bool())
    c.vision.size_map = n->as_bool();
  if (const json::Value* n = v->Find("mm_per_pixel"); n && n->is_number())
    c.vision.mm_per_pixel = n->as_double();
  ASSIGN_OR_RETURN(const json::Value* p, section("projector"));
  RETURN_IF_ERROR(int_of(*p, "hidden_size", c.projector.hidden_size));
  ASSIGN_OR_RETURN(c.projector.pool, json::GetBool(*p, "pool"));
  // Optional: configurations written before the switch have patch tokens.
  if (const json::Value* n = p->Find("patch_tokens"); n && n->is_bool())
    c.projector.patch_tokens = n->as_bool();
  // Optional: configurations written before the finding head have none.
  if (const json::Value* f = j.Find("findings"); f && f->is_object()) {
    ASSIGN_OR_RETURN(c.findings.enabled, json::GetBool(*f, "enabled"));
    RETURN_IF_ERROR(int_of(*f, "hidden_size", c.findings.hidden_size));
    // Optional: heads written before the per-cell size read it globally.
    if (const json::Value* n = f->Find("cell_size"); n && n->is_bool())
      c.findings.cell_size = n->as_bool();
    if (const json::Value* n = f->Find("read_as_text"); n && n->is_bool())
      c.findings.read_as_text = n->as_bool();
  }
  ASSIGN_OR_RETURN(const json::Value* d, section("decoder"));
  RETURN_IF_ERROR(int_of(*d, "vocab_size", c.decoder.vocab_size));
  RETURN_IF_ERROR(int_of(*d, "hidden_size", c.decoder.hidden_size));
  RETURN_IF_ERROR(int_of(*d, "intermediate_size", c.decoder.intermediate_size));
  RETURN_IF_ERROR(int_of(*d, "num_hidden_layers", c.decoder.num_hidden_layers));
  RETURN_IF_ERROR(int_of(*d, "num_attention_heads", c.decoder.num_attention_heads));
  RETURN_IF_ERROR(int_of(*d, "num_key_value_heads", c.decoder.num_key_value_heads));
  RETURN_IF_ERROR(int_of(*d, "max_position_embeddings", c.decoder.max_position_embeddings));
  ASSIGN_OR_RETURN(c.decoder.rope_theta, json::GetNumber(*d, "rope_theta"));
  ASSIGN_OR_RETURN(c.decoder.rms_norm_eps, json::GetNumber(*d, "rms_norm_eps"));
  ASSIGN_OR_RETURN(c.decoder.tie_word_embeddings, json::GetBool(*d, "tie_word_embeddings"));
  RETURN_IF_ERROR(Validate(c));
  return c;
}

json::Value HfLlamaConfig(const DecoderConfig& d, int bos_id, int eos_id, int pad_id) {
  json::Value hf(json::Object{
      {"architectures", json::Value(json::Array{json::Value("LlamaForCausalLM")})},
      {"model_type", json::Value("llama")},
      {"hidden_act", json::Value("silu")},
      {"torch_dtype", json::Value("float32")},
      {"attention_bias", json::Value(false)},
      {"bos_token_id", json::Value(bos_id)},
      {"eos_token_id", json::Value(eos_id)},
      {"pad_token_id", json::Value(pad_id)},
  });
  for (auto& [k, v] : DecoderFields(d)) hf.mutable_object()[k] = v;
  return hf;
}

}  // namespace medscribe::model
