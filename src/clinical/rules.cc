#include "clinical/rules.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "clinical/draft_vars.h"
#include "common/files.h"

namespace medscribe::clinical {
namespace {

struct Bad : std::runtime_error {
  Bad(const YAML::Node& n, const std::string& why)
      : std::runtime_error("line " + std::to_string(n.Mark().line + 1) + ": " + why) {}
};

void CheckKeys(const YAML::Node& n, const std::string& what,
               std::initializer_list<const char*> ok) {
  if (!n.IsMap()) throw Bad(n, what + " must be a mapping");
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    if (std::none_of(ok.begin(), ok.end(), [&](const char* o) { return k == o; })) {
      std::string list;
      for (const char* o : ok) list += std::string(list.empty() ? "" : ", ") + o;
      throw Bad(kv.first, "unknown key '" + k + "' in " + what + " (known: " + list + ")");
    }
  }
}

// parent[key], which must exist (the error points at the parent when it does not).
YAML::Node Field(const YAML::Node& parent, const char* key, const std::string& what) {
  const YAML::Node n = parent[key];
  if (!n) throw Bad(parent, what + " needs '" + key + "'");
  return n;
}

std::string Str(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) throw Bad(n, "'" + key + "' must be text");
  return n.as<std::string>();
}

Expr Compile(const YAML::Node& n, const std::string& key) {
  auto e = Expr::Parse(Str(n, key));
  if (!e.ok()) throw Bad(n, "'" + key + "': " + e.status().message());
  return std::move(*e);
}

// YAML data (fixtures) as expression values: mappings → objects, sequences → lists, scalars →
// numbers when they read as numbers, booleans for true/false, null for ~, else text.
Value FromYaml(const YAML::Node& n, int depth = 0) {
  if (depth > 32) throw Bad(n, "fixture data nested deeper than 32");
  if (!n || n.IsNull()) return Value::Null();
  if (n.IsSequence()) {
    std::vector<Value> out;
    for (const auto& e : n) out.push_back(FromYaml(e, depth + 1));
    return Value::List(std::move(out));
  }
  if (n.IsMap()) {
    std::map<std::string, Value> out;
    for (const auto& kv : n) out[kv.first.as<std::string>()] = FromYaml(kv.second, depth + 1);
    return Value::Object(std::move(out));
  }
  const std::string s = n.as<std::string>();
  if (n.Tag() != "!") {  // unquoted scalars may be numbers or booleans
    if (s == "true" || s == "false") return Value::Bool(s == "true");
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value::Number(d);
  }
  return Value::String(s);
}

std::string AsText(const Value& v) {
  if (v.kind == Value::Kind::kString) return v.s;
  if (v.kind == Value::Kind::kNull) return "";
  return v.DebugString();
}

}  // namespace

RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;
RuleSet::~RuleSet() = default;

StatusOr<RuleSet> RuleSet::Parse(const std::string& yaml_text, const std::string& origin) {
  RuleSet set;
  set.origin_ = origin;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    CheckKeys(root, "a rule file", {"rules", "tests"});
    const YAML::Node rules = root["rules"];
    if (!rules || !rules.IsSequence() || rules.size() == 0)
      throw Bad(root, "a rule file needs 'rules', a non-empty list");
    std::set<std::string> ids;
    for (const auto& r : rules) {
      CheckKeys(r, "a rule", {"id", "severity", "when", "message", "evidence"});
      Rule rule{Str(Field(r, "id", "a rule"), "id"),
                r["severity"] ? Str(r["severity"], "severity") : "warning",
                "",
                "",
                Compile(Field(r, "when", "a rule"), "when"),
                nullptr,
                r.Mark().line + 1};
      if (!ids.insert(rule.id).second) throw Bad(r["id"], "duplicate rule id '" + rule.id + "'");
      if (rule.severity != "critical" && rule.severity != "warning" && rule.severity != "info")
        throw Bad(r["severity"], "severity must be critical, warning or info");
      const YAML::Node m = r["message"];
      if (!m) throw Bad(r, "rule '" + rule.id + "' needs a message with 'en' and 'zh-Hant'");
      CheckKeys(m, "a message", {"en", "zh-Hant"});
      rule.message_en = Str(Field(m, "en", "rule '" + rule.id + "': message"), "message.en");
      rule.message_zh =
          Str(Field(m, "zh-Hant", "rule '" + rule.id + "': message"), "message.zh-Hant");
      if (r["evidence"]) rule.evidence = std::make_unique<Expr>(Compile(r["evidence"], "evidence"));
      set.rules_.push_back(std::move(rule));
    }
    if (const YAML::Node tests = root["tests"]) {
      if (!tests.IsSequence()) throw Bad(tests, "'tests' must be a list");
      for (const auto& t : tests) {
        CheckKeys(t, "a test", {"name", "draft", "record", "study", "expect"});
        RuleFixture f;
        f.name = Str(Field(t, "name", "a test"), "name");
        f.line = t.Mark().line + 1;
        for (const char* k : {"draft", "record", "study"}) f.vars[k] = FromYaml(t[k]);
        // A draft given as report text is read the way drafts are (sections, labels).
        if (t["draft"] && t["draft"].IsScalar())
          f.vars["draft"] = DraftValue(t["draft"].as<std::string>());
        if (t["expect"]) {
          if (!t["expect"].IsSequence())
            throw Bad(t["expect"], "'expect' must be a list of rule ids");
          for (const auto& e : t["expect"]) {
            const std::string id = Str(e, "expect");
            if (!ids.count(id))
              throw Bad(e, "test '" + f.name + "' expects '" + id +
                               "', which is not a rule of this file");
            f.expect.push_back(id);
          }
        }
        set.fixtures_.push_back(std::move(f));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    std::string what = e.what();  // "line N: reason"
    if (what.rfind("line ", 0) == 0) what = what.substr(5);
    return InvalidArgumentError(origin + ":" + what);
  }
  return set;
}

StatusOr<RuleSet> RuleSet::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

std::vector<Hint> RuleSet::Check(const std::map<std::string, Value>& vars,
                                 std::vector<RuleError>* errors) const {
  std::vector<Hint> hints;
  for (const Rule& r : rules_) {
    auto fired = r.when.Eval(vars);
    if (!fired.ok()) {
      if (errors) errors->push_back({r.id, fired.status().message()});
      continue;
    }
    if (!fired->truthy()) continue;
    Hint h{r.id, r.severity, r.message_en, r.message_zh, ""};
    if (r.evidence) {
      auto ev = r.evidence->Eval(vars);
      if (ev.ok()) {
        h.evidence = AsText(*ev);
      } else if (errors) {
        errors->push_back({r.id, "evidence: " + ev.status().message()});
      }
    }
    hints.push_back(std::move(h));
  }
  return hints;
}

std::vector<FixtureResult> RunFixtures(const RuleSet& rules) {
  std::vector<FixtureResult> out;
  for (const RuleFixture& f : rules.fixtures()) {
    FixtureResult r;
    r.name = f.name;
    std::vector<RuleError> errors;
    std::set<std::string> fired;
    for (const Hint& h : rules.Check(f.vars, &errors)) fired.insert(h.rule_id);
    const std::set<std::string> want(f.expect.begin(), f.expect.end());
    for (const auto& id : want)
      if (!fired.count(id)) r.missing.push_back(id);
    for (const auto& id : fired)
      if (!want.count(id)) r.unexpected.push_back(id);
    for (const auto& e : errors) r.errors.push_back(e.rule_id + ": " + e.message);
    r.ok = r.missing.empty() && r.unexpected.empty() && r.errors.empty();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace medscribe::clinical
