#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-json-flood.sh: JSON key hash flooding against the infer parser.
#
# The attack: an infer body of about 32 MiB whose "parameters" hold an
# array of objects, each of 250 distinct 4 KiB keys that share a prefix and
# one 32-bit FNV-1a hash (the parser's old, unkeyed key hash).  Each new
# key then matched every earlier one by hash and was compared in full:
# 19.9 s of front CPU per body, and two bodies at once held both HTTP
# threads.
#
# What must hold: two such bodies sent at once are refused (400, the
# missing "inputs", so the whole document was read) for about the front
# CPU that two ordinary bodies of the same size and shape cost (keys that
# do not collide), at most 4 times that plus 1 s of CPU: a count of clock
# ticks from /proc/PID/stat, not a wall-clock time; and /v2/health/live
# answers 200 while they are in flight.  The unit test (test_oip.c, the
# "flood:" cases) counts the duplicate check's probes and compares.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
command -v curl >/dev/null || { echo "FAIL no curl (scripts/install-deps)"; exit 99; }
"$PYTHON" -c 'import numpy, socket, threading' ||
	{ echo "FAIL no numpy in $PYTHON (scripts/install-deps)"; exit 99; }
[ -x "$AG_BUILD/bin/aiguardd" ] || { echo "missing aiguardd"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 7

# ---- the bodies ------------------------------------------------------------

cat >"$work/flood.py" <<'EOF'
import socket, sys, threading
import numpy as np

P, BASIS, M32 = 16777619, 2166136261, 0xffffffff
ABC = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
PREFIX = b"k" * 4096
NKEYS, NOBJ = 250, 31       # 31 objects of about 1 MiB: under 32 MiB

def fnv(h, bs):
    for b in bs:
        h = ((h ^ b) * P) & M32
    return h

def colliding(n):
    """n distinct 8-character suffixes s with one FNV-1a(PREFIX + s):
    meet in the middle, the last 3 characters run backwards from the
    target (the state before character c is (h * P^-1) ^ c)."""
    a = np.frombuffer(ABC, dtype=np.uint8).astype(np.uint32)
    c0, c1, c2 = (g.ravel() for g in np.meshgrid(a, a, a, indexing="ij"))
    pinv = np.uint32(pow(P, -1, 1 << 32))
    x = np.full(c0.shape, 0x5eed1e55, dtype=np.uint32)
    x = (x * pinv) ^ c2
    x = (x * pinv) ^ c1
    x = (x * pinv) ^ c0
    order = np.argsort(x, kind="stable")
    xs = x[order]
    h0, out = fnv(BASIS, PREFIX), []
    for i in range(len(ABC) ** 2):
        two = bytes([ABC[i >> 6], ABC[i & 63]])
        f = np.full(c0.shape, fnv(h0, two), dtype=np.uint32)
        f = (f ^ c0) * np.uint32(P)
        f = (f ^ c1) * np.uint32(P)
        f = (f ^ c2) * np.uint32(P)
        pos = np.minimum(np.searchsorted(xs, f), len(xs) - 1)
        for j in np.nonzero(xs[pos] == f)[0]:
            k = int(order[pos[j]])
            out.append(two + bytes([ABC[j >> 12], ABC[j >> 6 & 63],
                ABC[j & 63], ABC[k >> 12], ABC[k >> 6 & 63], ABC[k & 63]]))
            if len(out) == n:
                return out
    sys.exit("not enough colliding keys")

def body(suffixes):
    obj = b"{" + b",".join(b'"' + PREFIX + s + b'":0'
                           for s in suffixes) + b"}"
    return b'{"parameters":{"x":[' + b",".join([obj] * NOBJ) + b"]}}"

def request(port, path, data, method="POST"):
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (
        method, path)
    if data is not None:
        head += "Content-Type: application/json\r\n"
        head += "Content-Length: %d\r\n" % len(data)
    return head.encode() + b"\r\n" + (data or b"")

def exchange(port, raw, res, i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=120)
        s.sendall(raw)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        res[i] = got
    except OSError as e:
        res[i] = ("error: %s" % e).encode()

def status(r):
    line = r.split(b"\r\n", 1)[0].split()
    return line[1].decode() if len(line) > 1 else "000"

if sys.argv[1] == "make":
    keys = colliding(NKEYS)
    hs = {fnv(BASIS, PREFIX + k) for k in keys}
    print("ok" if len(set(keys)) == NKEYS and len(hs) == 1 else "bad")
    crafted = body(keys)
    plain = body([b"%08d" % i for i in range(NKEYS)])
    assert len(crafted) == len(plain)
    open(sys.argv[2] + "/crafted.json", "wb").write(crafted)
    open(sys.argv[2] + "/plain.json", "wb").write(plain)
    sys.exit(0)

# send PORT FILE: two copies at once, then /v2/health/live while they are
# in flight; prints "STATUS STATUS HEALTH" and writes the answers.
port, path = int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
raw = request(port, "/v2/models/resnet18/infer", data)
res = [None] * 3
th = [threading.Thread(target=exchange, args=(port, raw, res, i))
      for i in range(2)]
for t in th:
    t.start()
exchange(port, request(port, "/v2/health/live", None, "GET"), res, 2)
for t in th:
    t.join()
print(status(res[0]), status(res[1]), status(res[2]))
for i in range(2):
    open("%s.answer%d" % (path, i), "wb").write(res[i])
EOF

# CPU clock ticks (user + system) of PID so far.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	# After the command: state is field 3; utime and stime are 14, 15.
	set -- $stat
	echo $((${12} + ${13}))
}

