#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""soak.py: aiguardd under a long mixed load, a worker kill and a reload.

usage: soak.py BUILD_DIR [--conns 64] [--secs 60] [--threads 2]

Starts BUILD_DIR/bin/aiguardd (its defaults: confined, signature verified)
on 127.0.0.1, a free port, the default model (build/models/resnet18), and
drives it with CONNS keep-alive connections for SECS seconds.  Each
connection sends, in turn, one of three requests (the connection's index
picks where it starts, so all three are in flight at any time):
  classify  the bundled sample JPEG, POST .../classify?top=5
  json      POST .../infer, one 1x3x224x224 FP32 tensor as a JSON array,
            logits with the classification extension (top 5)
  binary    POST .../infer with the binary tensor data extension: the same
            tensor as raw little-endian floats after the JSON, the output
            asked in binary (1000 floats back)
A third into the run the worker is killed (SIGKILL); two thirds into it
the parent gets SIGHUP (the worker reloads the model, verifying it).

Every answer is checked: the status, the body's form, and the top class,
which must be the same for every answer of a kind (the input never
changes) and the same between json and binary.  The 503s between the kill
and the moment the restarted worker is ready are expected and counted
apart; every other non-200, every wrong answer and every socket error
(reset, unexpected close, timeout) is an error.

RSS (VmRSS) of the parent, the front and the worker is sampled every
second (the samples are left in BUILD_DIR/soak/rss.tsv, the server's log
in BUILD_DIR/soak/aiguardd.log); the report gives it before the load, its
peak, and its median over each half of the run: the growth is between the
two medians.  The median is the steady state: it is not moved by the few
seconds of a restarting worker or of a reload (which holds the old and the
new weights for a moment), nor by the bodies in flight at one sample.  Exit status 0 when there was no error and every process grew by
less than 5 %, 1 otherwise, 2 when the server did not start.
"""

import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

MODEL_NAME = "resnet18"
TOP = 5
RSS_TARGET = 0.05


def usage():
    sys.stderr.write("usage: soak.py BUILD_DIR [--conns N] [--secs S] "
                     "[--threads T]\n")
    sys.exit(2)


def parse_args(argv):
    if len(argv) < 2:
        usage()
    opts = {"build": argv[1], "conns": 64, "secs": 60, "threads": 2}
    i = 2
    while i < len(argv):
        key = argv[i].lstrip("-")
        if key not in ("conns", "secs", "threads") or i + 1 >= len(argv):
            usage()
        try:
            opts[key] = int(argv[i + 1])
        except ValueError:
            usage()
        if opts[key] < 1:
            usage()
        i += 2
    return opts


def children(pid):
    """{comm: pid} of the children of pid."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/comm" % d) as f:
                comm = f.read().strip()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if int(rest[1]) == pid:
            out[comm] = int(d)
    return out


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Server:
    def __init__(self, build, threads, workdir):
        self.log_path = os.path.join(workdir, "aiguardd.log")
        top = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        model = os.path.join(top, "build", "models", MODEL_NAME)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(build, "bin", "aiguardd"), "--listen",
             "127.0.0.1:0", "--model", model, "--threads", str(threads)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log)
        self.port = None

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.port is None:
                with open(self.log_path) as f:
                    for line in f:
                        k = line.find('msg="listening on 127.0.0.1:')
                        if k >= 0:
                            self.port = int(line[k + 28:].split('"')[0])
                            break
            if self.port is not None and self.ready():
                return True
            time.sleep(0.1)
        return False

    def ready(self):
        try:
            # From another loopback address: the load's connections may
            # use every slot 127.0.0.1 has (server.max_connections_per_ip).
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5,
                                           source_address=("127.0.0.2", 0))
            c.request("GET", "/v2/health/ready")
            st = c.getresponse().status
            c.close()
            return st == 200
        except OSError:
            return False

    def pids(self):
        ch = children(self.proc.pid)
        return {"parent": self.proc.pid,
                "front": ch.get("aiguardd-front"),
                "worker": ch.get("aiguardd-worker")}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self.log.close()


