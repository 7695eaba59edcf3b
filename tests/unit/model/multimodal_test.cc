#include "model/multimodal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "model/prompt.h"

namespace medscribe::model {
namespace {

ModelConfig Tiny(const std::string& vision = "vit") {
  ModelConfig c = PresetConfig("tiny").value();
  c.vision.type = vision;
  c.vision.image_size = 32;
  c.vision.patch_size = 8;  // 4 x 4 grid, pooled to 2 x 2 = 4 image tokens
  c.vision.hidden_size = 16;
  c.vision.layers = 1;
  c.projector.hidden_size = 16;
  c.decoder.vocab_size = 40;
  c.decoder.hidden_size = 16;
  c.decoder.intermediate_size = 24;
  c.decoder.num_attention_heads = 2;
  c.decoder.num_key_value_heads = 1;
  c.decoder.max_position_embeddings = 64;
  return c;
}

constexpr int64_t kImage = 5;

TEST(ReportModelTest, SplicesImageTokensAndMasksThemInLabels) {
  torch::manual_seed(1);
  for (const char* vision : {"vit", "resnet"}) {
    SCOPED_TRACE(vision);
    const ModelConfig c = Tiny(vision);
    ASSERT_TRUE(Validate(c).ok()) << Validate(c).message();
    ASSERT_EQ(c.image_tokens(), 4);
    ReportModel m(c);
    const torch::Tensor ids = torch::tensor({{2, 5, 9, 10, 11}, {2, 5, 12, 13, 0}}, torch::kLong);
    const torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 1, 0}}, torch::kLong);
    const torch::Tensor labels =
        torch::tensor({{-100, -100, -100, 10, 11}, {-100, -100, -100, 13, -100}});
    const torch::Tensor images = torch::rand({2, 1, 64, 64});  // resized to 32 inside
    const SplicedInputs s = m->Splice(images, ids, mask, labels, kImage);
    ASSERT_EQ(s.embeds.size(1), 5 - 1 + 4);
    EXPECT_EQ(s.labels[0].narrow(0, 1, 4).eq(kIgnoreIndex).all().item<bool>(), true);
    EXPECT_EQ(s.labels[0][6].item<int64_t>(), 10);
    EXPECT_EQ(s.attention_mask[1][7].item<int64_t>(), 0);
    const torch::Tensor logits = m->forward(images, ids, mask, kImage);
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 8, 40}));
    // Two <image> tokens in one prompt is refused.
    const torch::Tensor two = torch::tensor({{2, 5, 5, 10, 11}}, torch::kLong);
    EXPECT_THROW(m->forward(images.narrow(0, 0, 1), two, mask.narrow(0, 0, 1), kImage), c10::Error);
  }
}

TEST(ReportModelTest, LossCountsOnlyReportTokens) {
  // Logits that predict token 7 everywhere: the loss is low where the label is 7 and high
  // elsewhere; positions labelled kIgnoreIndex (the prompt) must not count at all.
  torch::Tensor logits = torch::full({1, 4, 10}, -10.0);
  logits.select(2, 7).fill_(10.0);
  const torch::Tensor good = torch::tensor({{-100, 7, 7, 7}});
  const torch::Tensor prompt_wrong =
      torch::tensor({{3, -100, 7, 7}});  // label 3 at position 0 is never predicted
  EXPECT_LT(NextTokenLoss(logits, good).item<double>(), 1e-6);
  EXPECT_LT(NextTokenLoss(logits, torch::tensor({{-100, -100, 7, 7}})).item<double>(), 1e-6);
  EXPECT_LT(NextTokenLoss(logits, prompt_wrong).item<double>(), 1e-6);
  EXPECT_GT(NextTokenLoss(logits, torch::tensor({{-100, 3, 7, 7}})).item<double>(), 5.0);
}

// Gradients of every parameter and the loss, for one batch.
std::vector<torch::Tensor> Gradients(ReportModel& m, double* loss) {
  const torch::Tensor ids =
      torch::tensor({{2, 5, 9, 10, 11, 12}, {2, 5, 12, 13, 14, 0}}, torch::kLong);
  const torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}}, torch::kLong);
  const torch::Tensor labels =
      torch::tensor({{-100, -100, 9, 10, 11, 12}, {-100, -100, 12, 13, 14, -100}}, torch::kLong);
  const torch::Tensor images = torch::linspace(0, 1, 2 * 32 * 32).view({2, 1, 32, 32});
  for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
  const SplicedInputs s = m->Splice(images, ids, mask, labels, kImage);
  torch::Tensor l = NextTokenLoss(m->decoder->forward_embeds(s.embeds, s.attention_mask), s.labels);
  l.backward();
  *loss = l.item<double>();
  std::vector<torch::Tensor> out;
  for (auto& p : m->parameters()) out.push_back(p.grad().clone());
  return out;
}

