#include "clinical/rule_expr.h"

#include <gtest/gtest.h>

namespace medscribe::clinical {
namespace {

std::map<std::string, Value> Vars() {
  auto lab = [](const std::string& name, const std::string& flag, double value) {
    return Value::Object({{"name", Value::String(name)},
                          {"interpretation", Value::String(flag)},
                          {"value", Value::Number(value)}});
  };
  return {
      {"draft",
       Value::Object(
           {{"impression", Value::String("Small right pneumothorax.")},
            {"findings", Value::String("Elevated WBC noted. 8 mm nodule in the left upper lobe.")},
            {"laterality", Value::String("right")}})},
      {"record",
       Value::Object(
           {{"labs", Value::List({lab("WBC", "H", 15.2), lab("Sodium", "N", 140),
                                  lab("Potassium", "L", 3.1)})},
            {"conditions", Value::List({Value::String("J93.9"), Value::String("R91.1")})}})},
  };
}

bool Eval(const std::string& text) {
  auto e = Expr::Parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().message();
  if (!e.ok()) return false;
  auto v = e->Eval(Vars());
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().message();
  return v.ok() && v->truthy();
}

TEST(RuleExpr, WhatRulesAsk) {
  EXPECT_TRUE(Eval("contains(draft.impression, 'PNEUMOTHORAX')"));
  EXPECT_TRUE(
      Eval("\"J93.9\" in record.conditions and not contains(draft.impression, 'effusion')"));
  // Every abnormal lab is mentioned somewhere: Potassium is not.
  EXPECT_FALSE(
      Eval("all(record.labs, item.interpretation == 'N' or contains(draft.findings, item.name))"));
  EXPECT_TRUE(Eval("any(record.labs, item.interpretation == 'H' and item.value > 15)"));
  EXPECT_TRUE(Eval("count(record.labs) == 3 and len(draft.laterality) >= 4"));
  EXPECT_TRUE(Eval("contains_any(draft.findings, ['mass', 'nodule'])"));
  EXPECT_TRUE(Eval("draft.missing == null and not draft.missing.deeper"));
  EXPECT_TRUE(Eval("lower(draft.laterality) in ['left', 'right', 'bilateral']"));
  EXPECT_TRUE(Eval("any(record.labs, any(record.conditions, item == 'R91.1'))"));  // nested item
}

TEST(RuleExpr, ParseErrorsNameTheColumn) {
  struct Case {
    std::string text, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"contains(draft.impression", "column 26"},
           {"a ==", "ends too early"},
           {"'open", "unterminated string"},
           {"a # b", "unexpected character '#'"},
           {"and b", "needs an operand"},
           {"a b", "unexpected 'b'"},
           {"1.2.3", "bad number"},
           {std::string(100, '(') + "1" + std::string(100, ')'), "nested deeper than 64"}}) {
    auto e = Expr::Parse(c.text);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_NE(e.status().message().find(c.expect), std::string::npos)
        << c.text << ": " << e.status().message();
  }
}

TEST(RuleExpr, TypeErrorsAreErrorsNotGuesses) {
  for (const char* text :
       {"draft.impression < 3", "count(draft.impression)", "contains(record.labs, 'x')",
        "unknown_fn(1)", "nobody.field", "1 in 2", "any(draft.impression, true)"}) {
    auto e = Expr::Parse(text);
    ASSERT_TRUE(e.ok()) << text;
    auto v = e->Eval(Vars());
    EXPECT_FALSE(v.ok()) << text << " gave " << v->DebugString();
  }
}

TEST(RuleExpr, EvaluationIsBounded) {
  // 200 x 200 x 200 nested any() = 8,000,000 steps: stopped, not hung.
  std::vector<Value> many(200, Value::Number(1));
  std::map<std::string, Value> vars = {{"xs", Value::List(many)}};
  auto e = Expr::Parse("any(xs, any(xs, any(xs, item == 2)))");
  ASSERT_TRUE(e.ok());
  auto v = e->Eval(vars);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace medscribe::clinical
