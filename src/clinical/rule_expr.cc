#include "clinical/rule_expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/strings.h"

namespace medscribe::clinical {

Value Value::Bool(bool v) {
  Value x;
  x.kind = Kind::kBool;
  x.b = v;
  return x;
}
Value Value::Number(double v) {
  Value x;
  x.kind = Kind::kNumber;
  x.n = v;
  return x;
}
Value Value::String(std::string v) {
  Value x;
  x.kind = Kind::kString;
  x.s = std::move(v);
  return x;
}
Value Value::List(std::vector<Value> v) {
  Value x;
  x.kind = Kind::kList;
  x.list = std::move(v);
  return x;
}
Value Value::Object(std::map<std::string, Value> v) {
  Value x;
  x.kind = Kind::kObject;
  x.object = std::move(v);
  return x;
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::kNull:
      return false;
    case Kind::kBool:
      return b;
    case Kind::kNumber:
      return n != 0;
    case Kind::kString:
      return !s.empty();
    case Kind::kList:
      return !list.empty();
    case Kind::kObject:
      return !object.empty();
  }
  return false;
}

std::string Value::DebugString() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return b ? "true" : "false";
    case Kind::kNumber: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%g", n);
      return buf;
    }
    case Kind::kString:
      return "\"" + s + "\"";
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + list[i].DebugString();
      return out + "]";
    }
    case Kind::kObject: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : object) {
        out += (first ? "" : ", ") + k + ": " + v.DebugString();
        first = false;
      }
      return out + "}";
    }
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxSteps = 1000000;

enum class Tok {
  kEnd,
  kNumber,
  kString,
  kName,
  kOp,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot
};

struct Token {
  Tok type = Tok::kEnd;
  std::string text;
  double number = 0;
  size_t pos = 0;  // 1-based column
};

Status Error(size_t pos, const std::string& why) {
  return InvalidArgumentError("column " + std::to_string(pos) + ": " + why);
}

StatusOr<std::vector<Token>> Lex(std::string_view in) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.pos = i + 1;
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < in.size() && (std::isdigit(static_cast<unsigned char>(in[j])) || in[j] == '.'))
        ++j;
      t.type = Tok::kNumber;
      t.text = std::string(in.substr(i, j - i));
      char* end = nullptr;
      t.number = std::strtod(t.text.c_str(), &end);
      if (end != t.text.c_str() + t.text.size()) return Error(t.pos, "bad number '" + t.text + "'");
      i = j;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      std::string s;
      while (j < in.size() && in[j] != c) {
        if (in[j] == '\\' && j + 1 < in.size()) ++j;
        s += in[j++];
      }
      if (j >= in.size()) return Error(t.pos, "unterminated string");
      t.type = Tok::kString;
      t.text = std::move(s);
      i = j + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < in.size() && (std::isalnum(static_cast<unsigned char>(in[j])) || in[j] == '_'))
        ++j;
      t.type = Tok::kName;
      t.text = std::string(in.substr(i, j - i));
      i = j;
    } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == '.') {
      t.type = c == '('   ? Tok::kLParen
               : c == ')' ? Tok::kRParen
               : c == '[' ? Tok::kLBracket
               : c == ']' ? Tok::kRBracket
               : c == ',' ? Tok::kComma
                          : Tok::kDot;
      t.text = std::string(1, c);
      ++i;
    } else {
      const std::string two(in.substr(i, 2));
      if (two == "==" || two == "!=" || two == "<=" || two == ">=") {
        t.type = Tok::kOp;
        t.text = two;
        i += 2;
      } else if (c == '<' || c == '>') {
        t.type = Tok::kOp;
        t.text = std::string(1, c);
        ++i;
      } else {
        return Error(t.pos, std::string("unexpected character '") + c + "'");
      }
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = in.size() + 1;
  out.push_back(end);
  return out;
}

}  // namespace

struct Expr::Node {
  enum class Kind { kLiteral, kName, kCall, kNot, kAnd, kOr, kCompare, kList } kind;
  Value literal;
  std::vector<std::string> path;  // kName: name and fields
  std::string op;                 // kCompare operator, kCall function name
  std::vector<std::unique_ptr<Node>> kids;
  size_t pos = 0;
};

