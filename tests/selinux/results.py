#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# results.py RESULTS_DIR OUT_DIR KERNEL SECONDS [PROBE_SRC]: judge what the
# SELinux test guest saw (tests/selinux/guest-init) and write the table:
# OUT_DIR/results.md (scenario x permissive/enforcing, with the AVC line
# of each denial) and OUT_DIR/results.json.  Prints one PASS/FAIL line
# per check and, last, "N passed, N failed"; exits 0 only when all pass.
#
# The rules:
#   - legitimate operations (serve, classify, deploy by the administrator)
#     succeed in both modes, in the expected domains;
#   - every attack is refused in enforcing, with an AVC denial of its own,
#     and succeeds in permissive (so nothing passes vacuously);
#   - the probe ran every attempt of its table (PROBE_SRC, the source
#     of the table, by default src/cli/probe_attacks.c of this tree: the
#     attempts[] array and each one's kind per role), once
#     per role and mode, no more and no fewer: a guest that silently ran
#     fewer fails;
#   - the probe's attempts that one domain cannot refuse by design (the
#     daemon forks, signals itself and reads its model, and one domain
#     serves every model of a repository) are listed as such and not
#     counted;
#   - a SKIPPED attempt fails, unless EXPECTED_SKIPS below names it with
#     the reason, and the probe's evidence gives that reason;
#   - aiguardd's log in each phase shows no child that died and a clean
#     stop ("stopped status=0");
#   - the front door (HTTPS, the token file): aiguardd reads the TLS key
#     and the token file in aiguard_t, the administrator's `aiguard
#     token add` rewrites the file in aiguard_deploy_t and keeps its
#     label, and no denial of aiguard_t or aiguard_deploy_t on
#     aiguard_tokens_t or aiguard_tls_key_t appears in either mode;
#     staff_t is refused both files (as uid 0 by SELinux alone, in
#     enforcing; as an ordinary user by DAC as well, in both modes).

import datetime
import json
import os
import re
import sys

MODES = ("permissive", "enforcing")

# Probe attempts SELinux cannot refuse with one daemon domain, and why.
BY_DESIGN = {
    "fork": "aiguardd forks its front end and worker (process fork)",
    "fork bomb (5 forks)": "aiguardd forks; RLIMIT_NPROC and seccomp limit this",
    "kill(SIGCONT) the sibling": "aiguardd signals its own processes (same domain)",
    "allocate past sandbox.max_memory": "memory is RLIMIT_AS's, not SELinux's",
    ("front", "read the model file"): "reading the model is aiguard_t's job; "
    "Landlock keeps the front end off it",
    # One aiguard_t serves every model of a repository (docs/selinux.md):
    # what keeps model A's worker off model B is Landlock's.
    "read model B's weights": "every model is aiguard_model_t, read by "
    "aiguard_t; Landlock keeps each worker to its own model",
    "kill(SIGCONT) model B's worker": "every worker is aiguard_t (same "
    "domain); Landlock's signal scope keeps the workers apart",
    "map B's tensor slots via /proc/PID/fd": "aiguard_t maps every "
    "worker's tensor slots (the front end must); Landlock keeps the "
    "workers apart",
}

# Probe attempts that may come back SKIPPED in the guest, and why: none.
# The guest has python3 (python3-minimal) and probe.conf sets
# sandbox.max_memory; the guest runs the normal build, not the sanitizer
# one.  An entry is ("role" or None for both, "attempt"): "the reason, as
# the probe's evidence says it".
EXPECTED_SKIPS = {}

# The probe's kinds, as attempts[] spells them (K_NONE: not run there).
PROBE_KINDS = {"K_ATTACK": "attack", "K_CONTROL": "control",
               "K_INFO": "info", "K_NONE": None}
PROBE_ROLES = ("front", "worker")

