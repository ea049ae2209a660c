#!/bin/bash
# SPDX-License-Identifier: ISC
#
# preprocess-vs-pillow.sh: checks that decoding + Resize(256) +
# CenterCrop(224) in src/image gives what the reference gives:
# PIL.Image.open(f).convert("RGB") and torchvision.transforms on the PIL
# image.  The images are generated with Pillow into a temporary directory;
# the work is done by preprocess_vs_pillow.py next to this script.
#
# Environment: AG_BUILD (build directory holding tests/image-dump), AG_TOP
# (repository root), PYTHON (the interpreter with PIL, numpy, torchvision).
# Exit codes: 0 pass, 1 fail, 99 hard error.  The reference stack is
# installed by scripts/install-deps: a broken import fails, never skips.
set -u

top=${AG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
AG_TOP=$top
. "$top/tests/lib.sh"
plan 4
build=${AG_BUILD:-$top/build}
python=${PYTHON:-/usr/bin/python3}
dump=$build/tests/image-dump

if [ ! -x "$dump" ]; then
	echo "preprocess-vs-pillow: $dump not built" >&2
	exit 99
fi
if "$python" -c 'import numpy, PIL, torch, torchvision'; then
	pass "$python imports numpy, PIL, torch and torchvision"
else
	fail "$python cannot import numpy, PIL, torch or torchvision" \
	    "(scripts/install-deps installs them)"
fi

# Twice: with the code the CPU selects (SSE4.1 and AVX2 where it has
# them), and with the baseline code (AG_IMAGE_SIMD=0).
for simd in "" 0; do
	echo "== AG_IMAGE_SIMD=${simd:-unset}"
	AG_IMAGE_SIMD=$simd "$python" \
	    "$top/tests/reference/preprocess_vs_pillow.py" "$dump" "$work"
	rc=$?
	case $rc in
	0) pass "AG_IMAGE_SIMD=${simd:-unset}: decoding and preprocessing" \
	    "agree with Pillow and torchvision" ;;
	*) fail "AG_IMAGE_SIMD=${simd:-unset}: helper exited $rc" \
	    "(the lines above)" ;;
	esac
done
finish
