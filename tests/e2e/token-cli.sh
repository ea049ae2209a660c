#!/bin/bash
# SPDX-License-Identifier: ISC
#
# token-cli.sh: aiguard token add, list and revoke on a token file.
#
# Usage errors (exit 2); add: the token alone on the last line of stdout,
# the file 0640 in the expected group, only the token's SHA-256 in it,
# limits and scopes as given, a client-certificate identity (no token),
# a duplicate name refused with the file unchanged, an existing file's
# mode kept, everyone-readable warned about; list and list --json (no hash
# shown); a file that does not parse refused by every command and left as
# it was; a symbolic link refused; revoke, and revoke of an absent name;
# eight adds at once, all landing, no temporary file left.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
AG=$AG_BUILD/bin/aiguard
[ -x "$AG" ] || { echo "missing $AG"; exit 99; }
. "$AG_TOP/tests/lib.sh"
plan 45
# run CMD...: stdout in $work/out, stderr in $work/err, status in $rc.
run() { "$@" >"$work/out" 2>"$work/err"; rc=$?; }
show() { sed 's/^/    | /' "$work/err" "$work/out" | head -n 8; }
# expect RC PATTERN WHAT: the last run exited RC and stderr matches.
expect() {
	if [ "$rc" -eq "$1" ] && grep -q -- "$2" "$work/err"; then
		pass "$3"
	else
		fail "$3: rc=$rc (want $1), stderr should match: $2"; show
	fi
}
sha() { printf '%s' "$1" | sha256sum | cut -d ' ' -f 1; }
f=$work/tokens
tokre='^agt_[A-Za-z0-9_-]{43}$'

# ---- usage ---------------------------------------------------------------

run "$AG" token add --scopes infer ci
expect 2 'no --file' "add without --file: usage error"
run "$AG" token add --file "$f" ci
expect 2 'no --scopes' "add without --scopes: usage error"
run "$AG" token add --file "$f" --scopes infer 'a b'
expect 2 'bad NAME' "add with a bad name: usage error"
run "$AG" token add --file "$f" --scopes infer,root ci
expect 2 'unknown scope "root"' "add with an unknown scope: usage error"
run "$AG" token add --file "$f" --scopes infer --rate 1e3 ci
expect 2 '\-\-rate: expected a decimal' "add --rate 1e3: usage error"
run "$AG" token add --file "$f" --scopes infer --max-inflight 2.5 ci
expect 2 '\-\-max-inflight: expected a whole' \
    "add --max-inflight 2.5: usage error"
run "$AG" token add --file "$f" --scopes infer --json ci
expect 2 'no option --json' "add --json: usage error"
run "$AG" token remove --file "$f" ci
expect 2 'unknown command remove' "token remove: usage error"
run "$AG" token add --file "$f" --scopes infer --group no-such-group-x ci
expect 2 'no such group' "add --group with no such group: usage error"
if [ -e "$f" ]; then fail "usage errors created $f"
else pass "no usage error created the file"; fi

# ---- add -----------------------------------------------------------------

run "$AG" token add --file "$f" --scopes infer,metadata --rate 2.5 \
    --burst 5 --image-rate 1 --image-burst 2 --max-inflight 3 ci
tok=$(tail -n 1 "$work/out")
if [ "$rc" -eq 0 ] && [[ $tok =~ $tokre ]] &&
    [ "$(grep -c agt_ "$work/out")" -eq 1 ]; then
	pass "add: the token alone on the last line of stdout"
else
	fail "add: rc=$rc, last line: $tok"; show
fi
expect 0 'SIGHUP (systemctl reload aiguardd)' "add: the reload hint on stderr"
if grep -q 'aiguard token file' "$f" && ! grep -qF -- "$tok" "$f" &&
    ! grep -qF -- "${tok#agt_}" "$f"; then
	pass "add: the token is not in the file"
else
	fail "add: the token is in $f"
fi
if grep -Eq "^token ci sha256=$(sha "$tok") scopes=metadata,infer rate=2.5 \
burst=5 image_rate=1 image_burst=2 max_inflight=3 created=[0-9]+\$" "$f"; then
	pass "add: the entry holds the token's SHA-256, scopes and limits"
else
	fail "add: entry:"; sed 's/^/    | /' "$f"
fi
mode=$(stat -c %a "$f") grp=$(stat -c %G "$f")
want=$(getent group aiguard >/dev/null && echo aiguard || id -gn)
if [ "$mode" = 640 ] && [ "$grp" = "$want" ]; then
	pass "add: a new file is 0640, group $want"
else
	fail "add: mode $mode group $grp (want 640 $want)"
fi
ls "$work" | grep -q 'tokens\.tmp-' &&
    fail "add left a temporary file" || pass "add: no temporary file left"

