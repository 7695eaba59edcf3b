#include "model/findings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace medscribe::model {
namespace F = torch::nn::functional;
namespace nn = torch::nn;

static_assert(kNumFindingKinds == ModelConfig::kFindingSlots,
              "one slot token per finding kind (config.h)");
static_assert(kNumFindingKinds == StatedReading::kKinds,
              "a stated side per finding kind (stated_reading.h)");
static_assert(static_cast<int>(ReadSide::kRight) == 1 && static_cast<int>(ReadSide::kLeft) == 2 &&
                  static_cast<int>(ReadSide::kBilateral) == 3,
              "ReadSide follows the side fields' order");

namespace {

constexpr int64_t kGlobalFields = kFieldsPerKind - 1;  // all but present
// present, 3 side, 3 severity, 3 zone, 20 size digits
constexpr int64_t kSlotFeatures = 1 + 3 + 3 + 3 + 20;
constexpr double kSizeCenterMm = 20, kSizeScale = 0.7;

// Mean of `loss` over the entries where `mask` holds; 0 (with a gradient path) when none does.
torch::Tensor MaskedMean(const torch::Tensor& loss, const torch::Tensor& mask) {
  const torch::Tensor m = mask.to(loss.dtype());
  return (loss * m).sum() / m.sum().clamp_min(1.0);
}

}  // namespace

std::string_view FindingKindName(FindingKind k) {
  constexpr std::string_view kNames[kNumFindingKinds] = {
      "cardiomegaly",      "pleural_effusion", "consolidation", "edema",
      "pneumothorax",      "lesion",           "atelectasis",   "fracture",
      "endotracheal_tube", "central_line",     "pacemaker",     "chest_tube"};
  return kNames[static_cast<int>(k)];
}

double NormalizeSize(double mm) {
  return (std::log(std::max(mm, 1.0)) - std::log(kSizeCenterMm)) / kSizeScale;
}
double DenormalizeSize(double v) { return kSizeCenterMm * std::exp(v * kSizeScale); }