TEST(ReportModelTest, TargetOnlyLossEqualsTheFullLogitsLoss) {
  torch::manual_seed(4);
  ReportModel m(Tiny());
  const torch::Tensor ids =
      torch::tensor({{2, 5, 9, 10, 11, 12}, {2, 5, 12, 13, 14, 0}}, torch::kLong);
  const torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}}, torch::kLong);
  const torch::Tensor labels =
      torch::tensor({{-100, -100, 9, 10, 11, 12}, {-100, -100, 12, 13, 14, -100}}, torch::kLong);
  const SplicedInputs s = m->Splice(torch::rand({2, 1, 32, 32}), ids, mask, labels, kImage);
  const torch::Tensor hidden = m->decoder->forward_hidden(s.embeds, s.attention_mask);
  const double full = NextTokenLossSum(m->decoder->logits(hidden), s.labels).item<double>();
  const double targets = TargetLossSum(m->decoder, hidden, s.labels).item<double>();
  EXPECT_NEAR(full, targets, 1e-4 * std::abs(full));
  EXPECT_TRUE(torch::allclose(m->decoder->logits(hidden),
                              m->decoder->forward_embeds(s.embeds, s.attention_mask)));

  // Weights by token id: all ones change nothing; a weight on token 12 adds its losses again.
  const int64_t vocab = m->decoder->logits(hidden).size(-1);
  torch::Tensor weights = torch::ones({vocab});
  EXPECT_NEAR(TargetLossSum(m->decoder, hidden, s.labels, weights).item<double>(), targets,
              1e-4 * targets);
  weights[12] = 3.0f;
  torch::Tensor only12 = s.labels.clone();
  only12.masked_fill_(only12.ne(12), kIgnoreIndex);
  const double twelve = TargetLossSum(m->decoder, hidden, only12).item<double>();
  EXPECT_GT(twelve, 0);
  EXPECT_NEAR(TargetLossSum(m->decoder, hidden, s.labels, weights).item<double>(),
              targets + 2 * twelve, 1e-4 * targets);
}

TEST(FindingHeadTest, SlotsFollowThePatchTokensAndTheLossSkipsUnknownTargets) {
  torch::manual_seed(5);
  ModelConfig c = Tiny("resnet");
  c.findings.enabled = true;
  c.findings.hidden_size = 16;
  ASSERT_TRUE(Validate(c).ok()) << Validate(c).message();
  EXPECT_EQ(c.image_tokens(), 4 + kNumFindingKinds);
  // The configuration round-trips, and one written before the head reads as without it.
  auto back = FromJson(ToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->findings.enabled);
  EXPECT_EQ(back->vision.mm_per_pixel, 0.0);
  c.vision.mm_per_pixel = 1.68;
  EXPECT_EQ(FromJson(ToJson(c)).value().vision.mm_per_pixel, 1.68);
  c.vision.mm_per_pixel = -1;
  EXPECT_FALSE(Validate(c).ok());
  c.vision.mm_per_pixel = 0;
  ReportModel m(c);
  const torch::Tensor images = torch::rand({2, 1, 32, 32});
  EXPECT_EQ(m->ImageEmbeddings(images).sizes(), (std::vector<int64_t>{2, 16, 16}));
  const torch::Tensor ids = torch::tensor({{2, 5, 9}, {2, 5, 9}}, torch::kLong);
  const SplicedInputs s = m->Splice(images, ids, torch::ones({2, 3}, torch::kLong), {}, kImage);
  EXPECT_EQ(s.embeds.size(1), 3 - 1 + 16);
  // The loss: only known targets count; an all-unknown target gives 0.
  const torch::Tensor out = m->findings(m->vision(images));
  torch::Tensor unknown = torch::full({2, kFindingTargetSize}, NAN);
  EXPECT_EQ(m->findings->Loss(out, unknown).item<double>(), 0.0);
  torch::Tensor present = unknown.clone();
  present.view({2, kNumFindingKinds, kFieldsPerKind}).select(2, kPresent).fill_(1.0);
  const torch::Tensor loss = m->findings->Loss(out, present);
  EXPECT_GT(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_GT(m->findings->cell2->weight.grad().abs().sum().item<double>(), 0.0);
  // Where: "right lower" allows the patient's right (image columns 0-1) in rows 2-3 only.
  torch::Tensor right_lower = torch::full({kFieldsPerKind}, NAN);
  right_lower[kPresent] = 1;
  right_lower.narrow(0, kRight, 3).copy_(torch::tensor({1.f, 0.f, 0.f}));
  right_lower.narrow(0, kUpper, 3).copy_(torch::tensor({0.f, 0.f, 1.f}));
  const torch::Tensor allowed = AllowedCells(right_lower).to(torch::kLong).view({4, 4});
  EXPECT_TRUE(torch::equal(
      allowed,
      torch::tensor({{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 0, 0}, {1, 1, 0, 0}}, torch::kLong)));
  EXPECT_EQ(AllowedCells(torch::full({kFieldsPerKind}, NAN)).sum().item<int64_t>(), kCells);
  // A present finding on the right: a cell firing on the left costs, one on the right does not.
  torch::Tensor t = torch::full({1, kFindingTargetSize}, NAN);
  t.narrow(1, 0, kFieldsPerKind).copy_(right_lower.unsqueeze(0));
  torch::Tensor right_fires = torch::full({1, kNumFindingKinds, kOutputsPerKind}, 0.0);
  torch::Tensor left_fires = right_fires.clone();
  right_fires[0][0][kFieldsPerKind + 8] = 10;  // row 2, column 0
  left_fires[0][0][kFieldsPerKind + 11] = 10;  // row 2, column 3
  EXPECT_GT(m->findings->Loss(left_fires, t).item<double>(),
            m->findings->Loss(right_fires, t).item<double>() + 0.5);
  // Probabilities: present in (0, 1), side and severity distributions, size in mm.
  const torch::Tensor p = m->findings->Probabilities(out);
  EXPECT_NEAR(p.narrow(2, kRight, 3).sum(2).mean().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(p.narrow(2, kUpper, 3).sum(2).mean().item<double>(), 1.0, 1e-5);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, kNumFindingKinds, kOutputsPerKind}));
  EXPECT_GT(p.select(2, kSize).min().item<double>(), 0.0);
  EXPECT_NEAR(DenormalizeSize(NormalizeSize(12.0)), 12.0, 1e-9);
  // The size code: the digits of the size in whole mm, one-hot.
  const torch::Tensor code = SizeCode(torch::tensor({12.4, 45.0}));
  EXPECT_EQ(code.sizes(), (std::vector<int64_t>{2, 20}));
  auto hot = [](const torch::Tensor& row) {
    const torch::Tensor i = row.nonzero().view(-1).contiguous();
    return std::vector<int64_t>(i.data_ptr<int64_t>(), i.data_ptr<int64_t>() + i.numel());
  };
  EXPECT_EQ(hot(code[0]), (std::vector<int64_t>{1, 12}));
  EXPECT_EQ(hot(code[1]), (std::vector<int64_t>{4, 15}));
}

