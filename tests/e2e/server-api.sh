#!/bin/bash
# SPDX-License-Identifier: ISC
#
# server-api.sh: aiguardd's HTTP API (Open Inference Protocol, KServe v2
# REST, plus classify and /metrics), end to end, with curl.
#
# Health and metadata (/v2/health/live and /ready, /v2, the model and its
# versions, unknown models and versions, path traversal in the model name);
# classify with raw JPEG and PNG bodies and multipart/form-data, its top-5
# equal to aiguard classify --json on the same files, ?top= and its bounds;
# infer with JSON tensors (flat and nested, batch 1 and 2), the binary
# tensor data and classification extensions and the request id, the
# logits equal to engine-run's on image-dump's tensors; every error status
# with a {"error": "..."} body (malformed, truncated and wrong requests,
# 411, 413 by Content-Length and by chunked body, 415, corrupt images, a
# 30000x30000 PNG refused before decoding with the front's peak memory
# small, 404, 405 with Allow, a client that dies mid-body, a slow client
# cut at request_timeout while others are served); /metrics (Prometheus
# text, promtool when installed, the request counters and the batch-size
# histogram); an access-log line per request, nothing fatal, exit 0 on
# SIGTERM.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON
# (/usr/bin/python3).  Exit codes: 0 pass, 1 fail, 99 hard error (also: no
# curl or no Python).
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
command -v curl >/dev/null || { echo "FAIL no curl (scripts/install-deps)"; exit 99; }
"$PYTHON" -c 'import json, socket, struct, zlib' ||
	{ echo "FAIL no usable $PYTHON (scripts/install-deps)"; exit 99; }
AG=$AG_BUILD/bin/aiguard
DUMP=$AG_BUILD/tests/image-dump
ERUN=$AG_BUILD/tests/engine-run
for b in "$AG_BUILD/bin/aiguardd" "$AG" "$DUMP" "$ERUN"; do
	[ -x "$b" ] || { echo "missing $b"; exit 99; }