def make_requests(top):
    with open(os.path.join(top, "samples", "gradient-landscape.jpg"),
              "rb") as f:
        jpeg = f.read()
    rng = random.Random(18)
    n = 3 * 224 * 224
    vals = [round(rng.uniform(-2.0, 2.0), 4) for _ in range(n)]
    out = [{"name": "logits", "parameters": {"classification": TOP}}]
    body = {"id": "soak", "inputs": [{"name": "input",
            "shape": [1, 3, 224, 224], "datatype": "FP32", "data": vals}],
            "outputs": out}
    js = json.dumps(body, separators=(",", ":")).encode()
    head = json.dumps({"id": "soak-bin", "inputs": [{
        "name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32",
        "parameters": {"binary_data_size": 4 * n}}],
        "outputs": [{"name": "logits",
                     "parameters": {"binary_data": True}}]},
        separators=(",", ":")).encode()
    raw = struct.pack("<%df" % n, *vals)
    base = "/v2/models/%s" % MODEL_NAME
    return [
        ("classify", "POST", base + "/classify?top=%d" % TOP, jpeg,
         {"Content-Type": "image/jpeg"}),
        ("json", "POST", base + "/infer", js,
         {"Content-Type": "application/json"}),
        ("binary", "POST", base + "/infer", head + raw,
         {"Content-Type": "application/octet-stream",
          "Inference-Header-Content-Length": str(len(head))}),
    ]


def top_of(kind, resp, body):
    """The top class of an answer, or raises ValueError."""
    if kind == "classify":
        return int(json.loads(body)["predictions"][0]["index"])
    if kind == "json":
        o = json.loads(body)["outputs"][0]
        if o["datatype"] != "BYTES" or o["shape"] != [1, TOP]:
            raise ValueError("classification output of shape %s"
                             % o["shape"])
        return int(o["data"][0].split(":")[1])
    hl = resp.getheader("Inference-Header-Content-Length")
    if hl is None:
        raise ValueError("no Inference-Header-Content-Length")
    hl = int(hl)
    head = json.loads(body[:hl])
    o = head["outputs"][0]
    size = o["parameters"]["binary_data_size"]
    raw = body[hl:hl + size]
    if size != 4000 or len(raw) != size or len(body) != hl + size:
        raise ValueError("binary output of %d bytes" % len(raw))
    v = struct.unpack("<1000f", raw)
    return max(range(1000), key=lambda i: (v[i], -i))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.errors = {}
        self.expected_503 = 0
        self.tops = {}
        self.window = None      # (start, end) of the worker restart
        self.samples = []

    def count(self, table, key):
        with self.lock:
            table[key] = table.get(key, 0) + 1


def err_kind(e):
    if isinstance(e, ConnectionResetError):
        return "socket: connection reset"
    if isinstance(e, http.client.RemoteDisconnected):
        return "socket: closed without an answer"
    if isinstance(e, BrokenPipeError):
        return "socket: broken pipe"
    if isinstance(e, socket.timeout):
        return "socket: timeout"
    return "socket: " + type(e).__name__


def client(idx, port, reqs, stats, stop_at, in_restart):
    conn = None
    i = idx
    while time.monotonic() < stop_at:
        kind, method, path, body, hdrs = reqs[i % len(reqs)]
        i += 1
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            k = err_kind(e)
            if in_restart():
                k += " (while the worker restarted)"
            stats.count(stats.errors, k)
            conn.close()
            conn = None
            continue
        if resp.status == 503 and in_restart():
            with stats.lock:
                stats.expected_503 += 1
            if resp.will_close:
                conn.close()
                conn = None
            time.sleep(0.05)
            continue
        if resp.status != 200:
            stats.count(stats.errors, "http %d (%s)" % (resp.status, kind))
        else:
            try:
                t = top_of(kind, resp, data)
            except (ValueError, KeyError, IndexError, TypeError) as e:
                stats.count(stats.errors, "malformed %s answer: %s"
                            % (kind, e))
            else:
                with stats.lock:
                    first = stats.tops.setdefault(kind, t)
                if t != first:
                    stats.count(stats.errors, "%s answer changed" % kind)
                else:
                    stats.count(stats.ok, kind)
        if resp.will_close:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


