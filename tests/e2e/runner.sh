#!/bin/bash
# SPDX-License-Identifier: ISC
#
# runner.sh: the test harness itself cannot pass by accident.
#
# tests/run-tests runs fake unit tests in a scratch build directory, one
# at a time, and must judge each as stated in its header: a pass needs
# exit 0 and the summary line with the whole plan run; a skip needs an
# allowlisted id whose condition holds here (tests/skip-allowlist.sh); a
# hang is killed at the time limit and fails; a run where nothing passed
# fails.  Then the C helper (tests/unit/test_helper.c), linked into small
# programs: an assertion outside any case, a missing plan, a plan not
# met, a TEST_START without TEST_DONE and an early exit(0) each fail the
# binary; a plan met passes.  And lib.sh: cases counted from subshells,
# a plan not met fails.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
. "$AG_TOP/tests/lib.sh"
plan 29

fake=$work/build
mkdir -p "$fake/tests"

# verdict NAME BODY WANT [ENV...]: a fake test program with BODY (shell)
# as fake/tests/test_NAME, run alone; the runner's line must start with
# WANT (PASS, SKIP or FAIL).
verdict() {
	local name=$1 body=$2 want=$3 out got
	shift 3
	rm -f "$fake"/tests/test_*
	printf '#!/bin/bash\n%s\n' "$body" >"$fake/tests/test_$name"
	chmod +x "$fake/tests/test_$name"
	out=$(env "$@" "$AG_TOP/tests/run-tests" "$fake" unit 2>&1)
	got=$(grep -m1 "unit/test_$name" <<<"$out" | cut -c1-4)
	if [ "$got" = "$want" ]; then
		pass "runner: $name -> $want"
	else
		fail "runner: $name -> '$got', want $want"
		sed 's/^/    | /' <<<"$out" | head -n 12
	fi
}

ok='echo "ok a"; echo "1 of 1 planned cases ran, 0 skipped, 0 failed"'
verdict plan-met "$ok" PASS
verdict no-summary 'echo "ok a"' FAIL
verdict plan-short 'echo "2 of 3 planned cases ran, 0 skipped, 0 failed"' FAIL
verdict plan-none 'echo "1 of -1 planned cases ran, 0 skipped, 0 failed"' FAIL
verdict zero-plan 'echo "0 of 0 planned cases ran, 0 skipped, 0 failed"' FAIL
verdict failed-case 'echo "1 of 1 planned cases ran, 0 skipped, 1 failed"' FAIL
verdict rc1 "$ok; exit 1" FAIL
verdict exit77-bare 'echo "SKIP: no reason"; exit 77' FAIL
verdict exit77-silent 'exit 77' FAIL
verdict skip-unlisted 'echo "SKIP[whatever]: x"; exit 77' FAIL
# Conditions that do not hold here: the build is not the sanitizer's.
verdict skip-false 'echo "SKIP[sanitizer-no-seccomp]: x"; exit 77' FAIL
verdict part-unlisted "echo 'SKIP[whatever]: 1 cases: x'; $ok" FAIL
verdict part-old-form "echo 'skipped: no /dev/null'; $ok" FAIL
verdict part-old-note "echo 'note: no samples; skipping that part'; $ok" FAIL
# A condition that holds for any build: a clone without ../shared (the
# fake AG_TOP below has none beside it).
mkdir -p "$work/top/x/tests"
cp "$AG_TOP/tests/run-tests" "$AG_TOP/tests/skip-allowlist.sh" \
    "$work/top/x/tests/"
rm -f "$fake"/tests/test_*
printf '#!/bin/bash\necho "SKIP[no-shared-vectors]: x"; exit 77\n' \
    >"$fake/tests/test_vec"
chmod +x "$fake/tests/test_vec"
out=$("$work/top/x/tests/run-tests" "$fake" unit 2>&1)
case $out in
*"SKIP unit/test_vec"*) pass "runner: an allowlisted skip that holds" ;;
*) fail "runner: allowlisted skip: $out" ;;
esac
verdict hang "sleep 60; $ok" FAIL TEST_TIMEOUT_UNIT=2
# Nothing that passed is not green.
rm -f "$fake"/tests/test_*
"$AG_TOP/tests/run-tests" "$fake" unit >"$work/empty.out" 2>&1 &&
    fail "runner: an empty run exits 0" ||
    pass "runner: an empty run fails"

# ---- The C helper -----------------------------------------------------------
obj=$AG_BUILD/obj/tests/unit/test_helper.o
[ -f "$obj" ] || { echo "missing $obj"; exit 99; }
san=
case $AG_BUILD in */asan) san="-fsanitize=address,undefined" ;; esac
# helper NAME WANT_RC CODE: CODE is the body of tests().
helper() {
	local name=$1 want=$2 code=$3 rc
	printf '#include <stdlib.h>\n#include "test_helper.h"\n%s\n' \
	    "void tests(void) { $code }" >"$work/$name.c"
	if ! cc $san -I"$AG_TOP/tests/unit" -o "$work/$name" "$work/$name.c" \
	    "$obj" 2>"$work/$name.err"; then
		fail "helper: $name does not build"; cat "$work/$name.err"
		return
	fi
	"$work/$name" >"$work/$name.out" 2>&1
	rc=$?
	if [ $rc -eq "$want" ]; then
		pass "helper: $name exits $want"
	else
		fail "helper: $name exits $rc, want $want"
		sed 's/^/    | /' "$work/$name.out"
	fi
}
helper met 0 'test_plan(1); TEST_START("a"); ASSERT_TRUE(1); TEST_DONE();'
helper stray-assert 1 'test_plan(1); ASSERT_TRUE(0);
    TEST_START("a"); TEST_DONE();'
helper no-plan 1 'TEST_START("a"); TEST_DONE();'
helper short 1 'test_plan(2); TEST_START("a"); TEST_DONE();'
helper no-done 1 'test_plan(1); TEST_START("a");'
helper part-skip 0 'test_plan(3); test_skip_part("no-avx512", 2, "x");
    TEST_START("a"); TEST_DONE();'
# exit(0) from the middle: rc 0 but no summary line, which the runner fails.
helper early-exit 0 'test_plan(2); TEST_START("a"); TEST_DONE(); exit(0);'
grep -q 'planned cases ran' "$work/early-exit.out" &&
    fail "helper: early exit printed a summary" ||
    pass "helper: early exit leaves no summary line"

# ---- lib.sh -----------------------------------------------------------------
# (finish runs the end checks first: the sanitizer scan is one more case.)
out=$(cd "$work" && bash -c '. "$AG_TOP/tests/lib.sh"; plan 4; pass a;
    (pass b); echo x | while read -r _; do pass c; done; finish' 2>&1)
case $out in
*"4 of 4 planned cases ran, 0 skipped, 0 failed"*)
	pass "lib.sh: cases from subshells and pipelines count" ;;
*) fail "lib.sh: $out" ;;
esac
(cd "$work" && bash -c '. "$AG_TOP/tests/lib.sh"; plan 3; pass a; finish') \
    >"$work/lib.out" 2>&1 && fail "lib.sh: a plan not met passes" ||
    pass "lib.sh: a plan not met fails"
# A failure counted by an end check after the plan was met still fails.
(cd "$work" && bash -c '. "$AG_TOP/tests/lib.sh"; plan 2; pass a;
    echo "==1==ERROR: AddressSanitizer: planted" >"$work/x.log"; finish') \
    >/dev/null 2>&1 && fail "lib.sh: a sanitizer report passes" ||
    pass "lib.sh: a sanitizer report under \$work fails"
finish
