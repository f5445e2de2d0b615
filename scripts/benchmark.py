#!/usr/bin/python3
"""Training throughput of `vae_cnn train` against the PyTorch reference (scripts/reference_train.py),
run side by side in one process tree: same data, batch, thread count and epochs, alternating, several
repetitions. Prints images/s (median, min, max over every epoch after the first of each run), the
ratio of the medians, ms per step, each side's peak resident memory, and `vae_cnn plot`'s wall time.

    /usr/bin/python3 scripts/benchmark.py [--data data/mnist] [--epochs 3] [--repeats 3] [--threads 2]

Only the standard library: the reference itself imports torch (Debian's python3-torch).
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command):
    """Runs `command` under /usr/bin/time; returns (stdout, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + command,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            sys.exit(f"benchmark: {' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
        return result.stdout, int(rss.read().split()[-1]) / 1024.0


def run_vae_cnn(binary, args, seed, out):
    command = [binary, "train", "--data", args.data, "--epochs", str(args.epochs), "--threads", str(args.threads),
               "--batch-size", str(args.batch_size), "--seed", str(seed), "--device", "cpu", "--out", out]
    if args.limit:
        command += ["--limit", str(args.limit)]
    _, rss = timed(command)
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return [float(r["images_per_second"]) for r in rows[1:]], rss


def run_reference(args, seed):
    command = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "reference_train.py"), args.data,
               "--epochs", str(args.epochs), "--threads", str(args.threads), "--batch-size", str(args.batch_size),
               "--seed", str(seed)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    out, rss = timed(command)
    speeds = [float(m.group(1)) for m in re.finditer(r"images_per_second ([0-9.]+)", out)]
    return speeds[1:], rss


def describe(name, speeds, rss, batch):
    median = statistics.median(speeds)
    return (f"{name:<22} {median:9.0f} {min(speeds):9.0f} {max(speeds):9.0f} {1000.0 * batch / median:9.1f}"
            f" {rss:9.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=3, help="per run; the first is warm-up and not counted")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--binary", default=os.environ.get("VAE_CNN_BINARY", os.path.join(ROOT, "build", "vae_cnn")))
    parser.add_argument("--iw", type=int, default=10, help="importance samples for the eval figure")
    args = parser.parse_args()
    if args.epochs < 2:
        sys.exit("benchmark: --epochs must be at least 2 (the first is warm-up)")

    ours, theirs, our_rss, their_rss = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            # Alternate who goes first so drifting machine load hits both alike.
            order = ["ours", "reference"] if repeat % 2 == 0 else ["reference", "ours"]
            for who in order:
                if who == "ours":
                    speeds, rss = run_vae_cnn(args.binary, args, repeat + 1, os.path.join(scratch, f"run{repeat}"))
                    ours += speeds
                    our_rss.append(rss)
                else:
                    speeds, rss = run_reference(args, repeat + 1)
                    theirs += speeds
                    their_rss.append(rss)
                print(f"  repeat {repeat + 1} {who:<9}: " + " ".join(f"{s:.0f}" for s in speeds) + " images/s",
                      flush=True)
        weights = [f for f in os.listdir(os.path.join(scratch, "run0")) if f.startswith("vae_cnn.")][0]
        start = time.perf_counter()
        _, plot_rss = timed([args.binary, "plot", "-w", os.path.join(scratch, "run0", weights), "--data", args.data,
                             "--out", os.path.join(scratch, "plots")])
        plot_seconds = time.perf_counter() - start
        # Builds without `eval` say so instead of failing the benchmark.
        eval_run = subprocess.run([args.binary, "eval", "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eval_line = "vae_cnn eval: not in this build"
        if eval_run.returncode == 0:
            start = time.perf_counter()
            eval_out, eval_rss = timed([args.binary, "eval", "-w", os.path.join(scratch, "run0", weights), "--data",
                                        args.data, "--iw", str(args.iw)])
            eval_seconds = time.perf_counter() - start
            speed = re.search(r"([0-9.]+) images/s with K = ([0-9]+)", eval_out)
            eval_line = (f"vae_cnn eval (test split, K = {args.iw}): {speed.group(1) if speed else '?'} images/s, "
                         f"{eval_seconds:.2f} s wall for the whole process, peak {eval_rss:.0f} MiB")

    print(f"\n{args.repeats} runs each of {args.epochs} epochs (first excluded), batch {args.batch_size}, "
          f"{args.threads} threads, data {args.data}{f' (first {args.limit})' if args.limit else ''}")
    print(f"{'':<22} {'median':>9} {'min':>9} {'max':>9} {'ms/step':>9} {'peak MiB':>9}")
    print(describe("vae_cnn train", ours, max(our_rss), args.batch_size))
    print(describe("PyTorch reference", theirs, max(their_rss), args.batch_size))
    print(f"ratio (median images/s): {statistics.median(ours) / statistics.median(theirs):.2f}")
    print(f"vae_cnn plot: {plot_seconds:.2f} s wall, peak {plot_rss:.0f} MiB")
    print(eval_line)


if __name__ == "__main__":
    main()
