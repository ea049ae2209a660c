#!/bin/bash
# SPDX-License-Identifier: ISC
#
# repository.sh: a model repository under load, end to end.
#
# Three models with generated weights (ResNet-18, -34 and -50, 10 classes,
# 64x64 input so that the test stays cheap) are deployed into a store in
# the scratch directory and served by one aiguardd (model.repository), one
# worker each.  Traffic is concurrent classify requests to all three
# (tests/e2e/repository-load.py), a few seconds per phase.
#
# First server (model.control = none):
#   - the three are ready; the metadata of each lists its version, digest
#     and signer (those aiguard deploy printed); POST /v2/repository/index
#     with an admin token lists the three READY, without a token 401;
#   - concurrent traffic: every answer 200 and from the right model;
#   - the three workers are three processes, children of the parent, each
#     with seccomp in filter mode and no_new_privs, each logging its
#     sandbox (Landlock among the layers) and its own version directory;
#   - kill -9 of one worker under load: the other two answer every request
#     200 meanwhile, the killed one answers 200 or 503 (never a reset),
#     and it is ready again within seconds, in a new process;
#   - aiguard deploy --pid-file of a new version of one model under load:
#     0 failed requests, then its answers carry the new version and the
#     old worker has exited 0;
#   - a deploy of a version signed by a key the server does not trust:
#     the load fails, the old version keeps serving, 0 failed requests;
#   - GET /v2/models/NAME/stats of an undisturbed model: inference and
#     execution counts > 0, success.count = the 200s the test received;
#   - /metrics has the per-model series of the three.
# Second server (model.control = explicit, model.names = the three, one
# of them with versions = latest:2), after aiguard rollback:
#   - the three load at start; the model with two versions has two
#     workers, each answering under its own version;
#   - unload without a token: 401 even with admin in server.open (the
#     repository always takes a token), with a token without admin: 403; with
#     the admin token, under load on the three: 200, then at once the
#     model is 404 (its own traffic gets 200 then 404, never an error)
#     while the two others answered every request 200; load again: ready,
#     answers; a load of a model not in the store: 404.
# About 30 s (45 s in the sanitizer build) on 2 CPUs.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${PYTHON:=/usr/bin/python3}"
AG=$AG_BUILD/bin/aiguard
GW=$AG_BUILD/bin/gen-weights
KEY=$AG_TOP/build/keys/aiguard-build
for f in "$AG_BUILD/bin/aiguardd" "$AG" "$GW" "$KEY.key" "$KEY.pub"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "missing curl"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 34
LOAD=$AG_TOP/tests/e2e/repository-load.py
IMG=$(ls "$AG_TOP"/samples/*.jpg | head -n 1)
MODELS="resnet18 resnet34 resnet50"
store=$work/store
# Loading three models takes longer than one (more so in the ASan build).
export SERVER_START_S=${SERVER_START_S:-90}
t_start=$SECONDS

# ---- helpers ----------------------------------------------------------------

# py EXPR FILE: EXPR over d, FILE's JSON (empty when it cannot be read).
py() {
	"$PYTHON" -c 'import json, sys
try:
    d = json.load(open(sys.argv[2]))
except (OSError, ValueError):
    sys.exit(1)
print(eval(sys.argv[1]))' "$1" "$2" 2>/dev/null
}
# get PATH [TOKEN]: GET, the body in $work/b; prints the status.
get() {
	curl -s -m 30 -o "$work/b" -w '%{http_code}' \
	    ${2:+-H "Authorization: Bearer $2"} "$base$1"
}
# post PATH [TOKEN]: the same for an empty POST.
post() {
	curl -s -m 60 -X POST -o "$work/b" -w '%{http_code}' \
	    ${2:+-H "Authorization: Bearer $2"} "$base$1"
}
# cls NAME[/versions/V]: one classify; prints "STATUS MODEL VERSION".
cls() {
	local c
	c=$(curl -s -m 60 -o "$work/c" -w '%{http_code}' \
	    -H 'Content-Type: image/jpeg' --data-binary @"$IMG" \
	    "$base/v2/models/$1/classify?top=1")
	echo "$c $(py 'd["model_name"] + " " + d["model_version"]' \
	    "$work/c")"
}
# wait_ready NAME SECONDS: /v2/models/NAME/ready answers 200.
wait_ready() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(get "/v2/models/$1/ready")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
# load_start TAG SECONDS NAME:CONNS...: traffic in the background until
# load_stop TAG (or SECONDS); the summary in $work/TAG.json.
declare -A load_pid
load_start() {
	local tag=$1 secs=$2
	shift 2
	rm -f "$work/$tag.stop"
	"$PYTHON" "$LOAD" "$port" "$IMG" "$secs" "$work/$tag.stop" "$@" \
	    >"$work/$tag.json" 2>"$work/$tag.err" &
	load_pid[$tag]=$!
}
load_stop() {
	touch "$work/$1.stop"
	wait "${load_pid[$1]}"
}
# summary TAG NAME: one line on NAME's traffic of phase TAG.
summary() {
	py '"sent %(sent)d status %(status)s errors %(errors)d wrong %(wrong)d versions %(versions)s p50 %(p50_ms)s ms p99 %(p99_ms)s ms" % d["'"$2"'"]' \
	    "$work/$1.json"
}
# all_ok TAG NAME [VERSION]: NAME got answers, every one 200 from NAME
# (and of VERSION only, when given), no connection failed.
all_ok() {
	[ "$(py '(lambda t: t["sent"] > 0 and t["status"] == {"200": t["sent"]} and t["errors"] == 0 and t["wrong"] == 0)(d["'"$2"'"])' \
	    "$work/$1.json")" = True ] || return 1
	[ -z "${3:-}" ] ||
	    [ "$(py 'list(d["'"$2"'"]["versions"])' "$work/$1.json")" = "['$3']" ]
}
# ok200 TAG NAME: the 200s NAME got in phase TAG.
ok200() { py 'd["'"$2"'"]["status"].get("200", 0)' "$work/$1.json"; }
# wpid NAME VERSION: the pid of the last worker that loaded NAME's VERSION
# (its own log line), when it is a live aiguardd-worker child of the
# server.
wpid() {
	local pid st ppid
	pid=$(sed -n "s/.* proc=worker pid=\([0-9][0-9]*\) msg=\"model loaded model=$1 .* version=$2 digest=.*/\1/p" \
	    "$srv_log" | tail -n 1)
	[ -n "$pid" ] || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = aiguardd-worker ] ||
	    return 1
	st=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	st=${st##*) }
	ppid=${st#* }
	ppid=${ppid%% *}
	[ "$ppid" = "$srv_pid" ] || return 1
	echo "$pid"
}
# status_of PID KEY: a field of /proc/PID/status.
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# ---- models, keys, tokens, the store -----------------------------------------

t0=$SECONDS
"$AG" keygen --out "$work/other" >/dev/null 2>&1 || { echo "keygen failed"; exit 99; }
# gen NAME ARCH: a model source $work/src-NAME, 64x64 input, signed.
gen() {
	"$GW" --arch "$2" --seed 7 --classes 10 --out "$work/src-$1" \
	    >"$work/gen-$1.log" 2>&1 || return 1
	"$PYTHON" - "$work/src-$1/config.json" <<'EOF' || return 1
import json, sys
c = json.load(open(sys.argv[1]))
c["input"].update(height=64, width=64, resize=73)
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
	"$AG" sign --key "$KEY.key" "$work/src-$1" >/dev/null 2>&1
}
for m in $MODELS; do
	gen "$m" "$m" || { echo "gen-weights $m failed"; cat "$work/gen-$m.log"; exit 99; }
done
# deploy PUB SRC NAME [ARGS...]: aiguard deploy trusting PUB; its output
# in $work/dep.out.
deploy() {
	local pub=$1 src=$2 name=$3
	shift 3
	"$AG" deploy --key "$pub" --store "$store" "$@" "$src" "$name" \
	    >"$work/dep.out" 2>&1
}
declare -A digest
for m in $MODELS; do
	deploy "$KEY.pub" "$work/src-$m" "$m" --no-reload ||
	    { echo "deploy $m failed"; cat "$work/dep.out"; exit 99; }
	digest[$m]=$(grep -Eo 'sha256:[0-9a-f]{64}' "$work/dep.out" | head -n 1)
done
signer=$(sed -n 's/.*, signer \(key sha256:[0-9a-f]*\)).*/\1/p' "$work/dep.out")
# Version 2 of resnet18: the same weights, another config.json (another
# digest).  Version 3: signed by a key the server does not trust.
cp -r "$work/src-resnet18" "$work/v2" && cp -r "$work/src-resnet18" "$work/v3" ||
    exit 99
sed -i 's/"source": "/"source": "version 2: /' "$work/v2/config.json"
sed -i 's/"source": "/"source": "version 3: /' "$work/v3/config.json"
rm -f "$work/v2/model.sig" "$work/v3/model.sig"
"$AG" sign --key "$KEY.key" "$work/v2" >/dev/null 2>&1 &&
    "$AG" sign --key "$work/other.key" "$work/v3" >/dev/null 2>&1 ||
    { echo "sign failed"; exit 99; }
TOK=$work/tokens
tok() {
	"$AG" token add --file "$TOK" "$@" 2>/dev/null | tail -n 1
}
adm=$(tok --scopes health,metadata,infer,metrics,admin adm)
usr=$(tok --scopes metadata,infer usr)
[ -n "$adm" ] && [ -n "$usr" ] || { echo "token add failed"; exit 99; }
echo "# models generated, signed and deployed in $((SECONDS - t0)) s"

# ---- first server: model.control = none ----------------------------------------

t0=$SECONDS
AG_MODEL="" server_start --set model.repository="$store" \
    --set model.threads=1 --pid-file "$work/aiguardd.pid" \
    --tokens "$TOK" --set server.open=health,metadata,infer,metrics
bad=
for m in $MODELS; do
	wait_ready "$m" 30 || bad="$bad $m"
done
[ -z "$bad" ] && pass "three models ready ($((SECONDS - t0)) s from start)" ||
    { fail "not ready:$bad"; server_log_tail; }

for m in $MODELS; do
	c=$(get "/v2/models/$m")
	got=$(py '" ".join([str(d["versions"]), d["parameters"]["digest"], d["parameters"]["signer"], str([(v["version"], v["digest"], v["default"]) for v in d["parameters"]["loaded_versions"]])])' "$work/b")
	want="['1'] ${digest[$m]} $signer [('1', '${digest[$m]}', True)]"
	[ "$c" = 200 ] && [ "$got" = "$want" ] &&
	    pass "metadata of $m: version 1, its digest and signer" ||
	    fail "metadata of $m: $c $got (want $want)"
done

c1=$(post /v2/repository/index)
c=$(post /v2/repository/index "$adm")
got=$(py 'sorted((e["name"], e.get("version", ""), e["state"]) for e in d)' "$work/b")
want="[('resnet18', '1', 'READY'), ('resnet34', '1', 'READY'), ('resnet50', '1', 'READY')]"
[ "$c1" = 401 ] && [ "$c" = 200 ] && [ "$got" = "$want" ] &&
    pass "repository index: the three READY (admin token; 401 without)" ||
    fail "repository index: $c1, $c $got"

# Concurrent traffic to the three.
load_start mix 3 resnet18:2 resnet34:2 resnet50:2
wait "${load_pid[mix]}"
for m in $MODELS; do
	all_ok mix "$m" 1 && pass "concurrent traffic, $m: $(summary mix "$m")" ||
	    fail "concurrent traffic, $m: $(summary mix "$m")"
done

# Isolation: three processes, each confined, each with its own version.
# The sanitizer build loads no seccomp filter, by design.
case $AG_BUILD in
*/asan) seccomp=0 ;;
*) seccomp=2 ;;
esac
declare -A wp
pids=
for m in $MODELS; do
	wp[$m]=$(wpid "$m" 1)
	p=${wp[$m]}
	pids="$pids $p"
	if [ -n "$p" ] && [ "$(status_of "$p" Seccomp)" = $seccomp ] &&
	    [ "$(status_of "$p" NoNewPrivs)" = 1 ] &&
	    grep -q "proc=worker pid=$p event=sandbox mode=required active=[a-z_,]*landlock" "$srv_log" &&
	    grep -q "proc=worker pid=$p msg=\"model loaded model=$m .* dir=$store/$m/1 version=1 " "$srv_log"; then
		pass "worker of $m (pid $p): Seccomp $seccomp, no_new_privs, Landlock, $m/1 only"
	else
		fail "worker of $m: pid '${p}'"
		[ -n "$p" ] && grep -E '^(Seccomp|NoNewPrivs):' "/proc/$p/status"
	fi
