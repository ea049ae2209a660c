#!/bin/bash
# SPDX-License-Identifier: ISC
#
# arch.sh: the engine without its x86 code.
#
# The ISA code (src/engine/arch/x86/, behind src/engine/kernel.h) is one
# choice, not a requirement:
#   - at run time: with AG_ENGINE_KERNEL=blas the engine takes its portable
#     path (im2col + BLAS, scalar loops) on this CPU too; unit/test_engine
#     then passes its whole plan, and the engine's logits for a fixed input
#     are those of the ISA kernels (to float rounding), under another
#     backend name;
#   - at build time: `make check-arch` compiles every engine file for
#     aarch64 (the cross compiler of scripts/install-deps, the reference
#     GEMM, -Werror) and links the engine's unit tests static; the x86
#     files compile to nothing there, arch/portable.c stands in.  Compiled
#     and linked, not run: under qemu-aarch64, test_engine alone took 50 s
#     of CPU (docs/testing.md).
# A missing cross compiler fails: install-deps installs it.
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
TE=$AG_BUILD/tests/test_engine ER=$AG_BUILD/tests/engine-run
[ -x "$TE" ] && [ -x "$ER" ] || { echo "missing $TE or $ER"; exit 99; }
. "$AG_TOP/tests/lib.sh"
# 7 cases below, and lib.sh's check for sanitizer reports.
plan 8
ARCH_B=$AG_TOP/build/arch-aarch64
XCC=aarch64-linux-gnu-gcc

# ---- the portable path at run time ---------------------------------------

# The summary line must be "N of N planned cases ran, 0 skipped, 0 failed".
AG_ENGINE_KERNEL=blas "$TE" >"$work/te" 2>&1
rc=$?
sum=$(tail -n 1 "$work/te")
re='^([0-9]+) of ([0-9]+) planned cases ran, 0 skipped, 0 failed$'
if [ "$rc" -eq 0 ] && [[ $sum =~ $re ]] &&
    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]; then
	pass "unit/test_engine with AG_ENGINE_KERNEL=blas: $sum"
else
	fail "unit/test_engine with AG_ENGINE_KERNEL=blas: exit $rc, '$sum'"
	grep '^FAIL' "$work/te" | head -n 5 | sed 's/^/    | /'
fi

# The same seeded input through the whole network, both ways.
# (--repeat: engine-run prints its backend then.)
"$ER" --model "$AG_MODEL" --threads 2 --batch 2 --repeat 1 --warmup 0 \
    --output "$work/isa.f32" >"$work/isa.out" 2>&1
r1=$?
AG_ENGINE_KERNEL=blas "$ER" --model "$AG_MODEL" --threads 2 --batch 2 \
    --repeat 1 --warmup 0 --output "$work/port.f32" >"$work/port.out" 2>&1
r2=$?
b1=$(sed -n 's/^backend=\(.*\) threads=.*/\1/p' "$work/isa.out")
b2=$(sed -n 's/^backend=\(.*\) threads=.*/\1/p' "$work/port.out")
if [ "$r2" -eq 0 ] && [ -n "$b2" ] && [[ $b2 != *AVX-512* ]]; then
	pass "AG_ENGINE_KERNEL=blas: the portable backend ($b2)"
else
	fail "AG_ENGINE_KERNEL=blas: exit $r2, backend '$b2'"
fi
if [ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] &&
    "$PYTHON" - "$work/isa.f32" "$work/port.f32" <<'EOF'
import sys
import numpy as np
a = np.fromfile(sys.argv[1], dtype=np.float32)
b = np.fromfile(sys.argv[2], dtype=np.float32)
ok = a.size > 0 and a.size == b.size and np.all(np.isfinite(a)) and \
    float(np.max(np.abs(a - b))) <= 1e-3 * max(1.0, float(np.max(np.abs(b))))
print("    | %d logits, largest difference %.3g" % (a.size,
    float(np.max(np.abs(a - b))) if ok else float("nan")))
sys.exit(0 if ok else 1)
EOF
then
	pass "the logits of '$b1' and '$b2' agree"
else
	fail "the logits of '$b1' (exit $r1) and '$b2' (exit $r2) differ"
fi

# ---- another target at build time ----------------------------------------

if command -v "$XCC" >/dev/null 2>&1; then
	pass "$XCC is installed"
else
	fail "$XCC is missing (scripts/install-deps installs it)"
fi

# A make of its own: not the jobserver of a make check around this test.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$AG_TOP" --no-print-directory \
    check-arch >"$work/make" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "make check-arch: the engine and its unit tests for aarch64"
else
	fail "make check-arch: exit $rc"
	tail -n 15 "$work/make" | sed 's/^/    | /'
fi

n=0
for t in test_engine test_kernels; do
	f=$ARCH_B/tests/$t
	[ -f "$f" ] || continue
	LC_ALL=C readelf -h "$f" 2>/dev/null >"$work/elf"
	grep -q 'Machine:.*AArch64' "$work/elf" &&
	    grep -q 'Type:.*EXEC' "$work/elf" && n=$((n + 1))
done
if [ "$n" -eq 2 ]; then
	pass "test_engine and test_kernels are static AArch64 executables"
else
	fail "$n of test_engine, test_kernels are static AArch64 executables"
fi

# The x86 files define nothing there; portable.c the whole interface.
x86=$(aarch64-linux-gnu-nm --defined-only \
    "$ARCH_B"/obj/src/engine/arch/x86/*.o 2>/dev/null | grep -c ' [TtDdBbRr] ')
want="kern_available kern_maxpool_row16 kern_nhwc_rows3 kern_tile"
want="$want kern_wino_fly_input kern_wino_fly_panel kern_wino_task"
have=$(aarch64-linux-gnu-nm --defined-only \
    "$ARCH_B/obj/src/engine/arch/portable.o" 2>/dev/null |
    awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
if [ -f "$ARCH_B/obj/src/engine/arch/portable.o" ] && [ "$x86" -eq 0 ] &&
    [ "${have% }" = "$want" ]; then
	pass "aarch64: the arch/x86 objects are empty, portable.o has: $want"
else
	fail "aarch64: $x86 symbols in the arch/x86 objects;" \
	    "portable.o has '$have'"
fi

finish
