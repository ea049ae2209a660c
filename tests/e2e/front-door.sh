#!/bin/bash
# SPDX-License-Identifier: ISC
#
# front-door.sh: tokens, scopes and rate limits, end to end, through curl
# and Python's http.client (the way tritonclient sends a request, with its
# headers= dict).
#
#   - health is open; every other category needs a token: 401 with
#     WWW-Authenticate: Bearer and a JSON error without one or with a bad
#     one (another scheme, a wrong token), 403 without the scope (and for
#     infer:MODEL, on another model), 200 with it;
#   - a revoked token, after SIGHUP, is refused; a token added then works;
#     a token file broken then keeps the set in force, and the log says
#     why;
#   - no token ever appears in the log or in /metrics; its name does;
#   - rate limits: a token over its rate gets 429 with Retry-After; a
#     token over its requests in flight too; a client address over
#     limits.ip_rate too, health excepted; images over a burst too;
#   - fairness: while one token floods, another token's requests all
#     succeed with their latency within a stated bound
#     (tests/e2e/front-door-fair.py says which).
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}"
for f in "$AG_BUILD/bin/aiguardd" "$AG_BUILD/bin/aiguard" \
    "$AG_MODEL/model.sig"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "missing curl"; exit 99; }
PYTHON=/usr/bin/python3
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 49
AG=$AG_BUILD/bin/aiguard
IMG=$(ls "$AG_TOP"/samples/*.jpg | head -n 1)
TOK=$work/tokens

# add NAME ARGS...: a new token; prints it (the last line of the output).
add() {
	local out
	out=$("$AG" token add --file "$TOK" "$@" 2>>"$work/token.err") ||
	    { echo "token add $*: failed" >&2; return 1; }
	printf '%s\n' "$out" | tail -n 1
}

# req METHOD PATH [TOKEN] [curl args...]: prints the status; the headers
# in $work/h, the body in $work/b.
req() {
	local m=$1 p=$2 t=${3:-}
	shift 3 2>/dev/null || shift $#
	curl -s -m 60 -X "$m" -D "$work/h" -o "$work/b" -w '%{http_code}' \
	    ${t:+-H "Authorization: Bearer $t"} "$@" "$base$p"
}
jerr() {
	$PYTHON -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"])' \
	    "$work/b" 2>/dev/null
}
CLS=/v2/models/resnet18/classify
classify_as() {	# TOKEN [PATH]
	req POST "${2:-$CLS}" "$1" -H "Content-Type: image/jpeg" \
	    --data-binary @"$IMG"
}

T_META=$(add reader --scopes metadata) &&
T_INF=$(add inferer --scopes infer,metadata) &&
T_ONE=$(add only-r18 --scopes infer:resnet18) &&
T_MET=$(add scraper --scopes metrics) &&
T_SLOW=$(add slow --scopes infer --rate 1 --burst 2) &&
T_IMG=$(add few-images --scopes infer --image-rate 1 --image-burst 2) ||
    { echo "cannot make the token file"; cat "$work/token.err"; exit 99; }
ALL_TOKENS="$T_META $T_INF $T_ONE $T_MET $T_SLOW $T_IMG"

server_start --tokens "$TOK" --set log.access_log=yes

# --- categories ---
c=$(req GET /v2/health/live) && [ "$c" = 200 ] &&
    c=$(req GET /v2/health/ready) && [ "$c" = 200 ] &&
    pass "health is open: live and ready 200 without a token" ||
    fail "health without a token: $c"

c=$(req GET /v2)
if [ "$c" = 401 ] && grep -qi '^WWW-Authenticate: Bearer realm="aiguard"' \
    "$work/h" && jerr | grep -q "token required"; then
	pass "metadata without a token: 401, WWW-Authenticate: Bearer, JSON error"
else
	fail "metadata without a token: $c $(cat "$work/b")"
fi
c=$(req GET /v2 "agt_not-a-real-token-at-all-aaaaaaaaaaaaaaaaaaaaaaa")
[ "$c" = 401 ] && grep -qi 'error="invalid_token"' "$work/h" &&
    jerr | grep -q "invalid token" &&
    pass "a wrong token: 401 invalid_token" ||
    fail "a wrong token: $c $(cat "$work/b")"
c=$(req GET /v2 "" -H "Authorization: Basic dXNlcjpwYXNz")
[ "$c" = 401 ] && jerr | grep -q "Bearer" &&
    pass "another scheme (Basic): 401" || fail "Basic: $c $(cat "$work/b")"
c=$(req GET /v2 "" -H "Authorization: Bearer")
[ "$c" = 401 ] && pass "an empty bearer: 401" || fail "empty bearer: $c"
c=$(req GET /v2 "$T_META")
[ "$c" = 200 ] && grep -q '"aiguard_sandbox"' "$work/b" &&
    pass "metadata with a metadata token: 200" || fail "metadata token: $c"
c=$(req GET /v2/models/resnet18 "$T_META")
[ "$c" = 200 ] && pass "model metadata with a metadata token: 200" ||
    fail "model metadata: $c"
c=$(req GET /v2 "$(printf '%s' "$T_META" | tr 'a-z' 'A-Z')")
[ "$c" = 401 ] && pass "the token with its case changed: 401" ||
    fail "case-changed token: $c"
c=$(req GET /v2 "${T_META}x")
[ "$c" = 401 ] && pass "the token with one more character: 401" ||
    fail "token + 1 char: $c"

c=$(classify_as "$T_META")
[ "$c" = 403 ] && jerr | grep -q "token 'reader' lacks the infer scope" &&
    pass "classify with a metadata-only token: 403 naming the token" ||
    fail "classify, metadata token: $c $(cat "$work/b")"
c=$(classify_as "")
[ "$c" = 401 ] && jerr | grep -q "token required for infer" &&
    pass "classify without a token: 401 (the body read, the answer seen)" ||
    fail "classify without a token: $c $(cat "$work/b")"
c=$(classify_as "$T_INF")
[ "$c" = 200 ] && grep -q '"predictions"' "$work/b" &&
    pass "classify with an infer token: 200" || fail "classify, infer: $c"
c=$(classify_as "$T_ONE")
[ "$c" = 200 ] && pass "infer:resnet18 on resnet18: 200" ||
    fail "infer:resnet18: $c"
c=$(classify_as "$T_ONE" /v2/models/other/classify)
[ "$c" = 403 ] && jerr | grep -q "may not infer on model 'other'" &&
    pass "infer:resnet18 on another model: 403" ||
    fail "infer:resnet18 elsewhere: $c $(cat "$work/b")"
c=$(req GET /v2 "$T_ONE")
[ "$c" = 403 ] && pass "infer:resnet18 on metadata: 403" ||
    fail "infer:resnet18 on /v2: $c"
c=$(req GET /metrics)
[ "$c" = 401 ] && pass "/metrics without a token: 401" || fail "/metrics: $c"
c=$(req GET /metrics "$T_INF")
[ "$c" = 403 ] && pass "/metrics with an infer token: 403" ||
    fail "/metrics, infer token: $c"

# The OIP client's way: http.client, headers in a dict, a JSON infer.
if $PYTHON - "$port" "$T_INF" "$T_META" <<'EOF' >"$work/py.out" 2>&1
import http.client, json, sys
port, tok, meta = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = json.dumps({"inputs": [{"name": "input", "shape": [1, 3, 224, 224],
    "datatype": "FP32", "data": [0.0] * (3 * 224 * 224)}]})
def post(t):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Content-Type": "application/json"}
    if t:
        h["Authorization"] = "Bearer " + t
    c.request("POST", "/v2/models/resnet18/infer", body, h)
    r = c.getresponse()
    return r.status, r.read(), r.getheader("WWW-Authenticate")
s, b, _ = post(tok)
assert s == 200, (s, b[:200])
assert json.loads(b)["outputs"][0]["shape"] == [1, 1000]
s, b, w = post(None)
assert s == 401 and w.startswith("Bearer"), (s, w)
s, b, _ = post(meta)
assert s == 403, s
print("ok")
EOF
then
	pass "http.client infer with headers={Authorization}: 200; none 401; wrong scope 403"
else
	fail "http.client: $(tail -n 3 "$work/py.out")"
fi

# --- metrics and logs: names, never tokens ---
c=$(req GET /metrics "$T_MET")
if [ "$c" = 200 ] &&
    grep -q '^aiguard_token_requests_total{token="inferer",code="200"}' \
    "$work/b" && grep -q '^aiguard_auth_failures_total{reason="missing"} [1-9]' \
    "$work/b" && grep -q '^aiguard_auth_failures_total{reason="forbidden"} [1-9]' \
    "$work/b"; then
	pass "/metrics: per-token requests by name, auth failures by reason"
else
	fail "/metrics: $c"; grep -E 'token|auth' "$work/b" | head -n 5
fi
leak=
for t in $ALL_TOKENS; do
	grep -qF "$t" "$work/b" "$srv_log" "$TOK" && leak="$leak ${t:0:8}..."
done
[ -z "$leak" ] && grep -q 'event=access .*token=inferer' "$srv_log" &&
    pass "no token in /metrics, the log or the token file; the access log names the token" ||
    fail "a token leaked:$leak"

# --- reload: revoke, add, a broken file ---
"$AG" token revoke --file "$TOK" inferer 2>>"$work/token.err" &&
    T_NEW=$(add late --scopes infer) &&
    kill -HUP "$srv_pid" && wait_log 'event=frontdoor_reload result=ok' 10 ||
    fail "revoke, add and SIGHUP"
c=$(classify_as "$T_INF")
[ "$c" = 401 ] && pass "revoked, after SIGHUP: 401" || fail "revoked: $c"
c=$(classify_as "$T_NEW")
[ "$c" = 200 ] && pass "added, after SIGHUP: 200" || fail "added: $c"
cp "$TOK" "$work/tokens.good"
printf 'token broken sha256=zz scopes=infer created=1\n' >>"$TOK"
kill -HUP "$srv_pid"
if wait_log 'event=frontdoor_reload result=failed serving=old' 10 &&
    grep 'event=frontdoor_reload result=failed' "$srv_log" | grep -q "$TOK"; then
	pass "a broken token file at SIGHUP: refused, the log names the file"
else
	fail "broken token file: no failed reload logged"
fi
c=$(classify_as "$T_NEW")
[ "$c" = 200 ] && pass "the set in force stays after a broken reload" ||
    fail "after a broken reload: $c"
cp "$work/tokens.good" "$TOK"

# --- limits ---
c1=$(classify_as "$T_SLOW"); c2=$(classify_as "$T_SLOW"); c3=$(classify_as "$T_SLOW")
ra=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' "$work/h" | tr -d '\r')
if [ "$c1 $c2" = "200 200" ] && [ "$c3" = 429 ] && [ "${ra:-0}" -ge 1 ] &&
    jerr | grep -q "token 'slow': too many requests"; then
	pass "a token over its rate (1/s, burst 2): the third 429, Retry-After $ra"
else
	fail "token rate: $c1 $c2 $c3 retry-after=${ra:-none} $(cat "$work/b")"
fi
c=$(classify_as "$T_NEW")
[ "$c" = 200 ] && pass "another token is not limited by it" ||
    fail "other token after slow's 429: $c"
c1=$(classify_as "$T_IMG"); c2=$(classify_as "$T_IMG"); c3=$(classify_as "$T_IMG")
[ "$c1 $c2 $c3" = "200 200 429" ] && jerr | grep -q "too many images" &&
    pass "a token over its images (1/s, burst 2): 429" ||
    fail "token images: $c1 $c2 $c3 $(cat "$work/b")"
c=$(req GET /metrics "$T_MET")
grep -q '^aiguard_rate_limited_total{by="token",limit="requests"} [1-9]' \
    "$work/b" && grep -q \
    '^aiguard_token_rate_limited_total{token="slow",limit="requests"} [1-9]' \
    "$work/b" && pass "/metrics: the 429s by token, per token name" ||
    fail "/metrics rate limits: $(grep rate_limited "$work/b" | head -n 4)"
server_stop >/dev/null

# Requests in flight: a token capped at 1, its requests held in the
# batching window, four at once: the others get 429.
T_ONE_AT_A_TIME=$(add one-at-a-time --scopes infer --max-inflight 1)
server_start --tokens "$TOK" --set model.max_delay_us=400000 \
    --set model.max_batch=8
pids=
for i in 1 2 3 4; do
	curl -s -m 60 -o /dev/null -w '%{http_code}\n' \
	    -H "Authorization: Bearer $T_ONE_AT_A_TIME" \
	    -H "Content-Type: image/jpeg" --data-binary @"$IMG" \
	    "$base$CLS" >"$work/par.$i" &
	pids="$pids $!"
done
wait $pids
codes=$(cat "$work"/par.* | sort | tr '\n' ' ')
case "$codes" in
*200*429*) pass "max_inflight 1, four at once: $codes" ;;
*) fail "max_inflight 1, four at once: $codes" ;;
esac
server_stop >/dev/null

# Per client address: 2 requests a second, health excepted; images.
server_start --tokens "$TOK" --set limits.ip_rate=1 --set limits.ip_burst=2 \
    --set limits.ip_image_rate=1 --set limits.ip_image_burst=3
c1=$(req GET /v2 "$T_META"); c2=$(req GET /v2 "$T_META"); c3=$(req GET /v2 "$T_META")
[ "$c1 $c2 $c3" = "200 200 429" ] && jerr | grep -q "from your address" &&
    grep -qi '^Retry-After: [1-9]' "$work/h" &&
    pass "an address over limits.ip_rate: 429 with Retry-After" ||
    fail "ip rate: $c1 $c2 $c3 $(cat "$work/b")"
c=$(req GET /v2/health/ready)
[ "$c" = 200 ] && pass "health is never limited by address" ||
    fail "health under the address limit: $c"
c=$(req GET /v2)
[ "$c" = 429 ] && pass "over the address limit, even without a token: 429 first" ||
    fail "anonymous over the address limit: $c"
server_stop >/dev/null

# A batch of more images than the burst could ever pass: said so.
server_start --tokens "$TOK" --set limits.ip_image_rate=1 \
    --set limits.ip_image_burst=2 --set model.max_request_batch=4
if $PYTHON - "$port" "$T_NEW" <<'EOF' >"$work/py2.out" 2>&1
import http.client, json, sys
port, tok = int(sys.argv[1]), sys.argv[2]
body = json.dumps({"inputs": [{"name": "input", "shape": [3, 3, 224, 224],
    "datatype": "FP32", "data": [0.0] * (3 * 3 * 224 * 224)}]})
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
c.request("POST", "/v2/models/resnet18/infer", body,
    {"Content-Type": "application/json", "Authorization": "Bearer " + tok})
r = c.getresponse()
b = json.loads(r.read())
assert r.status == 429 and "more than limits.ip_image_burst" in b["error"], (r.status, b)
assert int(r.getheader("Retry-After")) >= 1
print("ok")
EOF
then
	pass "three images against an image burst of 2: 429 that says why"
else
	fail "images over the burst: $(tail -n 3 "$work/py2.out")"
fi
server_stop >/dev/null

# --- fairness: one token floods, another keeps its latency ---
T_FLOOD=$(add flood --scopes infer --rate 2 --burst 2)
T_CALM=$(add calm --scopes infer)
server_start --tokens "$TOK"
if $PYTHON "$AG_TOP/tests/e2e/front-door-fair.py" "$port" "$T_FLOOD" \
    "$T_CALM" "$IMG" >"$work/fair.out" 2>&1; then
	pass "fairness: $(tail -n 1 "$work/fair.out")"
else
	fail "fairness: $(tail -n 3 "$work/fair.out")"
fi
c=$(req GET /metrics "$T_MET")
n429=$(sed -n 's/^aiguard_token_rate_limited_total{token="flood",limit="requests"} //p' "$work/b")
n200=$(sed -n 's/^aiguard_token_requests_total{token="calm",code="200"} //p' "$work/b")
[ "${n429:-0}" -gt 0 ] && [ "${n200:-0}" -gt 0 ] &&
    pass "/metrics: flood's 429s ($n429) and calm's 200s ($n200), by name" ||
    fail "fairness metrics: flood 429=${n429:-none} calm 200=${n200:-none}"
server_stop >/dev/null

# --- configuration ---
if "$AG_BUILD/bin/aiguardd" --model "$AG_MODEL" --tokens "$work/nope" \
    --listen 127.0.0.1:0 >/dev/null 2>"$work/e1"; then
	fail "a missing token file: started"
else
	grep -q "$work/nope" "$work/e1" &&
	    pass "a missing token file: refused at start, naming it" ||
	    fail "missing token file: $(tail -n 2 "$work/e1")"
fi
printf 'token x sha256=00 scopes=infer created=1\n' >"$work/bad-tokens"
if "$AG_BUILD/bin/aiguardd" --model "$AG_MODEL" --tokens "$work/bad-tokens" \
    --listen 127.0.0.1:0 >/dev/null 2>"$work/e2"; then
	fail "a bad token file: started"
else
	grep -q "bad-tokens:1:" "$work/e2" &&
	    pass "a bad token file: refused at start, naming the file and line" ||
	    fail "bad token file: $(tail -n 2 "$work/e2")"
fi
for bad in "nothing" "health,bogus" "infer,infer"; do
	if "$AG_BUILD/bin/aiguardd" --model "$AG_MODEL" --check-config \
	    --set "server.open=$bad" >/dev/null 2>&1; then
		fail "server.open=$bad accepted"
	else
		pass "server.open=$bad refused"
	fi
done
"$AG_BUILD/bin/aiguardd" --model "$AG_MODEL" --check-config \
    --set server.open=health,metrics >"$work/cc" 2>/dev/null &&
    grep -q '^open = health,metrics$' "$work/cc" &&
    pass "server.open=health,metrics: dumped back as such" ||
    fail "server.open dump: $(grep '^open' "$work/cc")"
# Open categories: metadata open, infer still protected.
server_start --tokens "$TOK" --set server.open=health,metadata
c1=$(req GET /v2); c2=$(classify_as "")
[ "$c1 $c2" = "200 401" ] &&
    pass "server.open=health,metadata: /v2 open, classify still 401" ||
    fail "open metadata: $c1 $c2"
server_stop >/dev/null
finish