done
[ "$(echo $pids | tr ' ' '\n' | sort -u | grep -c .)" = 3 ] &&
    pass "three distinct worker processes:$pids" ||
    fail "worker processes:$pids"

# kill -9 of resnet34's worker under load.
ok18=$(ok200 mix resnet18) ok50=$(ok200 mix resnet50)
load_start kill 20 resnet18:2 resnet34:2 resnet50:2
sleep 1
old=${wp[resnet34]}
if [ -n "$old" ]; then
	server_expect_deaths 1
	kill -KILL "$old"
fi
t0=$SECONDS
# Ready again: the model, and a worker that logged its load anew.
new=
for ((i = 0; i < 200; i++)); do
	if [ "$(get /v2/models/resnet34/ready)" = 200 ]; then
		new=$(wpid resnet34 1)
		[ -n "$new" ] && [ "$new" != "$old" ] && break
	fi
	sleep 0.1
done
dt=$((SECONDS - t0))
sleep 1
load_stop kill
for m in resnet18 resnet50; do
	all_ok kill "$m" 1 &&
	    pass "worker of resnet34 killed: $m answered every request 200 ($(summary kill "$m"))" ||
	    fail "worker of resnet34 killed: $m: $(summary kill "$m")"
done
s=$(py 'sorted(d["resnet34"]["status"])' "$work/kill.json")
e=$(py 'd["resnet34"]["errors"] + d["resnet34"]["wrong"]' "$work/kill.json")
k=$(cls resnet34)
if [ -n "$new" ] && [ "$new" != "$old" ] &&
    [[ $s == "['200', '503']" || $s == "['200']" ]] && [ "$e" = 0 ] &&
    [ "$k" = "200 resnet34 1" ]; then
	pass "resnet34 back within ${dt} s (pid $old -> $new); meanwhile 200 or 503 only ($(summary kill resnet34))"
