#include "crypto/pem.h"

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <memory>

namespace medscribe::crypto {
namespace {

template <class Write>
StatusOr<std::string> ToPem(Write write, const char* what) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || write(bio.get()) != 1) return InternalError(std::string("cannot encode the ") + what);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) return InternalError(std::string("cannot encode the ") + what);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  return ToPem(
      [key](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
      },
      "private key");
}

StatusOr<std::string> CertificatePem(X509* cert) {
  return ToPem([cert](BIO* b) { return PEM_write_bio_X509(b, cert); }, "certificate");
}

}  // namespace medscribe::crypto
