#!/bin/bash
# SPDX-License-Identifier: ISC
#
# probe.sh: aiguard probe, the attack experiment run from inside
# aiguardd's confined roles (front and worker).
#
# As the invoking user (root in CI) and, when setpriv exists, as nobody
# (65534): `--sandbox required --expect blocked --json` must block every
# attack while the worker still reads its model (the control), and
# `--sandbox off --expect allowed --json` must let through every attack
# that plain DAC allows (the probe cannot pass vacuously: the results of
# the two modes must differ for each such attack).  Both roles must cover
# the seven scenario groups.  The probe must leave nothing behind: no
# /tmp/aiguard-probe* left, the model directory byte for byte the same.
#
# Cross-model access (one worker per model): this test's own list of the
# attempts on model B (its weights, its directory, its worker's signals
# and tensor slots) must be there in both roles, BLOCKED when confined
# and ALLOWED with the sandbox off, and model A's worker must read its
# own weights in both modes (the control: a blocked row means isolation,
# not a broken set-up).
#
# With every layer, every attack is claimed by one layer at least (the
# JSON's claimed_by; probe-layers.sh runs each layer alone).
#
# The sanitizer build (AG_BUILD ending in /asan) loads no seccomp filter
# by design (src/sandbox/seccomp.h).  There the test tolerates exactly
# what only seccomp stops, and says so in SKIP[sanitizer-no-seccomp]
# lines: chmod of the weights and of the model directory (Landlock has no
# right for file metadata, and the probe's scratch copy belongs to the
# invoker, so DAC allows it), and, as root, fork and the bounded fork bomb
# (RLIMIT_NPROC does not bind root); the --compare run is not made there.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
: "${AG_TOP:?}"
. "$AG_TOP/tests/probe-lib.sh"
plan 18
[ $asan -eq 0 ] || skip_part sanitizer-no-seccomp 0 "chmod (and fork," \
    "the fork bomb as root) are not required to be blocked"

# check USER MODE FILE RC: the JSON of one run against its expectation.
check() {
	"$PYTHON" - "$@" "$asan" <<'EOF'
import json, sys
who, mode, path, rc, asan = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4]), sys.argv[5] == "1"
groups = {"model modification", "workload execution", "theft",
          "directory tampering", "resource abuse", "lateral movement",
          "cross-model access"}
tolerated = set()
if asan:
    tolerated = {"chmod the weights", "chmod the model dir"}
    if who == "root":
        tolerated |= {"fork", "fork bomb (5 forks)"}
bad = []
try:
    recs = json.load(open(path))
except ValueError as e:
    print("bad JSON: %s" % e)
    sys.exit(1)
for role in ("front", "worker"):
    seen = {r["scenario"] for r in recs if r["role"] == role}
    if seen != groups:
        bad.append("%s: scenarios %s" % (role, sorted(seen ^ groups)))
tol = 0
for r in recs:
    k, res = r["kind"], r["result"]
    what = "%s/%s: %s (%s)" % (r["role"], r["attempt"], res, r["evidence"])
    if mode == "required" and k == "attack" and not r["claimed_by"]:
        bad.append("claimed by no layer: " + what)
    if res == "ERROR":
        bad.append(what)
    elif mode == "required":
        if k == "attack" and res not in ("BLOCKED", "SKIPPED"):
            if r["attempt"] in tolerated:
                tol += 1
            else:
                bad.append(what)
        if k == "control" and res != "ALLOWED":
            bad.append(what)
    elif r["dac_allowed"] and k != "info" and res not in ("ALLOWED",
                                                          "SKIPPED"):
        bad.append(what)
if mode == "required":
    ok_rc = 0 if tol == 0 else 1
else:
    ok_rc = 0
if rc != ok_rc:
    bad.append("exit status %d, expected %d" % (rc, ok_rc))
for b in bad:
    print("   ", b)
print("%s %s: %d attempts, %d tolerated" % (who, mode, len(recs), tol))
sys.exit(1 if bad else 0)
EOF
}

# differ WHO FILE_REQUIRED FILE_OFF: every DAC-allowed attack changes
# result (but those the sanitizer build tolerates).
differ() {
	"$PYTHON" - "$@" "$asan" <<'EOF'
import json, sys
who = sys.argv.pop(1)
tolerated = set()
if sys.argv[3] == "1":
    tolerated = {"chmod the weights", "chmod the model dir"}
    if who == "root":
        tolerated |= {"fork", "fork bomb (5 forks)"}
req = {(r["role"], r["attempt"]): r for r in json.load(open(sys.argv[1]))}
off = {(r["role"], r["attempt"]): r for r in json.load(open(sys.argv[2]))}
n, same = 0, []
for key, r in req.items():
    o = off.get(key)
    if o is None or r["kind"] != "attack" or not o["dac_allowed"] or \
            r["attempt"] in tolerated:
        continue
    if r["result"] == "SKIPPED" or o["result"] == "SKIPPED":
        continue
    if r["result"] == "BLOCKED" and o["result"] == "ALLOWED":
        n += 1
    else:
        same.append("%s/%s" % key)
print("blocked when confined, allowed when off: %d" % n)
for s in same:
    print("    same in both modes:", s)
sys.exit(0 if n >= 40 and not same else 1)
EOF
}

