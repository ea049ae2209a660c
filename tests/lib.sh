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
#                       are not the plan
# Each result is a line in a file, not a shell variable, so that a case
# reported from a subshell or a pipeline is counted all the same.  The file
# is unlinked at once and kept open (a test may own every name in $work,
# and may replace the EXIT trap).
work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT

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
	p=$(grep -c P "$lib_results") f=$(grep -c F "$lib_results")
	s=$(grep -c S "$lib_results")
	ran=$((p + f))
	# A failure counted by hand in $nfail, and not through fail, counts.
	[ "$nfail" -le "$f" ] || f=$nfail
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
