#!/usr/bin/python3
"""Data-parallel throughput: `vae_cnn train` as one process and as ranks of a c10d group, beside the
PyTorch reference (scripts/reference_train.py) as one process and as DistributedDataParallel ranks,
all run side by side in one process tree: same data, global batch, epochs and seeds, alternating,
several repetitions. The cores are never oversubscribed: one process gets every core as threads,
R ranks get cores/R threads each. Prints images/s (median, min, max over every epoch after the
first of each run), the ratios, and the peak resident memory of one process (the largest rank).

    /usr/bin/python3 scripts/benchmark_ranks.py [--data data/mnist-sample] [--ranks 2] [--epochs 4] [--repeats 3]

Ranks are started the way torchrun starts them, by their environment (WORLD_SIZE, RANK, LOCAL_RANK,
LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so that each rank's memory can be measured alone.
Only the standard library; the reference imports torch (Debian's python3-torch).
"""
import argparse
import csv
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(command, ranks, scratch):
    """Runs `command` as `ranks` ranks (one plain process when 1), each under /usr/bin/time;
    returns rank 0's stdout and the largest peak RSS of a rank in MiB."""
    port = free_port()
    children = []
    for rank in range(ranks):
        env = dict(os.environ)
        if ranks > 1:
            env.update(WORLD_SIZE=str(ranks), RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(ranks),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        rss_file = os.path.join(scratch, f"rss{rank}")
        children.append((subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] + command, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), rss_file))
    outputs = []
    for child, _ in children:
        out, err = child.communicate()
        if child.returncode != 0:
            sys.exit(f"benchmark: {' '.join(command)} failed ({child.returncode}): {err.strip()[-500:]}")
        outputs.append(out)
    peak = max(int(open(rss_file).read().split()[-1]) for _, rss_file in children) / 1024.0
    return outputs[0], peak


def run_vae_cnn(args, ranks, seed, scratch):
    out = os.path.join(scratch, f"vae_cnn_{ranks}_{seed}")
    command = [args.binary, "train", "--data", args.data, "--epochs", str(args.epochs), "--batch-size",
               str(args.batch_size), "--threads", str(args.cores // ranks), "--seed", str(seed), "--device", "cpu",
               "--out", out]
    if args.limit:
        command += ["--limit", str(args.limit)]
    _, rss = run_ranks(command, ranks, scratch)
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return [float(r["images_per_second"]) for r in rows[1:]], rss


def run_reference(args, ranks, seed, scratch):
    command = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "reference_train.py"), args.data,
               "--epochs", str(args.epochs), "--threads", str(args.cores // ranks), "--batch-size",
               str(args.batch_size), "--seed", str(seed)]
    if args.limit:
        command += ["--limit", str(args.limit)]
    out, rss = run_ranks(command, ranks, scratch)
    return [float(m.group(1)) for m in re.finditer(r"images_per_second ([0-9.]+)", out)][1:], rss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-sample"))
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--cores", type=int, default=os.cpu_count(), help="threads of one process; ranks share them")
    parser.add_argument("--epochs", type=int, default=4, help="per run; the first is warm-up and not counted")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--binary", default=os.environ.get("VAE_CNN_BINARY", os.path.join(ROOT, "build", "vae_cnn")))
    args = parser.parse_args()
    if args.epochs < 2:
        sys.exit("benchmark: --epochs must be at least 2 (the first is warm-up)")
    if args.cores % args.ranks:
        sys.exit(f"benchmark: {args.cores} cores do not split evenly over {args.ranks} ranks")

    runs = [("vae_cnn", 1), ("vae_cnn", args.ranks), ("reference", 1), ("reference", args.ranks)]
    speeds = {run: [] for run in runs}
    peaks = {run: [] for run in runs}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            # Rotate who goes first so drifting machine load hits every configuration alike.
            for who, ranks in runs[repeat % len(runs):] + runs[:repeat % len(runs)]:
                runner = run_vae_cnn if who == "vae_cnn" else run_reference
                epoch_speeds, rss = runner(args, ranks, repeat + 1, scratch)
                speeds[(who, ranks)] += epoch_speeds
                peaks[(who, ranks)].append(rss)
                print(f"  repeat {repeat + 1} {who:<9} x{ranks}: " + " ".join(f"{s:.0f}" for s in epoch_speeds) +
                      " images/s", flush=True)

    print(f"\n{args.repeats} runs each of {args.epochs} epochs (first excluded), global batch {args.batch_size}, "
          f"{args.cores} cores, data {args.data}{f' (first {args.limit})' if args.limit else ''}")
    print(f"{'':<42} {'median':>8} {'min':>8} {'max':>8} {'peak MiB':>9}")
    for who, ranks in runs:
        name = f"{'vae_cnn train' if who == 'vae_cnn' else 'PyTorch reference'}, " + (
            f"1 process x {args.cores} threads" if ranks == 1 else f"{ranks} ranks x {args.cores // ranks} threads")
        values = speeds[(who, ranks)]
        print(f"{name:<42} {statistics.median(values):8.0f} {min(values):8.0f} {max(values):8.0f} "
              f"{max(peaks[(who, ranks)]):9.0f}")
    median = {run: statistics.median(values) for run, values in speeds.items()}
    print(f"vae_cnn, {args.ranks} ranks / 1 process: {median[('vae_cnn', args.ranks)] / median[('vae_cnn', 1)]:.2f}")
    print(f"reference, {args.ranks} ranks / 1 process: "
          f"{median[('reference', args.ranks)] / median[('reference', 1)]:.2f}")
    print(f"vae_cnn / reference, {args.ranks} ranks: "
          f"{median[('vae_cnn', args.ranks)] / median[('reference', args.ranks)]:.2f}")


if __name__ == "__main__":
    main()
