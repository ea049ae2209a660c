#!/bin/bash
# SPDX-License-Identifier: ISC
#
# doctor.sh: aiguard doctor against scratch trees (--root): a good one,
# which must give no FAIL (SELinux is off on the test host: a WARN), and
# broken ones, each of which must FAIL the check that names its fault:
# a world-readable store file, a store file of another group, a
# group-writable one, a private key in /etc/aiguard/keys (by name and by
# content), a group-writable configuration, sandbox.mode = off.  --json
# must agree with the lines; a hostile file name must come out escaped;
# and against a live aiguardd, doctor must report the layers /v2 lists.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL.
# Exit codes: 0 pass, 1 fail, 77 skip (not root), 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
AG=$AG_BUILD/bin/aiguard
[ -x "$AG" ] || { echo "missing $AG"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 38
# The good tree's files must be root's, as an installed system's are.
[ "$(id -u)" -eq 0 ] ||
    skip_all not-root "the scratch trees need root-owned files"
command -v systemd-analyze >/dev/null ||
    { echo "systemd-analyze missing (scripts/install-deps)"; exit 99; }
grp=$(id -gn)
other=nogroup
getent group "$other" >/dev/null || { echo "no group $other"; exit 99; }

"$AG" keygen --out "$work/k" >/dev/null 2>&1 || { echo "keygen"; exit 99; }

# mkgood DIR: an installed layout below DIR, as make install and aiguard
# deploy leave it.
mkgood() {
	local r=$1
	mkdir -p "$r/etc/aiguard/keys" "$r/var/lib/aiguard/models/m/1" \
	    "$r/run/aiguard" "$r/usr/lib/systemd/system" || exit 99
	cp "$AG_TOP/policy/systemd/aiguardd.service" \
	    "$r/usr/lib/systemd/system/aiguardd.service" || exit 99
	cat >"$r/etc/aiguard/aiguardd.conf" <<-EOF
	[server]
	listen = 127.0.0.1:1
	[model]
	verify_key = $r/etc/aiguard/keys/k.pub
	[sandbox]
	mode = required
	user = nobody
	group = $grp
	EOF
	cp "$work/k.pub" "$r/etc/aiguard/keys/k.pub"
	echo weights >"$r/var/lib/aiguard/models/m/1/model.safetensors"
	echo '{}' >"$r/var/lib/aiguard/models/m/1/model.sig"
	ln -s 1 "$r/var/lib/aiguard/models/m/current"
	chmod 0644 "$r/etc/aiguard/aiguardd.conf" "$r/etc/aiguard/keys/k.pub"
	chmod 0755 "$r/etc/aiguard" "$r/etc/aiguard/keys"
	find "$r/var/lib/aiguard/models" -type d -exec chmod 0750 {} +
	find "$r/var/lib/aiguard/models" -type f -exec chmod 0640 {} +
	chgrp -R -h "$grp" "$r/var/lib/aiguard/models"
}

# doc DIR [ARGS...]: doctor on DIR; lines in $work/out, status in $rc.
doc() {
	local r=$1
	shift
	"$AG" doctor --root "$r" "$@" >"$work/out" 2>"$work/err"
	rc=$?
}
show() { sed 's/^/    | /' "$work/out" | head -n 40; }

# broken NAME CHECK REGEX: the tree $work/NAME (made by the caller) must
# exit 1 with a FAIL line of CHECK matching REGEX.
broken() {
	doc "$work/$1"
	if [ $rc -eq 1 ] && grep -Eq "^FAIL  $2 +.*$3" "$work/out"; then
		pass "$1: FAIL $2"
	else
		fail "$1: rc=$rc, no FAIL $2 matching $3"; show
	fi
}
copy() { cp -a "$work/good" "$work/$1" || exit 99; }

# ==== The good tree =======================================================

mkgood "$work/good"
doc "$work/good"
if [ $rc -eq 0 ] && ! grep -q '^FAIL' "$work/out"; then
	pass "good tree: exit 0, no FAIL"
else
	fail "good tree: rc=$rc"; show
fi
if [ -e /sys/fs/selinux/enforce ]; then
	grep -Eq '^(PASS|WARN)  selinux ' "$work/out" &&
	    pass "selinux: reported" || { fail "selinux line"; show; }
else
	grep -Eq '^WARN  selinux +SELinux is disabled; .*still apply' \
	    "$work/out" && pass "selinux: disabled is a WARN" ||
	    { fail "selinux: no WARN for disabled"; show; }
fi
for c in config config-perms store keys private-keys sandbox-user \
    sandbox-mode listen; do
	grep -Eq "^PASS  $c " "$work/out" && pass "good tree: PASS $c" ||
	    { fail "good tree: no PASS $c"; show; }
done
grep -Eq '^PASS  systemd-exposure +.*aiguardd.service: exposure [0-9.]+ ' \
    "$work/out" && pass "good tree: the unit's exposure scored" ||
    { fail "good tree: no exposure score"; show; }
grep -Eq '^WARN  aiguardd-layers +no pid file .*unreachable' "$work/out" &&
    pass "good tree: no daemon is a WARN" ||
    { fail "good tree: daemon line"; show; }
# Every WARN and FAIL has a fix line under it.
awk '/^(WARN|FAIL)  / { w = 1; next }
    w && !/^      fix: ./ { bad = 1 } { w = 0 } END { exit bad }' \
    "$work/out" && pass "every WARN has a fix line" ||
    { fail "a WARN or FAIL without a fix"; show; }

# ==== Broken trees ========================================================

copy worldread
chmod 0644 "$work/worldread/var/lib/aiguard/models/m/1/model.safetensors"
broken worldread store 'model\.safetensors: .* 0644, readable by everyone'

copy othergroup
chgrp "$other" "$work/othergroup/var/lib/aiguard/models/m/1/model.sig"
broken othergroup store "model\.sig: .*, group is not the daemon's $grp"

copy groupwrite
chmod 0660 "$work/groupwrite/var/lib/aiguard/models/m/1/model.sig"
broken groupwrite store 'model\.sig: .* 0660, writable by its group'

copy privkey
cp "$work/k.key" "$work/privkey/etc/aiguard/keys/signer.key"
broken privkey private-keys 'keys/signer\.key: a PEM private key'

# By content, under a harmless name, in the store.
copy privpem
cp "$work/k.key" "$work/privpem/var/lib/aiguard/models/m/1/notes.txt"
chmod 0640 "$work/privpem/var/lib/aiguard/models/m/1/notes.txt"
broken privpem private-keys 'm/1/notes\.txt: a PEM private key'

copy keyowner
chmod 0664 "$work/keyowner/etc/aiguard/keys/k.pub"
broken keyowner keys 'k\.pub: .* 0664, writable by its group'

copy confwrite
chmod 0664 "$work/confwrite/etc/aiguard/aiguardd.conf"
broken confwrite config-perms 'aiguardd\.conf: .* 0664, writable by its group'

copy modeoff
sed -i 's/^mode = required/mode = off/' "$work/modeoff/etc/aiguard/aiguardd.conf"
broken modeoff sandbox-mode 'sandbox\.mode = off'

copy besteffort
sed -i 's/^mode = required/mode = best-effort/' \
    "$work/besteffort/etc/aiguard/aiguardd.conf"
doc "$work/besteffort"
[ $rc -eq 0 ] && grep -Eq '^WARN  sandbox-mode +sandbox\.mode = best-effort' \
    "$work/out" && pass "best-effort: WARN, exit 0" ||
    { fail "best-effort: rc=$rc"; show; }

# The front door's secrets: the token file and the TLS key, root's and
# readable by the daemon's group only; the key is not a stray private key.
mkdoor() {	# NAME TOKENS_MODE KEY_MODE
	copy "$1"
	local r=$work/$1
	mkdir -p "$r/etc/aiguard/auth" "$r/etc/aiguard/tls" || exit 99
	"$AG" token add --file "$r/etc/aiguard/auth/tokens" --group "$grp" t \
	    --scopes infer >/dev/null 2>&1 || exit 99
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$r/etc/aiguard/tls/server.key" 2>/dev/null &&
	openssl req -x509 -new -key "$r/etc/aiguard/tls/server.key" \
	    -subj /CN=localhost -days 30 -out "$r/etc/aiguard/tls/server.crt" \
	    2>/dev/null || exit 99
	chmod "$2" "$r/etc/aiguard/auth/tokens"
	chmod "$3" "$r/etc/aiguard/tls/server.key"
	chmod 0644 "$r/etc/aiguard/tls/server.crt"
	sed -i "s|^listen = .*|&\\ntokens = $r/etc/aiguard/auth/tokens\\ntls_cert = $r/etc/aiguard/tls/server.crt\\ntls_key = $r/etc/aiguard/tls/server.key|" \
	    "$r/etc/aiguard/aiguardd.conf"
}
mkdoor door 0640 0640
doc "$work/door"
if [ $rc -eq 0 ] && grep -Eq '^PASS  tokens-file +server\.tokens .*root.s, mode 0640' \
    "$work/out" && grep -Eq '^PASS  tls-key +server\.tls_key .*mode 0640' \
    "$work/out" && grep -Eq '^PASS  private-keys ' "$work/out"; then
	pass "front door: token file and TLS key 0640 root: PASS, the key not a stray one"
else
	fail "front door: rc=$rc"; show
fi
mkdoor doorread 0644 0640
broken doorread tokens-file 'server\.tokens .*mode 0644: readable by every user'
mkdoor doorkey 0640 0604
broken doorkey tls-key 'server\.tls_key .*mode 0604: readable by every user'

# ==== --json ==============================================================

# counts STATUS: lines of that status in $work/out.
counts() { grep -c "^$1  " "$work/out"; }
for t in good worldread; do
	doc "$work/$t"
	want="$(counts PASS) $(counts WARN) $(counts FAIL) $(grep -c '^[A-Z]\{4\}  ' "$work/out")"
	"$AG" doctor --root "$work/$t" --json >"$work/json" 2>/dev/null
	jrc=$?
	got=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["checks"]
assert all(set(x) == {"name", "status", "evidence", "fix"} for x in c)
n = lambda s: sum(1 for x in c if x["status"] == s)
s = d["summary"]
assert (s["pass"], s["warn"], s["fail"]) == (n("PASS"), n("WARN"), n("FAIL"))
print(s["pass"], s["warn"], s["fail"], len(c))' "$work/json" 2>&1)
	[ "$got" = "$want" ] && [ $jrc -eq $rc ] &&
	    pass "--json $t: parses, counts $got as the lines, exit $jrc" ||
	    { fail "--json $t: '$got' vs lines '$want', exit $jrc/$rc"; }
done

# ==== Exit status and usage ===============================================

"$AG" doctor --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pass "unknown option: exit 2" || fail "unknown option"
"$AG" doctor --root "$work/good" extra >/dev/null 2>&1
[ $? -eq 2 ] && pass "stray argument: exit 2" || fail "stray argument"
"$AG" doctor --root relative >/dev/null 2>&1
[ $? -eq 2 ] && pass "relative --root: exit 2" || fail "relative --root"
"$AG" doctor --help | grep -q -- '--root DIR' && pass "--help: usage" ||
    fail "--help"

# ==== A hostile file name =================================================

copy hostile
evil=$'evil\nFAIL  forged-check  all is lost\e[31m'
echo x >"$work/hostile/var/lib/aiguard/models/m/1/$evil"
chmod 0644 "$work/hostile/var/lib/aiguard/models/m/1/$evil"
doc "$work/hostile"
if [ $rc -eq 1 ] && ! grep -q '^FAIL  forged' "$work/out" &&
    ! grep -q $'\e' "$work/out" &&
    grep -Fq 'evil\nFAIL  forged-check  all is lost\x1b[31m: ' "$work/out"; then
	pass "hostile name: escaped (\\n, \\x1b), no forged line"
else
	fail "hostile name: rc=$rc"; show | cat -v
fi
"$AG" doctor --root "$work/hostile" --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert any("evil\\nFAIL" in c["evidence"] for c in d["checks"])
assert not any("\x1b" in c["evidence"] or "\n" in c["evidence"]
    for c in d["checks"])' && pass "hostile name: escaped in --json too" ||
    fail "hostile name in --json"

# ==== A live aiguardd =====================================================

# The server's own configuration: no sandbox.user (the test runs it as
# it is), so its privilege drop is not asked for.
copy live
sed -i '/^user = /d' "$work/live/etc/aiguard/aiguardd.conf"
server_start --pid-file "$work/live/run/aiguard/aiguardd.pid"
listed=$(curl -s -m 5 "$base/v2" | /usr/bin/python3 -c '
import json, sys
l = json.load(sys.stdin)["aiguard_sandbox"]
print(sum(x.startswith("front:") for x in l),
    sum(x.startswith("worker:") for x in l))')
doc "$work/live" --listen "127.0.0.1:$port"
line=$(grep '^[A-Z]*  aiguardd-layers ' "$work/out")
f=${listed% *} w=${listed#* }
if [[ $line == *"reports front $f/"*" and worker $w/"* ]] &&
    [[ $line == *"runs as pid $srv_pid"* ]]; then
	pass "live: doctor reports the layers /v2 lists (front $f, worker $w)"
else
	fail "live: /v2 lists $listed; doctor: $line"
fi
if [ "$f" -eq 6 ] && [ "$w" -eq 6 ]; then
	[[ $line == PASS* ]] && pass "live: every layer asked for is active" ||
	    fail "live: $line"
else
	[[ $line == FAIL* ]] && pass "live: a layer inactive is a FAIL" ||
	    fail "live: $line"
fi
# The same server judged by a configuration that asks for the privilege
# drop, which it does not do: a FAIL naming it (beside whatever else the
# server reports inactive: seccomp in the sanitizer build).
doc "$work/good" --listen "127.0.0.1:$port"
L='[a-z]+:[a-z]+,'
grep -Eq "^FAIL  aiguardd-layers +.*inactive: ($L)*front:privdrop,($L)*worker:privdrop,($L)* with sandbox\.mode = required" \
    "$work/out" && pass "live: a layer missing under required is a FAIL" ||
    { fail "live: no FAIL for privdrop"; show; }
server_stop >/dev/null
finish