run "$AG" token add --file "$f" --scopes health,infer:resnet18 --client-cert \
    gw.example.org
if [ "$rc" -eq 0 ] && ! grep -q agt_ "$work/out" &&
    grep -Eq '^cert gw\.example\.org scopes=health,infer:resnet18 created=[0-9]+$' \
    "$f"; then
	pass "add --client-cert: a cert entry, no token printed"
else
	fail "add --client-cert: rc=$rc"; show
fi

cp "$f" "$work/before"
run "$AG" token add --file "$f" --scopes admin ci
if [ "$rc" -eq 1 ] && grep -q "$f has an entry named ci already" \
    "$work/err" && cmp -s "$f" "$work/before" && ! grep -q agt_ "$work/out"
then
	pass "add: a duplicate name refused (file and name named), file unchanged"
else
	fail "add duplicate: rc=$rc"; show
fi
run "$AG" token add --file "$f" --scopes admin --client-cert ci
expect 1 'entry named ci already' "add: a cert entry may not take a token's name"

# An existing file keeps its mode; everyone-readable is warned about.
chmod 0600 "$f"
run "$AG" token add --file "$f" --scopes metrics mon
if [ "$rc" -eq 0 ] && [ "$(stat -c %a "$f")" = 600 ] &&
    ! grep -q WARNING "$work/err"; then
	pass "add: an existing file keeps its mode (0600), no warning"
else
	fail "add on a 0600 file: rc=$rc mode $(stat -c %a "$f")"; show
fi
chmod 0644 "$f"
run "$AG" token list --file "$f"
expect 0 'WARNING: .* is readable by everyone' \
    "list: a file readable by everyone is warned about"
chmod 0640 "$f"

g2=$work/tokens-g
gid=$(getent group daemon | cut -d : -f 3)
run "$AG" token add --file "$g2" --scopes health --group "${gid:-0}" h
if [ "$rc" -eq 0 ] && [ "$(stat -c %g "$g2")" = "${gid:-0}" ]; then
	pass "add --group: a new file in the group asked for"
else
	fail "add --group $gid: rc=$rc group $(stat -c %g "$g2" 2>&1)"; show
fi

# ---- list ----------------------------------------------------------------

run "$AG" token list --file "$f"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$work/out")" -eq 4 ] &&
    grep -Eq '^ci +token +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +metadata,infer +rate=2.5 burst=5 image_rate=1 image_burst=2 max_inflight=3$' \
    "$work/out" &&
    grep -Eq '^gw\.example\.org +cert .* health,infer:resnet18 +default$' \
    "$work/out"; then
	pass "list: a header, then name, kind, created (UTC), scopes, limits"
else
	fail "list: rc=$rc"; show
fi
if ! grep -Eq '[0-9a-f]{64}' "$work/out" && ! grep -q agt_ "$work/out"; then
	pass "list: no hash, no token"
else
	fail "list shows a hash"
fi
run "$AG" token list --file "$f" --json
if [ "$rc" -eq 0 ] && "$PYTHON" - "$work/out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
by = {e["name"]: e for e in d}
ci, gw = by["ci"], by["gw.example.org"]
assert len(d) == 3, d
assert ci["kind"] == "token" and ci["scopes"] == ["metadata", "infer"]
assert ci["rate"] == 2.5 and ci["max_inflight"] == 3
assert gw["kind"] == "cert" and gw["rate"] is None
assert gw["scopes"] == ["health", "infer:resnet18"]
assert ci["created"].endswith("Z") and isinstance(ci["created_unix"], int)
assert "sha256" not in json.dumps(d)
EOF
then
	pass "list --json: the entries, no hash"
else
	fail "list --json: rc=$rc"; show
fi
run "$AG" token list --file "$work/absent"
expect 1 "$work/absent: No such file" "list: a missing file is an error"

# ---- a bad file ------------------------------------------------------------

cp "$f" "$work/good"
printf 'token broken sha256=xyz scopes=infer created=1\n' >>"$f"
cp "$f" "$work/before"
n=$(wc -l <"$f")
run "$AG" token add --file "$f" --scopes infer new
if [ "$rc" -eq 1 ] && grep -q "$f:$n: sha256: expected 64" "$work/err" &&
    cmp -s "$f" "$work/before" && ! grep -q agt_ "$work/out"; then
	pass "add: a bad file refused (FILE:LINE), left as it was"
else
	fail "add on a bad file: rc=$rc"; show
fi
run "$AG" token revoke --file "$f" ci
if [ "$rc" -eq 1 ] && grep -q "$f:$n:" "$work/err" &&
    cmp -s "$f" "$work/before"; then
	pass "revoke: a bad file refused, left as it was"
