#include "gateway/local_pki.h"

#include "common/durable_file.h"
#include "crypto/openssl_ptr.h"
#include "crypto/pem.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

namespace medscribe::gateway {
namespace {

namespace fs = std::filesystem;

using Key = crypto::EvpPkeyPtr;
using Cert = crypto::X509Ptr;

Key NewKey() { return Key(EVP_EC_gen("P-256")); }

// Private keys are created 0600 before any byte is written; certificates are 0644.
Status WritePem(const fs::path& path, EVP_PKEY* key, X509* cert) {
  ASSIGN_OR_RETURN(std::string pem,
                   key ? crypto::PrivateKeyPem(key) : crypto::CertificatePem(cert));
  return WriteFileDurably(path, pem, key ? 0600 : 0644);
}

// Reads one PEM object of `what` ("private key", "certificate") with `read`.
template <class Ptr, class Reader>
StatusOr<Ptr> ReadPem(const fs::path& path, Reader read, const char* what) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return IoError("cannot read " + path.string());
  Ptr p(read(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!p) {
    return IoError(path.string() + " is not a PEM " + what +
                   "; remove the directory's files to create a new CA");
  }
  return p;
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by (issuer, issuer_key); self-signed when issuer is
// null. `kind`: "ca", "server" or "client".
StatusOr<Cert> MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                        const std::string& kind, const std::vector<std::string>& names, long days) {
  Cert cert(X509_new());
  if (!cert) return InternalError("out of memory creating a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400L);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("MedScribe local"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = AddExt(cert.get(), signer, NID_subject_key_identifier, "hash") &&
            AddExt(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (kind == "ca") {
    ok = ok && AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
         AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = ok && AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
         AddExt(cert.get(), signer, NID_key_usage, "critical,digitalSignature") &&
         AddExt(cert.get(), signer, NID_ext_key_usage,
                kind == "server" ? "serverAuth" : "clientAuth");
    if (kind == "server") {
      std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
      for (const std::string& n : names) {
        const bool ip = n.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos &&
                        (n.find('.') != std::string::npos || n.find(':') != std::string::npos);
        san += (ip ? ",IP:" : ",DNS:") + n;
      }
      ok = ok && AddExt(cert.get(), signer, NID_subject_alt_name, san);
    }
  }
  if (!ok) return InternalError("cannot build the " + kind + " certificate extensions");
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0)
    return InternalError("cannot sign the " + kind + " certificate");
  return cert;
}

}  // namespace

StatusOr<LocalPki> EnsureLocalPki(const fs::path& dir,
                                  const std::vector<std::string>& extra_names) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  chmod(dir.c_str(), 0700);
  LocalPki p;
  p.ca_cert = dir / "ca.pem";
  p.ca_key = dir / "ca.key";
  p.server_cert = dir / "server.pem";
  p.server_key = dir / "server.key";
  p.client_cert = dir / "client.pem";
  p.client_key = dir / "client.key";
  Key ca_key;
  Cert ca;
  if (!fs::exists(p.ca_cert) || !fs::exists(p.ca_key)) {
    ca_key = NewKey();
    if (!ca_key) return InternalError("cannot generate an EC P-256 key");
    ASSIGN_OR_RETURN(
        ca, MakeCert(ca_key.get(), "MedScribe local CA", nullptr, nullptr, "ca", {}, 3650));
    RETURN_IF_ERROR(WritePem(p.ca_key, ca_key.get(), nullptr));
    RETURN_IF_ERROR(WritePem(p.ca_cert, nullptr, ca.get()));
    p.created = true;
    // Leaf certificates of an older CA would not verify: issue them again.
    fs::remove(p.server_cert, ec);
    fs::remove(p.client_cert, ec);
  } else {
    ASSIGN_OR_RETURN(ca_key, ReadPem<Key>(p.ca_key, PEM_read_PrivateKey, "private key"));
    ASSIGN_OR_RETURN(ca, ReadPem<Cert>(p.ca_cert, PEM_read_X509, "certificate"));
  }
  struct Leaf {
    const fs::path* cert;
    const fs::path* key;
    const char* cn;
    const char* kind;
  };
  for (const Leaf& l : {Leaf{&p.server_cert, &p.server_key, "localhost", "server"},
                        Leaf{&p.client_cert, &p.client_key, "medscribe-gateway", "client"}}) {
    if (fs::exists(*l.cert) && fs::exists(*l.key)) continue;
    Key key = NewKey();
    if (!key) return InternalError("cannot generate an EC P-256 key");
    ASSIGN_OR_RETURN(Cert cert,
                     MakeCert(key.get(), l.cn, ca.get(), ca_key.get(), l.kind, extra_names, 825));
    RETURN_IF_ERROR(WritePem(*l.key, key.get(), nullptr));
    RETURN_IF_ERROR(WritePem(*l.cert, nullptr, cert.get()));
  }
  return p;
}

StatusOr<std::pair<fs::path, fs::path>> EnsureClientCertificate(const fs::path& dir,
                                                                const std::string& cn) {
  if (cn.empty() || cn[0] == '.' ||
      cn.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
          std::string::npos)
    return InvalidArgumentError("'" + cn +
                                "' is not a usable name (letters, digits, '.', '-', '_')");
  const fs::path cert_path = dir / (cn + ".pem"), key_path = dir / (cn + ".key");
  if (fs::exists(cert_path) && fs::exists(key_path)) return std::make_pair(cert_path, key_path);
  ASSIGN_OR_RETURN(Key ca_key, ReadPem<Key>(dir / "ca.key", PEM_read_PrivateKey, "private key"));
  ASSIGN_OR_RETURN(Cert ca, ReadPem<Cert>(dir / "ca.pem", PEM_read_X509, "certificate"));
  Key key = NewKey();
  if (!key) return InternalError("cannot generate an EC P-256 key");
  ASSIGN_OR_RETURN(Cert cert, MakeCert(key.get(), cn, ca.get(), ca_key.get(), "client", {}, 825));
  RETURN_IF_ERROR(WritePem(key_path, key.get(), nullptr));
  RETURN_IF_ERROR(WritePem(cert_path, nullptr, cert.get()));
  return std::make_pair(cert_path, key_path);
}

}  // namespace medscribe::gateway
