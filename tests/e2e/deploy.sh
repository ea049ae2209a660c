#!/bin/bash
# SPDX-License-Identifier: ISC
#
# deploy.sh: aiguard deploy, rollback and models against a model store in
# the scratch directory (never /var/lib).
#
# Two signed models (the bundled resnet18 and one with other weights) are
# deployed as versions 1 and 2 (current switches, the digest is printed),
# rolled back, deployed again (a new number, never a reused one), pruned
# with --keep.  Tampered, unsigned, wrongly signed models and a source with
# a symbolic link are refused and leave the store exactly as it was (every
# entry of STORE/NAME and where current points).  Two concurrent deploys
# are serialized by the lock.  The failure hook AIGUARD_FAILPOINT kills the
# deploy (SIGKILL) or makes it fail at each step in turn: afterwards
# current is a complete version that aiguard verify accepts (the old one,
# or from the prune step on the new one), and the next deploy succeeds and
# leaves no staging directory.  Last, the reload: no pid file, a pid file
# naming another program, and a stand-in process named aiguardd that must
# receive SIGHUP.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP; AG_MODEL optional.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
AG=$AG_BUILD/bin/aiguard
GW=$AG_BUILD/bin/gen-weights
MODEL=${AG_MODEL:-$AG_TOP/build/models/resnet18}
for b in "$AG" "$GW"; do
	[ -x "$b" ] || { echo "missing $b"; exit 99; }
done
[ -f "$MODEL/model.safetensors" ] || { echo "missing model $MODEL"; exit 99; }
# aiguard is built with sign: a --help that fails is a failure, no skip.
if ! "$AG" sign --help >/dev/null 2>&1; then
	echo "FAIL aiguard sign --help fails"
	exit 1
fi
. "$AG_TOP/tests/lib.sh"
plan 82
# run CMD...: stdout in $work/out, stderr in $work/err, status in $rc.
# The subshell keeps bash's "Killed" notice (failure injection) quiet.
run() { ( "$@" >"$work/out" 2>"$work/err"; exit $? ) 2>/dev/null; rc=$?; }
show() { sed 's/^/    | /' "$work/out" "$work/err" | head -n 12; }

store=$work/store
# A picture of STORE/NAME: every path below it (the lock left out) and
# where current points.
snap() {
	(cd "$store/$1" 2>/dev/null &&
	    find . -path ./.lock -prune -o -print | LC_ALL=C sort &&
	    echo "current -> $(readlink current)")
}
cur() { readlink "$store/$1/current"; }
verify_current() {
	"$AG" verify --key "$work/k.pub" "$store/$1/current" \
	    >"$work/vout" 2>&1
}
staging_left() { compgen -G "$store/$1/.staging.*" >/dev/null; }

# ---- keys and models -----------------------------------------------------

"$AG" keygen --out "$work/k" >/dev/null 2>&1 &&
    "$AG" keygen --out "$work/k2" >/dev/null 2>&1 ||
    { echo "aiguard keygen failed"; exit 99; }
[ -f "$work/k.key" ] && [ -f "$work/k.pub" ] ||
    { echo "aiguard keygen wrote no k.key/k.pub"; exit 99; }
sign() { "$AG" sign --key "$work/k.key" "$1" >/dev/null 2>&1 ||
    { echo "aiguard sign $1 failed"; exit 99; }; }
m1=$work/m1
m2=$work/m2
mkdir "$m1" || exit 99
cp "$MODEL/config.json" "$MODEL/labels.txt" "$MODEL/model.safetensors" \
    "$m1/" || exit 99
sign "$m1"
"$GW" --arch resnet18 --seed 2 --out "$m2" >/dev/null 2>&1 ||
    { echo "gen-weights failed"; exit 99; }
rm -f "$m2/model.sig"
sign "$m2"
D="--key $work/k.pub --store $store --no-reload"

# ---- usage ---------------------------------------------------------------

run "$AG" deploy --help
[ $rc -eq 0 ] && grep -q -- --keep "$work/out" &&
    pass "deploy --help" || { fail "deploy --help: rc=$rc"; show; }
run "$AG" rollback --help
[ $rc -eq 0 ] && grep -q -- --pid-file "$work/out" &&
    pass "rollback --help" || { fail "rollback --help: rc=$rc"; show; }
