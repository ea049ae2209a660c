#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-tampered-model.sh: models that are not what their owner signed.
#
# The attack: whoever can write a model directory (a copied model, a
# shared disk, a stolen or long-expired signing key) changes what the
# model answers.  What must hold, for aiguard classify, aiguard verify
# and aiguardd alike (issue 18, items 7, 9 and 12):
#   - a model whose labels.txt, config.json or model.safetensors changed
#     after signing is refused, naming the file, and no label is printed;
#   - a model re-signed by another key is refused by the trusted key and
#     accepted only with that other key given as the anchor (on the
#     command line or in aiguardd's configuration file);
#   - --allow-unsigned is the only way to skip the check, and it says so
#     on stderr at every run;
#   - a leaf certificate that expired in 2001 signing a model today is
#     refused by default (model.cert_validity = now, --require-valid-now),
#     and accepted with a warning only when the reference tool's check at
#     the leaf's notBefore is asked for (--cert-validity signing-time);
#   - an empty directory cannot be signed, and a signature over no file
#     (made here by hand, as an older signer wrote it) does not verify;
#   - an empty model.sig is refused in words, not in jansson's;
#   - a symbolic link out of the model is signed (when links are allowed)
#     only with a warning naming it.
# Bounded: CLI runs, aiguardd --check-config runs and one short aiguardd
# start (its end check is one more case).
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
AG=$AG_BUILD/bin/aiguard
AGD=$AG_BUILD/bin/aiguardd
[ -x "$AG" ] && [ -x "$AGD" ] || { echo "missing $AG or $AGD"; exit 99; }
[ -f "$AG_MODEL/model.sig" ] || { echo "missing signed $AG_MODEL"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 42
# run CMD...: stdout in $work/out, stderr in $work/err, status in $rc.
run() { "$@" >"$work/out" 2>"$work/err"; rc=$?; }
show() { sed 's/^/    | /' "$work/err" "$work/out" | head -n 8; }
# refused WHAT PATTERN: the last run failed, said PATTERN, printed nothing.
refused() {
	if [ "$rc" -ne 0 ] && grep -q -- "$2" "$work/err" &&
	    [ ! -s "$work/out" ]; then
		pass "$1"
	else
		fail "$1: rc=$rc, want a refusal matching: $2"; show
	fi
}
# drefused WHAT PATTERN: aiguardd --check-config (which prints the
# configuration on stdout) failed and said PATTERN.
drefused() {
	if [ "$rc" -ne 0 ] && grep -q -- "$2" "$work/err"; then
		pass "$1"
	else
		fail "$1: rc=$rc, want a refusal matching: $2"; show
	fi
}
# accepted WHAT: the last classify run succeeded with five classes.
accepted() {
	if [ "$rc" -eq 0 ] && [ "$(grep -c '^ *[0-9]\. ' "$work/out")" -eq 5 ]
	then
		pass "$1"
	else
		fail "$1: rc=$rc"; show
	fi
}
# fresh NAME: a copy of the signed default model as $work/NAME.
fresh() {
	rm -rf "${work:?}/$1" && cp -R "$AG_MODEL" "$work/$1" &&
	    chmod -R u+w "$work/$1" || exit 99
}

img=
for f in "$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png; do
	[ -f "$f" ] && { img=$f; break; }
done
[ -n "$img" ] || { echo "no sample image in $AG_TOP/samples"; exit 99; }
"$AG" keygen --out "$work/attacker" >/dev/null 2>&1 || exit 99
# The build tree's key, which signed $AG_MODEL (the sanitizer build uses
# the plain build's).
bkey=
for k in "$AG_BUILD/keys/aiguard-build.pub" \
    "$AG_BUILD/../keys/aiguard-build.pub"; do
	[ -f "$k" ] && { bkey=$k; break; }
done
[ -n "$bkey" ] || { echo "no build key next to $AG_BUILD"; exit 99; }

# ---- tampered files: classify refuses what verify refuses ----------------

fresh m
run "$AG" classify --model "$work/m" "$img"
accepted "an intact copy of the signed model classifies"
cp "$work/out" "$work/intact.out"

# The review's case: labels.txt edited in a copy of the model.
sed -i '1,1000s/.*/PWNED/' "$work/m/labels.txt"
run "$AG" verify "$work/m"
refused "verify: edited labels.txt" "m/labels.txt: digest differs"
run "$AG" classify --model "$work/m" "$img"
refused "classify: edited labels.txt is refused, naming it" \
    "m/labels.txt: digest differs"
grep -q PWNED "$work/out" "$work/err" &&
    fail "classify printed the tampered label" ||
    pass "classify: no tampered label printed"
run "$AG" classify --json --model "$work/m" "$img"
refused "classify --json: edited labels.txt is refused" "labels.txt"

fresh m
sed -i 's/"name": *"[^"]*"/"name": "evil"/' "$work/m/config.json"
cmp -s "$work/m/config.json" "$AG_MODEL/config.json" && exit 99
run "$AG" classify --model "$work/m" "$img"
refused "classify: edited config.json is refused, naming it" \
    "m/config.json: digest differs"

fresh m
# One byte near the end of the weights: the data, not the header.
sz=$(stat -c %s "$work/m/model.safetensors")
printf '\x5a' | dd of="$work/m/model.safetensors" bs=1 seek=$((sz - 17)) \
    conv=notrunc status=none || exit 99
run "$AG" classify --model "$work/m" "$img"
refused "classify: one changed byte of the weights is refused" \
    "m/model.safetensors: digest differs"
run "$AGD" --check-config --model "$work/m"
drefused "aiguardd: the same weights are refused" "model.safetensors"

fresh m
printf 'extra\n' >"$work/m/notes.txt"
run "$AG" classify --model "$work/m" "$img"
refused "classify: an added file is refused" "notes.txt: not in the signature"

fresh m
rm -f "$work/m/model.sig"
run "$AG" classify --model "$work/m" "$img"
refused "classify: an unsigned model is refused" "model.sig: missing"

# ---- another key ----------------------------------------------------------

fresh m
sed -i 's/.*/PWNED/' "$work/m/labels.txt"
"$AG" sign --key "$work/attacker.key" "$work/m" >/dev/null 2>&1 || exit 99
run "$AG" classify --model "$work/m" "$img"
refused "classify: a model re-signed by another key is refused" \
    "publicKey.hint"
run "$AGD" --check-config --model "$work/m"
drefused "aiguardd: the same model is refused" "publicKey.hint"
run "$AG" classify --verify-key "$work/attacker.pub" --model "$work/m" "$img"
accepted "classify --verify-key: that key is the anchor, it classifies"
printf '[model]\nverify_key = %s\n' "$bkey" \
    >"$work/good.conf"
printf '[model]\nverify_key = %s\n' "$work/attacker.pub" >"$work/evil.conf"
run "$AG" classify --config "$work/good.conf" --model "$work/m" "$img"
refused "classify --config: aiguardd's anchor refuses it" "publicKey.hint"
run "$AG" classify --config "$work/evil.conf" --model "$work/m" "$img"
accepted "classify --config: the file's anchor is used"
run "$AG" classify --config "$work/evil.conf" \
    --verify-key "$bkey" --model "$work/m" "$img"
refused "classify: --verify-key overrides the file" "publicKey.hint"

# ---- --allow-unsigned: the only way round, and loud ----------------------

run "$AG" classify --allow-unsigned --model "$work/m" "$img"
if [ $rc -eq 0 ] && grep -q PWNED "$work/out" &&
    grep -q "signature is NOT checked" "$work/err"; then
	pass "classify --allow-unsigned: runs, and warns on stderr"
else
	fail "classify --allow-unsigned: rc=$rc"; show
fi
run "$AG" classify --config "$work/good.conf" --allow-unsigned \
    --model "$work/m" "$img"
[ $rc -eq 0 ] && grep -q "NOT checked" "$work/err" &&
    pass "classify --allow-unsigned wins over the file's anchor" ||
    { fail "--allow-unsigned with --config: rc=$rc"; show; }
run "$AG" classify --allow-unsigned --verify-key "$work/attacker.pub" \
    --model "$work/m" "$img"
refused "classify: --allow-unsigned with an anchor is a usage error" \
    "give one of"
[ $rc -eq 2 ] && pass "  ... exit 2" || fail "  ... exit $rc, want 2"

# ---- a certificate that expired in 2001 ----------------------------------

# openssl comes from scripts/install-deps.  openssl ca sets any dates.
c=$work/ca
mkdir -p "$c/db" || exit 99
: >"$c/db/index.txt"
echo 01 >"$c/db/serial"
cat >"$c/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $c/db/index.txt
serial = $c/db/serial
new_certs_dir = $c/db
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
# mkcert NAME CN FROM TO EXT [selfsign]
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$c/$1.key" -out "$c/$1.csr" -subj "/CN=$2" \
	    >/dev/null 2>&1 || return 1
	local by=(-cert "$c/root.pem")
	[ "${6:-}" = selfsign ] && by=(-selfsign)
	openssl ca -batch -notext -config "$c/ca.cnf" -keyfile "$c/root.key" \
	    -in "$c/$1.csr" -extensions "$5" -startdate "$3" -enddate "$4" \
	    -out "$c/$1.pem" "${by[@]}" >/dev/null 2>&1
}
mkcert root test-old-root 19990101000000Z 20991231000000Z v3_ca selfsign &&
    mkcert leaf test-expired-leaf 20000101000000Z 20010101000000Z v3_leaf ||
    { echo "openssl could not make the certificates"; exit 99; }
