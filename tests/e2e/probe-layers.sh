#!/bin/bash
# SPDX-License-Identifier: ISC
#
# probe-layers.sh: every confinement layer, alone, blocks what it claims.
#
# probe.sh runs the attack matrix with every layer at once, where one
# layer hides another's hole: a worker whose Landlock rule granted write
# on the model directory went unnoticed, because seccomp killed the same
# writes.  Here `aiguard probe --sandbox required --layers X` applies X
# alone in each child (plus no_new_privs, which Landlock and seccomp
# need), for X = landlock, seccomp, both, mdwe and rlimits, as the
# invoking user (root in CI) and as nobody (setpriv).  For each run and
# each role (front, worker):
#   - the probe exits 0 (it judged every attack X claims BLOCKED);
#   - the layers in force are exactly X and its prerequisite: a run that
#     applied more would prove nothing about X alone;
#   - every attack claimed by X is judged and BLOCKED, every other one is
#     reported and not judged, the control (the worker reads its model)
#     is ALLOWED, nothing ends in ERROR;
#   - an attack X does not claim, and that plain DAC allows, succeeds:
#     the other layers are really off, and X blocks nothing it does not
#     declare (the claims are complete as well as true);
#   - this test's own list of what X must claim (the attacks the layer
#     exists for, e.g. Landlock and the worker writing its weights, or
#     reaching another model's weights and worker) is claimed, and at
#     least a minimum number of attacks is judged, so that a table that
#     stopped claiming cannot pass.
# The probe leaves nothing in /tmp and the model directory unchanged.
#
# The sanitizer build (AG_BUILD ending in /asan) loads no seccomp filter
# by design (src/sandbox/seccomp.h): the runs with seccomp cannot happen
# there and are reported as SKIP[sanitizer-no-seccomp] lines; the others
# still run.  It sets no RLIMIT_AS either (ASan's shadow memory): the
# memory attempt is then SKIPPED by the probe, reported here as
# SKIP[sanitizer-no-rlimit-as].  In the normal build a judged attempt
# that the probe SKIPPED is a failure.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
: "${AG_TOP:?}"
. "$AG_TOP/tests/probe-lib.sh"
plan 37

# judge WHO LAYERS FILE RC: one run's JSON; prints ok/FAIL/SKIP lines
# (three cases: the exit status, the front, the worker), exits with the
# number of failures.
judge() {
	"$PYTHON" - "$@" "$asan" <<'EOF'
import json, sys
who, layers, path, rc, asan = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4]), sys.argv[5] == "1"
asked = set(layers.split(","))
# What the run must have in force: the layers asked, and no_new_privs
# when Landlock or seccomp is among them; nothing else.
want = set(asked)
if asked & {"landlock", "seccomp"}:
    want.add("no_new_privs")
# What this test requires each layer to claim, per role: the attacks the
# layer is there for (written here, not read from the probe's table).
file_writes = ["open the weights for writing", "truncate the weights",
               "append to the weights", "rename a file over the weights",
               "unlink the weights", "create a file in the model dir",
               "replace labels.txt with a symlink",
               "remove an entry (config.json)", "create an entry (mkdir)",
               "rename the model dir"]
# Model A's worker against model B (another model of the store, and its
# worker in a Landlock domain of its own): Landlock keeps every one of
# these out of reach; seccomp what it refuses whatever the target.
model_b = ["read model B's weights", "open model B's weights for writing",
           "create a file in model B's dir",
           "kill(SIGCONT) model B's worker",
           "map B's tensor slots via /proc/PID/fd",
           "process_vm_readv B's tensor slots"]
model_b_seccomp = ["open model B's weights for writing",
                   "create a file in model B's dir",
                   "kill(SIGCONT) model B's worker",
                   "process_vm_readv B's tensor slots"]
must = {
    "landlock": {
        "front": file_writes + ["read the model file", "read /etc/shadow",
                                "execve /bin/sh",
                                "connect to a loopback TCP port",
                                "send over an abstract UNIX socket",
                                "kill(SIGCONT) the sibling",
                                "ptrace(PTRACE_ATTACH) the sibling"] +
                   model_b,
        "worker": file_writes + ["read /etc/shadow",
                                 "read a private (0600) file",
                                 "copy the model to /tmp", "execve /bin/sh",
                                 "connect to a loopback TCP port",
                                 "open /proc/SIBLING/mem"] + model_b,
    },
    "seccomp": {
        "front": file_writes + ["chmod the weights", "chmod the model dir",
                                "read the model file", "execve /bin/sh",
                                "fork", "mmap PROT_WRITE|PROT_EXEC",
                                "ptrace(PTRACE_ATTACH) the sibling",
                                "kill(SIGCONT) the sibling"] + model_b,
        "worker": file_writes + ["chmod the weights", "chmod the model dir",
                                 "execve /bin/sh", "fork",
                                 "dlopen a library dropped in /tmp",
                                 "mmap PROT_WRITE|PROT_EXEC",
                                 "process_vm_readv the sibling"] +
                  model_b_seccomp,
    },
    "mdwe": {
        "front": ["mmap PROT_WRITE|PROT_EXEC",
                  "mprotect a written page to PROT_EXEC"],
        "worker": ["mmap PROT_WRITE|PROT_EXEC",
                   "mprotect a written page to PROT_EXEC"],
    },
    "rlimits": {
        "front": ["allocate past sandbox.max_memory"],
        "worker": ["allocate past sandbox.max_memory"],
    },
}
if who != "root":
    # RLIMIT_NPROC binds a process without root privileges only.
    for role in ("front", "worker"):
        must["rlimits"][role] += ["fork", "fork bomb (5 forks)"]
