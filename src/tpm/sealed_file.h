// A file sealed to a TPM's measured state (docs/formats/sealed-key.md): its bytes encrypted with
// AES-256-GCM under a random 32-byte key, and that key sealed by the TPM to PCR values
// (tpm/tpm.h). Whoever holds the file learns nothing without the same TPM in the same state;
// the file may be copied and backed up like any other.
//
// JSON: format "medscribe-tpm-sealed", version 1, content (what the bytes are, e.g. "kek-ring"),
// pcr_bank "sha256", pcrs, policy_digest (hex), public and private (base64, the TPM's sealed
// object), ciphertext (base64; the content name is its associated data).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/envelope.h"
#include "tpm/tpm.h"

namespace medscribe::tpm {

// The sealed file's text for `plaintext` of kind `content`, sealed by `tpm` to `pcrs`.
StatusOr<std::string> SealToFile(Tpm& tpm, std::string_view plaintext, const std::string& content,
                                 const std::vector<int>& pcrs);

// The plaintext of a sealed file of kind `content` (`name` says where the text came from, in
// errors). InvalidArgument when the text is not such a file or holds another content;
// PermissionDenied when the TPM refuses (the measured state changed); DataLoss when the
// ciphertext does not verify.
StatusOr<std::string> UnsealFile(Tpm& tpm, const std::string& text, const std::string& content,
                                 const std::string& name);

// The key ring sealed in the file at `path` (content "kek-ring", as `medscribe keys seal` writes
// it), released by the TPM reached through `tcti`. UnsealFile's errors, their message beginning
// "the key ring sealed in PATH was not released: "; NotFound when the file is missing.
StatusOr<crypto::KeyRing> UnsealKeyRing(const std::string& tcti, const std::string& path);

// The TPM object a sealed file holds, parsed and checked without a TPM (its PCR list, to report
// which PCRs it needs). InvalidArgument as above.
StatusOr<SealedObject> ReadSealedObject(const std::string& text, const std::string& name);

}  // namespace medscribe::tpm
