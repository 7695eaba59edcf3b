// RAII owners for OpenSSL objects: std::unique_ptr with the object's own *_free function.
//
// Example:
//   crypto::EvpPkeyPtr key(EVP_EC_gen("P-256"));
//   if (!key) return InternalError("cannot generate a key");
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace medscribe::crypto {

template <auto Free>
struct OpenSslFree {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslFree<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;

}  // namespace medscribe::crypto