// Backpropagates the head's loss for targets that state only the first image's lesion size
// (14 mm; presence and everything else unknown).
void BackwardLesionSizeAlone(ReportModel& m, const torch::Tensor& images) {
  const torch::Tensor out = m->findings(m->vision(images));
  torch::Tensor t = torch::full({images.size(0), kFindingTargetSize}, NAN);
  t.view({-1, kNumFindingKinds, kFieldsPerKind})[0][static_cast<int>(FindingKind::kLesion)][kSize] =
      static_cast<float>(NormalizeSize(14.0));
  const torch::Tensor loss = m->findings->Loss(out, t);
  ASSERT_GT(loss.item<double>(), 0.0);
  loss.backward();
}

TEST(FindingHeadTest, CellSizeIsReadPerCellWhereTheFindingLies) {
  torch::manual_seed(7);
  ModelConfig c = Tiny("resnet");
  c.findings.enabled = true;
  c.findings.hidden_size = 16;
  c.findings.cell_size = true;
  auto back = FromJson(ToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->findings.cell_size);
  ReportModel m(c);
  // The reader's parameters hold the size readout, not the decoder's way in.
  const std::vector<torch::Tensor> reader = m->findings->ReaderParameters();
  auto holds = [&](const torch::Tensor& t) {
    return std::any_of(reader.begin(), reader.end(),
                       [&](const torch::Tensor& p) { return p.is_same(t); });
  };
  EXPECT_TRUE(holds(m->findings->size2->weight));
  EXPECT_TRUE(holds(m->findings->cell1->weight));
  EXPECT_FALSE(holds(m->findings->slot->weight));
  EXPECT_FALSE(holds(m->findings->kind_embed));
  // A lesion's size alone (presence unknown): the loss reaches the per-cell readout only; the
  // presence cells and the global readout do not move for it.
  BackwardLesionSizeAlone(m, torch::rand({2, 1, 32, 32}));
  EXPECT_GT(m->findings->size2->weight.grad().abs().sum().item<double>(), 0.0);
  for (const torch::Tensor& w : {m->findings->cell2->weight, m->findings->fc2->weight})
    EXPECT_TRUE(!w.grad().defined() || w.grad().abs().sum().item<double>() == 0.0);
}

