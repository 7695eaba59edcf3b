// The rule engine's expression language: small, total and safe to evaluate on untrusted data.
//
//   expr    := or
//   or      := and ("or" and)*
//   and     := not ("and" not)*
//   not     := "not" not | compare
//   compare := primary (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") primary)?
//   primary := NUMBER | STRING | true | false | null | "[" [expr ("," expr)*] "]"
//            | NAME ("." NAME)* | NAME "(" [expr ("," expr)*] ")" | "(" expr ")"
//
// Names are looked up in the evaluation's variables (`draft`, `record`, `study`, and `item`
// inside any/all/filter); "." reads an object's field (a missing field is null). Functions:
//   contains(text, needle)        case-insensitive substring (ASCII case folding)
//   contains_any(text, [needles]) any of them
//   count(list), len(text)        sizes
//   any(list, expr), all(list, expr)  expr evaluated with `item` bound to each element
//   filter(list, expr)            the elements for which expr (with `item`) holds
//   pluck(list, "field")          each element's field
//   max_size_mm(text)             the largest "N mm" / "N cm" size in the text, in mm, or null
//   lower(text)
// There are no loops other than any/all over finite lists, no recursion, no side effects, no
// regular expressions (no catastrophic backtracking); parsing limits nesting to 64 and
// evaluation to 1,000,000 steps. Type errors ("<" between a string and a number, a function on
// the wrong type) are evaluation errors that name the expression's position.
//
// Thread safety: a parsed Expr is immutable; Eval may run concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::clinical {

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kList, kObject };
  Kind kind = Kind::kNull;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Value> list;
  std::map<std::string, Value> object;

  static Value Null() { return {}; }
  static Value Bool(bool v);
  static Value Number(double v);
  static Value String(std::string v);
  static Value List(std::vector<Value> v);
  static Value Object(std::map<std::string, Value> v);
  bool truthy() const;  // false, null, 0, "", [] and {} are false
  std::string DebugString() const;
};

class Expr {
 public:
  // InvalidArgument "column N: reason" for text that is not an expression.
  static StatusOr<Expr> Parse(std::string_view text);
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;
  ~Expr();

  // Evaluates with `vars` as the top-level names. InvalidArgument on a type error or an unknown
  // function/name; ResourceExhausted past the step limit.
  StatusOr<Value> Eval(const std::map<std::string, Value>& vars) const;
  const std::string& text() const { return text_; }

  struct Node;  // the parsed tree; defined in rule_expr.cc

 private:
  Expr();
  std::unique_ptr<Node> root_;
  std::string text_;
};

}  // namespace medscribe::clinical
