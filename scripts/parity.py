#!/usr/bin/python3
"""Final test loss of `vae_cnn train` against the PyTorch reference (scripts/reference_train.py --validate)
over several seeds: same data, split, model, loss, optimizer, batch and epochs; one thread per side, the
two sides of a seed running at the same time on a 2-core machine.

    /usr/bin/python3 scripts/parity.py [--data data/mnist] [--epochs 50] [--seeds 1 2 3] [--bce]
                                       [--work DIR] [--binary build/vae_cnn]

A seed gives both sides the same initial weights, shuffles and ε (`vae_cnn train --seed S` draws its
random numbers in the reference's order), so a pair differs only by rounding, which a 50-epoch run
amplifies: the final losses of a 2-D VAE are chaotic in the seed, hence several seeds. Prints one row per
seed (test loss = reconstruction + KL, and the difference), then the means. Runs already finished in
--work are read back, not repeated, so the script can be stopped and started again.

Only the standard library: the reference itself imports torch (Debian's python3-torch).
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ours_command(args, seed, out):
    command = [args.binary, "train", "--data", args.data, "--epochs", str(args.epochs), "--threads", "1",
               "--seed", str(seed), "--device", "cpu", "--out", out]
    return command + (["--bce"] if args.bce else [])


def reference_command(args, seed):
    command = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "reference_train.py"), args.data,
               "--epochs", str(args.epochs), "--threads", "1", "--seed", str(seed), "--validate"]
    return command + (["--bce"] if args.bce else [])


def ours_result(out, epochs):
    """(test loss, reconstruction, KL) of the last epoch in metrics.csv, or None if the run is unfinished."""
    try:
        with open(os.path.join(out, "metrics.csv")) as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return None
    if not rows or int(rows[-1]["epoch"]) != epochs:
        return None
    last = rows[-1]
    return float(last["val_loss"]), float(last["val_reconstruction"]), float(last["val_kl"])


def reference_result(log, epochs):
    try:
        with open(log) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    pattern = rf"^epoch {epochs} .* val_loss (\S+) val_reconstruction (\S+) val_kl (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return tuple(float(v) for v in match.groups()) if match else None


def run_seed(args, seed):
    """Both sides of one seed at once; returns (ours, reference) results."""
    tag = f"{'bce' if args.bce else 'mse'}_seed{seed}"
    out = os.path.join(args.work, f"ours_{tag}")
    log = os.path.join(args.work, f"reference_{tag}.log")
    running = []
    if ours_result(out, args.epochs) is None:
        # A fresh run: an unfinished one could resume, but then its random stream would not pair up.
        subprocess.run(["rm", "-rf", out], check=True)
        running.append(("vae_cnn", subprocess.Popen(ours_command(args, seed, out), stdout=subprocess.DEVNULL,
                                                    stderr=open(out + ".err", "w"))))
    if reference_result(log, args.epochs) is None:
        running.append(("reference", subprocess.Popen(reference_command(args, seed), stdout=open(log, "w"),
                                                      stderr=subprocess.STDOUT)))
    for name, process in running:
        if process.wait() != 0:
            sys.exit(f"parity: {name} failed at seed {seed} (exit {process.returncode}); see {args.work}")
    return ours_result(out, args.epochs), reference_result(log, args.epochs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--bce", action="store_true")
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "parity"))
    parser.add_argument("--binary", default=os.environ.get("VAE_CNN_BINARY", os.path.join(ROOT, "build", "vae_cnn")))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)

    loss = "BCE" if args.bce else "MSE"
    print(f"{loss}, {args.epochs} epochs, batch 128, Adam 1e-3, one thread per side, data {args.data}")
    print(f"{'seed':>6} {'vae_cnn test = rec + KL':>28} {'reference test = rec + KL':>28} {'difference':>11}")
    ours_losses, reference_losses = [], []
    for seed in args.seeds:
        ours, reference = run_seed(args, seed)
        ours_losses.append(ours[0])
        reference_losses.append(reference[0])
        print(f"{seed:>6} {ours[0]:10.3f} = {ours[1]:7.3f} + {ours[2]:5.3f} {reference[0]:10.3f} = {reference[1]:7.3f}"
              f" + {reference[2]:5.3f} {ours[0] - reference[0]:+11.3f}", flush=True)
    ours_mean, reference_mean = statistics.mean(ours_losses), statistics.mean(reference_losses)
    print(f"{'mean':>6} {ours_mean:10.3f} {'':17} {reference_mean:10.3f} {'':17} {ours_mean - reference_mean:+11.3f}")
    if len(args.seeds) > 1:
        print(f"{'stdev':>6} {statistics.stdev(ours_losses):10.3f} {'':17} {statistics.stdev(reference_losses):10.3f}")
    print(f"{'median':>6} {statistics.median(ours_losses):10.3f} {'':17} {statistics.median(reference_losses):10.3f}")


if __name__ == "__main__":
    main()