TEST(FindingHeadTest, SizeMapSizesLesionsFromTheFullResolutionBranch) {
  torch::manual_seed(7);
  ModelConfig c = Tiny("resnet");
  c.findings.enabled = true;
  c.findings.hidden_size = 16;
  c.vision.size_map = true;
  ASSERT_TRUE(Validate(c).ok());
  auto back = FromJson(ToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->vision.size_map);
  ModelConfig vit = Tiny("vit");
  vit.findings.enabled = true;
  vit.vision.size_map = true;
  EXPECT_FALSE(Validate(vit).ok());
  ReportModel m(c);
  // Each token ends with the size map's channel.
  const torch::Tensor images = torch::rand({2, 1, 32, 32});
  const torch::Tensor tokens = m->vision(images);
  EXPECT_EQ(tokens.size(2), c.vision.token_channels());
  EXPECT_EQ(tokens.size(2), c.vision.hidden_size + 1);
  {
    // Only the images named are sized; the others' channel is zero.
    torch::NoGradGuard no_grad;
    m->eval();
    const int64_t last = tokens.size(2) - 1;
    const torch::Tensor all = m->vision(images).select(2, last);
    const torch::Tensor some = m->vision(images, torch::tensor({true, false})).select(2, last);
    EXPECT_TRUE(torch::allclose(some[0], all[0], 1e-5, 1e-6));
    EXPECT_EQ(some[1].abs().sum().item<double>(), 0.0);
    EXPECT_GT(all[1].abs().sum().item<double>(), 0.0);
    m->train();
  }
  // The lesion's size is the map's reading where the lesion lies: a map equal everywhere gives
  // that value whatever the cells say.
  torch::Tensor flat = tokens.detach().clone();
  flat.select(2, flat.size(2) - 1).fill_(NormalizeSize(17.0));
  const torch::Tensor p = m->findings->Probabilities(m->findings(flat));
  EXPECT_NEAR(p[0][static_cast<int>(FindingKind::kLesion)][kSize].item<double>(), 17.0, 1e-3);
  // A lesion's size alone: the loss reaches the full-resolution branch, not the presence cells.
  BackwardLesionSizeAlone(m, images);
  double sizer_grad = 0;
  for (const torch::Tensor& w : m->vision->sizer->parameters())
    if (w.grad().defined()) sizer_grad += w.grad().abs().sum().item<double>();
  EXPECT_GT(sizer_grad, 0.0);
  for (const torch::Tensor& w : {m->findings->cell2->weight, m->findings->cell1->weight})
    EXPECT_TRUE(!w.grad().defined() || w.grad().abs().sum().item<double>() == 0.0);
}

