#include "registry_access.h"

#include <filesystem>

#include "tpm/sealed_file.h"

namespace medscribe::cli {
namespace fs = std::filesystem;

StatusOr<crypto::KeyRing> RegistryKeyRing(const GlobalOptions& g, bool create) {
  const std::string plain = registry::Registry::KeyRingPath(g.home);
  const std::string sealed = plain + ".sealed";
  if (fs::exists(plain) || !fs::exists(sealed)) {
    if (create) return crypto::KeyRing::LoadOrCreate(plain);
    auto ring = crypto::KeyRing::Load(plain);
    if (ring.status().code() == ErrorCode::kNotFound)
      return NotFoundError("it is encrypted and this host has no registry key ring (" + plain +
                           " or " + sealed +
                           "): copy the ring from the host that registered the model");
    return ring;
  }
  const std::string tcti = g.config.GetString("registry.tpm", "");
  if (tcti.empty())
    return FailedPreconditionError(
        "the registry key ring is sealed to a TPM (" + sealed +
        "): name that TPM with --set registry.tpm=TCTI, e.g. device:/dev/tpmrm0, or "
        "registry.tpm in the configuration");
  return tpm::UnsealKeyRing(tcti, sealed);
}

StatusOr<registry::Registry> OpenRegistry(const GlobalOptions& g) {
  ASSIGN_OR_RETURN(registry::Registry reg, registry::Registry::Open(g.home));
  reg.SetKeySource([g]() { return RegistryKeyRing(g, /*create=*/false); });
  return reg;
}

}  // namespace medscribe::cli