namespace {

// Which kinds a reading gives a side: the lung findings, rib fractures, and the devices whose
// reports place them (a central line, a pacemaker, a chest tube).
constexpr bool kSide[kNumFindingKinds] = {false, true, true,  false, true, true,
                                          true,  true, false, true,  true, true};

// Whose side a draft is made to state: the lung findings and the placed devices. The head finds
// too few rib fractures to say.
constexpr bool kStatedSide[kNumFindingKinds] = {false, true,  true,  false, true, true,
                                                true,  false, false, true,  true, true};

// A device's side is read only where the head is this sure of it: a model trained before its
// reports' device sides were labelled has untrained side outputs for devices, near uniform.
constexpr float kDeviceSideSure = 0.8f;

// The likeliest side of kind `k` in its fields `x` (0 right, 1 left, 2 bilateral), or -1 where
// none is above 0 (NaN: the report does not say) or a device's is below kDeviceSideSure.
int LikeliestSide(const float* x, int k) {
  int best = -1;
  for (int i = 0; i < 3; ++i)
    if (x[kRight + i] > 0 && (best < 0 || x[kRight + i] > x[kRight + best])) best = i;
  const bool device = k >= static_cast<int>(FindingKind::kEndotrachealTube);
  return best >= 0 && device && x[kRight + best] < kDeviceSideSure ? -1 : best;
}

// A size as a reading states it: whole mm, 1..199.
long WholeMm(double mm) { return std::lround(std::clamp(mm, 1.0, 199.0)); }

// The words of a reading, one item per kind, from kFieldsPerKind floats per kind: empty where
// presence is below 0.5 (or NaN); else severity, side and zone, each as its likeliest value and
// left out when all of its values are NaN or zero (a report that does not say), then the kind's
// name, and a lesion's size in mm where `size_mm` of its fields is not NaN. `sentence` words
// the item as a report's sentence ("Moderate right lower zone consolidation.", "Left upper zone
// nodule measuring 14 mm.", a device "in place"); else as the prompt's reading ("moderate right
// lower consolidation", "left upper nodule 14 mm").
template <typename SizeMm>
std::array<std::string, kNumFindingKinds> ReadingItems(const float* f, SizeMm size_mm,
                                                       bool sentence) {
  static constexpr const char* kNames[kNumFindingKinds] = {
      "cardiomegaly",      "pleural effusion", "consolidation", "edema",
      "pneumothorax",      "nodule",           "atelectasis",   "rib fracture",
      "endotracheal tube", "central line",     "pacemaker",     "chest tube"};
  // Which words each kind takes: severity, side, zone.
  static constexpr bool kSeverity[kNumFindingKinds] = {true, true,  true,  true,  true,  false,
                                                       true, false, false, false, false, false};
  static constexpr bool kZone[kNumFindingKinds] = {false, false, true,  false, false, true,
                                                   true,  false, false, false, false, false};
  const auto likeliest = [](const float* x, std::initializer_list<const char*> words) {
    int best = -1;
    for (int i = 0; i < static_cast<int>(words.size()); ++i)
      if (x[i] > 0 && (best < 0 || x[i] > x[best])) best = i;  // NaN compares false
    return best < 0 ? std::string() : std::string(words.begin()[best]) + " ";
  };
  static constexpr const char* kSides[] = {"right ", "left ", "bilateral "};
  std::array<std::string, kNumFindingKinds> out;
  for (int k = 0; k < kNumFindingKinds; ++k) {
    const float* x = f + k * kFieldsPerKind;
    if (!(x[kPresent] >= 0.5f)) continue;
    std::string item;
    if (kSeverity[k]) item += likeliest(x + kMild, {"mild", "moderate", "severe"});
    if (const int side = kSide[k] ? LikeliestSide(x, k) : -1; side >= 0) item += kSides[side];
    if (kZone[k]) {
      std::string zone = likeliest(x + kUpper, {"upper", "middle", "lower"});
      if (sentence && !zone.empty()) zone += "zone ";
      item += zone;
    }
    const bool lesion = k == static_cast<int>(FindingKind::kLesion);
    const double size = lesion ? size_mm(x) : std::nan("");
    const long mm = std::isnan(size) ? 0 : WholeMm(size);
    const bool placed_pacemaker = sentence && k == static_cast<int>(FindingKind::kPacemaker) &&
                                  !item.empty();  // "Left chest wall pacemaker in place."
    item += sentence && k == static_cast<int>(FindingKind::kEdema) ? "pulmonary edema"
            : placed_pacemaker                                     ? "chest wall pacemaker"
            : lesion && mm >= 30                                   ? "mass"
                                                                   : kNames[k];
    if (mm > 0)
      item.append(sentence ? " measuring " : " ").append(std::to_string(mm)).append(" mm");
    if (sentence && k > static_cast<int>(FindingKind::kFracture)) item += " in place";
    if (sentence) {
      item[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(item[0])));
      item += '.';
    }
    out[static_cast<size_t>(k)] = std::move(item);
  }
  return out;
}

// The prompt's reading: the items of the kinds found, separated by "; ", or "none".
template <typename SizeMm>
std::string Reading(const float* f, SizeMm size_mm) {
  std::string out;
  for (const std::string& item : ReadingItems(f, size_mm, /*sentence=*/false)) {
    if (item.empty()) continue;
    if (!out.empty()) out.append("; ");
    out.append(item);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<double> CalibrateReadThresholds(const torch::Tensor& present,
                                            const torch::Tensor& labels, double beta,
                                            int min_positives) {
  const torch::Tensor pt = present.to(torch::kFloat64).contiguous();
  const torch::Tensor yt = labels.to(torch::kFloat64).contiguous();
  const auto p = pt.accessor<double, 2>();
  const auto y = yt.accessor<double, 2>();
  const int64_t n = pt.size(0);
  const double b2 = beta * beta;
  std::vector<double> out(kNumFindingKinds, 0.5);
  for (int k = 0; k < kNumFindingKinds; ++k) {
    int positives = 0;
    for (int64_t i = 0; i < n; ++i) positives += y[i][k] >= 0.5;
    if (positives < min_positives) continue;
    double best = -1;
    for (int step = 0; step <= 12; ++step) {
      const double t = 0.20 + 0.05 * step;
      double tp = 0, fp = 0, fn = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double label = y[i][k];
        if (std::isnan(label)) continue;
        const bool found = p[i][k] >= t, truth = label >= 0.5;
        tp += found && truth;
        fp += found && !truth;
        fn += !found && truth;
      }
      const double f = tp > 0 ? (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp) : 0.0;
      // Strictly better, or as good and nearer 0.5.
      if (f > best + 1e-12 ||
          (std::abs(f - best) <= 1e-12 && std::abs(t - 0.5) < std::abs(out[k] - 0.5))) {
        best = f;
        out[k] = t;
      }
    }
  }
  return out;
}

std::string ReadThresholdsText(const std::vector<double>& thresholds) {
  std::string out;
  for (int k = 0; k < kNumFindingKinds; ++k) {
    char t[16];
    const int n = std::snprintf(t, sizeof t, " %.2f", thresholds[static_cast<size_t>(k)]);
    out.append(" ").append(FindingKindName(static_cast<FindingKind>(k)));
    out.append(t, static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof t) - 1)));
  }
  return out;
}

