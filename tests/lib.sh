# SPDX-License-Identifier: ISC
# Shared by the shell tests: a scratch directory removed at exit, pass/fail
# reporting, and finish, which prints the count and sets the exit status.
# Source it after checking AG_TOP.
work=$(mktemp -d) || exit 99
trap lib_atexit EXIT

nfail=0
pass() { echo "ok $*"; }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
finish() { end_checks_run; echo "$nfail failed"; [ "$nfail" -eq 0 ]; }

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
