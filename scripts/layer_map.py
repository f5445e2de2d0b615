#!/usr/bin/env python3
"""Which layer of src/ and include/vae_cnn/ includes which, from the #include lines, and whether any
include reaches a layer above its own (docs/DESIGN.md: "each depending only on those before it").

    python3 scripts/layer_map.py [--check]

Prints a matrix: one row per including layer, one column per included layer, the number of include
lines. With --check it exits 1 when an include goes upwards (lint.sh runs it so in CI). The build
enforces the same order (each layer a CMake library that sees only the headers below it); this
script says it in one line per include before a compiler does.
"""
import argparse
import collections
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# docs/DESIGN.md's order, VAE_CNN_LAYERS in CMakeLists.txt; files directly under include/vae_cnn/
# (errors, torch_api) belong to the base.
LAYERS = ["base", "io", "data", "kernels", "model", "serialize", "eval", "train", "render", "serve", "cli", "main"]
LEVEL = {name: index for index, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"vae_cnn/([^"]+)"', re.MULTILINE)


def layer_of(relative, loose="base"):
    """The layer of a path below src/ or include/vae_cnn/: its first folder; `loose` for a file at the top."""
    parts = relative.split("/")
    return parts[0] if len(parts) > 1 else loose


def sources():
    # At the top of src/ sits main.cpp, above everything; at the top of include/vae_cnn/ the base.
    for top, loose in (("src", "main"), (os.path.join("include", "vae_cnn"), "base")):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".cpp", ".hpp")):
                    path = os.path.join(folder, name)
                    yield path, layer_of(os.path.relpath(path, os.path.join(ROOT, top)), loose)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    counts = collections.Counter()
    upward = []
    for path, layer in sources():
        if layer not in LEVEL:
            sys.exit(f"layer_map: {os.path.relpath(path, ROOT)} is in no layer of docs/DESIGN.md")
        with open(path) as f:
            for included in INCLUDE.findall(f.read()):
                target = layer_of(included)
                counts[(layer, target)] += 1
                if LEVEL.get(target, 0) > LEVEL[layer]:
                    upward.append(f"{os.path.relpath(path, ROOT)} ({layer}) includes vae_cnn/{included} ({target})")
    present = [name for name in LAYERS if any(name in pair for pair in counts)]
    print("includes by layer (row includes column)")
    print(f"{'':>10}" + "".join(f"{name:>10}" for name in present))
    for row in present:
        print(f"{row:>10}" + "".join(f"{counts[(row, column)] or '.':>10}" for column in present))
    for line in upward:
        print("upward: " + line)
    if args.check and upward:
        sys.exit(f"layer_map: {len(upward)} include(s) reach a layer above their own")
    print(f"layer_map: {'no' if not upward else len(upward)} upward include(s)")


if __name__ == "__main__":
    main()