namespace {

using Node = Expr::Node;

class Parser {
 public:
  explicit Parser(std::vector<Token> t) : t_(std::move(t)) {}

  StatusOr<std::unique_ptr<Node>> Parse() {
    ASSIGN_OR_RETURN(auto n, Or(0));
    if (Peek().type != Tok::kEnd) return Error(Peek().pos, "unexpected '" + Peek().text + "'");
    return n;
  }

 private:
  const Token& Peek() const { return t_[i_]; }
  const Token& Next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  bool Word(const char* w) const { return Peek().type == Tok::kName && Peek().text == w; }

  static std::unique_ptr<Node> Make(Node::Kind k, size_t pos) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->pos = pos;
    return n;
  }

  using Level = StatusOr<std::unique_ptr<Node>> (Parser::*)(int);
  // operand (word operand)*, left-associative.
  StatusOr<std::unique_ptr<Node>> Chain(int depth, const char* word, Node::Kind kind,
                                        Level operand) {
    if (depth > kMaxDepth) return Error(Peek().pos, "nested deeper than 64");
    ASSIGN_OR_RETURN(auto left, (this->*operand)(depth + 1));
    while (Word(word)) {
      auto n = Make(kind, Next().pos);
      ASSIGN_OR_RETURN(auto right, (this->*operand)(depth + 1));
      n->kids.push_back(std::move(left));
      n->kids.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }
  StatusOr<std::unique_ptr<Node>> Or(int depth) {
    return Chain(depth, "or", Node::Kind::kOr, &Parser::And);
  }
  StatusOr<std::unique_ptr<Node>> And(int depth) {
    return Chain(depth, "and", Node::Kind::kAnd, &Parser::Not);
  }
  StatusOr<std::unique_ptr<Node>> Not(int depth) {
    if (depth > kMaxDepth) return Error(Peek().pos, "nested deeper than 64");
    if (Word("not")) {
      auto n = Make(Node::Kind::kNot, Next().pos);
      ASSIGN_OR_RETURN(auto inner, Not(depth + 1));
      n->kids.push_back(std::move(inner));
      return n;
    }
    return Compare(depth + 1);
  }
  StatusOr<std::unique_ptr<Node>> Compare(int depth) {
    ASSIGN_OR_RETURN(auto left, Primary(depth + 1));
    if (Peek().type == Tok::kOp || Word("in")) {
      auto n = Make(Node::Kind::kCompare, Peek().pos);
      n->op = Next().text;
      ASSIGN_OR_RETURN(auto right, Primary(depth + 1));
      n->kids.push_back(std::move(left));
      n->kids.push_back(std::move(right));
      return n;
    }
    return left;
  }
  StatusOr<std::vector<std::unique_ptr<Node>>> Args(Tok close, int depth) {
    std::vector<std::unique_ptr<Node>> args;
    if (Peek().type == close) {
      Next();
      return args;
    }
    while (true) {
      ASSIGN_OR_RETURN(auto a, Or(depth + 1));
      args.push_back(std::move(a));
      if (Peek().type == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().type != close)
        return Error(Peek().pos,
                     std::string("expected '") + (close == Tok::kRParen ? ")" : "]") + "' or ','");
      Next();
      return args;
    }
  }
  StatusOr<std::unique_ptr<Node>> Primary(int depth) {
    if (depth > kMaxDepth) return Error(Peek().pos, "nested deeper than 64");
    const Token& t = Next();
    switch (t.type) {
      case Tok::kNumber: {
        auto n = Make(Node::Kind::kLiteral, t.pos);
        n->literal = Value::Number(t.number);
        return n;
      }
      case Tok::kString: {
        auto n = Make(Node::Kind::kLiteral, t.pos);
        n->literal = Value::String(t.text);
        return n;
      }
      case Tok::kLParen: {
        ASSIGN_OR_RETURN(auto inner, Or(depth + 1));
        if (Next().type != Tok::kRParen) return Error(t.pos, "'(' without its ')'");
        return inner;
      }
      case Tok::kLBracket: {
        auto n = Make(Node::Kind::kList, t.pos);
        ASSIGN_OR_RETURN(n->kids, Args(Tok::kRBracket, depth));
        return n;
      }
      case Tok::kName: {
        if (t.text == "true" || t.text == "false" || t.text == "null") {
          auto n = Make(Node::Kind::kLiteral, t.pos);
          if (t.text != "null") n->literal = Value::Bool(t.text == "true");
          return n;
        }
        if (t.text == "and" || t.text == "or" || t.text == "not" || t.text == "in")
          return Error(t.pos, "'" + t.text + "' needs an operand before it");
        if (Peek().type == Tok::kLParen) {
          Next();
          auto n = Make(Node::Kind::kCall, t.pos);
          n->op = t.text;
          ASSIGN_OR_RETURN(n->kids, Args(Tok::kRParen, depth));
          return n;
        }
        auto n = Make(Node::Kind::kName, t.pos);
        n->path.push_back(t.text);
        while (Peek().type == Tok::kDot) {
          Next();
          if (Peek().type != Tok::kName)
            return Error(Peek().pos, "expected a field name after '.'");
          n->path.push_back(Next().text);
        }
        return n;
      }
      case Tok::kEnd:
        return Error(t.pos, "the expression ends too early");
      default:
        return Error(t.pos, "unexpected '" + t.text + "'");
    }
  }

  std::vector<Token> t_;
  size_t i_ = 0;
};

// The largest size stated in `text` as "N mm" or "N cm" (in mm), or null when none is.
Value MaxSizeMm(const std::string& text) {
  double best = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) ||
        (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.')))
      continue;
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    const double v = std::strtod(text.substr(i, j - i).c_str(), nullptr);
    size_t k = j;
    while (k < text.size() && text[k] == ' ') ++k;
    const std::string unit = text.substr(k, 2);
    const bool word_end =
        k + 2 >= text.size() || !std::isalpha(static_cast<unsigned char>(text[k + 2]));
    if (word_end && (unit == "mm" || unit == "cm"))
      best = std::max(best, unit == "cm" ? v * 10 : v);
    i = j;
  }
  return best < 0 ? Value::Null() : Value::Number(best);
}

