#!/bin/bash
# SPDX-License-Identifier: ISC
#
# tls.sh: aiguardd's native TLS and mutual TLS, with curl, openssl
# s_client and Python's ssl + http.client.
#
#   - HTTPS with a certificate chain (leaf + intermediate, ECDSA P-256;
#     RSA 3072 and Ed25519 leaves too); TLS 1.3 and 1.2 served, 1.1
#     refused; a CBC-only or a non-ECDHE client refused; plain HTTP to the
#     TLS port gets no HTTP answer;
#   - mutual TLS: a client certificate of the client CA is the identity a
#     "cert" entry of the token file names (its scopes apply); one that is
#     expired, or of another CA, is refused (401) on every endpoint; no
#     certificate at all: health open, the rest needs a token;
#   - rotation: the certificate replaced (by rename) and SIGHUP while
#     clients keep sending, on kept and new connections: no request fails,
#     and new handshakes see the new certificate; a key that does not match
#     its certificate at SIGHUP keeps the old pair, and the log says why;
#   - a key that does not match at start, or a certificate without its
#     key, is refused at start, naming the file;
#   - the front's confinement stays whole: the layers reported on /v2 are
#     those of a server without TLS.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}"
for f in "$AG_BUILD/bin/aiguardd" "$AG_BUILD/bin/aiguard" \
    "$AG_MODEL/model.sig"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
for c in curl openssl; do
	command -v $c >/dev/null || { echo "missing $c"; exit 99; }