else
	fail "resnet34 after kill: pid $old -> '$new' in $dt s: $(summary kill resnet34)"
	server_log_tail
fi
ok18=$((ok18 + $(ok200 kill resnet18)))
ok50=$((ok50 + $(ok200 kill resnet50)))
ok34=$(( $(ok200 mix resnet34) + $(ok200 kill resnet34) + 1 ))

# aiguard deploy of resnet18 version 2 under load (SIGHUP by the pid file).
load_start dep 30 resnet18:2 resnet34:1 resnet50:1
sleep 1
t0=$SECONDS
deploy "$KEY.pub" "$work/v2" resnet18 --pid-file "$work/aiguardd.pid"
rc=$?
d2=$(grep -Eo 'sha256:[0-9a-f]{64}' "$work/dep.out" | head -n 1)
for ((i = 0; i < 300; i++)); do
	[ "$(get /v2/models/resnet18)" = 200 ] &&
	    [ "$(py 'd["parameters"]["digest"]' "$work/b")" = "$d2" ] && break
	sleep 0.1
done
dt=$((SECONDS - t0))
sleep 1
load_stop dep
v=$(py 'sorted(d["resnet18"]["versions"])' "$work/dep.json")
if [ $rc -eq 0 ] && all_ok dep resnet18 && [ "$v" = "['1', '2']" ] &&
    all_ok dep resnet34 1 && all_ok dep resnet50 1 &&
    grep -q "SIGHUP sent" "$work/dep.out"; then
	pass "deploy of resnet18 version 2 under load: 0 failed requests, switched in ${dt} s ($(summary dep resnet18))"
