#!/bin/bash
# SPDX-License-Identifier: ISC
#
# install.sh: make install and make uninstall into scratch trees.
#
# With DESTDIR and PREFIX=/usr: the exact set of files with their modes
# (a distribution's layout), the binaries the build made, the unit
# byte-identical to policy/systemd/aiguardd.service, and the unit, the
# sysusers.d entry accepted by systemd's own tools run on the staged tree
# (systemd-analyze verify, systemd-sysusers with --root, in a copy), and
# no tmpfiles.d entry (nothing at boot may chmod or relabel the store).  An edited aiguardd.conf
# survives a second install; uninstall removes everything but it.  The
# default PREFIX (/usr/local) gives its own layout and a unit whose
# ExecStart and Documentation follow it.  An install path with a blank
# is refused before anything is written.
#
# Environment (from tests/run-tests): AG_TOP, AG_BUILD.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_TOP:?}" "${AG_BUILD:?}"
. "$AG_TOP/tests/lib.sh"
plan 16
for t in systemd-analyze systemd-sysusers; do
	command -v $t >/dev/null ||
	    { echo "FAIL $t missing (systemd, scripts/install-deps)"; exit 99; }
done

# The build under test (the sanitizer build is build/asan).
san=
case $AG_BUILD in */asan) san=1 ;; esac
# Not the make that may be running the tests: its jobserver and flags.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make --no-print-directory -C "$AG_TOP" SANITIZE=$san "$@"
}
# "MODE TYPE PATH" of every file, link and directory below $1, sorted.
list() { (cd "$1" && find . -mindepth 1 -printf '%m %y %P\n' | LC_ALL=C sort -k3); }
same() {	# same WHAT EXPECTED ACTUAL
	if diff -u "$2" "$3" >"$work/diff"; then
		pass "$1"
	else
		fail "$1"
		head -n 40 "$work/diff"
	fi
}

# The expected layout; man pages and docs are those of the tree.
expected() {	# expected PREFIX DOCDIR
	local p=${1#/} d=${2#/} f
	{
		echo "755 d etc"
		echo "755 d etc/aiguard"
		echo "644 f etc/aiguard/aiguardd.conf"
		echo "755 d etc/aiguard/auth"
		echo "755 d etc/aiguard/keys"
		echo "755 d etc/aiguard/tls"
		echo "755 d var/lib/aiguard"
		echo "755 f $p/bin/aiguard"
		echo "755 f $p/sbin/aiguardd"
		echo "644 f $p/lib/systemd/system/aiguardd.service"
		echo "644 f $p/lib/sysusers.d/aiguard.conf"
		echo "644 f $p/share/selinux/packages/aiguard.pp"
		echo "644 f $p/share/selinux/packages/aiguard_port.cil"
		for f in "$AG_TOP"/man/*.[1-8]; do
			echo "644 f $p/share/man/man${f##*.}/${f##*/}"
		done
		for f in "$AG_TOP"/README.md "$AG_TOP"/docs/*.md \
		    "$AG_TOP"/etc/aiguardd.conf; do
			echo "644 f $d/${f##*/}"
		done
	} | LC_ALL=C sort -k3
}
# Only the regular files and aiguard's own directories of a listing (the
# parents, /usr/share/man/man1 and the like, are anybody's).
ours() { grep -E ' f | d etc/aiguard| d etc$| d var/lib/aiguard' "$1" || true; }

# ---- PREFIX=/usr ----
d=$work/usr
if mk install DESTDIR="$d" PREFIX=/usr >"$work/inst.out" 2>&1; then
	pass "make install DESTDIR=... PREFIX=/usr"
else
	fail "make install DESTDIR=... PREFIX=/usr"
	tail -n 20 "$work/inst.out"
fi
list "$d" >"$work/all"
ours "$work/all" >"$work/got"
expected /usr /usr/share/doc/aiguard >"$work/want"
same "PREFIX=/usr: the exact files and modes" "$work/want" "$work/got"

if cmp -s "$AG_BUILD/bin/aiguardd" "$d/usr/sbin/aiguardd" &&
    cmp -s "$AG_BUILD/bin/aiguard" "$d/usr/bin/aiguard" &&
    cmp -s "$AG_TOP/etc/aiguardd.conf" "$d/etc/aiguard/aiguardd.conf" &&
    cmp -s "$AG_TOP/build/selinux/aiguard.pp" \
    "$d/usr/share/selinux/packages/aiguard.pp"; then
	pass "binaries, configuration and module are the build's"
else
	fail "an installed binary, configuration or module differs from the build's"
fi

if cmp "$AG_TOP/policy/systemd/aiguardd.service" \
    "$d/usr/lib/systemd/system/aiguardd.service"; then
	pass "PREFIX=/usr: the unit is policy/systemd/aiguardd.service as is"
else
	fail "PREFIX=/usr: the installed unit differs from the source"
fi

