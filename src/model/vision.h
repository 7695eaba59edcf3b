// Vision encoders: a ViT (patch embedding, learned positions, pre-norm transformer blocks) and a
// small ResNet option. Both map images [B, channels, S, S] (S = image_size; other sizes are
// resized bilinearly) to patch tokens [B, grid * grid, token_channels()] in row-major grid order
// (VisionConfig: hidden_size channels, then the pyramid's, then the size map's).
#pragma once

#include <torch/torch.h>

#include "model/config.h"

namespace medscribe::model {

struct VitBlockImpl : torch::nn::Module {
  VitBlockImpl(int64_t hidden, int64_t heads, int64_t mlp_ratio);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t heads;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(VitBlock);

struct VisionEncoderImpl : torch::nn::Module {
  explicit VisionEncoderImpl(const VisionConfig& c);
  // With vision.size_map, `sized` ([B] bool) names the images whose size map is computed; the
  // others' is zero (training, where only images with a measured lesion teach it). Undefined:
  // every image's.
  torch::Tensor forward(torch::Tensor images, const torch::Tensor& sized = {});
  VisionConfig config;
  // vit
  torch::nn::Conv2d patch_embed{nullptr};
  torch::Tensor pos_embed;
  torch::nn::ModuleList blocks;
  // Training option: recompute each ViT block in backward instead of keeping its activations.
  bool checkpoint_blocks = false;
  torch::nn::LayerNorm norm{nullptr};
  // resnet
  torch::nn::Sequential resnet{nullptr};
  size_t pyramid_after = 0;  // with vision.pyramid: layers up to the stride-8 features
  // With vision.size_map: full-resolution branch, images [B, C, S, S] -> [B, 1, g, g].
  torch::nn::Sequential sizer{nullptr};
};
TORCH_MODULE(VisionEncoder);

// Patch tokens -> decoder embeddings: optional 2x2 average pooling of the grid, then
// Linear -> GELU -> Linear.
struct ProjectorImpl : torch::nn::Module {
  ProjectorImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& tokens);
  int64_t grid;
  bool pool;
  bool
      patch_tokens;  // ProjectorConfig::patch_tokens: false, and no patch token reaches the decoder
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Projector);

}  // namespace medscribe::model
