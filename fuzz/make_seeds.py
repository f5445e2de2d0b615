#!/usr/bin/env python3
"""Seeds for fuzz_idx_reader, cut from real IDX files: the first few images and labels of a data
folder, raw and gzip. Standard library only.

    python3 fuzz/make_seeds.py DATA_DIR OUT_DIR [--count 3]
"""
import argparse
import gzip
import os
import struct


def open_idx(data_dir, stem):
    """The raw file where there is one, else its gzip (as vae_cnn chooses)."""
    raw = os.path.join(data_dir, stem)
    return open(raw, "rb") if os.path.exists(raw) else gzip.open(raw + ".gz", "rb")


def cut(data_dir, stem, count, item_bytes, header_words):
    with open_idx(data_dir, stem) as f:
        header = f.read(4 * header_words)
        body = f.read(count * item_bytes)
    dims = list(struct.unpack(">" + "I" * (header_words - 1), header[4:]))
    dims[0] = count
    return header[:4] + struct.pack(">" + "I" * len(dims), *dims) + body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    seeds = {
        "images": cut(args.data_dir, "t10k-images-idx3-ubyte", args.count, 28 * 28, 4),
        "labels": cut(args.data_dir, "t10k-labels-idx1-ubyte", args.count, 1, 2),
    }
    for name, data in seeds.items():
        with open(os.path.join(args.out_dir, name + ".idx"), "wb") as f:
            f.write(data)
        with open(os.path.join(args.out_dir, name + ".idx.gz"), "wb") as f:
            f.write(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    main()