std::string ImageRead(const torch::Tensor& probabilities) {
  const torch::Tensor p = probabilities.to(torch::kFloat32).contiguous();
  return Reading(p.data_ptr<float>(), [](const float* x) { return double{x[kSize]}; });
}

StatedReading ReadingToState(const torch::Tensor& probabilities) {
  const torch::Tensor p = probabilities.to(torch::kFloat32).contiguous();
  const float* f = p.data_ptr<float>();
  StatedReading out;
  const auto sentences = ReadingItems(
      f, [](const float* x) { return double{x[kSize]}; }, /*sentence=*/true);
  for (int k = 0; k < kNumFindingKinds; ++k) {
    const float* x = f + k * kFieldsPerKind;
    if (k <= static_cast<int>(FindingKind::kFracture))
      out.presence[static_cast<size_t>(k)] =
          x[kPresent] >= 0.5f ? ReadPresence::kFound : ReadPresence::kNotFound;
    out.statement[static_cast<size_t>(k)] = sentences[static_cast<size_t>(k)];
    if (!(x[kPresent] >= 0.5f)) continue;
    if (k == static_cast<int>(FindingKind::kLesion))
      out.lesion_mm = static_cast<double>(WholeMm(x[kSize]));
    if (!kStatedSide[k]) continue;
    if (const int side = LikeliestSide(x, k); side >= 0)
      out.side[static_cast<size_t>(k)] = static_cast<ReadSide>(side + 1);
  }
  return out;
}

std::string ReportedRead(const FindingTargets& targets) {
  return Reading(targets.data(), [](const float* x) {
    return std::isnan(x[kSize]) ? std::nan("") : DenormalizeSize(x[kSize]);
  });
}

torch::Tensor SizeCode(const torch::Tensor& size_mm) {
  const torch::Tensor mm = size_mm.detach().round().clamp(0, 99).to(torch::kLong);
  const auto options = size_mm.options();
  return torch::cat({torch::one_hot(torch::div(mm, 10, "floor"), 10).to(options),
                     torch::one_hot(torch::remainder(mm, 10), 10).to(options)},
                    -1);
}

torch::Tensor AllowedCells(const torch::Tensor& targets) {
  const auto options = targets.options();
  const torch::Tensor t = torch::nan_to_num(targets, 0.0);
  auto field = [&](int f) { return t.select(-1, f).unsqueeze(-1); };  // [..., 1]
  // Image columns 0-1 hold the patient's right lung, 2-3 the left; rows 0-1 the upper zone,
  // 1-2 the middle, 2-3 the lower.
  const torch::Tensor right_out = torch::tensor({0.f, 0.f, 1.f, 1.f}, options);
  const torch::Tensor left_out = torch::tensor({1.f, 1.f, 0.f, 0.f}, options);
  const torch::Tensor cols = 1 - field(kRight) * right_out - field(kLeft) * left_out;
  const torch::Tensor upper_out = torch::tensor({0.f, 0.f, 1.f, 1.f}, options);
  const torch::Tensor middle_out = torch::tensor({1.f, 0.f, 0.f, 1.f}, options);
  const torch::Tensor lower_out = torch::tensor({1.f, 1.f, 0.f, 0.f}, options);
  const torch::Tensor rows =
      1 - field(kUpper) * upper_out - field(kMiddle) * middle_out - field(kLower) * lower_out;
  const torch::Tensor grid = rows.unsqueeze(-1) * cols.unsqueeze(-2);  // [..., 4, 4]
  return grid.flatten(-2).gt(0.5);
}

