#!/bin/bash
# SPDX-License-Identifier: ISC
# Engine vs PyTorch (torchvision) on the same safetensors weights:
# ResNet-18 (default model) at batch 1 and 4, 224x224 and non-224 sizes;
# ResNet-34 and ResNet-50 (same code, other tables) on smaller inputs;
# and the BLAS fallback path.  Each run below is one case; the lines of
# engine_vs_torch.py say which image failed.  The reference stack is
# installed by scripts/install-deps: a broken import fails, never skips.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${PYTHON:=/usr/bin/python3}"
. "$AG_TOP/tests/lib.sh"
plan 6
if "$PYTHON" -c 'import torch, torchvision, numpy'; then
	pass "$PYTHON imports torch, torchvision and numpy"
else
	fail "$PYTHON cannot import torch, torchvision or numpy" \
	    "(scripts/install-deps installs them)"
fi
run() { "$PYTHON" "$AG_TOP/tests/reference/engine_vs_torch.py" \
	"$AG_BUILD/tests/engine-run" "$@"; }
cd "$AG_TOP/tests/reference" || exit 99
# check TEXT CMD...: one case, passed when CMD succeeds.
check() {
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
check "resnet18 against torchvision" run "$AG_MODEL" resnet18 "$work" \
    "1x224x224*8,4x224x224*2,2x160x200,1x33x47,1x320x256"
# The fallback for CPUs without AVX-512: im2col + OpenBLAS, no Winograd.
check "resnet18, BLAS path, against torchvision" env AG_ENGINE_KERNEL=blas \
    "$PYTHON" "$AG_TOP/tests/reference/engine_vs_torch.py" \
    "$AG_BUILD/tests/engine-run" "$AG_MODEL" resnet18 "$work" \
    "1x224x224*2,3x96x128"
for a in resnet34 resnet50; do
	"$AG_BUILD/bin/gen-weights" --arch $a --seed 7 --classes 100 \
	    --out "$work/$a" 2>/dev/null || { echo "gen-weights $a failed"; exit 99; }
	check "$a against torchvision" run "$work/$a" $a "$work" \
	    "2x64x64,1x96x80"
done
finish