done
PYTHON=/usr/bin/python3
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 28
AG=$AG_BUILD/bin/aiguard
IMG=$(ls "$AG_TOP"/samples/*.jpg | head -n 1)
P=$work/pki
mkdir -p "$P"

# --- a PKI: root -> intermediate -> server leaf; a client CA ---
ossl() { openssl "$@" 2>>"$P/openssl.log"; }
mkca() {	# NAME SUBJECT [ISSUER]
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$P/$1.key" || return 1
	if [ -z "${3:-}" ]; then
		ossl req -x509 -new -key "$P/$1.key" -subj "$2" -days 30 \
		    -addext basicConstraints=critical,CA:TRUE \
		    -addext keyUsage=critical,keyCertSign,cRLSign \
		    -out "$P/$1.crt"
	else
		ossl req -new -key "$P/$1.key" -subj "$2" -out "$P/$1.csr" &&
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' \
		    >"$P/$1.ext" &&
		ossl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" -CAkey "$P/$3.key" \
		    -CAcreateserial -days 30 -extfile "$P/$1.ext" -out "$P/$1.crt"
	fi
}
# mkleaf NAME CN ISSUER ALG USAGE [DAYS_BEFORE DAYS]: a leaf; with
# DAYS_BEFORE, valid from that many days ago for DAYS days.
mkleaf() {
	local alg=$4
	case $alg in
	ec) ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$P/$1.key" ;;
	rsa) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 \
	    -out "$P/$1.key" ;;
	ed25519) ossl genpkey -algorithm ED25519 -out "$P/$1.key" ;;
	esac || return 1
	ossl req -new -key "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" ||
	    return 1
	if [ "$5" = server ]; then
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
	else
		printf 'extendedKeyUsage=clientAuth\n'
	fi >"$P/$1.ext"
	if [ -n "${6:-}" ]; then
		# A validity in the past: openssl ca takes explicit dates.
		local from to
		from=$(date -u -d "-$6 days" +%Y%m%d%H%M%SZ)
		to=$(date -u -d "-$6 days + $7 days" +%Y%m%d%H%M%SZ)
		mkdir -p "$P/ca.$1" && : >"$P/ca.$1/index" &&
		    echo 01 >"$P/ca.$1/serial" &&
		    printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/index\nserial=%s/serial\nnew_certs_dir=%s\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n' \
		    "$P/ca.$1" "$P/ca.$1" "$P/ca.$1" >"$P/ca.$1/cnf" &&
		    ossl ca -batch -config "$P/ca.$1/cnf" -cert "$P/$3.crt" \
		    -keyfile "$P/$3.key" -in "$P/$1.csr" -startdate "$from" \
		    -enddate "$to" -extfile "$P/$1.ext" -notext -out "$P/$1.crt"
	else
		ossl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" \
		    -CAkey "$P/$3.key" -CAcreateserial -days 10 \
		    -extfile "$P/$1.ext" -out "$P/$1.crt"
	fi
}
mkca root "/CN=aiguard test root" &&
    mkca inter "/CN=aiguard test intermediate" root &&
    mkleaf srv localhost inter ec server &&
    mkleaf srv2 localhost inter ec server &&
    mkleaf srvrsa localhost inter rsa server &&
    mkleaf srved localhost inter ed25519 server &&
    mkca cca "/CN=aiguard test client CA" &&
    mkca other "/CN=some other CA" &&
    mkleaf alice alice cca ec client &&
    mkleaf bob bob cca ec client &&
    mkleaf old alice cca ec client 40 10 &&
    mkleaf mallory alice other ec client ||
    { echo "cannot make the test PKI"; tail -n 5 "$P/openssl.log"; exit 99; }
for l in srv srv2 srvrsa srved; do
	cat "$P/$l.crt" "$P/inter.crt" >"$P/$l.chain"
done
chmod 0600 "$P"/*.key

TOK=$work/tokens
T_INF=$("$AG" token add --file "$TOK" reader --scopes metadata,infer | tail -n 1)
"$AG" token add --file "$TOK" alice --scopes metadata,infer --client-cert \
    >/dev/null &&
"$AG" token add --file "$TOK" bob --scopes health --client-cert >/dev/null ||
    { echo "cannot make the token file"; exit 99; }

# Served from copies: rotation replaces them.
cp "$P/srv.chain" "$work/server.crt"; cp "$P/srv.key" "$work/server.key"
SERVER_SCHEME=https SERVER_CACERT=$P/root.crt
server_start --tls-cert "$work/server.crt" --tls-key "$work/server.key" \
    --tls-client-ca "$P/cca.crt" --tokens "$TOK"
C=(curl -s -m 30 --cacert "$P/root.crt")

c=$("${C[@]}" -o "$work/b" -w '%{http_code}' "$base/v2/health/ready")
[ "$c" = 200 ] && pass "HTTPS: ready over TLS, the chain verified by curl" ||
    fail "HTTPS ready: $c"
v=$("${C[@]}" -o /dev/null -w '%{http_code} %{ssl_verify_result}' \
    --tlsv1.3 "$base/v2/health/live")
[ "$v" = "200 0" ] && pass "TLS 1.3 served" || fail "TLS 1.3: $v"
v=$("${C[@]}" -o /dev/null -w '%{http_code}' --tlsv1.2 --tls-max 1.2 \
    "$base/v2/health/live")
[ "$v" = 200 ] && pass "TLS 1.2 served" || fail "TLS 1.2: $v"
if openssl s_client -connect "127.0.0.1:$port" -tls1_1 \
    -CAfile "$P/root.crt" </dev/null >"$work/s11" 2>&1 &&
    grep -q "^    Protocol  *: TLSv1.1" "$work/s11"; then
	fail "TLS 1.1 negotiated"
else
	pass "TLS 1.1 refused"
fi
if "${C[@]}" -o /dev/null --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA \
    "$base/v2/health/live"; then
	fail "a CBC-only TLS 1.2 client was served"
else
	pass "a CBC-only TLS 1.2 client: refused"
fi
if openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
    -cipher AES128-GCM-SHA256 -CAfile "$P/root.crt" </dev/null \
    >"$work/srsa" 2>&1 && grep -q "Cipher is AES128-GCM-SHA256" "$work/srsa"; then
	fail "a static-RSA (no forward secrecy) key exchange was served"
else
	pass "no key exchange without forward secrecy (static RSA refused)"
fi
c=$(curl -s -m 10 -o "$work/plain" -w '%{http_code}' \
    "http://127.0.0.1:$port/v2/health/live")
if [ "$c" != 200 ] && ! grep -q '"live"' "$work/plain" 2>/dev/null; then
	pass "plain HTTP to the TLS port: no HTTP answer (code $c)"
else
	fail "plain HTTP to the TLS port answered $c"
fi
c=$("${C[@]}" -o /dev/null -w '%{http_code}' "$base/v2/health/live")
[ "$c" = 200 ] && pass "still serving TLS after the plain-text attempt" ||
    fail "after plain text: $c"

# --- tokens over TLS, mutual TLS ---
c=$("${C[@]}" -o "$work/b" -w '%{http_code}' -H "Content-Type: image/jpeg" \
    --data-binary @"$IMG" "$base/v2/models/resnet18/classify")
[ "$c" = 401 ] && pass "no client certificate, no token: classify 401" ||
    fail "classify anonymous over TLS: $c"
c=$("${C[@]}" -o "$work/b" -w '%{http_code}' -H "Authorization: Bearer $T_INF" \
    -H "Content-Type: image/jpeg" --data-binary @"$IMG" \
    "$base/v2/models/resnet18/classify")
[ "$c" = 200 ] && pass "a bearer token over TLS: classify 200" ||
    fail "bearer over TLS: $c"
c=$("${C[@]}" --cert "$P/alice.crt" --key "$P/alice.key" -o "$work/b" \
    -w '%{http_code}' -H "Content-Type: image/jpeg" --data-binary @"$IMG" \
    "$base/v2/models/resnet18/classify")
[ "$c" = 200 ] && pass "client certificate CN=alice (a cert entry): classify 200, no token" ||
    fail "alice's certificate: $c $(cat "$work/b")"
c=$("${C[@]}" --cert "$P/bob.crt" --key "$P/bob.key" -o "$work/b" \
    -w '%{http_code}' "$base/v2")
[ "$c" = 403 ] && grep -q "token 'bob' lacks the metadata scope" "$work/b" &&
    pass "client certificate CN=bob (health only): /v2 403" ||
    fail "bob's certificate: $c $(cat "$work/b")"
c=$("${C[@]}" --cert "$P/old.crt" --key "$P/old.key" -o "$work/b" \
    -w '%{http_code}' "$base/v2/health/live")
[ "$c" = 401 ] && grep -q "client certificate refused: .*expired" "$work/b" &&
    pass "an expired client certificate: 401 even on health, says expired" ||
    fail "expired client certificate: $c $(cat "$work/b")"
c=$("${C[@]}" --cert "$P/mallory.crt" --key "$P/mallory.key" -o "$work/b" \
    -w '%{http_code}' -H "Authorization: Bearer $T_INF" "$base/v2")
[ "$c" = 401 ] && grep -q "client certificate refused" "$work/b" &&
    pass "a client certificate of another CA (CN=alice): 401, a token does not help" ||
    fail "untrusted client certificate: $c $(cat "$work/b")"

if $PYTHON - "$port" "$P/root.crt" "$T_INF" "$P/alice.crt" "$P/alice.key" \
    <<'EOF' >"$work/py.out" 2>&1
import http.client, json, ssl, sys
port, ca, tok, cert, key = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)
body = json.dumps({"inputs": [{"name": "input", "shape": [1, 3, 224, 224],
    "datatype": "FP32", "data": [0.0] * (3 * 224 * 224)}]})
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=60)
c.request("POST", "/v2/models/resnet18/infer", body,
    {"Content-Type": "application/json", "Authorization": "Bearer " + tok})
r = c.getresponse(); b = r.read()
assert r.status == 200, (r.status, b[:200])
assert c.sock.version() in ("TLSv1.3", "TLSv1.2"), c.sock.version()
ctx2 = ssl.create_default_context(cafile=ca)
ctx2.load_cert_chain(cert, key)
c2 = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx2, timeout=60)
c2.request("GET", "/v2/models/resnet18")
r = c2.getresponse(); r.read()
assert r.status == 200, r.status
print("ok", c.sock.version())
EOF
then
	pass "Python ssl + http.client: infer with a token, metadata with a client certificate ($(tail -n 1 "$work/py.out"))"
else
	fail "Python ssl: $(tail -n 3 "$work/py.out")"
fi

# --- rotation under load ---
fp() {	# the SHA-256 fingerprint of the certificate a new handshake gets
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$P/root.crt" \
	    </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256
}
fp_old=$(fp)
$PYTHON - "$port" "$P/root.crt" "$T_INF" "$IMG" "$work/rot.stop" \
    <<'EOF' >"$work/rot.out" 2>&1 &
import http.client, os, ssl, sys, threading, time
port, ca, tok, img, stopf = sys.argv[1:6]
body = open(img, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
res = {"ok": 0, "bad": []}
lock = threading.Lock()
def run(keep):
    c = None
    while not os.path.exists(stopf):
        if c is None or not keep:
            c = http.client.HTTPSConnection("127.0.0.1", int(port),
                context=ctx, timeout=60)
        try:
            c.request("POST", "/v2/models/resnet18/classify", body,
                {"Content-Type": "image/jpeg", "Authorization": "Bearer " + tok})
            r = c.getresponse(); r.read()
            with lock:
                if r.status == 200: res["ok"] += 1
                else: res["bad"].append(r.status)
        except Exception as e:
            with lock: res["bad"].append(repr(e))
            c = None
        if not keep and c is not None:
            c.close()
ts = [threading.Thread(target=run, args=(k,)) for k in (True, True, False, False)]
for t in ts: t.start()
for t in ts: t.join()
print(res["ok"], len(res["bad"]), res["bad"][:3])
EOF
lpid=$!
sleep 1.5
cp "$P/srv2.chain" "$work/server.crt.new" && cp "$P/srv2.key" "$work/server.key.new" &&
    mv "$work/server.key.new" "$work/server.key" &&
    mv "$work/server.crt.new" "$work/server.crt" &&
    kill -HUP "$srv_pid"
wait_log 'event=frontdoor_reload result=ok generation=2' 10
sleep 1.5
fp_new=$(fp)
touch "$work/rot.stop"
wait "$lpid"
read -r nok nbad _ <"$work/rot.out"
if [ "${nbad:-1}" = 0 ] && [ "${nok:-0}" -gt 0 ]; then
	pass "rotation under load (kept and new connections): $nok requests, 0 failed"
else
	fail "rotation under load: $(cat "$work/rot.out")"
fi
want=$(openssl x509 -in "$P/srv2.crt" -noout -fingerprint -sha256)
[ "$fp_new" = "$want" ] && [ "$fp_old" != "$fp_new" ] &&
    pass "after SIGHUP, new handshakes get the new certificate" ||
    fail "rotation: old=$fp_old new=$fp_new want=$want"

# A key that does not match at SIGHUP: the pair in force stays.
cp "$P/srvrsa.key" "$work/server.key"
kill -HUP "$srv_pid"
if wait_log 'event=frontdoor_reload result=failed serving=old' 10 &&
    grep 'frontdoor_reload result=failed' "$srv_log" | grep -q "server.key"; then
	pass "a mismatched key at SIGHUP: refused, the log names the key file"
else
	fail "mismatched key at SIGHUP: $(grep frontdoor_reload "$srv_log" | tail -n 1)"
fi
[ "$(fp)" = "$want" ] && pass "the certificate in force is still served" ||
    fail "after a refused rotation: $(fp)"

# The front's layers: the same as without TLS.  (The sanitizer build,
# AG_BUILD ending in /asan, loads no seccomp filter by design.)
case $AG_BUILD in */asan) asan=1 ;; *) asan=0 ;; esac
c=$("${C[@]}" -o "$work/v2" -w '%{http_code}' -H "Authorization: Bearer $T_INF" \
    "$base/v2")
