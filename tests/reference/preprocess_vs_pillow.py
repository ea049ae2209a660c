# SPDX-License-Identifier: ISC
#
# preprocess_vs_pillow.py: compares the image module (through image-dump)
# with the reference pipeline, Image.open(f).convert("RGB") followed by
# torchvision's Resize(256) and CenterCrop(224) on the PIL image.
#
# Usage: preprocess_vs_pillow.py IMAGE_DUMP WORKDIR
# Writes its test images into WORKDIR (the caller removes it).  Prints one
# line per case.  Exit codes: 0 pass, 1 fail, 99 hard error (also: no PIL,
# numpy or torchvision).
import os
import random
import struct
import subprocess
import sys
import warnings
import zlib

try:
    import numpy as np
    from PIL import Image, ImageDraw
    import torch
    import torchvision.transforms as T
except ImportError as e:  # pragma: no cover
    # scripts/install-deps installs the stack: its absence is an error.
    print("FAIL: reference stack missing: %s" % e)
    sys.exit(99)

warnings.filterwarnings("ignore")

# A case passes when at least this fraction of the values is within +-1.
MIN_WITHIN_ONE = 0.999


# ---- Test images -------------------------------------------------------

def content(w, h, seed):
    """An RGB uint8 array: gradients, noise and shapes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255.0 * x / max(w - 1, 1)
    g = 255.0 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin((x + 2 * y) / max(w, h) * 12.0)
    a = np.stack([r, g, b], axis=-1)
    a += rng.normal(0.0, 12.0, size=a.shape)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        s = int(rng.integers(1, max(2, min(w, h) // 3)))
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.integers(0, 2):
            d.ellipse([x0 - s, y0 - s, x0 + s, y0 + s], fill=col)
        else:
            d.rectangle([x0, y0, x0 + s, y0 + s // 2], outline=col,
                        width=max(1, s // 8))
    # Hard stripes: the worst case for resampling.
    a = np.array(im)
    a[:, ::max(w // 20, 2)] = 255 - a[:, ::max(w // 20, 2)]
    return a


def png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_png(path, a, bitdepth, colortype, interlace=False, plte=None):
    """Writes array a (h, w, c) of uint8 or uint16 as a PNG by hand:
    Pillow writes neither Adam7 nor 16-bit colour.  plte: bytes of a PLTE
    chunk for colour type 3."""
    h, w = a.shape[:2]
    dt = ">u2" if bitdepth == 16 else "u1"
    a = a.reshape(h, w, -1).astype(dt)

    def scanlines(sub):
        if bitdepth < 8:    # gray or index: pack samples, MSB first
            per = 8 // bitdepth
            rows = []
            for row in sub[..., 0]:
                row = np.concatenate([row, np.zeros((-len(row)) % per,
                                                    np.uint8)])
                row = row.reshape(-1, per).astype(np.uint16)
                packed = np.zeros(len(row), np.uint16)
                for i in range(per):
                    packed |= row[:, i] << (8 - bitdepth * (i + 1))
                rows.append(b"\x00" + packed.astype(np.uint8).tobytes())
            return b"".join(rows)
        return b"".join(b"\x00" + row.tobytes() for row in sub)

    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                  (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b""
        for x0, y0, dx, dy in passes:
            sub = a[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += scanlines(sub)
    else:
        raw = scanlines(a)
    ihdr = struct.pack(">IIBBBBB", w, h, bitdepth, colortype, 0, 0,
                       1 if interlace else 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
                (png_chunk(b"PLTE", plte) if plte else b"") +
                png_chunk(b"IDAT", zlib.compress(raw, 6)) +
                png_chunk(b"IEND", b""))


def make_images(d):
    """Returns [(name, path, options)]; options is a dict of image-dump
    settings (resize, crop_w, crop_h)."""
    out = []

    def add(name, opts=None):
        out.append((name, os.path.join(d, name), opts or {}))

    a = content(1000, 700, 1)
    Image.fromarray(a).save(os.path.join(d, "rgb-1000x700.jpg"), quality=90)
    add("rgb-1000x700.jpg")
    a = content(333, 517, 2)
    Image.fromarray(a).save(os.path.join(d, "rgb-portrait-333x517.jpg"),
                            quality=85)
    add("rgb-portrait-333x517.jpg")
    a = content(640, 480, 3)
    Image.fromarray(a).save(os.path.join(d, "progressive-640x480.jpg"),
                            quality=80, progressive=True)
    add("progressive-640x480.jpg")
    a = content(401, 299, 4)
    Image.fromarray(a).save(os.path.join(d, "rgb444-401x299.jpg"),
                            quality=95, subsampling=0)
    add("rgb444-401x299.jpg")
    a = content(300, 451, 5)
    Image.fromarray(a).convert("L").save(os.path.join(d, "gray-300x451.jpg"),
                                         quality=90)
    add("gray-300x451.jpg")
    a = content(320, 240, 6)
    Image.fromarray(a).convert("CMYK").save(
        os.path.join(d, "cmyk-320x240.jpg"), quality=90)
    add("cmyk-320x240.jpg")
    a = content(3, 5, 7)
    Image.fromarray(a).save(os.path.join(d, "tiny-3x5.jpg"), quality=95)
    add("tiny-3x5.jpg")

    a = content(517, 333, 8)
    Image.fromarray(a).save(os.path.join(d, "rgb-517x333.png"))
    add("rgb-517x333.png")
    a = content(257, 255, 9)
    Image.fromarray(a).convert("L").save(os.path.join(d, "gray-257x255.png"))
    add("gray-257x255.png")
    a = content(300, 200, 10)
    alpha = np.linspace(0, 255, 300 * 200).reshape(200, 300, 1)
    rgba = np.concatenate([a, alpha.astype(np.uint8)], axis=-1)
    Image.fromarray(rgba, "RGBA").save(os.path.join(d, "rgba-300x200.png"))
    add("rgba-300x200.png")
    Image.fromarray(rgba, "RGBA").convert("LA").save(
        os.path.join(d, "la-300x200.png"))
    add("la-300x200.png")
    a = content(350, 260, 11)
    p = Image.fromarray(a).quantize(colors=200)
    p.info["transparency"] = 3
    p.save(os.path.join(d, "palette-350x260.png"), transparency=3)
    add("palette-350x260.png")
    a = content(97, 61, 12)
    Image.fromarray(a).convert("1").save(os.path.join(d, "bilevel-97x61.png"))
    add("bilevel-97x61.png")
    a = content(5, 3, 13)
    Image.fromarray(a).save(os.path.join(d, "tiny-5x3.png"))
    add("tiny-5x3.png")
    a = content(256, 300, 14)
    Image.fromarray(a).save(os.path.join(d, "short-256.png"))
    add("short-256.png")
    a = content(1, 300, 15)
    Image.fromarray(a).save(os.path.join(d, "sliver-1x300.png"))
    add("sliver-1x300.png")
    a = content(411, 277, 16)
    write_png(os.path.join(d, "interlaced-411x277.png"), a, 8, 2, True)
    add("interlaced-411x277.png")
    rng = np.random.default_rng(17)
    a16 = (content(230, 190, 17).astype(np.uint32) * 257 +
           rng.integers(-200, 200, (190, 230, 3))).clip(0, 65535)
    write_png(os.path.join(d, "rgb16-230x190.png"), a16, 16, 2)
    add("rgb16-230x190.png")
    ga16 = np.stack([a16[..., 0], a16[..., 1]], axis=-1)
    write_png(os.path.join(d, "la16-190x230.png"),
              ga16.transpose(1, 0, 2).copy(), 16, 4, True)
    add("la16-190x230.png")
    a16 = np.concatenate([a16, a16[..., :1] ^ 0x5a5a], axis=-1)
    write_png(os.path.join(d, "rgba16-230x190.png"), a16, 16, 6)
    add("rgba16-230x190.png")
    a = content(300, 200, 18)
    write_png(os.path.join(d, "gray2bit-300x200.png"),
              (a[..., 1] >> 6).astype(np.uint8), 2, 0, True)
    add("gray2bit-300x200.png")
    # Indexed at 4 bits, interlaced, with a palette of 11 entries for 16
    # possible indices: Pillow shows the missing ones as a gray ramp.
    a = content(203, 151, 19)
    pal = bytes(int(v) for v in rng.integers(0, 256, 33))
    write_png(os.path.join(d, "index4-short-203x151.png"),
              (a[..., 0] >> 4).astype(np.uint8), 4, 3, True, pal)
    add("index4-short-203x151.png")

    # EXIF orientation 6 ("rotate 90"): Image.open() ignores it, so do we.
    a = content(240, 160, 20)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(a).save(os.path.join(d, "exif-rot6-240x160.jpg"),
                            quality=90, exif=exif.tobytes())
    add("exif-rot6-240x160.jpg")

    # Random sizes and settings: noise is the hardest input for the
    # resampler's rounding.
    rng = np.random.default_rng(21)
    for i in range(24):
        w, h = (int(v) for v in rng.integers(1, 700, 2))
        if i % 4 == 0:
            w = int(rng.integers(1, 9))
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        name = "noise%02d-%dx%d.png" % (i, w, h)
        Image.fromarray(a).save(os.path.join(d, name), compress_level=1)
        add(name, {"resize": int(rng.choice([256, 224, 32, 300, 513])),
                   "crop_w": int(rng.integers(1, 320)),
                   "crop_h": int(rng.integers(1, 320))})

    # Other Resize/CenterCrop settings: padding, crops wider than the
    # image in one direction only, identity.
    add("rgb-517x333.png", {"resize": 100, "crop_w": 150, "crop_h": 90})
    add("rgb-portrait-333x517.jpg", {"resize": 120, "crop_w": 90,
                                     "crop_h": 250})
    add("short-256.png", {"resize": 256, "crop_w": 256, "crop_h": 300})
    add("rgb-1000x700.jpg", {"resize": 333, "crop_w": 301, "crop_h": 299})
    add("tiny-5x3.png", {"resize": 7, "crop_w": 9, "crop_h": 4})
    return out


# ---- Reference and comparison ------------------------------------------

def reference(path, resize, cw, ch):
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    t = T.Compose([T.Resize(resize), T.CenterCrop((ch, cw))])
    return np.asarray(t(rgb), dtype=np.uint8)


def run_dump(dump, args):
    return subprocess.run([dump] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def compare(a, b):
    d = np.abs(a.astype(np.int32) - b.astype(np.int32))
    return int(d.max()) if d.size else 0, float((d <= 1).mean()), \
        float((d == 0).mean())


def main():
    if len(sys.argv) != 3:
        print("usage: preprocess_vs_pillow.py IMAGE_DUMP WORKDIR")
        return 99
    dump, d = sys.argv[1], sys.argv[2]
    fails = 0
    cases = make_images(d)
    print("%-26s %-16s %5s %10s %10s" % ("image", "resize/crop", "maxd",
                                        "within1", "exact"))
    for name, path, opts in cases:
        resize = opts.get("resize", 256)
        cw, ch = opts.get("crop_w", 224), opts.get("crop_h", 224)
        outp = os.path.join(d, "out.bin")
        p = run_dump(dump, ["--resize", str(resize), "--crop-w", str(cw),
                            "--crop-h", str(ch), path, outp])
        geom = "%d/%dx%d" % (resize, cw, ch)
        if p.returncode != 0:
            print("%-26s %-16s FAIL image-dump: %s" %
                  (name, geom, p.stderr.decode(errors="replace").strip()))
            fails += 1
            continue
        ours = np.fromfile(outp, dtype=np.uint8)
        ref = reference(path, resize, cw, ch)
        if ours.size != ref.size:
            print("%-26s %-16s FAIL size %d vs %d" % (name, geom, ours.size,
                                                      ref.size))
            fails += 1
            continue
        maxd, within, exact = compare(ours.reshape(ref.shape), ref)
        ok = within >= MIN_WITHIN_ONE
        fails += not ok
        print("%-26s %-16s %5d %10.6f %10.6f%s" % (name, geom, maxd, within,
                                                  exact,
                                                  "" if ok else "  FAIL"))

    # The decoded image itself against Pillow's.
    print("decoded image against Image.open().convert('RGB'):")
    seen = set()
    for name, path, _ in cases:
        if name in seen:
            continue
        seen.add(name)
        outp = os.path.join(d, "raw.bin")
        p = run_dump(dump, ["--raw-decoded", path, outp])
        with Image.open(path) as im:
            ref = np.asarray(im.convert("RGB"), dtype=np.uint8)
        if p.returncode != 0:
            print("  %-26s FAIL image-dump: %s" %
                  (name, p.stderr.decode(errors="replace").strip()))
            fails += 1
            continue
        w, h = (int(v) for v in p.stdout.split())
        ours = np.fromfile(outp, dtype=np.uint8)
        if (w, h) != (ref.shape[1], ref.shape[0]) or ours.size != ref.size:
            print("  %-26s FAIL size %dx%d vs %dx%d" %
                  (name, w, h, ref.shape[1], ref.shape[0]))
            fails += 1
            continue
        maxd, within, exact = compare(ours.reshape(ref.shape), ref)
        # PNG must be exact; JPEG uses the same libjpeg-turbo as Pillow
        # here, and is held to the same +-1 rule as the resize.
        ok = exact == 1.0 if name.endswith(".png") else \
            within >= MIN_WITHIN_ONE
        fails += not ok
        print("  %-26s %4dx%-4d maxd %d within1 %.6f exact %.6f%s" %
              (name, w, h, maxd, within, exact, "" if ok else "  FAIL"))

    # ToTensor + Normalize: bit-identical float32 on the same pixels.
    to_t = T.Compose([T.ToTensor(),
                      T.Normalize([0.485, 0.456, 0.406],
                                  [0.229, 0.224, 0.225])])
    for name in ("rgb-1000x700.jpg", "rgba-300x200.png"):
        path = os.path.join(d, name)
        p8 = run_dump(dump, [path, os.path.join(d, "u8.bin")])
        pt = run_dump(dump, ["--tensor", path, os.path.join(d, "f32.bin")])
        if p8.returncode != 0 or pt.returncode != 0:
            print("tensor %-20s FAIL image-dump failed" % name)
            fails += 1
            continue
        u8 = np.fromfile(os.path.join(d, "u8.bin"), np.uint8)
        ours = np.fromfile(os.path.join(d, "f32.bin"), np.float32)
        ref = to_t(Image.fromarray(u8.reshape(224, 224, 3))).numpy()
        same = np.array_equal(ours.view(np.uint32),
                              ref.reshape(-1).view(np.uint32))
        fails += not same
        print("tensor %-20s %s (max |diff| %g)" %
              (name, "bit-identical" if same else "FAIL: differs",
               float(np.abs(ours - ref.reshape(-1)).max())))

    # Inputs that must be refused, with the file named in the message.
    good = open(os.path.join(d, "rgb-1000x700.jpg"), "rb").read()
    goodpng = open(os.path.join(d, "rgb-517x333.png"), "rb").read()
    rnd = random.Random(19)
    bad = {
        "truncated.jpg": good[:len(good) // 2],
        "truncated-header.jpg": good[:200],
        "truncated.png": goodpng[:len(goodpng) // 2],
        "random.bin": bytes(rnd.randrange(256) for _ in range(5000)),
        "empty.jpg": b"",
        "bmp-like.jpg": b"BM" + bytes(100),
    }
    a16 = np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) * 20
    write_png(os.path.join(d, "gray16.png"), a16.clip(0, 65535), 16, 0)
    bad["gray16.png"] = open(os.path.join(d, "gray16.png"), "rb").read()
    for name, data in bad.items():
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        for extra in ([], ["--raw-decoded"]):
            p = run_dump(dump, extra + [path, os.path.join(d, "x.bin")])
            msg = p.stderr.decode(errors="replace").strip()
            ok = p.returncode != 0 and path in msg and p.returncode < 128
            fails += not ok
            if not extra:
                print("refused %-20s rc=%d %s%s" % (name, p.returncode, msg,
                                                    "" if ok else "  FAIL"))
    print("FAILED: %d" % fails if fails else "all passed")
    return 1 if fails else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception as e:  # a broken harness is not a test failure
        import traceback
        traceback.print_exc()
        print("hard error: %s" % e)
        sys.exit(99)
