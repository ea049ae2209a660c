#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-keys.sh: every signing key and chain works in the confined worker,
# a model signed by anyone else is refused, and a worker that cannot start
# does not loop.
#
# The attack (issue 18, item 1): a model signed with a P-384 or P-521 key
# made the confined worker die of SIGSYS (OpenSSL's getrandom, under the
# seccomp filter) right after every start, for ever: a denial of service
# by choice of curve, and a restart loop with nothing in the log to say
# why.  What must hold:
#   - ECDSA P-256, P-384 and P-521, by public key and by certificate chain
#     (root CA -> intermediate -> leaf, each of the curve), made by the
#     openssl command and signed with aiguard sign: aiguardd, confined
#     (sandbox.mode = required, the default), is ready, classifies, and on
#     SIGHUP reloads the model changed and signed again and serves it;
#   - the same model signed by another key (or another CA's chain) is
#     refused at reload, naming the signature, while the old one serves;
#     at start it is refused with one worker start and one clear line,
#     no restart loop;
#   - a worker that was ready and dies is restarted, however often; a
#     worker that dies before it is ready worker.max_start_failures (here
#     3) times in a row stops aiguardd: exit 1, one fatal line naming the
#     cause.
# The OpenSSF reference vectors (a P-384 key, a P-384 leaf under an
# intermediate) are not a model aiguardd can serve: tests/unit/
# test_seccomp.c verifies them under the worker's filters instead.
#
# Bounded: nine servers, each waited for at most 20 s (server-lib.sh), the
# stopping one at most 60 s.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Needs curl and openssl.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
AG=$AG_BUILD/bin/aiguard
for f in "$AG_BUILD/bin/aiguardd" "$AG" "$AG_MODEL/model.sig"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "FAIL curl missing (scripts/install-deps)"; exit 99; }
command -v openssl >/dev/null || { echo "FAIL openssl missing (scripts/install-deps)"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 37

img=$(ls "$AG_TOP"/samples/*.jpg | head -n 1)
MODEL=$AG_MODEL
CURVES="P-256 P-384 P-521"

# ---- keys and chains, by the openssl command -------------------------------

k=$work/keys
mkdir "$k" || exit 99
ossl() {
	openssl "$@" >>"$k/log" 2>&1 ||
	    { echo "openssl $1 failed"; tail -n 5 "$k/log"; exit 99; }
}
# key NAME CURVE: NAME.key (PKCS#8) and NAME.pub.
key() {
	ossl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" \
	    -out "$k/$1.key"
	ossl pkey -in "$k/$1.key" -pubout -out "$k/$1.pub"
}
# chain NAME CURVE: NAME-root.pem, and NAME-leaf.key with NAME-chain.pem
# (leaf, then intermediate), every key of CURVE.
chain() {
	local n=$1 c=$2
	ossl req -x509 -newkey ec -pkeyopt "ec_paramgen_curve:$c" -nodes \
	    -keyout "$k/$n-root.key" -out "$k/$n-root.pem" -days 30 \
	    -subj "/CN=$n-root" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign
	issue "$n" inter root "$c" basicConstraints=critical,CA:TRUE \
	    keyUsage=critical,keyCertSign
	issue "$n" leaf inter "$c" basicConstraints=CA:FALSE \
	    keyUsage=critical,digitalSignature extendedKeyUsage=codeSigning
	cat "$k/$n-leaf.pem" "$k/$n-inter.pem" >"$k/$n-chain.pem" || exit 99
}
# issue CHAIN NAME ISSUER CURVE EXTENSION...
issue() {
	local n=$1 w=$2 i=$3 c=$4
	shift 4
	printf '%s\n' "$@" >"$k/$n-$w.ext"
	ossl req -new -newkey ec -pkeyopt "ec_paramgen_curve:$c" -nodes \
	    -keyout "$k/$n-$w.key" -out "$k/$n-$w.csr" -subj "/CN=$n-$w"
	ossl x509 -req -in "$k/$n-$w.csr" -CA "$k/$n-$i.pem" \
	    -CAkey "$k/$n-$i.key" -CAcreateserial -days 10 \
	    -extfile "$k/$n-$w.ext" -out "$k/$n-$w.pem"
}
for c in $CURVES; do
	key "$c" "$c"
	key "other-$c" "$c"
	chain "$c" "$c"
	chain "other-$c" "$c"
done

# sign DIR KIND CURVE [other]: signs DIR with the key or the chain.
sign() {
	local d=$1 kind=$2 c=$3 o=${4:+other-}
	if [ "$kind" = key ]; then
		"$AG" sign --key "$k/$o$c.key" "$d" >/dev/null
	else
		"$AG" sign --key "$k/$o$c-leaf.key" --cert "$k/$o$c-chain.pem" \
		    "$d" >/dev/null
	fi || { echo "aiguard sign $kind $c ${4:-} failed"; exit 99; }
}
# trust KIND CURVE: aiguardd's flag for it.
trust() {
	if [ "$1" = key ]; then
		echo --verify-key "$k/$2.pub"
	else
		echo --verify-ca "$k/$2-root.pem"
	fi
}
# copy NAME: a writable copy of the default model, unsigned.
copy() {
	rm -rf "${work:?}/$1" && cp -r "$MODEL" "$work/$1" &&
	    chmod -R u+w "$work/$1" && rm "$work/$1/model.sig" || exit 99
}
meta_digest() {
	curl -s -m 30 "$base/v2/models/resnet18" | "$PYTHON" -c 'import json, sys
print(json.load(sys.stdin)["parameters"]["digest"])'
}
nlines() { grep -c -- "$1" "$srv_log"; }
# reload: SIGHUP, then waits for the next event=reload line; prints it.
reload() {
	local before i
	before=$(nlines 'event=reload result=')
	kill -HUP "$srv_pid"
	for i in $(seq 1 400); do
		[ "$(nlines 'event=reload result=')" -gt "$before" ] && break
		sleep 0.05
	done
	grep 'event=reload result=' "$srv_log" | tail -n 1
}

case $AG_BUILD in
*/asan) seccomp=no ;;	# no filter in the sanitizer build, by design
*) seccomp=yes ;;
esac