if [ "$c" = 200 ] && $PYTHON - "$work/v2" "$asan" <<'EOF'
import json, sys
layers = set(json.load(open(sys.argv[1]))["aiguard_sandbox"])
need = {"front:landlock", "front:no_new_privs", "front:mdwe",
        "worker:landlock"}
if sys.argv[2] == "0":
    need |= {"front:seccomp", "worker:seccomp"}
missing = need - layers
print("missing:", sorted(missing)) if missing else None
sys.exit(1 if missing else 0)
EOF
then
	pass "the front serves TLS under its Landlock and seccomp layers (seccomp: not in the sanitizer build)"
else
	fail "layers with TLS: $c $(head -c 300 "$work/v2")"
fi
server_stop >/dev/null

# --- other key types ---
for l in srvrsa srved; do
	SERVER_SCHEME=https SERVER_CACERT=$P/root.crt
	server_start --tls-cert "$P/$l.chain" --tls-key "$P/$l.key"
	c=$("${C[@]}" -o /dev/null -w '%{http_code}' "$base/v2/health/live")
	[ "$c" = 200 ] && pass "a $l leaf: served" || fail "$l leaf: $c"
	server_stop >/dev/null
done

# --- refused at start ---
if "$AG_BUILD/bin/aiguardd" --model "$AG_MODEL" --listen 127.0.0.1:0 \
    --tls-cert "$P/srv.chain" --tls-key "$P/srv2.key" >/dev/null \
    2>"$work/e1"; then
	fail "a key that does not match: started"
else
	grep -q "srv2.key" "$work/e1" &&
	    pass "a key that does not match its certificate: refused at start, naming the key" ||
	    fail "mismatched key at start: $(tail -n 2 "$work/e1")"
fi
if "$AG_BUILD/bin/aiguardd" --model "$AG_MODEL" --check-config \
    --tls-cert "$P/srv.chain" >/dev/null 2>"$work/e2"; then
	fail "a certificate without a key: accepted"
else
	grep -q "tls_key" "$work/e2" &&
	    pass "a certificate without its key: refused by --check-config" ||
	    fail "cert without key: $(tail -n 2 "$work/e2")"
fi
finish