STAFF_ATTACKS = [
    ("staff-write-model", "model modification",
     "write (append) to a model file"),
    ("staff-copy-public", "theft",
     "copy the model into /srv/ftp (public_content_t)"),
    ("staff-read-model", "workload execution",
     "run a workload that reads the model (sha256sum)"),
    ("staff-write-config", "configuration tampering",
     "append to /etc/aiguard/aiguardd.conf"),
    ("staff-rename-model-dir", "directory tampering",
     "rename the model directory"),
    ("staff-delete-model-dir", "directory tampering",
     "delete the model directory (rm -rf)"),
    ("staff-read-tls-key", "theft",
     "read the TLS key (/etc/aiguard/tls/server.key)"),
    ("staff-read-tokens", "theft",
     "read the token file (/etc/aiguard/auth/tokens)"),
    # Through a hard link in /var/tmp: the refusal must be on the file's
    # own type, not on the search of /etc/aiguard.
    ("staff-read-tls-key-link", "theft",
     "read the TLS key through a hard link in /var/tmp",
     "aiguard_tls_key_t"),
    ("staff-read-tokens-link", "theft",
     "read the token file through a hard link in /var/tmp",
     "aiguard_tokens_t"),
]

# staff_t as uid 65534 (setpriv, then runcon): refused in both modes,
# "Permission denied"; in permissive by DAC alone (0750 directories,
# 0640 files, root:aiguard), in enforcing with a staff_t AVC first.
STAFF_USER = [
    ("staff-user-read-tls-key", "theft",
     "read the TLS key as uid 65534"),
    ("staff-user-read-tokens", "theft",
     "read the token file as uid 65534"),
]

LEGIT = [
    ("serve", "systemctl start aiguardd (as sysadm_r): the shipped unit, "
     "every process in aiguard_t, user aiguard, no capabilities, ready"),
    ("classify", "POST /v2/models/resnet18/classify (JPEG) over HTTPS "
     "with the ci token -> 200"),
    ("journal", "aiguardd's log lines reach the journal (its invocation)"),
    ("reload", "systemctl reload aiguardd: one more successful reload"),
    ("admin-deploy", "aiguard deploy of a signed new version as "
     "staff_u:sysadm_r:sysadm_t, in aiguard_deploy_t, with reload"),
    ("classify-after-deploy", "classify after the reload -> 200"),
    ("deploy-picked-up", "the running service serves the deployed version "
     "(its digest changed)"),
    ("repository", "a second model deployed, the store served as a "
     "repository (model.repository): one worker per model, every "
     "process in aiguard_t, both classify -> 200, the module unchanged"),
    ("stop", "systemctl stop aiguardd: Result success, status 0, no "
     "process left"),
]

# The front door, in both modes: what holds whether SELinux enforces or
# not (a refusal here is aiguardd's, an expected status).
FRONT_DOOR = [
    ("frontdoor-files", "the token file aiguard_tokens_t and the TLS key "
     "aiguard_tls_key_t, both root:aiguard 0640"),
    ("https-health", "GET /v2/health/live over HTTPS (the test CA) -> 200"),
    ("plain-http-refused", "plain HTTP to the TLS port: no HTTP answer"),
    ("classify-no-token", "classify with no token -> 401"),
    ("classify-bad-token", "classify with an unknown token -> 401"),
    ("admin-token-add", "aiguard token add t2 --scopes infer as "
     "staff_u:sysadm_r:sysadm_t, in aiguard_deploy_t"),
    ("token-file-kept", "the rewritten token file keeps its label, owner, "
     "group and mode, and holds ci and t2"),
    ("token-reload", "systemctl reload: one more event=frontdoor_reload "
     "result=ok, then t2 known (metadata without its scope -> 403)"),
    ("t2-classify", "classify with the new token t2 -> 200"),
]

# The types of the front door's files, and who must never be denied on
# them.
FD_TYPES = ("aiguard_tokens_t", "aiguard_tls_key_t")
FD_DOMAINS = ("aiguard_t", "aiguard_deploy_t")

# Run once, in the enforcing phase (the guest is slow).
ENFORCING_ONLY = ("journal", "reload", "repository")