# systemd's tools on a copy: the unit's dependencies (the targets) and
# ExecReload's /bin/kill come from this host; its man: references must
# resolve to the installed pages.
r=$work/root
cp -a "$d" "$r"
mkdir -p "$r/bin"
cp /usr/lib/systemd/system/*.target "$r/usr/lib/systemd/system/"
cp "$(type -P kill)" "$r/bin/kill"
if (cd "$work" && MANPATH=$r/usr/share/man systemd-analyze verify \
    --man=yes --root="$r" /usr/lib/systemd/system/aiguardd.service) \
    >"$work/verify" 2>&1 && ! [ -s "$work/verify" ]; then
	pass "systemd-analyze verify: the installed unit, no complaint"
else
	fail "systemd-analyze verify complains about the installed unit"
	head -n 20 "$work/verify"
fi

if systemd-sysusers --root="$r" >"$work/sysusers" 2>&1 &&
    grep -q '^aiguard:x:[0-9]*:[0-9]*:.*:/nonexistent:' "$r/etc/passwd" &&
    grep -q '^aiguard:x:[0-9]*:' "$r/etc/group"; then
	pass "systemd-sysusers makes the user and group aiguard"
else
	fail "systemd-sysusers did not make the user and group aiguard"
	cat "$work/sysusers"
fi

if find "$d" -path '*tmpfiles.d*' | grep -q .; then
	fail "install put a tmpfiles.d entry: $(find "$d" -path '*tmpfiles.d*')"
else
	pass "no tmpfiles.d entry (the store is deploy's, not systemd-tmpfiles')"
fi

# A second install keeps an edited configuration, and says so.
printf '\n[model]\nthreads = 3\n' >>"$d/etc/aiguard/aiguardd.conf"
cp "$d/etc/aiguard/aiguardd.conf" "$work/conf.edited"
mk install DESTDIR="$d" PREFIX=/usr >"$work/inst2.out" 2>&1
if cmp -s "$work/conf.edited" "$d/etc/aiguard/aiguardd.conf" &&
    grep -q "aiguardd.conf exists: left as it is" "$work/inst2.out"; then
	pass "a second install leaves an edited aiguardd.conf, and says so"
else
	fail "a second install replaced aiguardd.conf or did not say so"
	tail -n 5 "$work/inst2.out"
fi
list "$d" | { ours /dev/stdin; } >"$work/got2"
same "the second install: the same files" "$work/want" "$work/got2"

# Uninstall: only the configuration stays.
mk uninstall DESTDIR="$d" PREFIX=/usr >"$work/uninst.out" 2>&1
(cd "$d" && find . -type f -printf '%P\n') >"$work/left"
if [ "$(cat "$work/left")" = etc/aiguard/aiguardd.conf ] &&
    [ ! -e "$d/etc/aiguard/keys" ] && [ ! -e "$d/etc/aiguard/auth" ] &&
    [ ! -e "$d/etc/aiguard/tls" ] && [ ! -e "$d/usr/share/doc/aiguard" ]; then
	pass "uninstall removes everything but aiguardd.conf"
else
	fail "uninstall left more than aiguardd.conf:"
	cat "$work/left"
fi
if grep -q "uninstall: left $d/etc/aiguard/aiguardd.conf" "$work/uninst.out"
then
	pass "uninstall says it left the configuration"
else
	fail "uninstall does not say what it left"
	cat "$work/uninst.out"
fi

# ---- the default PREFIX, /usr/local ----
l=$work/local
mk install DESTDIR="$l" >"$work/linst.out" 2>&1
list "$l" >"$work/lall"
ours "$work/lall" >"$work/lgot"
expected /usr/local /usr/local/share/doc/aiguard >"$work/lwant"
same "PREFIX=/usr/local (default): the exact files and modes" \
    "$work/lwant" "$work/lgot"

diff "$AG_TOP/policy/systemd/aiguardd.service" \
    "$l/usr/local/lib/systemd/system/aiguardd.service" |
    grep '^[<>]' | LC_ALL=C sort >"$work/udiff"
cat >"$work/udiff.want" <<'EOF'
< Documentation=man:aiguardd(8) man:aiguardd.conf(5) file:/usr/share/doc/aiguard/server.md
< ExecStart=/usr/sbin/aiguardd --config /etc/aiguard/aiguardd.conf --pid-file /run/aiguard/aiguardd.pid
> Documentation=man:aiguardd(8) man:aiguardd.conf(5) file:/usr/local/share/doc/aiguard/server.md
> ExecStart=/usr/local/sbin/aiguardd --config /etc/aiguard/aiguardd.conf --pid-file /run/aiguard/aiguardd.pid
EOF
same "PREFIX=/usr/local: the unit differs in ExecStart and Documentation only" \
    "$work/udiff.want" "$work/udiff"

mk uninstall DESTDIR="$l" >/dev/null 2>&1
if [ "$(cd "$l" && find . -type f -printf '%P\n')" = \
    etc/aiguard/aiguardd.conf ]; then
	pass "PREFIX=/usr/local: uninstall removes everything but aiguardd.conf"
else
	fail "PREFIX=/usr/local: uninstall left more"
	(cd "$l" && find . -type f)
fi

# Paths reach sed and the shell: one with a blank is refused, unwritten.
if ! mk install DESTDIR="$work/a b" PREFIX=/usr >"$work/bad.out" 2>&1 &&
    grep -q "only A-Z a-z 0-9" "$work/bad.out" && ! [ -e "$work/a b" ]; then
	pass "an install path with a blank is refused before anything is written"
else
	fail "an install path with a blank was not refused"
	tail -n 5 "$work/bad.out"
fi
finish
