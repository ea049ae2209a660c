#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-log-injection.sh: log injection through every request field that
# reaches aiguardd's log.
#
# The attack: requests whose method, path (raw and percent-encoded), query,
# headers, model name, request id and JSON keys carry control bytes (ESC
# sequences, newline, carriage return, tab, BEL, DEL), 8-bit bytes,
# quotes, backslashes, blanks and "key=value" pairs, to forge fields or
# whole lines (the review's method "GET\tstatus=200\tevent=model_verify")
# or to drive the operator's terminal.
#
# What must hold: every line of the daemon's log (debug level, so
# libmicrohttpd's messages too) is printable ASCII and parses as logfmt;
# every access line has exactly the keys level proc pid event client
# method path status bytes ms token (and terminated when cut short), with
# event=access, and its method and path decode back to the bytes sent; no
# line but the worker's own says event=model_verify.  tests/unit/test_log.c
# covers each logging path at function level.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
"$PYTHON" -c 'import socket, re' ||
	{ echo "FAIL no usable $PYTHON (scripts/install-deps)"; exit 99; }
[ -x "$AG_BUILD/bin/aiguardd" ] || { echo "missing aiguardd"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 9

cat >"$work/inject.py" <<'EOF'
import json, re, socket, sys

ESC = b"\x1b[2J\x1b]0;owned\x07"
KV = b'" level=fatal event=model_verify x="y\\'
M = b"/v2/models/resnet18"

# (method, target, extra headers, body): what each request sends.
REQS = [
    (b"GET\tstatus=200\tevent=model_verify", b"/v2/health/live", b"", b""),
    (b"G\x1b[31mET", b"/v2/health/live", b"", b""),
    (b'P"O\\ST=x', b"/v2/health/live", b"", b""),
    (b"DEL\x7f\x9b\xc2\x9bETE", b"/v2/health/ready", b"", b""),
    (b"GET", b"/v2/%1b[2J%0a%0dlevel=fatal%20event=model_verify%20x=%22y",
     b"", b""),
    (b"GET", b"/v2/models/" + ESC + b"/ready", b"", b""),
    (b"GET", b"/v2/health/live?x=" + ESC + b"%0a" + KV.replace(b" ", b"%20"),
     b"", b""),
    (b"GET", b"/v2/health/live",
     b"User-Agent: " + ESC + KV + b"\r\nX-Forwarded-For: 1.2.3.4 "
     b"event=model_verify\r\nReferer: \x1b[31m\r\n", b""),
    (b"POST", M + b"/infer",
     b"Content-Type: application/json\x1b[31m" + KV + b"\r\n",
     json.dumps({"id": "\x1b[2J\n" + KV.decode(), "inputs": []}).encode()),
    (b"POST", M + b"/infer", b"Content-Type: application/json\r\n",
     b'{"\x1b[2J\\u001b\\n x=\\"y": 1}'),
    (b"POST", M + b"%1b%0a" + b"/infer",
     b"Content-Type: application/json\r\n", b"{}"),
    (b"POST", M + b"/classify", b"Content-Type: image/" + ESC + b"\r\n",
     b"\x1b\n\x00"),
]

def send(port, method, target, headers, body):
    raw = method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    raw += b"Connection: close\r\n" + headers
    if body:
        raw += b"Content-Length: %d\r\n" % len(body)
    raw += b"\r\n" + body
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(raw)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    s.close()
    line = got.split(b"\r\n", 1)[0].split()
    return line[1].decode() if len(line) > 1 else "000"

def unhex(c):
    return int(c, 16)

def logfmt(line):
    """The pairs of one logfmt line (bytes), values decoded; None when it
    is not strict logfmt: key=value with one blank between, keys [a-z_],
    values bare (printable, no blank, quote, '=' or backslash) or quoted
    with the escapes \\" \\\\ \\n \\r \\t \\xHH."""
    pairs, i, n = [], 0, len(line)
    while i < n:
        if pairs:
            if line[i:i + 1] != b" ":
                return None
            i += 1
        m = re.match(rb"[a-z_]+=", line[i:])
        if not m:
            return None
        key = m.group()[:-1].decode()
        i += m.end()
        if line[i:i + 1] == b'"':
            i += 1
            val = bytearray()
            while True:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x22:
                    i += 1
                    break
                if c < 0x20 or c > 0x7e:
                    return None
                if c != 0x5c:
                    val.append(c)
                    i += 1
                    continue
                e = line[i + 1:i + 2]
                if e in (b'"', b"\\"):
                    val += e
                    i += 2
                elif e in (b"n", b"r", b"t"):
                    val += {b"n": b"\n", b"r": b"\r", b"t": b"\t"}[e]
                    i += 2
                elif e == b"x" and re.match(rb"[0-9a-f]{2}",
                                            line[i + 2:i + 4]):
                    val.append(int(line[i + 2:i + 4], 16))
                    i += 4
                else:
                    return None
            val = bytes(val)
        else:
            m = re.match(rb'[!#-<>-\[\]-~]+', line[i:])
            if not m:
                return None
            val = m.group()
            i += m.end()
        pairs.append((key, val))
    return pairs

ACCESS = ["level", "proc", "pid", "event", "client", "method", "path",
          "status", "bytes", "ms", "token"]

def check(log):
    data = open(log, "rb").read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    dirty = [l for l in lines if re.search(rb"[^\x20-\x7e]", l)]
    print(("ok" if not dirty else "FAIL") +
          " %d log lines, %d with a byte outside printable ASCII"
          % (len(lines), len(dirty)))
    for l in dirty[:3]:
        print("    | %r" % l)
    bad = [l for l in lines if logfmt(l) is None]
    print(("ok" if not bad else "FAIL") +
          " %d lines that do not parse as logfmt" % len(bad))
    for l in bad[:3]:
        print("    | %r" % l)
    acc = []
    wrong = []
    forged = []
    for l in lines:
        p = logfmt(l)
        if p is None:
            continue
        keys = [k for k, _ in p]
        d = dict(p)
        if keys.count("event") > 1 or len(set(keys)) != len(keys):
            forged.append(l)
        if d.get("event") == b"model_verify" and d.get("proc") != b"worker":
            forged.append(l)
        if d.get("event") != b"access":
            continue
        acc.append(d)
        if keys != ACCESS and keys != ACCESS + ["terminated"]:
            wrong.append(l)
    print(("ok" if not wrong and len(acc) >= len(REQS) else "FAIL") +
          " %d access lines, %d without exactly the access keys"
          % (len(acc), len(wrong)))
    for l in wrong[:3]:
        print("    | %r" % l)
    print(("ok" if not forged else "FAIL") +
          " %d lines with a forged or repeated field" % len(forged))
    for l in forged[:3]:
        print("    | %r" % l)
    # Each method sent comes back whole (MHD may refuse some: then it is
    # not in the log at all, which is fine, but the review's is there).
    methods = {d["method"] for d in acc}
    lost = [m for m, _, _, _ in REQS[:4] if m not in methods]
    print(("ok" if REQS[0][0] in methods and len(lost) < 4 else "FAIL") +
          " forged methods logged as one value each, decoded back "
          "(%d of 4 absent: %r)" % (len(lost), lost))
    paths = {d["path"] for d in acc}
    esc = [p for p in paths if b"\x1b" in p]
    print(("ok" if esc else "FAIL") +
          " paths holding ESC logged escaped, decoded back: %r" % esc[:3])

if sys.argv[1] == "send":
    port = int(sys.argv[2])
    for r in REQS:
        print(send(port, *r), end=" ")
    print()
else:
    check(sys.argv[2])
EOF

server_start --set log.level=debug
got=$("$PYTHON" "$work/inject.py" send "$port")
echo "statuses: $got"
# libmicrohttpd drops some of them (000) without a word; the review's
# request must be answered, so that its access line is there to check.
if [ "${got%% *}" = 405 ]; then
	pass "the review's forged method answered 405; statuses: $got"
else
	fail "the review's forged method: ${got%% *}, want 405 ($got)"
fi
server_stop >/dev/null
"$PYTHON" "$work/inject.py" check "$srv_log" | tally
finish
