#include "tpm/sealed_file.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/files.h"
#include "crypto/envelope.h"
#include "crypto/hmac.h"

namespace medscribe::tpm {
namespace {

using Json = nlohmann::json;
constexpr const char* kFormat = "medscribe-tpm-sealed";

// A member's value when it has the type asked, else the fallback (never throws).
std::string StrOf(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t IntOf(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

struct Parsed {
  SealedObject object;
  std::string ciphertext;
};

// `content`: the kind the file must hold, or null for any.
StatusOr<Parsed> Parse(const std::string& text, const std::string* content,
                       const std::string& name) {
  const Json j = Json::parse(text, nullptr, false);
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError(name + " is not a sealed file of MedScribe: " + why);
  };
  if (!j.is_object() || StrOf(j, "format") != kFormat)
    return bad("no format \"" + std::string(kFormat) + "\"");
  if (IntOf(j, "version") != 1) return bad("version is not 1");
  if (content && StrOf(j, "content") != *content)
    return bad("it holds '" + StrOf(j, "content") + "', not '" + *content + "'");
  if (StrOf(j, "pcr_bank") != "sha256") return bad("pcr_bank is not sha256");
  Parsed p;
  if (!j.contains("pcrs") || !j["pcrs"].is_array()) return bad("no pcrs");
  for (const Json& v : j["pcrs"]) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 23)
      return bad("a PCR is not 0..23");
    p.object.pcrs.push_back(static_cast<int>(v.get<int64_t>()));
  }
  for (const char* k : {"policy_digest", "public", "private", "ciphertext"})
    if (!j.contains(k) || !j[k].is_string()) return bad(std::string("no ") + k);
  auto digest = crypto::FromHex(j["policy_digest"].get<std::string>());
  auto pub = Base64Decode(j["public"].get<std::string>());
  auto priv = Base64Decode(j["private"].get<std::string>());
  auto ct = Base64Decode(j["ciphertext"].get<std::string>());
  if (!digest.ok() || !pub.ok() || !priv.ok() || !ct.ok()) return bad("a field does not decode");
  p.object.policy_digest = *std::move(digest);
  p.object.public_area = *std::move(pub);
  p.object.private_area = *std::move(priv);
  p.ciphertext = *std::move(ct);
  return p;
}

}  // namespace

StatusOr<std::string> SealToFile(Tpm& tpm, std::string_view plaintext, const std::string& content,
                                 const std::vector<int>& pcrs) {
  ASSIGN_OR_RETURN(std::string key, crypto::RandomKey());
  ASSIGN_OR_RETURN(const SealedObject sealed, tpm.Seal(key, pcrs));
  ASSIGN_OR_RETURN(const std::string ct, crypto::Seal(key, plaintext, content));
  std::fill(key.begin(), key.end(), '\0');
  Json j = {{"format", kFormat},
            {"version", 1},
            {"content", content},
            {"pcr_bank", "sha256"},
            {"pcrs", sealed.pcrs},
            {"policy_digest", crypto::Hex(std::string_view(sealed.policy_digest))},
            {"public", Base64Encode(sealed.public_area)},
            {"private", Base64Encode(sealed.private_area)},
            {"ciphertext", Base64Encode(ct)}};
  return j.dump(2) + "\n";
}

StatusOr<std::string> UnsealFile(Tpm& tpm, const std::string& text, const std::string& content,
                                 const std::string& name) {
  ASSIGN_OR_RETURN(const Parsed p, Parse(text, &content, name));
  ASSIGN_OR_RETURN(std::string key, tpm.Unseal(p.object));
  auto plain = crypto::Open(key, p.ciphertext, content);
  std::fill(key.begin(), key.end(), '\0');
  if (!plain.ok())
    return DataLossError(name +
                         ": the TPM released its key but the sealed content does not "
                         "verify (the file was altered); restore it from a backup");
  return plain;
}

StatusOr<SealedObject> ReadSealedObject(const std::string& text, const std::string& name) {
  ASSIGN_OR_RETURN(Parsed p, Parse(text, nullptr, name));
  if (Status s = CheckSealedObject(p.object); !s.ok())
    return InvalidArgumentError(name + ": " + s.message());
  return std::move(p.object);
}

StatusOr<crypto::KeyRing> UnsealKeyRing(const std::string& tcti, const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(std::unique_ptr<Tpm> t, Tpm::Open(tcti));
  auto ring = UnsealFile(*t, text, "kek-ring", path);
  if (!ring.ok())
    return Status(ring.status().code(), "the key ring sealed in " + path +
                                            " was not released: " + ring.status().message());
  return crypto::KeyRing::Parse(*ring, "the key ring sealed in " + path);
}

}  // namespace medscribe::tpm
