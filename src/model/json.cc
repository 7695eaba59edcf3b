#include "model/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace medscribe::model::json {
namespace {

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : s_(text), limits_(limits) {}

  StatusOr<Value> Run() {
    if (s_.size() > limits_.max_bytes) {
      return InvalidArgumentError("JSON of " + std::to_string(s_.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(limits_.max_bytes));
    }
    ASSIGN_OR_RETURN(Value v, ParseValue(0));
    SkipSpace();
    if (pos_ != s_.size()) return Error("unexpected characters after the JSON value");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgumentError("invalid JSON at byte " + std::to_string(pos_) + ": " + what);
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  StatusOr<Value> ParseValue(size_t depth) {
    if (depth > limits_.max_depth) {
      return Error("nesting deeper than " + std::to_string(limits_.max_depth));
    }
    SkipSpace();
    if (pos_ >= s_.size()) return Error("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      ASSIGN_OR_RETURN(std::string str, ParseString());
      return Value(std::move(str));
    }
    if (Consume("true")) return Value(true);
    if (Consume("false")) return Value(false);
    if (Consume("null")) return Value();
    return ParseNumber();
  }

  StatusOr<Value> ParseObject(size_t depth) {
    ++pos_;
    Object o;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Value(std::move(o));
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a member name");
      ASSIGN_OR_RETURN(std::string key, ParseString());
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      ASSIGN_OR_RETURN(Value v, ParseValue(depth + 1));
      if (!o.emplace(std::move(key), std::move(v)).second) return Error("duplicate member name");
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Value(std::move(o));
      }
      return Error("expected ',' or '}'");
    }
  }

  StatusOr<Value> ParseArray(size_t depth) {
    ++pos_;
    Array a;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Value(std::move(a));
    }
    while (true) {
      ASSIGN_OR_RETURN(Value v, ParseValue(depth + 1));
      a.push_back(std::move(v));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Value(std::move(a));
      }
      return Error("expected ',' or ']'");
    }
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  StatusOr<uint32_t> Hex4() {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return Error("bad \\u escape");
    }
    return v;
  }

  StatusOr<std::string> ParseString() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return Error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          ASSIGN_OR_RETURN(uint32_t cp, Hex4());
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!Consume("\\u")) return Error("unpaired surrogate");
            ASSIGN_OR_RETURN(uint32_t lo, Hex4());
            if (lo < 0xDC00 || lo >= 0xE000) return Error("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("unknown escape");
      }
    }
  }

  StatusOr<Value> ParseNumber() {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    bool integral = true;
    size_t digits = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_, ++digits;
    if (digits == 0) return Error("unexpected character");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      size_t frac = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_, ++frac;
      if (frac == 0) return Error("digits expected after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      size_t exp = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_, ++exp;
      if (exp == 0) return Error("digits expected in the exponent");
    }
    const std::string_view lexeme = s_.substr(start, pos_ - start);
    if (integral) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(lexeme.data(), lexeme.data() + lexeme.size(), v);
      if (ec == std::errc() && p == lexeme.data() + lexeme.size()) return Value(v);
    }
    // strtod needs a terminated string.
    const std::string copy(lexeme);
    char* end = nullptr;
    const double d = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(d)) return Error("number out of range");
    return Value(d);
  }

  std::string_view s_;
  ParseLimits limits_;
  size_t pos_ = 0;
};

void DumpString(const std::string& s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void DumpTo(const Value& v, int indent, int level, std::string& out) {
  auto newline = [&](int l) {
    if (indent <= 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * l), ' ');
  };
  if (v.is_null()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += std::to_string(v.as_int());
  } else if (v.is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v.as_double());
    out += buf;
  } else if (v.is_string()) {
    DumpString(v.as_string(), out);
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const Value& x : v.as_array()) {
      if (!first) out += ',';
      first = false;
      newline(level + 1);
      DumpTo(x, indent, level + 1, out);
    }
    if (!v.as_array().empty()) newline(level);
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [k, x] : v.as_object()) {
      if (!first) out += ',';
      first = false;
      newline(level + 1);
      DumpString(k, out);
      out += indent > 0 ? ": " : ":";
      DumpTo(x, indent, level + 1, out);
    }
    if (!v.as_object().empty()) newline(level);
    out += '}';
  }
}

StatusOr<const Value*> Member(const Value& o, std::string_view key) {
  const Value* v = o.Find(key);
  if (v == nullptr) return InvalidArgumentError("missing '" + std::string(key) + "'");
  return v;
}

}  // namespace

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  const Object& o = as_object();
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->second;
}

StatusOr<Value> Parse(std::string_view text, const ParseLimits& limits) {
  return Parser(text, limits).Run();
}

std::string Dump(const Value& v, int indent) {
  std::string out;
  DumpTo(v, indent, 0, out);
  return out;
}

StatusOr<int64_t> GetInt(const Value& object, std::string_view key) {
  ASSIGN_OR_RETURN(const Value* v, Member(object, key));
  if (v->is_int()) return v->as_int();
  if (v->is_number() && v->as_double() == std::floor(v->as_double()) &&
      std::fabs(v->as_double()) < 9e15) {
    return static_cast<int64_t>(v->as_double());
  }
  return InvalidArgumentError("'" + std::string(key) + "' must be an integer");
}

StatusOr<double> GetNumber(const Value& object, std::string_view key) {
  ASSIGN_OR_RETURN(const Value* v, Member(object, key));
  if (!v->is_number()) return InvalidArgumentError("'" + std::string(key) + "' must be a number");
  return v->as_double();
}

StatusOr<std::string> GetString(const Value& object, std::string_view key) {
  ASSIGN_OR_RETURN(const Value* v, Member(object, key));
  if (!v->is_string()) return InvalidArgumentError("'" + std::string(key) + "' must be a string");
  return v->as_string();
}

StatusOr<bool> GetBool(const Value& object, std::string_view key) {
  ASSIGN_OR_RETURN(const Value* v, Member(object, key));
  if (!v->is_bool())
    return InvalidArgumentError("'" + std::string(key) + "' must be true or false");
  return v->as_bool();
}

}  // namespace medscribe::model::json