else
	fail "deploy under load: rc=$rc versions $v; resnet18: $(summary dep resnet18); resnet34: $(summary dep resnet34); resnet50: $(summary dep resnet50)"
	sed 's/^/    | /' "$work/dep.out"
fi
ok=1
for i in 1 2 3; do
	[ "$(cls resnet18)" = "200 resnet18 2" ] || ok=0
done
c=$(get /v2/models/resnet18)
got=$(py 'str(d["versions"]) + " " + d["parameters"]["digest"]' "$work/b")
[ $ok -eq 1 ] && [ "$c" = 200 ] && [ "$got" = "['2'] $d2" ] &&
    [ "$(py 'd["resnet18"]["last_version"]' "$work/dep.json")" = 2 ] &&
    pass "after the deploy resnet18 answers as version 2 ($d2)" ||
    fail "after the deploy: $(cls resnet18); metadata $c $got"
wait_log "event=child_exit child=worker model=resnet18 version=1 exit=0" 10 &&
    grep -q "event=model_retire model=resnet18 version=1 why=\"replaced\"" "$srv_log" &&
    pass "the old version's worker retired and exited 0" ||
    fail "the old worker of resnet18 did not exit"
ok34=$((ok34 + $(ok200 dep resnet34)))
ok50=$((ok50 + $(ok200 dep resnet50)))

