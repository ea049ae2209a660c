#!/bin/bash
# SPDX-License-Identifier: ISC
#
# hardening.sh: every program the build links carries the hardening the
# Makefile asks for: PIE, full RELRO (a GNU_RELRO segment and BIND_NOW), a
# non-executable stack, no segment both writable and executable, no text
# relocations, no RPATH or RUNPATH, the stack protector and (outside the
# sanitizer build, where ASan replaces the string functions) the
# _FORTIFY_SOURCE checks.
#
# The list is the build's, not a hand list that goes stale: every ELF file
# under $AG_BUILD/bin and $AG_BUILD/tests (the programs, the test tools,
# the unit tests).  It must hold the programs named below, aiguardd (the
# network-facing daemon) first, and a unit test binary for each
# tests/unit/test_*.c, so that a build that lost one fails here too.
#
# Not checked: CET (IBT, SHSTK).  The objects carry the property note
# (-fcf-protection), but the linker keeps it only when every input has it,
# and Debian 12's start files (crt1.o, crti.o) do not: no binary linked
# there can have it.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}"
command -v readelf >/dev/null || { echo "readelf missing (binutils)"; exit 99; }
. "$AG_TOP/tests/lib.sh"
plan 33

bins=()
for b in "$AG_BUILD"/bin/* "$AG_BUILD"/tests/*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	[ "$(head -c 4 "$b" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	bins+=("$b")
done
want=(bin/aiguardd bin/aiguard bin/gen-weights tests/engine-run
    tests/image-dump)
for t in "$AG_TOP"/tests/unit/test_*.c; do
	t=${t##*/}
	[ "$t" = test_helper.c ] || want+=("tests/${t%.c}")
done
for w in "${want[@]}"; do
	case " ${bins[*]} " in
	*" $AG_BUILD/$w "*) ;;
	*) fail "$AG_BUILD/$w: not built" ;;
	esac
done
echo "${#bins[@]} programs under $AG_BUILD/bin and $AG_BUILD/tests"

for b in "${bins[@]}"; do
	name=${b#"$AG_BUILD"/}
	n=$nfail
	h=$(readelf -hW "$b") ph=$(readelf -lW "$b") dyn=$(readelf -dW "$b")
	syms=$(readelf -sW --dyn-syms "$b")
	grep -q 'Type:.*DYN' <<<"$h" || fail "$name: not PIE"
	grep -q 'PIE' <<<"$(grep FLAGS_1 <<<"$dyn")" ||
		fail "$name: no DF_1_PIE flag"
	grep -q 'GNU_RELRO' <<<"$ph" || fail "$name: no RELRO segment"
	grep -Eq 'BIND_NOW|FLAGS.*NOW' <<<"$dyn" ||
		fail "$name: no BIND_NOW (partial RELRO)"
	stack=$(grep GNU_STACK <<<"$ph")
	[ -n "$stack" ] || fail "$name: no GNU_STACK header (executable stack)"
	grep -q 'E' <<<"$(awk '{ print $(NF - 1) }' <<<"$stack")" &&
		fail "$name: executable stack"
	awk '$1 == "LOAD" && $(NF - 1) ~ /W/ && $(NF - 1) ~ /E/' <<<"$ph" |
	    grep -q . && fail "$name: a LOAD segment writable and executable"
	grep -Eq 'TEXTREL' <<<"$dyn" && fail "$name: text relocations"
	grep -Eq '\((RPATH|RUNPATH)\)' <<<"$dyn" && fail "$name: $(grep -Eo \
	    'Library r[a-z]*path: .*' <<<"$dyn" | head -n 1)"
	grep -q '__stack_chk_fail' <<<"$syms" || fail "$name: no stack protector"
	case "$AG_BUILD" in
	*/asan) ;;
	*) grep -q '_chk@' <<<"$syms" || fail "$name: no _FORTIFY_SOURCE checks" ;;
	esac
	[ $nfail -eq $n ] && pass "$name"
done
finish
