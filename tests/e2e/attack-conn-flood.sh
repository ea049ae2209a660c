#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-conn-flood.sh: connection floods below and at the connection
# limits (issue 18, item 4).
#
# The attack: many keep-alive connections from one address posting images
# as fast as they are answered (what wrk does), clients that vanish with
# their requests still waiting on the engine, then another run at once.
# libmicrohttpd at its own limits closes accepted sockets without a word,
# and it does not notice a client gone while the request waits (the
# connection is suspended, not polled): before the fix, 60 connections
# below a per-address limit of 64 got thousands of resets right after such
# a vanishing, and the resets fed themselves.
#
# What must hold:
#   - below the limits (60 connections, server.max_connections_per_ip 64),
#     no connection is reset, refused or left unanswered: every answer is
#     a 200 or a 503 with Retry-After and a JSON error (a full queue);
#   - the same right after 60 clients vanished mid-request;
#   - at server.max_connections_per_ip and at server.max_connections, the
#     next connection gets a 503 with Retry-After and a JSON error, and
#     aiguard_http_rejected_total counts it by reason; once the holders
#     leave, the same client is served.
# Bounded by work: 60 x 6 requests a run, a few holders; no timing asserted.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 13

load=$AG_TOP/tests/e2e/http-load.py
img=$AG_TOP/samples/gradient-landscape.jpg
cls=/v2/models/resnet18/classify

# clean NAME JSON: the run's summary has no reset, refused or unanswered
# connection, some 200s, and nothing but 200s and proper 503s.
clean() {
	local name=$1
	if "$PYTHON" - "$2" <<'EOF'; then
import json, sys
d = json.loads(sys.argv[1])
st = d["status"]
bad = []
if d["reset"] or d["connect"] or d["timeout"]:
	bad.append("resets %d, refused %d, unanswered %d" % (d["reset"],
	    d["connect"], d["timeout"]))
if set(st) - {"200", "503"}:
	bad.append("statuses %s" % st)
if st.get("200", 0) == 0:
	bad.append("no 200")
n503 = st.get("503", 0)
if d["retry_after"] != n503 or d["json503"] != n503:
	bad.append("%d 503s, %d with Retry-After, %d with a JSON error" %
	    (n503, d["retry_after"], d["json503"]))
print("    " + json.dumps(d, sort_keys=True))
if bad:
	print("    " + "; ".join(bad))
	sys.exit(1)
EOF
		pass "$name"
	else
		fail "$name"
	fi
}

# refused NAME SRC REASON: a GET from SRC gets 503, Retry-After, a JSON
# error naming the limit.
refused() {
	local code
	code=$(curl -s -m 30 --interface "$2" -D "$work/h" -o "$work/b" \
	    -w '%{http_code}' "$base/v2/health/live")
	if [ "$code" = 503 ] && grep -qi '^Retry-After: ' "$work/h" &&
	    "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1]));
sys.exit(0 if "too many connections" in d["error"] else 1)' "$work/b"; then
		pass "$1: 503, Retry-After, $(cat "$work/b")"
	else
		fail "$1: status $code (want 503 with Retry-After and a JSON" \
		    "error); headers: $(tr -d '\r' <"$work/h" | head -n 3 |
		    tr '\n' ' ')"
	fi
}

# holders N SRC: N connections from SRC, each inside a request (headers and
# one body byte of 1000), until killed.  Sets $holder.
all_holders=()
holders() {
	"$PYTHON" "$load" hold "$port" "$cls" image/jpeg "$1" 1000 100 "$2" \
	    >"$work/hold.$2" 2>&1 &
	holder=$!
	all_holders+=($holder)
	local i
	for i in $(seq 1 400); do
		grep -q '^held ' "$work/hold.$2" && return 0
		sleep 0.05
	done
	fail "holders from $2 did not connect: $(cat "$work/hold.$2")"
}

unhold_all() {
	local p
	for p in "${all_holders[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}
at_end unhold_all

# Below the limits (the defaults: 64 per address, 256 in all).
server_start
out=$("$PYTHON" "$load" keepalive "$port" "$cls" "$img" image/jpeg 60 6)
clean "60 keep-alive connections, 360 requests: no reset" "$out"
for round in 1 2; do
	out=$("$PYTHON" "$load" vanish "$port" "$cls" "$img" image/jpeg 60)
	clean_gone=$("$PYTHON" -c 'import json, sys
d = json.loads(sys.argv[1]); print(d["connect"])' "$out")
	[ "$clean_gone" = 0 ] &&
		pass "round $round: 60 clients sent a request and vanished" ||
		fail "round $round: vanishing clients refused: $out"
	out=$("$PYTHON" "$load" keepalive "$port" "$cls" "$img" image/jpeg \
	    60 6)
	clean "round $round: 60 connections right after: no reset" "$out"
done
server_stop

# At the limits: 6 per address, 12 in all.
server_start --set server.max_connections=12 \
    --set server.max_connections_per_ip=6
holders 6 127.0.0.2
h2=$holder
refused "7th connection from 127.0.0.2 (limit 6 per address)" 127.0.0.2
holders 6 127.0.0.3
h3=$holder
refused "13th connection, from 127.0.0.4 (limit 12 in all)" 127.0.0.4
kill "$h3" 2>/dev/null
wait "$h3" 2>/dev/null
v=$(metric 'aiguard_http_rejected_total{reason="connections_per_ip"}')
[ "$v" != none ] && [ "$v" -ge 1 ] &&
	pass "counted: rejected_total{reason=connections_per_ip} $v" ||
	fail "rejected_total{reason=connections_per_ip}: $v, want >= 1"
v=$(metric 'aiguard_http_rejected_total{reason="connections"}')
[ "$v" != none ] && [ "$v" -ge 1 ] &&
	pass "counted: rejected_total{reason=connections} $v" ||
	fail "rejected_total{reason=connections}: $v, want >= 1"
kill "$h2" 2>/dev/null
wait "$h2" 2>/dev/null
# The holders' connections close; the limit frees (give MHD a moment).
code=
for i in $(seq 1 100); do
	code=$(curl -s -m 30 --interface 127.0.0.2 -o /dev/null \
	    -w '%{http_code}' "$base/v2/health/live")
	[ "$code" = 200 ] && break
	sleep 0.05
done
[ "$code" = 200 ] && pass "127.0.0.2 served again once its holders left" ||
	fail "127.0.0.2 after its holders left: status $code"
server_stop
finish
