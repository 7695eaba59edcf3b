#include <gtest/gtest.h>

#include <cmath>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "common/npy.h"
#include "dataset/shard.h"
#include "model/io.h"
#include "model/multimodal.h"
#include "model/safetensors.h"
#include "testing/temp_dir.h"
#include "train/data.h"
#include "train/npy.h"
#include "train/prefetcher.h"
#include "train/tar.h"
#include "train/tensorboard.h"
#include "train/trainer.h"

namespace medscribe::train {
namespace {

namespace fs = std::filesystem;

// A character-level encoder: enough to train on, no tokenizer library needed.
class CharEncoder final : public TextEncoder {
 public:
  std::vector<int> Encode(const std::string& text) const override {
    std::vector<int> ids;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 7, "<image>") == 0) {
        ids.push_back(image_token());
        i += 6;
      } else {
        ids.push_back(8 + static_cast<unsigned char>(text[i]) % 120);
      }
    }
    return ids;
  }
  std::string Decode(const std::vector<int>& ids) const override {
    std::string s;
    for (int id : ids) s += static_cast<char>(id >= 8 ? id - 8 : '?');
    return s;
  }
  int vocab_size() const override { return 128; }
  int image_token() const override { return 4; }
  int bos() const override { return 2; }
  int eos() const override { return 3; }
  int pad() const override { return 0; }
};

// Whole words as SentencePiece writes them (a leading space), for DecisionTokenWeights.
class WordEncoder final : public TextEncoder {
 public:
  std::vector<int> Encode(const std::string&) const override { return {}; }
  std::string Decode(const std::vector<int>& ids) const override {
    std::string s;
    for (int id : ids) s += kWords[static_cast<size_t>(id)];
    return s;
  }
  int vocab_size() const override { return static_cast<int>(kWords.size()); }
  int image_token() const override { return 4; }
  int bos() const override { return 2; }
  int eos() const override { return 3; }
  int pad() const override { return 0; }
  static constexpr std::array<const char*, 12> kWords = {
      "<pad>", "<unk>", "<s>", "</s>", "<image>", " Left", " lung", " new", "1", "2", " No", ","};
};

TEST(DataTest, DecisionTokensAreSidesChangesNegationsAndDigits) {
  const torch::Tensor w = DecisionTokenWeights(WordEncoder(), 4);
  ASSERT_EQ(w.size(0), 12);
  const std::vector<float> want = {1, 1, 1, 1, 1, 4, 1, 4, 4, 4, 4, 1};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(w[static_cast<int64_t>(i)].item<float>(), want[i]) << WordEncoder::kWords[i];
}

std::string SampleJson(int i) {
  const char* findings[] = {"Right lower zone consolidation.", "The lungs are clear.",
                            "Small left effusion."};
  return R"({"key":"K)" + std::to_string(i) +
         R"(","modalities":{"structured":{"patient":{"sex":"male","age":"60"},
      "encounter":{"class":"AMB","department":"Outpatient"},"labs":[],"conditions":[],"procedures":[]},
      "text_context":"Cough.","speech_transcript":"no prior studies"},
      "target_report":"IMPRESSION: )" +
         findings[i % 3] + R"("})";
}

// A dataset directory with `n` samples split between train and val shards; `mm_per_pixel` > 0
// records images resampled to that spacing (`ingest --image-spacing`).
void WriteDataset(const fs::path& dir, int n, double mm_per_pixel = 0) {
  fs::create_directories(dir);
  std::string shards;
  for (const char* split : {"train", "val"}) {
    const std::string name = std::string(split) + "-000000.tar";
    auto w = dataset::ShardWriter::Create((dir / name).string()).value();
    int count = 0;
    for (int i = 0; i < n; ++i) {
      if ((i % 5 == 0) != (std::string(split) == "val")) continue;
      std::vector<float> img(16 * 16, static_cast<float>(i % 3) / 2.0f);
      ASSERT_TRUE(w->Add("K" + std::to_string(i) + ".json", SampleJson(i)).ok());
      ASSERT_TRUE(
          w->Add("K" + std::to_string(i) + ".img.npy", EncodeNpyFloat32(img.data(), {1, 16, 16}))
              .ok());
      ++count;
    }
    ASSERT_TRUE(w->Finish().ok());
    shards += std::string(shards.empty() ? "" : ",") + R"({"name":")" + name + R"(","split":")" +
              split + R"(","samples":)" + std::to_string(count) + "}";
  }
  std::ofstream(dir / "manifest.json")
      << R"({"format":"medscribe-dataset","shards":[)" << shards << "]"
      << (mm_per_pixel > 0
              ? R"(,"settings":{"options":{"mm_per_pixel":)" + std::to_string(mm_per_pixel) + "}}"
              : std::string())
      << "}";
}

