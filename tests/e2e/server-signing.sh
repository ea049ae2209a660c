#!/bin/bash
# SPDX-License-Identifier: ISC
#
# server-signing.sh: aiguardd serves only models whose signature verifies.
#
# The default model, signed at build time, loads with no flag and its
# digest and signer show in the metadata, the log and /metrics.  A model
# tampered with, unsigned, or signed by another key does not start; with
# no trust anchor at all (a binary outside the build tree) aiguardd refuses
# to start unless --allow-unsigned, which it logs loudly.  Then the store:
# deploy v2 while the server is under load (no request fails, the answers
# switch to v2), deploy a tampered v3 (refused, v2 keeps serving), and a
# version changed on disk behind aiguard's back is refused at reload (log
# and metric) while the model in memory keeps serving.  Last, every file
# of the model in turn (model.safetensors, config.json and labels.txt
# changed, a file added, one removed, one renamed; each still valid for
# the loader, so that only the signature check can refuse it), signed
# with the build key and with a leaf + intermediate chain made by the
# openssl command: aiguardd refuses to start, naming the file and why,
# and on SIGHUP refuses the reload the same way while the old model
# keeps serving; the untampered copy then reloads.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Needs curl and openssl.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
AGD=$AG_BUILD/bin/aiguardd
AG=$AG_BUILD/bin/aiguard
GEN=$AG_TOP/build/bin/gen-weights
KEY=$AG_TOP/build/keys/aiguard-build
for f in "$AGD" "$AG" "$GEN" "$KEY.key" "$KEY.pub" "$AG_MODEL/model.sig"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "FAIL curl missing (scripts/install-deps)"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 64

