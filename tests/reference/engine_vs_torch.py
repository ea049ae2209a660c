# SPDX-License-Identifier: ISC
"""Engine vs PyTorch: the same safetensors file in torchvision and in our
engine, on fixed inputs.  Passes when, for every image,
max |dlogit| <= 1e-3 * max |logit| and the top-5 classes are identical.

usage: engine_vs_torch.py ENGINE_RUN MODEL_DIR ARCH WORKDIR CASES
CASES: comma-separated BATCHxHxW groups, e.g. "1x224x224*8,4x224x224*2"
(a group *K runs K batches of that shape, each with new inputs).
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

from st_numpy import torch_model


def inputs(rng, n, h, w):
    """Image-like inputs: smooth fields plus noise, roughly normalised."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((n, 3, h, w), np.float32)
    for i in range(n):
        for c in range(3):
            v = rng.normal(0, 0.5) + 0.3 * rng.standard_normal((h, w))
            for _ in range(3):
                fx, fy, ph = rng.uniform(0.5, 8, 2).tolist() + [rng.uniform(0, 6.3)]
                v = v + rng.normal(0, 0.6) * np.sin(ph + 2 * np.pi * (fx * xx / w + fy * yy / h))
            out[i, c] = v
    return out


def main():
    engine, model_dir, arch, work, cases = sys.argv[1:6]
    with open(os.path.join(model_dir, "config.json")) as f:
        classes = json.load(f)["num_classes"]
    torch.set_num_threads(2)
    net = torch_model(arch, os.path.join(model_dir, "model.safetensors"),
                      classes)
    rng = np.random.RandomState(20261128)
    worst = 0.0
    nimg = 0
    failed = 0
    for group in cases.split(","):
        shape, _, reps = group.partition("*")
        n, h, w = (int(v) for v in shape.split("x"))
        for r in range(int(reps or 1)):
            x = inputs(rng, n, h, w)
            xin = os.path.join(work, "in.f32")
            yout = os.path.join(work, "out.f32")
            x.tofile(xin)
            subprocess.run([engine, "--model", model_dir, "--batch", str(n),
                            "--height", str(h), "--width", str(w),
                            "--input", xin, "--output", yout,
                            "--threads", "2"], check=True)
            ours = np.fromfile(yout, np.float32).reshape(n, classes)
            with torch.inference_mode():
                ref = net(torch.from_numpy(x)).numpy()
            for i in range(n):
                scale = float(np.abs(ref[i]).max())
                diff = float(np.abs(ours[i] - ref[i]).max())
                rel = diff / scale
                t5o = np.argsort(-ours[i], kind="stable")[:5].tolist()
                t5r = np.argsort(-ref[i], kind="stable")[:5].tolist()
                ok = rel <= 1e-3 and t5o == t5r
                worst = max(worst, rel)
                nimg += 1
                print("%s %s batch=%d %dx%d img=%d max|d|=%.3g "
                      "max|logit|=%.3g rel=%.2e top5 %s %s" %
                      ("ok  " if ok else "FAIL", arch, n, w, h, i, diff,
                       scale, rel, t5o, "==" if t5o == t5r else "!= %s" % t5r))
                failed += not ok
    print("%s: %d images, worst relative error %.2e, %d failed"
          % (arch, nimg, worst, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
