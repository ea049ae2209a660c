#!/bin/bash
# SPDX-License-Identifier: ISC
#
# convert-torchvision.sh: tests tools/convert-torchvision against PyTorch.
#
# Builds seeded torchvision checkpoints, converts them, and checks with
# Python that every tensor in model.safetensors equals the checkpoint's
# bit for bit, under the same name and in state_dict order (minus the
# num_batches_tracked counters), and that config.json and labels.txt are
# what the C loader expects.  Also: a wrapped DataParallel checkpoint, a
# malicious pickle that must be refused without running, checkpoints with
# a missing, extra or misshapen tensor, resnet34, 10 classes, OUT_DIR
# handling, and "aiguard classify" on the result.
#
# Environment: AG_BUILD (build dir), AG_TOP (repository root), PYTHON.
# Exit: 0 pass, 1 fail, 99 hard error.  torch is installed by
# scripts/install-deps: a broken import fails, it never skips.

set -u
AG_TOP=${AG_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
AG_BUILD=${AG_BUILD:-$AG_TOP/build}
PYTHON=${PYTHON:-/usr/bin/python3}
CONV=$AG_TOP/tools/convert-torchvision

. "$AG_TOP/tests/lib.sh"
plan 17
if ! "$PYTHON" -c 'import torch, torchvision, numpy'; then
	fail "$PYTHON cannot import torch, torchvision and numpy" \
	    "(scripts/install-deps installs them)"
	finish
	exit 1
fi
[ -f "$CONV" ] || { echo "hard error: $CONV missing"; exit 99; }
cd "$work" || exit 99

ok() { pass "$@"; }
conv() { "$PYTHON" "$CONV" "$@"; }

# ---- Python helpers ---------------------------------------------------------
cat >helper.py <<'EOF'
import json
import os
import struct
import sys

import numpy
import torch
import torchvision


def make_sd(arch, seed, num_classes=1000):
    """A seeded state_dict with every float tensor filled with random
    values (running_var kept positive), plus a signed zero and a
    subnormal, so that bit-exactness means something."""
    torch.manual_seed(seed)
    sd = getattr(torchvision.models, arch)(
        weights=None, num_classes=num_classes).state_dict()
    g = torch.Generator().manual_seed(seed)
    for k, v in sd.items():
        if not v.is_floating_point():
            continue
        r = torch.randn(v.shape, generator=g)
        if k.endswith("running_var"):
            r = r.abs() + 0.5
        v.copy_(r)
    w = sd["conv1.weight"].view(-1)
    w[0] = -0.0
    w[1] = 1e-40
    return sd


def save(args):
    """save ARCH SEED PATH [plain|state_dict|model] [module] [classes]"""
    arch, seed, path = args[0], int(args[1]), args[2]
    wrap = args[3] if len(args) > 3 else "plain"
    prefix = "module." if len(args) > 4 and args[4] == "module" else ""
    classes = int(args[5]) if len(args) > 5 else 1000
    sd = make_sd(arch, seed, classes)
    sd = {prefix + k: v for k, v in sd.items()}
    if wrap != "plain":
        sd = {wrap: sd, "epoch": 90, "arch": arch}
    torch.save(sd, path)


def mangle(args):
    """mangle ARCH SEED PATH drop|extra|shape NAME"""
    arch, seed, path, how, name = args[0], int(args[1]), args[2], \
        args[3], args[4]
    sd = make_sd(arch, seed)
    if how == "drop":
        del sd[name]
    elif how == "extra":
        sd[name] = torch.zeros(3)
    elif how == "shape":
        shape = list(sd[name].shape)
        shape[-1] += 1
        sd[name] = torch.zeros(shape)
    torch.save(sd, path)


class Evil:
    """Unpickling this runs a shell command."""

    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def evil(args):
    """evil PATH MARKER [wrapped]: a checkpoint whose unpickling would
    create MARKER."""
    path, marker = args[0], args[1]
    payload = Evil("touch " + marker)
    if len(args) > 2:
        payload = {"state_dict": make_sd("resnet18", 1), "x": payload}
    torch.save(payload, path)


def unsafe_load(args):
    """unsafe-load PATH: a plain torch.load, to prove the payload is live."""
    torch.load(args[0], map_location="cpu", weights_only=False)


def read_safetensors(path):
    with open(path, "rb") as fp:
        buf = fp.read()
    (hlen,) = struct.unpack("<Q", buf[:8])
    raw = buf[8:8 + hlen]
    assert hlen % 8 == 0, f"header length {hlen} not a multiple of 8"
    body = raw.rstrip(b" ")
    assert body.endswith(b"}") and len(raw) - len(body) < 8, \
        "header is not padded with fewer than 8 spaces"
    hdr = json.loads(raw)
    data = buf[8 + hlen:]
    return hdr, data


def verify(args):
    """verify ARCH SEED OUT_DIR NAME CKPT_BASENAME [classes]"""
    arch, seed, out, name, base = args[0], int(args[1]), args[2], \
        args[3], args[4]
    classes = int(args[5]) if len(args) > 5 else 1000
    sd = make_sd(arch, seed, classes)
    hdr, data = read_safetensors(os.path.join(out, "model.safetensors"))

    meta = hdr.pop("__metadata__")
    assert meta == {"format": "pt",
                    "source": f"torchvision checkpoint {base}",
                    "converted_by": "aiguard convert-torchvision"}, meta
    want = [k for k in sd if not k.endswith(".num_batches_tracked")]
    assert list(hdr) == want, "names or order differ from the state_dict"
    off = 0
    for k in want:
        e = hdr[k]
        assert sorted(e) == ["data_offsets", "dtype", "shape"], k
        assert e["dtype"] == "F32", k
        assert e["shape"] == list(sd[k].shape), k
        b, end = e["data_offsets"]
        assert b == off and end - b == 4 * sd[k].numel(), k
        got = numpy.frombuffer(data[b:end], dtype="<u4")
        ref = sd[k].contiguous().numpy().view(numpy.uint32).reshape(-1)
        assert numpy.array_equal(got, ref), f"{k}: values differ"
        off = end
    assert off == len(data), "data section has unused bytes"

    with open(os.path.join(out, "config.json"), encoding="utf-8") as fp:
        cfg = json.load(fp)
    assert cfg == {
        "format": "aiguard-model-v1", "name": name, "architecture": arch,
        "num_classes": classes,
        "input": {"height": 224, "width": 224, "resize": 256,
                  "mean": [0.485, 0.456, 0.406],
                  "std": [0.229, 0.224, 0.225]},
        "synthetic": False,
        "source": f"converted from torchvision checkpoint {base}"}, cfg
    assert list(cfg) == ["format", "name", "architecture", "num_classes",
                         "input", "synthetic", "source"]

    with open(os.path.join(out, "labels.txt"), "rb") as fp:
        raw = fp.read()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == classes, len(lines)
    assert all(x and len(x.encode()) <= 200 for x in lines)
    if classes == 1000:
        assert lines[0] == "tench" and lines[999] == "toilet tissue", lines
    else:
        assert lines == [f"class_{i}" for i in range(classes)]
    print(f"verified {out}: {len(want)} tensors bit-exact")


cmds = {"save": save, "mangle": mangle, "evil": evil,
        "unsafe-load": unsafe_load, "verify": verify}
cmds[sys.argv[1]](sys.argv[2:])
EOF
py() { "$PYTHON" helper.py "$@"; }

# ---- (a) a plain resnet18 state_dict ---------------------------------------
py save resnet18 1 r18.pth || exit 99
if conv r18.pth m18 && py verify resnet18 1 m18 m18 r18.pth; then
	ok "resnet18 state_dict converts bit-exactly"
else
	fail "resnet18 state_dict"
fi

# ---- (b) wrapped, with DataParallel's "module." prefixes --------------------
py save resnet18 2 wrapped.pt state_dict module || exit 99
py save resnet18 3 model.pt model || exit 99
if conv --name wrapped-model wrapped.pt mw &&
    py verify resnet18 2 mw wrapped-model wrapped.pt &&
    conv model.pt mm && py verify resnet18 3 mm mm model.pt; then
	ok "{state_dict: ...} with module. prefixes, and {model: ...}"
else
	fail "wrapped checkpoints"
fi

# ---- (c) a malicious pickle -------------------------------------------------
for variant in bare wrapped; do
	marker=$work/MARKER-$variant
	if [ $variant = bare ]; then
		py evil evil-$variant.pth "$marker" || exit 99
	else
		py evil evil-$variant.pth "$marker" wrapped || exit 99
	fi
	# Positive control: plain unpickling really does run the payload.
	py unsafe-load evil-$variant.pth >/dev/null 2>&1
	if [ ! -e "$marker" ]; then
		echo "hard error: the $variant payload does not work"
		exit 99
	fi
	rm -f "$marker"
	conv evil-$variant.pth mevil 2>err.txt
	rc=$?
	if [ $rc -eq 1 ] && [ ! -e "$marker" ] && [ ! -e mevil ] &&
	    grep -q "evil-$variant.pth: refused" err.txt; then
		ok "malicious pickle ($variant) refused, payload not run"
	else
		fail "malicious pickle ($variant): rc=$rc, marker" \
		    "$([ -e "$marker" ] && echo created || echo absent)"
		cat err.txt
	fi
done

# ---- (d) missing, extra or misshapen tensors --------------------------------
check_refused() {	# what checkpoint tensor-name
	local rc
	conv "$2" mbad 2>err.txt
	rc=$?
	if [ $rc -eq 1 ] && grep -qF "$3" err.txt && [ ! -e mbad ]; then
		ok "$1 refused, naming $3"
	else
		fail "$1: rc=$rc"
		cat err.txt
	fi
}
py mangle resnet18 4 drop.pth drop layer2.0.bn1.running_var || exit 99
check_refused "missing tensor" drop.pth layer2.0.bn1.running_var
py mangle resnet18 4 shape.pth shape layer3.1.conv2.weight || exit 99
check_refused "wrong shape" shape.pth layer3.1.conv2.weight
py mangle resnet18 4 extra.pth extra layer5.0.conv1.weight || exit 99
check_refused "unexpected tensor" extra.pth layer5.0.conv1.weight
left=$(shopt -s nullglob; echo .[!.]* ..?*)
if [ -n "$left" ]; then
	fail "a temporary directory was left behind: $left"
else
	ok "no temporary directory left behind"
fi

# ---- (e) resnet34, and 10 classes -------------------------------------------
py save resnet34 5 r34.pth || exit 99
if conv --arch resnet34 r34.pth m34 && py verify resnet34 5 m34 m34 r34.pth
then
	ok "resnet34 with --arch resnet34"
else
	fail "resnet34"
fi
check_refused "resnet34 checkpoint as resnet18" r34.pth layer1.2
py save resnet18 6 r18c10.pth plain no 10 || exit 99
if conv r18c10.pth m10 && py verify resnet18 6 m10 m10 r18c10.pth 10; then
	ok "10 classes: class_N labels"
else
	fail "10 classes"
fi

# ---- OUT_DIR handling and usage ---------------------------------------------
mkdir mforce && echo keep >mforce/keep.txt
conv r18.pth mforce 2>err.txt
rc=$?
if [ $rc -eq 1 ] && [ -f mforce/keep.txt ] && grep -q "not empty" err.txt
then
	ok "non-empty OUT_DIR refused without --force"
else
	fail "non-empty OUT_DIR: rc=$rc"
fi
if conv --force r18.pth mforce && [ ! -e mforce/keep.txt ] &&
    py verify resnet18 1 mforce mforce r18.pth; then
	ok "--force replaces OUT_DIR"
else
	fail "--force"
fi
mkdir mempty
if conv r18.pth mempty && py verify resnet18 1 mempty mempty r18.pth; then
	ok "empty OUT_DIR is filled"
else
	fail "empty OUT_DIR"
fi
conv r18.pth >/dev/null 2>&1
rc1=$?
conv --arch vgg16 r18.pth mx >/dev/null 2>&1
rc2=$?
if [ $rc1 -eq 2 ] && [ $rc2 -eq 2 ]; then
	ok "usage errors exit 2"
else
	fail "usage errors: rc=$rc1, $rc2"
fi

# ---- aiguard classify on the converted model --------------------------------
# The CLI is built with the project: no classify is a failure, not a skip.
aiguard=$AG_BUILD/bin/aiguard
shopt -s nullglob
samples=("$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png)
[ ${#samples[@]} -gt 0 ] || { echo "no images in $AG_TOP/samples"; exit 99; }
# classify checks signatures as aiguardd does: sign the converted model
# with a key made here, the way an operator would, and trust that key.
"$aiguard" keygen --out convert-test >/dev/null 2>&1 &&
    "$aiguard" sign --key convert-test.key m18 >/dev/null 2>&1 ||
    { echo "could not sign the converted model"; exit 99; }
if "$aiguard" classify --verify-key convert-test.pub --model m18 --json \
    "${samples[@]}" \
    >classify.json 2>err.txt; then
	ok "aiguard classify runs on the converted model"
else
	fail "aiguard classify on the converted model"
	tail -n 20 err.txt
fi

finish
