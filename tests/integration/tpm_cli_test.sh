#!/usr/bin/env bash
# Key release on attestation, with a software TPM 2.0 (swtpm) on loopback standing in for a
# machine's or a confidential VM's TPM:
#   - `medscribe keys seal --pcrs 0,7 --remove-plain` seals the drafts store's key ring to the
#     TPM's PCR values and removes the plain ring; `keys check-sealed` gets it back;
#   - a gateway configured with clinical.key_ring_sealed and clinical.tpm starts, the TPM
#     releasing the ring;
#   - a model registered with --encrypt is stored as ciphertext, loads with the registry's ring
#     (decrypted into memory, nothing left behind), and once that ring is sealed with
#     `keys seal --registry` loads only with the TPM named (registry.tpm);
#   - PCR 7 is extended (as a changed Secure Boot policy would): the TPM no longer releases the
#     rings, `keys check-sealed` says which PCRs changed, the gateway refuses to start with that
#     message and the encrypted model does not load;
#   - a configuration naming a TPM but no sealed ring is refused.
# Usage: tpm_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
ms() { "$bin" --home "$home" "$@"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
for tool in swtpm tpm2_pcrextend python3; do
  command -v "$tool" > /dev/null || { fail "$tool is not installed (scripts/bootstrap.sh installs it)"; finish; exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do [ -s "$1" ] && break; sleep 0.1; done; cat "$1" 2>/dev/null; }

# The TPM: the TSS reaches its control channel on the next port.
tport=$(free_port)
mkdir -p "$work/tpm"
swtpm socket --tpm2 --tpmstate dir="$work/tpm" --server type=tcp,port="$tport",bindaddr=127.0.0.1 \
  --ctrl type=tcp,port=$((tport + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear > "$work/swtpm.log" 2>&1 &
pids+=($!)
tcti="swtpm:host=127.0.0.1,port=$tport"
export TPM2TOOLS_TCTI="$tcti"
for _ in $(seq 100); do tpm2_pcrread sha256:7 > /dev/null 2>&1 && break; sleep 0.1; done
tpm2_pcrread sha256:7 > /dev/null 2>&1 && pass "swtpm on $tport" || { fail "swtpm: $(cat "$work/swtpm.log")"; finish; exit 1; }

# Seal the ring.
ms keys init > /dev/null || fail "keys init"
ring="$home/keys/kek.ring"
key=$(grep -v '^#' "$ring" | cut -d' ' -f2)
out=$(ms keys seal --tpm "$tcti" --pcrs 0,7 --remove-plain 2>&1) && [ -f "$ring.sealed" ] && [ ! -e "$ring" ] \
  && [ "$(stat -c %a "$ring.sealed")" = 600 ] && pass "keys seal: $(echo "$out" | head -2 | tr '\n' ' ')" \
  || fail "keys seal: $out"
has -E '"format": "medscribe-tpm-sealed"' "$ring.sealed" && [ ${#key} -eq 64 ] && ! has "$key" "$ring.sealed" \
  && pass "the sealed file holds no key in the clear" || fail "sealed file: $(head -c 300 "$ring.sealed")"
out=$(ms keys check-sealed --tpm "$tcti" 2>&1) && echo "$out" | has "^released: .* holds 1 key(s)" \
  && pass "keys check-sealed: $out" || fail "keys check-sealed: $out"

# A gateway that gets the ring from the TPM.
ms synth --out "$work/c" --encounters 3 --seed 2 --no-speech --image-size 64 > /dev/null || fail "synth"
config() {  # FILE EXTRA_CLINICAL_LINES
  cat > "$1" <<YAML
listen: 127.0.0.1:0
endpoints:
  - name: reports
    paths: ["/v1/reports:generate", /v1/models]
    deployments:
      - {name: production, weight: 100, replicas: ["http://127.0.0.1:$(free_port)"]}
clinical:
  records: cohort:$work/c
  images: cohort:$work/c
$2
YAML
}
config "$work/gateway.yaml" "  key_ring_sealed: $ring.sealed
  tpm: \"$tcti\""
start_gateway() {  # sets gw (its PID) and port (empty when it exited)
  rm -f "$work/gw.port"
  "$bin" --home "$home" gateway --config "$work/gateway.yaml" --port-file "$work/gw.port" > "$work/gw.out" 2> "$work/gw.log" &
  gw=$!
  pids+=($gw)
  for _ in $(seq 300); do [ -s "$work/gw.port" ] && break; kill -0 "$gw" 2>/dev/null || break; sleep 0.1; done
  port=$(cat "$work/gw.port" 2>/dev/null)
}
start_gateway
[ -n "$port" ] && curl -s -o /dev/null -w '%{http_code}' --cacert "$home/tls/ca.pem" "https://127.0.0.1:$port/healthz" | has '^200$' \
  && pass "the gateway started with the ring the TPM released (port $port)" || fail "gateway with a sealed ring: $(tail -3 "$work/gw.log")"
kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null

# An encrypted model: a tiny one trained here for a few steps.
ms --log-level warn synth --out "$work/mc" --encounters 12 --seed 5 --no-speech --image-size 64 > /dev/null \
  && ms --log-level warn ingest --dicom "$work/mc/dicom" --fhir "$work/mc/fhir" --out "$work/d" --image-size 64 \
    --split 0.5,0.25,0.25 --no-warehouse > /dev/null
ms tokenizer train --dataset "$work/d" --vocab 500 --out "$work/tok" > /dev/null || fail "tokenizer"
ms --log-level warn train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --config tiny --image-warmup-epochs 0 \
  --max-steps 2 --batch-size 2 --eval-every 1000 --checkpoint-every 1000 --out "$work/run" > /dev/null 2> "$work/train.err" \
  || fail "train: $(tail -2 "$work/train.err")"
out=$(ms registry register --run "$work/run" --name chest --encrypt 2>&1) && echo "$out" | has "encrypted under key" \
  && pass "registry register --encrypt: $out" || fail "register --encrypt: $out"
stored="$home/registry/models/chest/1"
[ -f "$stored/model.safetensors.enc" ] && [ ! -e "$stored/model.safetensors" ] && [ ! -e "$stored/tokenizer.model" ] \
  && has '"dtype"' "$work/run/model/model.safetensors" && ! has '"dtype"' "$stored/model.safetensors.enc" \
  && pass "stored as ciphertext: $(ls "$stored" | tr '\n' ' ')" || fail "stored files: $(ls "$stored" | tr '\n' ' ')"
# A sample of any split: with 12 encounters and this home's random key, the test split may be
# empty.
read -r key ksplit _ < <(ms dataset show "$work/d" --keys | head -1)
shm_before=$(ls /dev/shm | grep -c '^medscribe-')
gen() { ms --log-level warn "$@" generate --model chest --dataset "$work/d" --split "$ksplit" --key "$key" --max-tokens 8; }
out=$(gen 2>&1) && [ -n "$out" ] && [ "$(ls /dev/shm | grep -c '^medscribe-')" = "$shm_before" ] \
  && pass "the encrypted model generates with the plain ring; no plaintext left in /dev/shm: $(echo "$out" | head -1 | cut -c1-60)" \
  || fail "generate with the plain ring: $out"
out=$(ms keys seal --registry --tpm "$tcti" --pcrs 0,7 --remove-plain 2>&1) && [ -f "$home/keys/registry.ring.sealed" ] \
  && [ ! -e "$home/keys/registry.ring" ] && echo "$out" | has "registry.tpm=" \
  && pass "keys seal --registry: $(echo "$out" | tail -1)" || fail "keys seal --registry: $out"
out=$(gen 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "sealed to a TPM" && pass "without the TPM named, refused: $out" \
  || fail "generate without registry.tpm (exit $rc): $out"
out=$(gen --set registry.tpm="$tcti" 2>&1) && [ -n "$out" ] \
  && pass "with registry.tpm the TPM releases the ring and the model generates" || fail "generate with the TPM: $out"
out=$(ms registry verify chest 2>&1) && echo "$out" | has "encrypted" && pass "registry verify needs no key: $out" \
  || fail "registry verify: $out"

# The measured state changes.
tpm2_pcrextend 7:sha256=$(printf 'another boot loader' | sha256sum | cut -d' ' -f1) || fail "tpm2_pcrextend"
out=$(ms keys check-sealed --tpm "$tcti" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "PCRs 0,7 changed since the key was sealed" \
  && pass "after PCR 7 is extended the TPM refuses: $out" || fail "check-sealed after the extend (exit $rc): $out"
start_gateway
wait "$gw" 2>/dev/null; rc=$?
[ -z "$port" ] && [ $rc -ne 0 ] && has "was not released: the platform's measured state no longer matches" "$work/gw.log" \
  && pass "the gateway refuses to start: $(tail -1 "$work/gw.log")" || fail "gateway after the extend (exit $rc, port '$port'): $(tail -3 "$work/gw.log")"
out=$(gen --set registry.tpm="$tcti" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "registry.ring.sealed was not released: the platform's measured state no longer matches" \
  && pass "the encrypted model does not load: $out" || fail "generate after the extend (exit $rc): $out"

# A TPM without a sealed ring.
config "$work/gateway.yaml" "  tpm: \"$tcti\""
out=$("$bin" --home "$home" gateway --config "$work/gateway.yaml" --port-file "$work/gw2.port" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "clinical.key_ring_sealed is not" \
  && pass "refused: clinical.tpm without a sealed ring" || fail "config without a sealed ring (exit $rc): $out"
finish
