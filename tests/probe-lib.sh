# SPDX-License-Identifier: ISC
#
# probe-lib.sh: what tests/e2e/probe.sh and probe-layers.sh share.  Source
# it first (it checks the environment and sources tests/lib.sh); it lives
# outside tests/e2e so that run-tests does not take it for a test.  It sets
# AG (aiguard) and asan (1 in the sanitizer build, which loads no seccomp
# filter and sets no RLIMIT_AS, by design).
#
#   as_nobody NCASES FUNC: runs FUNC nobody MODEL RUNNER... where RUNNER...
#   runs a command as nobody (65534, setpriv) and MODEL is $AG_MODEL, or a
#   world-readable copy of it when nobody cannot read it (its path in
#   $pubmodel, removed at exit).  Not root: the NCASES
#   cases FUNC would make are skipped (not-root, tests/skip-allowlist.sh);
#   no setpriv (util-linux, from scripts/install-deps) is a failure.
#
#   digest DIR: the files of DIR and their SHA-256, to see it unchanged.
#
#   probe_left_nothing WHO ERR...: one case: the probe runs whose stderr is
#   in ERR... left nothing in /tmp.  Only what these runs made counts
#   (another probe may be running): each names its scratch directory and
#   pid on stderr.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
AG=$AG_BUILD/bin/aiguard
[ -x "$AG" ] || { echo "missing $AG"; exit 99; }
[ -f "$AG_MODEL/config.json" ] || { echo "missing model $AG_MODEL"; exit 99; }
. "$AG_TOP/tests/lib.sh"
asan=0
case "$AG_BUILD" in */asan) asan=1 ;; esac

pubmodel=
# The copy goes at exit; the exit status goes on to lib.sh's end checks.
trap 'rc=$?; [ -z "$pubmodel" ] || rm -rf "$pubmodel"; (exit $rc); lib_atexit' EXIT

as_nobody() {
	local ncases=$1 func=$2 model=$AG_MODEL
	local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups
	    env HOME=/nonexistent)
	if [ "$(id -u)" -ne 0 ]; then
		skip_part not-root "$ncases" "cannot switch to nobody"
		return
	fi
	if ! command -v setpriv >/dev/null; then
		fail "no setpriv: the unprivileged runs cannot be made"
		return
	fi
	if ! "${nobody[@]}" test -r "$AG_MODEL/model.safetensors" -a \
	    -x "$AG_MODEL"; then
		pubmodel=$(mktemp -d /tmp/ag-probe-model.XXXXXX) || exit 99
		cp "$AG_MODEL"/* "$pubmodel"/ && chmod 755 "$pubmodel" &&
		    chmod 644 "$pubmodel"/* || exit 99
		model=$pubmodel
	fi
	"$func" nobody "$model" "${nobody[@]}"
}

digest() { (cd "$1" && sha256sum -- * | sort); }

probe_left_nothing() {
	local who=$1 re ours left= p
	shift
	re='.*scratch copy in \(/tmp/aiguard-probe\.[A-Za-z0-9]*\), pid'
	re="$re"' \([0-9]*\).*'
	ours=$(sed -n "s|$re|\\1 /tmp/aiguard-probe-\\2-|p" "$@" | tr ' ' '\n')
	for p in $ours; do
		left="$left$(ls -d "$p"* 2>/dev/null | tr '\n' ' ')"
	done
	if [ -z "$ours" ]; then
		fail "$who: the probe did not name its scratch directory"
	elif [ -z "$left" ]; then
		pass "$who: nothing left in /tmp"
	else
		fail "$who: left in /tmp: $left"
	fi
}