model::ModelConfig MiniConfig() {
  model::ModelConfig c = model::PresetConfig("tiny").value();
  c.vision.image_size = 16;
  c.vision.patch_size = 4;
  c.vision.hidden_size = 16;
  c.vision.layers = 1;
  c.projector.hidden_size = 32;
  c.decoder.hidden_size = 32;
  c.decoder.intermediate_size = 64;
  c.decoder.num_hidden_layers = 1;
  c.decoder.num_attention_heads = 4;
  c.decoder.num_key_value_heads = 2;
  c.decoder.max_position_embeddings = 512;
  return c;
}

TEST(TarTest, ReadsTheShardWritersOutputAndRefusesDamage) {
  medscribe::testing::TempDir dir;
  auto w = dataset::ShardWriter::Create((dir / "s.tar").string()).value();
  ASSERT_TRUE(w->Add("a.json", "{}").ok());
  ASSERT_TRUE(w->Add("a.img.npy", std::string(1000, 'x')).ok());
  ASSERT_TRUE(w->Finish().ok());
  std::ifstream in(dir / "s.tar", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto members = ReadTar(bytes);
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[1].name, "a.img.npy");
  EXPECT_EQ((*members)[1].data.size(), 1000u);
  EXPECT_EQ(ReadTar(bytes.substr(0, 700)).status().code(), ErrorCode::kDataLoss);
  std::string flipped = bytes;
  flipped[10] ^= 1;  // inside the first header: checksum mismatch
  EXPECT_EQ(ReadTar(flipped).status().code(), ErrorCode::kDataLoss);
}

TEST(NpyTest, ReadsFloat32ArraysAndRefusesOthers) {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  auto t = ReadNpyFloat32(EncodeNpyFloat32(v.data(), {2, 3}));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*t)[1][2].item<float>(), 6.0f);
  std::string bad = EncodeNpyFloat32(v.data(), {2, 3});
  EXPECT_FALSE(ReadNpyFloat32(bad.substr(0, bad.size() - 4)).ok());
  EXPECT_FALSE(ReadNpyFloat32("not numpy").ok());
}

TEST(DataTest, ExamplesMaskThePromptAndOrdersAreDeterministic) {
  CharEncoder enc;
  RawSample s{"K1", model::json::Parse(SampleJson(1)).value(), torch::zeros({1, 16, 16})};
  const Example e = MakeExample(s, enc, {}, 10000);
  ASSERT_EQ(e.input_ids.size(), e.labels.size());
  EXPECT_EQ(e.input_ids.front(), enc.bos());
  EXPECT_EQ(e.input_ids.back(), enc.eos());
  // Labels: ignored up to and including "<report>", then the target text and the end.
  const size_t first = std::find_if(e.labels.begin(), e.labels.end(),
                                    [](int64_t l) { return l != model::kIgnoreIndex; }) -
                       e.labels.begin();
  EXPECT_EQ(enc.Decode(std::vector<int>(e.input_ids.begin() + 1, e.input_ids.begin() + first))
                .substr(0, 1),
            "?");
  EXPECT_EQ(enc.Decode(std::vector<int>(e.labels.begin() + first, e.labels.end() - 1)),
            " IMPRESSION: The lungs are clear.");
  const Example cut = MakeExample(s, enc, {}, 20);
  EXPECT_EQ(cut.input_ids.size(), 20u);
  const Batch b = Collate({&e, &cut}, enc.pad());
  EXPECT_EQ(b.input_ids.size(1), static_cast<int64_t>(e.input_ids.size()));
  EXPECT_EQ(b.attention_mask[1].sum().item<int64_t>(), 20);
  EXPECT_EQ(EpochOrder(10, 7, 3), EpochOrder(10, 7, 3));
  EXPECT_NE(EpochOrder(10, 7, 3), EpochOrder(10, 7, 4));
  auto o = EpochOrder(10, 7, 3);
  std::sort(o.begin(), o.end());
  for (size_t i = 0; i < o.size(); ++i) EXPECT_EQ(o[i], i);
}

