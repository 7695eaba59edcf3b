#!/usr/bin/env bash
# The model server as a client sees it: `medscribe serve` on a free loopback port with a tiny
# model trained here; health and readiness, /v1/models, chat completions (plain, streamed as
# server-sent events, with a PNG, JPEG-less and DICOM image), refusals (logprobs, bad JSON,
# 100,000-deep JSON, body over the limit with and without Content-Length, oversized header),
# Prometheus metrics, and SIGTERM draining (readiness 503 while the request in flight finishes,
# exit 0).
# Usage: serve_cli_test.sh MEDSCRIBE_BINARY
bin="$1"
source "$(dirname "$0")/lib.sh"
home="$work/home"
pin_deid_key "$home"
ms() { "$bin" --home "$home" --log-level warn "$@"; }

ms synth --out "$work/c" --encounters 30 --seed 5 --no-speech --image-size 64 > /dev/null || { fail "synth"; finish; exit 1; }
ms ingest --dicom "$work/c/dicom" --fhir "$work/c/fhir" --out "$work/d" --image-size 64 --no-warehouse > /dev/null
[ -f "$work/d/manifest.json" ] || { fail "ingest"; finish; exit 1; }
ms tokenizer train --dataset "$work/d" --vocab 400 --out "$work/tok" > /dev/null || { fail "tokenizer"; finish; exit 1; }
# The tiny preset with the finding head, whose reading of the image enters the prompt as text.
cat > "$work/model.json" <<'JSON'
{"name": "tiny-read",
 "vision": {"type": "vit", "image_size": 128, "channels": 1, "patch_size": 16, "hidden_size": 96,
            "layers": 2, "heads": 4, "mlp_ratio": 2, "norm": "group"},
 "projector": {"hidden_size": 256, "pool": true},
 "findings": {"enabled": true, "hidden_size": 64, "read_as_text": true},
 "decoder": {"vocab_size": 400, "hidden_size": 128, "intermediate_size": 352, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 1024,
             "rope_theta": 10000, "rms_norm_eps": 1e-5, "tie_word_embeddings": true}}
JSON
ms train --dataset "$work/d" --tokenizer "$work/tok" --no-dictation --config "$work/model.json" --image-warmup-epochs 2 \
  --max-steps 80 --batch-size 4 --lr 3e-3 --warmup 10 \
  --checkpoint-every 80 --eval-every 1000 --out "$work/run" > /dev/null 2> "$work/train.err" \
  || { fail "train: $(tail -2 "$work/train.err")"; finish; exit 1; }
ms registry register --run "$work/run" --name chest > /dev/null || { fail "register"; finish; exit 1; }

"$bin" --home "$home" --log-level warn serve --model chest --listen 127.0.0.1:0 --port-file "$work/port" --max-body-mb 1 --drain-grace 1 \
  2> "$work/serve.log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
[ -n "$port" ] || { fail "serve did not start: $(cat "$work/serve.log")"; finish; exit 1; }
url="http://127.0.0.1:$port"
code() { curl -s -o "$work/body" -w "%{http_code}" "$@"; }

[ "$(code "$url/healthz")" = 200 ] && [ "$(code "$url/readyz")" = 200 ] && pass "healthz and readyz 200" || fail "health"
[ "$(code "$url/v1/models")" = 200 ] && grep -q '"id":"chest"' "$work/body" && grep -q '"version":"chest@1"' "$work/body" \
  && pass "/v1/models names chest@1" || fail "models: $(cat "$work/body")"

chat='{"model":"chest","messages":[{"role":"user","content":"<history> 70-year-old male. <report>"}],"max_tokens":12}'
[ "$(code "$url/v1/chat/completions" -H 'content-type: application/json' -d "$chat")" = 200 ] \
  && grep -q '"object":"chat.completion"' "$work/body" && grep -q '"completion_tokens":' "$work/body" \
  && pass "chat completion: $(head -c 160 "$work/body")" || fail "chat: $(cat "$work/body")"
stream='{"messages":[{"role":"user","content":"<history> 70-year-old male. <report>"}],"max_tokens":12,"stream":true}'
curl -sN "$url/v1/chat/completions" -d "$stream" > "$work/sse"
# Greedy decoding: the streamed pieces add up to the plain answer.
/usr/bin/python3 - "$work/sse" "$work/body" > "$work/sse.check" <<'PY'
import json, sys
events = [l[6:] for l in open(sys.argv[1]).read().splitlines() if l.startswith("data: ")]
assert events[-1] == "[DONE]", "no [DONE]"
chunks = [json.loads(e) for e in events[:-1]]
assert chunks[0]["choices"][0]["delta"].get("role") == "assistant", "no role chunk"
assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length"), "no finish_reason"
text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
plain = json.load(open(sys.argv[2]))["choices"][0]["message"]["content"]
assert text == plain, f"stream {text!r} != plain {plain!r}"
print(len(chunks))
PY
[ $? -eq 0 ] && pass "streamed: $(cat "$work/sse.check") chunks adding up to the plain answer, then [DONE]" \
  || fail "stream: $(cat "$work/sse.check") $(cat "$work/sse")"