# ---- each curve, each method: start, classify, reload, another signer ------

for kind in key certificate; do
	for c in $CURVES; do
		name="$kind $c"
		copy m
		sign "$work/m" $kind $c
		AG_MODEL=$work/m
		# shellcheck disable=SC2046
		server_start $(trust $kind $c)
		wl=$(grep 'proc=worker .*event=sandbox ' "$srv_log" | head -n 1)
		if grep -q 'proc=worker .*event=model_verify result=ok' \
		    "$srv_log" && [[ $wl == *mode=required* ]] &&
		    { [ $seccomp = no ] || [[ $wl == *active=*seccomp* ]]; }
		then
			pass "$name: confined aiguardd is ready, the model" \
			    "verified"
		else
			fail "$name: no verified model or no confined worker"
			server_log_tail 5
		fi
		d0=$(meta_digest)
		code=$(classify "$img" "$work/c.json")
		[ "$code" = 200 ] && pass "$name: classify 200" ||
		    fail "$name: classify $code"

		# Changed and signed again: the reload is taken and served.
		sed -i '1s/^/x/' "$work/m/labels.txt" || exit 99
		sign "$work/m" $kind $c
		line=$(reload)
		code=$(classify "$img" "$work/c.json")
		d1=$(meta_digest)
		if [[ $line == *result=ok* ]] && [ "$code" = 200 ] &&
		    [ -n "$d1" ] && [ "$d1" != "$d0" ]; then
			pass "$name: re-signed, SIGHUP reloads it and it serves"
		else
			fail "$name: reload '$line', classify $code, digest" \
			    "$d0 -> $d1"
			server_log_tail 5
		fi

		# Changed again and signed by another key (or CA): refused.
		sed -i '1s/^/y/' "$work/m/labels.txt" || exit 99
		sign "$work/m" $kind $c other
		line=$(reload)
		code=$(classify "$img" "$work/c.json")
		if [[ $line == *result=failed* ]] &&
		    grep 'event=model_verify result=failed' "$srv_log" |
		    tail -n 1 | grep -q 'verificationMaterial' &&
		    [ "$code" = 200 ] && [ "$(meta_digest)" = "$d1" ]; then
			pass "$name: signed by another, refused at reload;" \
			    "the old model serves"
		else
			fail "$name: another signer at reload: '$line'," \
			    "classify $code"
			server_log_tail 5
		fi
		server_stop
	done
done
AG_MODEL=$MODEL

# ---- another signer at start: refused once, no restart loop ----------------

