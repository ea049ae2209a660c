#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-body-budget.sh: slow and header-only bodies announcing large
# lengths (issue 18, item 3).
#
# The attack: connections from several addresses (each under its
# per-address limit, all under max_connections) send headers announcing
# 30 MiB (60 of them) or 1 MiB (40) and one body byte, and wait.  Before
# the fix the front reserved every announced length at once: they took its
# address space (sandbox.max_memory, 1g here), and a legitimate infer from
# another address got 503 "out of memory".
#
# What must hold:
#   - the front's address space (VmSize; VmRSS in the sanitizer build,
#     which sets no address-space limit) grows by less than 64 MiB while
#     the 100 connections wait: buffers grow as the bytes arrive;
#   - a legitimate JSON infer (two images, about 3 MB) from another address
#     gets 200 meanwhile;
#   - over server.max_body_inflight (6m here), a request is answered 503
#     with Retry-After and a JSON error, and counted in
#     aiguard_http_rejected_total{reason="body_budget"}; once the bodies
#     holding the budget are gone, the same request gets 200.
# Bounded by work: a few dozen connections, four requests; no timing.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 10

load=$AG_TOP/tests/e2e/http-load.py
infer=/v2/models/resnet18/infer

# The legitimate body: two images as a JSON tensor.
"$PYTHON" - "$work/infer.json" <<'EOF' || exit 99
import json, random, sys
random.seed(18)
n = 2 * 3 * 224 * 224
data = [round(random.uniform(-2, 2), 4) for _ in range(n)]
json.dump({"inputs": [{"name": "input", "shape": [2, 3, 224, 224],
    "datatype": "FP32", "data": data}]}, open(sys.argv[1], "w"))
EOF

# post SRC OUT: the legitimate infer from SRC; prints the status.
post() {
	curl -s -m 120 --interface "$1" -D "$2.h" -o "$2" -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    --data-binary @"$work/infer.json" "$base$infer"
}

# vm FIELD: the front's FIELD (VmSize, VmRSS) in KiB.
vm() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$front_pid/status"
}

# holders N SRC LENGTH SENT: N connections from SRC, each announcing LENGTH
# bytes and sending SENT, until killed.  Appends to $holders.
holders=()
hold() {
	local f=$work/hold.$2.${#holders[@]} i
	"$PYTHON" "$load" hold "$port" "$infer" application/json "$1" "$3" \
	    100 "$2" "$4" >"$f" 2>&1 &
	holders+=($!)
	for i in $(seq 1 600); do
		grep -q '^held ' "$f" && return 0
		sleep 0.05
	done
	fail "holders from $2 did not connect: $(cat "$f")"
}
unhold() {
	local p
	for p in "${holders[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	holders=()
}
at_end unhold

# wait_body_bytes N: until aiguard_http_body_bytes is N or more (at most
# 200 looks).  A server without the gauge (before the fix) gets a second,
# well within the connections' idle timeout.
wait_body_bytes() {
	local i v
	for i in $(seq 1 200); do
		v=$(metric aiguard_http_body_bytes)
		[ "$v" = none ] && { sleep 1; break; }
		[ "$v" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "    aiguard_http_body_bytes: $v, not $1 yet"
}

case $AG_BUILD in
*/asan) field=VmRSS ;;
*) field=VmSize ;;
esac

# 1. Header-only bodies announcing 30 MiB, 20 from each of three addresses.
server_start --set sandbox.max_memory=1g
server_pids >/dev/null
[ -n "$front_pid" ] || fail "no front process found"
before=$(vm $field)
for src in 127.0.0.2 127.0.0.3 127.0.0.4; do
	hold 20 $src $((30 * 1024 * 1024)) 1
done
# And 40 announcing 1 MiB: what reserving would leave is less than that.
hold 40 127.0.0.6 $((1024 * 1024)) 1
# Until the front has read the first byte of each (its gauge says so; a
# server without the gauge is judged on what it holds after the wait).
wait_body_bytes $((100 * 16384))
during=$(vm $field)
grow=$(( (during - before) / 1024 ))
echo "    front $field: $((before / 1024)) MiB before, $((during / 1024)) MiB with 100 connections announcing 1.8 GiB in all"
[ "$grow" -lt 64 ] &&
	pass "100 header-only bodies (60 of 30 MiB): the front grew by $grow MiB" ||
	fail "100 header-only bodies (60 of 30 MiB): the front grew by" \
	    "$grow MiB (want < 64)"
code=$(post 127.0.0.5 "$work/r1")
[ "$code" = 200 ] &&
	pass "a legitimate infer from 127.0.0.5 meanwhile: 200" ||
	fail "a legitimate infer from 127.0.0.5 meanwhile: $code $(head -c 200 "$work/r1")"
"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["outputs"][0]["shape"] == [2, 1000]' "$work/r1" 2>/dev/null &&
	pass "its answer holds two rows of logits" ||
	fail "its answer: $(head -c 200 "$work/r1")"
unhold
server_stop

# 2. Over the budget: 6m in flight, bodies up to 3m.
server_start --set server.max_body_inflight=6m \
    --set server.max_body_bytes=3m
hold 2 127.0.0.2 $((3 * 1024 * 1024)) $((2304 * 1024))
# Two bodies of 3m, three quarters sent: once read, the budget is theirs.
wait_body_bytes $((6 * 1024 * 1024))
code=$(post 127.0.0.5 "$work/r2")
if [ "$code" = 503 ] && grep -qi '^Retry-After: ' "$work/r2.h" &&
    "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(0 if "max_body_inflight" in d["error"] else 1)' "$work/r2"; then
	pass "over the budget: 503, Retry-After, $(cat "$work/r2")"
else
	fail "over the budget: status $code $(head -c 200 "$work/r2")" \
	    "(want 503 with Retry-After and a JSON error)"
fi
v=$(metric 'aiguard_http_rejected_total{reason="body_budget"}')
[ "$v" != none ] && [ "$v" -ge 1 ] &&
	pass "counted: rejected_total{reason=body_budget} $v" ||
	fail "rejected_total{reason=body_budget}: $v, want >= 1"
code=$(curl -s -m 30 --interface 127.0.0.5 -o /dev/null -w '%{http_code}' \
    "$base/v2/health/live")
[ "$code" = 200 ] && pass "a GET meanwhile: 200" ||
	fail "a GET meanwhile: $code"
unhold
# The holders' bodies are freed when their connections close.
for i in $(seq 1 100); do
	code=$(post 127.0.0.5 "$work/r3")
	[ "$code" = 200 ] && break
	sleep 0.05
done
[ "$code" = 200 ] && pass "once the holders left: 200" ||
	fail "once the holders left: $code $(head -c 200 "$work/r3")"
server_stop
finish
