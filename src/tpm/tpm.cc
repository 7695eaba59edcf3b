#include "tpm/tpm.h"

#include <openssl/sha.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace medscribe::tpm {
namespace {

std::string Describe(TSS2_RC rc) { return Tss2_RC_Decode(rc); }

// A format-1 response code's error number, whatever handle, session or parameter it names.
bool IsPolicyFailure(TSS2_RC rc) {
  const TSS2_RC tpm = rc & 0xFFF;  // the TPM's own code, without the software layer
  return (tpm & TPM2_RC_FMT1) && (tpm & 0x3F) == (TPM2_RC_POLICY_FAIL & 0x3F);
}
bool IsIntegrityFailure(TSS2_RC rc) {
  const TSS2_RC tpm = rc & 0xFFF;
  return (tpm & TPM2_RC_FMT1) &&
         ((tpm & 0x3F) == (TPM2_RC_INTEGRITY & 0x3F) || (tpm & 0x3F) == (TPM2_RC_BINDING & 0x3F));
}

Status Failed(const std::string& what, TSS2_RC rc) {
  return UnavailableError("TPM " + what + " failed: " + Describe(rc));
}

// Frees what ESYS allocates for its outputs.
template <typename T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

TPML_PCR_SELECTION Selection(const std::vector<int>& pcrs) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (int p : pcrs) sel.pcrSelections[0].pcrSelect[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  return sel;
}

Status CheckPcrs(const std::vector<int>& pcrs) {
  if (pcrs.empty()) return InvalidArgumentError("name at least one PCR to seal to (e.g. 0,7)");
  for (int p : pcrs)
    if (p < 0 || p > 23) return InvalidArgumentError("PCR " + std::to_string(p) + " is not 0..23");
  return OkStatus();
}

std::string PcrNames(const std::vector<int>& pcrs) {
  std::string s;
  for (int p : pcrs) s += (s.empty() ? "" : ",") + std::to_string(p);
  return s;
}

Status Changed(const std::vector<int>& pcrs) {
  return PermissionDeniedError(
      "the platform's measured state no longer matches the sealing policy (PCRs " + PcrNames(pcrs) +
      " changed since the key was sealed); the TPM does not release the key. If the change is "
      "expected (an update), seal the key again from its backup on this machine");
}

template <typename T>
StatusOr<std::string> Marshal(const T& v, TSS2_RC (*fn)(const T*, uint8_t[], size_t, size_t*)) {
  std::string out(sizeof(T), '\0');
  size_t offset = 0;
  if (TSS2_RC rc = fn(&v, reinterpret_cast<uint8_t*>(out.data()), out.size(), &offset))
    return InternalError("cannot marshal a TPM structure: " + Describe(rc));
  out.resize(offset);
  return out;
}

template <typename T>
StatusOr<T> Unmarshal(const std::string& bytes,
                      TSS2_RC (*fn)(const uint8_t[], size_t, size_t*, T*)) {
  T v{};
  size_t offset = 0;
  if (fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &offset, &v) ||
      offset != bytes.size())
    return InvalidArgumentError("the sealed object is damaged (a TPM structure does not parse)");
  return v;
}

class EsysTpm final : public Tpm {
 public:
  EsysTpm(TSS2_TCTI_CONTEXT* tcti, ESYS_CONTEXT* ctx) : tcti_(tcti), ctx_(ctx) {}
  ~EsysTpm() override {
    Esys_Finalize(&ctx_);
    Tss2_TctiLdr_Finalize(&tcti_);
  }

