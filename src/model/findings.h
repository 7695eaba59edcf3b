// The auxiliary finding head and the finding slots it gives the decoder.
//
// The head reads the vision encoder's feature grid and predicts, for each kind of finding a chest
// radiograph report names, whether it is present, its side (right, left, bilateral), its
// severity (mild, moderate, severe), its zone (upper, middle, lower) and, for a nodule or mass,
// its size. It is trained on labels that a labeler extracts from the *training reports*
// (train/finding_labels.h), never from ground truth, and it feeds the decoder: each kind becomes
// one "slot" token spliced after the image's patch tokens, the sum of a learned kind embedding
// and a projection of the head's probabilities and of the predicted size's digits (tens and
// units of the size in mm, one-hot: the tokenizer splits digits, so a size is written digit by
// digit, in mm or in cm, and each digit is read from its own code). Training and serving run the
// same path, so the decoder reads at serving exactly what it learned to read.
//
// How large: with FindingsConfig::cell_size, each cell reads a size with one readout shared by
// all cells, and the image's size is their mean weighted by where the finding lies (the softmax
// of its cell logits). A readout of the whole grid would have to learn each position apart, from
// the few lesions that fall in it. With VisionConfig::size_map, a lesion's size is instead read
// from the size map the encoder's full-resolution branch adds to each token (the last channel),
// weighted in the same way; the head's other parts never see that channel.
//
// Where, not only whether: presence is scored per cell of a 4 x 4 grid over the image (the grid
// lines fall between the lungs and between the zones) and an image's presence is the smooth
// maximum (log-sum-exp) over its cells. A report's side and zone say which cells cannot hold the
// finding ("right lower zone consolidation": not the left columns, not the top row), and those
// cells are trained negative, as are all cells of an absent finding; the head so learns where
// each finding lies from the words that place it, with far fewer images than from presence
// alone.
//
// Target layout (FindingTargets): kFieldsPerKind floats per kind, in FindingKind order:
//   [present, right, left, bilateral, mild, moderate, severe, size, upper, middle, lower]
// present is 0 or 1; side, severity and zone are one-hot; size is NormalizeSize(mm). A NaN field
// is unknown (the report does not say) and is left out of the loss; side, severity, zone and
// size are only learned where the finding is present.
//
// Thread safety: a module is not thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "model/config.h"
#include "model/stated_reading.h"

namespace medscribe::model {

enum class FindingKind {
  kCardiomegaly,
  kPleuralEffusion,
  kConsolidation,
  kEdema,
  kPneumothorax,
  kLesion,  // nodule or mass
  kAtelectasis,
  kFracture,
  kEndotrachealTube,
  kCentralLine,
  kPacemaker,
  kChestTube,
};
inline constexpr int kNumFindingKinds = 12;
inline constexpr int kFieldsPerKind = 11;
inline constexpr int kFindingTargetSize = kNumFindingKinds * kFieldsPerKind;
enum FindingField {
  kPresent = 0,
  kRight,
  kLeft,
  kBilateral,
  kMild,
  kModerate,
  kSevere,
  kSize,
  kUpper,
  kMiddle,
  kLower
};
inline constexpr int kCellGrid = 4;  // presence cells per side
inline constexpr int kCells = kCellGrid * kCellGrid;
// Raw outputs per kind: the fields (present holds the image-level logit), then the cell logits.
inline constexpr int kOutputsPerKind = kFieldsPerKind + kCells;

std::string_view FindingKindName(FindingKind k);  // "pleural_effusion"

// Sizes in mm to the regression target and back (log scale around 20 mm).
double NormalizeSize(double mm);
double DenormalizeSize(double value);

using FindingTargets = std::array<float, kFindingTargetSize>;

// Which of the kCells cells (row-major, image orientation: the patient's right on the image's
// left) may hold a finding of the given side and zone targets; all where they are unknown.
// targets [..., kFieldsPerKind] -> bool [..., kCells].
torch::Tensor AllowedCells(const torch::Tensor& targets);

struct FindingHeadImpl : torch::nn::Module {
  explicit FindingHeadImpl(const ModelConfig& c);
  // Vision tokens [B, g*g, C] (row-major grid) -> raw outputs [B, K, kOutputsPerKind]: logits of
  // present (image level), side, severity and zone, the normalized size, and the cell logits.
  torch::Tensor forward(const torch::Tensor& tokens);
  // Raw outputs -> the slot embeddings [B, K, decoder hidden].
  torch::Tensor Slots(const torch::Tensor& outputs);
  // Probabilities [B, K, kFieldsPerKind]: present (sigmoid of the presence logit less the kind's
  // present_offset); side, severity and zone as distributions; the size in mm.
  torch::Tensor Probabilities(const torch::Tensor& outputs);
  // Makes the reading's presence cross 0.5 where the uncalibrated probability crosses
  // thresholds[k] (present_offset = logit(thresholds[k])). REQUIRES: kNumFindingKinds values in
  // (0, 1).
  void SetReadThresholds(const std::vector<double>& thresholds);
  // The thresholds SetReadThresholds set (0.5 each when it was never called).
  std::vector<double> ReadThresholds();
  // The parameters that read the image (presence cells, side, severity, zone, size): all but the
  // slot projection and the kind embeddings, which are the decoder's way in.
  std::vector<torch::Tensor> ReaderParameters();
  // Mean loss over the known targets [B, kFindingTargetSize] (NaN: unknown), including the
  // cells the targets rule out.
  torch::Tensor Loss(const torch::Tensor& outputs, const torch::Tensor& targets);