# aiguard doctor --json: the checks that must pass, by who runs it and
# the mode.  As root in the harness (unconfined): everything SELinux.  As
# the confined administrator (aiguard_deploy_t), which may not run the
# programs doctor asks (pp, semodule, seinfo, systemd-analyze): the mode,
# the labels and the files.  The guest's kernel (6.1) has no MDWE and
# Landlock ABI 2: those warn.  Doctor runs once, enforcing.
DOCTOR_PASS = {
    ("doctor-root", "enforcing"): ("selinux", "selinux-module",
                                   "selinux-domain", "selinux-port",
                                   "selinux-labels", "store", "keys",
                                   "private-keys", "config-perms",
                                   "sandbox-user", "systemd-exposure",
                                   "tokens-file", "tls-key"),
    ("doctor", "enforcing"): ("selinux", "selinux-domain", "selinux-port",
                              "selinux-labels", "store", "keys",
                              "private-keys", "config-perms",
                              "sandbox-user", "tokens-file", "tls-key"),
}

AVC_RE = re.compile(r"avc:\s+(denied|granted)\s+\{ ([^}]*) \}.*")


def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def load_steps(d, mode):
    steps = {}
    for line in read(os.path.join(d, mode + ".steps.tsv")).splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            steps[parts[0]] = (int(parts[1]), parts[2] if len(parts) > 2 else "")
    return steps


def short_avc(line):
    m = re.search(r"avc:.*", line)
    s = m.group(0) if m else line
    return re.sub(r"\s+", " ", s).strip()


def doctor_json(d, mode, name):
    try:
        return json.loads(read(os.path.join(d, "%s.%s.json" % (mode, name)),
                              "{}"))
    except ValueError:
        return {}


def split_dmesg(d, mode):
    """AVC lines per step, and per probe child (seq -> lines)."""
    segs, children, child_pids = {}, {}, []
    cur = None
    for line in read(os.path.join(d, mode + ".dmesg")).splitlines():
        m = re.search(r"aiguard-step (\S+)", line)
        if m and "avc:" not in line:
            cur = m.group(1)
            segs.setdefault(cur, [])
            continue
        m = re.search(r"aiguard-probe-child seq=(\d+) pid=(\d+)", line)
        if m:
            child_pids.append((int(m.group(2)), int(m.group(1))))
            continue
        if "avc:" in line and cur is not None:
            segs[cur].append(short_avc(line))
            if cur == "probe":
                pm = re.search(r" pid=(\d+) ", line)
                if pm and child_pids:
                    pid = int(pm.group(1))
                    # The child with the largest pid <= this one: the
                    # attempt's own process or one it forked.
                    best = None
                    for cpid, seq in child_pids:
                        if cpid <= pid and (best is None or cpid > best[0]):
                            best = (cpid, seq)
                    if best is not None:
                        children.setdefault(best[1], []).append(short_avc(line))
    return segs, children


def c_string(lit):
    """The value of a C string literal body (simple escapes only)."""
    return re.sub(r'\\(.)', r"\1", lit)


def attempt_table(path):
    """The probe's attempts[] from its source: a list of (role, scenario,
    attempt, kind) in the order the probe runs them (role by role).
    Raises ValueError when the table cannot be read in full."""
    src = read(path)
    if not src:
        raise ValueError("cannot read %s" % path)
    macros = {m.group(1): c_string(m.group(2)) for m in re.finditer(
        r'^#define\s+(S\d+)\s+"((?:[^"\\]|\\.)*)"', src, re.M)}
    m = re.search(r"struct probe_attempt attempts\[\]\s*=\s*\{(.*?)\n\};",
                  src, re.S)
    if not m:
        raise ValueError("no attempts[] table in %s" % path)
    body = m.group(1)
    ents = re.findall(r'\{\s*(\w+),\s*"((?:[^"\\]|\\.)*)",\s*(K_\w+),'
                      r'\s*(K_\w+),', body)
    opened = len(re.findall(r"^\s*\{", body, re.M))
    if not ents or len(ents) != opened:
        raise ValueError("attempts[] in %s: %d entries read of %d" %
                         (path, len(ents), opened))
    table = []
    for r, role in enumerate(PROBE_ROLES):
        for scen, name, kf, kw in ents:
            k = (kf, kw)[r]
            if scen not in macros or k not in PROBE_KINDS:
                raise ValueError("attempts[] in %s: cannot read %r" %
                                 (path, name))
            if PROBE_KINDS[k] is not None:
                table.append((role, macros[scen], c_string(name),
                              PROBE_KINDS[k]))
    return table


