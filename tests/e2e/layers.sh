#!/bin/bash
# SPDX-License-Identifier: ISC
#
# layers.sh: the dependency order of src/ and the never-rules
# (docs/architecture.md), checked by scripts/check-layers on the tree;
# then the checker itself, on a copy of src/ with one violation of each
# rule planted: it must name every one and fail.
#
# Environment (from tests/run-tests): AG_TOP.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_TOP:?}"
. "$AG_TOP/tests/lib.sh"
plan 10
chk=$AG_TOP/scripts/check-layers

# The tree: one "ok" per rule (6), exit 0.
"$chk" "$AG_TOP/src" >"$work/tree" 2>&1
rc=$?
tally <"$work/tree"
[ "$(grep -c '^ok ' "$work/tree")" -eq 6 ] && [ $rc -eq 0 ] &&
    pass "check-layers: 6 rules hold on src/ (exit 0)" ||
    fail "check-layers on src/: exit $rc, $(grep -c '^ok ' "$work/tree") of 6 rules"

# A copy with one planted violation per rule.
cp -r "$AG_TOP/src" "$work/src" || exit 99
printf '#include "daemon/daemon.h"\n' >>"$work/src/http/server.c"
printf '#include <sys/socket.h>\nstatic int f(void) { return open("x", 0); }\n' \
    >>"$work/src/engine/pool.c"
printf '#include "model/store.h"\n' >>"$work/src/http/tokens.c"
printf 'static void g(void) { (void)model_load("d", 0, 0, 0); }\n' \
    >>"$work/src/daemon/front.c"
printf 'static void h(void) { (void)connect(0, 0, 0); }\n' \
    >>"$work/src/daemon/worker.c"
printf '#include <immintrin.h>\nstatic void k(void) { _mm_pause(); }\n' \
    >>"$work/src/engine/ops.c"
# Not violations: a call in a comment or a string; x86 code in a guarded
# branch.
printf '#if defined(__x86_64__)\nstatic void p(void) { _mm_pause(); }\n#endif\n' \
    >>"$work/src/engine/conv.c"
printf '/* open(x) */ static const char *s = "fopen(";\n' \
    >>"$work/src/engine/conv.c"
"$chk" "$work/src" >"$work/planted" 2>&1
rc=$?
sed 's/^/  planted: /' "$work/planted"
want="server.c:.*daemon/daemon.h
pool.c:.*<sys/socket.h>
pool.c:.*calls open()
tokens.c:.*model/store.h
front.c:.*calls model_load()
worker.c:.*calls connect()
ops.c:.*<immintrin.h>
ops.c:.*uses _mm_pause"
miss=
while IFS= read -r w; do
	grep -q "^FAIL .*$w" "$work/planted" || miss="$miss [$w]"
done <<<"$want"
[ -z "$miss" ] && [ $rc -eq 1 ] &&
    pass "check-layers names each planted violation and exits 1" ||
    fail "check-layers on the planted copy: exit $rc, missed:$miss"
grep -q "conv.c" "$work/planted" &&
    fail "check-layers took a comment, a string or a guarded branch for code" ||
    pass "check-layers ignores comments, strings and x86-guarded branches"
finish
