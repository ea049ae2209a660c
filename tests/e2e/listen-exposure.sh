#!/bin/bash
# SPDX-License-Identifier: ISC
#
# listen-exposure.sh: no accidental exposure.  aiguardd has no TLS and no
# authentication of its own, so a listen address that is not loopback
# ("*", 0.0.0.0, any other) is refused, at start and by --check-config,
# unless server.allow_insecure = yes says so; then it serves, with a
# warning at every start, and aiguard doctor reports it (WARN), or FAILs
# it when the yes is missing.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}"
for f in "$AG_BUILD/bin/aiguardd" "$AG_BUILD/bin/aiguard" \
    "$AG_MODEL/model.sig"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "missing curl"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 17
AGD=$AG_BUILD/bin/aiguardd

# refused ADDR: aiguardd exits non-zero before it listens, naming the
# setting that would allow it.
refused() {
	timeout 20 "$AGD" --listen "$1" --model "$AG_MODEL" \
	    </dev/null >"$work/r.out" 2>"$work/r.err"
	local rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
	    grep -qF "server.listen $1 is not a loopback address" "$work/r.err" &&
	    grep -q "server.allow_insecure = yes" "$work/r.err" &&
	    ! grep -q "listening on" "$work/r.err"; then
		pass "listen $1 without allow_insecure: refused at start (exit $rc)"
	else
		fail "listen $1 without allow_insecure: exit $rc"
		sed 's/^/    | /' "$work/r.err" | tail -n 5
	fi
}
refused "0.0.0.0:0"
refused "*:0"
refused "192.0.2.1:0"

if "$AGD" --listen "0.0.0.0:0" --model "$AG_MODEL" --check-config \
    >/dev/null 2>"$work/c.err"; then
	fail "--check-config accepts listen 0.0.0.0 without allow_insecure"
else
	grep -q "server.allow_insecure" "$work/c.err" &&
	    pass "--check-config refuses listen 0.0.0.0 without allow_insecure" ||
	    fail "--check-config: $(head -c 300 "$work/c.err")"
fi

# Said explicitly: it serves, and says so at start.  (Started here, not
# by server_start, which expects a loopback address in the log.)
"$AGD" --listen "0.0.0.0:0" --model "$AG_MODEL" \
    --set server.allow_insecure=yes </dev/null >/dev/null 2>"$work/i.log" &
ipid=$!
iport=
for _ in $(seq 1 200); do
	iport=$(sed -n 's/.*msg="listening on 0\.0\.0\.0:\([0-9]*\)".*/\1/p' \
	    "$work/i.log" | head -n 1)
	[ -n "$iport" ] && [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' \
	    "http://127.0.0.1:$iport/v2/health/ready")" = 200 ] && break
	sleep 0.1
done
if [ -n "$iport" ] && [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' \
    "http://127.0.0.1:$iport/v2/health/ready")" = 200 ]; then
	pass "listen 0.0.0.0 with allow_insecure = yes: serves"
else
	fail "listen 0.0.0.0 with allow_insecure = yes: not ready"
	tail -n 5 "$work/i.log" | sed 's/^/    | /'
fi
grep -q 'level=warn .*insecure: serving 0\.0\.0\.0:0, not a loopback address, and it serves clear text (no server.tls_cert)' \
    "$work/i.log" && pass "a warning at start names the exposure" ||
    { fail "no warning about the exposure"; tail -n 5 "$work/i.log"; }
kill -TERM "$ipid" 2>/dev/null
wait "$ipid"
irc=$?
[ $irc -eq 0 ] && grep -q 'msg="stopped status=0"' "$work/i.log" &&
    pass "the insecure server stops cleanly on SIGTERM" ||
    fail "the insecure server: exit $irc on SIGTERM"

# The default stays loopback, with no warning.
server_start
grep -q 'insecure' "$srv_log" &&
    fail "a loopback server warns of exposure" ||
    pass "127.0.0.1: no exposure warning"
server_stop >/dev/null

# Behind the front door (TLS, a token file, health alone open), an
# exposed address needs no allow_insecure; short of any of the three, it
# does, and the refusal says which is missing.
P=$work/pki
mkdir -p "$P"
{ openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$P/k.pem" && openssl req -x509 -new -key "$P/k.pem" \
    -subj /CN=localhost -days 30 -out "$P/c.pem"; } >/dev/null 2>&1 &&
    "$AG_BUILD/bin/aiguard" token add --file "$P/tokens" t --scopes infer \
    >/dev/null 2>&1 || { echo "cannot make a certificate and tokens"; exit 99; }
door=(--tls-cert "$P/c.pem" --tls-key "$P/k.pem" --tokens "$P/tokens")
if "$AGD" --listen "0.0.0.0:8500" --model "$AG_MODEL" "${door[@]}" \
    --check-config >/dev/null 2>"$work/c2.err"; then
	pass "0.0.0.0 behind TLS and tokens (health open): accepted without allow_insecure"
else
	fail "0.0.0.0 behind TLS and tokens: $(tail -n 2 "$work/c2.err")"
fi
exposed_why() {	# WHAT ARGS...: refused, the message containing WHAT
	local what=$1
	shift
	if "$AGD" --listen "0.0.0.0:8500" --model "$AG_MODEL" "$@" \
	    --check-config >/dev/null 2>"$work/c3.err"; then
		fail "0.0.0.0 with $*: accepted"
	elif grep -q "$what" "$work/c3.err"; then
		pass "0.0.0.0 with ${*:1:1}...: refused, \"$what\""
	else
		fail "0.0.0.0 with $*: $(tail -n 1 "$work/c3.err")"
	fi
}
exposed_why "every endpoint is open (no server.tokens)" \
    --tls-cert "$P/c.pem" --tls-key "$P/k.pem"
exposed_why "clear text (no server.tls_cert)" --tokens "$P/tokens"
exposed_why "server.open leaves more than health open" "${door[@]}" \
    --set server.open=health,metadata

# aiguard doctor: WARN with the explicit yes, FAIL without it.
doctor_listen() {
	printf '[server]\nlisten = %s\n%s\n' "$1" "$2" >"$work/d.conf"
	"$AG_BUILD/bin/aiguard" doctor --root "$work/none" --config "$work/d.conf" \
	    >"$work/d.out" 2>&1
	grep -E '^(PASS|WARN|FAIL)  (listen|config) ' "$work/d.out"
}
line=$(doctor_listen "0.0.0.0:8500" "allow_insecure = yes")
[[ $line == *"WARN  listen"*"server.allow_insecure = yes"* ]] &&
    pass "doctor: WARN listen with allow_insecure = yes" ||
    fail "doctor with allow_insecure: $line"
line=$(doctor_listen "0.0.0.0:8500" "")
[[ $line == *FAIL*"allow_insecure"* ]] &&
    pass "doctor: FAIL without allow_insecure" ||
    fail "doctor without allow_insecure: $line"
line=$(doctor_listen "0.0.0.0:8500" "$(printf 'tls_cert = %s\ntls_key = %s\ntokens = %s' \
    "$P/c.pem" "$P/k.pem" "$P/tokens")")
[[ $line == *"PASS  listen"*"behind TLS and tokens"* ]] &&
    pass "doctor: PASS listen behind TLS and tokens" ||
    fail "doctor behind the front door: $line"
finish