# The fewest attacks each set must judge per role (front, worker), from
# the runs that set the claims (root; nobody judges the same or more).
least = {"landlock": (33, 32), "seccomp": (39, 33),
         "landlock,seccomp": (39, 38), "mdwe": (2, 2), "rlimits": (1, 1)}
nfail = 0
def out(ok, msg, detail=()):
    global nfail
    print("%s %s: --layers %s: %s" % ("ok" if ok else "FAIL", who, layers,
                                       msg))
    for d in detail:
        print("    ", d)
    if not ok:
        nfail += 1
try:
    recs = json.load(open(path))
except (OSError, ValueError) as e:
    out(False, "no JSON: %s" % e)
    sys.exit(1)
out(rc == 0, "exit status %d" % rc)
for role in ("front", "worker"):
    rr = [r for r in recs if r["role"] == role]
    bad, judged, reported = [], 0, 0
    # (An attempt SKIPPED before its child started has no layers.)
    forced = {tuple(sorted(r["layers_in_force"])) for r in rr
              if r["result"] != "SKIPPED"}
    if forced != {tuple(sorted(want))}:
        bad.append("layers in force %s, want exactly %s" %
                   (sorted(forced), sorted(want)))
    for r in rr:
        what = "%s (%s: %s; claimed by %s)" % (r["attempt"], r["result"],
                                               r["evidence"],
                                               ",".join(r["claimed_by"]))
        claimed = r["kind"] == "attack" and bool(asked &
                                                  set(r["claimed_by"]))
        if r["result"] == "ERROR":
            bad.append("error: " + what)
        if r["kind"] == "control":
            if r["result"] != "ALLOWED" or not r["judged"]:
                bad.append("control: " + what)
            continue
        if r["kind"] != "attack":
            continue
        if r["judged"] != claimed:
            bad.append("judged is %s: %s" % (r["judged"], what))
        if not claimed:
            # The other layers are really off: what X does not claim,
            # and DAC allows, goes through (so the claims are complete).
            reported += 1
            if r["dac_allowed"] and r["result"] not in ("ALLOWED",
                                                        "SKIPPED"):
                bad.append("blocked, yet not claimed: " + what)
            continue
        judged += 1
        if r["result"] == "SKIPPED" and asan and \
                r["attempt"] == "allocate past sandbox.max_memory":
            print("SKIP[sanitizer-no-rlimit-as]: %s: --layers %s: %s: "
                  "%s" % (who, layers, role, what))
        elif r["result"] != "BLOCKED":
            bad.append("not blocked: " + what)
    for layer in asked:
        for a in must.get(layer, {}).get(role, []):
            r = [x for x in rr if x["attempt"] == a]
            if len(r) != 1 or layer not in r[0]["claimed_by"]:
                bad.append("%s must claim %s" % (layer, a))
    n = least[layers][0 if role == "front" else 1]
    if judged < n:
        bad.append("%d attacks judged, %d at least" % (judged, n))
    out(not bad, "%s: %d claimed attacks blocked, %d reported" %
        (role, judged, reported), bad)
sys.exit(min(nfail, 100))
EOF
}

# layers_as WHO MODEL [RUNNER...]: every set of layers, then the leftovers.
layers_as() {
	local who=$1 model=$2 l rc sum0 sum1 n=0
	shift 2
	sum0=$(digest "$model")
	for l in landlock seccomp landlock,seccomp mdwe rlimits; do
		case "$asan,$l" in
		1,*seccomp*)
			skip_part sanitizer-no-seccomp 3 "$who: --layers $l:" \
			    "a sanitizer build loads no seccomp filter"
			continue ;;
		esac
		n=$((n + 1))
		"$@" "$AG" probe --model "$model" --sandbox required \
		    --layers "$l" --json >"$work/run$n.json" \
		    2>"$work/run$n.err"
		rc=$?
		judge "$who" "$l" "$work/run$n.json" "$rc" \
		    >"$work/judge$n.out"
		rc=$?
		# judge's ok and FAIL lines are the cases.
		tally <"$work/judge$n.out"
		if [ $rc -ne 0 ]; then
			sed 's/^/    | /' "$work/run$n.err" | grep -v ' info: '
		fi
	done
	sum1=$(digest "$model")
	[ "$sum0" = "$sum1" ] && pass "$who: model unchanged" ||
	    fail "$who: model directory changed"
	probe_left_nothing "$who" "$work"/run*.err
	rm -f "$work"/run*
}

# ---- usage --------------------------------------------------------------

"$AG" probe --layers landlock,bogus >/dev/null 2>&1
[ $? -eq 2 ] && pass "unknown layer: exit 2" || fail "unknown layer"
"$AG" probe --layers landlock --sandbox off >/dev/null 2>&1
[ $? -eq 2 ] && pass "--layers with the sandbox off: exit 2" ||
    fail "--layers with the sandbox off"

# ---- as the invoking user (root in CI) ----------------------------------

if [ "$(id -u)" -eq 0 ]; then me=root; else me=user; fi
layers_as "$me" "$AG_MODEL"

# ---- as nobody ----------------------------------------------------------

as_nobody 17 layers_as
finish