fresh x
"$AG" sign --key "$c/leaf.key" --cert "$c/leaf.pem" "$work/x" \
    >/dev/null 2>&1 || { echo "sign with the expired leaf"; exit 99; }
run "$AG" verify --ca "$c/root.pem" "$work/x"
refused "verify: a leaf expired in 2001 is refused (the default: now)" \
    "certificate has expired"
run "$AG" verify --ca "$c/root.pem" --require-valid-now "$work/x"
refused "verify --require-valid-now: refused" "certificate has expired"
run "$AG" verify --ca "$c/root.pem" --cert-validity signing-time "$work/x"
if [ $rc -eq 0 ] && grep -q "verified" "$work/out" &&
    grep -q "WARNING: the chain is not valid now" "$work/err"; then
	pass "verify --cert-validity signing-time: the reference's check," \
	    "with a warning"
else
	fail "verify --cert-validity signing-time: rc=$rc"; show
fi
run "$AG" verify --ca "$c/root.pem" --cert-validity signing-time \
    --require-valid-now "$work/x"
[ $rc -eq 2 ] && pass "verify: the two flags disagreeing is a usage error" ||
    { fail "verify with both flags: rc=$rc"; show; }
run "$AG" verify --ca "$c/root.pem" --cert-validity yesterday "$work/x"
[ $rc -eq 2 ] && grep -q "now or signing-time" "$work/err" &&
    pass "verify --cert-validity: a bad mode is a usage error" ||
    { fail "verify --cert-validity yesterday: rc=$rc"; show; }
