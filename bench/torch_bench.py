# SPDX-License-Identifier: ISC
"""PyTorch side of the aiguard benchmark (bench/run drives it).

The same safetensors file the engine loads, read with the numpy-only reader
of the reference tests, in torchvision's resnet18 (weights=None).

usage:
  torch_bench.py input FILE [--batch N] [--size S]
      write the fixed comparison input: (N, 3, S, S) float32, native order
  torch_bench.py run MODEL_DIR --threads T [--repeat1 R] [--warmup1 W]
      [--repeat8 R] [--warmup8 W] [--batch8 N] [--input FILE --logits FILE]
      time batch-1 latency and batch-N throughput; with --input, also write
      the logits of that input to --logits.  Prints one JSON line.
  torch_bench.py compare CLASSES NAME=FILE NAME=FILE...
      max |logit difference| between every pair of logit files, and
      whether the top-5 classes agree.  Exit 1 if the first file (ours)
      differs from a later one by more than 1e-3 of the largest logit.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "reference"))

# Same per-image cost figure as bench/run: ResNet-18 at 224x224.
GFLOP_PER_IMAGE = 3.63


def fixed_input(n, size):
    """Seeded image-like input: a smooth field per channel plus noise,
    roughly zero-mean and unit-scale like a normalised photo."""
    rng = np.random.RandomState(20261128)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    x = np.empty((n, 3, size, size), np.float32)
    for i in range(n):
        for c in range(3):
            v = 0.3 * rng.standard_normal((size, size))
            for _ in range(3):
                fx, fy = rng.uniform(0.5, 6, 2)
                v += rng.normal(0, 0.7) * np.sin(
                    rng.uniform(0, 6.3) + 2 * np.pi * (fx * xx + fy * yy))
            x[i, c] = v
    return x


def timed(fn, warmup, repeat):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return sorted(t)


def cmd_input(a):
    fixed_input(a.batch, a.size).tofile(a.file)
    return 0


def cmd_run(a):
    import torch

    from st_numpy import torch_model

    with open(os.path.join(a.model, "config.json")) as f:
        conf = json.load(f)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    net = torch_model(conf["architecture"],
                      os.path.join(a.model, "model.safetensors"),
                      conf["num_classes"])
    size = conf["input"]["height"], conf["input"]["width"]
    out = {"engine": "pytorch", "version": torch.__version__,
           "threads": torch.get_num_threads(),
           "onednn": bool(torch.backends.mkldnn.is_available())}
    with torch.inference_mode():
        if a.input:
            n = os.path.getsize(a.input) // (4 * 3 * size[0] * size[1])
            x = np.fromfile(a.input, np.float32).reshape(n, 3, *size)
            net(torch.from_numpy(x)).numpy().astype(np.float32).tofile(
                a.logits)
        x1 = torch.from_numpy(fixed_input(1, size[0]))
        t1 = timed(lambda: net(x1), a.warmup1, a.repeat1)
        xb = torch.from_numpy(np.repeat(fixed_input(1, size[0]), a.batch8, 0))
        tb = timed(lambda: net(xb), a.warmup8, a.repeat8)
    out.update({
        "b1_median_ms": round(t1[len(t1) // 2], 3),
        "b1_min_ms": round(t1[0], 3),
        "b1_runs": len(t1),
        "b8_batch": a.batch8,
        "b8_median_ms": round(tb[len(tb) // 2], 3),
        "b8_img_s": round(a.batch8 * 1e3 / tb[len(tb) // 2], 2),
        "b8_runs": len(tb),
    })
    print(json.dumps(out))
    return 0


def cmd_compare(a):
    logits = []
    for spec in a.files:
        name, _, path = spec.partition("=")
        y = np.fromfile(path, np.float32).reshape(-1, a.classes)
        logits.append((name, y))
    bad = 0
    for i, (na, ya) in enumerate(logits):
        for nb, yb in logits[i + 1:]:
            if ya.shape != yb.shape:
                print("agreement %s vs %s: shapes differ %s %s"
                      % (na, nb, ya.shape, yb.shape))
                bad += i == 0
                continue
            diff = float(np.abs(ya - yb).max())
            scale = float(np.abs(yb).max())
            top = all(
                np.argsort(-ya[k], kind="stable")[:5].tolist() ==
                np.argsort(-yb[k], kind="stable")[:5].tolist()
                for k in range(ya.shape[0]))
            ok = diff <= 1e-3 * scale and top
            print("agreement %-8s vs %-8s max|dlogit|=%.3g (max|logit| "
                  "%.3g, rel %.1e) top-5 %s  %s"
                  % (na, nb, diff, scale, diff / scale,
                     "same" if top else "DIFFER", "ok" if ok else "MISMATCH"))
            if not ok and i == 0:
                bad += 1
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("input")
    q.add_argument("file")
    q.add_argument("--batch", type=int, default=2)
    q.add_argument("--size", type=int, default=224)
    q = sub.add_parser("run")
    q.add_argument("model")
    q.add_argument("--threads", type=int, required=True)
    q.add_argument("--repeat1", type=int, default=30)
    q.add_argument("--warmup1", type=int, default=5)
    q.add_argument("--repeat8", type=int, default=7)
    q.add_argument("--warmup8", type=int, default=2)
    q.add_argument("--batch8", type=int, default=8)
    q.add_argument("--input")
    q.add_argument("--logits")
    q = sub.add_parser("compare")
    q.add_argument("classes", type=int)
    q.add_argument("files", nargs="+")
    a = p.parse_args()
    if a.cmd == "run" and bool(a.input) != bool(a.logits):
        p.error("--input and --logits go together")
    return {"input": cmd_input, "run": cmd_run,
            "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