# Images: a PNG (decoded from the cohort's first DICOM) and the DICOM itself.
dcm=$(find "$work/c/dicom" -name '*.dcm' | head -1)
ms dicom decode "$dcm" --out "$work/x.png" --size 64 > /dev/null
for kind in png dicom; do
  if [ $kind = png ]; then b64=$(base64 -w0 "$work/x.png"); mime=image/png; else b64=$(base64 -w0 "$dcm"); mime=application/dicom; fi
  printf '{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:%s;base64,%s"}},{"type":"text","text":"<history> x <report>"}]}],"max_tokens":4}' \
    "$mime" "$b64" > "$work/img.json"
  [ "$(code "$url/v1/chat/completions" --data-binary @"$work/img.json")" = 200 ] \
    && grep -q '"prompt_tokens":' "$work/body" && pass "chat with a $kind image" || fail "$kind image: $(cat "$work/body")"
done
printf '{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}' > "$work/bad.json"
[ "$(code "$url/v1/chat/completions" --data-binary @"$work/bad.json")" = 400 ] && grep -q "PNG" "$work/body" \
  && pass "a damaged image: 400 naming PNG" || fail "bad image: $(cat "$work/body")"

# The report API: a sample of the dataset and its image.
# The shortest sample of the dataset: a long note can take the tiny model's whole context (that
# is a clear 400, not what this check is about).
read -r shard key < <(for t in "$work/d"/*.tar; do tar -tvf "$t" | grep '\.json$' | awk -v t="$t" '{print $3, t, $NF}'; done \
  | sort -n | head -1 | cut -d' ' -f2-)
tar -xOf "$shard" "$key" > "$work/sample.json"
/usr/bin/python3 - "$work/sample.json" "$work/x.png" > "$work/report.json" <<'PY'
import base64, json, sys
print(json.dumps({"sample": json.load(open(sys.argv[1])), "max_tokens": 24,
                  "image": "data:image/png;base64," + base64.b64encode(open(sys.argv[2], "rb").read()).decode()}))
PY
[ "$(code "$url/v1/reports:generate" --data-binary @"$work/report.json")" = 200 ] \
  && grep -q '"model":"chest@1"' "$work/body" && grep -qE '"input_digest":"[0-9a-f]{64}"' "$work/body" \
  && grep -q '"sections":\[' "$work/body" && pass "reports:generate: $(head -c 160 "$work/body")" \
  || fail "reports: $(cat "$work/body")"
# The model reads its findings as text: the answer shows the reading its prompt carried.
grep -qE '"image_read":"[a-z]' "$work/body" \
  && pass "the finding head's reading: $(grep -oE '"image_read":"[^"]*"' "$work/body" | head -c 200)" \
  || fail "no image_read in $(head -c 400 "$work/body")"
[ "$(code "$url/v1/reports:generate" -d '{"image":"x"}')" = 400 ] && grep -q "sample" "$work/body" \
  && pass "reports:generate without a sample: 400" || fail "report without sample: $(cat "$work/body")"

# Refusals.
[ "$(code "$url/v1/chat/completions" -d '{"messages":[{"role":"user","content":"x"}],"logprobs":true}')" = 400 ] \
  && grep -q "logprobs" "$work/body" && pass "logprobs: 400 that says why" || fail "logprobs: $(cat "$work/body")"
[ "$(code "$url/v1/chat/completions" -d '{"messages":[')" = 400 ] && pass "broken JSON: 400" || fail "broken JSON"
/usr/bin/python3 -c "print('{\"messages\":' + '[' * 100000 + ']' * 100000 + '}')" > "$work/deep.json"
[ "$(code "$url/v1/chat/completions" --data-binary @"$work/deep.json")" = 400 ] && grep -q "nested" "$work/body" \
  && pass "JSON nested 100,000 deep: 400" || fail "deep JSON: $(cat "$work/body")"
head -c 2000000 /dev/zero > "$work/big"
[ "$(code "$url/v1/chat/completions" --data-binary @"$work/big")" = 413 ] && pass "body over the limit (Content-Length): 413" || fail "413 (length)"
[ "$(code -H 'Transfer-Encoding: chunked' "$url/v1/chat/completions" --data-binary @"$work/big")" = 413 ] \
  && pass "body over the limit (chunked): 413" || fail "413 (chunked)"
[ "$(code -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$url/healthz")" = 431 ] && pass "oversized header: 431" || fail "431"
[ "$(code "$url/v1/nothing")" = 404 ] && pass "unknown route: 404" || fail "404"

# Metrics: the text format, with request counts and latency histograms; no request content.
curl -s "$url/metrics" > "$work/metrics"
if command -v promtool > /dev/null; then
  promtool check metrics < "$work/metrics" > "$work/promtool.txt" 2>&1 && pass "promtool check metrics: valid" \
    || fail "promtool: $(head -5 "$work/promtool.txt")"
fi
grep -q '^medscribe_http_requests_total{route="/v1/chat/completions",code="200"} [0-9]' "$work/metrics" \
  && grep -q '^medscribe_time_to_first_token_seconds_bucket{le="+Inf"}' "$work/metrics" \
  && grep -q '^medscribe_kv_cache_usage_ratio ' "$work/metrics" && ! grep -q "70-year-old" "$work/metrics" \
  && pass "metrics: $(grep -c '^medscribe' "$work/metrics") series" || fail "metrics: $(head -20 "$work/metrics")"
if command -v promtool > /dev/null; then
  promtool check metrics < "$work/metrics" > "$work/promtool" 2>&1 && pass "promtool check metrics" || fail "promtool: $(cat "$work/promtool")"
fi

# The official OpenAI client (npm), plain and streamed.
tools="$(dirname "$0")/../tools"
if [ -d "$tools/node_modules/openai" ]; then
  node "$tools/openai_chat.mjs" "$url/v1" chest > "$work/openai.txt" 2>&1 \
    && grep -q "^plain: " "$work/openai.txt" && grep -q "^stream: [0-9]* chunks" "$work/openai.txt" \
    && grep -q "^logprobs: refused 400" "$work/openai.txt" \
    && pass "openai npm client: $(tr '\n' ' ' < "$work/openai.txt" | head -c 200)" || fail "openai client: $(cat "$work/openai.txt")"
else
  fail "the openai npm package is missing (scripts/bootstrap.sh installs it)"
fi

# The development issuer: a token that verifies here and with an independent ES256 implementation.
ms token issue --sub u1 --role resident --department RAD --ttl 15m > "$work/token" \
  && ms token jwks > "$work/jwks.json" && ms token verify --jwks "$work/jwks.json" < "$work/token" > "$work/verify.txt" \
  && grep -q "role resident" "$work/verify.txt" && pass "token issue/verify: $(cat "$work/verify.txt")" || fail "token: $(cat "$work/verify.txt")"
[ "$(stat -c %a "$home/keys/dev_issuer.pem")" = 600 ] && pass "issuer key file 0600" || fail "issuer key mode"
if /usr/bin/python3 -c "import cryptography" 2> /dev/null; then
  /usr/bin/python3 - "$work/token" "$work/jwks.json" > "$work/pyverify.txt" 2>&1 <<'PY'
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
b64 = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
k = json.load(open(sys.argv[2]))["keys"][0]
pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(k["x"]), "big"), int.from_bytes(b64(k["y"]), "big"),
                                    ec.SECP256R1()).public_key()
h, p, s = open(sys.argv[1]).read().strip().split(".")
sig = b64(s)
pub.verify(utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
           (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
print("verified")
PY
  grep -q verified "$work/pyverify.txt" && pass "the token verifies with Python's cryptography" || fail "python verify: $(cat "$work/pyverify.txt")"
fi
printf 'x.y.z\n' | ms token verify --jwks "$work/jwks.json" > /dev/null 2> "$work/bad_token.txt"; rc=$?
[ $rc -ne 0 ] && grep -q "invalid token" "$work/bad_token.txt" && pass "a malformed token is refused" || fail "bad token accepted"

# SIGTERM: readiness 503 at once, requests in flight complete, exit 0.
for i in 1 2 3 4; do
  curl -s -o "$work/inflight.$i" -w "%{http_code}\n" "$url/v1/chat/completions" \
    -d '{"messages":[{"role":"user","content":"<history> x <report>"}],"max_tokens":900}' > "$work/inflight.$i.code" &
done
for _ in $(seq 200); do  # until the server counts a request in flight
  curl -s "$url/metrics" | has '^medscribe_in_flight_requests [1-9]' && break
  sleep 0.01
done
kill -TERM $pid
sleep 0.2
ready=$(code "$url/readyz")
wait $pid; rc=$?
wait
codes=$(cat "$work"/inflight.*.code | tr '\n' ' ')
# Every request the server had taken finished with 200; one sent after the signal may get 503.
bad=$(tr ' ' '\n' <<< "$codes" | grep -v -E '^(200|503|)$' | wc -l)
[ "$ready" = 503 ] && [ $rc -eq 0 ] && [[ " $codes" == *" 200"* ]] && [ "$bad" -eq 0 ] \
  && grep -q "draining" "$work/serve.log" \
  && pass "SIGTERM: readyz 503, requests in flight answered ($codes), exit 0" \
  || fail "drain: readyz $ready, exit $rc, in-flight codes $codes, $(cat "$work/serve.log")"
finish