FindingHeadImpl::FindingHeadImpl(const ModelConfig& c)
    : grid(c.vision.grid()),
      channels(c.vision.token_channels() - (c.vision.size_map ? 1 : 0)),
      size_map(c.vision.size_map) {
  const int64_t hidden = c.findings.hidden_size;
  cell1 = register_module("cell1", nn::Conv2d(nn::Conv2dOptions(2 * channels, hidden, 1)));
  cell2 = register_module("cell2", nn::Conv2d(nn::Conv2dOptions(hidden, kNumFindingKinds, 1)));
  fc1 = register_module("fc1", nn::Linear(2 * channels * kCells, hidden));
  fc2 = register_module("fc2", nn::Linear(hidden, kNumFindingKinds * kGlobalFields));
  slot = register_module("slot", nn::Linear(kSlotFeatures, c.decoder.hidden_size));
  if (c.findings.cell_size) {
    size1 = register_module("size1", nn::Conv2d(nn::Conv2dOptions(2 * channels, hidden, 1)));
    size2 = register_module("size2", nn::Conv2d(nn::Conv2dOptions(hidden, kNumFindingKinds, 1)));
  }
  kind_embed = register_parameter("kind_embed",
                                  torch::randn({kNumFindingKinds, c.decoder.hidden_size}) * 0.02);
  present_offset = register_buffer("present_offset", torch::zeros({kNumFindingKinds}));
}

void FindingHeadImpl::SetReadThresholds(const std::vector<double>& thresholds) {
  torch::NoGradGuard no_grad;
  const torch::Tensor t = torch::tensor(thresholds, torch::kFloat64);
  present_offset.copy_(torch::log(t / (1 - t)).to(present_offset.dtype()));
}

std::vector<double> FindingHeadImpl::ReadThresholds() {
  const torch::Tensor t = torch::sigmoid(present_offset.detach().to(torch::kFloat64)).contiguous();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

std::vector<torch::Tensor> FindingHeadImpl::ReaderParameters() {
  std::vector<torch::Tensor> out;
  for (const auto& p : named_parameters(/*recurse=*/true)) {
    if (!p.key().starts_with("slot.") && p.key() != "kind_embed") out.push_back(p.value());
  }
  return out;
}

torch::Tensor FindingHeadImpl::forward(const torch::Tensor& tokens) {
  const int64_t b = tokens.size(0);
  const torch::Tensor all = tokens.transpose(1, 2).reshape({b, -1, grid, grid});
  const torch::Tensor x = size_map ? all.narrow(1, 0, channels) : all;
  const torch::Tensor pooled =
      torch::cat({F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(kCellGrid)),
                  F::adaptive_max_pool2d(x, F::AdaptiveMaxPool2dFuncOptions(kCellGrid))},
                 1);  // [B, 2C, 4, 4]
  const torch::Tensor cells =
      cell2(F::gelu(cell1(pooled))).view({b, kNumFindingKinds, kCells});  // [B, K, 16]
  // The image holds the finding when some cell does: a smooth maximum over the cells.
  const torch::Tensor present =
      (torch::logsumexp(cells, -1, /*keepdim=*/true) - std::log(static_cast<double>(kCells)));
  torch::Tensor global = fc2(F::dropout(F::gelu(fc1(pooled.flatten(1))),
                                        F::DropoutFuncOptions().p(0.2).training(is_training())))
                             .view({b, kNumFindingKinds, kGlobalFields});
  // The size column [B, K]: the global readout's, unless read per cell and, for a lesion, from
  // the size map.
  torch::Tensor size = global.select(2, kSize - 1);
  if (!size1.is_empty()) {
    // Each cell's size, weighted by where the finding lies (the weights take no gradient: the
    // size loss must not move the presence cells).
    const torch::Tensor sizes = size2(F::gelu(size1(pooled))).view({b, kNumFindingKinds, kCells});
    size = (sizes * torch::softmax(cells.detach(), -1)).sum(-1);
  }
  if (size_map) {
    // A lesion's size: the size map's reading in each presence cell, weighted by where the
    // lesion lies (no gradient through the weights, as above).
    const int lesion = static_cast<int>(FindingKind::kLesion);
    const torch::Tensor map = F::adaptive_avg_pool2d(all.narrow(1, channels, 1),
                                                     F::AdaptiveAvgPool2dFuncOptions(kCellGrid))
                                  .view({b, kCells});
    const torch::Tensor where = torch::softmax(cells.select(1, lesion).detach(), -1);
    const torch::Tensor is_lesion =
        torch::arange(kNumFindingKinds, global.options()).eq(lesion).to(global.dtype());
    size = size * (1 - is_lesion) + (map * where).sum(-1, /*keepdim=*/true) * is_lesion;
  }
  if (!size1.is_empty() || size_map) {
    global = torch::cat({global.narrow(2, 0, kSize - 1), size.unsqueeze(2),
                         global.narrow(2, kSize, kGlobalFields - kSize)},
                        2);
  }
  return torch::cat({present, global, cells}, 2);
}

