#!/usr/bin/python3
"""Training throughput of `vae_cnn train` against the PyTorch reference (scripts/reference_train.py),
run side by side in one process tree: same data, batch, thread count and epochs, taking turns, several
repetitions. Contestants: vae_cnn built on Debian's LibTorch 1.13 (build/) and on PyPI's LibTorch 2.x
(build-torch2/, where built), and the reference under Debian's PyTorch 1.13 (/usr/bin/python3) and
under today's PyTorch (.venv-libtorch/, where installed). Prints images/s (median, min, max over
every epoch after the first of each run), ms per step, peak resident memory, the ratios of the
medians, and `vae_cnn plot`'s and `eval`'s wall time.

    /usr/bin/python3 scripts/benchmark.py [--data data/mnist] [--epochs 3] [--repeats 3] [--threads 2]

Only the standard library: the references import torch themselves.
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


def run_reference(python, args, seed):
    command = [python, os.path.join(ROOT, "scripts", "reference_train.py"), args.data,
               "--epochs", str(args.epochs), "--threads", str(args.threads), "--batch-size", str(args.batch_size),
               "--seed", str(seed)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    out, rss = timed(command)
    speeds = [float(m.group(1)) for m in re.finditer(r"images_per_second ([0-9.]+)", out)]
    return speeds[1:], rss


def describe(name, speeds, rss, batch):
    median = statistics.median(speeds)
    return (f"{name:<28} {median:9.0f} {min(speeds):9.0f} {max(speeds):9.0f} {1000.0 * batch / median:9.1f}"
            f" {rss:9.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=3, help="per run; the first is warm-up and not counted")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--binary", default=os.environ.get("VAE_CNN_BINARY", os.path.join(ROOT, "build", "vae_cnn")),
                        help="vae_cnn on LibTorch 1.13")
    parser.add_argument("--binary2", default=os.path.join(ROOT, "build-torch2", "vae_cnn"),
                        help="vae_cnn on LibTorch 2.x (left out where absent)")
    parser.add_argument("--python2", default=os.path.join(ROOT, ".venv-libtorch", "bin", "python"),
                        help="today's PyTorch for the reference (left out where absent)")
    parser.add_argument("--iw", type=int, default=10, help="importance samples for the eval figure")
    args = parser.parse_args()
    if args.epochs < 2:
        sys.exit("benchmark: --epochs must be at least 2 (the first is warm-up)")

    def version_of(python):
        out = subprocess.run([python, "-c", "import torch; print(torch.__version__)"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout.strip()
        return out.split("+")[0] or "?"

    # (label, kind, program): kind "ours" runs a vae_cnn binary, "reference" a Python with torch.
    contestants = [(f"vae_cnn, LibTorch {version_of('/usr/bin/python3')}", "ours", args.binary)]
    if os.path.exists(args.binary2):
        contestants.append((f"vae_cnn, LibTorch {version_of(args.python2)}", "ours", args.binary2))
    contestants.append((f"reference, PyTorch {version_of('/usr/bin/python3')}", "reference", "/usr/bin/python3"))
    if os.path.exists(args.python2):
        contestants.append((f"reference, PyTorch {version_of(args.python2)}", "reference", args.python2))
    speeds_of = {label: [] for label, _, _ in contestants}
    rss_of = {label: [] for label, _, _ in contestants}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            # Take turns in a rotating order so drifting machine load hits every contestant alike.
            shift = repeat % len(contestants)
            for index, (label, kind, program) in enumerate(contestants[shift:] + contestants[:shift]):
                if kind == "ours":
                    out = os.path.join(scratch, f"run{repeat}-{index}")
                    speeds, rss = run_vae_cnn(program, args, repeat + 1, out)
                    if program == args.binary and repeat == 0:
                        first_run = out
                else:
                    speeds, rss = run_reference(program, args, repeat + 1)
                speeds_of[label] += speeds
                rss_of[label].append(rss)
                print(f"  repeat {repeat + 1} {label:<28}: " + " ".join(f"{s:.0f}" for s in speeds) + " images/s",
                      flush=True)
        weights = [f for f in os.listdir(first_run) if f.startswith("vae_cnn.")][0]
        start = time.perf_counter()
        _, plot_rss = timed([args.binary, "plot", "-w", os.path.join(first_run, weights), "--data", args.data,
                             "--out", os.path.join(scratch, "plots")])
        plot_seconds = time.perf_counter() - start
        start = time.perf_counter()
        eval_out, eval_rss = timed([args.binary, "eval", "-w", os.path.join(first_run, weights), "--data",
                                    args.data, "--iw", str(args.iw)])
        eval_seconds = time.perf_counter() - start
        speed = re.search(r"([0-9.]+) images/s with K = ([0-9]+)", eval_out)
        eval_line = (f"vae_cnn eval (test split, K = {args.iw}): {speed.group(1) if speed else '?'} images/s, "
                     f"{eval_seconds:.2f} s wall for the whole process, peak {eval_rss:.0f} MiB")

    print(f"\n{args.repeats} runs each of {args.epochs} epochs (first excluded), batch {args.batch_size}, "
          f"{args.threads} threads, data {args.data}{f' (first {args.limit})' if args.limit else ''}")
    print(f"{'':<28} {'median':>9} {'min':>9} {'max':>9} {'ms/step':>9} {'peak MiB':>9}")
    for label, _, _ in contestants:
        print(describe(label, speeds_of[label], max(rss_of[label]), args.batch_size))
    medians = {label: statistics.median(speeds) for label, speeds in speeds_of.items()}
    for ours, kind, _ in contestants:
        if kind != "ours":
            continue
        for theirs, other_kind, _ in contestants:
            if other_kind == "reference":
                print(f"ratio {ours} / {theirs}: {medians[ours] / medians[theirs]:.2f}")
    print(f"vae_cnn plot: {plot_seconds:.2f} s wall, peak {plot_rss:.0f} MiB")
    print(eval_line)


if __name__ == "__main__":
    main()