TEST(DataTest, SamplesAreReadOnDemandFromTheShardIndex) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "ds", 20);
  auto index = IndexSplit((dir / "ds").string(), "train");
  ASSERT_TRUE(index.ok()) << index.status().message();
  ASSERT_EQ(index->samples.size(), 16u);  // every fifth sample is in val
  EXPECT_EQ(index->samples[0].key, "K1");
  auto all = ReadSplit((dir / "ds").string(), "train");
  ASSERT_TRUE(all.ok());
  for (size_t i : {size_t{0}, size_t{7}, size_t{15}}) {
    auto r = ReadSample(*index, i);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->key, all->samples[i].key);
    EXPECT_EQ(model::json::Dump(r->sample), model::json::Dump(all->samples[i].sample));
    EXPECT_TRUE(torch::equal(r->image, all->samples[i].image));
  }
  // A sample whose bytes were damaged after indexing is reported with its shard and key.
  const SampleLocation& loc = index->samples[3];
  {
    std::fstream f(index->shards[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(loc.json.offset));
    f.write("#", 1);
  }
  auto bad = ReadSample(*index, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("train-000000.tar: " + loc.key + ".json"),
            std::string::npos)
      << bad.status().message();
}

TEST(TrainerTest, TheModelRecordsThePixelSpacingItsDatasetsImagesWereResampledTo) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "fitted", 10);
  WriteDataset(dir / "spaced", 10, 1.5);
  EXPECT_EQ(DatasetImageSpacing((dir / "fitted").string()).value(), 0.0);
  EXPECT_EQ(DatasetImageSpacing((dir / "spaced").string()).value(), 1.5);
  // A model is evaluated only on images prepared as it reads them.
  model::VisionConfig fits = MiniConfig().vision, resamples = fits;
  resamples.mm_per_pixel = 1.5;
  EXPECT_TRUE(CheckDatasetImageSpacing((dir / "fitted").string(), fits).ok());
  EXPECT_TRUE(CheckDatasetImageSpacing((dir / "spaced").string(), resamples).ok());
  const Status wrong = CheckDatasetImageSpacing((dir / "fitted").string(), resamples);
  EXPECT_EQ(wrong.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(wrong.message().find("--image-spacing"), std::string::npos) << wrong.message();
  EXPECT_FALSE(CheckDatasetImageSpacing((dir / "spaced").string(), fits).ok());
  CharEncoder enc;
  TrainOptions o;
  o.dataset_dir = (dir / "spaced").string();
  o.dataset_id = "test";
  o.run_dir = (dir / "run").string();
  o.config = MiniConfig();
  o.max_steps = 1;
  o.batch_size = 2;
  o.threads = 1;
  o.progress = false;
  auto r = Train(o, enc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto saved = model::LoadConfig((dir / "run" / "config.json").string());
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_DOUBLE_EQ(saved->vision.mm_per_pixel, 1.5);
}

TEST(TrainerTest, LearningRateWarmsUpThenDecays) {
  TrainOptions o;
  o.learning_rate = 1e-3;
  o.warmup_steps = 10;
  o.max_steps = 110;
  EXPECT_NEAR(LearningRate(0, o), 1e-4, 1e-12);
  EXPECT_NEAR(LearningRate(9, o), 1e-3, 1e-12);
  EXPECT_NEAR(LearningRate(60, o), 0.55e-3, 1e-9);  // half way: the mean of peak and floor
  EXPECT_NEAR(LearningRate(110, o), 1e-4, 1e-12);
}

TEST(TrainerTest, LossFallsAndAResumedRunContinuesTheSameCurve) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "ds", 30);
  CharEncoder enc;
  TrainOptions o;
  o.dataset_dir = (dir / "ds").string();
  o.dataset_id = "test";
  o.run_dir = (dir / "run").string();
  o.config = MiniConfig();
  o.max_steps = 40;
  o.checkpoint_every = 20;
  o.eval_every = 20;
  o.batch_size = 4;
  o.learning_rate = 3e-3;
  o.warmup_steps = 5;
  o.threads = 1;
  o.progress = false;
  std::map<int64_t, double> first;
  o.on_step = [&](int64_t step, double loss) { first[step] = loss; };
  auto r = Train(o, enc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_LT(r->last_loss, 0.7 * r->first_loss);
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoints" / "step-00000020" / "optimizer.pt"));
  // Resume from step 20: steps 21..40 must repeat the same losses.
  std::ofstream(dir / "run" / "checkpoints" / "latest") << "step-00000020\n";
  std::map<int64_t, double> second;
  o.on_step = [&](int64_t step, double loss) { second[step] = loss; };
  auto again = Train(o, enc);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->resumed_from, 20);
  ASSERT_EQ(second.size(), 20u);
  // Bitwise: same weights, optimizer state, batches and schedule.
  for (const auto& [step, loss] : second) EXPECT_EQ(loss, first[step]) << "step " << step;
  // The finished run refuses to run again without a higher --max-steps.
  EXPECT_EQ(Train(o, enc).status().code(), ErrorCode::kFailedPrecondition);
  // Metrics: one line per logged step with step and loss, as an uninterrupted run writes them
  // (the resumed run replaced what the first one logged after step 20): steps 10, 20, 20 with
  // the validation loss, 30, 40, 40 with the validation loss.
  std::ifstream metrics(dir / "run" / "metrics.jsonl");
  std::vector<int64_t> steps;
  for (std::string line; std::getline(metrics, line);) {
    auto j = model::json::Parse(line);
    ASSERT_TRUE(j.ok()) << line;
    EXPECT_TRUE(model::json::GetNumber(*j, "loss").ok()) << line;
    auto step = model::json::GetInt(*j, "step");
    steps.push_back(step.ok() ? *step : -1);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{10, 20, 20, 30, 40, 40}));
}

