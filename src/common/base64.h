// Base64 (RFC 4648, standard alphabet, padded) over OpenSSL's EVP codec.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe {

std::string Base64Encode(std::string_view bytes);
// DataLoss for input that is not padded base64.
StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace medscribe