run "$AG" classify --verify-ca "$c/root.pem" --model "$work/x" "$img"
refused "classify: the expired leaf is refused" "certificate has expired"
run "$AG" classify --verify-ca "$c/root.pem" --cert-validity signing-time \
    --model "$work/x" "$img"
accepted "classify --cert-validity signing-time: accepted"
grep -q "not valid now" "$work/err" &&
    pass "  ... with a warning on stderr" || fail "  ... no warning"
run "$AGD" --check-config --verify-ca "$c/root.pem" --model "$work/x"
drefused "aiguardd: the expired leaf is refused" "certificate has expired"
"$AGD" --check-config --verify-ca "$c/root.pem" --model "$work/x" \
    --set model.cert_validity=signing-time >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 0 ] && grep -q "^cert_validity = signing-time" "$work/out" &&
    grep -q "WARNING: the chain is not valid now" "$work/err" &&
    pass "aiguardd model.cert_validity = signing-time: accepted, warned" ||
    { fail "aiguardd signing-time: rc=$rc"; show; }
printf '[model]\ncert_validity = signing-time\n' >"$work/old.conf"
run "$AGD" --check-config --config "$work/old.conf" --require-valid-now \
    --verify-ca "$c/root.pem" --model "$work/x"
drefused "aiguardd --require-valid-now overrides the file" "has expired"
# Served at signing time: the worker says, at warn, what it let in.
AG_MODEL_SAVED=$AG_MODEL
AG_MODEL=$work/x
server_start --verify-ca "$c/root.pem" --cert-validity signing-time
grep -q 'level=warn .*event=model_verify result=ok .*the chain is not valid now' \
    "$srv_log" && pass "aiguardd serving at signing time: a warning logged" ||
    { fail "aiguardd signing-time: no warning in the log"; server_log_tail; }