  StatusOr<SealedObject> Seal(std::string_view secret, const std::vector<int>& pcrs) override {
    if (secret.empty() || secret.size() > 128)
      return InvalidArgumentError("a sealed secret is 1 to 128 bytes");
    RETURN_IF_ERROR(CheckPcrs(pcrs));
    ASSIGN_OR_RETURN(const ESYS_TR primary, Primary());
    Handle primary_guard(ctx_, primary);
    ASSIGN_OR_RETURN(const std::string policy, PcrPolicy(pcrs, TPM2_SE_TRIAL, nullptr));

    TPM2B_SENSITIVE_CREATE sensitive{};
    sensitive.sensitive.data.size = static_cast<UINT16>(secret.size());
    std::memcpy(sensitive.sensitive.data.buffer, secret.data(), secret.size());
    TPM2B_PUBLIC in_public{};
    in_public.publicArea.type = TPM2_ALG_KEYEDHASH;
    in_public.publicArea.nameAlg = TPM2_ALG_SHA256;
    // No USERWITHAUTH: the object's policy is the only way to use it.
    in_public.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
    in_public.publicArea.authPolicy.size = static_cast<UINT16>(policy.size());
    std::memcpy(in_public.publicArea.authPolicy.buffer, policy.data(), policy.size());
    in_public.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
    const TPM2B_DATA outside{};
    const TPML_PCR_SELECTION creation_pcrs{};
    TPM2B_PRIVATE* out_private = nullptr;
    TPM2B_PUBLIC* out_public = nullptr;
    TPM2B_CREATION_DATA* creation_data = nullptr;
    TPM2B_DIGEST* creation_hash = nullptr;
    TPMT_TK_CREATION* ticket = nullptr;
    const TSS2_RC rc = Esys_Create(ctx_, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &sensitive, &in_public, &outside, &creation_pcrs, &out_private,
                                   &out_public, &creation_data, &creation_hash, &ticket);
    std::memset(sensitive.sensitive.data.buffer, 0, sizeof sensitive.sensitive.data.buffer);
    EsysPtr<TPM2B_PRIVATE> priv(out_private);
    EsysPtr<TPM2B_PUBLIC> pub(out_public);
    EsysPtr<TPM2B_CREATION_DATA> cd(creation_data);
    EsysPtr<TPM2B_DIGEST> ch(creation_hash);
    EsysPtr<TPMT_TK_CREATION> tk(ticket);
    if (rc) return Failed("Create (sealing)", rc);
    SealedObject out;
    out.pcrs = pcrs;
    out.policy_digest = policy;
    ASSIGN_OR_RETURN(out.public_area, Marshal(*pub, &Tss2_MU_TPM2B_PUBLIC_Marshal));
    ASSIGN_OR_RETURN(out.private_area, Marshal(*priv, &Tss2_MU_TPM2B_PRIVATE_Marshal));
    return out;
  }

  StatusOr<std::string> Unseal(const SealedObject& sealed) override {
    RETURN_IF_ERROR(CheckPcrs(sealed.pcrs));
    ASSIGN_OR_RETURN(const TPM2B_PUBLIC pub,
                     Unmarshal(sealed.public_area, &Tss2_MU_TPM2B_PUBLIC_Unmarshal));
    ASSIGN_OR_RETURN(const TPM2B_PRIVATE priv,
                     Unmarshal(sealed.private_area, &Tss2_MU_TPM2B_PRIVATE_Unmarshal));
    ASSIGN_OR_RETURN(const ESYS_TR primary, Primary());
    Handle primary_guard(ctx_, primary);
    ESYS_TR object = ESYS_TR_NONE;
    TSS2_RC rc = Esys_Load(ctx_, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub,
                           &object);
    if (IsIntegrityFailure(rc))
      return InvalidArgumentError(
          "this TPM cannot load the sealed object: it was sealed by another TPM, or this TPM's "
          "owner hierarchy was cleared since; seal the key again on this machine");
    if (rc) return Failed("Load (of the sealed object)", rc);
    Handle object_guard(ctx_, object);
    ESYS_TR session = ESYS_TR_NONE;
    ASSIGN_OR_RETURN(const std::string digest, PcrPolicy(sealed.pcrs, TPM2_SE_POLICY, &session));
    Handle session_guard(ctx_, session);
    // The TPM enforces the policy bound into the object; comparing the digests first only
    // names the cause without asking it.
    if (digest != sealed.policy_digest) return Changed(sealed.pcrs);
    TPM2B_SENSITIVE_DATA* out = nullptr;
    rc = Esys_Unseal(ctx_, object, session, ESYS_TR_NONE, ESYS_TR_NONE, &out);
    EsysPtr<TPM2B_SENSITIVE_DATA> data(out);
    if (IsPolicyFailure(rc)) return Changed(sealed.pcrs);
    if (rc) return Failed("Unseal", rc);
    std::string secret(reinterpret_cast<const char*>(data->buffer), data->size);
    std::memset(data->buffer, 0, data->size);
    return secret;
  }

