# SPDX-License-Identifier: ISC
#
# server-lib.sh: aiguardd for the server tests.  Source it after
# tests/lib.sh (which gives $work, pass, fail and finish); it lives outside
# tests/e2e so that run-tests does not take it for a test.
#
#   server_start [ARGS...]  starts $AG_BUILD/bin/aiguardd on 127.0.0.1:0
#                           with $AG_MODEL and ARGS, its log in
#                           $work/server.log (the Nth start after the first:
#                           $work/server.N.log; the path is in $srv_log),
#                           and waits up to $SERVER_START_S (20) seconds
#                           for the port line and for /v2/health/ready.
#                           Sets $srv_pid, $port and $base
#                           (http://127.0.0.1:PORT; https:// when
#                           $SERVER_SCHEME is https, the readiness check
#                           then trusting the CA file $SERVER_CACERT).
#                           On a timeout or an
#                           early exit: a failure with the log's tail, and
#                           the test exits 1.
#   server_stop             SIGTERM, then waits (up to $SERVER_STOP_S, 45
#                           seconds, then SIGKILL); returns the exit status,
#                           and records it for the end check.
#   server_expect_deaths N  the test kills (or crashes) N children of the
#                           server now running, on purpose.
#   server_pids             sets $front_pid and $worker_pid (the children of
#                           $srv_pid whose /proc/PID/comm is aiguardd-front
#                           or aiguardd-worker; empty when not found) and
#                           prints "FRONT WORKER".
#   server_log_tail [N]     the last N (20) lines of $srv_log, indented.
#   classify, metric, wait_log, same_top5: requests and checks, below.
#
# One server at a time.  The end check (server_end_check, which tests/lib.sh
# runs from finish, or at exit when the test leaves before finish, also on
# SIGINT and SIGTERM) stops the one still running, signalling $srv_pid only
# (the daemon takes its children down itself), then judges every server the
# test started: each must have stopped with exit status 0 on SIGTERM, and
# its parent must have logged no child's death (event=child_exit, other
# than "exit=0" while stopping) beyond those the test declared with
# server_expect_deaths.  A child that crashes (a sanitizer's abort, a
# SIGSEGV) is restarted by the parent and the requests after it may well
# succeed: the log is where it shows.  tests/lib.sh then looks for
# sanitizer reports in every log under $work, the servers' included.
AGD=$AG_BUILD/bin/aiguardd
srv_pid= srv_log= port= base= front_pid= worker_pid=
srv_starts=0
# Per server started, by index (start number - 1): its log, its exit status
# ("" while running, "start" when it did not start) and the deaths declared.
srv_r_log=() srv_r_rc=() srv_r_deaths=()

# State of PID from /proc/PID/stat ("Z" for a zombie), "" when gone.
server_proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	echo "${stat%% *}"
}

server_log_tail() {
	[ -n "$srv_log" ] && [ -f "$srv_log" ] &&
		tail -n "${1:-20}" "$srv_log" | sed 's/^/    | /'
	return 0
}

server_start() {
	local deadline st code
	srv_starts=$((srv_starts + 1))
	if [ $srv_starts -eq 1 ]; then
		srv_log=$work/server.log
	else
		srv_log=$work/server.$srv_starts.log
	fi
	port= base=
	srv_r_log+=("$srv_log") srv_r_rc+=("") srv_r_deaths+=(0)
	"$AGD" --listen 127.0.0.1:0 --model "$AG_MODEL" "$@" \
	    </dev/null >"$srv_log.out" 2>"$srv_log" &
	srv_pid=$!
	deadline=$((SECONDS + ${SERVER_START_S:-20}))
	while [ $SECONDS -lt $deadline ]; do
		st=$(server_proc_state "$srv_pid")
		if [ -z "$st" ] || [ "$st" = Z ]; then
			wait "$srv_pid"
			fail "aiguardd${*:+ $*} exited with status $? at start"
			srv_r_rc[$((srv_starts - 1))]=start
			server_log_tail
			srv_pid=
			echo "$nfail failed"
			exit 1
		fi
		if [ -z "$port" ]; then
			port=$(sed -n 's/.*msg="listening on 127\.0\.0\.1:\([0-9][0-9]*\)".*/\1/p' \
			    "$srv_log" | head -n 1)
			[ -n "$port" ] &&
			    base=${SERVER_SCHEME:-http}://127.0.0.1:$port
		fi
		if [ -n "$port" ]; then
			code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
			    ${SERVER_CACERT:+--cacert "$SERVER_CACERT"} \
			    "$base/v2/health/ready")
			[ "$code" = 200 ] && return 0
		fi
		sleep 0.1
	done
	fail "aiguardd${*:+ $*} not ready within ${SERVER_START_S:-20} s" \
	    "(port ${port:-not logged})"
	server_log_tail
	server_stop >/dev/null
	echo "$nfail failed"
	exit 1
}