TEST(FindingHeadTest, ImageReadWritesTheKindsFoundInReportWords) {
  torch::Tensor p = torch::zeros({kNumFindingKinds, kFieldsPerKind});
  EXPECT_EQ(ImageRead(p), "none");
  auto set = [&](FindingKind k, float present, std::array<float, 3> side,
                 std::array<float, 3> severity, std::array<float, 3> zone, float mm = 0) {
    const int i = static_cast<int>(k);
    p[i][kPresent] = present;
    for (int j = 0; j < 3; ++j) {
      p[i][kRight + j] = side[j];
      p[i][kMild + j] = severity[j];
      p[i][kUpper + j] = zone[j];
    }
    p[i][kSize] = mm;
  };
  set(FindingKind::kConsolidation, 0.7f, {0.8f, 0.1f, 0.1f}, {0.2f, 0.5f, 0.3f},
      {0.1f, 0.2f, 0.7f});
  set(FindingKind::kLesion, 0.9f, {0.1f, 0.8f, 0.1f}, {1, 0, 0}, {0.6f, 0.3f, 0.1f}, 14.4f);
  set(FindingKind::kCentralLine, 0.99f, {1, 0, 0}, {1, 0, 0}, {1, 0, 0});
  set(FindingKind::kEdema, 0.49f, {1, 0, 0}, {0, 0, 1}, {1, 0, 0});  // below 0.5: not read
  EXPECT_EQ(ImageRead(p),
            "moderate right lower consolidation; left upper nodule 14 mm; right central line");
  // What a draft states of it: the sides of the lung findings and the placed devices read, the
  // lesion's size; not an endotracheal tube's side, which reports do not give.
  set(FindingKind::kChestTube, 0.9f, {0.1f, 0.8f, 0.1f}, {1, 0, 0}, {1, 0, 0});
  set(FindingKind::kPacemaker, 0.8f, {0.05f, 0.9f, 0.05f}, {1, 0, 0}, {1, 0, 0});
  set(FindingKind::kEndotrachealTube, 0.8f, {0.9f, 0.1f, 0}, {1, 0, 0}, {1, 0, 0});
  const StatedReading stated = ReadingToState(p);
  EXPECT_EQ(stated.lesion_mm, 14);
  for (int k = 0; k < kNumFindingKinds; ++k) {
    const auto kind = static_cast<FindingKind>(k);
    const ReadSide want = kind == FindingKind::kConsolidation || kind == FindingKind::kCentralLine
                              ? ReadSide::kRight
                          : kind == FindingKind::kLesion || kind == FindingKind::kChestTube ||
                                  kind == FindingKind::kPacemaker
                              ? ReadSide::kLeft
                              : ReadSide::kNone;
    EXPECT_EQ(stated.side[static_cast<size_t>(k)], want) << FindingKindName(kind);
    // Presence is decided for the image findings, not for devices.
    const ReadPresence presence =
        k > static_cast<int>(FindingKind::kFracture) ? ReadPresence::kUndecided
        : kind == FindingKind::kConsolidation || kind == FindingKind::kLesion
            ? ReadPresence::kFound
            : ReadPresence::kNotFound;
    EXPECT_EQ(stated.presence[static_cast<size_t>(k)], presence) << FindingKindName(kind);
  }
  // The sentences that state what the reading found, in a report's words.
  EXPECT_EQ(stated.statement[static_cast<size_t>(FindingKind::kConsolidation)],
            "Moderate right lower zone consolidation.");
  EXPECT_EQ(stated.statement[static_cast<size_t>(FindingKind::kLesion)],
            "Left upper zone nodule measuring 14 mm.");
  EXPECT_EQ(stated.statement[static_cast<size_t>(FindingKind::kCentralLine)],
            "Right central line in place.");
  EXPECT_EQ(stated.statement[static_cast<size_t>(FindingKind::kChestTube)],
            "Left chest tube in place.");
  EXPECT_EQ(stated.statement[static_cast<size_t>(FindingKind::kPacemaker)],
            "Left chest wall pacemaker in place.");
  EXPECT_EQ(stated.statement[static_cast<size_t>(FindingKind::kEndotrachealTube)],
            "Endotracheal tube in place.");
  for (FindingKind k : {FindingKind::kEdema, FindingKind::kCardiomegaly, FindingKind::kFracture})
    EXPECT_EQ(stated.statement[static_cast<size_t>(k)], "") << FindingKindName(k);
  // A device's side only where the head is sure of it (an untrained side output is not).
  set(FindingKind::kPacemaker, 0.8f, {0.3f, 0.4f, 0.3f}, {1, 0, 0}, {1, 0, 0});
  EXPECT_EQ(ReadingToState(p).side[static_cast<size_t>(FindingKind::kPacemaker)], ReadSide::kNone);
  EXPECT_EQ(ReadingToState(p).statement[static_cast<size_t>(FindingKind::kPacemaker)],
            "Pacemaker in place.");
  EXPECT_EQ(ImageRead(p).find("left pacemaker"), std::string::npos) << ImageRead(p);
  // From 30 mm a lesion is a mass.
  p[static_cast<int>(FindingKind::kLesion)][kSize] = 41.6f;
  EXPECT_NE(ImageRead(p).find("left upper mass 42 mm"), std::string::npos) << ImageRead(p);
  // A report's own labels read the same way; what the report does not state is left out.
  FindingTargets t;
  t.fill(std::nanf(""));
  for (int k = 0; k < kNumFindingKinds; ++k) t[k * kFieldsPerKind + kPresent] = 0;
  EXPECT_EQ(ReportedRead(t), "none");
  auto field = [&](FindingKind k, int f) -> float& {
    return t[static_cast<int>(k) * kFieldsPerKind + f];
  };
  field(FindingKind::kLesion, kPresent) = 1;
  field(FindingKind::kLesion, kRight) = 0, field(FindingKind::kLesion, kLeft) = 1;
  field(FindingKind::kLesion, kBilateral) = 0;
  field(FindingKind::kLesion, kSize) = static_cast<float>(NormalizeSize(21));
  field(FindingKind::kPleuralEffusion, kPresent) = 1;  // no side, no severity stated
  field(FindingKind::kCardiomegaly, kPresent) = 1;
  field(FindingKind::kCardiomegaly, kMild) = 0, field(FindingKind::kCardiomegaly, kModerate) = 0;
  field(FindingKind::kCardiomegaly, kSevere) = 1;
  EXPECT_EQ(ReportedRead(t), "severe cardiomegaly; pleural effusion; left nodule 21 mm");
  field(FindingKind::kLesion, kSize) = std::nanf("");
  EXPECT_EQ(ReportedRead(t), "severe cardiomegaly; pleural effusion; left nodule");
  // The prompt carries it after the image's placeholder, and nothing without the image.
  auto sample = json::Parse(
      R"({"modalities": {"structured": {"patient": {"sex": "male", "age": "70"}},
          "speech_transcript": "no prior studies"}, "target_report": "FINDINGS: ..."})");
  ASSERT_TRUE(sample.ok());
  PromptOptions po;
  po.image_read = ImageRead(p);
  const std::string text = BuildPrompt(*sample, po).value().text;
  EXPECT_EQ(text.rfind("<image>\nimage read: moderate right lower consolidation; ", 0), 0u) << text;
  po.image = false;
  EXPECT_EQ(BuildPrompt(*sample, po).value().text.find("image read"), std::string::npos);
  // The switch round-trips and needs the head.
  ModelConfig c = Tiny("resnet");
  c.findings.read_as_text = true;
  EXPECT_FALSE(Validate(c).ok());
  c.findings.enabled = true;
  c.findings.hidden_size = 16;
  ASSERT_TRUE(Validate(c).ok()) << Validate(c).message();
  EXPECT_TRUE(FromJson(ToJson(c)).value().findings.read_as_text);
}

