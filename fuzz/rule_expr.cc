// libFuzzer target: rule expressions (rule_expr.h). Parse must refuse any text with a Status and
// Eval must end (step limit) on what parses, against a small draft and record.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clinical/rule_expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medscribe::clinical;
  if (size > 4096) return 0;
  auto e = Expr::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!e.ok()) return 0;
  static const std::map<std::string, Value> vars = {
      {"draft", Value::Object({{"text", Value::String("Right pneumothorax, 8 mm nodule.")}})},
      {"record",
       Value::Object({{"labs", Value::List({Value::Object({{"name", Value::String("WBC")},
                                                           {"value", Value::Number(15)}})})}})}};
  (void)e->Eval(vars);
  return 0;
}
