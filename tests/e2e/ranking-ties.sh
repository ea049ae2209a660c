#!/bin/bash
# SPDX-License-Identifier: ISC
#
# ranking-ties.sh: every place that ranks classes puts equal scores in
# ascending class index, the order of topk_select() (src/common/topk.h).
#
# A 10-class model is generated and its final layer rewritten: fc.weight
# all zeros, so that the logits are exactly fc.bias, whatever the image:
#   class   0  1  2  3  4  5  6  7  8  9
#   logit   1  3  2  3  0  3  2 -1  3  2
# (four classes tie for the best, three for the next).  Signed with the
# build key, it is ranked by aiguard classify --json, by aiguardd's
# classify endpoint (?top=K) and by infer's classification parameter,
# with K 3 (inside the best tie), 5 (a tie cut by the K-th place) and 10
# (all).  Every answer must list the classes as below, and the tied
# classes' scores must be equal (else the model does not tie and the
# test proves nothing).
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${PYTHON:=/usr/bin/python3}"
AG=$AG_BUILD/bin/aiguard
GEN=$AG_TOP/build/bin/gen-weights
KEY=$AG_TOP/build/keys/aiguard-build
for f in "$AG_BUILD/bin/aiguardd" "$AG" "$GEN" "$KEY.key" "$KEY.pub"; do
	[ -e "$f" ] || { echo "missing $f"; exit 99; }
done
command -v curl >/dev/null || { echo "missing curl"; exit 99; }
. "$AG_TOP/tests/lib.sh"
. "$AG_TOP/tests/server-lib.sh"
plan 12

BIAS="1 3 2 3 0 3 2 -1 3 2"
# want K: the expected classes of a top-K, space-separated.
want() {
	local all="1 3 5 8 2 6 9 0 4 7"
	echo "$all" | cut -d' ' -f1-"$1"
}

img=$(ls "$AG_TOP"/samples/*.jpg 2>/dev/null | head -n 1)
[ -n "$img" ] || { echo "missing samples/*.jpg"; exit 99; }

# ---- the model -----------------------------------------------------------

m=$work/tie
"$GEN" --arch resnet18 --seed 3 --classes 10 --out "$m" >/dev/null 2>&1 ||
    exit 99
"$PYTHON" - "$m/model.safetensors" $BIAS <<'EOF' || exit 99
import json, struct, sys
path, bias = sys.argv[1], [float(x) for x in sys.argv[2:]]
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    h = json.loads(f.read(n))
    w, b = h["fc.weight"], h["fc.bias"]
    assert w["dtype"] == b["dtype"] == "F32" and b["shape"] == [len(bias)]
    lo, hi = w["data_offsets"]
    f.seek(8 + n + lo)
    f.write(bytes(hi - lo))
    lo, hi = b["data_offsets"]
    assert hi - lo == 4 * len(bias)
    f.seek(8 + n + lo)
    f.write(struct.pack("<%df" % len(bias), *bias))
EOF
"$AG" sign --key "$KEY.key" "$m" >/dev/null || exit 99

# check WHAT FILE K KIND: the answer in FILE (KIND: cli, classify or
# infer) ranks as want K, with equal scores for equal logits.
check() {
	local what=$1 file=$2 k=$3 kind=$4 got
	got=$("$PYTHON" - "$file" "$kind" $BIAS <<'EOF'
import json, sys
path, kind, bias = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3:]]
d = json.load(open(path))
if kind == "cli":
    rows = [(p["index"], p["prob"]) for p in d[0]["top"]]
elif kind == "classify":
    rows = [(p["index"], p["logit"]) for p in d["predictions"]]
else:
    rows = []
    for s in d["outputs"][0]["data"]:
        v, i = s.split(":")[:2]
        rows.append((int(i), float(v)))
# The scores must tie exactly where the logits do, and follow them.
for (i, s) in rows:
    for (j, t) in rows:
        if (bias[i] == bias[j]) != (s == t) or \
           (bias[i] > bias[j]) != (s > t):
            print("scores do not follow the logits: %r" % rows)
            sys.exit(0)
print(" ".join(str(i) for (i, s) in rows))
EOF
)
	if [ "$got" = "$(want "$k")" ]; then
		pass "$what: top-$k $got"
	else
		fail "$what: top-$k '$got', want '$(want "$k")'"
	fi
}

# ---- aiguard classify ----------------------------------------------------

for k in 3 5 10; do
	if "$AG" classify --json --top "$k" --model "$m" "$img" \
	    >"$work/cli.$k" 2>"$work/cli.err"; then
		check "aiguard classify --json" "$work/cli.$k" "$k" cli
	else
		fail "aiguard classify --top $k"
		sed 's/^/    | /' "$work/cli.err" | head -n 5
	fi
done

# ---- aiguardd: classify and infer ----------------------------------------

"$PYTHON" - "$work/infer" <<'EOF' || exit 99
import json, sys
zeros = "[" + ",".join(["0"] * (3 * 224 * 224)) + "]"
for k in (3, 5, 10):
    with open("%s.%d.json" % (sys.argv[1], k), "w") as f:
        f.write('{"inputs":[{"name":"input","shape":[1,3,224,224],'
                '"datatype":"FP32","data":%s}],"outputs":[{"name":'
                '"logits","parameters":{"classification":%d}}]}' %
                (zeros, k))
EOF
AG_MODEL=$m
server_start
for k in 3 5 10; do
	code=$(curl -s -o "$work/cls.$k" -w '%{http_code}' \
	    -H "Content-Type: image/jpeg" --data-binary @"$img" \
	    "$base/v2/models/resnet18/classify?top=$k")
	if [ "$code" = 200 ]; then
		check "POST classify?top=$k" "$work/cls.$k" "$k" classify
	else
		fail "POST classify?top=$k: status $code"
	fi
	code=$(curl -s -o "$work/inf.$k" -w '%{http_code}' \
	    -H "Content-Type: application/json" \
	    --data-binary @"$work/infer.$k.json" \
	    "$base/v2/models/resnet18/infer")
	if [ "$code" = 200 ]; then
		check "POST infer, classification $k" "$work/inf.$k" "$k" infer
	else
		fail "POST infer, classification $k: status $code"
	fi
done
server_stop && pass "aiguardd stopped cleanly" ||
    fail "aiguardd: exit status $? at stop"
finish
