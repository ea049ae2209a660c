#!/bin/bash
# SPDX-License-Identifier: ISC
#
# classify-cli.sh: the aiguard command line, end to end.
#
# Usage and exit codes of aiguard and aiguard classify; the text and JSON
# output on the bundled samples (ranked, probabilities in (0, 1], labels
# those of labels.txt, text and JSON agreeing); bad images (missing, empty,
# truncated, not an image, a PNG claiming 100000x100000 pixels) each
# reported on stderr by file name with exit 1 while the good images of the
# same call are still printed; bad options; an unsigned copy of the model
# refused, and signed but broken model directories; and the same input
# giving the same output twice.  (Tampered models: attack-tampered-model.sh.)
#
# Environment (from tests/run-tests): AG_BUILD, AG_TOP, AG_MODEL, PYTHON.
# Exit codes: 0 pass, 1 fail, 99 hard error.
set -u
: "${AG_BUILD:?}" "${AG_TOP:?}" "${AG_MODEL:?}" "${PYTHON:=/usr/bin/python3}"
AG=$AG_BUILD/bin/aiguard
[ -x "$AG" ] || { echo "missing $AG"; exit 99; }
[ -f "$AG_MODEL/config.json" ] || { echo "missing model $AG_MODEL"; exit 99; }
. "$AG_TOP/tests/lib.sh"
plan 33
# run CMD...: stdout in $work/out, stderr in $work/err, status in $rc.
run() { "$@" >"$work/out" 2>"$work/err"; rc=$?; }
show() { sed 's/^/    | /' "$work/err" | head -n 8; }

# ---- the images ----------------------------------------------------------