// Labels from the toy reports: consolidation (right), effusion (left).
class ToyLabeler final : public FindingLabeler {
 public:
  model::FindingTargets Targets(const std::string& report) const override {
    model::FindingTargets t;
    t.fill(NAN);
    for (int k = 0; k < model::kNumFindingKinds; ++k) t[k * model::kFieldsPerKind] = 0;
    auto mark = [&](model::FindingKind kind, int side) {
      float* f = t.data() + static_cast<int>(kind) * model::kFieldsPerKind;
      f[model::kPresent] = 1;
      for (int i = 0; i < 3; ++i) f[model::kRight + i] = i == side;
    };
    if (report.find("consolidation") != std::string::npos)
      mark(model::FindingKind::kConsolidation, 0);
    if (report.find("effusion") != std::string::npos) mark(model::FindingKind::kPleuralEffusion, 1);
    return t;
  }
};

TEST(TrainerTest, TheImageWarmUpTrainsTheHeadThenTheDecoderLearnsOnFrozenFeatures) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "ds", 30);
  CharEncoder enc;
  ToyLabeler labeler;
  TrainOptions o;
  o.dataset_dir = (dir / "ds").string();
  o.run_dir = (dir / "run").string();
  o.config = MiniConfig();
  o.config.vision.type = "resnet";
  o.config.findings.enabled = true;
  o.config.findings.hidden_size = 16;
  o.max_steps = 30;
  o.checkpoint_every = 15;
  o.eval_every = 15;
  o.batch_size = 4;
  o.learning_rate = 3e-3;
  o.warmup_steps = 5;
  o.threads = 1;
  o.progress = false;
  // Without a labeler the head has no targets: refused before any work.
  EXPECT_EQ(Train(o, enc).status().code(), ErrorCode::kFailedPrecondition);
  o.finding_labeler = &labeler;
  o.image_warmup_epochs = 3;
  std::map<int64_t, double> first;
  o.on_step = [&](int64_t step, double loss) { first[step] = loss; };
  auto r = Train(o, enc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_GT(r->warmup_seconds, 0.0);
  EXPECT_LT(r->last_loss, 0.7 * r->first_loss);
  EXPECT_TRUE(fs::exists(dir / "run" / "warmup" / "image.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "warmup" / "metrics.json"));
  // The image path stayed what the warm-up made it: the final weights hold its tensors.
  auto warm = model::LoadSafetensors((dir / "run" / "warmup" / "image.safetensors").string());
  auto final_weights =
      model::LoadSafetensors((dir / "run" / "model" / "model.safetensors").string());
  ASSERT_TRUE(warm.ok() && final_weights.ok());
  for (const char* name : {"vision.resnet.0.weight", "findings.fc2.weight"}) {
    ASSERT_TRUE(warm->tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(warm->tensors.at(name), final_weights->tensors.at(name))) << name;
  }
  // A resumed run continues the same curve without warming up again.
  std::ofstream(dir / "run" / "checkpoints" / "latest") << "step-00000015\n";
  std::map<int64_t, double> second;
  o.on_step = [&](int64_t step, double loss) { second[step] = loss; };
  auto again = Train(o, enc);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->warmup_seconds, 0.0);
  for (const auto& [step, loss] : second) EXPECT_EQ(loss, first[step]) << "step " << step;
  // Another run (here without the dictation) takes this run's warm-up instead of its own, and
  // ends with the same image path; a directory without a warm-up is refused with its path.
  o.run_dir = (dir / "nodict").string();
  o.prompt.dictation = false;
  o.max_steps = 5;
  o.on_step = nullptr;
  o.image_from = (dir / "empty").string();
  auto missing = Train(o, enc);
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("empty"), std::string::npos);
  o.image_from = (dir / "run").string();
  o.run_dir = (dir / "nodict2").string();
  auto shared = Train(o, enc);
  ASSERT_TRUE(shared.ok()) << shared.status().message();
  EXPECT_EQ(shared->warmup_seconds, 0.0);
  auto nodict = model::LoadSafetensors((dir / "nodict2" / "model" / "model.safetensors").string());
  ASSERT_TRUE(nodict.ok());
  EXPECT_TRUE(torch::equal(warm->tensors.at("vision.resnet.0.weight"),
                           nodict->tensors.at("vision.resnet.0.weight")));
  // Without a warm-up of its own (joint training) there is nothing to take it into.
  o.image_warmup_epochs = 0;
  o.run_dir = (dir / "joint").string();
  EXPECT_EQ(Train(o, enc).status().code(), ErrorCode::kInvalidArgument);
  // The head's reading as prompt text needs the frozen image path: refused without a warm-up,
  // trained on that run's warm-up with it.
  o.config.findings.read_as_text = true;
  o.image_from.clear();
  o.run_dir = (dir / "read").string();
  auto unread = Train(o, enc);
  EXPECT_EQ(unread.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unread.status().message().find("read_as_text"), std::string::npos);
  o.image_warmup_epochs = 3;
  o.image_from = (dir / "run").string();
  o.max_steps = 10;
  auto read = Train(o, enc);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_TRUE(std::isfinite(read->last_loss));
  // The reports' own readings in place of the head's, for every example: trains; without the
  // reading as text there is no reading to replace, and that is refused.
  o.reported_read = 1;
  o.run_dir = (dir / "reported").string();
  auto reported = Train(o, enc);
  ASSERT_TRUE(reported.ok()) << reported.status().message();
  EXPECT_TRUE(std::isfinite(reported->last_loss));
  o.config.findings.read_as_text = false;
  o.run_dir = (dir / "reported2").string();
  auto unreported = Train(o, enc);
  EXPECT_EQ(unreported.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unreported.status().message().find("--reported-read"), std::string::npos);
}