# cross WHO FILE_REQUIRED FILE_OFF: the attempts on model B, by name.
cross() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
who = sys.argv[1]
attacks = ["read model B's weights", "open model B's weights for writing",
           "create a file in model B's dir",
           "kill(SIGCONT) model B's worker",
           "map B's tensor slots via /proc/PID/fd",
           "process_vm_readv B's tensor slots"]
control = "read model A's weights (its own)"
bad = []
for mode, path, want in (("required", sys.argv[2], "BLOCKED"),
                         ("off", sys.argv[3], "ALLOWED")):
    recs = {(r["role"], r["attempt"]): r for r in json.load(open(path))}
    for role in ("front", "worker"):
        for a in attacks:
            r = recs.get((role, a))
            if r is None or r["kind"] != "attack" or \
                    r["scenario"] != "cross-model access":
                bad.append("%s: %s/%s: missing" % (mode, role, a))
            elif r["result"] != want and (want == "BLOCKED" or
                                          r["dac_allowed"]):
                bad.append("%s: %s/%s: %s (%s), want %s" % (
                    mode, role, a, r["result"], r["evidence"], want))
    r = recs.get(("worker", control))
    if r is None or r["kind"] != "control" or r["result"] != "ALLOWED":
        bad.append("%s: worker/%s: %s" % (mode, control, "missing" if
                   r is None else "%s (%s)" % (r["result"], r["evidence"])))
for b in bad:
    print("   ", b)
print("%s: cross-model access: %d faults" % (who, len(bad)))
sys.exit(1 if bad else 0)
EOF
}

# probe_as WHO MODEL [RUNNER...]: both modes, the checks, the leftovers.
probe_as() {
	local who=$1 model=$2 sum0 sum1 rc
	shift 2
	sum0=$(digest "$model")
	"$@" "$AG" probe --model "$model" --sandbox required --expect blocked \
	    --json >"$work/req.json" 2>"$work/req.err"
	rc=$?
	if check "$who" required "$work/req.json" "$rc"; then
		pass "$who: sandbox required: every attack blocked"
	else
		fail "$who: sandbox required"; sed 's/^/    | /' "$work/req.err"
	fi
	"$@" "$AG" probe --model "$model" --sandbox off --expect allowed \
	    --json >"$work/off.json" 2>"$work/off.err"
	rc=$?
	if check "$who" off "$work/off.json" "$rc"; then
		pass "$who: sandbox off: what DAC allows succeeds"
	else
		fail "$who: sandbox off"; sed 's/^/    | /' "$work/off.err"
	fi
	if differ "$who" "$work/req.json" "$work/off.json"; then
		pass "$who: results differ between the modes"
	else
		fail "$who: the modes do not differ"
	fi
	if cross "$who" "$work/req.json" "$work/off.json"; then
		pass "$who: model B out of reach when confined, reached when off"
	else
		fail "$who: cross-model access"
	fi
	sum1=$(digest "$model")
	probe_left_nothing "$who" "$work/req.err" "$work/off.err"
	[ "$sum0" = "$sum1" ] && pass "$who: model unchanged" ||
	    fail "$who: model directory changed"
}

# ---- usage ------------------------------------------------------------

"$AG" probe --expect maybe >/dev/null 2>&1
[ $? -eq 2 ] && pass "bad --expect: exit 2" || fail "bad --expect"
"$AG" probe --sandbox sometimes >/dev/null 2>&1
[ $? -eq 2 ] && pass "bad --sandbox: exit 2" || fail "bad --sandbox"
"$AG" probe extra >/dev/null 2>&1
[ $? -eq 2 ] && pass "extra argument: exit 2" || fail "extra argument"

# ---- as the invoking user (root in CI) ----------------------------------

if [ "$(id -u)" -eq 0 ]; then me=root; else me=user; fi
probe_as "$me" "$AG_MODEL"
# The table (its exit status is judged above, through the JSON runs).
"$AG" probe --model "$AG_MODEL" --sandbox required >"$work/table" 2>&1
grep -q '^worker  theft .*read the model file .*ALLOWED' "$work/table" &&
    grep -q '^front   theft .*read the model file .*BLOCKED' "$work/table" &&
    pass "table output" || fail "table output"

# ---- as nobody ----------------------------------------------------------

as_nobody 6 probe_as
# --compare: both columns in one run, the article's side-by-side table.
if [ $asan -eq 1 ]; then
	skip_part sanitizer-no-seccomp 1 "--compare: not every attack is" \
	    "blocked without seccomp"
else
	"$AG" probe --model "$AG_MODEL" --compare --json >"$work/cmp.json" \
	    2>"$work/cmp.err"
	rc=$?
	if [ $rc -eq 0 ] && "$PYTHON" - "$work/cmp.json" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
bad = [r["attempt"] for r in rows if r["kind"] == "attack" and (
    r["result"] not in ("BLOCKED", "SKIPPED") or
    (r["dac_allowed"] and r["dac_only_result"] != "ALLOWED"))]
sys.exit(1 if bad or len(rows) < 40 else 0)
EOF
	then
		pass "--compare: DAC only lets the attacks through, confined blocks them"
	else
		fail "--compare: exit $rc"
		tail -n 5 "$work/cmp.err"
	fi
fi
finish
