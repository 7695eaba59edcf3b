#include "serve/error_body.h"

#include <nlohmann/json.hpp>

namespace medscribe::serve {

std::string ErrorBody(int status, std::string_view message) {
  const nlohmann::json body = {{"error",
                                {{"message", std::string(message)},
                                 {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                                 {"code", status}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace medscribe::serve
