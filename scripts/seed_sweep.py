#!/usr/bin/env python3
"""How often `vae_cnn train` ends with a dead encoder, and the test loss it reaches, over many seeds:
N seeds x configurations (default: the plain command and `--init torch`), one thread per run, --jobs
runs at once.

    python3 scripts/seed_sweep.py [--seeds 20] [--epochs 50] [--bce] [--jobs 2] [--work DIR]
                                  [--config NAME=ARGS ...] [--binary build/vae_cnn] [--data data/mnist-sample]

Each run writes into WORK/<loss>_<config>_seed<S>. The script can be stopped and started again: a
finished run is read back, a killed one continues from its checkpoint (`train --resume` is exact), so
a stop costs at most one epoch per run. After training, `vae_cnn eval --json` gives the figures:
test loss = reconstruction + KL, and the encoder's health (hidden units alive, z_mean spread; dead
when no unit fires or z_mean spreads by less than 0.01).

Every finished run's figures are also appended to --results (measurements/seed_sweep.csv, kept in
git), which is read first: a sweep of a hundred CPU-hours goes on across machines and sessions, and
the tables of docs/seed-sweeps.md can be checked against it. --report-only prints what is there
without training.

Prints one row per seed and, per configuration, the median and quartiles of the test loss, the
number of dead encoders and of those left with at most 2 of their 16 hidden units. Only the standard library.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIGS = ["default=", "torch=--init torch"]


def parse_config(text):
    name, sep, extra = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"--config wants NAME=ARGS (NAME a plain word), got {text!r}")
    return name, shlex.split(extra)


def run_dir(args, config, seed):
    return os.path.join(args.work, f"{'bce' if args.bce else 'mse'}_{config}_seed{seed}")


def read_result(out):
    """The eval figures of a finished run, or None."""
    try:
        with open(os.path.join(out, "eval.json")) as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def finished_epochs(out):
    try:
        with open(os.path.join(out, "metrics.csv")) as f:
            return max(0, sum(1 for line in f if line.strip()) - 1)
    except FileNotFoundError:
        return 0


RESULT_FIELDS = ["loss_kind", "config", "args", "seed", "epochs", "loss", "reconstruction", "kl",
                 "hidden_units_alive", "hidden_units", "encoder_uses_input"]


def key_of(args, config, seed):
    return ("bce" if args.bce else "mse", config, str(seed), str(args.epochs))


def read_recorded(path):
    """{(loss_kind, config, seed, epochs): figures} of the runs recorded in the results file."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return {}
    recorded = {}
    for row in rows:
        recorded[(row["loss_kind"], row["config"], row["seed"], row["epochs"])] = {
            "loss": float(row["loss"]), "reconstruction": float(row["reconstruction"]), "kl": float(row["kl"]),
            "hidden_units_alive": int(row["hidden_units_alive"]), "hidden_units": int(row["hidden_units"]),
            "encoder_uses_input": row["encoder_uses_input"] == "true"}
    return recorded


RECORD_LOCK = threading.Lock()


def record(args, config, extra, seed, result):
    with RECORD_LOCK:
        new = not os.path.exists(args.results)
        os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
        with open(args.results, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS)
            if new:
                writer.writeheader()
            loss_kind, _, _, _ = key_of(args, config, seed)
            writer.writerow({"loss_kind": loss_kind, "config": config, "args": " ".join(extra), "seed": seed,
                             "epochs": args.epochs, "loss": f"{result['loss']:.6f}",
                             "reconstruction": f"{result['reconstruction']:.6f}", "kl": f"{result['kl']:.6f}",
                             "hidden_units_alive": result["hidden_units_alive"], "hidden_units": result["hidden_units"],
                             "encoder_uses_input": "true" if result["encoder_uses_input"] else "false"})


