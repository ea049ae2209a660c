# SPDX-License-Identifier: ISC
# Shared by the shell tests: a scratch directory removed at exit, pass/fail
# reporting, and finish, which prints the summary line and sets the exit
# status.  Source it after checking AG_TOP.
#
#   plan N              the number of cases (pass or fail calls) the test
#                       makes; once, before the first case
#   pass TEXT           one case passed: "ok TEXT"
#   fail TEXT           one case failed: "FAIL TEXT"
#   skip_part ID N WHY  N planned cases will not run, for the allowlisted
#                       reason ID (tests/skip-allowlist.sh)
#   skip_all ID WHY     the whole test skips (exit 77) for reason ID
#   tally               copies its stdin to stdout and counts each line
#                       "ok ..." as a pass and "FAIL ..." as a failure:
#                       for cases judged by a helper program
#   finish              "N of M planned cases ran, K skipped, F failed";
#                       returns non-zero when a case failed, no plan was
#                       declared, or the cases run (plus those skipped)
#                       are not the plan; it runs the end checks first
#   at_end FUNC         FUNC runs at the end (finish, or the EXIT trap
#                       when the test leaves early): see below
# Each result is a line in a file, not a shell variable, so that a case
# reported from a subshell or a pipeline is counted all the same.  The file
# is unlinked at once and kept open (a test may own every name in $work,
# and may replace the EXIT trap).
work=$(mktemp -d) || exit 99
trap lib_atexit EXIT

lib_results=$(mktemp) || exit 99
exec {lib_fd}>>"$lib_results" || exit 99
rm -f "$lib_results"
lib_results=/proc/$$/fd/$lib_fd
lib_plan=-1
nfail=0
plan() {
	if [ "$lib_plan" -ge 0 ] || [ -s "$lib_results" ]; then
		echo "FAIL (lib.sh): plan $1 after a plan or a case"
		echo F >&$lib_fd
	fi
	lib_plan=$1
}
pass() { echo "ok $*"; echo P >&$lib_fd; }
fail() { echo "FAIL $*"; echo F >&$lib_fd; nfail=$((nfail + 1)); }
skip_part() {
	echo "SKIP[$1]: $2 cases: ${*:3}"
	local i
	for ((i = 0; i < $2; i++)); do echo S >&$lib_fd; done
}
tally() {
	local l
	while IFS= read -r l; do
		printf '%s\n' "$l"
		case $l in
		"ok "*) echo P >&$lib_fd ;;
		"FAIL "*) echo F >&$lib_fd; nfail=$((nfail + 1)) ;;
		esac
	done
}
skip_all() { echo "SKIP[$1]: ${*:2}"; exit 77; }
finish() {
	local p f s ran
	end_checks_run
	p=$(grep -c P "$lib_results") f=$(grep -c F "$lib_results")
	s=$(grep -c S "$lib_results")
	ran=$((p + f))
	if [ "$lib_plan" -lt 0 ]; then
		echo "FAIL (lib.sh): the test declared no plan"
		f=$((f + 1))
	elif [ $((ran + s)) -ne "$lib_plan" ]; then
		echo "FAIL (lib.sh): $ran cases ran and $s were skipped," \
		    "the plan is $lib_plan"
		f=$((f + 1))
	fi
	echo "$ran of $lib_plan planned cases ran, $s skipped, $f failed"
	[ "$f" -eq 0 ]
}

# ---- end checks ------------------------------------------------------------
#
# Checks that every test gets at its end, whether it reaches finish or
# leaves early (exit, a signal): finish runs them before it counts, and the
# EXIT trap runs them when finish did not, turning a pass or a skip into a
# failure when one fails.  Each is a function that calls fail (and pass);
# at_end adds one (tests/server-lib.sh adds its servers' check), and
# end_checks_run runs them all, once, in order, then end_check_sanitizer
# (last, when the programs the others stop have written their logs).
end_checks=()
end_checks_done=0
at_end() { end_checks+=("$1"); }
end_checks_run() {
	local f
	[ "$end_checks_done" -eq 0 ] || return 0
	end_checks_done=1
	for f in "${end_checks[@]}" end_check_sanitizer; do
		"$f"
	done
}

# A sanitizer's report in any text file under $work, where the tests keep
# the logs of the programs they run (in the sanitizer build, a report that
# does not end the program, or that ends a child its parent replaces, is
# seen nowhere else).  ASan and LSan begin theirs with "==PID==ERROR:",
# UBSan with "FILE:LINE:COL: runtime error:"; both end with "SUMMARY:".
SANITIZER_RE='==[0-9]+==ERROR: [A-Za-z]+Sanitizer|^SUMMARY: [A-Za-z]+Sanitizer|[^ ]:[0-9]+:[0-9]+: runtime error: '
end_check_sanitizer() {
	local f bad=0
	[ -d "$work" ] || return 0
	while IFS= read -r f; do
		fail "sanitizer report in ${f#"$work"/}:"
		grep -m 3 -E "$SANITIZER_RE" "$f" | sed 's/^/    | /'
		bad=1
	done < <(grep -rIlE "$SANITIZER_RE" "$work" 2>/dev/null)
	[ $bad -eq 1 ] || pass "no sanitizer report in the logs under \$work"
}

lib_atexit() {
	local rc=$? n=$nfail
	end_checks_run
	if [ "$nfail" -gt "$n" ] && { [ $rc -eq 0 ] || [ $rc -eq 77 ]; }; then
		echo "$nfail failed (at exit)"
		rc=1
	fi
	rm -rf "$work"
	exit $rc
}