TEST(FindingHeadTest, CalibratedThresholdsMoveTheReadingAndTravelWithTheWeights) {
  // Labels of two kinds over 40 images: cardiomegaly's positives score 0.3-0.45 and its
  // negatives 0.1-0.25, so only a threshold at or below 0.30 separates them; edema's positives
  // score 0.6-0.95, its negatives 0.55-0.7, the best cut 0.70; pneumothorax has 3 positives, too
  // few to calibrate.
  const int n = 40;
  torch::Tensor present = torch::zeros({n, kNumFindingKinds});
  torch::Tensor labels = torch::zeros({n, kNumFindingKinds});
  const int cardio = static_cast<int>(FindingKind::kCardiomegaly);
  const int edema = static_cast<int>(FindingKind::kEdema);
  const int ptx = static_cast<int>(FindingKind::kPneumothorax);
  for (int i = 0; i < n; ++i) {
    const bool pos = i % 2 == 0;
    labels[i][cardio] = pos ? 1 : 0;
    present[i][cardio] = pos ? 0.3 + 0.15 * (i % 10) / 10.0 : 0.1 + 0.15 * (i % 10) / 10.0;
    labels[i][edema] = pos ? 1 : 0;
    present[i][edema] = pos ? 0.75 + 0.2 * (i % 10) / 10.0 : 0.55 + 0.14 * (i % 10) / 10.0;
    labels[i][ptx] = i < 3 ? 1 : 0;
    present[i][ptx] = i < 3 ? 0.9 : 0.05;
  }
  labels[1][edema] = std::nan("");  // unknown: left out, would otherwise be a false positive
  present[1][edema] = 0.99;
  std::vector<double> t = CalibrateReadThresholds(present, labels, 1.0);
  ASSERT_EQ(t.size(), static_cast<size_t>(kNumFindingKinds));
  EXPECT_NEAR(t[cardio], 0.30, 1e-9);
  EXPECT_NEAR(t[edema], 0.70, 1e-9);
  EXPECT_EQ(t[ptx], 0.5);                                     // 3 positives: kept
  EXPECT_EQ(t[static_cast<int>(FindingKind::kLesion)], 0.5);  // no positives
  // Weighing precision more never lowers a threshold.
  const std::vector<double> precise = CalibrateReadThresholds(present, labels, 0.5);
  for (int k = 0; k < kNumFindingKinds; ++k) EXPECT_GE(precise[k], t[k] - 1e-9) << k;

  // The head reads its presence at the thresholds: what crosses a kind's threshold crosses 0.5.
  torch::manual_seed(3);
  ModelConfig c = Tiny("resnet");
  c.findings.enabled = true;
  FindingHead head(c);
  head->eval();
  const torch::Tensor tokens =
      torch::randn({1, c.vision.grid() * c.vision.grid(), c.vision.token_channels()});
  const torch::Tensor out = head(tokens);
  const torch::Tensor before = head->Probabilities(out).select(2, kPresent);
  std::vector<double> at(kNumFindingKinds, 0.5);
  at[cardio] = before[0][cardio].item<double>() + 0.01;  // just above: no longer read
  at[edema] = before[0][edema].item<double>() - 0.01;    // just below: read
  head->SetReadThresholds(at);
  const torch::Tensor after = head->Probabilities(out).select(2, kPresent);
  EXPECT_LT(after[0][cardio].item<double>(), 0.5);
  EXPECT_GT(after[0][edema].item<double>(), 0.5);
  for (int k = 0; k < kNumFindingKinds; ++k) {
    EXPECT_NEAR(head->ReadThresholds()[k], at[k], 1e-6) << k;
    if (k != cardio && k != edema) {
      EXPECT_NEAR(after[0][k].item<double>(), before[0][k].item<double>(), 1e-6) << k;
    }
  }
  // The thresholds are saved with the weights and loaded back.
  auto st = DecodeSafetensors(EncodeSafetensors(NamedWeights(*head), {}).value());
  ASSERT_TRUE(st.ok());
  FindingHead loaded(c);
  ASSERT_TRUE(LoadWeights(*loaded, *st).ok());
  EXPECT_NEAR(loaded->ReadThresholds()[cardio], at[cardio], 1e-6);
  // Weights saved before the thresholds existed load and read every kind at 0.5.
  st->tensors.erase("present_offset");
  FindingHead older(c);
  ASSERT_TRUE(LoadWeights(*older, *st).ok());
  for (double read_at : older->ReadThresholds()) EXPECT_NEAR(read_at, 0.5, 1e-9);
  // A missing parameter is still refused.
  st->tensors.erase("fc1.weight");
  EXPECT_EQ(LoadWeights(*older, *st).code(), ErrorCode::kDataLoss);
}