keys=$("$PYTHON" "$work/flood.py" make "$work") ||
	{ echo "cannot make the bodies"; exit 99; }
if [ "$keys" = ok ]; then
	pass "250 distinct 4 KiB keys with one FNV-1a hash," \
	    "$(stat -c %s "$work/crafted.json") bytes per body"
else
	fail "the crafted keys do not collide under FNV-1a"
fi

# ---- the attack ------------------------------------------------------------

server_start
server_pids >/dev/null
[ -n "$front_pid" ] || { fail "no front process"; finish; exit 1; }

t0=$(cpu_ticks "$front_pid")
got=$("$PYTHON" "$work/flood.py" send "$port" "$work/plain.json")
t1=$(cpu_ticks "$front_pid")
plain_ticks=$((t1 - t0))
if [ "${got% *}" = "400 400" ] &&
    grep -q 'inputs' "$work/plain.json.answer0"; then
	pass "two ordinary bodies at once: 400, inputs missing" \
	    "($plain_ticks ticks of front CPU)"
else
	fail "two ordinary bodies at once: $got, want 400 400"
	head -c 300 "$work/plain.json.answer0" | sed 's/^/    | /'
fi

t0=$(cpu_ticks "$front_pid")
got=$("$PYTHON" "$work/flood.py" send "$port" "$work/crafted.json")
t1=$(cpu_ticks "$front_pid")
crafted_ticks=$((t1 - t0))
if [ "${got% *}" = "400 400" ] &&
    grep -q 'inputs' "$work/crafted.json.answer0"; then
	pass "two crafted bodies at once: 400, inputs missing (read whole)"
else
	fail "two crafted bodies at once: $got, want 400 400"
	head -c 300 "$work/crafted.json.answer0" | sed 's/^/    | /'
fi
if [ "${got##* }" = 200 ]; then
	pass "GET /v2/health/live while they are in flight: 200"
else
	fail "GET /v2/health/live while they are in flight: ${got##* }"
fi
hz=$(getconf CLK_TCK)
limit=$((4 * plain_ticks + hz))
if [ "$crafted_ticks" -le "$limit" ]; then
	pass "front CPU for the crafted bodies: $crafted_ticks ticks," \
	    "ordinary $plain_ticks, limit $limit (4x + 1 s)"
else
	fail "front CPU for the crafted bodies: $crafted_ticks ticks," \
	    "ordinary $plain_ticks, limit $limit (4x + 1 s)"
fi

server_stop >/dev/null
finish
