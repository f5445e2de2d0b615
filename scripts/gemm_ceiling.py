#!/usr/bin/python3
"""What the CPU's GEMM gives for the decoder's products at their own shapes: the ceiling a
hand-written GEMM formulation of the transposed convolutions could reach (docs/benchmarks.md,
"Where a training step's time goes"). deconv2 is 64 -> 32 channels on 14x14 -> 28x28 at batch 128;
its weight gradient, forward pass and input gradient are each nine products, one per kernel tap, over
the batch's pixels padded to 15x15; deconv1's weight gradient likewise on 8x8. A 2048x2048 product
shows what the same library reaches on a large square one.

    .venv-libtorch/bin/python scripts/gemm_ceiling.py [--threads 2]   # MKL, LibTorch 2.11
    /usr/bin/python3 scripts/gemm_ceiling.py [--threads 2]            # OpenBLAS, PyTorch 1.13
"""
import argparse
import time

import torch


def milliseconds(work, repeats=20):
    for _ in range(3):
        work()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    return 1000.0 * (time.perf_counter() - start) / repeats


def report(name, ms, flops):
    print(f"  {name:<52} {ms:8.2f} ms  {flops / ms / 1e6:6.0f} GFLOP/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {args.threads} threads")
    side = 2048
    a, b = torch.randn(side, side), torch.randn(side, side)
    report(f"{side}x{side} by {side}x{side}", milliseconds(lambda: a @ b, 10), 2 * side ** 3)
    rows = 128 * 15 * 15  # deconv2's input pixels, padded
    x, grad_y = torch.randn(rows, 64), torch.randn(rows + 32, 32)
    tap_flops = 9 * 2 * rows * 64 * 32
    report(f"deconv2 weight gradient: 9 x (64x{rows} by {rows}x32)",
           milliseconds(lambda: [torch.mm(x.t(), grad_y.narrow(0, tap % 3, rows)) for tap in range(9)]), tap_flops)
    weight, y = torch.randn(64, 32), torch.empty(rows, 32)
    report(f"deconv2 forward: 9 x ({rows}x64 by 64x32), accumulated",
           milliseconds(lambda: [torch.addmm(y, x, weight, out=y) for _ in range(9)]), tap_flops)
    grad_x, weight_t, upstream = torch.empty(rows, 64), torch.randn(32, 64), torch.randn(rows, 32)
    report(f"deconv2 input gradient: 9 x ({rows}x32 by 32x64), accumulated",
           milliseconds(lambda: [torch.addmm(grad_x, upstream, weight_t, out=grad_x) for _ in range(9)]), tap_flops)
    rows1 = 128 * 8 * 8
    x1, grad_y1 = torch.randn(rows1, 64), torch.randn(rows1 + 16, 64)
    report(f"deconv1 weight gradient: 9 x (64x{rows1} by {rows1}x64)",
           milliseconds(lambda: [torch.mm(x1.t(), grad_y1.narrow(0, tap % 3, rows1)) for tap in range(9)]),
           9 * 2 * rows1 * 64 * 64)


if __name__ == "__main__":
    main()
