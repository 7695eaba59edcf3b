// Status and StatusOr<T>: MedScribe's error results.
//
// Every function that handles untrusted input or can fail for reasons outside the program returns
// a Status (or StatusOr<T>) instead of throwing. A Status carries a code from the one error table
// (error_codes.def: HTTP status, whether retrying may help) and a message that says what was wrong
// and what to do. Messages never contain PHI.
//
// Example:
//   StatusOr<Image> Load(const std::string& path) {
//     ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//     RETURN_IF_ERROR(CheckMagic(bytes));
//     return Decode(bytes);
//   }
//
// Thread safety: Status and StatusOr are values; distinct objects may be used from any thread.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace medscribe {

enum class ErrorCode {
#define X(name, http, retry, doc) name,
#include "common/error_codes.def"
#undef X
};

// Name of the code, e.g. "InvalidArgument".
std::string_view ErrorCodeName(ErrorCode code);
// HTTP status a server answers with for this code.
int HttpStatusFor(ErrorCode code);
// True when the same call may succeed later without a change by the caller.
bool IsRetryable(ErrorCode code);
// One-line meaning of the code, from the error table.
std::string_view ErrorCodeDoc(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: <message>".
  std::string ToString() const;
  // Returns a copy with "context: " prepended to the message.
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return {ErrorCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {ErrorCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}
inline Status OutOfRangeError(std::string m) { return {ErrorCode::kOutOfRange, std::move(m)}; }
inline Status DataLossError(std::string m) { return {ErrorCode::kDataLoss, std::move(m)}; }
inline Status UnimplementedError(std::string m) {
  return {ErrorCode::kUnimplemented, std::move(m)};
}
inline Status InternalError(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
inline Status IoError(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
inline Status AbortedError(std::string m) { return {ErrorCode::kAborted, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) {
  return {ErrorCode::kResourceExhausted, std::move(m)};
}
inline Status UnavailableError(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {ErrorCode::kDeadlineExceeded, std::move(m)};
}
inline Status PermissionDeniedError(std::string m) {
  return {ErrorCode::kPermissionDenied, std::move(m)};
}

// StatusOr<T> holds either a T or a non-OK Status.
// REQUIRES: constructed from a non-OK Status when it holds no value.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& s) : v_(s) { assert(!s.ok()); }  // NOLINT: implicit by design
  StatusOr(Status&& s) : v_(std::move(s)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT
  StatusOr(const T& value) : v_(value) {}                                          // NOLINT
  StatusOr(T&& value) : v_(std::move(value)) {}                                    // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error, or OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace medscribe

#define MEDSCRIBE_CONCAT_INNER(a, b) a##b
#define MEDSCRIBE_CONCAT(a, b) MEDSCRIBE_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` (a Status) is not OK. Nests (e.g. inside a
// lambda passed to another RETURN_IF_ERROR): each expansion has its own variable.
#define RETURN_IF_ERROR(expr) \
  MEDSCRIBE_RETURN_IF_ERROR_IMPL(MEDSCRIBE_CONCAT(_status_, __COUNTER__), expr)
#define MEDSCRIBE_RETURN_IF_ERROR_IMPL(var, expr) \
  do {                                            \
    ::medscribe::Status var = (expr);             \
    if (!var.ok()) return var;                    \
  } while (0)

#define MEDSCRIBE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

// `lhs = value of expr` (a StatusOr), or returns its error from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  MEDSCRIBE_ASSIGN_OR_RETURN_IMPL(MEDSCRIBE_CONCAT(_status_or_, __LINE__), lhs, expr)
