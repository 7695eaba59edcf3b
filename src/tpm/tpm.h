// A TPM 2.0 through the TCG Software Stack's Enhanced System API (libtss2-esys), hidden behind
// this bridge: sealing a small secret to the platform's measured state (PCR values) and
// releasing it only while that state holds, as confidential VMs do with their virtual TPM.
//
// The secret is sealed as a keyed-hash object under the owner hierarchy's storage primary key
// (ECC P-256, the TCG's storage-key template, re-derived from the owner seed on every use, so
// nothing is left in the TPM). The object has no password: only a policy session that passes
// PolicyPCR over the sealed PCR list with the values they had at sealing may unseal it. A PCR
// extended since (a changed boot chain, kernel or configuration) makes the TPM refuse.
//
// Thread safety: a Tpm is used from one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::tpm {

// A secret sealed to PCR values: what is needed to load it into the same TPM again.
struct SealedObject {
  std::vector<int> pcrs;      // SHA-256 bank indices, ascending
  std::string public_area;    // TPM2B_PUBLIC, marshalled
  std::string private_area;   // TPM2B_PRIVATE, marshalled (encrypted by the TPM)
  std::string policy_digest;  // the PolicyPCR digest the object requires (32 bytes)
};

class Tpm {
 public:
  // Connects to the TPM that `tcti` names, in the TCTI configuration syntax of tpm2-tools
  // ("device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321", "mssim:..."). Unavailable, naming
  // the TCTI, when it cannot be reached.
  static StatusOr<std::unique_ptr<Tpm>> Open(const std::string& tcti);
  virtual ~Tpm() = default;

  // Seals `secret` (1 to 128 bytes) to the current values of `pcrs` (each 0..23).
  // InvalidArgument for an empty or too long secret or a bad PCR index.
  virtual StatusOr<SealedObject> Seal(std::string_view secret, const std::vector<int>& pcrs) = 0;
  // The sealed secret, while the PCRs hold their sealed values. PermissionDenied naming the
  // PCRs when the TPM refuses the policy (the measured state changed); InvalidArgument when the
  // object was sealed by another TPM (or its owner seed was cleared).
  virtual StatusOr<std::string> Unseal(const SealedObject& sealed) = 0;
  // The current SHA-256 value (32 bytes) of each PCR in `pcrs`.
  virtual StatusOr<std::vector<std::string>> ReadPcrs(const std::vector<int>& pcrs) = 0;
  // Extends PCR `pcr` with the SHA-256 of `data` (what a boot stage does when it measures the
  // next one).
  virtual Status ExtendPcr(int pcr, std::string_view data) = 0;
};

// OK when the object's marshalled public and private areas parse (without a TPM: what a sealed
// file holds before it reaches one); InvalidArgument otherwise.
Status CheckSealedObject(const SealedObject& sealed);

// "0,7" -> {0, 7}: sorted, unique. InvalidArgument naming the entry that is not 0..23.
StatusOr<std::vector<int>> ParsePcrList(const std::string& text);

}  // namespace medscribe::tpm