TEST(TrainerTest, ASampleDamagedMidRunStopsTrainingWithItsName) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "ds", 30);
  // Damage one sample's JSON in place: the shard still indexes, the sample no longer parses.
  auto index = IndexSplit((dir / "ds").string(), "train");
  ASSERT_TRUE(index.ok());
  const SampleLocation& loc = index->samples.back();
  {
    std::fstream f(index->shards[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(loc.json.offset));
    f.write("#", 1);
  }
  CharEncoder enc;
  TrainOptions o;
  o.dataset_dir = (dir / "ds").string();
  o.run_dir = (dir / "run").string();
  o.config = MiniConfig();
  o.max_steps = 30;  // 30 x 4 samples: every sample is read at least once
  o.batch_size = 4;
  o.threads = 1;
  o.progress = false;
  auto r = Train(o, enc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find(loc.key + ".json"), std::string::npos)
      << r.status().message();
}

TEST(TrainerTest, BadInputsAreRefusedBeforeAnyWork) {
  medscribe::testing::TempDir dir;
  CharEncoder enc;
  TrainOptions o;
  o.dataset_dir = (dir / "missing").string();
  o.run_dir = (dir / "run").string();
  o.config = MiniConfig();
  EXPECT_EQ(Train(o, enc).status().code(), ErrorCode::kNotFound);
  WriteDataset(dir / "ds", 10);
  o.dataset_dir = (dir / "ds").string();
  o.config.decoder.num_key_value_heads = 3;
  EXPECT_EQ(Train(o, enc).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir / "run" / "model"));
  // A corrupted checkpoint is named.
  o.config = MiniConfig();
  o.max_steps = 2;
  o.checkpoint_every = 1;
  o.progress = false;
  ASSERT_TRUE(Train(o, enc).ok());
  std::ofstream(dir / "run" / "checkpoints" / "step-00000002" / "model.safetensors") << "garbage";
  o.max_steps = 4;
  auto r = Train(o, enc);
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find("step-00000002"), std::string::npos) << r.status().message();
}