  int64_t grid, channels;  // channels: the features', without the size map
  bool size_map;           // VisionConfig::size_map: tokens end with the lesion-size channel
  torch::nn::Conv2d cell1{nullptr}, cell2{nullptr};  // per-cell presence
  torch::nn::Conv2d size1{nullptr}, size2{nullptr};  // per-cell size (FindingsConfig::cell_size)
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};      // side, severity, zone, size
  torch::nn::Linear slot{nullptr};
  torch::Tensor kind_embed;  // [K, decoder hidden]
  // Buffer [K], saved with the weights: the presence logit each kind is read against (0: the
  // probability 0.5). Loss() never sees it; it moves only where a reading decides.
  torch::Tensor present_offset;
};
TORCH_MODULE(FindingHead);

// Per kind, the presence threshold that maximizes F-beta (beta < 1 weighs precision more) of
// presence read at it from `present` [N, kNumFindingKinds] (uncalibrated probabilities) against
// `labels` [N, kNumFindingKinds] (1 present, 0 absent, NaN unknown: left out), searched from 0.20
// to 0.80 in steps of 0.05; ties go to the threshold nearest 0.5. A kind with fewer than
// `min_positives` positive labels keeps 0.5: a handful of examples would only fit noise.
// REQUIRES: beta > 0.
std::vector<double> CalibrateReadThresholds(const torch::Tensor& present,
                                            const torch::Tensor& labels, double beta,
                                            int min_positives = 10);

// Reading thresholds in words, one " kind threshold" per kind in FindingKind order
// (" cardiomegaly 0.65 pleural_effusion 0.50 ..."). REQUIRES: kNumFindingKinds values.
std::string ReadThresholdsText(const std::vector<double>& thresholds);

// The head's reading as the text the prompt carries (FindingsConfig::read_as_text): the kinds
// it finds present (probability >= 0.5) in FindingKind order, each with the words reports use —
// severity, side and zone where the kind has them, a lesion's size in mm and "nodule" below 30
// mm, "mass" from 30 — separated by "; ", or "none". REQUIRES: probabilities of one image,
// [kNumFindingKinds, kFieldsPerKind] (FindingHeadImpl::Probabilities).
std::string ImageRead(const torch::Tensor& probabilities);

// What a draft must state of the reading (ImageRead; stated_reading.h): the head's lesion size in
// whole mm where it reads a lesion, and the side of every lung finding read present (pleural
// effusion, consolidation, pneumothorax, lesion, atelectasis: the likeliest, as ImageRead words
// it), for each image finding (cardiomegaly to rib fracture: not the devices) whether the
// reading found it, and for every kind it found, devices too, the sentence that states it
// ("Moderate right lower zone consolidation.", "Left upper zone nodule measuring 14 mm.",
// "Central line in place."); a chest tube's or a fracture's side stays the decoder's.
// REQUIRES: probabilities of one image, as ImageRead.
StatedReading ReadingToState(const torch::Tensor& probabilities);

// The same words from a report's own labels (FindingTargets, as the labeler reads them): what a
// perfect reader of the image would have written. Side, severity, zone and size the report does
// not state (NaN) are left out. For training a decoder that writes what its reading says.
std::string ReportedRead(const FindingTargets& targets);

// The size code the slot carries: the tens and units digits of the size rounded to whole mm,
// one-hot each (sizes clamped to 0..99 mm). [...] -> [..., 20].
torch::Tensor SizeCode(const torch::Tensor& size_mm);

}  // namespace medscribe::model
