#include "common/status.h"

namespace medscribe {
namespace {

struct ErrorRow {
  std::string_view name;
  int http;
  bool retryable;
  std::string_view doc;
};

constexpr ErrorRow kErrorTable[] = {
#define X(name, http, retry, doc) {std::string_view(#name).substr(1), http, retry, doc},
#include "common/error_codes.def"
#undef X
};

const ErrorRow& Row(ErrorCode code) { return kErrorTable[static_cast<int>(code)]; }

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) { return Row(code).name; }
int HttpStatusFor(ErrorCode code) { return Row(code).http; }
bool IsRetryable(ErrorCode code) { return Row(code).retryable; }
std::string_view ErrorCodeDoc(ErrorCode code) { return Row(code).doc; }

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace medscribe
