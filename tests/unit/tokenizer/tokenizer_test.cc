#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace medscribe::tokenizer {
namespace {

std::vector<std::string> Corpus() {
  std::vector<std::string> texts;
  const char* lines[] = {
      "<history> 67-year-old female, Emergency Department. Note: fever and cough for 3 days.",
      "<labs> Leukocytes 17.2 10*3/uL (H; 4-11) 2.8 h before.",
      "<dictation> no prior studies are available for comparison",
      "<report> FINDINGS: There is a right lower zone consolidation. IMPRESSION: Pneumonia.",
      "FINDINGS: The lungs are clear. No pleural effusion or pneumothorax. IMPRESSION: Normal.",
      "病人主訴發燒咳嗽三天，無其他不適。",
      "Moderate cardiomegaly with bilateral pleural effusions, increased compared with the prior "
      "study."};
  for (int i = 0; i < 40; ++i) {
    for (const char* l : lines) texts.push_back(std::string(l) + " " + std::to_string(i));
  }
  return texts;
}

TrainOptions Options(int vocab) {
  TrainOptions o;
  o.vocab_size = vocab;
  return o;
}

TEST(TokenizerTest, TrainsRoundTripsAndKeepsSectionTokensWhole) {
  medscribe::testing::TempDir dir;
  ASSERT_TRUE(Tokenizer::Train(Corpus(), dir.path().string(), Options(400)).ok());
  auto tok = Tokenizer::Load((dir / "tokenizer.model").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  EXPECT_GE(tok->vocab_size(), 300);
  for (const std::string text :
       {"FINDINGS: Small left apical pneumothorax (12 mm).", "病人主訴發燒咳嗽三天。",
        "Unseen characters: 肺炎 Ωμέγα ✓ 😀", "<report> IMPRESSION: Normal."}) {
    const std::vector<int> ids = tok->Encode(text);
    EXPECT_EQ(tok->Decode(ids), text);
    for (int id : ids) EXPECT_NE(id, kUnkId) << text;  // byte fallback: nothing is unknown
  }
  const std::vector<int> ids = tok->Encode("<image>\n<report>");
  EXPECT_NE(std::find(ids.begin(), ids.end(), tok->SpecialId("<image>")), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), tok->SpecialId("<report>")), ids.end());
  for (const char* s : kSectionTokens) EXPECT_GT(tok->SpecialId(s), kEosId);
  auto again = Tokenizer::FromBytes(tok->Serialized());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Encode("IMPRESSION: Normal."), tok->Encode("IMPRESSION: Normal."));
}

TEST(TokenizerTest, ExtraSymbolsAreOnePieceEach) {
  medscribe::testing::TempDir dir;
  ASSERT_TRUE(Tokenizer::Train(Corpus(), dir.path().string(),
                               {.vocab_size = 400, .symbols = {"<change_new>", "<change_stable>"}})
                  .ok());
  auto tok = Tokenizer::Load((dir / "tokenizer.model").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const std::vector<int> ids = tok->Encode("<dictation> it is new <change_new>");
  EXPECT_EQ(ids.back(), tok->SpecialId("<change_new>"));
  EXPECT_GT(tok->SpecialId("<change_stable>"), tok->SpecialId("<report>"));
  EXPECT_EQ(tok->Decode(ids), "<dictation> it is new <change_new>");
  EXPECT_EQ(Tokenizer::Train(Corpus(), dir.path().string(), {.vocab_size = 400, .symbols = {"a,b"}})
                .code(),
            ErrorCode::kInvalidArgument);
}

TEST(TokenizerTest, WordStartSymbolsMakeAWordOnePiece) {
  medscribe::testing::TempDir dir;
  ASSERT_TRUE(Tokenizer::Train(Corpus(), dir.path().string(),
                               {.vocab_size = 400, .symbols = {"\u2581new", "\u2581increased"}})
                  .ok());
  auto tok = Tokenizer::Load((dir / "tokenizer.model").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const std::vector<int> word = tok->Encode("new");
  ASSERT_EQ(word.size(), 1u);
  ASSERT_EQ(tok->Encode("increased").size(), 1u);
  const auto has = [&](const std::string& text) {
    const std::vector<int> ids = tok->Encode(text);
    return std::find(ids.begin(), ids.end(), word[0]) != ids.end();
  };
  EXPECT_TRUE(has("Consolidation, new since the prior study."));
  EXPECT_TRUE(has("a newly placed line"));  // the piece and the rest of the word
  EXPECT_FALSE(has("renew"));               // only at the start of a word
  for (const std::string text : {"a newly placed line", "renew", "new new"})
    EXPECT_EQ(tok->Decode(tok->Encode(text)), text);
}

TEST(TokenizerTest, RefusesBadInputs) {
  medscribe::testing::TempDir dir;
  EXPECT_EQ(Tokenizer::Train({}, dir.path().string(), {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Tokenizer::Train(Corpus(), dir.path().string(), Options(10)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Tokenizer::Load((dir / "missing.model").string()).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(Tokenizer::FromBytes("not a model").status().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace medscribe::tokenizer