TEST(FindingHeadTest, WithoutPatchTokensTheImageIsItsSlots) {
  torch::manual_seed(6);
  ModelConfig c = Tiny("resnet");
  c.projector.patch_tokens = false;
  // The image would not reach the decoder at all without the head.
  const Status no_head = Validate(c);
  ASSERT_FALSE(no_head.ok());
  EXPECT_NE(no_head.message().find("findings.enabled"), std::string::npos) << no_head.message();
  c.findings.enabled = true;
  c.findings.hidden_size = 16;
  ASSERT_TRUE(Validate(c).ok()) << Validate(c).message();
  EXPECT_EQ(c.image_tokens(), kNumFindingKinds);
  auto back = FromJson(ToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->projector.patch_tokens);
  // A configuration written before the switch has patch tokens.
  json::Value old = ToJson(c);
  old.mutable_object().at("projector").mutable_object().erase("patch_tokens");
  auto older = FromJson(old);
  ASSERT_TRUE(older.ok()) << older.status().message();
  EXPECT_TRUE(older->projector.patch_tokens);
  ReportModel m(c);
  m->eval();
  const torch::Tensor images = torch::rand({2, 1, 32, 32});
  const torch::Tensor embeds = m->ImageEmbeddings(images);
  EXPECT_EQ(embeds.sizes(), (std::vector<int64_t>{2, kNumFindingKinds, 16}));
  // Exactly the slots the head makes of the image.
  const torch::Tensor slots = m->findings->Slots(m->findings(m->vision(images)));
  EXPECT_TRUE(torch::allclose(embeds, slots));
  const torch::Tensor ids = torch::tensor({{2, 5, 9}}, torch::kLong);
  const SplicedInputs s =
      m->Splice(images.narrow(0, 0, 1), ids, torch::ones({1, 3}, torch::kLong), {}, kImage);
  EXPECT_EQ(s.embeds.size(1), 3 - 1 + kNumFindingKinds);
}

TEST(ReportModelTest, ActivationCheckpointingGivesTheSameGradients) {
  torch::manual_seed(3);
  ModelConfig c = Tiny();
  c.vision.layers = 2;
  c.decoder.num_hidden_layers = 2;
  ReportModel m(c);
  double plain_loss = 0, checkpointed_loss = 0;
  const std::vector<torch::Tensor> plain = Gradients(m, &plain_loss);
  m->decoder->checkpoint_layers = true;
  m->vision->checkpoint_blocks = true;
  const std::vector<torch::Tensor> checkpointed = Gradients(m, &checkpointed_loss);
  EXPECT_DOUBLE_EQ(plain_loss, checkpointed_loss);
  ASSERT_EQ(plain.size(), checkpointed.size());
  size_t nonzero = 0;
  for (size_t k = 0; k < plain.size(); ++k) {
    EXPECT_TRUE(torch::allclose(plain[k], checkpointed[k], 1e-5, 1e-7)) << "parameter " << k;
    nonzero += plain[k].abs().sum().item<double>() > 0;
  }
  EXPECT_GT(nonzero, plain.size() / 2) << "the gradients should reach most parameters";
}

