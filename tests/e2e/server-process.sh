#!/bin/bash
# SPDX-License-Identifier: ISC
#
# server-process.sh: aiguardd's processes, end to end.
#
# Dynamic batching (concurrent requests share engine calls, visible in
# /metrics, and each still gets its own answer; clients that come back at
# once share them too); kill -9 of the worker
# during a request (that request gets 503 at once, the worker comes back,
# ready turns true again, later requests succeed); SIGHUP reloads (a good
# reload, then a broken model that is refused while the old one keeps
# serving); model.low_memory (the same answers, a smaller worker); SIGTERM finishing the request in flight and exiting 0; start-up
# failures (no model, port taken, bad configuration) with a clear message;
# --check-config and --help.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
AGD=$AG_BUILD/bin/aiguardd
AG=$AG_BUILD/bin/aiguard
[ -x "$AGD" ] || { echo "missing $AGD"; exit 99; }
command -v curl >/dev/null || { echo "FAIL no curl (scripts/install-deps)"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 46

samples=("$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png)
# The labels of the served model's series in /metrics.
RN='model="resnet18",version="1"'

# ---- the expected answers ------------------------------------------------

for i in 0 1 2 3; do
	"$AG" classify --json --top 5 --model "$AG_MODEL" "${samples[$i]}" \
	    >"$work/cli$i.json" 2>/dev/null ||
	    { echo "aiguard classify failed on ${samples[$i]}"; exit 99; }
done

# ---- dynamic batching ----------------------------------------------------

server_start --max-batch 8 --max-delay-us 300000
pids=()
for k in 0 1 2 3 4 5 6 7; do
	i=$((k % 4))
	( classify "${samples[$i]}" "$work/b$k.json" >"$work/b$k.code" ) &
	pids+=($!)
done
wait "${pids[@]}"
ok=1
for k in 0 1 2 3 4 5 6 7; do
	i=$((k % 4))
	if [ "$(cat "$work/b$k.code")" != 200 ] ||
	    ! same_top5 "$work/b$k.json" "$work/cli$i.json"; then
		ok=0
		echo "    request $k (${samples[$i]##*/}): $(cat "$work/b$k.code")"
	fi
done
[ $ok -eq 1 ] && pass "8 concurrent requests each get their own answer" ||
    fail "concurrent answers"
n=$(metric "aiguard_batch_size_count{$RN}")
s=$(metric "aiguard_batch_size_sum{$RN}")
if [ "$s" = 8 ] && [ "$n" != none ] && [ "$n" -lt 8 ]; then
	pass "8 images went through $n engine call(s) (batched)"
else
	fail "batching: $n batches for $s images"
fi
server_stop

# The same with --max-batch 2: no engine call takes more than 2 images.
server_start --max-batch 2 --max-delay-us 300000
pids=()
for k in 0 1 2 3 4 5; do
	( classify "${samples[$((k % 4))]}" "$work/c$k.json" >"$work/c$k.code" ) &
	pids+=($!)
done
wait "${pids[@]}"
bad=
for k in 0 1 2 3 4 5; do
	[ "$(cat "$work/c$k.code")" = 200 ] || bad="$bad $k:$(cat "$work/c$k.code")"
done
n=$(metric "aiguard_batch_size_count{$RN}")
s=$(metric "aiguard_batch_size_sum{$RN}")
le2=$(metric "aiguard_batch_size_bucket{$RN,le=\"2\"}")
if [ -z "$bad" ] && [ "$s" = 6 ] && [ "$le2" = "$n" ] &&
    [ "$n" -ge 3 ] && [ "$n" -lt 6 ]; then
	pass "--max-batch 2: 6 images in $n engine calls of at most 2"
else
	fail "--max-batch 2: failed requests:$bad; $n calls for $s images, $le2 of <= 2"
fi
server_stop

# Clients that send their next request as soon as they have their answer,
# on a connection they keep (model.return_wait_us): two of them, eight
# requests each, come to share the engine calls, where without the wait
# they would take turns (each one's request decoded while the other's
# runs alone).  A long wait here keeps the test free of timing luck; the
# last call waits for a client that is done, then goes alone.
server_start --max-batch 2 --set model.return_wait_us=500000
args=()
for k in 1 2 3 4 5 6 7 8; do
	args+=(-o /dev/null "$base/v2/models/resnet18/classify")
done
for c in 0 1; do
	curl -s -m 60 -w '%{http_code}\n' -H 'Content-Type: image/jpeg' \
	    --data-binary @"${samples[0]}" "${args[@]}" >"$work/rt$c.codes" &
	pids[$c]=$!
done
wait "${pids[0]}" "${pids[1]}"
codes=$(cat "$work/rt0.codes" "$work/rt1.codes" | sort | uniq -c |
    awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')
n=$(metric "aiguard_batch_size_count{$RN}")
s=$(metric "aiguard_batch_size_sum{$RN}")
le1=$(metric "aiguard_batch_size_bucket{$RN,le=\"1\"}")
if [ "$codes" = "200 x16" ] && [ "$s" = 16 ] && [ "$n" != none ] &&
    [ $((n - le1)) -ge 5 ]; then
	pass "two clients that come back at once: 16 images in $n engine calls, $((n - le1)) of them shared"
else
	fail "returning clients: answers $codes; $n calls for $s images, $le1 alone"
	server_log_tail 5
fi
server_stop

# ---- model.low_memory ----------------------------------------------------

# The worker's resident memory after one classify, in kB.
worker_rss() {
	server_pids >/dev/null
	awk '/^VmRSS:/ { print $2 }' "/proc/$worker_pid/status" 2>/dev/null
}
server_start
classify "${samples[0]}" "$work/d0.json" >/dev/null
rss_default=$(worker_rss)
server_stop
server_start --set model.low_memory=yes
ok=1
for i in 0 1 2 3; do
	code=$(classify "${samples[$i]}" "$work/lm$i.json")
	if [ "$code" != 200 ] || ! same_top5 "$work/lm$i.json" "$work/cli$i.json"; then
		ok=0
		echo "    ${samples[$i]##*/}: $code"
	fi
done
rss_low=$(worker_rss)
if [ $ok -eq 1 ] && grep -q 'model loaded .*low_memory=yes' "$srv_log" &&
    [ -n "$rss_default" ] && [ -n "$rss_low" ] &&
    [ "$rss_low" -lt $((rss_default - 3 * 1024)) ]; then
	pass "model.low_memory=yes: the same top-5; worker RSS $((rss_low / 1024)) MB against $((rss_default / 1024)) MB"
else
	fail "model.low_memory=yes: answers ok=$ok, worker RSS $rss_low kB against $rss_default kB"
	server_log_tail 5
fi
server_stop

# ---- kill -9 of the worker during a request ------------------------------

server_start --max-delay-us 1000000 --set worker.restart_backoff_min_ms=200
server_pids >/dev/null
( curl -s -m 60 -o "$work/k.json" -w '%{http_code} %{time_total}' \
    -H 'Content-Type: image/jpeg' --data-binary @"${samples[0]}" \
    "$base/v2/models/resnet18/classify" >"$work/k.code" ) &
cpid=$!
sleep 0.3
server_expect_deaths 1
kill -KILL "$worker_pid"
t0=$(date +%s.%N)
wait $cpid
read -r code took <"$work/k.code"
if [ "$code" = 503 ] && grep -q '"error"' "$work/k.json"; then
	pass "request in flight when the worker died: 503 ($took s)"
else
	fail "request in flight: $code in $took s: $(head -c 200 "$work/k.json")"
fi
back=0
for i in $(seq 1 200); do
	if [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' \
	    "$base/v2/health/ready")" = 200 ]; then
		back=1
		break
	fi
	sleep 0.05
done
t1=$(date +%s.%N)
[ $back -eq 1 ] &&
    pass "ready again $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after the kill" ||
    fail "not ready again within 10 s"
code=$(classify "${samples[0]}" "$work/k2.json")
[ "$code" = 200 ] && same_top5 "$work/k2.json" "$work/cli0.json" &&
    pass "requests succeed after the restart" ||
    fail "after the restart: $code"
grep -q 'event=child_exit child=worker signal=9' "$srv_log" &&
    pass "the log says the worker died of signal 9" ||
    fail "no log line for the worker's death"
[ "$(metric 'aiguard_worker_restarts_total{model="resnet18"}')" = 1 ] &&
    pass "aiguard_worker_restarts_total 1" ||
    fail "worker restarts metric: $(metric 'aiguard_worker_restarts_total{model="resnet18"}')"
server_stop

# ---- SIGHUP: reload, and a failed reload --------------------------------

cp -r "$AG_MODEL" "$work/model"
AG_MODEL_SAVED=$AG_MODEL
AG_MODEL=$work/model
server_start
kill -HUP "$srv_pid"
wait_log 'event=reload result=ok' &&
    pass "SIGHUP reloads the model" || fail "no successful reload logged"
[ "$(metric 'aiguard_model_reloads_total{model="resnet18",result="ok"}')" = 1 ] &&
    pass "reload counted ok in /metrics" ||
    fail "reloads ok: $(metric 'aiguard_model_reloads_total{model="resnet18",result="ok"}')"
head -c 1000 "$AG_MODEL_SAVED/model.safetensors" >"$work/model/model.safetensors"
kill -HUP "$srv_pid"
wait_log 'event=reload result=failed' &&
    pass "a reload of a truncated model is refused" ||
    fail "no failed reload logged"
[ "$(metric 'aiguard_model_reloads_total{model="resnet18",result="failed"}')" = 1 ] &&
    pass "failed reload counted in /metrics" ||
    fail "reloads failed: $(metric 'aiguard_model_reloads_total{model="resnet18",result="failed"}')"
code=$(classify "${samples[0]}" "$work/h.json")
[ "$code" = 200 ] && same_top5 "$work/h.json" "$work/cli0.json" &&
    pass "the old model keeps serving" || fail "after the failed reload: $code"
server_stop
AG_MODEL=$AG_MODEL_SAVED

# ---- SIGTERM finishes the request in flight -----------------------------

server_start --max-delay-us 1000000
( classify "${samples[1]}" "$work/t.json" >"$work/t.code" ) &
cpid=$!
sleep 0.3
kill -TERM "$srv_pid"
wait $cpid
[ "$(cat "$work/t.code")" = 200 ] && same_top5 "$work/t.json" "$work/cli1.json" &&
    pass "SIGTERM: the request in flight is answered" ||
    fail "SIGTERM: request got $(cat "$work/t.code")"
# (server_stop's SIGTERM is a second one: the stop already under way goes on.)
server_stop
st=$?
[ $st -eq 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $st"
grep -q 'level=fatal' "$srv_log" && fail "fatal lines in the log"

# ---- confinement, as reported ---------------------------------------------

server_start
grep -q 'event=selinux enabled=' "$srv_log" &&
    pass "the SELinux status is logged at start" ||
    fail "no event=selinux line"
for role in parent front worker; do
	if grep "proc=$role " "$srv_log" | grep -q 'event=sandbox mode=required .*missing=none'; then
		pass "$role: sandbox required, nothing missing"
	else
		fail "$role: no complete sandbox line"
		grep 'event=sandbox' "$srv_log"
	fi
done
layers=$(curl -s -m 30 "$base/v2" | "$PYTHON" -c 'import json, sys
print(" ".join(json.load(sys.stdin)["aiguard_sandbox"]))')
want="front:landlock front:mdwe front:no_new_privs worker:landlock worker:mdwe"
case $AG_BUILD in
*/asan) ;;	# no seccomp in a sanitizer build, by design
*) want="$want front:seccomp worker:seccomp" ;;
esac
missing=
for l in $want; do
	case " $layers " in *" $l "*) ;; *) missing="$missing $l" ;; esac
done
[ -z "$missing" ] && pass "GET /v2 lists the layers in force" ||
    fail "GET /v2 lacks:$missing (has: $layers)"
[ "$(metric 'aiguard_sandbox_layer_active{role="worker",layer="landlock"}')" = 1 ] &&
    pass "/metrics: worker landlock active" ||
    fail "/metrics: worker landlock not active"
# The worker runs the engine's threads and nothing else: a BLAS thread
# pool woken by mistake spins against them while the model loads.  (On a
# CPU without AVX-512 the BLAS is the engine and has threads of its own.)
server_pids >/dev/null
want=$(sed -n 's/.*model loaded .* threads=\([0-9][0-9]*\) .*/\1/p' "$srv_log")
have=$(ls "/proc/$worker_pid/task" 2>/dev/null | wc -l)
if ! grep -q 'model loaded .*backend=.*aiguard AVX-512 kernels' "$srv_log"; then
	skip_part no-avx512 1 "the engine runs on the BLAS here: its" \
	    "thread count is not checked"
elif [ -n "$want" ] && [ "$have" = "$want" ]; then
	pass "the worker runs $have threads, the engine's $want"
else
	fail "the worker runs $have threads; the engine has ${want:-?}"
fi
server_stop
server_start --set sandbox.mode=off
grep -q 'OFF: no confinement' "$srv_log" &&
    pass "sandbox off is logged loudly" || fail "sandbox off: no warning"
server_stop
timeout 20 "$AGD" --listen 127.0.0.1:0 --model "$AG_MODEL" \
    --set sandbox.selinux_domain=aiguard_t >/dev/null 2>"$work/e5"
st=$?
if grep -q 'event=selinux enabled=yes' "$work/e5"; then
	skip_part selinux-enabled 1 "SELinux is enabled here: the domain" \
	    "refusal is not checked"
elif [ $st -eq 1 ] && grep -q 'selinux_domain is aiguard_t' "$work/e5"; then
	pass "outside the required SELinux domain: refused"
else
	fail "selinux_domain: exit $st: $(tail -n 2 "$work/e5")"
fi

# ---- start-up failures and options --------------------------------------

mkdir -p "$work/empty"
timeout 20 "$AGD" --listen 127.0.0.1:0 --model "$work/empty" \
    >/dev/null 2>"$work/e1"
st=$?
[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q 'does not load' "$work/e1" &&
    pass "a model that does not load: exit $st with a message" ||
    fail "bad model dir: exit $st: $(tail -n 3 "$work/e1")"
server_start
timeout 20 "$AGD" --listen "127.0.0.1:$port" --model "$AG_MODEL" \
    >/dev/null 2>"$work/e2"
st=$?
[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q 'cannot listen' "$work/e2" &&
    pass "port in use: exit $st with a message" ||
    fail "port in use: exit $st: $(tail -n 3 "$work/e2")"
server_stop
"$AGD" --check-config --model "$AG_MODEL" >"$work/cc" 2>"$work/cc.err"
st=$?
[ $st -eq 0 ] && grep -q '^\[server\]' "$work/cc" &&
    grep -q 'configuration OK' "$work/cc.err" &&
    pass "--check-config prints the configuration, exit 0" ||
    fail "--check-config: exit $st"
"$AGD" --check-config --model "$work/empty" >/dev/null 2>&1 &&
    fail "--check-config accepts a directory without a model" ||
    pass "--check-config refuses a directory without a model"
"$AGD" --set server.max_connections=0 --check-config >/dev/null 2>"$work/e3"
st=$?
[ $st -eq 2 ] && grep -q 'max_connections' "$work/e3" &&
    pass "a bad value: exit 2 naming the key" || fail "bad value: exit $st"
printf '[server]\nlisten = nowhere\n' >"$work/bad.conf"
"$AGD" --config "$work/bad.conf" --check-config >/dev/null 2>"$work/e4"
st=$?
[ $st -eq 2 ] && grep -q 'bad.conf:2' "$work/e4" &&
    pass "a bad file: exit 2 naming file and line" ||
    fail "bad file: exit $st: $(cat "$work/e4")"
"$AGD" --help >"$work/help" && grep -q -- '--listen' "$work/help" &&
    pass "--help" || fail "--help"
"$AGD" --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pass "an unknown option: exit 2" || fail "unknown option"

finish