TrainOptions DpOptions(const fs::path& dir) {
  TrainOptions o;
  o.dataset_dir = (dir / "ds").string();
  o.dataset_id = "test";
  o.config = MiniConfig();
  o.max_steps = 6;
  o.checkpoint_every = 100;
  o.eval_every = 100;
  o.batch_size = 4;
  o.learning_rate = 3e-3;
  o.warmup_steps = 2;
  o.threads = 1;
  o.progress = false;
  o.dp.max_grad_norm = 0.5;
  o.dp.noise_multiplier = 0.7;
  return o;
}

TEST(TrainerTest, DpSgdRecordsThePrivacySpentAndStopsWhenTheBudgetEnds) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "ds", 30);  // 24 training examples
  CharEncoder enc;
  TrainOptions o = DpOptions(dir.path());
  o.run_dir = (dir / "run").string();
  o.max_steps = 40;
  o.dp.epsilon = 8;
  const DpSgdPlan plan = PlanDpSgd(o.dp, 24, 4, 40).value();
  ASSERT_LT(plan.steps, 40) << "the budget must end the run early for this test";
  int64_t last_step = 0;
  o.on_step = [&](int64_t step, double) { last_step = step; };
  auto r = Train(o, enc);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->steps, plan.steps);
  EXPECT_EQ(last_step, plan.steps);
  EXPECT_LE(r->dp.epsilon, 8.0);
  EXPECT_GT(r->dp_examples, 0);
  EXPECT_LE(r->dp_clipped, r->dp_examples);
  auto run = model::json::Parse(model::ReadBytes((dir / "run" / "run.json").string()).value());
  ASSERT_TRUE(run.ok());
  const model::json::Value* privacy = run->Find("privacy");
  ASSERT_TRUE(privacy && privacy->is_object());
  EXPECT_DOUBLE_EQ(model::json::GetNumber(*privacy, "epsilon").value(), r->dp.epsilon);
  EXPECT_DOUBLE_EQ(model::json::GetNumber(*privacy, "noise_multiplier").value(), 0.7);
  EXPECT_EQ(model::json::GetInt(*privacy, "steps").value(), plan.steps);
  EXPECT_TRUE(fs::exists(dir / "run" / "model" / "model.safetensors"));

  // A run that is not private says so in its lineage.
  TrainOptions plain = DpOptions(dir.path());
  plain.run_dir = (dir / "plain").string();
  plain.max_steps = 2;
  plain.dp = {};
  ASSERT_TRUE(Train(plain, enc).ok());
  auto plain_run =
      model::json::Parse(model::ReadBytes((dir / "plain" / "run.json").string()).value());
  ASSERT_TRUE(plain_run.ok());
  EXPECT_TRUE(plain_run->Find("privacy") && plain_run->Find("privacy")->is_null());

  // What DP-SGD cannot account for is refused before any work.
  TrainOptions bad = DpOptions(dir.path());
  bad.run_dir = (dir / "bad").string();
  bad.grad_accum = 2;
  EXPECT_NE(Train(bad, enc).status().message().find("--grad-accum"), std::string::npos);
  bad = DpOptions(dir.path());
  bad.run_dir = (dir / "bad").string();
  bad.batch_size = 30;
  EXPECT_NE(Train(bad, enc).status().message().find("--batch-size"), std::string::npos);
  bad = DpOptions(dir.path());
  bad.run_dir = (dir / "bad").string();
  bad.zero_stage = 2;
  EXPECT_EQ(Train(bad, enc).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir / "bad" / "run.json"));
}

