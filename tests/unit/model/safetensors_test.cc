#include "model/safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/config.h"
#include "model/json.h"
#include "testing/temp_dir.h"

namespace medscribe::model {
namespace {

TEST(SafetensorsTest, RoundTripsEveryDtypeAndMetadata) {
  NamedTensors in = {{"a.f32", torch::randn({2, 3})},
                     {"b.bf16", torch::randn({4}).to(torch::kBFloat16)},
                     {"c.i64", torch::arange(5)},
                     {"d.empty", torch::zeros({0, 7})},
                     {"e.f16", torch::randn({1, 1, 2}).to(torch::kFloat16)}};
  auto bytes = EncodeSafetensors(in, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok());
  // The header length is little-endian and the data starts 8-byte aligned.
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>((*bytes)[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ((*bytes)[8], '{');
  auto out = DecodeSafetensors(*bytes);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    ASSERT_TRUE(out->tensors.count(name)) << name;
    EXPECT_TRUE(torch::equal(out->tensors[name], t)) << name;
    EXPECT_EQ(out->tensors[name].scalar_type(), t.scalar_type()) << name;
  }
  EXPECT_EQ(out->metadata.at("format"), "pt");
}

TEST(SafetensorsTest, RejectsMalformedFilesWithReasons) {
  auto good = EncodeSafetensors({{"w", torch::ones({2, 2})}}).value();
  EXPECT_EQ(DecodeSafetensors("abc").status().code(), ErrorCode::kDataLoss);
  std::string huge = good;
  huge[7] = '\x7f';  // header length beyond the file
  EXPECT_EQ(DecodeSafetensors(huge).status().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(DecodeSafetensors(good.substr(0, good.size() - 1)).status().code(),
            ErrorCode::kDataLoss);
  auto with_header = [](const std::string& header, size_t data) {
    std::string h = header;
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((h.size() >> (8 * i)) & 0xFF);
    return out + h + std::string(data, '\0');
  };
  for (
      const char* header :
      {R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}})",  // shape needs 16
       R"({"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})",    // unknown dtype
       R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}})",  // negative size
       R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",  // overlap
       R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,64]}})",  // beyond the data
       R"([1,2])"}) {
    auto r = DecodeSafetensors(with_header(header, 32));
    EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss) << header;
  }
}

TEST(SafetensorsTest, LoadsShardedDirectoriesThroughTheIndex) {
  medscribe::testing::TempDir dir;
  ASSERT_TRUE(SaveSafetensors((dir / "model-00001-of-00002.safetensors").string(),
                              {{"a", torch::ones({2})}})
                  .ok());
  ASSERT_TRUE(SaveSafetensors((dir / "model-00002-of-00002.safetensors").string(),
                              {{"b", torch::zeros({3})}})
                  .ok());
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
  auto st = LoadSafetensorsDir(dir.path().string());
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(st->tensors.size(), 2u);
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map":{"a":"../etc/passwd"}})";
  EXPECT_EQ(LoadSafetensorsDir(dir.path().string()).status().code(), ErrorCode::kDataLoss);
}

TEST(JsonTest, ParsesDumpsAndRefusesHostileInput) {
  auto v = json::Parse(R"({"b":[1,2.5,"x\u00e9\ud83d\ude00",true,null],"a":{"n":-3}})");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(json::Dump(*v), R"({"a":{"n":-3},"b":[1,2.5,"xé😀",true,null]})");
  EXPECT_EQ(json::GetInt(*v->Find("a"), "n").value(), -3);
  EXPECT_FALSE(json::GetString(*v, "a").ok());
  EXPECT_FALSE(json::Parse(std::string(100, '[')).ok());  // deeper than 64
  EXPECT_FALSE(json::Parse(R"({"a":1,"a":2})").ok());
  EXPECT_FALSE(json::Parse(R"("\ud800")").ok());
  EXPECT_FALSE(json::Parse("1e999").ok());
  EXPECT_FALSE(json::Parse("[1,]").ok());
  EXPECT_FALSE(json::Parse("{} x").ok());
}

TEST(ConfigTest, PresetsValidateAndRoundTripAndImpossibleShapesAreRefused) {
  // The base preset reads its findings as text, sizes lesions per cell and shows the decoder the
  // image through the finding slots and the reading alone.
  const ModelConfig base = PresetConfig("base").value();
  EXPECT_TRUE(base.findings.read_as_text);
  EXPECT_TRUE(base.findings.cell_size);
  EXPECT_FALSE(base.vision.size_map);
  EXPECT_FALSE(base.projector.patch_tokens);
  EXPECT_FALSE(PresetConfig("tiny").value().findings.read_as_text);
  // `quick` is `base` at 128 px, with the same 8x8 grid of cells.
  const ModelConfig quick = PresetConfig("quick").value();
  EXPECT_EQ(quick.vision.image_size, 128);
  EXPECT_EQ(quick.vision.grid(), base.vision.grid());
  EXPECT_TRUE(quick.findings.read_as_text);
  for (const char* name : {"tiny", "quick", "base", "small"}) {
    auto c = PresetConfig(name);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(Validate(*c).ok()) << name << ": " << Validate(*c).message();
    auto back = FromJson(json::Parse(json::Dump(ToJson(*c))).value());
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(json::Dump(ToJson(*back)), json::Dump(ToJson(*c)));
  }
  EXPECT_EQ(PresetConfig("huge").status().code(), ErrorCode::kNotFound);
  ModelConfig c = PresetConfig("tiny").value();
  c.decoder.num_key_value_heads = 3;  // does not divide 4 heads
  EXPECT_NE(Validate(c).message().find("num_key_value_heads"), std::string::npos);
  c = PresetConfig("tiny").value();
  c.vision.patch_size = 24;  // does not divide 128
  EXPECT_NE(Validate(c).message().find("patch_size"), std::string::npos);
  const json::Value hf = HfLlamaConfig(c.decoder, 2, 3, 0);
  EXPECT_EQ(hf.Find("architectures")->as_array()[0].as_string(), "LlamaForCausalLM");
  EXPECT_EQ(hf.Find("num_key_value_heads")->as_int(), c.decoder.num_key_value_heads);
}

}  // namespace
}  // namespace medscribe::model