def run_one(args, config, extra, seed, recorded):
    if key_of(args, config, seed) in recorded:
        return recorded[key_of(args, config, seed)]
    out = run_dir(args, config, seed)
    result = read_result(out)
    if result is not None and result["weights"]["epochs"] == args.epochs:
        record(args, config, extra, seed, result)
        return result
    if args.report_only:
        return None
    common = ["--epochs", str(args.epochs), "--threads", "1", "--device", "cpu"]
    checkpoint = os.path.join(out, "checkpoint.pt")
    if finished_epochs(out) < args.epochs:
        if os.path.exists(checkpoint):
            command = [args.binary, "train", "--resume", checkpoint] + common
        else:
            command = [args.binary, "train", "--data", args.data, "--seed", str(seed), "--out", out] + common + extra
            command += ["--bce"] if args.bce else []
        with open(out + ".out", "a") as log:
            if subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed; see {out}.out")
    weights = [name for name in os.listdir(out) if name.startswith("vae_cnn.") and name.endswith(".pt")]
    evaluation = [args.binary, "eval", "-w", os.path.join(out, weights[0]), "--data", args.data, "--iw", "1",
                  "--json", os.path.join(out, "eval.json")]
    subprocess.run(evaluation, stdout=subprocess.DEVNULL, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    result = read_result(out)
    record(args, config, extra, seed, result)
    return result


def quartiles(values):
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 1..N")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--bce", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--config", type=parse_config, action="append",
                        help="NAME=EXTRA TRAIN ARGS; default: " + " ".join(DEFAULT_CONFIGS))
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-sample"))
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "seed_sweep"))
    parser.add_argument("--results", default=os.path.join(ROOT, "measurements", "seed_sweep.csv"),
                        help="CSV of finished runs, read first and appended to")
    parser.add_argument("--report-only", action="store_true", help="train nothing; report the runs finished")
    parser.add_argument("--binary", default=os.environ.get("VAE_CNN_BINARY", os.path.join(ROOT, "build", "vae_cnn")))
    args = parser.parse_args()
    configs = args.config or [parse_config(c) for c in DEFAULT_CONFIGS]
    os.makedirs(args.work, exist_ok=True)
    seeds = list(range(1, args.seeds + 1))

    print(f"{'BCE' if args.bce else 'MSE'}, {args.epochs} epochs, {len(seeds)} seeds, data {args.data}, "
          f"{args.binary}; " + "; ".join(f"{name}: train {' '.join(extra) or '(no options)'}" for name, extra in configs),
          flush=True)
    results = {}
    recorded = read_recorded(args.results)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_one, args, name, extra, seed, recorded): (name, seed)
                   for seed in seeds for name, extra in configs}
        for future in concurrent.futures.as_completed(futures):
            try:
                results[futures[future]] = future.result()
            except (RuntimeError, subprocess.CalledProcessError) as error:
                sys.exit(f"seed_sweep: {error}")

    header = f"{'seed':>4}" + "".join(f" | {name + ': test = rec + KL':>30} {'alive':>5} {'dead':>4}" for name, _ in configs)
    print(header)
    for seed in seeds:
        row = f"{seed:>4}"
        for name, _ in configs:
            r = results.get((name, seed))
            if r is None:
                row += f" | {'(not run yet)':>30} {'':>5} {'':>4}"
                continue
            dead = "DEAD" if not r["encoder_uses_input"] else ""
            row += (f" | {r['loss']:12.3f} = {r['reconstruction']:8.3f} + {r['kl']:5.3f}"
                    f" {r['hidden_units_alive']:>2}/{r['hidden_units']:<2} {dead:>4}")
        print(row)
    print(f"{'config':>10} {'median':>9} {'q1':>9} {'q3':>9} {'dead':>6} {'<=2 alive':>10} {'alive':>6}   (test loss over seeds; median units alive)")
    for name, _ in configs:
        done = [results[(name, seed)] for seed in seeds if results.get((name, seed)) is not None]
        losses = [r["loss"] for r in done]
        dead = sum(not r["encoder_uses_input"] for r in done)
        # Alive but starved: one or two hidden units left carry the code, and the loss shows it.
        few = sum(r["hidden_units_alive"] <= 2 for r in done)
        q1, median, q3 = quartiles(losses)
        alive = statistics.median(r["hidden_units_alive"] for r in done) if done else float("nan")
        print(f"{name:>10} {median:9.3f} {q1:9.3f} {q3:9.3f} {dead:>3}/{len(done)} {few:>7}/{len(done)} {alive:6g}"
              + ("" if len(done) == len(seeds) else f"   ({len(done)} of {len(seeds)} seeds run)"))


if __name__ == "__main__":
    main()
