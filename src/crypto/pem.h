// PEM text of keys and certificates, for files written with WriteFileDurably
// (common/durable_file.h) so that a key file is created with its final mode.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>

#include "common/status.h"

namespace medscribe::crypto {

// The unencrypted PKCS#8 PEM of `key`. Internal when OpenSSL cannot encode it.
StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key);
// The PEM of `cert`.
StatusOr<std::string> CertificatePem(X509* cert);

}  // namespace medscribe::crypto
