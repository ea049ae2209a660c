#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-not-ready.sh: while no model is loaded (the worker being
# restarted), a POST still gets its 503, with Retry-After and a JSON body,
# after its body, and its keep-alive connection stays usable.
#
# The 503 used to be queued as soon as the headers were in: libmicrohttpd
# then closed the connection under a client still sending its body, which
# saw a reset or a broken pipe instead of the 503 (make soak counted them
# while its worker restarted).  Every client that retries on 503 is hit.
#
# The window is made long and sure: the served copy's labels.txt is
# changed and the worker killed, so that each new worker refuses the
# model (worker.max_start_failures is high, the backoff short) until
# labels.txt is put back.  The deaths are the test's own: each one must be
# the SIGKILL or a worker that refused the changed model.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
for f in "$AG_BUILD/bin/aiguardd" "$AG_MODEL/model.sig"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "missing curl"; exit 99; }
"$PYTHON" -c 'import http.client' || { echo "missing python3"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 11

cp -r "$AG_MODEL" "$work/model" || exit 99
AG_MODEL=$work/model
server_start --set worker.max_start_failures=1000 \
    --set worker.restart_backoff_min_ms=100 \
    --set worker.restart_backoff_max_ms=200

cp "$AG_MODEL/labels.txt" "$work/labels.good"
echo "tampered" >>"$AG_MODEL/labels.txt"
read -r _ worker_pid < <(server_pids)
[ -n "$worker_pid" ] || { fail "no worker found"; finish; }
kill -KILL "$worker_pid"

# ready_becomes CODE TRIES: polls /v2/health/ready every 0.1 s until it
# answers CODE; $st is the last answer.
ready_becomes() {
	local i
	for ((i = 0; i < $2; i++)); do
		st=$(curl -s -o /dev/null -m 5 -w '%{http_code}' \
		    "$base/v2/health/ready")
		[ "$st" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# The front notices the dead worker: not ready.
if ready_becomes 503 100; then
	pass "the killed worker's model is gone: ready answers 503"
else
	fail "ready answers $st after the worker was killed, want 503"
fi

# Three POSTs on one keep-alive connection (an infer of 3 MB, a chunked
# infer, a classify), each followed by a GET on the same connection.
"$PYTHON" - "$port" "$AG_TOP/samples/gradient-landscape.jpg" <<'EOF' | tally
import http.client, json, sys
port, jpeg = int(sys.argv[1]), open(sys.argv[2], "rb").read()
vals = ",".join("0.5" for _ in range(3 * 224 * 224))
body = ('{"inputs":[{"name":"input","shape":[1,3,224,224],'
        '"datatype":"FP32","data":[%s]}]}' % vals).encode() * 2
def chunks():
    for i in range(0, len(body), 65536):
        yield body[i:i + 65536]
reqs = [
    ("infer, %d bytes" % len(body), "/v2/models/resnet18/infer", body,
     {"Content-Type": "application/json"}),
    ("chunked infer", "/v2/models/resnet18/infer", chunks(),
     {"Content-Type": "application/json",
      "Transfer-Encoding": "chunked"}),
    ("classify", "/v2/models/resnet18/classify", jpeg,
     {"Content-Type": "image/jpeg"}),
]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for name, path, b, h in reqs:
    try:
        c.request("POST", path, body=b, headers=h,
                  encode_chunked="Transfer-Encoding" in h)
        r = c.getresponse()
        data = r.read()
    except OSError as e:
        print("FAIL %s: %s while sending or reading (the server closed "
              "the connection under the body)" % (name, type(e).__name__))
        sys.exit(0)
    try:
        err = json.loads(data).get("error", "")
    except ValueError:
        err = None
    if (r.status == 503 and r.getheader("Retry-After") and err and
            not r.will_close):
        print("ok %s: 503, Retry-After %s, error \"%s\", connection kept"
              % (name, r.getheader("Retry-After"), err))
    else:
        print("FAIL %s: status %d, Retry-After %s, body %r, will_close %s"
              % (name, r.status, r.getheader("Retry-After"), data[:80],
                 r.will_close))
    try:
        c.request("GET", "/v2/health/live")
        r = c.getresponse()
        r.read()
        ok = r.status == 200
    except OSError as e:
        ok = False
    print("%s the same connection answers GET /v2/health/live after the "
          "%s" % ("ok" if ok else "FAIL", name))
EOF

# Put the model back: a new worker loads it, and the same kind of request
# is served.
cp "$work/labels.good" "$AG_MODEL/labels.txt"
ready_becomes 200 300
st=$(classify "$AG_TOP/samples/gradient-landscape.jpg" "$work/out.json")
if [ "$st" = 200 ]; then
	pass "the model put back is served again (classify 200)"
else
	fail "classify answers $st once the model is back, want 200"
fi

# Every death was ours: the SIGKILL, then workers that refused the model.
server_deaths "$srv_log" | cut -c1-200 | sed 's/^/    | /'
deaths=$(server_deaths "$srv_log" | wc -l)
# (exit 3: WORKER_EXIT_MODEL, src/daemon/daemon.h)
other=$(server_deaths "$srv_log" | grep -v ' child=worker signal=9 ' |
    grep -cv ' child=worker exit=3 ' || true)
if [ "$deaths" -ge 2 ] && [ "$other" -eq 0 ]; then
	pass "$deaths worker deaths, all the test's own (a SIGKILL, then" \
	    "refusals of the changed model)"
else
	fail "$deaths worker deaths, $other of another kind"
	server_deaths "$srv_log" | head -n 5 | sed 's/^/    | /'
fi
server_expect_deaths "$deaths"
finish
