#!/usr/bin/python3
"""Training throughput of `vae_cnn train` against the PyTorch reference (scripts/reference_train.py),
run side by side in one process tree: same data, batch, thread count and epochs, taking turns, several
repetitions. Contestants: vae_cnn built on Debian's LibTorch 1.13 (build/) and on PyPI's LibTorch 2.x
(build-torch2/, where built), and the reference under Debian's PyTorch 1.13 (/usr/bin/python3) and
under today's PyTorch (.venv-libtorch/, where installed). Prints images/s (median, min, max over
every epoch after the first of each run), seconds per epoch, ms per step, peak resident memory (on a
GPU also the process's peak GPU memory as nvidia-smi reports it), the ratios of the medians, and
`vae_cnn plot`'s and `eval`'s wall time.

    /usr/bin/python3 scripts/benchmark.py [--data data/mnist-sample] [--epochs 3] [--repeats 3] [--threads 2]
                                          [--device cpu|cuda] [--binary B] [--binary2 B] [--python P] [--python2 P]
                                          [--precisions fp32,bf16] [--no-compile] [--eager-too]

The field (issue "Twice today's PyTorch"): each vae_cnn build in every precision of --precisions;
today's PyTorch eager and under torch.compile, each in every precision (bf16 = autocast); PyTorch
1.13 eager in fp32 only (its CPU autocast gave no speed-up). The summary names the fastest PyTorch
2.x configuration and every vae_cnn contestant's ratio to it. --no-compile leaves torch.compile out
(its start-up costs tens of seconds per run); --eager-too adds vae_cnn with --no-cuda-graph (with
the first binary).

Only the standard library: the references import torch themselves.
"""
import argparse
import csv
import gzip
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu_info import cpu_description  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class GpuMemoryWatch:
    """The most GPU memory nvidia-smi reports for one process, polled every 50 ms while it runs
    (its CUDA context included, for every contestant alike); None without nvidia-smi."""

    def __init__(self, pid):
        self.pid, self.peak = pid, None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True) if shutil.which("nvidia-smi") else None
        if self.thread:
            self.thread.start()

    def poll(self):
        while not self.done.wait(0.05):
            try:
                out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=5).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            for line in out.splitlines():
                fields = [field.strip() for field in line.split(",")]
                if len(fields) == 2 and fields[0] == str(self.pid) and fields[1].isdigit():
                    self.peak = max(self.peak or 0, int(fields[1]))

    def stop(self):
        self.done.set()
        if self.thread:
            self.thread.join()
        return self.peak


def timed(command, watch_gpu=False):
    """Runs `command`; returns (stdout, its peak resident memory in MiB, its peak GPU memory in MiB
    where watch_gpu and nvidia-smi tell, else None). os.wait4 gives the child's own rusage, so
    no /usr/bin/time is needed (the GPU machine has none)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        watch = GpuMemoryWatch(child.pid) if watch_gpu else None
        _, status, usage = os.wait4(child.pid, 0)
        gpu_peak = watch.stop() if watch else None
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"benchmark: {' '.join(command)} failed ({child.returncode}): {err.read().strip()[-500:]}")
        return out.read(), usage.ru_maxrss / 1024.0, gpu_peak


def training_images(args):
    """Images per epoch: the IDX header's count, or --limit below it."""
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"):
        path = os.path.join(args.data, name)
        if os.path.exists(path):
            with (gzip.open if name.endswith(".gz") else open)(path, "rb") as f:
                count = struct.unpack(">II", f.read(8))[1]
            return min(count, args.limit) if args.limit else count
    sys.exit(f"benchmark: no train-images-idx3-ubyte[.gz] in {args.data}")


def run_vae_cnn(binary, extra, args, seed, out):
    command = [binary, "train", "--data", args.data, "--epochs", str(args.epochs), "--threads", str(args.threads),
               "--batch-size", str(args.batch_size), "--seed", str(seed), "--device", args.device, "--out", out] + extra
    if args.limit:
        command += ["--limit", str(args.limit)]
    _, rss, gpu = timed(command, watch_gpu=args.device.startswith("cuda"))
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return [float(r["images_per_second"]) for r in rows[1:]], rss, gpu


def run_reference(python, extra, args, seed):
    command = [python, os.path.join(ROOT, "scripts", "reference_train.py"), args.data,
               "--epochs", str(args.epochs), "--threads", str(args.threads), "--batch-size", str(args.batch_size),
               "--seed", str(seed), "--device", args.device] + extra
    if args.limit:
        command += ["--limit", str(args.limit)]
    out, rss, gpu = timed(command, watch_gpu=args.device.startswith("cuda"))
    speeds = [float(m.group(1)) for m in re.finditer(r"images_per_second ([0-9.]+)", out)]
    return speeds[1:], rss, gpu