const char* KindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "a boolean";
    case Value::Kind::kNumber:
      return "a number";
    case Value::Kind::kString:
      return "a string";
    case Value::Kind::kList:
      return "a list";
    case Value::Kind::kObject:
      return "an object";
  }
  return "?";
}

bool Equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.b == b.b;
    case Value::Kind::kNumber:
      return a.n == b.n;
    case Value::Kind::kString:
      return a.s == b.s;
    case Value::Kind::kList:
      if (a.list.size() != b.list.size()) return false;
      for (size_t i = 0; i < a.list.size(); ++i)
        if (!Equal(a.list[i], b.list[i])) return false;
      return true;
    case Value::Kind::kObject:
      return a.DebugString() == b.DebugString();
  }
  return false;
}

class Evaluator {
 public:
  // `vars` must outlive the evaluator.
  explicit Evaluator(const std::map<std::string, Value>& vars) : vars_(vars) {}

  StatusOr<Value> Eval(const Node& n) {
    if (++steps_ > kMaxSteps)
      return Status(ErrorCode::kResourceExhausted, "expression ran past 1,000,000 steps");
    switch (n.kind) {
      case Node::Kind::kLiteral:
        return n.literal;
      case Node::Kind::kList: {
        std::vector<Value> out;
        for (const auto& k : n.kids) {
          ASSIGN_OR_RETURN(Value v, Eval(*k));
          out.push_back(std::move(v));
        }
        return Value::List(std::move(out));
      }
      case Node::Kind::kName: {
        const Value* v = nullptr;
        if (n.path[0] == "item" && !items_.empty()) {
          v = items_.back();
        } else {
          auto it = vars_.find(n.path[0]);
          if (it == vars_.end()) return Error(n.pos, "unknown name '" + n.path[0] + "'");
          v = &it->second;
        }
        static const Value kNull;
        for (size_t i = 1; i < n.path.size(); ++i) {
          if (v->kind != Value::Kind::kObject) return Value::Null();
          auto f = v->object.find(n.path[i]);
          v = f == v->object.end() ? &kNull : &f->second;
        }
        return *v;
      }
      case Node::Kind::kNot: {
        ASSIGN_OR_RETURN(Value v, Eval(*n.kids[0]));
        return Value::Bool(!v.truthy());
      }
      case Node::Kind::kAnd: {
        ASSIGN_OR_RETURN(Value l, Eval(*n.kids[0]));
        if (!l.truthy()) return Value::Bool(false);
        ASSIGN_OR_RETURN(Value r, Eval(*n.kids[1]));
        return Value::Bool(r.truthy());
      }
      case Node::Kind::kOr: {
        ASSIGN_OR_RETURN(Value l, Eval(*n.kids[0]));
        if (l.truthy()) return Value::Bool(true);
        ASSIGN_OR_RETURN(Value r, Eval(*n.kids[1]));
        return Value::Bool(r.truthy());
      }
      case Node::Kind::kCompare:
        return Compare(n);
      case Node::Kind::kCall:
        return Call(n);
    }
    return Error(n.pos, "unknown node");
  }

