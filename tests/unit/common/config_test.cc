#include "common/config.h"

#include <gtest/gtest.h>

namespace medscribe {
namespace {

TEST(ConfigTest, FlattensNestedMappingsAndAppliesOverrides) {
  auto cfg = Config::FromYaml("synth:\n  encounters: 20\n  speech: false\nname: demo\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(*cfg->GetInt("synth.encounters", 0), 20);
  EXPECT_FALSE(*cfg->GetBool("synth.speech", true));
  EXPECT_EQ(cfg->GetString("name", ""), "demo");
  ASSERT_TRUE(cfg->SetOverride("synth.encounters=35").ok());
  EXPECT_EQ(*cfg->GetInt("synth.encounters", 0), 35);
  EXPECT_EQ(*cfg->GetInt("missing.key", 9), 9);
}

TEST(ConfigTest, TypeErrorsNameTheKey) {
  auto cfg = Config::FromYaml("a: abc\nb: 1.5x\n");
  ASSERT_TRUE(cfg.ok());
  auto i = cfg->GetInt("a", 0);
  ASSERT_FALSE(i.ok());
  EXPECT_NE(i.status().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(cfg->GetDouble("b", 0).ok());
  EXPECT_FALSE(cfg->GetBool("a", false).ok());
}

TEST(ConfigTest, RejectsInvalidYamlListsAndBadOverrides) {
  auto bad = Config::FromYaml("a: [1, 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line"), std::string::npos);
  EXPECT_FALSE(Config::FromYaml("a: [1, 2]\n").ok());
  EXPECT_FALSE(Config::FromYaml("- 1\n- 2\n").ok());
  Config c;
  EXPECT_FALSE(c.SetOverride("novalue").ok());
  EXPECT_FALSE(c.SetOverride("=x").ok());
  EXPECT_EQ(Config::LoadFile("/nonexistent/medscribe.yaml").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace medscribe