def describe(name, speeds, rss, gpu, batch, images):
    median = statistics.median(speeds)
    return (f"{name:<44} {median:9.0f} {min(speeds):9.0f} {max(speeds):9.0f} {images / median:9.3f}"
            f" {1000.0 * batch / median:9.2f} {rss:9.0f} {'-' if gpu is None else f'{gpu:.0f}':>9}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-sample"))
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
    parser.add_argument("--precisions", default="fp32,bf16",
                        help="comma-separated, of fp32 and bf16: each vae_cnn build and today's PyTorch run in each")
    parser.add_argument("--no-compile", action="store_true", help="leave today's PyTorch under torch.compile out")
    parser.add_argument("--eager-too", action="store_true", help="also vae_cnn with --no-cuda-graph")
    args = parser.parse_args()
    if args.epochs < 2:
        sys.exit("benchmark: --epochs must be at least 2 (the first is warm-up)")

    def output_of(command):
        try:
            return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        except OSError:
            return ""

    precisions = [p for p in args.precisions.split(",") if p]
    if not precisions or any(p not in ("fp32", "bf16") for p in precisions):
        sys.exit(f"benchmark: --precisions {args.precisions!r}: expected fp32, bf16 or both, comma-separated")
    # (label, kind, program, extra arguments) of every contestant present: "ours" runs a vae_cnn
    # binary, "reference" a Python with torch. Absent ones (a build not made, a Python without
    # torch) are left out. fp32 is every program's default, so it adds no argument (older copies of
    # the reference know no --precision).
    def precision_arguments(precision):
        return [] if precision == "fp32" else ["--precision", precision]

    contestants = []
    binaries = []
    for binary in (args.binary, args.binary2):
        version = re.search(r"LibTorch ([0-9.]+)", output_of([binary, "--version"]))
        if version and binary not in binaries:
            binaries.append(binary)
            for precision in precisions:
                contestants.append((f"vae_cnn, LibTorch {version.group(1)}, {precision}", "ours", binary,
                                    precision_arguments(precision)))
    for python in dict.fromkeys((args.python, args.python2)):
        version = output_of([python, "-c", "import torch; print(torch.__version__)"]).strip().split("+")[0]
        if not version:
            continue
        today = int(version.split(".")[0]) >= 2  # by version, not by option: a GPU machine has only 2.x
        for compiled in ([False, True] if today and not args.no_compile else [False]):
            for precision in (precisions if today else ["fp32"]):
                label = f"PyTorch {version}, {'torch.compile' if compiled else 'eager'}, {precision}"
                contestants.append((label, "reference" if not today else "today", python,
                                    (["--compile"] if compiled else []) + precision_arguments(precision)))
    if not binaries or not any(kind != "ours" for _, kind, _, _ in contestants):
        sys.exit("benchmark: needs a vae_cnn binary and a Python with torch; found: " +
                 (", ".join(label for label, _, _, _ in contestants) or "none"))
    first_binary = binaries[0]
    if args.eager_too:
        label = next(label for label, _, program, _ in contestants if program == first_binary)
        contestants.append((f"{label}, --no-cuda-graph", "ours", first_binary, ["--no-cuda-graph"]))
    images = training_images(args)
    speeds_of = {label: [] for label, _, _, _ in contestants}
    rss_of = {label: [] for label, _, _, _ in contestants}
    gpu_of = {label: [] for label, _, _, _ in contestants}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            # Take turns in a rotating order so drifting machine load hits every contestant alike.
            shift = repeat % len(contestants)
            for index, (label, kind, program, extra) in enumerate(contestants[shift:] + contestants[:shift]):
                if kind == "ours":
                    out = os.path.join(scratch, f"run{repeat}-{index}")
                    speeds, rss, gpu = run_vae_cnn(program, extra, args, repeat + 1, out)
                    if label == contestants[0][0] and repeat == 0:
                        first_run = out  # plot and eval below use these weights
                else:
                    speeds, rss, gpu = run_reference(program, extra, args, repeat + 1)
                speeds_of[label] += speeds
                rss_of[label].append(rss)
                if gpu is not None:
                    gpu_of[label].append(gpu)
                print(f"  repeat {repeat + 1} {label:<44}: " + " ".join(f"{s:.0f}" for s in speeds) + " images/s",
                      flush=True)
        weights = [f for f in os.listdir(first_run) if f.startswith("vae_cnn.")][0]
        start = time.perf_counter()
        _, plot_rss, _ = timed([first_binary, "plot", "-w", os.path.join(first_run, weights), "--data", args.data,
                             "--out", os.path.join(scratch, "plots")])
        plot_seconds = time.perf_counter() - start
        start = time.perf_counter()
        eval_out, eval_rss, _ = timed([first_binary, "eval", "-w", os.path.join(first_run, weights), "--data",
                                    args.data, "--iw", str(args.iw)])
        eval_seconds = time.perf_counter() - start
        speed = re.search(r"([0-9.]+) images/s with K = ([0-9]+)", eval_out)
        eval_line = (f"vae_cnn eval (test split, K = {args.iw}): {speed.group(1) if speed else '?'} images/s, "
                     f"{eval_seconds:.2f} s wall for the whole process, peak {eval_rss:.0f} MiB")

    print(f"\n{cpu_description()}; {args.repeats} runs each of {args.epochs} epochs (first excluded), batch "
          f"{args.batch_size}, {args.threads} threads, device {args.device}, data {args.data} ({images} images"
          f"{f', first {args.limit}' if args.limit else ''})")
    print(f"{'images/s':<44} {'median':>9} {'min':>9} {'max':>9} {'s/epoch':>9} {'ms/step':>9} {'peak MiB':>9}"
          f" {'GPU MiB':>9}")
    for label, _, _, _ in contestants:
        print(describe(label, speeds_of[label], max(rss_of[label]), max(gpu_of[label], default=None),
                       args.batch_size, images))
    medians = {label: statistics.median(speeds) for label, speeds in speeds_of.items()}
    today = [label for label, kind, _, _ in contestants if kind == "today"]
    older = [label for label, kind, _, _ in contestants if kind == "reference"]
    for name, field in (("today's PyTorch", today), ("PyTorch 1.13", older)):
        if not field:
            continue
        best = max(field, key=lambda label: medians[label])
        print(f"the fastest {name}: {best}, {medians[best]:.0f} images/s")
        for ours, kind, _, _ in contestants:
            if kind == "ours":
                print(f"  ratio {ours} / it: {medians[ours] / medians[best]:.2f}")
    print(f"vae_cnn plot: {plot_seconds:.2f} s wall, peak {plot_rss:.0f} MiB")
    print(eval_line)


if __name__ == "__main__":
    main()