server_stop() {
	local pid=$srv_pid deadline st rc
	[ -n "$pid" ] || return 0
	srv_pid=
	kill -TERM "$pid" 2>/dev/null
	deadline=$((SECONDS + ${SERVER_STOP_S:-45}))
	while :; do
		st=$(server_proc_state "$pid")
		[ -z "$st" ] || [ "$st" = Z ] && break
		if [ $SECONDS -ge $deadline ]; then
			echo "aiguardd $pid: no exit after SIGTERM; SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		sleep 0.05
	done
	wait "$pid"
	rc=$?
	srv_r_rc[$((srv_starts - 1))]=$rc
	return $rc
}

server_expect_deaths() {
	local i=$((srv_starts - 1))
	srv_r_deaths[$i]=$((srv_r_deaths[$i] + $1))
}

# The parent's lines for children that died: event=child_exit, except the
# clean exits of a stop ("level=info ... child=front exit=0").
server_deaths() {
	grep -E '(^| )event=child_exit ' "$1" |
	    grep -vE '^(.* )?level=info .* exit=0( |$)'
}

server_end_check() {
	local i log rc want got name
	[ -n "$srv_pid" ] && SERVER_STOP_S=10 server_stop >/dev/null
	for i in "${!srv_r_log[@]}"; do
		log=${srv_r_log[$i]} rc=${srv_r_rc[$i]} want=${srv_r_deaths[$i]}
		name="aiguardd #$((i + 1)) (${log##*/})"
		# A start that failed is server_start's failure already.
		[ "$rc" = start ] && continue
		got=$(server_deaths "$log" | wc -l)
		if [ "$rc" = 0 ] && [ "$got" -eq "$want" ]; then
			if [ "$want" -eq 0 ]; then
				pass "$name: exit 0 on SIGTERM, no child died"
			else
				pass "$name: exit 0 on SIGTERM, $got child" \
				    "death(s), as declared"
			fi
			continue
		fi
		[ "$rc" = 0 ] ||
			fail "$name: exit status ${rc:-unknown} on SIGTERM, want 0"
		[ "$got" -eq "$want" ] ||
			fail "$name: $got child death(s) logged, $want declared"
		server_deaths "$log" | head -n 5 | sed 's/^/    | /'
		srv_log=$log server_log_tail 10
	done
}
at_end server_end_check

server_pids() {
	local d comm stat ppid
	front_pid= worker_pid=
	if [ -n "$srv_pid" ]; then
		for d in /proc/[0-9]*; do
			stat=$(cat "$d/stat" 2>/dev/null) || continue
			stat=${stat##*) }
			ppid=${stat#* }
			ppid=${ppid%% *}
			[ "$ppid" = "$srv_pid" ] || continue
			comm=$(cat "$d/comm" 2>/dev/null)
			case $comm in
			aiguardd-front) front_pid=${d#/proc/} ;;
			aiguardd-worker) worker_pid=${d#/proc/} ;;
			esac
		done
	fi
	echo "$front_pid $worker_pid"
}

# classify FILE OUT: POSTs FILE, writes the body to OUT, prints the status
# (000 when no answer came within 60 s: a hung server fails the caller's
# check on the status).
classify() {
	local ct=image/jpeg
	case "$1" in *.png) ct=image/png ;; esac
	curl -s -m 60 -o "$2" -w '%{http_code}' -H "Content-Type: $ct" \
	    --data-binary @"$1" "$base/v2/models/resnet18/classify"
}

# metric NAME[{LABELS}]: the sum of the series of NAME in /metrics that
# carry every label given (all of them for a bare NAME: the models' series
# are labelled by model and version), or "none" when there is no such
# series.
metric() {
	curl -s -m 30 "$base/metrics" | awk -v k="$1" '
	    BEGIN { name = k; want = ""; i = index(k, "{")
		if (i > 0) { name = substr(k, 1, i - 1)
		    want = substr(k, i + 1, length(k) - i - 1) } }
	    /^#/ { next }
	    { n = $1; labels = ""; j = index(n, "{")
		if (j > 0) { labels = "," substr(n, j + 1, length(n) - j - 1) ","
		    n = substr(n, 1, j - 1) }
		if (n != name) next
		m = split(want, w, ",")
		for (q = 1; q <= m; q++)
			if (index(labels, "," w[q] ",") == 0) next
		v += $2; seen = 1 }
	    END { print (seen ? v : "none") }'
}

# wait_log PATTERN [SECONDS]: waits for a line of the server log.
wait_log() {
	local i
	for i in $(seq 1 $(( ${2:-10} * 20 ))); do
		grep -q -- "$1" "$srv_log" && return 0
		sleep 0.05
	done
	return 1
}

# same_top5 JSON_HTTP JSON_CLI: the HTTP answer's top-5 (a classify
# response) equals the first entry of aiguard classify --json's.
same_top5() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
http = json.load(open(sys.argv[1]))["predictions"]
cli = json.load(open(sys.argv[2]))[0]["top"]
a = [(p["index"], p["probability"]) for p in http]
b = [(p["index"], p["prob"]) for p in cli]
ok = [i for i, _ in a] == [i for i, _ in b] and \
    all(abs(x - y) < 1e-5 for (_, x), (_, y) in zip(a, b))
sys.exit(0 if ok else 1)
EOF
}

# A test killed by a signal still goes through the EXIT trap (tests/lib.sh's
# lib_atexit, which runs the end checks).
trap 'exit 130' INT
trap 'exit 143' TERM
