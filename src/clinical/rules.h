// Rule files (docs/rules.md): YAML lists of rules, each a `when` expression (rule_expr.h) over
// the draft and the record, with a severity, a message in English and Traditional Chinese and
// an `evidence` expression whose value is shown beside the hint. A file may carry `tests`:
// fixtures (a draft and a record) with the rule ids they must raise, run by
// `medscribe rules test FILE`.
//
// Loading checks everything it can before any draft is seen: unknown keys, missing messages,
// duplicate ids, severities, and every expression's syntax, each error naming the file and line.
//
// Thread safety: a loaded RuleSet is immutable; Check may run concurrently.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "clinical/rule_expr.h"
#include "common/status.h"

namespace medscribe::clinical {

struct Hint {
  std::string rule_id;
  std::string severity;  // critical, warning, info
  std::string message_en, message_zh;
  std::string evidence;  // the evidence expression's value, as text ("" without one)
};

struct RuleError {
  std::string rule_id, message;  // a rule that could not be evaluated on this input
};

struct RuleFixture {
  std::string name;
  int line = 0;
  std::map<std::string, Value> vars;  // draft, record, study
  std::vector<std::string> expect;    // rule ids that must fire, no others
};

class RuleSet {
 public:
  // InvalidArgument "ORIGIN:LINE: reason" for a bad file.
  static StatusOr<RuleSet> Parse(const std::string& yaml_text, const std::string& origin);
  static StatusOr<RuleSet> Load(const std::string& path);
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;
  ~RuleSet();

  // The hints the rules raise on `vars` (draft, record, study), in file order. A rule whose
  // expression fails on this input (a type error) goes to *errors, never stops the others.
  std::vector<Hint> Check(const std::map<std::string, Value>& vars,
                          std::vector<RuleError>* errors) const;
  size_t size() const { return rules_.size(); }
  const std::vector<RuleFixture>& fixtures() const { return fixtures_; }
  const std::string& origin() const { return origin_; }

 private:
  RuleSet() = default;
  struct Rule {
    std::string id, severity, message_en, message_zh;
    Expr when;
    std::unique_ptr<Expr> evidence;
    int line = 0;
  };
  std::vector<Rule> rules_;
  std::vector<RuleFixture> fixtures_;
  std::string origin_;
};

// A fixture's outcome: which expected ids did not fire, which unexpected ones did.
struct FixtureResult {
  std::string name;
  bool ok = false;
  std::vector<std::string> missing, unexpected, errors;
};
std::vector<FixtureResult> RunFixtures(const RuleSet& rules);

}  // namespace medscribe::clinical
