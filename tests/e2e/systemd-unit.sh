#!/bin/bash
# SPDX-License-Identifier: ISC
#
# systemd-unit.sh: policy/systemd/aiguardd.service, statically.
#
# systemd-analyze security --offline=true scores the unit's exposure: it
# must be 1.5 or lower.  The unit must also carry each setting the
# confinement design names (dedicated user, read-only system and model
# store, no new privileges, W^X, a syscall filter, address families, no
# capabilities, memory, CPU and task limits), so that a lower score cannot
# come from dropping one of them.
#
# Environment (from tests/run-tests): AG_TOP.
# Exit codes: 0 pass, 1 fail, 99 hard error (also: no systemd-analyze).
set -u
: "${AG_TOP:?}"
. "$AG_TOP/tests/lib.sh"
plan 17
unit=$AG_TOP/policy/systemd/aiguardd.service
[ -f "$unit" ] || { echo "missing $unit"; exit 99; }
command -v systemd-analyze >/dev/null ||
    { echo "FAIL systemd-analyze missing (scripts/install-deps)"; exit 99; }

# --offline needs the unit under its own name in a directory of its own.
cp "$unit" "$work/aiguardd.service"
(cd "$work" && systemd-analyze security --offline=true aiguardd.service) \
    >"$work/out" 2>&1
score=$(sed -n 's/.*Overall exposure level for aiguardd.service: \([0-9.]*\).*/\1/p' \
    "$work/out")
if [ -z "$score" ]; then
	fail "no score from systemd-analyze"
	tail -n 5 "$work/out"
elif awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
	pass "exposure $score (at most 1.5)"
else
	fail "exposure $score is above 1.5"
	grep '✗' "$work/out" | head -n 20
fi

for want in '^DynamicUser=yes' '^User=aiguard' '^ProtectSystem=strict' \
    '^ReadOnlyPaths=-/var/lib/aiguard/models' '^NoNewPrivileges=yes' \
    '^MemoryDenyWriteExecute=yes' '^SystemCallFilter=@system-service' \
    '^SystemCallFilter=~@privileged' '^RestrictAddressFamilies=' \
    '^CapabilityBoundingSet=$' '^MemoryMax=' '^CPUQuota=' '^TasksMax=' \
    '^ProtectHome=yes' '^PrivateDevices=yes'; do
	if grep -q -- "$want" "$unit"; then
		pass "unit has ${want#^}"
	else
		fail "unit lacks ${want#^}"
	fi
done
finish
