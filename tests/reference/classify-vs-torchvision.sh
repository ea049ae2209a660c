#!/bin/bash
# SPDX-License-Identifier: ISC
#
# classify-vs-torchvision.sh: aiguard classify against PIL + torchvision
# with the same weights, on the bundled samples and generated images
# (JPEG and PNG; gray, RGBA, palette; portrait, landscape, tiny, odd
# sizes).  Identical top-5 classes, probabilities within 1e-3.  See
# classify_vs_torchvision.py.  Skips (77) without torch.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
"$PYTHON" -c 'import torch, torchvision, numpy, PIL' 2>/dev/null ||
	{ echo "SKIP: python3 torch, torchvision, numpy or PIL missing"; exit 77; }
[ -x "$AG_BUILD/bin/aiguard" ] || { echo "missing aiguard"; exit 99; }
[ -f "$AG_MODEL/config.json" ] || { echo "missing model $AG_MODEL"; exit 99; }
work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT
samples=()
for f in "$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png; do
	[ -f "$f" ] && samples+=("$f")
done
cd "$AG_TOP/tests/reference" || exit 99
"$PYTHON" classify_vs_torchvision.py "$AG_BUILD/bin/aiguard" "$AG_MODEL" \
    "$work" "${samples[@]}"
