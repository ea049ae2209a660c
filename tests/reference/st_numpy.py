# SPDX-License-Identifier: ISC
"""Minimal safetensors reader for the reference tests (numpy only).

The tests must not trust the C reader they are checking, so they read the
file independently: 8-byte little-endian header length, JSON header, raw
little-endian data.
"""
import json
import struct

import numpy as np

_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8",
           "I32": "<i4", "U8": "u1", "I8": "i1"}


def load(path):
    with open(path, "rb") as f:
        buf = f.read()
    (hlen,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + hlen])
    base = 8 + hlen
    out = {}
    for name, ent in header.items():
        if name == "__metadata__":
            continue
        b, e = ent["data_offsets"]
        arr = np.frombuffer(buf[base + b:base + e],
                            dtype=_DTYPES[ent["dtype"]])
        out[name] = arr.reshape(ent["shape"]).copy()
    return out


def torch_model(arch, path, num_classes):
    """A torchvision model with the weights of a safetensors file."""
    import torch
    import torchvision
    net = getattr(torchvision.models, arch)(weights=None,
                                             num_classes=num_classes)
    sd = {k: torch.from_numpy(v) for k, v in load(path).items()}
    missing, unexpected = net.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit("state_dict mismatch: missing %s unexpected %s"
                         % (missing, unexpected))
    net.eval()
    return net
