// Model configuration: vision encoder, projector and LLaMA-style decoder, as JSON.
//
// The decoder section uses the key names of Hugging Face's LlamaConfig (vocab_size, hidden_size,
// intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
// max_position_embeddings, rope_theta, rms_norm_eps, tie_word_embeddings), so that it is written
// unchanged into an exported config.json.
//
// Presets: "tiny" (trains in minutes on two CPU cores; tests), "base" (the quality bar on two CPU
// cores: a ResNet at 256 px with the auxiliary finding head, whose reading also enters the prompt
// as text, and a compact decoder; `scripts/bench.sh quality`) and "small" (a larger ViT model for
// GPUs). Validate() rejects impossible shapes before any tensor is allocated.
#pragma once

#include <string>

#include "common/status.h"
#include "model/json.h"

namespace medscribe::model {

// True when images prepared at `prepared_mm` mm per pixel at the model's input size (0: fitted
// to the square) are what a model reading `model_mm` (VisionConfig::mm_per_pixel) expects: both
// fitted, or within 1% of model_mm.
bool SameImageSpacing(double prepared_mm, double model_mm);

struct VisionConfig {
  std::string type = "vit";  // "vit" or "resnet"
  int image_size = 128;      // input is resized to image_size x image_size
  int channels = 1;
  int patch_size = 16;  // vit: patch; resnet: total stride (a power of two, >= 4)
  int hidden_size = 96;
  int layers = 2;     // vit: transformer blocks; resnet: residual blocks per stage
  int heads = 4;      // vit only
  int mlp_ratio = 2;  // vit only
  // resnet only: "group" (GroupNorm, the default) or "batch" (BatchNorm: its running statistics
  // are saved with the weights; converges in fewer steps).
  std::string norm = "group";
  // resnet only: each token also carries the stride-8 features max-pooled over its cell, so that
  // small and thin structures (nodules, tubes, lines) reach the tokens at a finer scale.
  bool pyramid = false;
  // resnet only: a lesion-size branch reads the image at full resolution (a stride-1 stem, then
  // narrow stride-2 stages down to the token grid) and each token carries its size reading as
  // one more channel, the last (FindingHeadImpl reads a lesion's size from it). The main encoder
  // reaches the grid through a stride-2 stem and wide stages tuned for presence; a lesion's size
  // to 2 mm is a pixel at 1.68 mm per pixel.
  bool size_map = false;
  // The physical size of an input pixel in mm that the model was trained on (the dataset's
  // `medscribe ingest --image-spacing`, scaled to image_size), or 0: images fitted to the square
  // whatever their detector. Serving prepares images the same way.
  double mm_per_pixel = 0;
  int grid() const { return image_size / patch_size; }  // patch tokens per side
  // Channels of the stride-8 stage of the resnet.
  int stride8_channels() const;
  // Channels of each token the encoder outputs.
  int token_channels() const {
    return hidden_size + (pyramid ? stride8_channels() : 0) + (size_map ? 1 : 0);
  }
};

struct ProjectorConfig {
  int hidden_size = 256;
  bool pool = true;  // 2x2 average pooling of the patch grid before the MLP
  // Whether the decoder sees the (projected) patch tokens. Without them (REQUIRES the finding
  // head) the image reaches the decoder through the finding slots alone: the decoder cannot
  // memorize the training images' patch features and writes what the head read.
  bool patch_tokens = true;
};

// The auxiliary finding head (model/findings.h): when enabled, the image contributes one slot
// token per finding kind after its patch tokens.
struct FindingsConfig {
  bool enabled = false;
  int hidden_size = 256;
  // Sizes read per cell by one readout shared by all cells, weighted by where the finding lies
  // (model/findings.h); false: one global readout of the whole grid.
  bool cell_size = false;
  // The head's reading also enters the prompt as text (model::ImageRead, "image read: moderate
  // right lower consolidation; left upper nodule 14 mm"), which a small decoder copies far more
  // faithfully than it decodes the slots. REQUIRES a frozen image path (an image warm-up).
  bool read_as_text = false;
};

struct DecoderConfig {
  int vocab_size = 8000;
  int hidden_size = 128;
  int intermediate_size = 352;
  int num_hidden_layers = 2;
  int num_attention_heads = 4;
  int num_key_value_heads = 2;
  int max_position_embeddings = 1024;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool tie_word_embeddings = true;
  int head_dim() const { return hidden_size / num_attention_heads; }
};

struct ModelConfig {
  std::string name = "tiny";
  VisionConfig vision;
  ProjectorConfig projector;
  FindingsConfig findings;
  DecoderConfig decoder;

  // Image tokens spliced into the prompt: the (pooled) patch tokens, then the finding slots.
  int image_tokens() const {
    const int g = vision.grid();
    const int patches = !projector.patch_tokens ? 0 : projector.pool ? (g / 2) * (g / 2) : g * g;
    return patches + (findings.enabled ? kFindingSlots : 0);
  }
  static constexpr int kFindingSlots = 12;  // model/findings.h kNumFindingKinds
};

// "tiny", "quick", "base" or "small"; NotFound lists the presets.
StatusOr<ModelConfig> PresetConfig(const std::string& name);
// A preset name or a path to a JSON file.
StatusOr<ModelConfig> LoadConfig(const std::string& name_or_path);

// InvalidArgument naming the first impossible value.
Status Validate(const ModelConfig& c);

json::Value ToJson(const ModelConfig& c);
StatusOr<ModelConfig> FromJson(const json::Value& v);

// The decoder as a Hugging Face config.json object (LlamaForCausalLM).
json::Value HfLlamaConfig(const DecoderConfig& d, int bos_id, int eos_id, int pad_id);

}  // namespace medscribe::model