server_stop
AG_MODEL=$AG_MODEL_SAVED

# ---- an empty directory, a signature over nothing, an empty model.sig ----

mkdir "$work/empty" || exit 99
run "$AG" sign --key "$work/attacker.key" "$work/empty"
refused "sign: an empty directory is refused" "nothing to sign"
[ ! -e "$work/empty/model.sig" ] && pass "  ... and no model.sig written" ||
    fail "  ... a model.sig was written"

# What an older signer wrote for an empty directory: resources [], signed
# by the attacker's key (the DSSE PAE signed by openssl).
mkdir "$work/one" && printf 'x' >"$work/one/f" || exit 99
"$AG" sign --key "$work/attacker.key" "$work/one" >/dev/null 2>&1 || exit 99
"$PYTHON" - "$work/one/model.sig" "$work/pae" <<'EOF' || exit 99
import base64, hashlib, json, sys
b = json.load(open(sys.argv[1]))
st = {"_type": "https://in-toto.io/Statement/v1",
      "subject": [{"name": "empty", "digest": {
          "sha256": hashlib.sha256(b"").hexdigest()}}],
      "predicateType": "https://model_signing/signature/v1.0",
      "predicate": {"serialization": {"method": "files",
                    "hash_type": "sha256", "allow_symlinks": False,
                    "ignore_paths": []}, "resources": []}}
p = json.dumps(st).encode()
t = b["dsseEnvelope"]["payloadType"].encode()
open(sys.argv[2], "wb").write(b"DSSEv1 %d %s %d %s" % (len(t), t, len(p), p))
b["dsseEnvelope"]["payload"] = base64.b64encode(p).decode()
json.dump(b, open(sys.argv[1] + ".tmpl", "w"))
EOF
openssl dgst -sha256 -sign "$work/attacker.key" -out "$work/pae.sig" \
    "$work/pae" || exit 99
"$PYTHON" - "$work/one/model.sig.tmpl" "$work/pae.sig" \
    "$work/empty/model.sig" <<'EOF' || exit 99
import base64, json, sys
b = json.load(open(sys.argv[1]))
b["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(
    open(sys.argv[2], "rb").read()).decode()
json.dump(b, open(sys.argv[3], "w"))
EOF
run "$AG" verify --key "$work/attacker.pub" "$work/empty"
refused "verify: a signature over no file is refused" \
    "resources: empty: the signature covers no file"

fresh m
: >"$work/m/model.sig"
run "$AG" verify "$work/m"
refused "verify: an empty model.sig is refused in words" \
    "model.sig: empty file (0 bytes): not a signature"
grep -q "wrong arguments" "$work/err" &&
    fail "  ... jansson's words leak" || pass "  ... not jansson's words"
run "$AG" classify --model "$work/m" "$img"
refused "classify: an empty model.sig is refused" "empty file (0 bytes)"

# ---- symbolic links out of the model --------------------------------------

mkdir "$work/ln" && printf 'w' >"$work/ln/weights" &&
    printf 'secret' >"$work/outside" &&
    ln -s weights "$work/ln/inside-link" &&
    ln -s "$work/outside" "$work/ln/outside-link" || exit 99
run "$AG" sign --key "$work/attacker.key" --allow-symlinks "$work/ln"
if [ $rc -eq 0 ] && grep -q "WARNING: .*ln/outside-link is a symbolic link to .*outside, outside the model directory" "$work/err" &&
    ! grep -q "inside-link" "$work/err"; then
	pass "sign --allow-symlinks: a link out of the model is warned about"
else
	fail "sign --allow-symlinks, outside link: rc=$rc"; show
fi
run "$AG" verify --key "$work/attacker.pub" "$work/ln"
[ $rc -eq 0 ] && pass "  ... and the signature verifies (links allowed)" ||
    { fail "verify of the linked model: rc=$rc"; show; }

finish
