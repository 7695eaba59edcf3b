#!/usr/bin/env bash
# Key release on attestation, with a software TPM 2.0 (swtpm) on loopback standing in for a
# machine's or a confidential VM's TPM:
#   - `medscribe keys seal --pcrs 0,7 --remove-plain` seals the drafts store's key ring to the
#     TPM's PCR values and removes the plain ring; `keys check-sealed` gets it back;
#   - a gateway configured with clinical.key_ring_sealed and clinical.tpm starts, the TPM
#     releasing the ring;
#   - PCR 7 is extended (as a changed Secure Boot policy would): the TPM no longer releases the
#     ring, `keys check-sealed` says which PCRs changed, and the gateway refuses to start with
#     that message;
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

# The measured state changes.
tpm2_pcrextend 7:sha256=$(printf 'another boot loader' | sha256sum | cut -d' ' -f1) || fail "tpm2_pcrextend"
out=$(ms keys check-sealed --tpm "$tcti" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "PCRs 0,7 changed since the key was sealed" \
  && pass "after PCR 7 is extended the TPM refuses: $out" || fail "check-sealed after the extend (exit $rc): $out"
start_gateway
wait "$gw" 2>/dev/null; rc=$?
[ -z "$port" ] && [ $rc -ne 0 ] && has "was not released: the platform's measured state no longer matches" "$work/gw.log" \
  && pass "the gateway refuses to start: $(tail -1 "$work/gw.log")" || fail "gateway after the extend (exit $rc, port '$port'): $(tail -3 "$work/gw.log")"

# A TPM without a sealed ring.
config "$work/gateway.yaml" "  tpm: \"$tcti\""
out=$("$bin" --home "$home" gateway --config "$work/gateway.yaml" --port-file "$work/gw2.port" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | has "clinical.key_ring_sealed is not" \
  && pass "refused: clinical.tpm without a sealed ring" || fail "config without a sealed ring (exit $rc): $out"
finish
