#!/bin/bash
# SPDX-License-Identifier: ISC
#
# mdwe.sh: the engine runs under PR_SET_MDWE (memory-deny-write-execute).
#
# engine-run --mdwe applies prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)
# before loading anything and fails unless a W+X mmap is then refused.  The
# logits it writes must be byte-identical to those of a run without it: no
# code path of the engine or its BLAS needs executable memory that it would
# have to create.  aiguard classify applies MDWE itself; it must do so
# without a warning and classify as usual.  Skips (77) when the kernel has
# no MDWE (before Linux 6.3).
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}"
ER=$AG_BUILD/tests/engine-run
AG=$AG_BUILD/bin/aiguard
for b in "$ER" "$AG"; do
	[ -x "$b" ] || { echo "missing $b"; exit 99; }
done
[ -f "$AG_MODEL/config.json" ] || { echo "missing model $AG_MODEL"; exit 99; }
. "$AG_TOP/tests/lib.sh"
plan 4

# The probe: the smallest run with --mdwe.  engine-run reports a refused
# prctl as "prctl(PR_SET_MDWE): <strerror>".
"$ER" --mdwe --model "$AG_MODEL" --batch 1 --height 32 --width 32 \
    >"$work/probe.out" 2>"$work/probe.err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'prctl(PR_SET_MDWE)' "$work/probe.err"; then
	# The runner checks the kernel itself (tests/skip-allowlist.sh).
	skip_all no-mdwe "kernel $(uname -r) has no PR_SET_MDWE:" \
	    "$(head -n 1 "$work/probe.err")"
fi
if [ $rc -ne 0 ]; then
	echo "FAIL engine-run --mdwe probe: rc=$rc"
	cat "$work/probe.err"
	exit 1
fi

# case BATCH H W: logits with and without MDWE, byte for byte.
case_run() {
	local b=$1 h=$2 w=$3 tag=$1x$2x$3
	"$ER" --mdwe --model "$AG_MODEL" --batch "$b" --height "$h" \
	    --width "$w" --output "$work/mdwe-$tag.f32" >"$work/out" \
	    2>"$work/err"
	local rc1=$?
	"$ER" --model "$AG_MODEL" --batch "$b" --height "$h" --width "$w" \
	    --output "$work/plain-$tag.f32" >"$work/out2" 2>>"$work/err"
	local rc2=$?
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		fail "batch $tag: rc=$rc1/$rc2"
		sed 's/^/    | /' "$work/err" | head -n 8
	elif ! grep -qx 'mdwe=on' "$work/out"; then
		fail "batch $tag: engine-run --mdwe did not print mdwe=on"
	elif grep -q 'mdwe=on' "$work/out2"; then
		fail "batch $tag: mdwe=on without --mdwe"
	elif [ ! -s "$work/mdwe-$tag.f32" ] ||
	    ! cmp -s "$work/mdwe-$tag.f32" "$work/plain-$tag.f32"; then
		fail "batch $tag: logits under MDWE differ from those without"
	else
		pass "batch $tag: mdwe=on, logits byte-identical" \
		    "($(stat -c %s "$work/mdwe-$tag.f32") bytes)"
	fi
}
case_run 1 224 224
case_run 2 64 80

# aiguard classify sets MDWE itself: no warning, normal output.
img=
for f in "$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png; do
	[ -f "$f" ] && { img=$f; break; }
done
if [ -z "$img" ]; then
	fail "no sample image in $AG_TOP/samples: classify cannot be checked"
else
	"$AG" classify --model "$AG_MODEL" "$img" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q MDWE "$work/err" &&
	    [ "$(grep -c '^ *[0-9]\. ' "$work/out")" -eq 5 ]; then
		pass "aiguard classify under its own MDWE: 5 classes, no warning"
	else
		fail "aiguard classify: rc=$rc"
		sed 's/^/    | /' "$work/err" | head -n 8
	fi
fi

finish