# refused NAME MODEL TRUST...: aiguardd exits non-zero, one worker started
# and no restart, one line saying the signature did not verify.
refused() {
	local what=$1 m=$2 rc deaths
	shift 2
	timeout 60 "$AGD" --listen 127.0.0.1:0 --model "$m" "$@" \
	    </dev/null >"$work/r.out" 2>"$work/r.log"
	rc=$?
	deaths=$(grep -c 'event=child_exit child=worker' "$work/r.log")
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$deaths" -eq 1 ] &&
	    ! grep -q 'event=restart_scheduled' "$work/r.log" &&
	    [ "$(grep -c 'event=model_verify result=failed .*model.sig' \
	    "$work/r.log")" -eq 1 ]; then
		pass "$what: refused at start, one worker, no loop (exit $rc)"
	else
		fail "$what: exit $rc, $deaths worker death(s)"
		tail -n 5 "$work/r.log" | sed 's/^/    | /'
	fi
}
copy s
sign "$work/s" key P-384 other
# shellcheck disable=SC2046
refused "P-384 model of another key" "$work/s" $(trust key P-384)
copy s
sign "$work/s" certificate P-521 other
# shellcheck disable=SC2046
refused "P-521 chain of another CA" "$work/s" $(trust certificate P-521)
copy s
sign "$work/s" key P-521
# shellcheck disable=SC2046
refused "P-521 key signature against a CA" "$work/s" \
    $(trust certificate P-521)

# ---- the restart loop ------------------------------------------------------

# Not server_start: this aiguardd is meant to stop by itself, exit 1.
copy l
sign "$work/l" key P-384
llog=$work/loop.log
"$AGD" --listen 127.0.0.1:0 --model "$work/l" $(trust key P-384) \
    --set worker.max_start_failures=3 --set worker.restart_backoff_min_ms=50 \
    </dev/null >"$work/loop.out" 2>"$llog" &
lpid=$!
# ready N: waits (at most 20 s) for the Nth 'ready' of the front.
ready() {
	local i
	for i in $(seq 1 400); do
		[ "$(grep -c 'proc=front .*msg="ready model=' "$llog")" -ge "$1" ] &&
		    return 0
		sleep 0.05
	done
	return 1
}
loop_worker() {
	local d
	for d in /proc/[0-9]*; do
		[ "$(cut -d' ' -f4 "$d/stat" 2>/dev/null)" = "$lpid" ] &&
		    [ "$(cat "$d/comm" 2>/dev/null)" = aiguardd-worker ] &&
		    { echo "${d#/proc/}"; return 0; }
	done
	return 1
}
ok=1
ready 1 || ok=0
# A worker that was ready dies, four times (more than max_start_failures):
# each one is restarted, and each new one is ready.
for n in 2 3 4 5; do
	[ $ok = 1 ] && w=$(loop_worker) && kill -KILL "$w" && ready $n || ok=0
done
if [ $ok = 1 ] && kill -0 $lpid 2>/dev/null; then
	pass "a ready worker killed 4 times is restarted each time" \
	    "(max_start_failures 3)"
else
	fail "a ready worker that dies is not restarted"
	tail -n 5 "$llog" | sed 's/^/    | /'
fi
# Now no worker can be ready again: the model changed on disk.
sed -i '1s/^/x/' "$work/l/labels.txt" || exit 99
w=$(loop_worker) && kill -KILL "$w"
for i in $(seq 1 600); do
	kill -0 $lpid 2>/dev/null || break
	sleep 0.1
done
if kill -0 $lpid 2>/dev/null; then
	fail "aiguardd still restarting its worker after 60 s:" \
	    "$(grep -c 'event=child_exit child=worker' "$llog") deaths"
	kill -TERM $lpid
	sleep 2
	kill -KILL $lpid 2>/dev/null
	wait $lpid
	fail "no fatal line"
else
	wait $lpid
	rc=$?
	deaths=$(grep -c 'event=child_exit child=worker' "$llog")
	[ $rc -eq 1 ] && [ "$deaths" -eq 8 ] &&
	    pass "a worker never ready again: aiguardd exits 1 after 3" \
	    "tries" ||
	    fail "never ready: exit $rc after $deaths worker deaths, want" \
	    "1 after 8"
	f=$(grep 'level=fatal' "$llog")
	[ "$(grep -c 'level=fatal' "$llog")" -eq 1 ] &&
	    [[ $f == *event=worker_start_failed\ failures=3\ * ]] &&
	    [[ $f == *labels.txt:\ digest\ differs* ]] &&
	    pass "one fatal line names the cause: ${f#*cause=}" ||
	    { fail "the fatal line: '$f'"; tail -n 5 "$llog" | sed 's/^/    | /'; }
fi
finish
