#!/bin/bash
# SPDX-License-Identifier: ISC
#
# classify-vs-torchvision.sh: aiguard classify against PIL + torchvision
# with the same weights, on the bundled samples and generated images
# (JPEG and PNG; gray, RGBA, palette; portrait, landscape, tiny, odd
# sizes).  Identical top-5 classes, probabilities within 1e-3.  See
# classify_vs_torchvision.py.  The reference stack is installed by
# scripts/install-deps: a broken import fails, it never skips.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
. "$AG_TOP/tests/lib.sh"
plan 3
if "$PYTHON" -c 'import torch, torchvision, numpy, PIL'; then
	pass "$PYTHON imports torch, torchvision, numpy and PIL"
else
	fail "$PYTHON cannot import torch, torchvision, numpy or PIL" \
	    "(scripts/install-deps installs them)"
fi
[ -x "$AG_BUILD/bin/aiguard" ] || { echo "missing aiguard"; exit 99; }
[ -f "$AG_MODEL/config.json" ] || { echo "missing model $AG_MODEL"; exit 99; }
samples=()
for f in "$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png; do
	[ -f "$f" ] && samples+=("$f")
done
cd "$AG_TOP/tests/reference" || exit 99
[ ${#samples[@]} -gt 0 ] || { echo "no images in $AG_TOP/samples"; exit 99; }
if "$PYTHON" classify_vs_torchvision.py "$AG_BUILD/bin/aiguard" \
    "$AG_MODEL" "$work" "${samples[@]}"; then
	pass "aiguard classify agrees with torchvision on every image"
else
	fail "aiguard classify against torchvision (the lines above)"
fi
finish
