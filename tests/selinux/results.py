#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
#
# results.py RESULTS_DIR OUT_DIR KERNEL SECONDS: judge what the SELinux
# test guest saw (tests/selinux/guest-init) and write the table:
# OUT_DIR/results.md (scenario x permissive/enforcing, with the AVC line
# of each denial) and OUT_DIR/results.json.  Prints one PASS/FAIL line
# per check and, last, "N passed, N failed"; exits 0 only when all pass.
#
# The rules:
#   - legitimate operations (serve, classify, deploy by the administrator)
#     succeed in both modes, in the expected domains;
#   - every attack is refused in enforcing, with an AVC denial of its own,
#     and succeeds in permissive (so nothing passes vacuously);
#   - the probe's attempts that one domain cannot refuse by design (the
#     daemon forks, signals itself and reads its model) are listed as
#     such and not counted; SKIPPED attempts are listed and not counted.

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
}

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
]

LEGIT = [
    ("serve", "aiguardd starts in aiguard_t (exec of aiguard_exec_t), ready"),
    ("classify", "POST /v2/models/resnet18/classify (JPEG) -> 200"),
    ("admin-deploy", "aiguard deploy of a signed new version as "
     "staff_u:sysadm_r:sysadm_t, in aiguard_deploy_t, with reload"),
    ("classify-after-deploy", "classify after the reload -> 200"),
]

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


def probe_records(d, mode):
    try:
        recs = json.loads(read(os.path.join(d, mode + ".probe.json"), "[]"))
    except ValueError:
        return [], {}
    # Fork sequence: 0 is the sibling, then one per attempt actually run
    # (an attempt skipped by its pa_skip() forks nothing: only the memory
    # attempt has one).
    seq, seqmap = 1, {}
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


def denials(lines, domain=None):
    out = [l for l in lines if ("avc: denied" in l or "avc:  denied" in l)
           and not any(n in l for n in TRANSITION_NOISE)]
    if domain:
        out = [l for l in out if ":" + domain + ":" in l.split("tcontext")[0]]
    return out


def main():
    rdir, outdir, kernel, secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
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

    steps = {m: load_steps(rdir, m) for m in MODES}
    dm = {m: split_dmesg(rdir, m) for m in MODES}
    for m in MODES:
        check(bool(steps[m]), "%s: the guest ran the %s phase" % (m, m))

    # Legitimate operations: succeed in both modes.
    for name, what in LEGIT:
        row = {"group": "legitimate", "scenario": name, "attempt": what,
               "domain": "", "counted": True}
        for m in MODES:
            rc, detail = steps[m].get(name, (None, "not run"))
            segs = dm[m][0].get(name, [])
            ok = rc == 0
            extra = ""
            if name == "serve":
                ok = ok and ":aiguard_t:" in detail
                row["domain"] = "kernel_t -> aiguard_t"
            if name.startswith("classify"):
                row["domain"] = "aiguard_t"
            if name == "admin-deploy":
                granted = [l for l in segs if "granted" in l and
                           "aiguard_deploy_t" in l]
                ok = ok and "sysadm_t" in detail and bool(granted)
                extra = granted[0] if granted else ""
                row["domain"] = "sysadm_t -> aiguard_deploy_t"
            den = denials(segs)
            if m == "enforcing":
                ok = ok and not den
            row[m] = {"result": "OK" if rc == 0 else "FAILED (rc %s)" % rc,
                      "detail": detail, "avc": den[:3], "evidence": extra}
            check(ok, "%s: %s succeeds (%s)" % (m, name, what))
        rows.append(row)

    # staff_t attacks on the store and the configuration.
    for name, scen, what in STAFF_ATTACKS:
        row = {"group": "staff_t (uid 0)", "scenario": scen, "attempt": what,
               "domain": "staff_t", "counted": True}
        for m in MODES:
            rc, detail = steps[m].get(name, (None, "not run"))
            den = denials(dm[m][0].get(name, []), "staff_t")
            if m == "enforcing":
                ok = rc not in (None, 0) and bool(den)
                res = "BLOCKED" if rc not in (None, 0) else "ALLOWED"
            else:
                ok = rc == 0
                res = "ALLOWED" if rc == 0 else "FAILED (rc %s)" % rc
            row[m] = {"result": res, "detail": detail, "avc": den[:3]}
            check(ok, "%s: staff_t: %s is %s" %
                  (m, what, "refused" if m == "enforcing" else "allowed"))
        rows.append(row)

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
            row["note"] = "skipped: " + (re_.get("evidence") or "")
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
        if r["scenario"] in ("admin-deploy",):
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
