"""Clients and attackers for the gateway integration test (gateway_cli_test.sh).

Usage: gateway_client.py COMMAND URL CA [ARGS...]; each command prints what it measured and
exits non-zero when the gateway did not behave as the test expects.
"""
import base64
import http.client
import json
import socket
import ssl
import sys
import threading
import time
from urllib.parse import urlparse

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def connect(url, ca):
    u = urlparse(url)
    ctx = ssl.create_default_context(cafile=ca)
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)


def request(conn, method, path, token=None, body=None, headers=None):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        h.setdefault("content-type", "application/json")
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


def rsa_keys(out_jwks, out_pem, merge_jwks):
    """Writes an RSA-2048 key (PEM) and a JWKS with its public half merged into merge_jwks."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    open(out_pem, "wb").write(key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    n = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "test-rsa", "alg": "RS256", "use": "sig",
           "n": b64(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")), "e": b64(n.e.to_bytes(3, "big"))}
    jwks = json.load(open(merge_jwks))
    jwks["keys"].append(jwk)
    json.dump(jwks, open(out_jwks, "w"))


def sign(pem, header, claims, alg="RS256", secret=None):
    h = b64(json.dumps(header).encode())
    c = b64(json.dumps(claims).encode())
    msg = (h + "." + c).encode()
    if alg == "none":
        return h + "." + c + "."
    if alg == "HS256":
        m = hmac.HMAC(secret, hashes.SHA256())
        m.update(msg)
        return h + "." + c + "." + b64(m.finalize())
    key = serialization.load_pem_private_key(open(pem, "rb").read(), None)
    return h + "." + c + "." + b64(key.sign(msg, padding.PKCS1v15(), hashes.SHA256()))


def jwt_suite(url, ca, pem, issuer):
    """An RS256 token must pass; each forged one must get 401. Prints one line per case."""
    now = int(time.time())
    good = {"sub": "rsa-user", "role": "radiologist", "department": "Pulmonology", "iss": issuer,
            "aud": "medscribe", "iat": now, "nbf": now, "exp": now + 600}
    hdr = {"alg": "RS256", "typ": "JWT", "kid": "test-rsa"}
    key = serialization.load_pem_private_key(open(pem, "rb").read(), None)
    pub_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    valid = sign(pem, hdr, good)
    h, c, s = valid.split(".")
    tampered_claims = b64(json.dumps(dict(good, role="admin", department="Cardiology")).encode())
    cases = {
        "valid RS256": (valid, 200),
        "alg none": (sign(pem, dict(hdr, alg="none"), good, alg="none"), 401),
        "HS256 with the RSA public key": (sign(pem, dict(hdr, alg="HS256"), good, alg="HS256", secret=pub_pem), 401),
        "expired beyond leeway": (sign(pem, hdr, dict(good, exp=now - 120, iat=now - 720, nbf=now - 720)), 401),
        "nbf in the future": (sign(pem, hdr, dict(good, nbf=now + 600)), 401),
        "wrong aud": (sign(pem, hdr, dict(good, aud="other-api")), 401),
        "wrong iss": (sign(pem, hdr, dict(good, iss="https://evil.example")), 401),
        "wrong typ": (sign(pem, dict(hdr, typ="dpop+jwt"), good), 401),
        "tampered claims": (h + "." + tampered_claims + "." + s, 401),
        "unknown kid": (sign(pem, dict(hdr, kid="nope"), good), 401),
        "injected kid": (sign(pem, dict(hdr, kid="../../keys/dev_issuer.pem"), good), 401),
        "jku header": (sign(pem, dict(hdr, jku="https://evil.example/jwks.json"), good), 401),
        "garbage": ("not.a.token", 401),
    }
    conn = connect(url, ca)
    bad = 0
    for name, (token, want) in cases.items():
        status, _, body = request(conn, "GET", "/v1/models", token)
        ok = status == want
        bad += not ok
        print(f"{'ok' if ok else 'WRONG'}: {name} -> {status} {body[:100]!r}")
    return 1 if bad else 0


def split(url, ca, token, n, path="/v1/models"):
    """n requests (GET /v1/models, or a one-token chat completion when path is the chat route);
    prints the share each deployment got (x-medscribe-deployment), in percent."""
    conn = connect(url, ca)
    counts = {}
    chat = json.dumps({"messages": [{"role": "user", "content": "<report>"}], "max_tokens": 1})
    for _ in range(n):
        if path == "/v1/chat/completions":
            status, headers, _ = request(conn, "POST", path, token, chat)
        else:
            status, headers, _ = request(conn, "GET", path, token)
        if status != 200:
            print(f"status {status}")
            return 1
        d = headers.get("x-medscribe-deployment", "?")
        counts[d] = counts.get(d, 0) + 1
    print(json.dumps({d: round(100.0 * c / n, 2) for d, c in sorted(counts.items())}))
    return 0


def burst(url, ca, token, n):
    """n requests at once from one principal; prints the statuses and a Retry-After."""
    conn = connect(url, ca)
    statuses, retry = {}, None
    for _ in range(n):
        status, headers, _ = request(conn, "GET", "/v1/models", token)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 429:
            retry = headers.get("retry-after")
    print(json.dumps({"statuses": statuses, "retry_after": retry}))
    return 0 if statuses.get(429) and retry and int(retry) >= 1 else 1


def slow_headers(url, ca, token, n, wait_s):
    """n TLS clients send half a request line and stall; a normal client must be served
    meanwhile, and the gateway must close every stalled connection within wait_s seconds."""
    u = urlparse(url)
    ctx = ssl.create_default_context(cafile=ca)
    socks = []
    for _ in range(n):
        s = socket.create_connection((u.hostname, u.port))
        s = ctx.wrap_socket(s, server_hostname=u.hostname)
        s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    t0 = time.time()
    status, _, _ = request(connect(url, ca), "GET", "/v1/models", token)
    served_ms = (time.time() - t0) * 1000
    closed = 0
    deadline = time.time() + wait_s
    for s in socks:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            data = s.recv(4096)
            while data and b"408" not in data:
                data = s.recv(4096)
            closed += 1
        except (socket.timeout, TimeoutError):
            pass
        except (ssl.SSLError, OSError):
            closed += 1
    print(json.dumps({"normal_status": status, "normal_ms": round(served_ms, 1), "stalled": n, "closed": closed}))
    return 0 if status == 200 and closed == n and served_ms < 2000 else 1


def load(url, ca, token, seconds, threads, out):
    """Chat completions from `threads` clients for `seconds`; writes every outcome to `out`
    (status or the client-side error) as JSON."""
    body = json.dumps({"messages": [{"role": "user", "content": "<history> 70-year-old male. <report>"}],
                       "max_tokens": 16})
    results = []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker():
        conn = connect(url, ca)
        while time.time() < stop:
            try:
                status, _, _ = request(conn, "POST", "/v1/chat/completions", token, body)
                r = status
            except Exception as e:  # a request lost without a response
                r = "lost: " + type(e).__name__
                conn = connect(url, ca)
            with lock:
                results.append(r)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    json.dump(results, open(out, "w"))
    return 0


def raw(url, ca):
    """A request line and Host header that are not UTF-8: the gateway must answer 404 and live."""
    u = urlparse(url)
    ctx = ssl.create_default_context(cafile=ca)
    s = ctx.wrap_socket(socket.create_connection((u.hostname, u.port)), server_hostname=u.hostname)
    s.sendall(b"GET /\xff\xfe\xc3 HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n")
    head = s.recv(4096)
    print(head.split(b"\r\n")[0].decode())
    return 0 if head.startswith(b"HTTP/1.1 404") else 1


def main():
    cmd, url, ca = sys.argv[1:4]
    a = sys.argv[4:]
    if cmd == "rsa-keys":
        return rsa_keys(url, ca, a[0]) or 0
    if cmd == "jwt-suite":
        return jwt_suite(url, ca, a[0], a[1])
    if cmd == "raw":
        return raw(url, ca)
    if cmd == "split":
        return split(url, ca, a[0], int(a[1]), *a[2:3])
    if cmd == "burst":
        return burst(url, ca, a[0], int(a[1]))
    if cmd == "slow-headers":
        return slow_headers(url, ca, a[0], int(a[1]), float(a[2]))
    if cmd == "load":
        return load(url, ca, a[0], float(a[1]), int(a[2]), a[3])
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main())