torch::Tensor FindingHeadImpl::Probabilities(const torch::Tensor& out) {
  const torch::Tensor present =
      torch::sigmoid(out.narrow(2, kPresent, 1) - present_offset.to(out.dtype()).view({1, -1, 1}));
  const torch::Tensor side = torch::softmax(out.narrow(2, kRight, 3), 2);
  const torch::Tensor severity = torch::softmax(out.narrow(2, kMild, 3), 2);
  const torch::Tensor size = kSizeCenterMm * torch::exp(out.narrow(2, kSize, 1) * kSizeScale);
  const torch::Tensor zone = torch::softmax(out.narrow(2, kUpper, 3), 2);
  return torch::cat({present, side, severity, size, zone}, 2);
}

torch::Tensor FindingHeadImpl::Slots(const torch::Tensor& out) {
  const torch::Tensor p = Probabilities(out);
  const torch::Tensor present = p.narrow(2, kPresent, 1);
  const torch::Tensor features =
      torch::cat({present, present * p.narrow(2, kRight, 3), present * p.narrow(2, kMild, 3),
                  present * p.narrow(2, kUpper, 3), present * SizeCode(p.select(2, kSize))},
                 2);
  return slot(features) + kind_embed.unsqueeze(0);
}

torch::Tensor FindingHeadImpl::Loss(const torch::Tensor& out, const torch::Tensor& targets) {
  const torch::Tensor t = targets.view({-1, kNumFindingKinds, kFieldsPerKind}).to(out.dtype());
  const torch::Tensor present_t = t.select(2, kPresent);
  const torch::Tensor present_known = ~torch::isnan(present_t);
  const torch::Tensor present = torch::nan_to_num(present_t, 0.0);
  const auto bce = F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone);
  const torch::Tensor present_loss = MaskedMean(
      F::binary_cross_entropy_with_logits(out.select(2, kPresent), present, bce), present_known);
  auto categorical = [&](int64_t first) {
    const torch::Tensor target = t.narrow(2, first, 3);
    const torch::Tensor known = ~torch::isnan(target.select(2, 0));
    const torch::Tensor index = torch::nan_to_num(target, 0.0).argmax(2);
    const torch::Tensor nll =
        -torch::log_softmax(out.narrow(2, first, 3), 2).gather(2, index.unsqueeze(2)).squeeze(2);
    return MaskedMean(nll, known);
  };
  const torch::Tensor size_target = t.select(2, kSize);
  const torch::Tensor size_loss =
      MaskedMean(F::smooth_l1_loss(out.select(2, kSize), torch::nan_to_num(size_target, 0.0),
                                   F::SmoothL1LossFuncOptions().reduction(torch::kNone)),
                 ~torch::isnan(size_target));
  // Cells that cannot hold the finding: every cell of an absent one, and the cells a present
  // one's side and zone rule out.
  const torch::Tensor absent = (present_known & present.lt(0.5)).unsqueeze(2);
  const torch::Tensor ruled_out =
      absent | ((present_known & present.ge(0.5)).unsqueeze(2) & ~AllowedCells(t));
  const torch::Tensor cells = out.narrow(2, kFieldsPerKind, kCells);
  const torch::Tensor cell_loss =
      MaskedMean(F::binary_cross_entropy_with_logits(cells, torch::zeros_like(cells), bce),
                 ruled_out.expand_as(cells));
  return present_loss + cell_loss + 0.5 * categorical(kRight) + 0.3 * categorical(kMild) +
         0.3 * categorical(kUpper) + 0.5 * size_loss;
}

}  // namespace medscribe::model