img=$(ls "$AG_TOP"/samples/*.jpg | head -n 1)

# meta FIELD: a field of GET /v2/models/resnet18 (parameters.FIELD, or
# "versions" joined with spaces).
meta() {
	curl -s "$base/v2/models/resnet18" | "$PYTHON" -c 'import json, sys
m = json.load(sys.stdin); k = sys.argv[1]
print(" ".join(m["versions"]) if k == "versions" else
      str(m["parameters"][k]).lower() if isinstance(m["parameters"][k], bool)
      else m["parameters"][k])' "$1"
}
# start_fails WHAT PATTERN ARGS...: aiguardd must exit non-zero at start
# with PATTERN in its log.
start_fails() {
	local what=$1 pat=$2 rc
	shift 2
	timeout 30 "$@" --listen 127.0.0.1:0 >"$work/sf.out" 2>"$work/sf.err" \
	    </dev/null
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q -- "$pat" "$work/sf.err"; then
		pass "$what: refused (exit $rc)"
	else
		fail "$what: rc=$rc, no '$pat' in the log"
		tail -n 5 "$work/sf.err" | sed 's/^/    | /'
	fi
}

# ---- the default model: signed at build time, trusted from the tree -------

"$AG" classify --json --top 5 --model "$AG_MODEL" "$img" >"$work/v1.json" ||
    exit 99
server_start
grep -q 'event=signatures state=required from="build tree"' "$srv_log" &&
    pass "the build tree's key is the anchor by default" ||
    fail "no event=signatures line for the build key"
grep -q 'event=model_verify result=ok .*digest=sha256:[0-9a-f]\{64\}' \
    "$srv_log" && pass "the log has the verified digest and signer" ||
    fail "no event=model_verify result=ok line"
[ "$(meta verified)" = true ] && pass "metadata: verified true" ||
    fail "metadata verified: $(meta verified)"
d1=$(meta digest)
case $d1 in
sha256:????????????????????????????????????????????????????????????????)
	pass "metadata: digest $d1" ;;
*)	fail "metadata digest: '$d1'" ;;
esac
want=$("$AG" verify --key "$KEY.pub" "$AG_MODEL" | grep -o 'sha256:[0-9a-f]*' |
    head -n 1)
[ "$d1" = "$want" ] && pass "the digest is the one aiguard verify reports" ||
    fail "digest $d1, aiguard verify says $want"
case $(meta signer) in
"key sha256:"*) pass "metadata: signer $(meta signer)" ;;
*)		fail "metadata signer: '$(meta signer)'" ;;
esac
[ "$(curl -s "$base/metrics" | grep -c '^aiguard_model_verified{.*} 1$')" = 1 ] &&
    pass "/metrics: aiguard_model_verified 1" ||
    fail "/metrics: model not verified"
server_stop

# ---- what does not start ---------------------------------------------------

cp -r "$AG_MODEL" "$work/tampered"
printf 'x' | dd of="$work/tampered/labels.txt" bs=1 seek=3 conv=notrunc \
    2>/dev/null
start_fails "a label changed after signing" 'labels.txt' \
    "$AGD" --model "$work/tampered"
cp -r "$AG_MODEL" "$work/unsigned"
rm "$work/unsigned/model.sig"
start_fails "an unsigned model" 'model.sig.*not signed' \
    "$AGD" --model "$work/unsigned"
"$AG" keygen --out "$work/other" >/dev/null || exit 99
start_fails "a model checked against another key" 'model.sig' \
    "$AGD" --model "$AG_MODEL" --verify-key "$work/other.pub"
start_fails "a key file that is not a key" "$work/tampered/labels.txt" \
    "$AGD" --model "$AG_MODEL" --verify-key "$work/tampered/labels.txt"

# Outside the build tree there is no default anchor.
mkdir -p "$work/elsewhere/bin"
cp "$AGD" "$work/elsewhere/bin/aiguardd"
start_fails "no anchor outside the build tree" 'no trust anchor' \
    "$work/elsewhere/bin/aiguardd" --model "$AG_MODEL"
AGD_SAVED=$AGD
AGD=$work/elsewhere/bin/aiguardd
server_start --verify-key "$KEY.pub"
[ "$(meta verified)" = true ] && pass "--verify-key PUB: verified" ||
    fail "--verify-key: verified $(meta verified)"
server_stop
AG_MODEL_SAVED=$AG_MODEL
AG_MODEL=$work/unsigned
server_start --allow-unsigned
grep -q 'level=warn .*event=signatures state=off' "$srv_log" &&
    pass "--allow-unsigned is logged as a warning" ||
    fail "no warning for --allow-unsigned"
[ "$(meta verified)" = false ] && pass "--allow-unsigned: verified false" ||
    fail "--allow-unsigned: verified $(meta verified)"
server_stop
AGD=$AGD_SAVED
AG_MODEL=$AG_MODEL_SAVED

# ---- the store: deploy under load, a tampered deploy, a tampered store -----

store=$work/store
"$AG" deploy --key "$KEY.pub" --store "$store" --no-reload "$AG_MODEL" resnet18 \
    >"$work/d1.out" 2>&1 || { fail "deploy v1"; cat "$work/d1.out"; }
"$GEN" --arch resnet18 --seed 2 --out "$work/v2" >/dev/null || exit 99
"$AG" sign --key "$KEY.key" "$work/v2" >/dev/null || exit 99
"$AG" classify --json --top 5 --model "$work/v2" "$img" >"$work/v2.json" ||
    exit 99

AG_MODEL=$store/resnet18/current
server_start --pid-file "$work/aiguardd.pid"
[ "$(meta versions)" = 1 ] && [ "$(meta digest)" = "$d1" ] &&
    pass "serving store version 1" ||
    fail "store v1: versions $(meta versions), digest $(meta digest)"

# Load: 2 clients until told to stop, each status on a line.
load() {
	while [ ! -e "$work/stop" ]; do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Content-Type: image/jpeg" \
		    --data-binary @"$img" "$base/v2/models/resnet18/classify" \
		    >>"$work/load.$1"
	done
}
load a & la=$!
load b & lb=$!
sleep 1
"$AG" deploy --key "$KEY.pub" --store "$store" --pid-file "$work/aiguardd.pid" \
    "$work/v2" resnet18 >"$work/d2.out" 2>&1 ||
    { fail "deploy v2"; cat "$work/d2.out"; }
wait_log 'event=reload result=ok' 20 &&
    pass "deploy v2 made aiguardd reload" || fail "no reload after deploy v2"
sleep 1
touch "$work/stop"
wait $la $lb
total=$(cat "$work"/load.* | wc -l)
bad=$(cat "$work"/load.* | grep -vc '^200$')
[ "$total" -gt 10 ] && [ "$bad" -eq 0 ] &&
    pass "under load through the deploy: $total requests, none failed" ||
    fail "under load: $bad of $total requests failed"
[ "$(meta versions)" = 2 ] && [ "$(meta digest)" != "$d1" ] &&
    pass "metadata now says version 2, digest $(meta digest)" ||
    fail "after deploy: versions $(meta versions), digest $(meta digest)"
code=$(classify "$img" "$work/h2.json")
[ "$code" = 200 ] && same_top5 "$work/h2.json" "$work/v2.json" &&
    pass "the answers are v2's" || fail "after deploy v2: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: image/jpeg" \
    --data-binary @"$img" "$base/v2/models/resnet18/versions/2/classify")
[ "$code" = 200 ] && pass "/v2/models/resnet18/versions/2 serves" ||
    fail "versions/2: $code"
d2=$(meta digest)

# A tampered v3 never reaches the store.
cp -r "$work/v2" "$work/v3"
printf '\1' | dd of="$work/v3/model.safetensors" bs=1 seek=100000 \
    conv=notrunc 2>/dev/null
before=$(ls -A "$store/resnet18"; readlink "$store/resnet18/current")
if "$AG" deploy --key "$KEY.pub" --store "$store" --pid-file "$work/aiguardd.pid" \
    "$work/v3" resnet18 >"$work/d3.out" 2>&1; then
	fail "a tampered v3 was deployed"
else
	grep -q model.safetensors "$work/d3.out" &&
	    pass "deploy of a tampered v3 refused, naming model.safetensors" ||
	    { fail "deploy v3: no file named"; cat "$work/d3.out"; }
fi
after=$(ls -A "$store/resnet18"; readlink "$store/resnet18/current")
[ "$before" = "$after" ] && pass "the store is as it was" ||
    fail "the store changed: $before / $after"
[ "$(meta digest)" = "$d2" ] && pass "v2 keeps serving" ||
    fail "after v3: digest $(meta digest)"

# Someone with write access changes the served version on disk: the next
# reload refuses it, the model in memory keeps serving.
chmod -R u+w "$store/resnet18/2"
printf 'y' | dd of="$store/resnet18/2/labels.txt" bs=1 seek=2 conv=notrunc \
    2>/dev/null
kill -HUP "$srv_pid"
wait_log 'event=reload result=failed' 20 &&
    pass "a reload of the altered version is refused" ||
    fail "no failed reload logged"
grep -q 'event=model_verify result=failed .*labels.txt' "$srv_log" &&
    pass "the log names labels.txt" || fail "no model_verify failure naming labels.txt"
[ "$(metric 'aiguard_model_verification_failures_total{model="resnet18"}')" = 1 ] &&
    pass "/metrics: aiguard_model_verification_failures_total 1" ||
    fail "verification failures: $(metric 'aiguard_model_verification_failures_total{model="resnet18"}')"
code=$(classify "$img" "$work/h3.json")
[ "$code" = 200 ] && same_top5 "$work/h3.json" "$work/v2.json" &&
    [ "$(meta digest)" = "$d2" ] &&
    pass "the verified v2 in memory keeps serving" ||
    fail "after the refused reload: $code"
server_stop

# ---- every file of the model, key and certificate methods ------------------

# A chain made with the openssl command: root CA, intermediate CA, leaf.
command -v openssl >/dev/null || { echo "missing openssl"; exit 99; }
c=$work/ca
mkdir "$c" || exit 99
ossl() {
	openssl "$@" >>"$c/log" 2>&1 ||
	    { echo "openssl $1 failed"; tail -n 5 "$c/log"; exit 99; }
}
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$c/root.key" -out "$c/root.pem" -days 30 -subj /CN=test-root \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign
# issue NAME ISSUER EXTENSION...: a P-256 key and its certificate.
issue() {
	local n=$1 i=$2
	shift 2
	printf '%s\n' "$@" >"$c/$n.ext"
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$c/$n.key" -out "$c/$n.csr" -subj "/CN=test-$n"
	ossl x509 -req -in "$c/$n.csr" -CA "$c/$i.pem" -CAkey "$c/$i.key" \
	    -CAcreateserial -days 10 -extfile "$c/$n.ext" -out "$c/$n.pem"
}
issue inter root basicConstraints=critical,CA:TRUE \
    keyUsage=critical,keyCertSign
issue leaf inter basicConstraints=CA:FALSE keyUsage=critical,digitalSignature \
    extendedKeyUsage=codeSigning
cat "$c/leaf.pem" "$c/inter.pem" >"$c/chain.pem" || exit 99

good_key=$work/good-key
good_cert=$work/good-cert
cp -r "$AG_MODEL_SAVED" "$good_key" && cp -r "$AG_MODEL_SAVED" "$good_cert" &&
    chmod -R u+w "$good_key" "$good_cert" && rm "$good_cert/model.sig" ||
    exit 99
"$AG" sign --key "$c/leaf.key" --cert "$c/chain.pem" "$good_cert" \
    >/dev/null || exit 99
"$AG" verify --ca "$c/root.pem" "$good_cert" >"$work/vc.out" 2>&1 &&
    grep -q 'signer CN=test-leaf' "$work/vc.out" &&
    pass "a copy signed with leaf + intermediate verifies against the root" ||
    { fail "the certificate-signed copy does not verify"; cat "$work/vc.out"; }

CASES="weights config labels extra removed renamed"
# tamper DIR CASE: one change to the model in DIR; the files stay valid
# for the loader, so only the signature check can refuse them.
tamper() {
	local b
	case $2 in
	weights)
		b=$(od -An -tu1 -j 100000 -N 1 "$1/model.safetensors") &&
		printf "\\$(printf %o $((b ^ 1)))" |
		    dd of="$1/model.safetensors" bs=1 seek=100000 \
		    conv=notrunc 2>/dev/null ;;
	config)	sed -i 's/"resize": 256/"resize": 255/' "$1/config.json" &&
		grep -q '"resize": 255' "$1/config.json" ;;
	labels)	sed -i '1s/^/x/' "$1/labels.txt" ;;
	extra)	echo extra >"$1/extra.bin" ;;
	removed) rm "$1/labels.txt" ;;
	renamed) mv "$1/config.json" "$1/config.json.orig" ;;
	esac || exit 99
}
# why CASE: what the refusal must say (a grep pattern).
why() {
	case $1 in
	weights) echo 'model.safetensors: digest differs from the signed one' ;;
	config)	echo 'config.json: digest differs from the signed one' ;;
	labels)	echo 'labels.txt: digest differs from the signed one' ;;
	extra)	echo 'extra.bin: not in the signature' ;;
	removed) echo 'labels.txt: signed but missing' ;;
	renamed) echo 'config.json: signed but missing;' \
		    'config.json.orig: not in the signature' ;;
	esac
}
# nlines PATTERN: how many lines of the server log match.
nlines() { grep -c -- "$1" "$srv_log"; }

for method in key certificate; do
	if [ $method = key ]; then
		good=$good_key trust=(--verify-key "$KEY.pub")
	else
		good=$good_cert trust=(--verify-ca "$c/root.pem")
	fi
	# At start: aiguardd exits, the log says which file and why.
	for t in $CASES; do
		rm -rf "$work/t" && cp -r "$good" "$work/t" || exit 99
		tamper "$work/t" $t
		start_fails "$method, at start: $t" \
		    "event=model_verify result=failed .*$(why $t)" \
		    "$AGD" --model "$work/t" "${trust[@]}"
	done
	# At reload (SIGHUP): refused with the reason, the model in memory
	# keeps serving; the untampered copy then reloads.
	live=$work/live
	rm -rf "$live" && cp -r "$good" "$live" || exit 99
	AG_MODEL=$live
	server_start "${trust[@]}"
	d0=$(meta digest)
	n=0
	for t in $CASES; do
		tamper "$live" $t
		n=$((n + 1))
		before=$(nlines 'event=reload result=')
		kill -HUP "$srv_pid"
		for i in $(seq 1 200); do
			[ "$(nlines 'event=reload result=')" -gt "$before" ] &&
			    break
			sleep 0.1
		done
		code=$(classify "$img" "$work/r.json")
		if grep 'event=reload result=' "$srv_log" | tail -n 1 |
		    grep -q 'result=failed' &&
		    grep 'event=model_verify result=failed' "$srv_log" |
		    tail -n 1 | grep -q -- "$(why $t)" &&
		    [ "$code" = 200 ] && [ "$(meta digest)" = "$d0" ]; then
			pass "$method, at reload: $t refused," \
			    "the old model serves"
		else
			fail "$method, at reload: $t: no refusal naming" \
			    "'$(why $t)', or classify $code," \
			    "digest $(meta digest)"
			server_log_tail 3
		fi
		# In place: the worker's Landlock rule holds the directory
		# itself, a new one at the same path is out of its reach.
		rm -rf "${live:?}"/* && cp -r "$good"/. "$live" || exit 99
	done
	[ "$(metric 'aiguard_model_verification_failures_total{model="resnet18"}')" = $n ] &&
	    pass "$method: /metrics counts $n verification failures" ||
	    fail "$method: verification failures" \
	    "$(metric 'aiguard_model_verification_failures_total{model="resnet18"}'), want $n"
	kill -HUP "$srv_pid"
	wait_log "event=reload result=ok" 20 &&
	    [ "$(meta digest)" = "$d0" ] &&
	    pass "$method: the untampered model reloads" ||
	    fail "$method: no reload of the untampered model"
	server_stop || fail "$method: aiguardd exit status $? at stop"
done
finish
