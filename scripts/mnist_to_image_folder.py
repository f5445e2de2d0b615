#!/usr/bin/python3
"""MNIST's four IDX files (raw or .gz, as scripts/fetch_data.sh leaves them in data/mnist) as a
folder of PNG images in torchvision's ImageFolder layout, which `--data` reads:

    /usr/bin/python3 scripts/mnist_to_image_folder.py [--data data/mnist] OUT

writes OUT/train/<digit>/<index>.png and OUT/test/<digit>/<index>.png, <index> the digit's position
in its IDX file (five digits), each an 8-bit grey PNG of 28x28. PNGs are written by hand (zlib and
struct): the Python beside Debian's numpy has no PIL. The folder is made under OUT.tmp-<pid> and
renamed into place when whole; an existing OUT is left alone.
"""
import argparse
import gzip
import os
import shutil
import struct
import sys
import zlib

try:
    import numpy
except ImportError:
    sys.exit("mnist_to_image_folder: numpy is missing (Debian: apt-get install python3-numpy)")

IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801
SPLITS = (("train", "train"), ("t10k", "test"))


def read_idx(folder, stem, magic):
    """The array of the IDX file `stem` (the raw file if present, else stem.gz), its header checked."""
    path = os.path.join(folder, stem)
    opener = open
    if not os.path.exists(path):
        path += ".gz"
        opener = gzip.open
    with opener(path, "rb") as f:
        data = f.read()
    found, = struct.unpack(">I", data[:4])
    if found != magic:
        sys.exit(f"mnist_to_image_folder: {path}: magic 0x{found:08x}, expected 0x{magic:08x}")
    dims = struct.unpack(">" + "I" * (magic & 0xff), data[4:4 + 4 * (magic & 0xff)])
    values = numpy.frombuffer(data, numpy.uint8, offset=4 + 4 * len(dims))
    if values.size != int(numpy.prod(dims)):
        sys.exit(f"mnist_to_image_folder: {path}: {values.size} values, header {dims} promises {int(numpy.prod(dims))}")
    return values.reshape(dims)


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def grey_png(image):
    """An 8-bit grey PNG of `image` ([H,W] uint8): each row behind filter byte 0 (none)."""
    height, width = image.shape
    rows = numpy.zeros((height, width + 1), numpy.uint8)
    rows[:, 1:] = image
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + png_chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data/mnist", help="folder of the four IDX files (default data/mnist)")
    parser.add_argument("out", help="the image folder to make")
    args = parser.parse_args()
    if os.path.lexists(args.out):
        sys.exit(f"mnist_to_image_folder: {args.out}: exists; remove it first")
    work = f"{args.out.rstrip('/')}.tmp-{os.getpid()}"
    try:
        for prefix, split in SPLITS:
            images = read_idx(args.data, f"{prefix}-images-idx3-ubyte", IMAGES_MAGIC)
            labels = read_idx(args.data, f"{prefix}-labels-idx1-ubyte", LABELS_MAGIC)
            if len(images) != len(labels):
                sys.exit(f"mnist_to_image_folder: {len(images)} {prefix} images but {len(labels)} labels")
            for digit in numpy.unique(labels):
                os.makedirs(os.path.join(work, split, str(digit)))
            for index, (image, label) in enumerate(zip(images, labels)):
                with open(os.path.join(work, split, str(label), f"{index:05d}.png"), "wb") as f:
                    f.write(grey_png(image))
            print(f"{split}: {len(images)} images")
        os.rename(work, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
