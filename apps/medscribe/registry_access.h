// The model registry as the commands open it: encrypted entries are decrypted with the plain
// ring HOME/keys/registry.ring, or else with HOME/keys/registry.ring.sealed released by the TPM
// that configuration key registry.tpm names (a TCTI: --set registry.tpm=device:/dev/tpmrm0).
#pragma once

#include "cli.h"
#include "crypto/envelope.h"
#include "registry/registry.h"

namespace medscribe::cli {

// The registry's key ring, plain or released by the TPM as above. With `create`, a missing ring
// (neither plain nor sealed) is created with one key. NotFound (without `create`) or
// FailedPrecondition (sealed, no registry.tpm) saying what to do; the TPM's refusal otherwise.
StatusOr<crypto::KeyRing> RegistryKeyRing(const GlobalOptions& g, bool create);

// Registry::Open(g.home) with RegistryKeyRing(g, false) as its key source. The TPM is asked only
// when an encrypted entry is resolved.
StatusOr<registry::Registry> OpenRegistry(const GlobalOptions& g);

}  // namespace medscribe::cli
