#!/bin/bash
# SPDX-License-Identifier: ISC
# The binaries carry the hardening the Makefile asks for: PIE, full RELRO
# (BIND_NOW), a non-executable stack, stack protector and (outside the
# sanitizer build) _FORTIFY_SOURCE, and no writable+executable segment.
set -u
: "${AG_BUILD:?}"
command -v readelf >/dev/null || { echo "SKIP: no readelf"; exit 77; }
rc=0
fail() { echo "FAIL: $*"; rc=1; }
for b in "$AG_BUILD/bin/aiguard" "$AG_BUILD/bin/gen-weights" "$AG_BUILD/tests/engine-run"; do
	[ -x "$b" ] || { fail "$b missing"; continue; }
	h=$(readelf -hW "$b") ph=$(readelf -lW "$b") dyn=$(readelf -dW "$b")
	grep -q 'Type:.*DYN' <<<"$h" || fail "$b: not PIE"
	grep -q 'GNU_RELRO' <<<"$ph" || fail "$b: no RELRO segment"
	grep -Eq 'BIND_NOW|FLAGS.*NOW' <<<"$dyn" || fail "$b: no BIND_NOW (partial RELRO)"
	stack=$(grep GNU_STACK <<<"$ph")
	[ -n "$stack" ] || fail "$b: no GNU_STACK header"
	grep -q 'RWE' <<<"$stack" && fail "$b: executable stack"
	grep -E 'LOAD' <<<"$ph" | grep -q 'RWE' && fail "$b: W+X LOAD segment"
	syms=$(readelf -sW --dyn-syms "$b")
	grep -q '__stack_chk_fail' <<<"$syms" || fail "$b: no stack protector"
	case "$AG_BUILD" in
	*/asan) ;;
	*) grep -q '_chk@' <<<"$syms" || fail "$b: no _FORTIFY_SOURCE checks" ;;
	esac
	echo "checked $b"
done
exit $rc