  StatusOr<std::vector<std::string>> ReadPcrs(const std::vector<int>& pcrs) override {
    RETURN_IF_ERROR(CheckPcrs(pcrs));
    std::vector<std::string> out;
    for (int p : pcrs) {  // one at a time: a response holds at most 8 digests
      const TPML_PCR_SELECTION sel = Selection({p});
      UINT32 counter = 0;
      TPML_PCR_SELECTION* sel_out = nullptr;
      TPML_DIGEST* values = nullptr;
      const TSS2_RC rc = Esys_PCR_Read(ctx_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
                                       &counter, &sel_out, &values);
      EsysPtr<TPML_PCR_SELECTION> s(sel_out);
      EsysPtr<TPML_DIGEST> v(values);
      if (rc) return Failed("PCR_Read", rc);
      if (v->count != 1)
        return FailedPreconditionError("the TPM has no SHA-256 bank for PCR " + std::to_string(p));
      out.emplace_back(reinterpret_cast<const char*>(v->digests[0].buffer), v->digests[0].size);
    }
    return out;
  }

  Status ExtendPcr(int pcr, std::string_view data) override {
    RETURN_IF_ERROR(CheckPcrs({pcr}));
    TPML_DIGEST_VALUES digests{};
    digests.count = 1;
    digests.digests[0].hashAlg = TPM2_ALG_SHA256;
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           digests.digests[0].digest.sha256);
    if (TSS2_RC rc = Esys_PCR_Extend(ctx_, ESYS_TR_PCR0 + static_cast<ESYS_TR>(pcr),
                                     ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &digests))
      return Failed("PCR_Extend of PCR " + std::to_string(pcr), rc);
    return OkStatus();
  }

 private:
  // Flushes a transient object or session when it goes out of scope.
  class Handle {
   public:
    Handle(ESYS_CONTEXT* ctx, ESYS_TR h) : ctx_(ctx), h_(h) {}
    ~Handle() {
      if (h_ != ESYS_TR_NONE) Esys_FlushContext(ctx_, h_);
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    void release() { h_ = ESYS_TR_NONE; }

   private:
    ESYS_CONTEXT* ctx_;
    ESYS_TR h_;
  };

  // The owner hierarchy's storage primary key (ECC P-256, AES-128-CFB), derived anew from the
  // owner seed: the same key every time on this TPM.
  StatusOr<ESYS_TR> Primary() {
    const TPM2B_SENSITIVE_CREATE sensitive{};
    TPM2B_PUBLIC tmpl{};
    TPMT_PUBLIC& p = tmpl.publicArea;
    p.type = TPM2_ALG_ECC;
    p.nameAlg = TPM2_ALG_SHA256;
    p.objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
                         TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                         TPMA_OBJECT_SENSITIVEDATAORIGIN;
    p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
    p.parameters.eccDetail.symmetric.keyBits.aes = 128;
    p.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    const TPM2B_DATA outside{};
    const TPML_PCR_SELECTION creation_pcrs{};
    ESYS_TR handle = ESYS_TR_NONE;
    TPM2B_PUBLIC* out_public = nullptr;
    TPM2B_CREATION_DATA* creation_data = nullptr;
    TPM2B_DIGEST* creation_hash = nullptr;
    TPMT_TK_CREATION* ticket = nullptr;
    const TSS2_RC rc = Esys_CreatePrimary(
        ctx_, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
        &outside, &creation_pcrs, &handle, &out_public, &creation_data, &creation_hash, &ticket);
    EsysPtr<TPM2B_PUBLIC> a(out_public);
    EsysPtr<TPM2B_CREATION_DATA> b(creation_data);
    EsysPtr<TPM2B_DIGEST> c(creation_hash);
    EsysPtr<TPMT_TK_CREATION> d(ticket);
    if (rc) return Failed("CreatePrimary (the owner's storage key)", rc);
    return handle;
  }

  // Runs PolicyPCR over `pcrs` (their current values) in a new session of `type` and returns
  // the session's policy digest. A trial session is flushed here; a policy session is returned
  // in *session for the command it authorizes.
  StatusOr<std::string> PcrPolicy(const std::vector<int>& pcrs, TPM2_SE type, ESYS_TR* session) {
    TPMT_SYM_DEF sym{};
    sym.algorithm = TPM2_ALG_AES;
    sym.keyBits.aes = 128;
    sym.mode.aes = TPM2_ALG_CFB;
    ESYS_TR s = ESYS_TR_NONE;
    TSS2_RC rc = Esys_StartAuthSession(ctx_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, nullptr, type, &sym, TPM2_ALG_SHA256, &s);
    if (rc) return Failed("StartAuthSession", rc);
    Handle guard(ctx_, s);
    const TPM2B_DIGEST current{};  // empty: the PCRs' current values
    const TPML_PCR_SELECTION sel = Selection(pcrs);
    rc = Esys_PolicyPCR(ctx_, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &current, &sel);
    if (rc) return Failed("PolicyPCR", rc);
    TPM2B_DIGEST* digest = nullptr;
    rc = Esys_PolicyGetDigest(ctx_, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest);
    EsysPtr<TPM2B_DIGEST> d(digest);
    if (rc) return Failed("PolicyGetDigest", rc);
    if (session) {
      // The session stays open after the command it authorizes; the caller flushes it.
      rc = Esys_TRSess_SetAttributes(ctx_, s, TPMA_SESSION_CONTINUESESSION,
                                     TPMA_SESSION_CONTINUESESSION);
      if (rc) return Failed("TRSess_SetAttributes", rc);
      *session = s;
      guard.release();
    }
    return std::string(reinterpret_cast<const char*>(d->buffer), d->size);
  }

  TSS2_TCTI_CONTEXT* tcti_;
  ESYS_CONTEXT* ctx_;
};

}  // namespace