 private:
  StatusOr<Value> Compare(const Node& n) {
    ASSIGN_OR_RETURN(Value l, Eval(*n.kids[0]));
    ASSIGN_OR_RETURN(Value r, Eval(*n.kids[1]));
    if (n.op == "==") return Value::Bool(Equal(l, r));
    if (n.op == "!=") return Value::Bool(!Equal(l, r));
    if (n.op == "in") {
      if (r.kind == Value::Kind::kList) {
        for (const Value& e : r.list)
          if (Equal(l, e)) return Value::Bool(true);
        return Value::Bool(false);
      }
      if (r.kind == Value::Kind::kString && l.kind == Value::Kind::kString)
        return Value::Bool(r.s.find(l.s) != std::string::npos);
      return Error(n.pos, std::string("'in' needs a list or a string on its right, not ") +
                              KindName(r.kind));
    }
    if (l.kind == Value::Kind::kNull || r.kind == Value::Kind::kNull) return Value::Bool(false);
    int cmp = 0;
    if (l.kind == Value::Kind::kNumber && r.kind == Value::Kind::kNumber) {
      cmp = l.n < r.n ? -1 : l.n > r.n ? 1 : 0;
    } else if (l.kind == Value::Kind::kString && r.kind == Value::Kind::kString) {
      cmp = l.s.compare(r.s);
    } else {
      return Error(n.pos, std::string("cannot compare ") + KindName(l.kind) + " with " +
                              KindName(r.kind) + " using '" + n.op + "'");
    }
    if (n.op == "<") return Value::Bool(cmp < 0);
    if (n.op == "<=") return Value::Bool(cmp <= 0);
    if (n.op == ">") return Value::Bool(cmp > 0);
    return Value::Bool(cmp >= 0);
  }

  StatusOr<std::string> Text(const Node& n, const Value& v, const char* fn) {
    if (v.kind == Value::Kind::kNull) return std::string();
    if (v.kind != Value::Kind::kString)
      return Error(n.pos, std::string(fn) + "() needs text, not " + KindName(v.kind));
    return v.s;
  }

