#!/bin/bash
# SPDX-License-Identifier: ISC
#
# attack-store-read.sh: a local user reads the weights out of the model
# store, or a secret that was lying in the signed model's directory.
#
# The attack (issue 18, item 5): `aiguard deploy` made every file 0644 and
# every directory 0755, so any local account could copy the weights (a
# confidential asset; a host without enforcing SELinux has nothing else in
# the way), and it copied files the signature does not cover, such as a
# .git/config holding a token, into the version served.
#
# What must hold:
#   - an unprivileged user (nobody, not in the store's group) can read,
#     list or traverse nothing in the store: not the store, not NAME, not
#     a version, not a file, not the audit log; also when the store
#     directory itself was made 0755 by someone else (a package);
#   - a user in the store's group (the daemon's) can read and verify the
#     model through NAME/current;
#   - the signed model's .git/ (with a token), .gitignore and a file the
#     caller told verification to ignore are not copied: the version holds
#     exactly the signed files and model.sig;
#   - the store's audit log has one line per deploy and rollback, with
#     time, model, version, digest, signer and user.
# A control file beside the store, readable by all, must be readable by
# nobody: the test can fail.  Runs as root (setpriv to nobody), else its
# unprivileged cases are skipped (not-root).
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
AG=$AG_BUILD/bin/aiguard
MODEL=${AG_MODEL:-$AG_TOP/build/models/resnet18}
[ -x "$AG" ] || { echo "missing $AG"; exit 99; }
[ -f "$MODEL/model.safetensors" ] || { echo "missing model $MODEL"; exit 99; }
. "$AG_TOP/tests/lib.sh"
plan 12

# The scratch directory must be reachable by nobody, or every denial
# below would be the scratch directory's (0700) and prove nothing.
chmod 711 "$work" || exit 99
pub=$work/pub
mkdir -m 755 "$pub" || exit 99
nobody_gid=$(getent group nogroup | cut -d: -f3)
nobody_gid=${nobody_gid:-65534}
# A group nobody is not in, and one for the daemon's stand-in.
daemon_gid=$(getent group daemon | cut -d: -f3)
daemon_gid=${daemon_gid:-1}
as_nobody() {
	setpriv --reuid=65534 --regid="$nobody_gid" --clear-groups \
	    env HOME=/nonexistent "$@"
}
as_daemon_group() {
	setpriv --reuid=65534 --regid="$daemon_gid" --clear-groups \
	    env HOME=/nonexistent "$@"
}

# ---- a signed model with things the signature does not cover -----------

"$AG" keygen --out "$work/k" >/dev/null 2>&1 || { echo "keygen"; exit 99; }
src=$work/src
mkdir "$src" || exit 99
cp "$MODEL/config.json" "$MODEL/labels.txt" "$MODEL/model.safetensors" \
    "$src/" || exit 99
"$AG" sign --key "$work/k.key" "$src" >/dev/null 2>&1 ||
    { echo "sign"; exit 99; }
# After signing: ignored by the reference's defaults, or by --ignore-paths.
mkdir "$src/.git" || exit 99
printf '[remote "origin"]\n\turl = https://ci:ghp_TOKEN0123456789@example.org/m\n' \
    >"$src/.git/config"
echo '*.tmp' >"$src/.gitignore"
echo 'scratch notes, TOKEN0123456789' >"$src/notes.txt"

store=$pub/store
D="--key $work/k.pub --store $store --no-reload --group $daemon_gid"
# shellcheck disable=SC2086
"$AG" deploy $D --ignore-paths notes.txt "$src" m >"$work/d1" 2>&1 &&
    "$AG" deploy $D --ignore-paths notes.txt "$src" m >"$work/d2" 2>&1 &&
    "$AG" rollback $D m >"$work/r1" 2>&1 ||
    { fail "deploy/rollback"; cat "$work/d1" "$work/d2" "$work/r1"; }

# ---- what was copied -------------------------------------------------------