good=()
for f in "$AG_TOP"/samples/*.jpg "$AG_TOP"/samples/*.png; do
	[ -f "$f" ] && [ ${#good[@]} -lt 6 ] && good+=("$f")
done
if [ ${#good[@]} -lt 2 ]; then
	# PIL comes from scripts/install-deps: its absence fails.
	"$PYTHON" -c 'import PIL' ||
		{ echo "FAIL no samples and no PIL to make images"; exit 99; }
	mkdir -p "$work/gen" || exit 99
	"$PYTHON" - "$work/gen" <<'EOF' || exit 99
import sys
from PIL import Image
d = sys.argv[1]
im = Image.new("RGB", (320, 240))
im.putdata([(x % 256, y % 256, (x * y) % 256) for y in range(240)
            for x in range(320)])
im.save(d + "/gen-landscape.jpg", quality=90)
im.transpose(Image.Transpose.ROTATE_90).save(d + "/gen-portrait.png")
EOF
	good=("$work/gen/gen-landscape.jpg" "$work/gen/gen-portrait.png")
fi
jpg=
for f in "${good[@]}"; do
	case $f in *.jpg) jpg=$f; break ;; esac
done
echo "good images: ${good[*]}"

# The broken ones.
bad_missing=$work/does-not-exist.jpg
bad_empty=$work/empty.jpg
bad_trunc=$work/truncated.jpg
bad_text=$work/x.png
bad_huge=$work/huge.png
: >"$bad_empty"
if [ -n "$jpg" ]; then
	head -c "$(($(stat -c %s "$jpg") / 3))" "$jpg" >"$bad_trunc"
else
	# A JPEG start-of-image and a few header bytes, then nothing.
	printf '\377\330\377\340\000\020JFIF\000\001\001\000' >"$bad_trunc"
fi
echo "this is a text file, not a PNG" >"$bad_text"
"$PYTHON" - "$bad_huge" <<'EOF' || exit 99
# A valid PNG signature and IHDR claiming 100000 x 100000 RGB pixels.
import struct, sys, zlib
def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
EOF

# ---- output checkers -----------------------------------------------------

# check_text OUT K FILE...: blocks "FILE:" then K lines "  N. P  LABEL (I)",
# N = 1..K, 0 < P <= 1 and non-increasing, LABEL the line I of labels.txt.
check_text() {
	"$PYTHON" - "$AG_MODEL/labels.txt" "$@" <<'EOF'
import re, sys
labels = open(sys.argv[1]).read().splitlines()
out, k, files = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
lines = open(out).read().splitlines()
pat = re.compile(r"^ +(\d+)\. (\d\.\d+)  (.*) \((\d+)\)$")
want = len(files) * (k + 1)
if len(lines) != want:
    sys.exit("%d lines, want %d" % (len(lines), want))
for n, f in enumerate(files):
    block = lines[n * (k + 1):(n + 1) * (k + 1)]
    if block[0] != f + ":":
        sys.exit("header %r, want %r" % (block[0], f + ":"))
    last = 2.0
    for rank, line in enumerate(block[1:], 1):
        m = pat.match(line)
        if not m:
            sys.exit("bad line %r" % line)
        p, idx = float(m.group(2)), int(m.group(4))
        if int(m.group(1)) != rank:
            sys.exit("rank %s, want %d: %r" % (m.group(1), rank, line))
        if not (0.0 < p <= 1.0) or p > last:
            sys.exit("probability out of range or order: %r" % line)
        if not (0 <= idx < len(labels)) or m.group(3) != labels[idx]:
            sys.exit("label does not match labels.txt: %r" % line)
        last = p
EOF
}

# check_json OUT K FILE...: [{"file", "top": [{"index", "label", "prob"}]}],
# K entries each, same rules as check_text.
check_json() {
	"$PYTHON" - "$AG_MODEL/labels.txt" "$@" <<'EOF'
import json, sys
labels = open(sys.argv[1]).read().splitlines()
out, k, files = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
with open(out) as fp:
    doc = json.load(fp)
if not isinstance(doc, list) or len(doc) != len(files):
    sys.exit("not an array of %d entries" % len(files))
for ent, f in zip(doc, files):
    if not isinstance(ent, dict) or set(ent) != {"file", "top"}:
        sys.exit("bad entry %r" % (ent,))
    if ent["file"] != f:
        sys.exit("file %r, want %r" % (ent["file"], f))
    top = ent["top"]
    if not isinstance(top, list) or len(top) != k:
        sys.exit("%s: top is not a list of %d" % (f, k))
    last = 2.0
    for t in top:
        if not isinstance(t, dict) or set(t) != {"index", "label", "prob"}:
            sys.exit("bad top entry %r" % (t,))
        i, p = t["index"], t["prob"]
        if not isinstance(i, int) or not isinstance(p, float):
            sys.exit("bad types in %r" % (t,))
        if not (0.0 < p <= 1.0) or p > last:
            sys.exit("probability out of range or order: %r" % (t,))
        if not (0 <= i < len(labels)) or t["label"] != labels[i]:
            sys.exit("label does not match labels.txt: %r" % (t,))
        last = p
EOF
}

# same_result OUT REF: the same images, classes and order as REF (text or
# JSON, as REF is), probabilities within what rounding to 4 places and a
# different batch composition can explain.  Exact equality is checked
# separately, for the same call repeated.
same_result() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import json, re, sys
def parse(path):
    text = open(path).read()
    if text.lstrip().startswith("["):
        return [(e["file"], [(t["index"], t["prob"]) for t in e["top"]])
                for e in json.loads(text)]
    out = []
    for line in text.splitlines():
        m = re.match(r"^ +\d+\. (\S+)  .* \((\d+)\)$", line)
        if m:
            out[-1][1].append((int(m.group(2)), float(m.group(1))))
        else:
            out.append((line.rstrip(":"), []))
    return out
a, b = parse(sys.argv[1]), parse(sys.argv[2])
if [(f, [i for i, _ in t]) for f, t in a] != \
   [(f, [i for i, _ in t]) for f, t in b]:
    sys.exit("different files or classes:\n%s\n%s" % (a, b))
for (f, ta), (_, tb) in zip(a, b):
    for (_, pa), (_, pb) in zip(ta, tb):
        if abs(pa - pb) > 1.5e-4:
            sys.exit("%s: probability %g vs %g" % (f, pa, pb))
EOF
}

# ---- usage ---------------------------------------------------------------

run "$AG" --help
if [ $rc -eq 0 ] && grep -q '^ *classify ' "$work/out"; then
	pass "aiguard --help lists classify"
else
	fail "aiguard --help: rc=$rc"; show
fi
run "$AG"
if [ $rc -eq 2 ]; then
	pass "aiguard without a command exits 2"
else
	fail "aiguard without a command: rc=$rc"
fi
run "$AG" frobnicate
if [ $rc -eq 2 ] && grep -q frobnicate "$work/err"; then
	pass "unknown command exits 2 and names it"
else
	fail "unknown command: rc=$rc"; show
fi
run "$AG" classify --help
if [ $rc -eq 0 ] && grep -q -- --top "$work/out"; then
	pass "aiguard classify --help"
else
	fail "aiguard classify --help: rc=$rc"; show
fi
if grep -q -- --allow-unsigned "$work/out" &&
    grep -q -- --verify-key "$work/out"; then
	pass "classify --help: the signature options"
else
	fail "classify --help does not list the signature options"
fi
run "$AG" classify --model "$AG_MODEL"
if [ $rc -eq 2 ] && grep -q usage "$work/err"; then
	pass "classify without images exits 2 with usage"
else
	fail "classify without images: rc=$rc"; show
fi
run "$AG" classify --bogus "${good[0]}"
if [ $rc -eq 2 ]; then
	pass "classify with an unknown option exits 2"
else
	fail "classify --bogus: rc=$rc"
fi

# ---- good images ---------------------------------------------------------

run "$AG" classify --model "$AG_MODEL" "${good[@]}"
cp "$work/out" "$work/text1"
if [ $rc -eq 0 ] && msg=$(check_text "$work/out" 5 "${good[@]}" 2>&1); then
	pass "classify ${#good[@]} images: 5 ranked lines each"
else
	fail "classify text output: rc=$rc $msg"; show; head -n 12 "$work/out"
fi
run "$AG" classify --model "$AG_MODEL" "${good[@]}"
if [ $rc -eq 0 ] && cmp -s "$work/out" "$work/text1"; then
	pass "deterministic: the same images give identical output"
else
	fail "second run differs (rc=$rc)"
	diff "$work/text1" "$work/out" | head -n 10
fi
head -n 6 "$work/text1" >"$work/text1.0"
run "$AG" classify --model "$AG_MODEL" "${good[0]}"
if [ $rc -eq 0 ] && msg=$(same_result "$work/out" "$work/text1.0" 2>&1)
then
	pass "an image alone gives what it gave within a batch"
else
	fail "single image differs from its batch result (rc=$rc): $msg"
fi
# Without --model: the default model is found next to the binary.
run env -u AIGUARD_MODEL "$AG" classify "${good[0]}"
if [ $rc -eq 0 ] && check_text "$work/out" 5 "${good[0]}"; then
	pass "the default model is found without --model"
else
	fail "default model: rc=$rc"; show
fi

run "$AG" classify --top 3 --json --model "$AG_MODEL" "${good[@]}"
cp "$work/out" "$work/json1"
if [ $rc -eq 0 ] && msg=$(check_json "$work/out" 3 "${good[@]}" 2>&1); then
	pass "--top 3 --json: valid JSON, 3 entries per image"
else
	fail "--top 3 --json: rc=$rc $msg"; show; head -n 20 "$work/out"
fi
# The JSON top 3 are the first 3 of the text top 5.
if "$PYTHON" - "$work/json1" "$work/text1" <<'EOF'
import json, re, sys
doc = json.load(open(sys.argv[1]))
text = [int(m) for m in re.findall(r"\((\d+)\)$",
                                   open(sys.argv[2]).read(), re.M)]
idx = [t["index"] for e in doc for t in e["top"]]
want = [text[i * 5 + j] for i in range(len(doc)) for j in range(3)]
sys.exit(0 if idx == want else "json %s text %s" % (idx, want))
EOF
then
	pass "JSON and text agree"
else
	fail "JSON and text disagree"
fi
run "$AG" classify --top 1000 --json --model "$AG_MODEL" "${good[0]}"
if [ $rc -eq 0 ] && "$PYTHON" -c '
import json, sys
top = json.load(open(sys.argv[1]))[0]["top"]
s = sum(t["prob"] for t in top)
sys.exit(0 if len(top) == 1000 and abs(s - 1) < 1e-3 else "sum %g" % s)
' "$work/out"; then
	pass "--top 1000: all classes, probabilities sum to 1"
else
	fail "--top 1000: rc=$rc"; show
fi

# ---- bad images ----------------------------------------------------------

for b in "$bad_missing" "$bad_empty" "$bad_trunc" "$bad_text" \
    "$bad_huge"; do
	run "$AG" classify --model "$AG_MODEL" "$b"
	if [ $rc -eq 1 ] && grep -qF "$b" "$work/err" && [ ! -s "$work/out" ]
	then
		pass "$(basename "$b"): exit 1, named on stderr"
	else
		fail "$(basename "$b"): rc=$rc"; show
	fi
done
# All of them between the good images, in one call.
run "$AG" classify --model "$AG_MODEL" "${good[0]}" "$bad_missing" \
    "$bad_empty" "$bad_trunc" "$bad_text" "$bad_huge" "${good[@]:1}"
allnamed=1
for b in "$bad_missing" "$bad_empty" "$bad_trunc" "$bad_text" \
    "$bad_huge"; do
	[ "$(grep -cF "$b" "$work/err")" -ge 1 ] || allnamed=0
done
if [ $rc -eq 1 ] && [ $allnamed -eq 1 ] &&
    msg=$(same_result "$work/out" "$work/text1" 2>&1); then
	pass "mixed call: exit 1, every bad file named, good ones printed"
else
	fail "mixed call: rc=$rc named=$allnamed $msg"; show
fi
run "$AG" classify --top 3 --json --model "$AG_MODEL" "$bad_text" \
    "${good[@]}" "$bad_huge"
if [ $rc -eq 1 ] && msg=$(same_result "$work/out" "$work/json1" 2>&1)
then
	pass "mixed call with --json: exit 1, the good images' JSON intact"
else
	fail "mixed call with --json: rc=$rc $msg"; show
fi

# ---- bad options and models ----------------------------------------------

for opt in "--top 0" "--top abc" "--top -1" "--top 1001" "--threads 0"; do
	# shellcheck disable=SC2086
	run "$AG" classify $opt --model "$AG_MODEL" "${good[0]}"
	if [ $rc -ne 0 ] && grep -q -- "${opt%% *}" "$work/err" &&
	    [ ! -s "$work/out" ]; then
		pass "classify $opt: exit $rc with an error"
	else
		fail "classify $opt: rc=$rc"; show
	fi
done
run "$AG" classify --model /nonexistent "${good[0]}"
if [ $rc -ne 0 ] && grep -q /nonexistent "$work/err"; then
	pass "--model /nonexistent: exit $rc, named"
else
	fail "--model /nonexistent: rc=$rc"; show
fi

# A copy of the model (weights by symlink), first intact, then broken.
# classify verifies signatures as aiguardd does: each state is signed
# with a key of this test's (links allowed), so that what is tested is
# the loader's refusal of a signed but broken model.
m=$work/model
mkdir "$m" || exit 99
cp "$AG_MODEL/config.json" "$AG_MODEL/labels.txt" "$m/" || exit 99
ln -s "$AG_MODEL/model.safetensors" "$m/model.safetensors" || exit 99
"$AG" keygen --out "$work/t" >/dev/null 2>&1 || exit 99
resign() {
	"$AG" sign --key "$work/t.key" --allow-symlinks "$m" \
	    >/dev/null 2>&1 || exit 99
}
classify_m() { run "$AG" classify --verify-key "$work/t.pub" "$@"; }
run "$AG" classify --model "$m" "${good[0]}"
if [ $rc -ne 0 ] && grep -q "$m/model.sig: missing" "$work/err" &&
    [ ! -s "$work/out" ]; then
	pass "an unsigned copy is refused (as aiguardd refuses it)"
else
	fail "unsigned copy: rc=$rc"; show
fi
resign
classify_m --model "$m" "${good[0]}"
if [ $rc -eq 0 ] && same_result "$work/out" "$work/text1.0"; then
	pass "a copied model directory works"
else
	fail "copied model: rc=$rc"; show
fi
head -c 40 "$AG_MODEL/config.json" >"$m/config.json"
resign
classify_m --model "$m" "${good[0]}"
if [ $rc -ne 0 ] && grep -q "$m/config.json" "$work/err" &&
    [ ! -s "$work/out" ]; then
	pass "truncated config.json: exit $rc, names config.json"
else
	fail "truncated config.json: rc=$rc"; show
fi
sed 's/"num_classes": [0-9]*/"num_classes": "many"/' \
    "$AG_MODEL/config.json" >"$m/config.json"
resign
classify_m --model "$m" "${good[0]}"
if [ $rc -ne 0 ] && grep -q "$m/config.json.*num_classes" "$work/err"; then
	pass "bad num_classes: exit $rc, names config.json and the key"
else
	fail "bad num_classes: rc=$rc"; show
fi
cp "$AG_MODEL/config.json" "$m/config.json" || exit 99
sed '$d' "$AG_MODEL/labels.txt" >"$m/labels.txt"
resign
classify_m --model "$m" "${good[0]}"
if [ $rc -ne 0 ] && grep -q "$m/labels.txt" "$work/err"; then
	pass "one label short: exit $rc, names labels.txt"
else
	fail "one label short: rc=$rc"; show
fi

finish
