#include "model/vision.h"

#include "model/activation_checkpoint.h"

#include <cmath>

namespace medscribe::model {
namespace F = torch::nn::functional;
namespace nn = torch::nn;

VitBlockImpl::VitBlockImpl(int64_t hidden, int64_t heads_, int64_t mlp_ratio) : heads(heads_) {
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({hidden})));
  qkv = register_module("qkv", nn::Linear(hidden, 3 * hidden));
  proj = register_module("proj", nn::Linear(hidden, hidden));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({hidden})));
  fc1 = register_module("fc1", nn::Linear(hidden, mlp_ratio * hidden));
  fc2 = register_module("fc2", nn::Linear(mlp_ratio * hidden, hidden));
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), d = h / heads;
  const torch::Tensor qkv_out = qkv(norm1(x)).view({b, t, 3, heads, d}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv_out[0], k = qkv_out[1], v = qkv_out[2];
  const torch::Tensor att =
      F::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(d)),
                 F::SoftmaxFuncOptions(-1));
  const torch::Tensor y = torch::matmul(att, v).transpose(1, 2).reshape({b, t, h});
  const torch::Tensor x1 = x + proj(y);
  return x1 + fc2(F::gelu(fc1(norm2(x1))));
}

namespace {

// A normalization layer of `c` channels: GroupNorm (8 groups when they divide, else 1) or
// BatchNorm.
nn::AnyModule Norm(const std::string& kind, int64_t c) {
  if (kind == "batch") return nn::AnyModule(nn::BatchNorm2d(c));
  return nn::AnyModule(nn::GroupNorm(c % 8 == 0 ? 8 : 1, c));
}

// conv3x3 - norm - ReLU - conv3x3 - norm, plus the input (projected when the shape changes),
// then ReLU.
struct BasicBlockImpl : nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, const std::string& norm) {
    conv1 = register_module(
        "conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
    gn1 = Norm(norm, out);
    register_module("gn1", gn1.ptr());
    conv2 =
        register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
    gn2 = Norm(norm, out);
    register_module("gn2", gn2.ptr());
    if (in != out || stride != 1) {
      skip = register_module("skip",
                             nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor y = gn2.forward(conv2(F::relu(gn1.forward(conv1(x)))));
    return F::relu(y + (skip ? skip(x) : x));
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, skip{nullptr};
  nn::AnyModule gn1, gn2;
};
TORCH_MODULE(BasicBlock);

}  // namespace

VisionEncoderImpl::VisionEncoderImpl(const VisionConfig& c) : config(c) {
  const int64_t hidden = c.hidden_size;
  if (c.type == "vit") {
    patch_embed = register_module(
        "patch_embed",
        nn::Conv2d(nn::Conv2dOptions(c.channels, hidden, c.patch_size).stride(c.patch_size)));
    pos_embed =
        register_parameter("pos_embed", torch::randn({1, c.grid() * c.grid(), hidden}) * 0.02);
    for (int i = 0; i < c.layers; ++i) blocks->push_back(VitBlock(hidden, c.heads, c.mlp_ratio));
    register_module("blocks", blocks);
    norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({hidden})));
    return;
  }
  // ResNet: a stride-2 stem, then one stage per further halving, widths doubling up to hidden.
  const int stages = static_cast<int>(std::lround(std::log2(c.patch_size))) - 1;
  int64_t width = std::max<int64_t>(8, hidden >> stages);
  resnet = nn::Sequential();
  resnet->push_back(
      nn::Conv2d(nn::Conv2dOptions(c.channels, width, 3).stride(2).padding(1).bias(false)));
  resnet->push_back(Norm(c.norm, width));
  resnet->push_back(nn::Functional(torch::relu));
  for (int s = 0; s < stages; ++s) {
    const int64_t out = std::min<int64_t>(hidden, width * 2);
    for (int b = 0; b < c.layers; ++b) {
      resnet->push_back(BasicBlock(b == 0 ? width : out, out, b == 0 ? 2 : 1, c.norm));
    }
    width = out;
    if (c.pyramid && s == 1) pyramid_after = resnet->size();  // stage 2 ends at stride 8
  }
  resnet->push_back(nn::Conv2d(nn::Conv2dOptions(width, hidden, 1)));
  register_module("resnet", resnet);
  if (c.size_map) {
    // A stride-1 stem keeps every pixel; then one narrow stride-2 stage per halving down to the
    // grid (a conv3x3 pair from the third on), and a 1x1 readout of the size per token.
    const auto conv = [&](int64_t in, int64_t out, int64_t stride) {
      sizer->push_back(
          nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
      sizer->push_back(Norm(c.norm, out));
      sizer->push_back(nn::Functional(torch::relu));
    };
    sizer = nn::Sequential();
    int64_t w = 12;
    conv(c.channels, w, 1);
    for (int s = 0; s <= stages; ++s) {
      const int64_t out = std::min<int64_t>(64, s == 0 ? 24 : w + 16);
      conv(w, out, 2);
      if (s >= 1) conv(out, out, 1);
      w = out;
    }
    sizer->push_back(nn::Conv2d(nn::Conv2dOptions(w, 1, 1)));
    register_module("sizer", sizer);
  }
}

torch::Tensor VisionEncoderImpl::forward(torch::Tensor images, const torch::Tensor& sized) {
  if (images.size(-1) != config.image_size || images.size(-2) != config.image_size) {
    images =
        F::interpolate(images, F::InterpolateFuncOptions()
                                   .size(std::vector<int64_t>{config.image_size, config.image_size})
                                   .mode(torch::kBilinear)
                                   .align_corners(false));
  }
  if (resnet) {
    torch::Tensor f = images, fine;
    size_t i = 0;
    for (auto& layer : *resnet) {
      f = layer.forward(f);
      if (++i == pyramid_after) fine = f;  // the stride-8 features
    }
    if (fine.defined()) {  // [B, hidden + C8, g, g]
      const int64_t cell = fine.size(-1) / f.size(-1);
      f = torch::cat({f, F::max_pool2d(fine, F::MaxPool2dFuncOptions(cell))}, 1);
    }
    if (sizer) {  // [..., + 1, g, g]
      torch::Tensor map;
      if (!sized.defined()) {
        map = sizer->forward(images);
      } else {
        map = torch::zeros({f.size(0), 1, f.size(2), f.size(3)}, f.options());
        const torch::Tensor rows = sized.nonzero().view(-1);
        if (rows.numel() > 0)
          map = map.index_copy(0, rows, sizer->forward(images.index_select(0, rows)));
      }
      f = torch::cat({f, map}, 1);
    }
    return f.flatten(2).transpose(1, 2);
  }
  torch::Tensor x = patch_embed(images).flatten(2).transpose(1, 2) + pos_embed;
  for (const auto& b : *blocks) {
    VitBlockImpl* block = b->as<VitBlock>();
    x = checkpoint_blocks
            ? Checkpointed([block](const torch::Tensor& in) { return block->forward(in); }, x)
            : block->forward(x);
  }
  return norm(x);
}

ProjectorImpl::ProjectorImpl(const ModelConfig& c)
    : grid(c.vision.grid()), pool(c.projector.pool), patch_tokens(c.projector.patch_tokens) {
  fc1 = register_module("fc1", nn::Linear(c.vision.token_channels(), c.projector.hidden_size));
  fc2 = register_module("fc2", nn::Linear(c.projector.hidden_size, c.decoder.hidden_size));
}

torch::Tensor ProjectorImpl::forward(const torch::Tensor& tokens) {
  torch::Tensor x = tokens;
  if (pool) {
    const int64_t b = x.size(0), h = x.size(2);
    x = x.transpose(1, 2).reshape({b, h, grid, grid});
    x = F::avg_pool2d(x, F::AvgPool2dFuncOptions(2)).flatten(2).transpose(1, 2);
  }
  return fc2(F::gelu(fc1(x)));
}

}  // namespace medscribe::model