def names(lst, most=6):
    """lst joined with commas, at most `most` of them."""
    return ", ".join(lst[:most]) + (" and %d more" % (len(lst) - most)
                                    if len(lst) > most else "")


def expected_skip(role, attempt):
    return EXPECTED_SKIPS.get((role, attempt)) or \
        EXPECTED_SKIPS.get((None, attempt))


def probe_records(d, mode):
    try:
        recs = json.loads(read(os.path.join(d, mode + ".probe.json"), "[]"))
    except ValueError:
        return [], {}
    # Fork sequence: 0 is the sibling, 1 model B's worker, then one per
    # attempt actually run (an attempt skipped by its pa_skip() forks
    # nothing: only the memory attempt has one).
    seq, seqmap = 2, {}
    for i, r in enumerate(recs):
        if r.get("result") == "SKIPPED" and \
                r.get("attempt") == "allocate past sandbox.max_memory":
            continue
        seqmap[i] = seq
        seq += 1
    return recs, seqmap


# Denied on every domain transition, by design, and normally dontaudit:
# AT_SECURE, and the inherited signal state and resource limits are reset.
TRANSITION_NOISE = ("{ noatsecure }", "{ siginh }", "{ rlimitinh }")


# The policy's own dontaudit rules (the guest runs with dontaudit off):
# (source domain, permission).  aiguard_deploy_t's chmod of the store's
# files, whose group root is not in, asks for CAP_FSETID (may S_ISGID
# stay?); the modes have no set-id bit, so the denial changes nothing.
POLICY_DONTAUDIT = (("aiguard_deploy_t", "{ fsetid }"),)


def policy_noise(l):
    src = l.split("tcontext")[0]
    return any(":" + d + ":" in src and p in l for d, p in POLICY_DONTAUDIT)


# The programs the legitimate steps run (the harness, the administrator's
# commands, aiguard's own): a denial of one of them, or one that names
# aiguard anywhere (a context, a path, a command), is the step's.  Any
# other (a boot service of the guest, logging with dontaudit off) is
# reported beside the step, not held against it.
STEP_COMMS = ("systemctl", "curl", "sh", "bash", "runcon", "newrole",
              "sudo", "cp", "mv", "rm", "ln", "cat", "sha256sum", "ls",
              "stat", "chcon", "restorecon", "setfiles", "readlink",
              "journalctl", "kill", "id", "harness", "(aiguardd)")


def step_denial(l):
    if "aiguard" in l:
        return True
    m = re.search(r'comm="([^"]*)"', l)
    return m is None or m.group(1) in STEP_COMMS


def denials(lines, domain=None):
    out = [l for l in lines if ("avc: denied" in l or "avc:  denied" in l)
           and not any(n in l for n in TRANSITION_NOISE)
           and not policy_noise(l)]
    if domain:
        out = [l for l in out if ":" + domain + ":" in l.split("tcontext")[0]]
    return out