StatusOr<std::unique_ptr<Tpm>> Tpm::Open(const std::string& tcti) {
  // The TSS logs every TPM error to stderr; the errors reach the user as Statuses instead.
  setenv("TSS2_LOG", "all+NONE", 0);
  TSS2_TCTI_CONTEXT* t = nullptr;
  if (TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &t))
    return UnavailableError("cannot reach the TPM at '" + tcti + "': " + Describe(rc) +
                            " (a TCTI such as device:/dev/tpmrm0 or swtpm:host=H,port=P)");
  ESYS_CONTEXT* ctx = nullptr;
  if (TSS2_RC rc = Esys_Initialize(&ctx, t, nullptr)) {
    Tss2_TctiLdr_Finalize(&t);
    return UnavailableError("cannot open the TPM at '" + tcti + "': " + Describe(rc));
  }
  // A simulator may not be started yet; a platform TPM was started by its firmware.
  const TSS2_RC rc = Esys_Startup(ctx, TPM2_SU_CLEAR);
  if (rc && (rc & 0xFFF) != TPM2_RC_INITIALIZE) {
    Esys_Finalize(&ctx);
    Tss2_TctiLdr_Finalize(&t);
    return UnavailableError("the TPM at '" + tcti + "' does not start: " + Describe(rc));
  }
  return std::unique_ptr<Tpm>(new EsysTpm(t, ctx));
}

Status CheckSealedObject(const SealedObject& sealed) {
  RETURN_IF_ERROR(CheckPcrs(sealed.pcrs));
  RETURN_IF_ERROR(Unmarshal(sealed.public_area, &Tss2_MU_TPM2B_PUBLIC_Unmarshal).status());
  return Unmarshal(sealed.private_area, &Tss2_MU_TPM2B_PRIVATE_Unmarshal).status();
}

StatusOr<std::vector<int>> ParsePcrList(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 0 || v > 23)
      return InvalidArgumentError("--pcrs: '" + item +
                                  "' is not a PCR index 0..23 (give a list such as 0,7)");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) return InvalidArgumentError("--pcrs: name at least one PCR (e.g. 0,7)");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace medscribe::tpm
