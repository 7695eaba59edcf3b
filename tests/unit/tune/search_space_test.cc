#include "tune/search_space.h"

#include <gtest/gtest.h>

namespace medscribe::tune {
namespace {

constexpr const char* kStudy = R"(
trials: 8
steps: 80
asha: {min_steps: 10, reduction_factor: 3, brackets: 2}
train: [--dataset, D, --config, tiny]
space:
  lr: {type: loguniform, low: 1e-4, high: 1e-2}
  batch-size: {type: choice, values: [4, 8]}
  warmup: {type: int, low: 0, high: 40}
)";

TEST(SearchSpaceTest, ParsesAStudyAndItsRungs) {
  auto c = ParseStudyConfig(kStudy, "lr-study");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->name, "lr-study");
  EXPECT_EQ(c->sampler, "tpe");
  ASSERT_EQ(c->space.size(), 3u);
  EXPECT_EQ(c->space[0].name, "lr");  // the file's order
  EXPECT_EQ(c->space[0].kind, Param::Kind::kLogUniform);
  EXPECT_EQ(c->space[1].choices, (std::vector<std::string>{"4", "8"}));
  EXPECT_EQ(RungSteps(*c, 0), (std::vector<int64_t>{10, 30}));
  EXPECT_EQ(RungSteps(*c, 1), (std::vector<int64_t>{30}));
  EXPECT_EQ(FormatValue(c->space[2], 12.4), "12");
  EXPECT_EQ(FormatValue(c->space[0], 0.00123456789), "0.00123457");
  // The digest changes with what defines the trials, not with the name.
  auto renamed = ParseStudyConfig(std::string(kStudy) + "study: other\n", "x");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(Digest(*c), Digest(*renamed));
  std::string wider = kStudy;
  wider.replace(wider.find("high: 40"), 8, "high: 50");
  EXPECT_NE(Digest(*c), Digest(*ParseStudyConfig(wider, "lr-study")));
}

TEST(SearchSpaceTest, BadInputNamesTheKey) {
  const auto error = [](const std::string& yaml) {
    auto c = ParseStudyConfig(yaml, "s");
    return c.ok() ? std::string("ok") : std::string(c.status().message());
  };
  EXPECT_NE(
      error("space: {lr: {type: lognormal, low: 1, high: 2}}").find("space.lr.type: 'lognormal'"),
      std::string::npos);
  EXPECT_NE(error("space: {lr: {type: loguniform, low: 0, high: 2}}").find("above 0"),
            std::string::npos);
  EXPECT_NE(error("space: {lr: {type: uniform, low: 2, high: 1}}").find("space.lr."),
            std::string::npos);
  EXPECT_NE(error("space: {lr: {type: choice, values: []}}").find("space.lr.values"),
            std::string::npos);
  EXPECT_NE(error("space: {lr: {type: uniform, low: 0, high: 1, step: 2}}").find("space.lr.step"),
            std::string::npos);
  EXPECT_NE(error("trails: 3\nspace: {lr: {type: uniform, low: 0, high: 1}}").find("trails"),
            std::string::npos);
  EXPECT_NE(error("trials: 3").find("space"), std::string::npos);
  EXPECT_NE(error("train: [--out, x]\nspace: {lr: {type: uniform, low: 0, high: 1}}")
                .find("--out is set by the tuner"),
            std::string::npos);
  EXPECT_NE(error("steps: 10\nasha: {min_steps: 10}\nspace: {lr: {type: uniform, low: 0, high: 1}}")
                .find("asha.min_steps"),
            std::string::npos);
  EXPECT_NE(
      error("objective: micro_f1\nspace: {lr: {type: uniform, low: 0, high: 1}}").find("objective"),
      std::string::npos);
  EXPECT_NE(error("space: [").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error("space: {Bad_Name: {type: uniform, low: 0, high: 1}}").find("dashes"),
            std::string::npos);
}

}  // namespace
}  // namespace medscribe::tune