def main():
    rdir, outdir, kernel, secs = sys.argv[1:5]
    probe_src = sys.argv[5] if len(sys.argv) > 5 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
        "cli", "probe_attacks.c")
    passed = failed = 0
    rows, checks = [], []

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        checks.append({"ok": bool(ok), "check": what})
        print(("PASS " if ok else "FAIL ") + what)

    # Each denial set aside as the policy's dontaudit must be one.
    te = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "..", "policy", "selinux", "aiguard.te")
    with open(te) as f:
        te_text = " ".join(f.read().split())
    for d, p in POLICY_DONTAUDIT:
        rule = "dontaudit %s self:capability %s;" % (d, p.strip("{} "))
        check(rule in te_text, "policy: %s is in aiguard.te (its denials "
              "are set aside)" % rule)

    steps = {m: load_steps(rdir, m) for m in MODES}
    dm = {m: split_dmesg(rdir, m) for m in MODES}
    for m in MODES:
        check(bool(steps[m]), "%s: the guest ran the %s phase" % (m, m))

    # Legitimate operations, and the front door's checks: succeed in
    # both modes.
    for group, name, what in [("legitimate",) + x for x in LEGIT] + \
            [("front door",) + x for x in FRONT_DOOR]:
        row = {"group": group, "scenario": name, "attempt": what,
               "domain": "", "counted": True}
        for m in MODES:
            if name in ENFORCING_ONLY and m != "enforcing":
                continue
            rc, detail = steps[m].get(name, (None, "not run"))
            segs = dm[m][0].get(name, [])
            ok = rc == 0
            extra = ""
            if name == "serve":
                ok = ok and ":aiguard_t:" in detail
                row["domain"] = "init_t -> aiguard_t"
            if name.startswith("classify") or name == "t2-classify":
                row["domain"] = "aiguard_t"
            if name == "admin-token-add":
                # The test module's auditallow: the CLI created its
                # temporary file (or renamed it) in aiguard_deploy_t.
                granted = [l for l in segs if "granted" in l and
                           ":aiguard_deploy_t:" in l and
                           ":aiguard_tokens_t:" in l]
                ok = ok and "sysadm_t" in detail and bool(granted)
                extra = granted[0] if granted else ""
                row["domain"] = "sysadm_t -> aiguard_deploy_t"
            if name == "admin-deploy":
                granted = [l for l in segs if "granted" in l and
                           "aiguard_deploy_t" in l]
                ok = ok and "sysadm_t" in detail and bool(granted)
                extra = granted[0] if granted else ""
                row["domain"] = "sysadm_t -> aiguard_deploy_t"
            den_all = denials(segs)
            den = [l for l in den_all if step_denial(l)]
            other = [l for l in den_all if not step_denial(l)]
            if m == "enforcing":
                ok = ok and not den
            row[m] = {"result": "OK" if rc == 0 else "FAILED (rc %s)" % rc,
                      "detail": detail, "avc": den[:3], "evidence": extra,
                      "other_avc": other[:3]}
            why = ""
            if not ok:
                # The log alone must explain a failure (CI keeps only
                # the output): the exit status, the step's output and
                # the denials logged while it ran.
                why = " | rc %s | %s | denials: %s" % (
                    rc, detail[:240], "; ".join(den[:3]) or "none")
            check(ok, "%s: %s succeeds (%s)%s" % (m, name, what, why))
        rows.append(row)

    # staff_t attacks on the store and the configuration.
    for who, m in DOCTOR_PASS:
        d = doctor_json(rdir, m, who)
        st = {c.get("name"): c for c in d.get("checks", [])}
        rc = steps[m].get(who, (None, ""))[0]
        want = DOCTOR_PASS[(who, m)]
        bad = ["%s %s (%s)" % (n, st.get(n, {}).get("status", "missing"),
                               st.get(n, {}).get("evidence", "")[:100])
               for n in want if st.get(n, {}).get("status") != "PASS"]
        fails = ["FAIL " + c.get("name", "") for c in d.get("checks", [])
                 if c.get("status") == "FAIL"]
        mode_ok = m in st.get("selinux", {}).get("evidence", "")
        by = "root (unconfined)" if who == "doctor-root" else \
            "the administrator (sysadm_r, in aiguard_deploy_t)"
        check(rc == 0 and not bad and not fails and mode_ok,
              "%s: aiguard doctor as %s: exit %s, SELinux reported %s, "
              "no FAIL, PASS: %s%s" % (
                  m, by, rc, m, ", ".join(want),
                  "".join(" | " + x for x in bad + fails)))
        rows.append({"group": "doctor", "scenario": "aiguard doctor",
                     "attempt": "as " + by, "domain": "", "counted": True,
                     m: {"result": "exit %s: %s" % (rc, ", ".join(
                         "%s %d" % (k, v) for k, v in
                         sorted(d.get("summary", {}).items()))),
                         "detail": "", "avc": []}})
    d = doctor_json(rdir, "enforcing", "doctor-wrong-label")
    lab = [c for c in d.get("checks", []) if c.get("name") ==
           "selinux-labels"]
    ev = lab[0].get("evidence", "") if lab else ""
    rc = steps["enforcing"].get("doctor-wrong-label", (None, ""))[0]
    check(rc == 0 and bool(lab) and lab[0].get("status") == "FAIL" and
          "aiguard-build.pub" in ev and "etc_t" in ev,
          "enforcing: aiguard doctor catches a key relabelled etc_t "
          "(selinux-labels FAIL, exit 1): %s" % (ev[:160] or "no check"))
    rc, detail = steps["enforcing"].get("no-nnp-start", (None, "not run"))
    nnp = [l for l in dm["enforcing"][0].get("no-nnp-start", [])
           if "denied" in l and "nnp_transition" in l and
           "scontext=system_u:system_r:init_t" in l and
           "tcontext=system_u:system_r:aiguard_t" in l]
    check(rc == 0 and bool(nnp),
          "enforcing: with the module built without init_t's "
          "nnp_transition into aiguard_t, the shipped unit "
          "(NoNewPrivileges=yes) never runs in aiguard_t (AVC "
          "nnp_transition; aiguardd left in init_t refuses to run)%s" % (
              "" if nnp else " (no nnp_transition denial: %s)" % detail[:160]))
    rows.append({"group": "non-vacuous", "scenario": "no nnp_transition",
                 "attempt": "systemctl start aiguardd with the module "
                 "lacking init_t process2 nnp_transition aiguard_t",
                 "domain": "init_t -> aiguard_t", "counted": True,
                 "enforcing": {"result": "BLOCKED" if rc == 0 else
                               "STARTED", "detail": detail, "avc": nnp[:1]},
                 "permissive": {"result": "-", "detail": "", "avc": []}})

    for name, scen, what, *ttype in STAFF_ATTACKS:
        row = {"group": "staff_t (uid 0)", "scenario": scen, "attempt": what,
               "domain": "staff_t", "counted": True}
        for m in MODES:
            rc, detail = steps[m].get(name, (None, "not run"))
            den = denials(dm[m][0].get(name, []), "staff_t")
            if ttype:
                # Refused on the file's own type.
                den = [l for l in den if ":%s:" % ttype[0] in
                       l.split("tcontext")[1]]
            if m == "enforcing":
                ok = rc not in (None, 0) and bool(den)
                res = "BLOCKED" if rc not in (None, 0) else "ALLOWED"
            else:
                ok = rc == 0
                res = "ALLOWED" if rc == 0 else "FAILED (rc %s)" % rc
            row[m] = {"result": res, "detail": detail, "avc": den[:3]}
            check(ok, "%s: staff_t: %s is %s%s" %
                  (m, what, "refused" if m == "enforcing" else "allowed",
                   " (AVC on %s)" % ttype[0] if ttype and
                   m == "enforcing" else ""))
        rows.append(row)

    for name, scen, what in STAFF_USER:
        row = {"group": "staff_t (uid 65534)", "scenario": scen,
               "attempt": what, "domain": "staff_t", "counted": True}
        for m in MODES:
            rc, detail = steps[m].get(name, (None, "not run"))
            den = denials(dm[m][0].get(name, []), "staff_t")
            ok = rc not in (None, 0) and "Permission denied" in detail \
                and detail.startswith("65534 ")
            if m == "enforcing":
                ok = ok and bool(den)
            row[m] = {"result": "BLOCKED" if rc not in (None, 0) else
                      "ALLOWED", "detail": detail, "avc": den[:3]}
            check(ok, "%s: staff_t as uid 65534: %s is refused (%s)" % (
                m, what, "an AVC, EACCES" if m == "enforcing" else
                "EACCES by DAC"))
        rows.append(row)

    # No denial of the daemon or the CLI on the front door's files, in
    # the whole phase.
    for m in MODES:
        bad = []
        for line in read(os.path.join(rdir, m + ".dmesg")).splitlines():
            if "avc:" not in line or "denied" not in line:
                continue
            src, _, tgt = short_avc(line).partition("tcontext")
            if any(":%s:" % d in src for d in FD_DOMAINS) and \
                    any(":%s:" % t in tgt for t in FD_TYPES):
                bad.append(short_avc(line))
        check(bool(steps[m]) and not bad,
              "%s: no denial of %s on %s" % (
                  m, " or ".join(FD_DOMAINS), " or ".join(FD_TYPES)) +
              "".join(" | " + l[:200] for l in bad[:3]))

    # The probe: each attempt in aiguard_t.
    probe = {}
    for m in MODES:
        recs, seqmap = probe_records(rdir, m)
        probe[m] = {}
        for i, r in enumerate(recs):
            key = (r.get("role"), r.get("attempt"))
            avcs = dm[m][1].get(seqmap.get(i, -1), [])
            probe[m][key] = (r, denials(avcs, "aiguard_t"))
    check(len(probe["enforcing"]) > 0 and len(probe["permissive"]) > 0,
          "the probe reported in both modes")
    # Every attempt of the probe's table, once per role and mode.
    try:
        table = attempt_table(probe_src)
        terr = ""
    except ValueError as e:
        table, terr = [], str(e)
    check(bool(table), "the probe's attempt table: %s" % (
        terr or "%d attempts over %s, from %s" % (
            len(table), " and ".join(PROBE_ROLES),
            os.path.basename(probe_src))))
    for m in MODES:
        recs, _ = probe_records(rdir, m)
        got = [(r.get("role"), r.get("scenario"), r.get("attempt"),
                r.get("kind")) for r in recs]
        for role in PROBE_ROLES:
            want_r = [t for t in table if t[0] == role]
            got_r = [g for g in got if g[0] == role]
            missing = [t[2] for t in want_r if t not in got_r]
            extra = [g[2] for g in got_r if g not in want_r]
            dup = sorted(set(g[2] for g in got_r if got_r.count(g) > 1))
            ok = bool(want_r) and not missing and not extra and not dup \
                and len(got_r) == len(want_r)
            why = "; ".join(x for x in (
                missing and "missing: " + names(missing),
                extra and "not in the table (or another scenario or "
                "kind): " + names(extra),
                dup and "twice: " + names(dup)) if x)
            check(ok, "%s: probe %s: %d attempts run, %d in the table%s" %
                  (m, role, len(got_r), len(want_r),
                   " (" + why + ")" if why else ""))
        others = sorted(set(str(g[0]) for g in got) - set(PROBE_ROLES))
        if others:
            check(False, "%s: probe records of unknown roles: %s" %
                  (m, ", ".join(others)))
    for key in probe["enforcing"]:
        role, att = key
        re_, ave = probe["enforcing"][key]
        rp, avp = probe["permissive"].get(key, ({}, []))
        kind = re_.get("kind", "")
        why = BY_DESIGN.get(att) or BY_DESIGN.get(key)
        row = {"group": "aiguard_t (aiguard probe)", "scenario":
               re_.get("scenario", ""), "attempt": "%s: %s" % (role, att),
               "domain": "aiguard_t", "kind": kind, "counted": False}
        row["enforcing"] = {"result": re_.get("result"), "detail":
                            re_.get("evidence", ""), "avc": ave[:3]}
        row["permissive"] = {"result": rp.get("result"), "detail":
                             rp.get("evidence", ""), "avc": avp[:3]}
        er, pr = re_.get("result"), rp.get("result")
        if kind == "info":
            row["note"] = "information only"
        elif er == "SKIPPED" or pr == "SKIPPED":
            # Expected, with the reason the probe gives, or a failure.
            reason = expected_skip(role, att)
            row["note"] = "skipped: " + (re_.get("evidence") or
                                          rp.get("evidence") or "")
            for m, r in (("enforcing", re_), ("permissive", rp)):
                if r.get("result") != "SKIPPED":
                    continue
                ev = r.get("evidence") or ""
                check(bool(reason) and reason in ev,
                      "%s: probe %s: %s SKIPPED (%s)%s" % (
                          m, role, att, ev or "no reason given",
                          ", as expected" if reason and reason in ev else
                          ", expected: " + reason if reason else
                          ", not an expected skip"))
        elif kind == "control":
            row["counted"] = True
            check(er == "ALLOWED" and pr == "ALLOWED",
                  "probe %s: %s (control) allowed in both modes" % (role, att))
        elif why and er == "ALLOWED":
            row["note"] = "not stoppable by SELinux with one domain: " + why
        else:
            row["counted"] = True
            check(er == "BLOCKED" and bool(ave),
                  "enforcing: probe %s: %s is BLOCKED with an AVC" % (role, att))
            check(pr == "ALLOWED",
                  "permissive: probe %s: %s is ALLOWED" % (role, att))
        rows.append(row)

    # aiguardd in the guest: no child of it died, and it stopped cleanly
    # (its parent's own lines; the guest keeps the log of each phase).
    for m in MODES:
        log = read(os.path.join(rdir, m + ".aiguardd.log")).splitlines()
        deaths = [l for l in log if re.search(r"(^| )event=child_exit ", l)
                  and not re.search(r"(^| )level=info .* exit=0( |$)", l)]
        san = [l for l in log if re.search(
            r"==[0-9]+==ERROR: [A-Za-z]+Sanitizer|: runtime error: ", l)]
        stopped = any(re.search(r'msg="stopped status=0"', l) for l in log)
        check(bool(log) and not deaths and not san and stopped,
              "%s: aiguardd's log: no child died, stopped with status 0%s" %
              (m, "" if log else " (no log)") +
              "".join(" | " + l.strip()[:160] for l in (deaths + san)[:3]) +
              ("" if stopped or not log else " | no 'stopped status=0'"))

    # The probe run wholly in aiguard_t: information.
    info = {}
    for m in MODES:
        lines = read(os.path.join(rdir, m + ".probe-daemon.txt")).splitlines()
        recs = [l for l in lines if l.startswith("aiguard:")]
        results = re.findall(r'"result": "(\w+)"', "\n".join(lines))
        summary = ", ".join("%s %d" % (k, results.count(k))
                            for k in sorted(set(results)))
        info[m] = "\n".join(recs[-6:] + (["results: " + summary]
                                          if summary else []))

    date = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"date": date, "kernel": kernel, "seconds": int(secs),
                   "rows": rows, "checks": checks, "passed": passed,
                   "failed": failed, "probe_wholly_in_aiguard_t": info},
                  f, indent=2)

    def cell(c):
        return (c or {}).get("result") or "-"

    def avc(c):
        a = (c or {}).get("avc") or []
        return ("`" + a[0].replace("|", "\\|") + "`") if a else ""

    md = ["# SELinux guest test: results", "",
          "Measured %s by `make check-selinux` (tests/selinux/run): Debian 12 "
          "guest, kernel %s, under qemu/TCG, in %s s. "
          "%d checks passed, %d failed." % (date, kernel, secs, passed,
                                            failed), "",
          "| Scenario | Attempt | Domain | Permissive | Enforcing | "
          "Enforcing AVC (first denial) / note |",
          "|---|---|---|---|---|---|"]
    for r in rows:
        note = r.get("note", "")
        a = avc(r.get("enforcing"))
        if r["scenario"] in ("admin-deploy", "admin-token-add"):
            a = "`" + r["enforcing"].get("evidence", "") + "`"
        md.append("| %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["attempt"].replace("|", "\\|"), r["domain"],
            cell(r.get("permissive")), cell(r.get("enforcing")),
            (a + (" " if a and note else "") + note) or ""))
    md += ["", "The probe run wholly in aiguard_t (entered through a copy of "
           "the CLI labelled aiguard_exec_t): in enforcing its own set-up "
           "is refused, which is why the probe above runs its set-up in "
           "the test-only aiguard_probe_t. Its log and results:", ""]
    for m in MODES:
        md += ["%s:" % m, "", "```", info[m].strip(), "```", ""]
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("results: %s" % os.path.join(outdir, "results.md"))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
