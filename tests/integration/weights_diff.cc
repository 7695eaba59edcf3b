// weights_diff A.safetensors B.safetensors: how far apart two sets of weights are, printed as
// `rel_diff=X max_rel_diff=Y (tensor)`: X = ||a - b|| / ||a|| over all parameters together (L2),
// Y = the largest max|a - b| / max|a| of a single tensor. Exit 1 when the files do not hold the
// same tensor names and shapes, 2 on a read error.
#include <cmath>
#include <cstdio>
#include <map>

#include "model/safetensors.h"

int main(int argc, char** argv) {
  using namespace medscribe;
  if (argc != 3) {
    std::fprintf(stderr, "usage: weights_diff A.safetensors B.safetensors\n");
    return 2;
  }
  auto a = model::LoadSafetensors(argv[1]);
  auto b = model::LoadSafetensors(argv[2]);
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "error: %s\n", (!a.ok() ? a.status() : b.status()).message().c_str());
    return 2;
  }
  std::map<std::string, torch::Tensor> bt(b->tensors.begin(), b->tensors.end());
  if (a->tensors.size() != bt.size()) {
    std::fprintf(stderr, "different tensor counts: %zu vs %zu\n", a->tensors.size(), bt.size());
    return 1;
  }
  double worst = 0, diff2 = 0, norm2 = 0;
  std::string where;
  for (const auto& [name, t] : a->tensors) {
    auto it = bt.find(name);
    if (it == bt.end() || !it->second.sizes().equals(t.sizes())) {
      std::fprintf(stderr, "tensor %s missing or of another shape in %s\n", name.c_str(), argv[2]);
      return 1;
    }
    const torch::Tensor x = t.to(torch::kFloat64), y = it->second.to(torch::kFloat64);
    const double scale = std::max(1e-12, x.abs().max().item<double>());
    const double d = (x - y).abs().max().item<double>() / scale;
    diff2 += (x - y).square().sum().item<double>();
    norm2 += x.square().sum().item<double>();
    if (d > worst || where.empty()) {
      worst = std::max(worst, d);
      where = name;
    }
  }
  std::printf("rel_diff=%.3g max_rel_diff=%.3g (%s)\n", std::sqrt(diff2 / std::max(1e-300, norm2)),
              worst, where.c_str());
  return 0;
}
