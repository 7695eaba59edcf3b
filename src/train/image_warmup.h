// The image path's warm-up: the vision encoder and the finding head trained alone, on images and
// the finding labels of the training reports, before the decoder is trained on their frozen
// features.
//
// A report carries a handful of decision tokens (which findings, which side, how large) among
// many tokens of phrasing; trained only through the language loss, a vision encoder learns from
// those few tokens and slowly. Trained first on the findings directly (binary cross-entropy,
// cross-entropy, a size regression; model/findings.h), with light augmentation — shifts of up to
// 8 pixels, gamma and contrast, brightness and noise, never a horizontal flip (laterality is
// scored) — it reaches its accuracy in minutes, and its features, computed once, serve every
// decoder step afterwards.
//
// Thread safety: not thread-safe; uses the caller's LibTorch thread settings.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "model/multimodal.h"
#include "train/data.h"
#include "train/finding_labels.h"

namespace medscribe::train {

struct WarmupOptions {
  int epochs = 30;
  int64_t batch_size = 32;
  double learning_rate = 3e-3;
  double weight_decay = 5e-4;
  uint64_t seed = 0;
  bool progress = true;
  // > 0: after training, each kind's presence is read at the threshold that maximizes F-beta on
  // the validation reports' labels (model::CalibrateReadThresholds; beta < 1 weighs precision
  // more). 0 reads every kind at 0.5.
  double read_beta = 0;
};

struct WarmupResult {
  double train_loss = 0, val_loss = 0;
  // Presence of each finding kind against the validation reports' labels, read at the
  // calibrated thresholds (val_micro_f1) and at probability 0.5.
  double val_micro_f1 = 0, val_micro_f1_at_half = 0;
  std::vector<double> read_thresholds;  // per kind, FindingKind order
  double seconds = 0;
};

// Trains `m`'s vision encoder and finding head on the train split's images and the labels of
// their reports, then calibrates the head's reading thresholds on `val` (WarmupOptions::
// read_beta; none without validation samples). REQUIRES: m->findings is not null.
// FailedPrecondition when no training report names a finding.
StatusOr<WarmupResult> WarmUpImagePath(model::ReportModel& m, const SplitIndex& train,
                                       const std::vector<RawSample>& val,
                                       const FindingLabeler& labeler, const WarmupOptions& o);

// The vision encoder's tokens [g*g, C] of each sample's first image (eval mode, no gradient),
// by sample key.
using VisionCache = std::map<std::string, torch::Tensor>;
StatusOr<VisionCache> CacheVisionTokens(model::ReportModel& m, const SplitIndex& split,
                                        const std::vector<RawSample>& extra);

// Randomly shifted (up to `max_shift` pixels), gamma-, contrast- and brightness-jittered, noisy
// copies of images [B, 1, S, S] in [0, 1]; never flipped.
torch::Tensor Augment(const torch::Tensor& images, int64_t max_shift, torch::Generator& gen);

}  // namespace medscribe::train
