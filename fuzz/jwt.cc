// Bearer tokens and JWKS documents are untrusted: VerifyJwt must refuse any malformed or forged
// token with a Status, and KeySet::Parse any document, without crashing or reading out of
// bounds. The first byte selects the parser; the rest is the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/jwt.h"

namespace {
// A P-256 key (the development issuer's format) the tokens are verified against.
constexpr char kJwks[] =
    R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig",)"
    R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medscribe::serve;
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto keys = KeySet::Parse(in);
    if (keys.ok() && keys->size() == 0) __builtin_trap();  // Parse promises at least one key
    return 0;
  }
  static const KeySet keys = std::move(KeySet::Parse(kJwks).value());
  auto claims = VerifyJwt(in, keys, {"https://issuer.test", "medscribe", 30, {}}, 1'800'000'000);
  if (claims.ok()) __builtin_trap();  // nobody holds the private key: nothing may verify
  return 0;
}
