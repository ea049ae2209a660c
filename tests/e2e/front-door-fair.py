# SPDX-License-Identifier: ISC
"""front-door-fair.py PORT FLOOD_TOKEN CALM_TOKEN IMAGE

Fairness under a flood.  CALM sends classify requests one after the other,
alone first (its baseline), then while FLOOD sends on 4 connections,
each a request every 10 ms once answered (hundreds a second, 100 times
what its token may: 2 a second in the test's token file, so that the
flood is over its limit however fast the engine answers, the sanitizer
build included).  Most of FLOOD's requests are
refused with 429 at once, and those it may send share the engine with
CALM.  (The flood is paced so that on a 2-core machine the test's own
Python does not take the CPU the server needs: what is measured is the
server's fairness, not the client's appetite.)

Passes when:
  - FLOOD was throttled: at least half of its answers were 429, each with
    a Retry-After, and none of them another error;
  - CALM was unaffected: every one of its requests answered 200, and its
    median latency under the flood is within 3 times its median alone
    plus 50 ms (the bound: the flood's admitted share, 2 images a
    second, may batch with CALM's or run between them, but never queue
    CALM behind an unbounded backlog).
Prints the figures on its last line.
"""
import http.client
import statistics
import sys
import threading
import time

port, flood, calm, image = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                            sys.argv[4])
body = open(image, "rb").read()
PATH = "/v2/models/resnet18/classify"


def post(conn, token):
    conn.request("POST", PATH, body, {"Content-Type": "image/jpeg",
                                      "Authorization": "Bearer " + token})
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After")


def calm_run(n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    lat, bad = [], []
    for _ in range(n):
        t = time.monotonic()
        s, _ = post(conn, calm)
        lat.append(time.monotonic() - t)
        if s != 200:
            bad.append(s)
    conn.close()
    return lat, bad


stop = threading.Event()
counts = {"200": 0, "429": 0, "other": 0, "no_retry_after": 0}
lock = threading.Lock()


def flooder():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        try:
            s, ra = post(conn, flood)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        time.sleep(0.010)
        with lock:
            if s == 200:
                counts["200"] += 1
            elif s == 429:
                counts["429"] += 1
                if not ra or int(ra) < 1:
                    counts["no_retry_after"] += 1
            else:
                counts["other"] += 1
    conn.close()


calm_run(3)                       # warm up
alone, bad_alone = calm_run(20)
threads = [threading.Thread(target=flooder) for _ in range(4)]
for t in threads:
    t.start()
time.sleep(0.5)
under, bad_under = calm_run(20)
stop.set()
for t in threads:
    t.join()

m_alone = statistics.median(alone)
m_under = statistics.median(under)
total = counts["200"] + counts["429"] + counts["other"]
bound = 3 * m_alone + 0.050
summary = ("flood: %d answers, %d 429, %d 200; calm: median %.1f ms alone, "
           "%.1f ms under the flood (bound %.1f ms), %d failures" %
           (total, counts["429"], counts["200"], m_alone * 1e3,
            m_under * 1e3, bound * 1e3, len(bad_alone) + len(bad_under)))
ok = (total > 0 and counts["429"] * 2 >= total and counts["other"] == 0 and
      counts["no_retry_after"] == 0 and not bad_alone and not bad_under and
      m_under <= bound)
print(summary)
sys.exit(0 if ok else 1)
