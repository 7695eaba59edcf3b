#include "speech/asr.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/subprocess.h"
#include "speech/ngram_lm.h"
#include "testing/temp_dir.h"

namespace medscribe::speech {
namespace {

TEST(WordErrorsTest, CountsSubstitutionsInsertionsAndDeletions) {
  EXPECT_EQ(WordErrors("the cat sat", "The cat, sat.").errors, 0u);
  const WerCounts w = WordErrors("the cat sat", "the bat sat down");
  EXPECT_EQ(w.errors, 2u);
  EXPECT_EQ(w.reference_words, 3u);
  EXPECT_NEAR(w.rate(), 2.0 / 3, 1e-9);
  EXPECT_EQ(WordErrors("one two three", "").errors, 3u);
  EXPECT_EQ(WordErrors("a 12 mm nodule", "a twelve mm nodule").errors, 0u);
}

TEST(PocketSphinxTest, MissingModelsAreNamed) {
  PocketSphinxOptions o;
  o.language_model = "/nonexistent/model.arpa";
  auto r = PocketSphinxRecognizer::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/model.arpa"), std::string::npos);
}

TEST(PocketSphinxTest, DomainModelRecognizesDictationBetterThanTheGenericOne) {
  testing::TempDir tmp;
  const std::string sentence =
      "the right pleural effusion has increased compared with the prior study";
  auto wav = RunProcess({"espeak-ng", "-v", "en-us", "-s", "150", "--stdout", sentence});
  ASSERT_TRUE(wav.ok() && wav->exit_code == 0);
  auto audio = DecodeWav(wav->out);
  ASSERT_TRUE(audio.ok());

  NgramCounter counter(3);
  for (const char* s : {"The right pleural effusion has increased compared with the prior study.",
                        "The left pleural effusion has decreased compared with the prior study.",
                        "No pleural effusion or pneumothorax.",
                        "Compared with the prior study, there is no change.",
                        "The consolidation is new compared with the prior study."}) {
    counter.Add(TokenizeForLm(s));
  }
  ASSERT_TRUE(WriteFile(tmp / "domain.arpa", counter.ToArpa(0.5)).ok());
  PocketSphinxOptions domain_options;
  domain_options.language_model = (tmp / "domain.arpa").string();
  auto domain = PocketSphinxRecognizer::Create(domain_options);
  auto generic = PocketSphinxRecognizer::Create({});
  ASSERT_TRUE(domain.ok()) << domain.status().ToString();
  ASSERT_TRUE(generic.ok()) << generic.status().ToString();
  const std::string hd = *(*domain)->Transcribe(*audio), hg = *(*generic)->Transcribe(*audio);
  const double wd = WordErrors(sentence, hd).rate(), wg = WordErrors(sentence, hg).rate();
  EXPECT_LT(wd, 0.5) << hd;
  EXPECT_LT(wd, wg) << "domain: " << hd << "\ngeneric: " << hg;
}

}  // namespace
}  // namespace medscribe::speech