# A version signed by another key: deployed (deploy trusts that key),
# refused by the server; version 2 keeps serving.
load_start bad 30 resnet18:2 resnet34:1 resnet50:1
sleep 1
deploy "$work/other.pub" "$work/v3" resnet18 --pid-file "$work/aiguardd.pid"
rc=$?
# Its worker exits with the load's failure: a death the parent logs.
server_expect_deaths 1
wait_log "event=model_load result=failed model=resnet18 version=3 " 30
r=$?
sleep 1
load_stop bad
if [ $rc -eq 0 ] && [ $r -eq 0 ] && all_ok bad resnet18 2 &&
    all_ok bad resnet34 1 && all_ok bad resnet50 1 &&
    [ "$(cls resnet18)" = "200 resnet18 2" ]; then
	pass "a version signed by an untrusted key does not load; version 2 serves, 0 failed ($(summary bad resnet18))"
else
	fail "untrusted version: deploy rc=$rc, log $r; resnet18: $(summary bad resnet18)"
	server_log_tail
fi
c=$(post /v2/repository/index "$adm")
got=$(py 'sorted((e.get("version", ""), e["state"], e.get("reason", "")[:10]) for e in d if e["name"] == "resnet18")' "$work/b")
[ "$c" = 200 ] &&
    [ "$got" = "[('', 'UNAVAILABLE', 'version 3:'), ('2', 'READY', '')]" ] &&
    pass "the index: resnet18 version 2 READY, and why version 3 is not" ||
    fail "index after the refused version: $c $got"
ok34=$((ok34 + $(ok200 bad resnet34)))
ok50=$((ok50 + $(ok200 bad resnet50)))

