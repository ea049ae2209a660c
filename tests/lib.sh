# SPDX-License-Identifier: ISC
# Shared by the shell tests: a scratch directory removed at exit, pass/fail
# reporting, and finish, which prints the count and sets the exit status.
# Source it after checking AG_TOP.
work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT

nfail=0
pass() { echo "ok $*"; }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
finish() { echo "$nfail failed"; [ "$nfail" -eq 0 ]; }
