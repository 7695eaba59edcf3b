#!/usr/bin/env bash
# A MedScribe gateway host on a Google Cloud Confidential VM (AMD SEV-SNP) with Shielded VM's
# Secure Boot, virtual TPM and integrity monitoring; the drafts store's key ring is then sealed
# to the vTPM's PCRs on the VM (docs/privacy.md#key-release-on-attestation).
# Usage: gcp-confidential-vm.sh PROJECT ZONE NAME
set -euo pipefail
project="$1" zone="$2" name="$3"
gcloud compute instances create "$name" --project "$project" --zone "$zone" \
  --machine-type n2d-standard-4 --min-cpu-platform "AMD Milan" \
  --confidential-compute-type SEV_SNP --maintenance-policy TERMINATE \
  --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring \
  --image-family debian-12 --image-project debian-cloud
cat <<'NEXT'
On the VM, after installing MedScribe and creating the ring (medscribe keys init):
  medscribe keys seal --tpm device:/dev/tpmrm0 --pcrs 0,4,7 --remove-plain
and in the gateway configuration:
  clinical:
    key_ring_sealed: /var/lib/medscribe/keys/kek.ring.sealed
    tpm: device:/dev/tpmrm0
Encrypted models (registry register --encrypt): copy the registry's ring there once, seal it too
  medscribe keys seal --registry --tpm device:/dev/tpmrm0 --pcrs 0,4,7 --remove-plain
and give the local replicas the TPM:
  replicas: {local: {model: chest@production, args: [--set, "registry.tpm=device:/dev/tpmrm0"]}}
Integrity monitoring reports a changed boot (PCR) baseline in Cloud Logging; the gateway then
refuses to start until the ring is sealed again from its offline backup.
NEXT
