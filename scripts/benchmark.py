#!/usr/bin/python3
"""Training throughput of `vae_cnn train` against the PyTorch reference (scripts/reference_train.py),
run side by side in one process tree: same data, batch, thread count and epochs, taking turns, several
repetitions. Contestants: vae_cnn built on Debian's LibTorch 1.13 (build/) and on PyPI's LibTorch 2.x
(build-torch2/, where built), and the reference under Debian's PyTorch 1.13 (/usr/bin/python3) and
under today's PyTorch (.venv-libtorch/, where installed). Prints images/s (median, min, max over
every epoch after the first of each run), ms per step, peak resident memory, the ratios of the
medians, and `vae_cnn plot`'s and `eval`'s wall time.

    /usr/bin/python3 scripts/benchmark.py [--data data/mnist] [--epochs 3] [--repeats 3] [--threads 2]
                                          [--device cpu|cuda] [--binary B] [--binary2 B] [--python P] [--python2 P]

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
    """Runs `command`; returns (stdout, its peak resident memory in MiB). os.wait4 gives the
    child's own rusage, so no /usr/bin/time is needed (the GPU machine has none)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"benchmark: {' '.join(command)} failed ({child.returncode}): {err.read().strip()[-500:]}")
        return out.read(), usage.ru_maxrss / 1024.0


def run_vae_cnn(binary, args, seed, out):
    command = [binary, "train", "--data", args.data, "--epochs", str(args.epochs), "--threads", str(args.threads),
               "--batch-size", str(args.batch_size), "--seed", str(seed), "--device", args.device, "--out", out]
    if args.limit:
        command += ["--limit", str(args.limit)]
    _, rss = timed(command)
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return [float(r["images_per_second"]) for r in rows[1:]], rss


def run_reference(python, args, seed):
    command = [python, os.path.join(ROOT, "scripts", "reference_train.py"), args.data,
               "--epochs", str(args.epochs), "--threads", str(args.threads), "--batch-size", str(args.batch_size),
               "--seed", str(seed), "--device", args.device]
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
                        help="vae_cnn on LibTorch 2.x")
    parser.add_argument("--python", default="/usr/bin/python3", help="PyTorch 1.13 for the reference")
    parser.add_argument("--python2", default=os.path.join(ROOT, ".venv-libtorch", "bin", "python"),
                        help="today's PyTorch for the reference")
    parser.add_argument("--device", default="cpu", help="cpu or cuda, for every contestant")
    parser.add_argument("--iw", type=int, default=10, help="importance samples for the eval figure")
    args = parser.parse_args()
    if args.epochs < 2:
        sys.exit("benchmark: --epochs must be at least 2 (the first is warm-up)")

    def output_of(command):
        try:
            return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        except OSError:
            return ""

    # (label, kind, program) of every contestant present: "ours" runs a vae_cnn binary, "reference"
    # a Python with torch. Absent ones (a build not made, a Python without torch) are left out.
    contestants = []
    for binary in (args.binary, args.binary2):
        version = re.search(r"LibTorch ([0-9.]+)", output_of([binary, "--version"]))
        if version and all(program != binary for _, _, program in contestants):
            contestants.append((f"vae_cnn, LibTorch {version.group(1)}", "ours", binary))
    for python in (args.python, args.python2):
        version = output_of([python, "-c", "import torch; print(torch.__version__)"]).strip().split("+")[0]
        if version:
            contestants.append((f"reference, PyTorch {version}", "reference", python))
    if not any(kind == "ours" for _, kind, _ in contestants) or not any(kind == "reference" for _, kind, _ in contestants):
        sys.exit("benchmark: needs a vae_cnn binary and a Python with torch; found: " +
                 (", ".join(label for label, _, _ in contestants) or "none"))
    first_binary = next(program for _, kind, program in contestants if kind == "ours")
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
                    if program == first_binary and repeat == 0:
                        first_run = out
                else:
                    speeds, rss = run_reference(program, args, repeat + 1)
                speeds_of[label] += speeds
                rss_of[label].append(rss)
                print(f"  repeat {repeat + 1} {label:<28}: " + " ".join(f"{s:.0f}" for s in speeds) + " images/s",
                      flush=True)
        weights = [f for f in os.listdir(first_run) if f.startswith("vae_cnn.")][0]
        start = time.perf_counter()
        _, plot_rss = timed([first_binary, "plot", "-w", os.path.join(first_run, weights), "--data", args.data,
                             "--out", os.path.join(scratch, "plots")])
        plot_seconds = time.perf_counter() - start
        start = time.perf_counter()
        eval_out, eval_rss = timed([first_binary, "eval", "-w", os.path.join(first_run, weights), "--data",
                                    args.data, "--iw", str(args.iw)])
        eval_seconds = time.perf_counter() - start
        speed = re.search(r"([0-9.]+) images/s with K = ([0-9]+)", eval_out)
        eval_line = (f"vae_cnn eval (test split, K = {args.iw}): {speed.group(1) if speed else '?'} images/s, "
                     f"{eval_seconds:.2f} s wall for the whole process, peak {eval_rss:.0f} MiB")

    print(f"\n{args.repeats} runs each of {args.epochs} epochs (first excluded), batch {args.batch_size}, "
          f"{args.threads} threads, device {args.device}, data {args.data}{f' (first {args.limit})' if args.limit else ''}")
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