// Federated rounds: a run starts from given weights, and FedProx's proximal term keeps it near
// them.
TEST(TrainerTest, ARunStartsFromGivenWeightsAndFedProxKeepsItNearThem) {
  medscribe::testing::TempDir dir;
  WriteDataset(dir / "ds", 30);
  CharEncoder enc;
  TrainOptions o = DpOptions(dir.path());
  o.dp = {};
  o.run_dir = (dir / "start").string();
  o.max_steps = 3;
  ASSERT_TRUE(Train(o, enc).ok());
  const std::string start = (dir / "start" / "model" / "model.safetensors").string();
  const auto distance = [&](const std::string& run) {
    auto a = model::LoadSafetensors(start).value();
    auto b = model::LoadSafetensors((dir / run / "model" / "model.safetensors").string()).value();
    double d = 0;
    for (const auto& [name, t] : a.tensors)
      d += (t - b.tensors.at(name)).pow(2).sum().item<double>();
    return std::sqrt(d);
  };
  std::map<std::string, double> dist;
  for (const double mu : {0.0, 1000.0}) {
    TrainOptions f = o;
    f.run_dir = (dir / ("mu" + std::to_string(static_cast<int>(mu)))).string();
    f.init_weights = start;
    f.proximal_mu = mu;
    f.seed = 5;  // another initialization: only init_weights makes the runs start at `start`
    f.max_steps = 10;
    auto r = Train(f, enc);
    ASSERT_TRUE(r.ok()) << r.status().message();
    dist[std::to_string(static_cast<int>(mu))] = distance(fs::path(f.run_dir).filename().string());
  }
  EXPECT_GT(dist["0"], 0);
  EXPECT_LT(dist["1000"], 0.5 * dist["0"]) << "FedProx pulls the weights back toward the start";
  // Weights of another configuration are refused, naming the file.
  TrainOptions bad = o;
  bad.run_dir = (dir / "bad").string();
  bad.init_weights = start;
  bad.config.decoder.hidden_size = 64;
  bad.config.decoder.intermediate_size = 128;
  auto refused = Train(bad, enc);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("start weights"), std::string::npos);
}

TEST(TensorBoardTest, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  medscribe::testing::TempDir dir;
  auto w = EventWriter::Create(dir.path().string());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Scalar("train/loss", 1.5, 3).ok());
}

}  // namespace
}  // namespace medscribe::train