TEST(ReportModelTest, WeightsRoundTripThroughSafetensors) {
  torch::manual_seed(4);
  const ModelConfig c = Tiny();
  ReportModel a(c), b(c);
  auto bytes = EncodeSafetensors(NamedWeights(*a), {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok());
  auto st = DecodeSafetensors(*bytes);
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(st->metadata["format"], "pt");
  ASSERT_TRUE(LoadWeights(*b, *st).ok());
  const torch::Tensor ids = torch::tensor({{2, 5, 9}}, torch::kLong);
  const torch::Tensor images = torch::rand({1, 1, 32, 32});
  a->eval();
  b->eval();
  EXPECT_TRUE(torch::equal(a->forward(images, ids, torch::ones({1, 3}), kImage),
                           b->forward(images, ids, torch::ones({1, 3}), kImage)));
  // A config that does not match the weights is refused with the tensor named.
  ModelConfig other = c;
  other.decoder.hidden_size = 32;
  other.decoder.intermediate_size = 48;
  ReportModel wrong(other);
  const Status s = LoadWeights(*wrong, *st);
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_NE(s.message().find("shape"), std::string::npos) << s.message();
}

TEST(PromptTest, SectionsInOrderWithAblations) {
  auto sample =
      json::Parse(R"({"modalities": {"structured": {"patient": {"sex": "female", "age": "67"},
      "encounter": {"class": "EMER", "department": "Emergency Department"},
      "labs": [{"code": "6690-2", "display": "Leukocytes", "value": 17.2, "unit": "10*3/uL",
                "low": 4, "high": 11, "interpretation": "H", "hours_before_study": 2.8},
               {"code": "2345-7", "display": "Glucose [Mass/volume] in Serum or Plasma",
                "value": 95, "unit": "mg/dL", "interpretation": "N"}],
      "conditions": [{"code": "I50.9", "display": "Heart failure, unspecified"},
                     {"code": "I25.10", "display": "Atherosclerotic heart disease of native coronary artery"}],
      "procedures": [{"code": "31500", "display": "Intubation, endotracheal"}],
      "order": {"reason": "Cough. Rule out pneumonia.", "codes": [{"code": "R05.9"}]}},
      "text_context": "Fever and cough.", "speech_transcript": "no prior studies"},
      "target_report": "IMPRESSION: Pneumonia."})");
  ASSERT_TRUE(sample.ok());
  auto p = BuildPrompt(*sample);
  ASSERT_TRUE(p.ok());
  // Compact: short lab names with value, unit and a flag only when abnormal; displays up to
  // their first comma and at most four words; procedures by code.
  EXPECT_EQ(p->text,
            "<image>\n<history> 67 female, Emergency Department (EMER). Problems: I50.9 Heart "
            "failure; I25.10 Atherosclerotic heart disease of. Procedures: 31500. Order: Cough. "
            "Rule out pneumonia. (R05.9) Note: Fever and cough.\n<labs> WBC 17.2 10*3/uL H; "
            "Glucose [Mass/volume] in Serum 95 mg/dL\n<dictation> no prior studies "
            "<change_no_prior>\n<report>");
  EXPECT_EQ(p->target, "IMPRESSION: Pneumonia.");
  auto ablated = BuildPrompt(*sample, {.image = false, .dictation = false});
  EXPECT_EQ(ablated->text.find("<image>"), std::string::npos);
  EXPECT_NE(ablated->text.find("<dictation> none\n"), std::string::npos);
  EXPECT_FALSE(BuildPrompt(json::Value(3)).ok());
}

}  // namespace
}  // namespace medscribe::model

#include "model/export.h"
#include "testing/temp_dir.h"

namespace medscribe::model {
namespace {

TEST(ExportTest, HfExportLoadsBackIntoADecoderWithTheSameOutputs) {
  torch::manual_seed(5);
  medscribe::testing::TempDir dir;
  ModelConfig c = Tiny();
  c.decoder.tie_word_embeddings = false;
  ReportModel m(c);
  const std::filesystem::path model_dir = dir / "model";
  std::filesystem::create_directories(model_dir);
  ASSERT_TRUE(SaveSafetensors((model_dir / "model.safetensors").string(), NamedWeights(*m)).ok());
  std::ofstream(model_dir / "config.json") << json::Dump(ToJson(c));
  std::ofstream(model_dir / "tokenizer.model") << "sp";
  ASSERT_TRUE(ExportHf(model_dir.string(), (dir / "hf").string()).ok());
  auto hf = ReadHfDecoderConfig((dir / "hf").string());
  ASSERT_TRUE(hf.ok()) << hf.status().message();
  EXPECT_EQ(hf->num_key_value_heads, c.decoder.num_key_value_heads);
  LlamaForCausalLM back(*hf);
  ASSERT_TRUE(LoadHfDecoder(back, (dir / "hf").string()).ok());
  const torch::Tensor ids = torch::tensor({{2, 9, 10, 11}}, torch::kLong);
  m->eval();
  back->eval();
  EXPECT_TRUE(
      torch::allclose(m->decoder->forward_embeds(m->decoder->embed(ids), torch::ones({1, 4})),
                      back->forward_embeds(back->embed(ids), torch::ones({1, 4}))));
  // A decoder of another vocabulary is refused, naming the tensor.
  DecoderConfig other = *hf;
  other.vocab_size = 41;
  LlamaForCausalLM wrong(other);
  const Status s = LoadHfDecoder(wrong, (dir / "hf").string());
  EXPECT_EQ(s.code(), ErrorCode::kDataLoss);
  EXPECT_NE(s.message().find("embed_tokens"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace medscribe::model