def main():
    opts = parse_args(sys.argv)
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    build = os.path.abspath(opts["build"])
    workdir = os.path.join(build, "soak")
    os.makedirs(workdir, exist_ok=True)
    reqs = make_requests(top)
    srv = Server(build, opts["threads"], workdir)
    if not srv.wait_ready():
        srv.stop()
        sys.stderr.write("soak: aiguardd did not start; its log: %s\n"
                         % srv.log_path)
        sys.exit(2)
    stats = Stats()
    before = {k: rss_kib(p) for k, p in srv.pids().items() if p}
    secs = opts["secs"]
    t0 = time.monotonic()
    stop_at = t0 + secs
    restart = {"start": None, "end": None}
    grace = 2.0

    def in_restart():
        s, e = restart["start"], restart["end"]
        now = time.monotonic()
        return s is not None and now >= s and (e is None or now <= e + grace)

    threads = [threading.Thread(target=client, args=(
        i, srv.port, reqs, stats, stop_at, in_restart), daemon=True)
        for i in range(opts["conns"])]
    for t in threads:
        t.start()
    killed = reloaded = False
    killed_pid = None
    kill_at, reload_at = secs / 3.0, 2.0 * secs / 3.0
    events = []
    while time.monotonic() < stop_at:
        now = time.monotonic() - t0
        pids = srv.pids()
        stats.samples.append((now, {k: rss_kib(p) for k, p in pids.items()
                                    if p}))
        if not killed and now >= kill_at and pids["worker"]:
            restart["start"] = time.monotonic()
            killed_pid = pids["worker"]
            os.kill(killed_pid, signal.SIGKILL)
            killed = True
            events.append("%.1f s: worker %d killed" % (now, pids["worker"]))
        if (killed and restart["end"] is None and pids["worker"] and
                pids["worker"] != killed_pid and srv.ready()):
            restart["end"] = time.monotonic()
            events.append("%.1f s: worker ready again"
                          % (restart["end"] - t0))
        if not reloaded and now >= reload_at:
            srv.proc.send_signal(signal.SIGHUP)
            reloaded = True
            events.append("%.1f s: SIGHUP (reload)" % now)
        time.sleep(1.0 - ((time.monotonic() - t0) % 1.0))
    for t in threads:
        t.join(timeout=90)
    rc = srv.stop()
    with open(os.path.join(workdir, "rss.tsv"), "w") as f:
        f.write("t_s\tparent_kib\tfront_kib\tworker_kib\n")
        for t, s in stats.samples:
            f.write("%.1f\t%s\n" % (t, "\t".join(
                str(s.get(r) or "") for r in ("parent", "front", "worker"))))
    with open(srv.log_path) as f:
        log = f.read()
    reload_ok = "event=reload result=ok" in log

    if stats.tops.get("json") != stats.tops.get("binary"):
        stats.count(stats.errors, "json and binary infer disagree: top "
                    "class %s against %s" % (stats.tops.get("json"),
                                             stats.tops.get("binary")))
    nok = sum(stats.ok.values())
    nerr = sum(stats.errors.values())
    print("soak: %d connections, %d s, aiguardd --threads %d, %d CPUs"
          % (opts["conns"], secs, opts["threads"], os.cpu_count()))
    for e in events:
        print("  " + e)
    print("requests: %d answered right (%s), %.1f/s"
          % (nok, ", ".join("%s %d" % kv for kv in sorted(stats.ok.items())),
             nok / secs))
    print("expected 503s while the worker restarted: %d" % stats.expected_503)
    print("errors: %d" % nerr)
    for k, v in sorted(stats.errors.items()):
        print("  %-50s %d" % (k, v))
    print("reload: %s" % ("ok (event=reload result=ok logged)" if reload_ok
                          else "NOT logged as ok"))
    print("aiguardd exit status on SIGTERM: %s" % rc)
    half = secs / 2.0
    grew = False
    print("RSS, MiB     before   peak  median 1st half  median 2nd half  growth")
    for role in ("parent", "front", "worker"):
        first = sorted(s[role] for t, s in stats.samples
                       if t < half and s.get(role))
        last = sorted(s[role] for t, s in stats.samples
                      if t >= half and s.get(role))
        peak = max([s.get(role) or 0 for t, s in stats.samples])
        if not first or not last:
            print("  %-8s no samples" % role)
            grew = True
            continue
        a, b = first[len(first) // 2], last[len(last) // 2]
        g = (b - a) / a
        grew = grew or g >= RSS_TARGET
        print("  %-8s %7.1f %7.1f %16.1f %16.1f %+6.1f %%"
              % (role, (before.get(role) or 0) / 1024.0, peak / 1024.0,
                 a / 1024.0, b / 1024.0, 100.0 * g))
    good = nerr == 0 and not grew and reload_ok and rc == 0 and nok > 0
    print("soak: %s (targets: 0 errors besides the restart's 503s, RSS "
          "growth under %d %% per process)" % ("PASS" if good else "FAIL",
                                               int(RSS_TARGET * 100)))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
