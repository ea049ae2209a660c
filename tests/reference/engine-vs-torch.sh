#!/bin/bash
# SPDX-License-Identifier: ISC
# Engine vs PyTorch (torchvision) on the same safetensors weights:
# ResNet-18 (default model) at batch 1 and 4, 224x224 and non-224 sizes;
# ResNet-34 and ResNet-50 (same code, other tables) on smaller inputs;
# and the BLAS fallback path.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${PYTHON:=/usr/bin/python3}"
"$PYTHON" -c 'import torch, torchvision, numpy' 2>/dev/null ||
	{ echo "SKIP: python3-torch not installed"; exit 77; }
work=$(mktemp -d) || exit 99
trap 'rm -rf "$work"' EXIT
run() { "$PYTHON" "$AG_TOP/tests/reference/engine_vs_torch.py" \
	"$AG_BUILD/tests/engine-run" "$@"; }
cd "$AG_TOP/tests/reference" || exit 99
rc=0
run "$AG_MODEL" resnet18 "$work" "1x224x224*8,4x224x224*2,2x160x200,1x33x47,1x320x256" || rc=1
# The fallback for CPUs without AVX-512: im2col + OpenBLAS, no Winograd.
AG_ENGINE_KERNEL=blas run "$AG_MODEL" resnet18 "$work" "1x224x224*2,3x96x128" || rc=1
for a in resnet34 resnet50; do
	"$AG_BUILD/bin/gen-weights" --arch $a --seed 7 --classes 100 \
	    --out "$work/$a" 2>/dev/null || { echo "gen-weights $a failed"; exit 1; }
	run "$work/$a" $a "$work" "2x64x64,1x96x80" || rc=1
done
exit $rc