for args in "" "$m1" "--key a --ca b $m1 x" "--keep -1 $m1 x" \
    "--keep abc $m1 x" "--no-reload --pid-file f $m1 x" "--bogus $m1 x" \
    "$m1 bad/name" "$m1 .hidden" "$m1 x y"; do
	# shellcheck disable=SC2086
	run "$AG" deploy --store "$store" $args
	[ $rc -eq 2 ] && pass "deploy $args: usage error (2)" ||
	    { fail "deploy $args: rc=$rc, want 2"; show; }
done
run "$AG" rollback --store "$store"
[ $rc -eq 2 ] && pass "rollback without NAME: 2" || fail "rollback: rc=$rc"
[ ! -e "$store" ] && pass "usage errors create nothing" ||
    fail "usage errors created $store"

# ---- deploy, switch, rollback --------------------------------------------

digest_re='sha256:[0-9a-f]{64}'
# shellcheck disable=SC2086
run "$AG" deploy $D "$m1" resnet18
if [ $rc -eq 0 ] && grep -Eq "^resnet18: version 1 deployed \(digest \
$digest_re, signer [^)]+\); current -> 1$" "$work/out" &&
    grep -q "reload not requested" "$work/out" &&
    [ "$(cur resnet18)" = 1 ] && verify_current resnet18; then
	pass "deploy v1: current -> 1, digest printed, verifies"
else
	fail "deploy v1: rc=$rc current=$(cur resnet18)"; show
fi
d1=$(grep -Eo "$digest_re" "$work/out")
# shellcheck disable=SC2086
run "$AG" deploy $D "$m2" resnet18
d2=$(grep -Eo "$digest_re" "$work/out")
if [ $rc -eq 0 ] && grep -q "version 2 deployed" "$work/out" &&
    grep -q "current -> 2" "$work/out" && [ "$(cur resnet18)" = 2 ] &&
    [ -n "$d2" ] && [ "$d1" != "$d2" ] && verify_current resnet18; then
	pass "deploy v2: current -> 2, another digest"
else
	fail "deploy v2: rc=$rc current=$(cur resnet18) $d1 $d2"; show
fi
cmp -s "$store/resnet18/2/model.safetensors" "$m2/model.safetensors" &&
    [ "$(stat -c %a "$store/resnet18/2/model.safetensors")" = 640 ] &&
    [ "$(stat -c %a "$store/resnet18/2")" = 750 ] &&
    [ "$(stat -c %a "$store/resnet18")" = 750 ] &&
    [ "$(stat -c %a "$store")" = 750 ] &&
    grep -q "^resnet18: files 0640, directories 0750, group " "$work/out" &&
    pass "the version holds the model, 0640 in 0750" ||
    fail "version 2 content or modes"
