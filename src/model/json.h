// A small JSON value for the ML core (configs, safetensors headers, HF config.json), which builds
// with nothing but LibTorch and the standard library.
//
// Parse() treats its input as untrusted: nesting depth and size are limited, numbers and strings
// are validated (UTF-8 is passed through; \u escapes, including surrogate pairs, are decoded), and
// failures are returned as InvalidArgument with the byte offset. Objects keep their keys sorted
// (std::map), so Dump() is deterministic.
//
// Thread safety: values are plain data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace medscribe::model::json {

class Value;
using Array = std::vector<Value>;
using Object = std::map<std::string, Value, std::less<>>;

// Owns a T on the heap and copies it deeply (a Value is a value, not a handle).
template <typename T>
class Box {
 public:
  explicit Box(T t) : p_(std::make_unique<T>(std::move(t))) {}
  Box(const Box& o) : p_(std::make_unique<T>(*o.p_)) {}
  Box& operator=(const Box& o) {
    p_ = std::make_unique<T>(*o.p_);
    return *this;
  }
  Box(Box&&) noexcept = default;
  Box& operator=(Box&&) noexcept = default;
  T& operator*() const { return *p_; }

 private:
  std::unique_ptr<T> p_;
};

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int v) : v_(static_cast<int64_t>(v)) {}
  Value(int64_t v) : v_(v) {}
  Value(uint64_t v) : v_(static_cast<int64_t>(v)) {}
  Value(double v) : v_(v) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(Box<Array>(std::move(a))) {}
  Value(Object o) : v_(Box<Object>(std::move(o))) {}

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_int() const { return v_.index() == 2; }
  bool is_number() const { return v_.index() == 2 || v_.index() == 3; }
  bool is_string() const { return v_.index() == 4; }
  bool is_array() const { return v_.index() == 5; }
  bool is_object() const { return v_.index() == 6; }

  // Accessors. REQUIRES: the matching is_*() is true.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const {
    return is_int() ? static_cast<double>(std::get<int64_t>(v_)) : std::get<double>(v_);
  }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return *std::get<Box<Array>>(v_); }
  const Object& as_object() const { return *std::get<Box<Object>>(v_); }
  Array& mutable_array() { return *std::get<Box<Array>>(v_); }
  Object& mutable_object() { return *std::get<Box<Object>>(v_); }

  // The member `key` of an object, or nullptr (also when this is not an object).
  const Value* Find(std::string_view key) const;

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Box<Array>, Box<Object>> v_;
};

struct ParseLimits {
  size_t max_bytes = size_t{64} << 20;
  size_t max_depth = 64;
};

StatusOr<Value> Parse(std::string_view text, const ParseLimits& limits = {});

// Compact JSON; `indent` > 0 pretty-prints with that many spaces.
std::string Dump(const Value& v, int indent = 0);

// Typed members of an object, with InvalidArgument naming `key` when absent or mistyped.
StatusOr<int64_t> GetInt(const Value& object, std::string_view key);
StatusOr<double> GetNumber(const Value& object, std::string_view key);
StatusOr<std::string> GetString(const Value& object, std::string_view key);
StatusOr<bool> GetBool(const Value& object, std::string_view key);

}  // namespace medscribe::model::json