namespace medscribe::train {
namespace {

TEST(DataTest, ModalityDropoutIsReproducibleAndKeepsItsRate) {
  int dropped = 0;
  for (uint64_t draw = 0; draw < 20000; ++draw) {
    EXPECT_EQ(DropModality(3, draw, 0.3), DropModality(3, draw, 0.3));
    dropped += DropModality(3, draw, 0.3);
    EXPECT_FALSE(DropModality(3, draw, 0.0));
    EXPECT_TRUE(DropModality(3, draw, 1.0));
  }
  EXPECT_NEAR(dropped / 20000.0, 0.3, 0.02);
  int differ = 0;  // another seed drops other examples
  for (uint64_t draw = 0; draw < 1000; ++draw)
    differ += DropModality(3, draw, 0.5) != DropModality(4, draw, 0.5);
  EXPECT_GT(differ, 300);
}

TEST(PrefetcherTest, EachExampleGetsItsOwnDrawAcrossEpochs) {
  std::mutex mu;
  std::map<uint64_t, size_t> seen;  // draw -> sample index
  CharEncoder enc;
  const Prefetcher::Load load = [&](size_t index, uint64_t draw) -> StatusOr<Example> {
    std::lock_guard lock(mu);
    seen[draw] = index;
    RawSample s{"K", model::json::Parse(SampleJson(1)).value(), torch::zeros({1, 16, 16})};
    return MakeExample(s, enc, {}, 1000);
  };
  PrefetchOptions o;
  o.batch_size = 2;
  o.seed = 9;
  {
    Prefetcher p(5, load, o, 0, 6);  // 12 examples: more than two epochs of 5
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(p.Next().ok());
  }
  ASSERT_EQ(seen.size(), 12u);
  for (uint64_t draw = 0; draw < 12; ++draw) {
    ASSERT_TRUE(seen.count(draw));
    EXPECT_EQ(seen[draw], EpochOrder(5, 9, draw / 5)[draw % 5]);
  }
}

TEST(DataTest, LengthBucketedBatchesHoldLikeLengthsInARandomOrder) {
  // 40 examples whose length is their index mod 10; windows of 4 batches of 5.
  std::vector<int> lengths(40);
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = static_cast<int>(i % 10);
  const std::vector<size_t> order = EpochOrder(40, 3, 0);
  const std::vector<size_t> b = LengthBucketed(order, lengths, 20, 5, 3, 0);
  // A permutation of the same examples, each window keeping its own.
  std::vector<size_t> sorted = b;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
  for (size_t w : {0, 20}) {
    std::vector<size_t> in(order.begin() + w, order.begin() + w + 20);
    std::vector<size_t> out(b.begin() + w, b.begin() + w + 20);
    std::sort(in.begin(), in.end());
    std::sort(out.begin(), out.end());
    EXPECT_EQ(in, out);
  }
  // Padding: the batches' spread of lengths is far below the unbucketed order's.
  const auto spread = [&](const std::vector<size_t>& o) {
    int total = 0;
    for (size_t i = 0; i < o.size(); i += 5) {
      const auto [lo, hi] =
          std::minmax_element(o.begin() + i, o.begin() + i + 5,
                              [&](size_t x, size_t y) { return lengths[x] < lengths[y]; });
      total += lengths[*hi] - lengths[*lo];
    }
    return total;
  };
  EXPECT_LT(spread(b) * 3, spread(order));
  // The batches of a window are not in length order, and the epoch changes them.
  bool rising = true;
  for (size_t i = 5; i < 20; i += 5) rising &= lengths[b[i]] >= lengths[b[i - 5]];
  EXPECT_FALSE(rising);
  EXPECT_NE(LengthBucketed(order, lengths, 20, 5, 3, 1), b);
  EXPECT_EQ(LengthBucketed(order, lengths, 20, 5, 3, 0), b);
  // A last window shorter than the others, and a batch larger than the window, lose nothing.
  EXPECT_EQ(LengthBucketed(EpochOrder(7, 1, 0), lengths, 5, 2, 1, 0).size(), 7u);
  EXPECT_EQ(LengthBucketed(EpochOrder(7, 1, 0), lengths, 5, 9, 1, 0).size(), 7u);
}

// DP-SGD: a step's batches over the ranks hold exactly its Poisson sample, each example once.
TEST(PrefetcherTest, PoissonBatchesSplitTheStepsSampleOverTheRanks) {
  CharEncoder enc;
  const Prefetcher::Load load = [&](size_t index, uint64_t) -> StatusOr<Example> {
    RawSample s{"K" + std::to_string(index), model::json::Parse(SampleJson(1)).value(),
                torch::zeros({1, 16, 16})};
    return MakeExample(s, enc, {}, 1000);
  };
  std::vector<std::vector<std::string>> keys(6);
  for (int rank = 0; rank < 2; ++rank) {
    PrefetchOptions o;
    o.seed = 4;
    o.rank = rank;
    o.world = 2;
    o.sample_rate = 0.2;
    Prefetcher p(40, load, o, 0, 6);
    for (size_t m = 0; m < 6; ++m) {
      auto b = p.Next();
      ASSERT_TRUE(b.ok());
      EXPECT_EQ(b->input_ids.size(0), static_cast<int64_t>(b->keys.size()));
      for (const std::string& k : b->keys) keys[m].push_back(k);
    }
  }
  size_t total = 0;
  for (size_t m = 0; m < 6; ++m) {
    std::vector<std::string> want;
    for (size_t i : PoissonSample(40, 0.2, 4, m)) want.push_back("K" + std::to_string(i));
    std::sort(want.begin(), want.end());
    std::sort(keys[m].begin(), keys[m].end());
    EXPECT_EQ(keys[m], want) << "step " << m;
    total += want.size();
  }
  EXPECT_GT(total, 20u);  // 48 expected
}

}  // namespace
}  // namespace medscribe::train