run "$AG" models --store "$store" resnet18
[ $rc -eq 0 ] && [ "$(cat "$work/out")" = "resnet18 1
resnet18 2 current" ] && pass "models NAME lists versions and current" ||
    { fail "models: rc=$rc"; show; }
run "$AG" models --store "$store"
[ $rc -eq 0 ] && grep -q '^resnet18 2 current$' "$work/out" &&
    pass "models lists the store" || { fail "models: rc=$rc"; show; }

# shellcheck disable=SC2086
run "$AG" rollback $D resnet18
if [ $rc -eq 0 ] && grep -q "rolled back from version 2 to 1" \
    "$work/out" && grep -q "$d1" "$work/out" &&
    [ "$(cur resnet18)" = 1 ] && verify_current resnet18; then
	pass "rollback: current -> 1, v1's digest"
else
	fail "rollback: rc=$rc current=$(cur resnet18)"; show
fi
# shellcheck disable=SC2086
run "$AG" rollback $D resnet18
[ $rc -eq 1 ] && grep -q "no version older than 1" "$work/err" &&
    [ "$(cur resnet18)" = 1 ] && pass "nothing older: exit 1, unchanged" ||
    { fail "second rollback: rc=$rc"; show; }
# shellcheck disable=SC2086
run "$AG" deploy $D "$m2" resnet18
[ $rc -eq 0 ] && [ "$(cur resnet18)" = 3 ] &&
    pass "deploy after rollback: version 3, not a reused 2" ||
    { fail "deploy after rollback: rc=$rc current=$(cur resnet18)"; show; }

# The older version changed behind the store's back: rollback refuses it.
printf 'X' | dd of="$store/resnet18/2/labels.txt" bs=1 seek=3 \
    conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
run "$AG" rollback $D resnet18
[ $rc -eq 1 ] && grep -q "labels.txt" "$work/err" &&
    [ "$(cur resnet18)" = 3 ] &&
    pass "rollback to a tampered version refused, named" ||
    { fail "rollback to tampered: rc=$rc current=$(cur resnet18)"; show; }

# ---- keep ----------------------------------------------------------------

ok=1
for _ in 1 2 3 4 5; do
	# shellcheck disable=SC2086
	run "$AG" deploy $D --keep 1 "$m1" pruned
	[ $rc -eq 0 ] || { ok=0; show; }
done
run "$AG" models --store "$store" pruned
[ $ok -eq 1 ] && [ "$(cat "$work/out")" = "pruned 4
pruned 5 current" ] && pass "--keep 1: versions 4 5 remain" ||
    { fail "--keep 1"; show; }
# shellcheck disable=SC2086
run "$AG" deploy $D --keep 0 "$m1" pruned
run "$AG" models --store "$store" pruned
[ "$(cat "$work/out")" = "pruned 5
pruned 6 current" ] && pass "--keep 0: the replaced version stays" ||
    { fail "--keep 0"; show; }

# ---- refusals leave the store unchanged ------------------------------------

# refused WHAT PATTERN DEPLOY-ARGS...: exit 1, PATTERN on stderr, the store
# exactly as before.
refused() {
	local what=$1 pat=$2 before
	shift 2
	before=$(snap resnet18)
	run "$AG" deploy "$@"
	if [ $rc -eq 1 ] && grep -q -- "$pat" "$work/err" &&
	    [ "$(snap resnet18)" = "$before" ]; then
		pass "$what: refused, store unchanged"
	else
		fail "$what: rc=$rc"; show
		diff <(echo "$before") <(snap resnet18) | head -n 5
	fi
}
t=$work/tampered
cp -r "$m1" "$t" || exit 99
printf '\001' | dd of="$t/model.safetensors" bs=1 seek=1000000 \
    conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
refused "tampered weights" model.safetensors $D "$t" resnet18
u=$work/unsigned
cp -r "$m1" "$u" && rm "$u/model.sig" || exit 99
# shellcheck disable=SC2086
refused "unsigned model" model.sig $D "$u" resnet18
refused "wrong key" "verify" --key "$work/k2.pub" --store "$store" \
    --no-reload "$m1" resnet18
l=$work/withlink
cp -r "$m1" "$l" && ln -s /etc/passwd "$l/extra" || exit 99
# shellcheck disable=SC2086
refused "symbolic link in the source" "$l/extra" $D "$l" resnet18
# shellcheck disable=SC2086
refused "missing source" "$work/nope" $D "$work/nope" resnet18
refused "missing key file" "$work/nokey" --key "$work/nokey" --store \
    "$store" --no-reload "$m1" resnet18

# A file the signature does not cover: refused, unless --ignore-paths
# names it (relative, or under SRC_DIR as typed); then it is not copied:
# the store holds what the signature covers.
x=$work/withextra
cp -r "$m1" "$x" && echo notes >"$x/notes.txt" || exit 99
# shellcheck disable=SC2086
refused "a file the signature does not cover" notes.txt $D "$x" resnet18
for ig in notes.txt "$x/notes.txt"; do
	# shellcheck disable=SC2086
	run "$AG" deploy $D --ignore-paths "$ig" "$x" ignored
	[ $rc -eq 0 ] && [ -d "$store/ignored/$(cur ignored)" ] &&
	    [ ! -e "$store/ignored/$(cur ignored)/notes.txt" ] &&
	    pass "--ignore-paths $ig: deployed, the file not copied" ||
	    { fail "--ignore-paths $ig: rc=$rc"; show; }
done
# shellcheck disable=SC2086
run "$AG" deploy $D --ignore-paths ../notes.txt "$x" ignored
[ $rc -eq 2 ] && pass "--ignore-paths outside the model: usage error" ||
    { fail "--ignore-paths ../notes.txt: rc=$rc"; show; }
run "$AG" models --store "$work/no-store"
[ $rc -eq 1 ] && grep -q "$work/no-store" "$work/err" &&
    pass "models on a missing store: exit 1, named" ||
    { fail "models on a missing store: rc=$rc"; show; }

# ---- group and audit log -------------------------------------------------------

# --group: by name or number; an unknown one is a usage error.
# shellcheck disable=SC2086
run "$AG" deploy $D --group no-such-group-here "$m1" grp
[ $rc -eq 2 ] && grep -q "no-such-group-here" "$work/err" &&
    [ ! -e "$store/grp" ] && pass "--group unknown: usage error, nothing made" ||
    { fail "--group unknown: rc=$rc"; show; }
gid=$(getent group nogroup | cut -d: -f3)
gid=${gid:-65534}
# shellcheck disable=SC2086
run "$AG" deploy $D --group "$gid" "$m1" grp
bad=$(find "$store/grp" -path "$store/grp/.lock" -prune -o ! -type l \
    ! -group "$gid" -print | head -n 3)
[ $rc -eq 0 ] && [ -z "$bad" ] &&
    [ "$(stat -c %a "$store/grp/1/model.safetensors")" = 640 ] &&
    pass "--group $gid: every directory and file in the group" ||
    { fail "--group $gid: rc=$rc, not in the group: $bad"; show; }

# No --group: the user aiguard's group if there is one, else the group of
# an existing store directory (set up for the daemon).
store3=$work/store3
mkdir -m 750 "$store3" && chgrp "$gid" "$store3" || exit 99
want=$(getent passwd aiguard | cut -d: -f4)
want=${want:-$gid}
run "$AG" deploy --key "$work/k.pub" --store "$store3" --no-reload "$m1" dg
[ $rc -eq 0 ] && [ "$(stat -c %g "$store3/dg/1/model.safetensors")" = "$want" ] &&
    [ "$(stat -c %g "$store3/dg")" = "$want" ] &&
    pass "no --group: the store directory's group ($want)" ||
    { fail "no --group: rc=$rc, group $(stat -c %g \
    "$store3/dg/1/model.safetensors" 2>/dev/null), want $want"; show; }

# The daemon's configuration, when given (or at /etc/aiguard/aiguardd.conf):
# its sandbox.group, else sandbox.user's group, over the store's (root's).
store4=$work/store4
mkdir -m 750 "$store4" || exit 99
printf '[sandbox]\nuser = daemon\ngroup = nogroup\n' >"$work/d-group.conf"
printf '[sandbox]\nuser = daemon\n' >"$work/d-user.conf"
dgid=$(getent passwd daemon | cut -d: -f4)
for c in group:$gid user:$dgid; do
	run "$AG" deploy --key "$work/k.pub" --store "$store4" --no-reload \
	    --config "$work/d-${c%%:*}.conf" "$m1" "c${c%%:*}"
	got=$(stat -c %g "$store4/c${c%%:*}/1/model.safetensors" 2>/dev/null)
	[ $rc -eq 0 ] && [ "$got" = "${c#*:}" ] &&
	    [ "$(stat -c %g "$store4/c${c%%:*}")" = "${c#*:}" ] &&
	    pass "--config with sandbox.${c%%:*}: that group (${c#*:})" ||
	    { fail "--config sandbox.${c%%:*}: rc=$rc, group $got, want" \
	    "${c#*:}"; show; }
done
run "$AG" deploy --key "$work/k.pub" --store "$store4" --no-reload \
    --config "$work/no-such.conf" "$m1" cnone
[ $rc -eq 2 ] && grep -q "no-such.conf" "$work/err" &&
    [ ! -e "$store4/cnone" ] &&
    pass "--config missing: usage error naming it, nothing made" ||
    { fail "--config missing: rc=$rc"; show; }

# The log: one line per deploy and rollback that switched current, in
# order (the refused ones left none); models --log prints them by name.
run "$AG" models --store "$store" --log resnet18
n=$(grep -c . "$work/out")
lines=$(grep -Eo 'event=[a-z]+ model="resnet18" version=[0-9]+ previous=[0-9]+' \
    "$work/out" | sed 's/ model="resnet18"//' | tr '\n' ' ')
want="event=deploy version=1 previous=0 event=deploy version=2 previous=1 \
event=rollback version=1 previous=2 event=deploy version=3 previous=1 "
[ $rc -eq 0 ] && [ "$n" -eq 4 ] && [ "$lines" = "$want" ] &&
    pass "audit log: resnet18's deploys and rollback, in order" ||
    { fail "audit log: rc=$rc n=$n: $lines"; show; }
line=$(sed -n 1p "$work/out")
re='^time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z '
re+='event=deploy model="resnet18" version=1 previous=0 '
re+="digest=\"${d1%%$'\n'*}\" signer=\"key sha256:[0-9a-f]{64}\" "
re+="uid=$(id -u) user=\"$(id -un)\"( loginuid=[0-9]+)?\$"
if [[ $line =~ $re ]]; then
	pass "audit log: time, model, version, digest, signer, user"
else
	fail "audit log line: $line"
fi
[ "$(stat -c %a "$store/.audit.log")" = 640 ] &&
    pass "audit log: 0640" || fail "audit log mode $(stat -c %a "$store/.audit.log")"
run "$AG" models --store "$store" --log
[ $rc -eq 0 ] && grep -q 'model="pruned"' "$work/out" &&
    grep -q 'model="resnet18"' "$work/out" &&
    pass "models --log: every name" || { fail "models --log: rc=$rc"; show; }
run "$AG" deploy --store "$store" --log "$m1" x
[ $rc -eq 2 ] && pass "deploy --log: usage error" ||
    { fail "deploy --log: rc=$rc"; show; }

# ---- concurrent deploys ------------------------------------------------------

# shellcheck disable=SC2086
run "$AG" deploy $D "$m1" conc
# Hold the lock so that both deploys have to wait for it, then let go.
flock "$store/conc/.lock" sleep 2 &
lockpid=$!
sleep 0.2
# shellcheck disable=SC2086
"$AG" deploy $D "$m1" conc >"$work/c1.out" 2>"$work/c1.err" &
p1=$!
# shellcheck disable=SC2086
"$AG" deploy $D "$m2" conc >"$work/c2.out" 2>"$work/c2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
wait $lockpid
v1=$(grep -Eo 'version [0-9]+ deployed' "$work/c1.out" | cut -d' ' -f2)
v2=$(grep -Eo 'version [0-9]+ deployed' "$work/c2.out" | cut -d' ' -f2)
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ -n "$v1" ] && [ -n "$v2" ] &&
    [ "$v1" != "$v2" ] && [ $((v1 + v2)) -eq 5 ] &&
    [ "$(cur conc)" = 3 ] && verify_current conc &&
    grep -q "waiting" "$work/c1.err" "$work/c2.err"; then
	pass "two concurrent deploys: waited, versions $v1 and $v2"
else
	fail "concurrent deploys: rc=$r1/$r2 versions '$v1' '$v2'"
	cat "$work/c1.err" "$work/c2.err" | head -n 8
fi

# ---- failure injection -------------------------------------------------------

# shellcheck disable=SC2086
run "$AG" deploy $D --keep 100 "$m1" fp
for step in copy fsync verify rename link switch prune; do
	for mode in kill error; do
		fp=deploy:$step
		[ $mode = error ] && fp=$fp:error
		old=$(cur fp)
		before=$(snap fp)
		# shellcheck disable=SC2086
		run env AIGUARD_FAILPOINT=$fp "$AG" deploy $D --keep 0 \
		    "$m2" fp
		want=1 same=1
		[ $mode = kill ] && want=137
		[ $step = prune ] && same=0
		[ $step = prune ] && [ $mode = error ] && want=0
		now=$(cur fp)
		if [ $rc -ne $want ]; then
			fail "$fp: rc=$rc, want $want"; show
		elif [ $same -eq 1 ] && [ "$now" != "$old" ]; then
			fail "$fp: current moved from $old to $now"
		elif [ $same -eq 0 ] && [ "$now" = "$old" ]; then
			fail "$fp: current did not move from $old"
		elif ! verify_current fp; then
			fail "$fp: current ($now) does not verify"
			sed 's/^/    | /' "$work/vout" | head -n 5
		elif [ $mode = error ] && [ $same -eq 1 ] &&
		    [ "$(snap fp)" != "$before" ]; then
			fail "$fp: the store changed"
			diff <(echo "$before") <(snap fp) | head -n 5
		elif [ $mode = error ] && [ $same -eq 1 ] &&
		    ! grep -q "deploy fp: $step: failure injected" \
		    "$work/err"; then
			fail "$fp: message does not name the step"; show
		else
			pass "$fp: current $now verifies"
		fi
		# shellcheck disable=SC2086
		run "$AG" deploy $D --keep 100 "$m1" fp
		if [ $rc -eq 0 ] && ! staging_left fp &&
		    [ ! -L "$store/fp/current.tmp" ] &&
		    grep -q "current -> $(cur fp)\$" "$work/out" &&
		    verify_current fp; then
			pass "$fp: the next deploy succeeds, no leftovers"
		else
			fail "$fp: next deploy: rc=$rc"; show
			ls -A "$store/fp" | head
		fi
	done
done

# ---- default key -------------------------------------------------------------

bk=
for k in "$AG_BUILD/keys/aiguard-build.pub" \
    "$AG_BUILD/../keys/aiguard-build.pub"; do
	[ -f "$k" ] && { bk=$k; break; }
done
run "$AG" deploy --store "$store" --no-reload "$m1" dflt
if [ -n "$bk" ]; then
	# Signed with k, not the build key: the build key was the one used.
	[ $rc -eq 1 ] && grep -q "build key" "$work/err" &&
	    pass "no --key: the build key $bk is used" ||
	    { fail "no --key with a build key: rc=$rc"; show; }
else
	[ $rc -eq 2 ] && grep -q -- "--key" "$work/err" &&
	    pass "no --key and no build key: usage error" ||
	    { fail "no --key without a build key: rc=$rc"; show; }
fi

# ---- reload ------------------------------------------------------------------

R="--key $work/k.pub --store $store"
# shellcheck disable=SC2086
run "$AG" deploy $R --pid-file "$work/none.pid" "$m1" reload
[ $rc -eq 0 ] && grep -q "no running aiguardd found ($work/none.pid)" \
    "$work/out" && pass "no pid file: said so, exit 0" ||
    { fail "no pid file: rc=$rc"; show; }
echo $$ >"$work/other.pid"
# shellcheck disable=SC2086
run "$AG" deploy $R --pid-file "$work/other.pid" "$m1" reload
[ $rc -eq 0 ] && grep -q "not aiguardd" "$work/out" &&
    kill -0 $$ && pass "pid file naming another program: not signalled" ||
    { fail "pid of another program: rc=$rc"; show; }
echo garbage >"$work/bad.pid"
# shellcheck disable=SC2086
run "$AG" deploy $R --pid-file "$work/bad.pid" "$m1" reload
[ $rc -eq 1 ] && grep -q "$work/bad.pid" "$work/err" &&
    pass "malformed pid file: exit 1, named" ||
    { fail "bad pid: rc=$rc"; show; }
# A stand-in named aiguardd: sleep, which SIGHUP terminates.
# The subshell reports its status and keeps bash's "Hangup" notice quiet.
cp "$(command -v sleep)" "$work/aiguardd" || exit 99
( "$work/aiguardd" 30 & echo $! >"$work/fake.pid"; wait $!; exit $? ) \
    2>/dev/null &
sub=$!
# Until the child has exec'd: before that its name is bash's.
fake=
for _ in $(seq 50); do
	fake=$(cat "$work/fake.pid" 2>/dev/null)
	[ -n "$fake" ] &&
	    [ "$(cat "/proc/$fake/comm" 2>/dev/null)" = aiguardd ] && break
	sleep 0.1
done
# shellcheck disable=SC2086
run "$AG" rollback $R --pid-file "$work/fake.pid" reload
[ $rc -eq 0 ] || kill "$fake" 2>/dev/null
wait $sub
frc=$?
[ $rc -eq 0 ] && grep -q "SIGHUP sent to aiguardd (pid $fake)" \
    "$work/out" && [ $frc -eq $((128 + 1)) ] &&
    pass "running aiguardd: SIGHUP sent after the rollback" ||
    { fail "reload: rc=$rc, stand-in rc=$frc"; show; kill "$fake" 2>/dev/null; }

finish
