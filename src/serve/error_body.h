// The JSON body of every error answer of MedScribe's HTTP services (model server, gateway,
// clinical API): {"error": {"message", "type", "code"}}, the shape OpenAI-style clients read.
// `type` is "server_error" for 5xx and "invalid_request_error" otherwise; invalid UTF-8 in the
// message is replaced, never passed through.
//
// Thread safety: reentrant.
#pragma once

#include <string>
#include <string_view>

namespace medscribe::serve {

std::string ErrorBody(int status, std::string_view message);

}  // namespace medscribe::serve
