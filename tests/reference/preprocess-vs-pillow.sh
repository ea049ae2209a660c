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
# Exit codes: 0 pass, 1 fail, 77 skip, 99 hard error.
set -u

top=${AG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${AG_BUILD:-$top/build}
python=${PYTHON:-/usr/bin/python3}
dump=$build/tests/image-dump

if [ ! -x "$dump" ]; then
	echo "preprocess-vs-pillow: $dump not built" >&2
	exit 99
fi
if ! "$python" -c 'import numpy, PIL, torch, torchvision' 2>/dev/null; then
	echo "SKIP: $python lacks numpy, PIL, torch or torchvision"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ag-pillow.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT

# Twice: with the code the CPU selects (SSE4.1 and AVX2 where it has
# them), and with the baseline code (AG_IMAGE_SIMD=0).
for simd in "" 0; do
	echo "== AG_IMAGE_SIMD=${simd:-unset}"
	AG_IMAGE_SIMD=$simd "$python" \
	    "$top/tests/reference/preprocess_vs_pillow.py" "$dump" "$work"
	rc=$?
	case $rc in
	0) ;;
	1|77|99) exit $rc ;;
	*) echo "preprocess-vs-pillow: helper exited $rc" >&2; exit 99 ;;
	esac
done
exit 0