  StatusOr<Value> Call(const Node& n) {
    const std::string& f = n.op;
    auto arity = [&](size_t k) -> Status {
      if (n.kids.size() != k)
        return Error(n.pos,
                     f + "() takes " + std::to_string(k) + " argument" + (k == 1 ? "" : "s"));
      return OkStatus();
    };
    if (f == "filter") {
      RETURN_IF_ERROR(arity(2));
      ASSIGN_OR_RETURN(Value list, Eval(*n.kids[0]));
      if (list.kind == Value::Kind::kNull) return Value::List({});
      if (list.kind != Value::Kind::kList)
        return Error(n.pos, std::string("filter() needs a list, not ") + KindName(list.kind));
      std::vector<Value> out;
      for (const Value& e : list.list) {
        items_.push_back(&e);
        auto v = Eval(*n.kids[1]);
        items_.pop_back();
        if (!v.ok()) return v.status();
        if (v->truthy()) out.push_back(e);
      }
      return Value::List(std::move(out));
    }
    if (f == "any" || f == "all") {
      RETURN_IF_ERROR(arity(2));
      ASSIGN_OR_RETURN(Value list, Eval(*n.kids[0]));
      if (list.kind == Value::Kind::kNull) return Value::Bool(f == "all");
      if (list.kind != Value::Kind::kList)
        return Error(n.pos, f + "() needs a list, not " + KindName(list.kind));
      bool result = f == "all";
      for (const Value& e : list.list) {
        items_.push_back(&e);
        auto v = Eval(*n.kids[1]);
        items_.pop_back();
        if (!v.ok()) return v.status();
        if (f == "any" && v->truthy()) {
          result = true;
          break;
        }
        if (f == "all" && !v->truthy()) {
          result = false;
          break;
        }
      }
      return Value::Bool(result);
    }
    std::vector<Value> args;
    for (const auto& k : n.kids) {
      ASSIGN_OR_RETURN(Value v, Eval(*k));
      args.push_back(std::move(v));
    }
    if (f == "contains") {
      RETURN_IF_ERROR(arity(2));
      ASSIGN_OR_RETURN(std::string hay, Text(n, args[0], "contains"));
      ASSIGN_OR_RETURN(std::string needle, Text(n, args[1], "contains"));
      return Value::Bool(!needle.empty() &&
                         AsciiLower(hay).find(AsciiLower(needle)) != std::string::npos);
    }
    if (f == "contains_any") {
      RETURN_IF_ERROR(arity(2));
      ASSIGN_OR_RETURN(std::string hay, Text(n, args[0], "contains_any"));
      if (args[1].kind != Value::Kind::kList)
        return Error(n.pos, "contains_any() needs a list of texts as its second argument");
      hay = AsciiLower(hay);
      for (const Value& e : args[1].list) {
        ASSIGN_OR_RETURN(std::string needle, Text(n, e, "contains_any"));
        if (!needle.empty() && hay.find(AsciiLower(needle)) != std::string::npos)
          return Value::Bool(true);
      }
      return Value::Bool(false);
    }
    if (f == "pluck") {
      RETURN_IF_ERROR(arity(2));
      if (args[0].kind == Value::Kind::kNull) return Value::List({});
      if (args[0].kind != Value::Kind::kList || args[1].kind != Value::Kind::kString)
        return Error(n.pos, "pluck() takes a list of objects and a field name");
      std::vector<Value> out;
      for (const Value& e : args[0].list) {
        auto it = e.object.find(args[1].s);
        out.push_back(e.kind == Value::Kind::kObject && it != e.object.end() ? it->second
                                                                             : Value());
      }
      return Value::List(std::move(out));
    }
    if (f == "max_size_mm") {
      RETURN_IF_ERROR(arity(1));
      ASSIGN_OR_RETURN(std::string text, Text(n, args[0], "max_size_mm"));
      return MaxSizeMm(text);
    }
    if (f == "lower") {
      RETURN_IF_ERROR(arity(1));
      ASSIGN_OR_RETURN(std::string s, Text(n, args[0], "lower"));
      return Value::String(AsciiLower(s));
    }
    if (f == "len") {
      RETURN_IF_ERROR(arity(1));
      ASSIGN_OR_RETURN(std::string s, Text(n, args[0], "len"));
      return Value::Number(static_cast<double>(s.size()));
    }
    if (f == "count") {
      RETURN_IF_ERROR(arity(1));
      if (args[0].kind == Value::Kind::kNull) return Value::Number(0);
      if (args[0].kind != Value::Kind::kList)
        return Error(n.pos, std::string("count() needs a list, not ") + KindName(args[0].kind));
      return Value::Number(static_cast<double>(args[0].list.size()));
    }
    return Error(n.pos, "unknown function '" + f +
                            "' (known: contains, contains_any, lower, len, count, any, all, "
                            "filter, pluck, max_size_mm)");
  }

  const std::map<std::string, Value>& vars_;
  std::vector<const Value*> items_;  // `item` of the enclosing any/all, innermost last
  size_t steps_ = 0;
};

}  // namespace

Expr::Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;
Expr::~Expr() = default;

StatusOr<Expr> Expr::Parse(std::string_view text) {
  if (text.size() > 64 * 1024) return InvalidArgumentError("expression longer than 64 KiB");
  ASSIGN_OR_RETURN(auto tokens, Lex(text));
  Parser p(std::move(tokens));
  ASSIGN_OR_RETURN(auto root, p.Parse());
  Expr e;
  e.root_ = std::move(root);
  e.text_ = std::string(text);
  return e;
}

StatusOr<Value> Expr::Eval(const std::map<std::string, Value>& vars) const {
  Evaluator ev(vars);
  return ev.Eval(*root_);
}

}  // namespace medscribe::clinical