# Statistics: resnet50 was never disturbed; resnet34's survive its
# worker's restart.
for x in resnet50:$ok50 resnet34:$ok34; do
	m=${x%%:*} n=${x#*:}
	c=$(get "/v2/models/$m/stats")
	got=$(py '(lambda s: "%d %d %d %d" % (s["inference_count"], s["execution_count"], s["inference_stats"]["success"]["count"], len(d["model_stats"])))(d["model_stats"][0])' "$work/b")
	read -r ic ec sc ns <<<"$got"
	[ "$c" = 200 ] && [ "${ns:-0}" = 1 ] && [ "${ic:-0}" -gt 0 ] &&
	    [ "${ec:-0}" -gt 0 ] && [ "${sc:-}" = "$n" ] &&
	    pass "stats of $m: inference_count $ic, execution_count $ec, success.count $sc = the 200s received" ||
	    fail "stats of $m: $c inference/execution/success/entries: '$got', want success $n"
done

# /metrics: the per-model series of the three.
curl -s -m 30 "$base/metrics" -H "Authorization: Bearer $adm" >"$work/metrics"
bad=
for m in $MODELS; do
	v=1
	[ $m = resnet18 ] && v=2
	grep -q "^aiguard_model_loaded{model=\"$m\",version=\"$v\"} 1$" "$work/metrics" &&
	    grep -q "^aiguard_worker_up{model=\"$m\",version=\"$v\"} 1$" "$work/metrics" &&
	    awk -v k="aiguard_inference_duration_seconds_count{model=\"$m\",version=\"$v\"}" \
	    '$1 == k && $2 > 0 {f = 1} END {exit !f}' "$work/metrics" ||
	    bad="$bad $m"
done
[ -z "$bad" ] && pass "/metrics: loaded, worker_up and inference counts labelled by model, the three" ||
    { fail "/metrics per model:$bad"; grep 'model=' "$work/metrics" | grep -v _bucket | head -n 20; }
server_stop

# ---- second server: model.control = explicit ----------------------------------

# Back to version 2 (version 3 stays in the store, above current: never
# selected).
"$AG" rollback --key "$KEY.pub" --store "$store" --no-reload resnet18 \
    >"$work/rb.out" 2>&1 || { echo "rollback failed"; cat "$work/rb.out"; exit 99; }
t0=$SECONDS
AG_MODEL="" server_start --set model.repository="$store" \
    --set model.threads=1 --tokens "$TOK" \
    --set server.open=health,metadata,infer,metrics,admin \
    --set model.control=explicit \
    --set model.names=resnet18,resnet34,resnet50 \
    --set model.resnet18.versions=latest:2
c=$(post /v2/repository/index "$adm")
got=$(py 'sorted((e["name"], e.get("version", ""), e["state"]) for e in d)' "$work/b")
want="[('resnet18', '1', 'READY'), ('resnet18', '2', 'READY'), ('resnet34', '1', 'READY'), ('resnet50', '1', 'READY')]"
[ "$c" = 200 ] && [ "$got" = "$want" ] &&
    pass "explicit control: model.names load at start, resnet18 versions 1 and 2 ($((SECONDS - t0)) s)" ||
    { fail "explicit control at start: $c $got"; server_log_tail; }
p1=$(wpid resnet18 1) p2=$(wpid resnet18 2)
[ -n "$p1" ] && [ -n "$p2" ] && [ "$p1" != "$p2" ] &&
    [ "$(cls resnet18/versions/1)" = "200 resnet18 1" ] &&
    [ "$(cls resnet18/versions/2)" = "200 resnet18 2" ] &&
    [ "$(cls resnet18)" = "200 resnet18 2" ] &&
    pass "latest:2: two workers of resnet18 ($p1, $p2), each answers as its version; the default is 2" ||
    fail "resnet18 versions: pids '$p1' '$p2': $(cls resnet18/versions/1), $(cls resnet18/versions/2), $(cls resnet18)"

c1=$(post /v2/repository/models/resnet50/unload)
c2=$(post /v2/repository/models/resnet50/unload "$usr")
[ "$c1" = 401 ] && [ "$c2" = 403 ] && [ "$(get /v2/models/resnet50/ready)" = 200 ] &&
    pass "unload without a token: 401 (though server.open opens admin); without the admin scope: 403; still served" ||
    fail "unload without admin: $c1 $c2"

load_start unl 20 resnet18:1 resnet34:1 resnet50:1
sleep 1
c=$(post /v2/repository/models/resnet50/unload "$adm")
# At once: the traffic to it does not keep it reachable.
c404=$(get /v2/models/resnet50)
r404=$(get /v2/models/resnet50/ready)
k404=$(cls resnet50)
sleep 1
load_stop unl
s=$(py 'sorted(d["resnet50"]["status"])' "$work/unl.json")
e=$(py 'd["resnet50"]["errors"] + d["resnet50"]["wrong"]' "$work/unl.json")
[ "$c" = 200 ] && [ "$c404" = 404 ] && [ "$r404" = 404 ] &&
    [ "${k404%% *}" = 404 ] && [ "$s" = "['200', '404']" ] && [ "$e" = 0 ] &&
    pass "unload resnet50 under its own traffic (admin): 200, then at once its metadata, ready and classify 404 ($(summary unl resnet50))" ||
    { fail "unload: $c, then $c404 $r404 $k404; $(summary unl resnet50)"; grep -v event=access "$srv_log" | tail -n 12; }
all_ok unl resnet18 2 && all_ok unl resnet34 1 &&
    pass "meanwhile resnet18 and resnet34 answered every request 200 ($(summary unl resnet18); $(summary unl resnet34))" ||
    fail "during the unload: resnet18: $(summary unl resnet18); resnet34: $(summary unl resnet34)"
wait_log "event=child_exit child=worker model=resnet50 version=1 exit=0" 10 &&
    pass "the unloaded model's worker exited 0" ||
    fail "the worker of resnet50 did not exit after the unload"

c=$(post /v2/repository/models/resnet50/load "$adm")
[ "$c" = 200 ] && [ "$(get /v2/models/resnet50/ready)" = 200 ] &&
    [ "$(cls resnet50)" = "200 resnet50 1" ] &&
    pass "load resnet50 again: 200, ready, answers" ||
    fail "load again: $c $(cls resnet50)"
c=$(post /v2/repository/models/no-such-model/load "$adm")
[ "$c" = 404 ] && pass "load of a model not in the store: 404" ||
    fail "load of a missing model: $c"
server_stop
echo "# test time $((SECONDS - t_start)) s"
finish