done
[ -f "$AG_MODEL/config.json" ] || { echo "missing model $AG_MODEL"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 100
# Peak resident memory allowed to the front (kB) after the huge PNG.
FRONT_HWM_KB=${FRONT_HWM_KB:-204800}
t_start=$SECONDS

# ---- helpers -------------------------------------------------------------

# The Python side: request bodies, JSON checks, raw sockets.
cat >"$work/t.py" <<'EOF'
import json, math, os, socket, struct, sys, threading, time, zlib

def load(path):
    with open(path, "rb") as f:
        return f.read()

def floats(path):
    b = load(path)
    return list(struct.unpack("<%df" % (len(b) // 4), b))

def die(msg):
    sys.exit(msg)

def prep(d, t0, t1):
    """Request bodies and bad images, into directory d."""
    a0, a1 = floats(t0), floats(t1)
    n = 3 * 224 * 224
    if len(a0) != n or len(a1) != n:
        die("image-dump: %d and %d floats, want %d" % (len(a0), len(a1), n))
    s0 = ["%.9g" % v for v in a0]
    s1 = ["%.9g" % v for v in a1]

    def flat(s):
        return "[" + ",".join(s) + "]"

    def nested(s):
        rows = ["[" + ",".join(s[i:i + 224]) + "]" for i in range(0, n, 224)]
        chans = ["[" + ",".join(rows[c * 224:(c + 1) * 224]) + "]"
                 for c in range(3)]
        return "[" + ",".join(chans) + "]"

    def doc(rid, batch, data, outputs=None, name="input", dtype="FP32",
            shape=None):
        hd = {"id": rid} if rid is not None else {}
        inp = '{"name":%s,"shape":%s,"datatype":%s,"data":%s}' % (
            json.dumps(name), json.dumps(shape or [batch, 3, 224, 224]),
            json.dumps(dtype), data)
        out = ""
        if outputs is not None:
            out = ',"outputs":' + json.dumps(outputs)
        pre = json.dumps(hd)[:-1]
        return (pre + ("," if hd else "") + '"inputs":[' + inp + "]" + out +
                "}").encode()

    def put(name, b):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)

    f0, f1 = flat(s0), flat(s1)
    put("flat1.json", doc("req-flat-1", 1, f0))
    put("nested1.json", doc("req-nested-1", 1, "[" + nested(s1) + "]"))
    put("flat2.json", doc("req-flat-2", 2, flat(s0 + s1)))
    put("nested2.json", doc(None, 2, "[" + nested(s1) + "," + nested(s0) +
                            "]"))
    put("class.json", doc("req-class", 1, f0,
                          [{"name": "logits",
                            "parameters": {"classification": 3}}]))
    hdr = json.dumps({"id": "req-bin", "inputs": [
        {"name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32",
         "parameters": {"binary_data_size": 4 * n}}],
        "outputs": [{"name": "logits",
                     "parameters": {"binary_data": True}}]}).encode()
    put("bin.body", hdr + struct.pack("<%df" % n, *a0))
    put("bin.hlen", str(len(hdr)).encode())
    # Zeros: a valid request, and the same with one thing wrong.
    z = "[" + ",".join(["0"] * n) + "]"
    put("zeros.json", doc("z", 1, z))
    put("bad-syntax.json", b'{"inputs": [}')
    put("bad-shape.json", doc("z", 1, "[" + ",".join(["0"] * 12) + "]",
                              shape=[1, 3, 2, 2]))
    put("bad-count.json", doc("z", 1, "[0,0,0,0,0,0,0,0,0,0,0,0]"))
    put("bad-dtype.json", doc("z", 1, z, dtype="FP64"))
    put("bad-name.json", doc("z", 1, z, name="image"))
    put("bad-output.json", doc("z", 1, z, [{"name": "probs"}]))
    put("bad-class.json", doc("z", 1, z, [{"name": "logits", "parameters":
                                           {"classification": 1001}}]))
    put("bad-batch.json", doc("z", 9, "[" + ",".join(["0"] * (9 * n)) +
                              "]"))
    zb = doc("z", 1, z)
    put("truncated.json", zb[:len(zb) * 2 // 3])
    put("not-json.json", b"\x00\x01\x02 this is not JSON")

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))

    # A valid PNG signature and IHDR claiming 30000 x 30000 RGB pixels.
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    put("huge.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
        chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    # A 64x64 IHDR, then an IDAT of garbage.
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    put("corrupt.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
        chunk(b"IDAT", b"\x78\x9c" + b"\xff\x00garbage" * 40) +
        chunk(b"IEND", b""))
    # A JPEG SOI and APP0, then garbage.
    put("corrupt.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" +
        b"\x00\x01\x00\x01\x00\x00" + b"\x12\x34garbage\xff" * 64)

def jload(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(raw)
    except ValueError:
        die("not JSON: %r" % raw[:200])

def jcheck(body, expr):
    d = jload(body)
    if not eval("(" + expr + ")", {"d": d, "math": math}):
        die("%s is false for %s" % (expr, json.dumps(d)[:400]))

def error(body):
    d = jload(body)
    if (not isinstance(d, dict) or set(d) != {"error"} or
            not isinstance(d["error"], str) or not d["error"]):
        die("not an error body: %s" % json.dumps(d)[:300])

def cli_shape(out, k, *files):
    doc = jload(out)
    if not isinstance(doc, list) or len(doc) != len(files):
        die("not a list of %d" % len(files))
    for e, f in zip(doc, files):
        if not isinstance(e, dict) or set(e) != {"file", "top"} or \
                e["file"] != f or len(e["top"]) != int(k):
            die("bad entry %r" % (e,))
        for t in e["top"]:
            if set(t) != {"index", "label", "prob"} or \
                    not isinstance(t["index"], int) or \
                    not isinstance(t["prob"], float):
                die("bad top entry %r" % (t,))

def classify(body, k, cli=None, f=None):
    """The classify answer: k predictions, ranked; equal to the CLI's."""
    d = jload(body)
    if set(d) != {"model_name", "model_version", "predictions"}:
        die("keys %s" % sorted(d))
    p = d["predictions"]
    if len(p) != int(k):
        die("%d predictions, want %s" % (len(p), k))
    last = 2.0
    for t in p:
        if set(t) != {"index", "label", "probability", "logit"}:
            die("bad prediction %r" % (t,))
        if not (0 < t["probability"] <= last):
            die("probabilities not ranked: %r" % (p,))
        last = t["probability"]
    if cli is None:
        return
    ref = [e for e in jload(cli) if e["file"] == f][0]["top"][:int(k)]
    got = [(t["index"], t["label"]) for t in p]
    want = [(t["index"], t["label"]) for t in ref]
    if got != want:
        die("classes %s, aiguard classify says %s" % (got, want))
    for t, r in zip(p, ref):
        if abs(t["probability"] - r["prob"]) > 1e-5:
            die("class %d: probability %.8f, aiguard classify %.8f" %
                (t["index"], t["probability"], r["prob"]))

def close(got, want):
    mx = max(abs(v) for v in want)
    diff = max(abs(a - b) for a, b in zip(got, want))
    if not diff / mx < 1e-4:
        die("logits differ: max abs diff %g, max abs logit %g" % (diff, mx))

def logits(body, rid, *refs):
    """Infer answer with the logits of refs (files of 1000 floats)."""
    d = jload(body)
    if d.get("model_name") != "resnet18" or d.get("model_version") != "1":
        die("model %r version %r" % (d.get("model_name"),
                                    d.get("model_version")))
    if rid != "-" and d.get("id") != rid:
        die("id %r, want %r" % (d.get("id"), rid))
    if rid == "-" and "id" in d:
        die("an id %r that was not sent" % d["id"])
    o = d["outputs"]
    if len(o) != 1 or o[0]["name"] != "logits" or \
            o[0]["datatype"] != "FP32" or o[0]["shape"] != [len(refs), 1000]:
        die("outputs %s" % json.dumps(o)[:300])
    data = o[0]["data"]
    if len(data) != 1000 * len(refs):
        die("%d values" % len(data))
    for i, r in enumerate(refs):
        close(data[i * 1000:(i + 1) * 1000], floats(r))

def logits_bin(body, hlen, ref):
    raw = load(body)
    n = int(hlen)
    d = json.loads(raw[:n])
    o = d["outputs"]
    if d.get("id") != "req-bin" or len(o) != 1 or \
            o[0]["shape"] != [1, 1000] or o[0]["datatype"] != "FP32" or \
            o[0].get("parameters", {}).get("binary_data_size") != 4000 or \
            "data" in o[0]:
        die("header %s" % json.dumps(d)[:300])
    if len(raw) != n + 4000:
        die("%d bytes after the header, want 4000" % (len(raw) - n))
    close(struct.unpack("<1000f", raw[n:]), floats(ref))

def classification(body, ref, labels, k):
    d = jload(body)
    o = d["outputs"]
    k = int(k)
    if d.get("id") != "req-class" or len(o) != 1 or \
            o[0]["datatype"] != "BYTES" or o[0]["shape"] != [1, k]:
        die("outputs %s" % json.dumps(d)[:300])
    lg = floats(ref)
    names = open(labels).read().splitlines()
    top = sorted(range(1000), key=lambda i: (-lg[i], i))[:k]
    got = []
    for s in o[0]["data"]:
        v, i, lab = s.split(":", 2)
        got.append(int(i))
        if lab != names[int(i)] or abs(float(v) - lg[int(i)]) > \
                1e-4 * max(abs(x) for x in lg):
            die("%r: logit %g, label %r" % (s, lg[int(i)], names[int(i)]))
    if got != top:
        die("classes %s, want %s" % (got, top))

def recv_all(s, limit=1 << 20):
    out = b""
    while len(out) < limit:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        out += b
    return out

def live_ok(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n"
              b"Connection: close\r\n\r\n")
    r = recv_all(s)
    s.close()
    return r.startswith(b"HTTP/1.1 200 ") and r.endswith(b'{"live":true}')

def raw(port, mode):
    port = int(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if mode == "short-body":
        # Announces 1000 bytes, sends 10, goes away.
        s.sendall(b"POST /v2/models/resnet18/infer HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n" + b'{"inputs":')
        time.sleep(0.2)
        s.close()
        time.sleep(0.2)
        if not live_ok(port):
            die("the server does not answer after the short body")
    elif mode == "no-length":
        s.sendall(b"POST /v2/models/resnet18/infer HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Connection: close\r\n\r\n")
        r = recv_all(s)
        head, _, body = r.partition(b"\r\n\r\n")
        print(head.split(b"\r\n")[0].decode("latin-1"))
        sys.stdout.write(body.decode("latin-1") + "\n")
    elif mode == "slow":
        # Two slow clients: headers never finished, and a body that
        # stalls.  Both must be cut near request_timeout (2 s) while
        # others are served.
        s2 = socket.create_connection(("127.0.0.1", port), timeout=10)
        t0 = time.monotonic()
        s.sendall(b"POST /v2/models/resnet18/infer HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: appl")
        s2.sendall(b"POST /v2/models/resnet18/infer HTTP/1.1\r\nHost: t\r\n"
                   b"Content-Type: application/json\r\n"
                   b"Content-Length: 100\r\n\r\n" + b'{"inputs":')
        done = {}

        def watch(name, sock):
            recv_all(sock)
            done[name] = time.monotonic() - t0

        ths = [threading.Thread(target=watch, args=a)
               for a in (("headers", s), ("body", s2))]
        for t in ths:
            t.start()
        served = 0
        while time.monotonic() - t0 < 6 and len(done) < 2:
            if live_ok(port):
                served += 1
            time.sleep(0.3)
        for t in ths:
            t.join(5)
        s2.close()
        print("cut after: %s; served meanwhile: %d" % (
            ", ".join("%s %.1f s" % kv for kv in sorted(done.items())),
            served))
        if len(done) != 2 or max(done.values()) > 5.0:
            die("slow clients not cut within 5 s")
        if min(done.values()) < 1.5:
            die("a slow client cut before request_timeout")
        if served < 2:
            die("other requests were not served meanwhile")
        if not live_ok(port):
            die("no answer after the slow clients")
    else:
        die("unknown mode " + mode)
    s.close()

def metrics(path):
    text = open(path).read()
    for want in ('aiguard_http_requests_total{endpoint="infer",code="200"}',
                 'aiguard_http_requests_total{endpoint="infer",code="400"}',
                 'aiguard_http_requests_total{endpoint="classify",code="200"}',
                 "# TYPE aiguard_batch_size histogram",
                 'aiguard_batch_size_bucket{model="resnet18",version="1",'
                 'le="+Inf"}',
                 "aiguard_batch_size_count"):
        if want not in text:
            die("no %s in /metrics" % want)
    for line in text.splitlines():
        if line.startswith('aiguard_http_requests_total{endpoint="infer",'
                           'code="200"}'):
            if int(line.split()[-1]) < 6:
                die("only %s successful infers counted" % line.split()[-1])

globals()[sys.argv[1]](*sys.argv[2:])
EOF
py() { "$PYTHON" "$work/t.py" "$@"; }

# http METHOD PATH [CURL ARGS...]: the body in $work/body, the headers in
# $work/hdr, the status in $code (000 without an answer), curl's exit
# status in $crc.  Counts the requests in $nreq.
nreq=0
http() {
	local m=$1 p=$2 mopt
	shift 2
	case $m in
	GET) mopt=() ;;
	HEAD) mopt=(-I) ;;
	*) mopt=(-X "$m") ;;
	esac
	: >"$work/body"
	code=$(curl -s -m 30 -o "$work/body" -D "$work/hdr" -w '%{http_code}' \
	    "${mopt[@]}" "$@" "$base$p")
	crc=$?
	nreq=$((nreq + 1))
}
# curl_closed CRC: curl's exit status CRC says the server closed or reset
# the connection (52 empty reply, 55 send failure, 56 receive failure),
# as opposed to a timeout (28) or anything else.
curl_closed() {
	case $1 in 52|55|56) return 0 ;; *) return 1 ;; esac
}
show() {
	echo "    | status $code (curl exit $crc), body:"
	head -c 400 "$work/body" | tr -c '[:print:]\n' '.' | sed 's/^/    | /'
	echo
}
# expect NAME STATUS [PYCHECK ARGS...]: the status, and the check (run on
# the body) when given.
expect() {
	local name=$1 want=$2 msg
	shift 2
	if [ "$code" != "$want" ]; then
		fail "$name: status $code, want $want"; show; return
	fi
	if [ $# -gt 0 ] && ! msg=$(py "$1" "$work/body" "${@:2}" 2>&1); then
		fail "$name: $msg"; show; return
	fi
	pass "$name: $want"
}
# expect_error NAME STATUS: the status, a JSON {"error": "..."} body
# served as application/json.
expect_error() {
	if ! grep -qi '^content-type: application/json' "$work/hdr"; then
		fail "$1: status $code, Content-Type not application/json"
		show; return
	fi
	expect "$1" "$2" error
}
M=/v2/models/resnet18

# ---- references, without the server ---------------------------------------

img_jpg=$AG_TOP/samples/gradient-landscape.jpg
img_png=$AG_TOP/samples/shapes-palette.png
img_mp=$AG_TOP/samples/rings-portrait.jpg
for f in "$img_jpg" "$img_png" "$img_mp"; do
	[ -f "$f" ] || { echo "missing sample $f"; exit 99; }
done
"$AG" classify --json --top 5 --model "$AG_MODEL" "$img_jpg" "$img_png" \
    "$img_mp" >"$work/cli.json" 2>"$work/err" ||
	{ echo "aiguard classify failed:"; cat "$work/err"; exit 99; }
if msg=$(py cli_shape "$work/cli.json" 5 "$img_jpg" "$img_png" "$img_mp" \
    2>&1); then
	pass "aiguard classify --json --top 5: the reference's shape"
else
	fail "aiguard classify --json: $msg"; head -c 600 "$work/cli.json"
fi
for i in 0 1; do
	f=$img_jpg
	[ $i -eq 1 ] && f=$img_png
	"$DUMP" --tensor "$f" "$work/t$i.f32" >/dev/null 2>"$work/err" &&
	    "$ERUN" --model "$AG_MODEL" --input "$work/t$i.f32" \
	    --output "$work/l$i.f32" >/dev/null 2>>"$work/err" ||
		{ echo "reference tensors:"; cat "$work/err"; exit 99; }
done
# engine-run --image (the benchmark's in-process pipeline) does the same
# image work: the same logits, bit for bit.
if "$ERUN" --model "$AG_MODEL" --image "$img_jpg" --output "$work/li.f32" \
    >/dev/null 2>"$work/err" && cmp -s "$work/li.f32" "$work/l0.f32"; then
	pass "engine-run --image: the logits of image-dump's tensor"
else
	fail "engine-run --image: other logits than image-dump + engine-run"
	cat "$work/err"
fi
py prep "$work" "$work/t0.f32" "$work/t1.f32" ||
	{ echo "cannot make the request bodies"; exit 99; }
echo "references ready after $((SECONDS - t_start)) s"

# ---- health and metadata ------------------------------------------------

server_start
echo "aiguardd pid $srv_pid listening on port $port"
nreq=0

http GET /v2/health/live
expect "GET /v2/health/live" 200 jcheck 'd == {"live": True}'
http GET /v2/health/ready
expect "GET /v2/health/ready" 200 jcheck 'd.get("ready") is True'
http GET /v2
expect "GET /v2 (server metadata)" 200 jcheck \
    'd["name"] == "aiguardd" and isinstance(d["version"], str) and
     d["version"] != "" and "classification" in d["extensions"] and
     "binary_tensor_data" in d["extensions"]'
http GET $M
expect "GET $M (model metadata)" 200 jcheck \
    'd["name"] == "resnet18" and "1" in d["versions"] and
     d["inputs"] == [{"name": "input", "datatype": "FP32",
                      "shape": [-1, 3, 224, 224]}] and
     d["outputs"] == [{"name": "logits", "datatype": "FP32",
                       "shape": [-1, 1000]}]'
http GET $M/versions/1
expect "GET $M/versions/1" 200 jcheck 'd["name"] == "resnet18"'
http GET $M/ready
expect "GET $M/ready" 200 jcheck 'd == {"name": "resnet18", "ready": True}'
http GET $M/versions/1/ready
expect "GET $M/versions/1/ready" 200 jcheck 'd["ready"] is True'
# Keep-alive: two requests on one connection (GETs are answered on
# MHD's second call; a response queued on the first closes the connection).
out=$(curl -sv -m 30 -o /dev/null -o /dev/null "$base/v2/health/live" \
    "$base/v2/health/ready" 2>&1)
nreq=$((nreq + 2))
if grep -qiE 're-?using existing connection' <<<"$out" &&
    ! grep -qi '^< connection: close' <<<"$out"; then
	pass "keep-alive: two GETs on one connection"
else
	fail "keep-alive: the connection is not reused"
	grep -iE '^< (HTTP|connection)|connect' <<<"$out" | sed 's/^/    | /'
fi
# server.max_header_bytes (16k): ours to enforce, with a JSON error.
pad=$(printf '%*s' 20000 '' | tr ' ' a)
http GET /v2/health/live -H "X-Padding: $pad"
expect_error "GET with 20 KB of headers (limit 16k)" 431
http GET /v2/health/live -H "X-Padding: ${pad:0:12000}"
expect "GET with 12 KB of headers (limit 16k)" 200
http GET $M/versions/2
expect_error "GET $M/versions/2" 404
http GET $M/versions/2/ready
expect_error "GET $M/versions/2/ready" 404
http GET /v2/models/resnet50
expect_error "GET /v2/models/resnet50 (unknown model)" 404
http GET /v2/models/resnet50/ready
expect_error "GET /v2/models/resnet50/ready" 404
http POST /v2/models/resnet50/infer -H 'Content-Type: application/json' \
    --data-binary @"$work/zeros.json"
expect_error "POST infer on an unknown model" 404

# Path traversal in the model name: 404 and never a file.
for p in "/v2/models/../../../../etc/passwd" \
    "/v2/models/..%2f..%2f..%2f..%2fetc%2fpasswd" \
    "/v2/models/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd" \
    "/v2/models/%2e%2e/%2e%2e/%2e%2e/etc/passwd" \
    "/v2/models/resnet18/../../../etc/passwd" \
    "/v2/models/..%2f..%2fetc%2fpasswd/ready" \
    "/v2/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/versions/1"; do
	http GET "$p" --path-as-is
	if [ "$code" = 404 ] && ! grep -q 'root:' "$work/body" &&
	    py error "$work/body" 2>/dev/null; then
		pass "GET $p: 404"
	else
		fail "GET $p: status $code"; show
	fi
done

# ---- classify -------------------------------------------------------------

http POST $M/classify -H 'Content-Type: image/jpeg' --data-binary @"$img_jpg"
expect "classify image/jpeg, same top-5 as aiguard classify" 200 \
    classify 5 "$work/cli.json" "$img_jpg"
http POST $M/classify -H 'Content-Type: image/png' --data-binary @"$img_png"
expect "classify image/png, same top-5 as aiguard classify" 200 \
    classify 5 "$work/cli.json" "$img_png"
http POST $M/classify -F "file=@$img_mp"
expect "classify multipart/form-data, same top-5 as aiguard classify" 200 \
    classify 5 "$work/cli.json" "$img_mp"
http POST "$M/versions/1/classify?top=3" -H 'Content-Type: image/jpeg' \
    --data-binary @"$img_jpg"
expect "classify ?top=3 (versions/1)" 200 classify 3 "$work/cli.json" \
    "$img_jpg"
for t in 0 abc 1001 -1 ''; do
	http POST "$M/classify?top=$t" -H 'Content-Type: image/jpeg' \
	    --data-binary @"$img_jpg"
	expect_error "classify ?top=$t" 400
done
http POST $M/classify -F "other=@$img_mp"
expect_error "classify multipart without a 'file' field" 400

# ---- infer ------------------------------------------------------------------

J=(-H 'Content-Type: application/json')
http POST $M/infer "${J[@]}" --data-binary @"$work/flat1.json"
expect "infer flat, batch 1: engine-run's logits, id echoed" 200 \
    logits req-flat-1 "$work/l0.f32"
http POST $M/infer "${J[@]}" --data-binary @"$work/nested1.json"
expect "infer nested, batch 1: engine-run's logits" 200 \
    logits req-nested-1 "$work/l1.f32"
http POST $M/versions/1/infer "${J[@]}" --data-binary @"$work/flat2.json"
expect "infer flat, batch 2 (versions/1): engine-run's logits" 200 \
    logits req-flat-2 "$work/l0.f32" "$work/l1.f32"
http POST $M/infer "${J[@]}" --data-binary @"$work/nested2.json"
expect "infer nested, batch 2, no id: engine-run's logits, no id" 200 \
    logits - "$work/l1.f32" "$work/l0.f32"
# Without a Content-Type, JSON is assumed.
http POST $M/infer -H 'Content-Type:' --data-binary @"$work/flat1.json"
expect "infer without Content-Type" 200 logits req-flat-1 "$work/l0.f32"
http POST $M/infer -H 'Content-Type: application/octet-stream' \
    -H "Inference-Header-Content-Length: $(cat "$work/bin.hlen")" \
    --data-binary @"$work/bin.body"
hl=$(sed -n 's/^inference-header-content-length: *\([0-9]*\).*/\1/ip' \
    "$work/hdr")
if [ "$code" = 200 ] && [ -n "$hl" ] &&
    grep -qi '^content-type: application/octet-stream' "$work/hdr" &&
    msg=$(py logits_bin "$work/body" "$hl" "$work/l0.f32" 2>&1); then
	pass "infer binary tensor data in and out: engine-run's logits"
else
	fail "infer binary: status $code header length '$hl' ${msg:-}"; show
fi
http POST $M/infer "${J[@]}" --data-binary @"$work/class.json"
expect "infer classification extension: top-3 'value:index:label'" 200 \
    classification "$work/l0.f32" "$AG_MODEL/labels.txt" 3

# ---- errors -----------------------------------------------------------------

http POST $M/infer "${J[@]}" --data-binary @"$work/zeros.json"
expect "infer zeros (the baseline of the bad requests)" 200 jcheck \
    'd["id"] == "z" and len(d["outputs"][0]["data"]) == 1000'
for b in bad-syntax:"malformed JSON" bad-shape:"wrong shape" \
    bad-count:"data count not the shape's" bad-dtype:"wrong datatype" \
    bad-name:"wrong input name" bad-output:"wrong output name" \
    bad-class:"classification over 1000" bad-batch:"batch over max" \
    truncated:"truncated JSON" not-json:"binary garbage"; do
	http POST $M/infer "${J[@]}" --data-binary @"$work/${b%%:*}.json"
	expect_error "infer, ${b#*:}" 400
done
http POST $M/infer -H 'Content-Type: application/octet-stream' \
    -H "Inference-Header-Content-Length: 99999999" \
    --data-binary @"$work/bin.body"
expect_error "infer, Inference-Header-Content-Length past the body" 400
http POST $M/infer -H 'Content-Type: text/plain' \
    --data-binary @"$work/zeros.json"
expect_error "infer, Content-Type text/plain" 415
http POST $M/classify -H 'Content-Type: text/plain' --data-binary @"$img_jpg"
expect_error "classify, Content-Type text/plain" 415
http POST $M/classify -H 'Content-Type:' --data-binary @"$img_jpg"
expect_error "classify, no Content-Type" 415
http POST $M/classify -H 'Content-Type: image/jpeg' \
    --data-binary @"$work/corrupt.jpg"
expect_error "classify, corrupt JPEG" 400
http POST $M/classify -H 'Content-Type: image/png' \
    --data-binary @"$work/corrupt.png"
expect_error "classify, corrupt PNG" 400
http POST $M/classify -H 'Content-Type: image/png' \
    --data-binary @"$work/huge.png"
expect_error "classify, PNG claiming 30000x30000 pixels" 413
server_pids >/dev/null
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$front_pid/status" \
    2>/dev/null)
if [ -n "$hwm" ] && [ "$hwm" -lt "$FRONT_HWM_KB" ]; then
	pass "front (pid $front_pid) peak RSS ${hwm} kB < $FRONT_HWM_KB kB"
else
	fail "front (pid ${front_pid:-not found}) peak RSS ${hwm:-?} kB," \
	    "limit $FRONT_HWM_KB kB"
fi
http POST $M/infer "${J[@]}" --data-binary ''
expect_error "infer, empty body" 400

http HEAD /v2/health/live
# (with -I, curl writes the headers where the body would go)
if [ "$code" = 200 ] && ! grep -q '{' "$work/body"; then
	pass "HEAD /v2/health/live: 200"
else
	fail "HEAD /v2/health/live: status $code"; show
fi
http HEAD $M/infer
if [ "$code" = 405 ] && grep -qi '^allow: *POST' "$work/hdr"; then
	pass "HEAD $M/infer: 405, Allow: POST"
else
	fail "HEAD $M/infer: status $code"; show
fi
for c in "PUT /v2/health/live" "DELETE /v2/health/live" "PUT $M" \
    "DELETE $M/infer" "PUT $M/classify" "GET $M/infer" "PATCH /v2"; do
	http ${c% *} "${c#* }"
	if [ "$code" = 405 ] && grep -qi '^allow: ' "$work/hdr" &&
	    py error "$work/body" 2>/dev/null; then
		pass "$c: 405, $(grep -i '^allow:' "$work/hdr" | tr -d '\r')"
	else
		fail "$c: status $code or no Allow header"; show
	fi
done
for p in / /v1/models /v2/foo /v2/health /v2/health/alive $M/bogus \
    $M/versions/1/bogus $M/versions /v2/models/ /metrics/x; do
	http GET "$p"
	expect_error "GET $p" 404
done

# Raw sockets: no Content-Length, and a client that dies mid-body.
if out=$(py raw "$port" no-length 2>&1) &&
    [ "$(head -n 1 <<<"$out" | cut -d' ' -f2)" = 411 ] &&
    tail -n +2 <<<"$out" >"$work/body" && py error "$work/body"; then
	pass "POST without Content-Length, not chunked: 411"
else
	fail "POST without Content-Length: $(head -c 300 <<<"$out")"
fi
if msg=$(py raw "$port" short-body 2>&1); then
	pass "a client announcing 1000 bytes, sending 10, closing: survived"
else
	fail "short body: $msg"
fi

# ---- metrics ----------------------------------------------------------------

http GET /metrics
if [ "$code" = 200 ] && grep -qi '^content-type: text/plain' "$work/hdr" &&
    msg=$(py metrics "$work/body" 2>&1); then
	pass "GET /metrics: text/plain, request counters, batch histogram"
else
	fail "GET /metrics: status $code ${msg:-}"; show
fi
if [ -x /usr/bin/promtool ]; then
	if msg=$(/usr/bin/promtool check metrics <"$work/body" 2>&1); then
		pass "promtool check metrics"
	else
		fail "promtool check metrics:"; echo "$msg" | head -n 10
	fi
fi

# ---- the log, and SIGTERM ---------------------------------------------------

server_stop
rc=$?
if [ $rc -eq 0 ]; then
	pass "SIGTERM: exit 0"
else
	fail "SIGTERM: exit $rc"; server_log_tail
fi
nacc=$(grep -Ec 'event=access .*status=[0-9]{3} .*ms=[0-9]+\.[0-9]+' \
    "$srv_log")
if [ "$nacc" -ge "$nreq" ]; then
	pass "access log: $nacc lines for $nreq curl requests (+ raw ones)"
else
	fail "access log: $nacc lines for $nreq requests"; server_log_tail
fi
if grep -q 'event=access .*path="/v2/models/resnet18/infer" status=400' \
    "$srv_log" && grep -q 'event=access .*method="POST" .*status=200' \
    "$srv_log"; then
	pass "access log names method, path and status"
else
	fail "access log lines lack method, path or status"
	grep -m 3 event=access "$srv_log"
fi
if grep -E 'level=fatal|AddressSanitizer|runtime error:' "$srv_log"; then
	fail "the server log has fatal or sanitizer lines"
else
	pass "nothing fatal in the server log"
fi

# ---- limits: a small body limit and a short request timeout ---------------

server_start --set server.max_body_bytes=64k --set server.request_timeout=2
echo "aiguardd pid $srv_pid (64 KiB bodies, 2 s timeout) on port $port"
http POST $M/infer "${J[@]}" --data-binary @"$work/zeros.json"
expect_error "infer, Content-Length over max_body_bytes" 413
http POST $M/classify -F "file=@$work/zeros.json;type=image/jpeg"
expect_error "classify multipart, Content-Length over max_body_bytes" 413
http POST $M/infer "${J[@]}" -H 'Transfer-Encoding: chunked' \
    --data-binary @"$work/flat1.json"
# Either a 413, or the connection closed or reset while curl still sent or
# waited: curl exits 52 (empty reply), 55 (send failed) or 56 (receive
# failed, a reset).  Not 28: a server that hangs on the body until curl
# gives up has not refused it.
if { [ "$code" = 413 ] && py error "$work/body"; } ||
    { [ "$code" = 000 ] && curl_closed $crc; }; then
	pass "infer, chunked body over max_body_bytes: status $code" \
	    "(curl exit $crc)"
else
	fail "infer, chunked body over the limit: status $code"; show
fi
http POST $M/classify -H 'Content-Type: image/jpeg' --data-binary @"$img_jpg"
expect "classify under the limit still works" 200 classify 5
if msg=$(py raw "$port" slow 2>&1); then
	pass "slow clients cut at request_timeout, others served: $msg"
else
	fail "slow clients: $msg"
fi
http GET /v2/health/live
expect "still live after the slow clients" 200 jcheck 'd["live"] is True'
server_stop
rc=$?
if [ $rc -eq 0 ] && grep -q 'event=timeout' "$srv_log" &&
    ! grep -qE 'level=fatal|AddressSanitizer|runtime error:' "$srv_log"
then
	pass "second server: timeouts logged, nothing fatal, exit 0"
else
	fail "second server: exit $rc"; server_log_tail
fi

# ---- limits: connections per client address --------------------------------

server_start --set server.max_connections_per_ip=2
if msg=$("$PYTHON" - "$port" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
req = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
def ask(s):
    # The answer; b"" when the server closed or reset the connection.  A
    # timeout is neither: a server that holds the connection unanswered
    # has not refused it.
    s.settimeout(5)
    try:
        s.sendall(req)
        return s.recv(4096)
    except socket.timeout:
        sys.exit("no answer nor close within 5 s")
    except (ConnectionResetError, BrokenPipeError):
        return b""
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
for s in held:
    if not ask(s).startswith(b"HTTP/1.1 200"):
        sys.exit("a connection within the limit was not served")
third = socket.create_connection(("127.0.0.1", port))
a = ask(third)
if not a.startswith(b"HTTP/1.1 503") or b"\r\nRetry-After: " not in a:
    # Refused with an answer, not a reset (issue 18).
    sys.exit("a third connection from the same address: %r, not a 503 "
        "with Retry-After" % a[:80])
for s in held:
    s.close()
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port))
if not ask(s).startswith(b"HTTP/1.1 200"):
    sys.exit("not served after the others closed")
print("the third connection was refused (503), then served once others "
    "closed")
EOF
); then
	pass "max_connections_per_ip=2: $msg"
else
	fail "per-address connection limit: $msg"
fi
server_stop

echo "time: $((SECONDS - t_start)) s"
finish