else
	fail "revoke on a bad file: rc=$rc"; show
fi
run "$AG" token list --file "$f"
expect 1 "$f:$n:" "list: a bad file refused"
printf 'token x sha256=%s scopes=infer created=1\0\n' "$(sha x)" >"$work/nul"
run "$AG" token list --file "$work/nul"
expect 1 "$work/nul:1: NUL byte" "list: a NUL byte refused"
printf 'token dup sha256=%s scopes=infer created=1\n' "$(sha a)" "$(sha b)" \
    >"$work/dup"
run "$AG" token list --file "$work/dup"
expect 1 "$work/dup:2: name dup given twice" "list: a duplicate name refused"
cp "$work/good" "$f"

ln -s "$f" "$work/link"
run "$AG" token add --file "$work/link" --scopes infer l
if [ "$rc" -eq 1 ] && grep -q 'symbolic link' "$work/err" &&
    [ -L "$work/link" ] && cmp -s "$f" "$work/good"; then
	pass "add: a symbolic link refused"
else
	fail "add on a link: rc=$rc"; show
fi

# ---- revoke ----------------------------------------------------------------

run "$AG" token revoke --file "$f" ci
if [ "$rc" -eq 0 ] && ! grep -q '^token ci ' "$f" &&
    grep -q '^cert gw.example.org ' "$f" && grep -q SIGHUP "$work/err" &&
    [ "$(stat -c %a "$f")" = 640 ]; then
	pass "revoke: the entry gone, the others kept, the mode too, the hint"
else
	fail "revoke: rc=$rc"; show
fi
run "$AG" token revoke --file "$f" ci
expect 1 "$f has no entry named ci" "revoke of an absent name fails"
run "$AG" token revoke --file "$f"
expect 2 'no NAME given' "revoke without a name: usage error"
run "$AG" token revoke --file "$work/absent" ci
expect 1 "No such file" "revoke on a missing file fails"
[ -e "$work/absent" ] && fail "revoke created $work/absent" ||
    pass "revoke does not create a missing file"

# The same name again: a new token.
run "$AG" token add --file "$f" --scopes infer ci
tok2=$(tail -n 1 "$work/out")
if [ "$rc" -eq 0 ] && [[ $tok2 =~ $tokre ]] && [ "$tok2" != "$tok" ] &&
    grep -q "sha256=$(sha "$tok2") " "$f" &&
    ! grep -q "sha256=$(sha "$tok") " "$f"; then
	pass "add after revoke: a new token, the old hash gone"
else
	fail "add after revoke: rc=$rc"; show
fi

# ---- eight at once ---------------------------------------------------------

c=$work/conc
for i in 1 2 3 4 5 6 7 8; do
	"$AG" token add --file "$c" --scopes infer "c$i" >"$work/c$i.out" \
	    2>"$work/c$i.err" &
done
okc=0
for i in 1 2 3 4 5 6 7 8; do
	wait -n && okc=$((okc + 1))
done
if [ "$okc" -eq 8 ]; then
	pass "eight adds at once: all exit 0"
else
	fail "eight adds at once: $okc exited 0"
	cat "$work"/c*.err | head -n 8
fi
n=$(grep -c '^token c[1-8] ' "$c")
if [ "$n" -eq 8 ]; then
	pass "eight adds at once: all eight entries in the file"
else
	fail "eight adds at once: $n entries"; sed 's/^/    | /' "$c"
fi
bad=0
for i in 1 2 3 4 5 6 7 8; do
	t=$(tail -n 1 "$work/c$i.out")
	[[ $t =~ $tokre ]] && grep -q "^token c$i sha256=$(sha "$t") " "$c" ||
	    bad=$((bad + 1))
done
if [ "$bad" -eq 0 ] &&
    [ "$(for i in 1 2 3 4 5 6 7 8; do tail -n 1 "$work/c$i.out"; done |
    sort -u | wc -l)" -eq 8 ]; then
	pass "eight adds at once: eight different tokens, each its own hash"
else
	fail "eight adds at once: $bad tokens do not match their entry"
fi
if ls "$work" | grep -q 'conc\.tmp-'; then
	fail "eight adds at once left temporary files"
else
	pass "eight adds at once: no temporary file left"
fi
run "$AG" token list --file "$c"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$work/out")" -eq 9 ]; then
	pass "eight adds at once: list reads them back"
else
	fail "list after eight adds: rc=$rc"; show
fi

run "$AG" token --help
if [ "$rc" -eq 0 ] && grep -q 'usage: aiguard token add' "$work/out" &&
    grep -q -- '--max-inflight' "$work/out"; then
	pass "token --help: the usage on stdout, exit 0"
else
	fail "token --help: rc=$rc"; show
fi
finish
