#!/usr/bin/python3
"""MNIST's four IDX files (raw or .gz, as scripts/fetch_data.sh leaves them in data/mnist) as a
folder of PNG images in torchvision's ImageFolder layout, which `--data` reads:

    /usr/bin/python3 scripts/mnist_to_image_folder.py [--data data/mnist] [--tinted] [--limit N] OUT

writes OUT/train/<digit>/<index>.png and OUT/test/<digit>/<index>.png, <index> the digit's position
in its IDX file (five digits), each an 8-bit grey PNG of 28x28. --tinted makes the colour set of the
tests and docs/own-images.md instead: each digit padded to 32x32 and drawn in its class's colour
(TINTS) on black, an 8-bit RGB PNG, under a class folder named by the digit's English word (zero,
one, ...), so that colour and class names both reach the pictures. --limit N keeps the first N
images of each split. PNGs are written by hand (zlib and
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


# One colour per digit, far apart in hue, each bright enough that its darkest stroke stays visible.
TINTS = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
         (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212))
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(image):
    """An 8-bit PNG of `image` ([H,W] grey or [H,W,3] RGB, uint8): each row behind filter byte 0 (none)."""
    height, width = image.shape[:2]
    colour = image.ndim == 3
    rows = numpy.zeros((height, width * (3 if colour else 1) + 1), numpy.uint8)
    rows[:, 1:] = image.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if colour else 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) +
            png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + png_chunk(b"IEND", b""))


def tinted(image, label):
    """The digit padded by 2 on each side to 32x32, its grey levels scaling its class's colour."""
    padded = numpy.zeros((32, 32), numpy.uint16)
    padded[2:30, 2:30] = image
    tint = numpy.array(TINTS[label], numpy.uint16)
    return ((padded[:, :, None] * tint + 127) // 255).astype(numpy.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data/mnist", help="folder of the four IDX files (default data/mnist)")
    parser.add_argument("--tinted", action="store_true", help="32x32 RGB digits tinted by class, folders by word")
    parser.add_argument("--limit", type=int, default=0, help="the first N images of each split only")
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
            if args.limit:
                images, labels = images[:args.limit], labels[:args.limit]
            folder = (lambda digit: DIGIT_WORDS[digit]) if args.tinted else str
            for digit in numpy.unique(labels):
                os.makedirs(os.path.join(work, split, folder(int(digit))))
            for index, (image, label) in enumerate(zip(images, labels)):
                with open(os.path.join(work, split, folder(int(label)), f"{index:05d}.png"), "wb") as f:
                    f.write(png(tinted(image, int(label)) if args.tinted else image))
            print(f"{split}: {len(images)} images")
        os.rename(work, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
