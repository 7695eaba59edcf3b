#include "clinical/rules.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "clinical/draft_vars.h"

namespace medscribe::clinical {
namespace {

TEST(Rules, ShippedRuleFilesPassTheirFixtures) {
  int files = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(MEDSCRIBE_SOURCE_DIR) + "/rules")) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    auto rules = RuleSet::Load(e.path().string());
    ASSERT_TRUE(rules.ok()) << rules.status().message();
    EXPECT_GE(rules->fixtures().size(), rules->size()) << e.path();  // a test per rule at least
    for (const auto& r : RunFixtures(*rules)) {
      std::string why;
      for (const auto& m : r.missing) why += " missing " + m;
      for (const auto& u : r.unexpected) why += " unexpected " + u;
      for (const auto& x : r.errors) why += " error " + x;
      EXPECT_TRUE(r.ok) << e.path().filename() << ": " << r.name << ":" << why;
    }
  }
  EXPECT_EQ(files, 4);
}

TEST(Rules, HintsCarryBothLanguagesAndEvidence) {
  auto rules = RuleSet::Load(std::string(MEDSCRIBE_SOURCE_DIR) + "/rules/guidelines.yaml");
  ASSERT_TRUE(rules.ok());
  std::map<std::string, Value> vars = {
      {"draft",
       DraftValue("FINDINGS: Large left pneumothorax. IMPRESSION: Left tension pneumothorax.")},
      {"record",
       Value::Object(
           {{"labs", Value::List({Value::Object({{"name", Value::String("Potassium")},
                                                 {"interpretation", Value::String("L")}})})}})}};
  std::vector<RuleError> errors;
  const auto hints = rules->Check(vars, &errors);
  ASSERT_EQ(hints.size(), 2u);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(hints[0].rule_id, "guideline.pneumothorax-urgent");
  EXPECT_EQ(hints[0].severity, "critical");
  EXPECT_EQ(hints[0].evidence, "Left tension pneumothorax.");
  EXPECT_NE(hints[0].message_zh.find("氣胸"), std::string::npos);
  EXPECT_EQ(hints[1].evidence, "[\"Potassium\"]");
}

TEST(Rules, BadFilesAreRejectedWithFileLineAndReason) {
  struct Case {
    std::string yaml, expect;
  };
  const std::string msg = "    message: {en: a, zh-Hant: b}\n";
  for (const Case& c : std::vector<Case>{
           {"rules:\n  - id: a\n    when: len(draft.text) ==\n" + msg,
            "r.yaml:3: 'when': column 19: the expression ends too early"},
           {"rules:\n  - id: a\n    when: true\n", "needs a message"},
           {"rules:\n  - id: a\n    when: true\n    message: {en: a}\n",
            "r.yaml:4: rule 'a': message needs 'zh-Hant'"},
           {"rules:\n  - id: a\n    when: true\n    severity: panic\n" + msg, "severity must be"},
           {"rules:\n  - id: a\n    when: true\n    colour: red\n" + msg,
            "r.yaml:4: unknown key 'colour'"},
           {"rules:\n  - id: a\n    when: true\n" + msg + "  - id: a\n    when: false\n" + msg,
            "duplicate rule id 'a'"},
           {"rules:\n  - id: a\n    when: true\n" + msg + "tests:\n  - name: t\n    expect: [b]\n",
            "not a rule of this file"},
           {"rules: [\n", "r.yaml:"},
           {"rules: []\n", "non-empty list"}}) {
    auto r = RuleSet::Parse(c.yaml, "r.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

TEST(Rules, AFailingRuleDoesNotStopTheOthers) {
  auto rules = RuleSet::Parse(
      "rules:\n"
      "  - {id: broken, when: \"draft.text < 3\", message: {en: a, zh-Hant: b}}\n"
      "  - {id: fine, when: \"contains(draft.text, 'x')\", message: {en: a, zh-Hant: b}}\n",
      "r.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  std::vector<RuleError> errors;
  const auto hints = rules->Check({{"draft", DraftValue("x")}}, &errors);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].rule_id, "fine");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rule_id, "broken");
}

TEST(DraftVars, SectionsLabelsAndSides) {
  const Value d = DraftValue(
      "EXAMINATION: Chest PA.\nFINDINGS: Small right pleural effusion. No pneumothorax.\n"
      "IMPRESSION: Right effusion.\nRECOMMENDATION: Follow-up radiograph.");
  EXPECT_EQ(d.object.at("findings").s, "Small right pleural effusion. No pneumothorax.");
  EXPECT_EQ(d.object.at("impression").s, "Right effusion.");
  EXPECT_EQ(d.object.at("recommendation").s, "Follow-up radiograph.");
  EXPECT_EQ(d.object.at("labels").object.at("pleural_effusion").s, "positive");
  EXPECT_EQ(d.object.at("labels").object.at("pneumothorax").s, "negative");
  EXPECT_EQ(d.object.at("sides").object.at("pleural_effusion").s, "right");
  EXPECT_EQ(SectionText("no headings here", "IMPRESSION"), "");
}

}  // namespace
}  // namespace medscribe::clinical