got=$(cd "$store/m/1" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')
[ "$got" = "./config.json ./labels.txt ./model.safetensors ./model.sig " ] &&
    pass "the version holds the signed files and model.sig only" ||
    fail "the version holds: $got"
grep -rq TOKEN0123456789 "$store" &&
    fail "the token reached the store" ||
    pass "the .git/config token and the ignored notes are not in the store"

# ---- nobody reads nothing ----------------------------------------------------

# readable_by RUNNER PATH...: the paths RUNNER can open for reading
# (a file) or list (a directory), one a line.
readable_by() {
	local runner=$1
	shift
	"$runner" bash -c 'for p; do
		if [ -d "$p" ]; then ls "$p" >/dev/null 2>&1 && echo "$p"
		else head -c 1 "$p" >/dev/null 2>&1 && echo "$p"; fi
	done' _ "$@"
}
echo control >"$pub/control" && chmod 644 "$pub/control" || exit 99
if [ "$(id -u)" -ne 0 ]; then
	skip_part not-root 7 "cannot switch to nobody"
else
	[ "$(readable_by as_nobody "$pub/control")" = "$pub/control" ] &&
	    pass "control: nobody reads a 0644 file beside the store" ||
	    fail "control: nobody cannot read $pub/control (the test is void)"
	mapfile -t paths < <(find "$store" ! -type l)
	bad=$(readable_by as_nobody "${paths[@]}" "$store/m/current" \
	    "$store/m/current/model.safetensors")
	[ ${#paths[@]} -gt 8 ] && [ -z "$bad" ] &&
	    pass "nobody reads nothing of ${#paths[@]} store paths" ||
	    fail "nobody reads: $(echo "$bad" | head -n 5 | tr '\n' ' ')"
	as_nobody cat "$store/m/current/model.safetensors" >/dev/null 2>&1 &&
	    fail "nobody copied the weights" ||
	    pass "nobody cannot copy the weights through current"

	# A store directory someone else made 0755 (a package): NAME is
	# still closed, and what is below it.
	store2=$pub/store2
	mkdir -m 755 "$store2" || exit 99
	"$AG" deploy --key "$work/k.pub" --store "$store2" --no-reload \
	    --group "$daemon_gid" "$src" --ignore-paths notes.txt m \
	    >"$work/d3" 2>&1 || { fail "deploy into store2"; cat "$work/d3"; }
	mapfile -t paths < <(find "$store2" -mindepth 1 ! -type l)
	bad=$(readable_by as_nobody "${paths[@]}")
	[ ${#paths[@]} -gt 4 ] && [ -z "$bad" ] &&
	    pass "store made 0755 by others: nobody reads nothing below it" ||
	    fail "store2: nobody reads: $(echo "$bad" | head -n 5 | tr '\n' ' ')"

	# The daemon's user, in the group: reads and verifies its model.
	[ "$(readable_by as_daemon_group \
	    "$store/m/current/model.safetensors")" = \
	    "$store/m/current/model.safetensors" ] &&
	    as_daemon_group "$AG" verify --key "$work/k.pub" \
	    "$store/m/current" >"$work/v" 2>&1 &&
	    pass "a member of the store's group reads and verifies the model" ||
	    { fail "the group cannot read its model"; cat "$work/v"; }
	bad=$(find "$store" ! -type l ! -group "$daemon_gid" | grep -v '/.lock$')
	[ -z "$bad" ] && pass "everything in the store is in group $daemon_gid" ||
	    fail "not in the group: $(echo "$bad" | head -n 3 | tr '\n' ' ')"
	[ "$(stat -c %a "$store/m/1/model.safetensors")" = 640 ] &&
	    [ "$(stat -c %a "$store/m/1")" = 750 ] &&
	    pass "files 0640, directories 0750" ||
	    fail "modes: $(stat -c '%a %n' "$store/m/1" "$store/m/1"/*)"
fi

# ---- the audit log -------------------------------------------------------------

log=$store/.audit.log
lines=()
mapfile -t lines <"$log"
dig() { grep -Eo 'digest sha256:[0-9a-f]{64}' "$1" | cut -d' ' -f2; }
d1=$(dig "$work/d1") d2=$(dig "$work/d2")
ts='^time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z '
who=" signer=\"key sha256:[0-9a-f]{64}\" uid=$(id -u) user=\"$(id -un)\"( loginuid=[0-9]+)?\$"
re1="${ts}event=deploy model=\"m\" version=1 previous=0 digest=\"$d1\"$who"
re2="${ts}event=deploy model=\"m\" version=2 previous=1 digest=\"$d2\"$who"
re3="${ts}event=rollback model=\"m\" version=1 previous=2 digest=\"$d1\"$who"
[ ${#lines[@]} -eq 3 ] && [[ ${lines[0]} =~ $re1 ]] &&
    [[ ${lines[1]} =~ $re2 ]] && [[ ${lines[2]} =~ $re3 ]] &&
    pass "audit log: deploy, deploy, rollback, each with its fields" ||
    { fail "audit log (${#lines[@]} lines)"; sed 's/^/    | /' "$log"; }
"$AG" models --store "$store" --log m >"$work/log.out" 2>&1 &&
    cmp -s "$work/log.out" "$log" &&
    pass "aiguard models --log m prints it" ||
    { fail "models --log"; cat "$work/log.out"; }

finish
