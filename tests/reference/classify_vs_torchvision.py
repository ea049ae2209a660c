# SPDX-License-Identifier: ISC
#
# classify_vs_torchvision.py: the whole classify pipeline against the
# reference stack.
#
# For each image: ours is `aiguard classify --json --top 5`; the reference
# is PIL Image.open(f).convert("RGB"), torchvision's Resize, CenterCrop,
# ToTensor and Normalize with the values of the model's config.json, then
# torchvision's model with the same safetensors weights, then softmax.  The
# top-5 class lists must be identical and each probability within 1e-3.
#
# Usage: classify_vs_torchvision.py AIGUARD MODEL_DIR WORKDIR [IMAGE...]
# Test images are generated into WORKDIR (the caller removes it) and
# checked together with the IMAGEs given.  Prints both lists per image.
# Exit codes: 0 pass, 1 fail, 99 hard error (also: no torch, torchvision,
# PIL or numpy).
import json
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torchvision.transforms as T
    from PIL import Image, ImageDraw
except ImportError as e:  # pragma: no cover
    # scripts/install-deps installs the stack: its absence is an error.
    print("FAIL: reference stack missing: %s" % e)
    sys.exit(99)

from st_numpy import torch_model

PROB_TOL = 1e-3
TOPK = 5


def content(w, h, seed):
    """An RGB uint8 array with structure: gradients, waves, shapes, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    fx, fy = rng.uniform(2, 9, 2)
    a = np.stack([255.0 * x / max(w - 1, 1),
                  127.5 + 127.5 * np.sin(fx * x / max(w, 1) +
                                         fy * y / max(h, 1)),
                  255.0 * y / max(h - 1, 1)], axis=-1)
    a += rng.normal(0.0, 10.0, size=a.shape)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(5):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        s = int(rng.integers(1, max(2, min(w, h) // 3)))
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        d.ellipse([x0 - s, y0 - s, x0 + s, y0 + s], fill=col)
    return np.array(im)


def make_images(d):
    """Writes the generated cases; returns their paths."""
    out = []

    def save(im, name, **kw):
        path = os.path.join(d, name)
        im.save(path, **kw)
        out.append(path)

    save(Image.fromarray(content(640, 480, 1)), "landscape-640x480.jpg",
         quality=90)
    save(Image.fromarray(content(301, 517, 2)), "portrait-301x517.jpg",
         quality=85)
    save(Image.fromarray(content(400, 300, 3)).convert("L"),
         "gray-400x300.jpg", quality=90)
    save(Image.fromarray(content(333, 257, 4)), "landscape-333x257.png")
    save(Image.fromarray(content(259, 387, 5)).convert("L"),
         "gray-portrait-259x387.png")
    a = content(300, 260, 6)
    alpha = np.linspace(0, 255, 300 * 260).reshape(260, 300, 1)
    save(Image.fromarray(np.concatenate([a, alpha.astype(np.uint8)], -1),
                         "RGBA"), "rgba-300x260.png")
    save(Image.fromarray(content(20, 13, 7)), "tiny-20x13.png")
    save(Image.fromarray(content(20, 13, 8)), "tiny-20x13.jpg", quality=95)
    save(Image.fromarray(content(350, 250, 9)).quantize(colors=64),
         "palette-350x250.png")
    save(Image.fromarray(content(1023, 255, 10)), "wide-1023x255.jpg",
         quality=80, progressive=True)
    return out


def reference(net, conf, paths):
    """Top-5 (index, prob) per image from PIL + torchvision."""
    inp = conf["input"]
    tf = T.Compose([T.Resize(inp["resize"]),
                    T.CenterCrop((inp["height"], inp["width"])),
                    T.ToTensor(),
                    T.Normalize(inp["mean"], inp["std"])])
    x = torch.stack([tf(Image.open(p).convert("RGB")) for p in paths])
    with torch.inference_mode():
        probs = torch.softmax(net(x), dim=1).double().numpy()
    out = []
    for prob in probs:
        # Stable: ties keep the lower index first, as aiguard does.
        idx = np.argsort(-prob, kind="stable")[:TOPK]
        out.append([(int(i), float(prob[i])) for i in idx])
    return out


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 99
    aiguard, model_dir, work = sys.argv[1:4]
    with open(os.path.join(model_dir, "config.json")) as f:
        conf = json.load(f)
    paths = list(sys.argv[4:]) + make_images(work)
    torch.set_num_threads(2)
    net = torch_model(conf["architecture"],
                      os.path.join(model_dir, "model.safetensors"),
                      conf["num_classes"])

    r = subprocess.run([aiguard, "classify", "--json", "--top", str(TOPK),
                        "--model", model_dir] + paths,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        print("aiguard classify failed (rc=%d):\n%s" %
              (r.returncode, r.stderr.decode(errors="replace")))
        return 1
    ours = {e["file"]: [(t["index"], t["prob"]) for t in e["top"]]
            for e in json.loads(r.stdout)}
    ref = reference(net, conf, paths)

    failed = 0
    worst = 0.0
    for p, want in zip(paths, ref):
        got = ours.get(p)
        name = os.path.basename(p)
        if got is None:
            print("FAIL %s: missing from aiguard's output" % name)
            failed += 1
            continue
        same = [i for i, _ in got] == [i for i, _ in want]
        dp = max(abs(a[1] - b[1]) for a, b in zip(got, want)) if same \
            else float("inf")
        worst = max(worst, dp)
        ok = same and dp <= PROB_TOL
        failed += not ok
        print("%s %s: max |dprob| %.2e" % ("ok  " if ok else "FAIL", name,
                                             dp))
        print("     aiguard:     %s" % " ".join("%d:%.5f" % t for t in got))
        print("     torchvision: %s" % " ".join("%d:%.5f" % t for t in want))
    print("%d images, %d failed, worst |dprob| %.2e (tolerance %g)" %
          (len(paths), failed, worst, PROB_TOL))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
