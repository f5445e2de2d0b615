#!/usr/bin/python3
"""`vae_cnn train` against the PyTorch reference (scripts/reference_train.py --validate), per seed and
loss: final test loss, the encoder's health and the seconds per epoch. Same data, split, model, loss,
optimizer, batch and epochs; one thread per run, --jobs runs at once.

    /usr/bin/python3 scripts/parity.py [--data data/mnist] [--epochs 50] [--seeds 1 2 3 4 5]
                                       [--losses mse bce | --bce] [--jobs 2] [--limit N]
                                       [--work build/parity] [--results FILE] [--report-only]
                                       [--binary build/vae_cnn]

A seed gives both sides the same initial weights, shuffles and ε (`vae_cnn train --seed S` draws its
random numbers in the reference's order), so a pair differs only by rounding, which a 50-epoch run
amplifies: the final losses are chaotic in the seed, hence several seeds.

Every (program, loss, seed) run is one job of a queue that --jobs workers take in turn (two on a
2-core machine), so no core waits for the other side of a seed. Per run:
  test loss    reconstruction + KL on the test split after the last epoch, the same ε on both sides
               (vae_cnn: `eval --json`, which is the last row of metrics.csv at full precision;
               reference: its last --validate epoch line);
  encoder      hidden units alive of 16 and the class: dead (no unit fires or z_mean spreads by less
               than 0.01 over the test images), starved (at most 2 units alive), else healthy
               (vae_cnn: `eval --json`; reference: its "encoder alive" line, same definitions);
  s/epoch      median training-pass seconds of epochs 2..N (metrics.csv's `seconds`, the reference's
               `seconds`; epoch 1 alone when N is 1).

Stoppable (Ctrl-C or SIGTERM stops the runs under way, as does the end of a session) and restartable:
a run finished in --work is read back, an unfinished one continues from its last epoch (vae_cnn's
--resume, the reference's --checkpoint: both restore the weights, Adam and the random generators, so
the run ends as one never stopped would); `starts` counts how many times it was started, and its
s/epoch then mixes the loads of those sessions. Every finished run is appended to --results
(measurements/parity_full_mnist.csv, kept in git) with the data set, CPU and commit; the file is read
first, so a sweep goes on across sessions and machines. --report-only prints what is there without
training. Only the standard library: the reference itself imports torch (Debian's python3-torch).
"""
import argparse
import concurrent.futures
import csv
import datetime
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu_info import cpu_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = ("vae_cnn", "reference")
DEAD_SPREAD = 0.01  # kDeadEncoderSpread, include/vae_cnn/model/encoder_health.hpp
STARVED_ALIVE = 2   # as scripts/seed_sweep.py counts starved encoders
RESULT_FIELDS = ["program", "loss", "seed", "epochs", "data", "train_images", "test_images", "test_loss",
                 "reconstruction", "kl", "units_alive", "hidden_units", "z_mean_spread", "class",
                 "seconds_per_epoch", "threads", "starts", "cpu", "commit", "date"]
KEY_FIELDS = ("program", "loss", "seed", "epochs", "data", "train_images", "test_images")


class Stopped(Exception):
    """The sweep was asked to stop: the run under way was ended, not finished."""


STOPPING = threading.Event()
RUNNING = set()
LOCK = threading.Lock()  # RUNNING and the results file


# ---- the data set, the machine and the commit ------------------------------------------------------

def idx_count(directory, stem):
    """The number of images an IDX file holds (its header), or None if it is missing."""
    for name, opener in ((stem, open), (stem + ".gz", gzip.open)):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                return struct.unpack(">II", f.read(8))[1]
    return None


def data_sizes(args):
    """(train images used, test images) as strings, or None where the folder is missing."""
    train, test = idx_count(args.data, "train-images-idx3-ubyte"), idx_count(args.data, "t10k-images-idx3-ubyte")
    if train is None or test is None:
        return None
    return str(min(train, args.limit) if args.limit else train), str(test)


def data_label(path):
    """The data folder as recorded: relative to the repository when inside it, so machines agree."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def commit():
    """HEAD of this repository, '+dirty' when the sources the two programs are built from differ from it
    (a binary built from another state than the checkout's cannot be told apart)."""
    def git(*words):
        return subprocess.run(["git", "-C", ROOT, *words], capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "src", "include", "cmake", "CMakeLists.txt",
                  "scripts/reference_train.py", "scripts/vae_cnn_model.py")
    return head + ("+dirty" if changed else "")


# ---- the results file ------------------------------------------------------------------------------

def read_recorded(path):
    """{key: row} of the runs recorded in the results file; a later row of a key wins."""
    try:
        with open(path, newline="") as f:
            return {tuple(row[k] for k in KEY_FIELDS): row for row in csv.DictReader(f)}
    except FileNotFoundError:
        return {}


def record(path, row):
    with LOCK:
        new = not os.path.exists(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)


# ---- one run -----------------------------------------------------------------------------------------

def job_dir(args, program, loss, seed):
    return os.path.join(args.work, f"{loss}_seed{seed}_{program}")


def train_options(args, loss, seed):
    options = ["--epochs", str(args.epochs), "--threads", "1", "--seed", str(seed)]
    return options + (["--bce"] if loss == "bce" else []) + (["--limit", str(args.limit)] if args.limit else [])


def job_command(args, program, loss, seed):
    if program == "vae_cnn":
        out = os.path.join(job_dir(args, program, loss, seed), "run")
        command = [args.binary, "train", "--data", args.data, "--device", "cpu", "--out", out]
        return command + train_options(args, loss, seed)
    checkpoint = os.path.join(job_dir(args, program, loss, seed), "reference.ckpt")
    return (["/usr/bin/python3", os.path.join(ROOT, "scripts", "reference_train.py"), args.data, "--validate",
             "--checkpoint", checkpoint] + train_options(args, loss, seed))


def median_seconds(seconds):
    return statistics.median(seconds[1:] or seconds)


def health_class(alive, spread):
    if alive == 0 or spread < DEAD_SPREAD:
        return "dead"
    return "starved" if alive <= STARVED_ALIVE else "healthy"


def figures(loss, rec, kl, alive, units, spread, seconds):
    return {"test_loss": f"{loss:.6f}", "reconstruction": f"{rec:.6f}", "kl": f"{kl:.6f}", "units_alive": str(alive),
            "hidden_units": str(units), "z_mean_spread": f"{spread:.6g}", "class": health_class(alive, spread),
            "seconds_per_epoch": f"{median_seconds(seconds):.3f}"}


def vae_cnn_figures(directory, epochs):
    """The figures of a finished vae_cnn run, or None."""
    try:
        with open(os.path.join(directory, "run", "metrics.csv")) as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(directory, "eval.json")) as f:
            health = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if len(rows) != epochs or int(rows[-1]["epoch"]) != epochs or health["weights"]["epochs"] != epochs:
        return None
    # eval's loss is training's validation of the final weights (the same ε), at full precision.
    return figures(health["loss"], health["reconstruction"], health["kl"], health["hidden_units_alive"],
                   health["hidden_units"], health["z_mean_spread"], [float(row["seconds"]) for row in rows])


def reference_figures(directory, epochs):
    """The figures of a finished reference run (its log), or None."""
    try:
        with open(os.path.join(directory, "reference.log")) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    # An epoch run again after a stop is printed again: its last line counts, as does the last health line.
    lines = {int(e): line for e, line in re.findall(r"^epoch (\d+) (.*)$", text, re.MULTILINE)}
    if sorted(lines) != list(range(1, epochs + 1)):
        return None
    seconds = [float(re.search(r" seconds (\S+) ", lines[epoch])[1]) for epoch in range(1, epochs + 1)]
    last = re.search(r" val_loss (\S+) val_reconstruction (\S+) val_kl (\S+)", lines[epochs])
    health = re.findall(r"^encoder alive (\d+)/(\d+) z_mean_spread (\S+)$", text, re.MULTILINE)
    if not last or not health:
        return None
    alive, units, spread = health[-1]
    return figures(*(float(v) for v in last.groups()), int(alive), int(units), float(spread), seconds)


def finished_figures(args, program, loss, seed):
    """The figures of a run finished in --work by the command this sweep would run, or None."""
    directory = job_dir(args, program, loss, seed)
    try:
        with open(os.path.join(directory, "command.json")) as f:
            if json.load(f) != job_command(args, program, loss, seed):
                return None
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    read = vae_cnn_figures if program == "vae_cnn" else reference_figures
    return read(directory, args.epochs)


def run_logged(command, log, env=None):
    """Runs `command` with its output in `log`; Stopped when the sweep stops meanwhile."""
    with LOCK:
        if STOPPING.is_set():
            raise Stopped()
        with open(log, "a") as f:
            process = subprocess.Popen(command, stdout=f, stderr=subprocess.STDOUT, env=env)
        RUNNING.add(process)
    process.wait()
    with LOCK:
        RUNNING.discard(process)
    if STOPPING.is_set():
        raise Stopped()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {process.returncode}); see {log}")


def starts(directory):
    try:
        with open(os.path.join(directory, "starts")) as f:
            return int(f.read())
    except (FileNotFoundError, ValueError):
        return 0


def train(args, program, loss, seed):
    # A 50-epoch pair takes longer than a session, so an unfinished run started by the same command goes
    # on from its checkpoint: both programs restore every generator, so the draws stay those of one
    # uninterrupted run from the seed (tests/reference_checkpoint_test.sh, and vae_cnn's resume tests).
    directory = job_dir(args, program, loss, seed)
    command = job_command(args, program, loss, seed)
    checkpoint = (os.path.join(directory, "run", "checkpoint.pt") if program == "vae_cnn"
                  else os.path.join(directory, "reference.ckpt"))
    try:
        with open(os.path.join(directory, "command.json")) as f:
            same_command = json.load(f) == command
    except (FileNotFoundError, json.JSONDecodeError):
        same_command = False
    resume = same_command and os.path.exists(checkpoint)
    if not resume:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        with open(os.path.join(directory, "command.json"), "w") as f:
            json.dump(command, f)
    started = starts(directory) + 1  # read before "w" empties the file
    with open(os.path.join(directory, "starts"), "w") as f:
        f.write(str(started))
    log = os.path.join(directory, "train.out" if program == "vae_cnn" else "reference.log")
    run_logged(command + (["--resume"] if resume and program == "vae_cnn" else []), log)
    if program == "vae_cnn":
        out = os.path.join(directory, "run")
        weights = [name for name in os.listdir(out) if name.startswith("vae_cnn.") and name.endswith(".pt")]
        evaluation = [args.binary, "eval", "-w", os.path.join(out, weights[0]), "--data", args.data, "--iw", "1",
                      "--json", os.path.join(directory, "eval.json")]
        run_logged(evaluation, os.path.join(directory, "eval.out"), dict(os.environ, OMP_NUM_THREADS="1"))


def run_job(args, setting, program, loss, seed):
    """The recorded row of one run: from the results file, read back from --work, or trained now."""
    key = dict(setting, program=program, loss=loss, seed=str(seed))
    row = args.recorded.get(tuple(key[k] for k in KEY_FIELDS))
    if row is not None or args.report_only:
        return row
    found = finished_figures(args, program, loss, seed)
    if found is None:
        train(args, program, loss, seed)
        found = finished_figures(args, program, loss, seed)
        if found is None:
            where = job_dir(args, program, loss, seed)
            raise RuntimeError(f"{program} {loss} seed {seed} ended without its figures; see {where}")
    started = max(1, starts(job_dir(args, program, loss, seed)))
    row = dict(key, **found, threads="1", starts=str(started), cpu=args.cpu, commit=args.commit,
               date=datetime.date.today().isoformat())
    record(args.results, row)
    print(f"finished {program} {loss} seed {seed}: test loss {row['test_loss']}, {row['units_alive']}/"
          f"{row['hidden_units']} alive, {row['seconds_per_epoch']} s/epoch", flush=True)
    return row


# ---- the sweep and the report ------------------------------------------------------------------------

def stop_runs(signum=None, frame=None):
    with LOCK:
        STOPPING.set()
        for process in RUNNING:
            process.terminate()
    if signum is not None:
        raise KeyboardInterrupt


def report_row(args, rows, loss, seed):
    line = f"{loss:>4} {seed:>4}"
    for program in PROGRAMS:
        r = rows.get((program, loss, seed))
        if r is None:
            line += f" | {'(not run yet)':>29} {'':22}"
            continue
        line += (f" | {float(r['test_loss']):10.3f} = {float(r['reconstruction']):8.3f} + {float(r['kl']):5.3f}"
                 f" {r['units_alive']:>2}/{r['hidden_units']:<2} {r['class']:>7}"
                 f" {float(r['seconds_per_epoch']):7.2f}")
    both = [rows.get((program, loss, seed)) for program in PROGRAMS]
    if all(both):
        line += f" | {float(both[0]['test_loss']) - float(both[1]['test_loss']):+8.3f}"
    print(line)


def summarise(rows, loss, program, seeds):
    done = [rows[(program, loss, seed)] for seed in seeds if (program, loss, seed) in rows]
    if not done:
        print(f"{loss:>4} {program:>9}   (no run finished)")
        return None
    median = statistics.median(float(r["test_loss"]) for r in done)
    dead = sum(r["class"] == "dead" for r in done)
    starved = sum(r["class"] == "starved" for r in done)
    seconds = statistics.median(float(r["seconds_per_epoch"]) for r in done)
    print(f"{loss:>4} {program:>9} {median:10.3f} {dead:>3}/{len(done)} {starved:>5}/{len(done)} {seconds:9.2f}"
          + ("" if len(done) == len(seeds) else f"   ({len(done)} of {len(seeds)} seeds run)"))
    return median


def report(args, rows):
    print(f"{'loss':>4} {'seed':>4}" + "".join(f" | {name + ': test = rec + KL':>29} {'alive':>5} "
                                               f"{'class':>7} {'s/epoch':>7}" for name in PROGRAMS) + " | difference")
    for loss in args.losses:
        for seed in args.seeds:
            report_row(args, rows, loss, seed)
    print(f"{'loss':>4} {'program':>9} {'median':>10} {'dead':>6} {'starved':>7} {'s/epoch':>9}"
          "   (over seeds: median test loss, median seconds per epoch)")
    for loss in args.losses:
        medians = [summarise(rows, loss, program, args.seeds) for program in PROGRAMS]
        if None not in medians:
            verdict = "yes" if medians[0] <= medians[1] else "no"
            print(f"{loss:>4} vae_cnn median test loss <= reference's: {verdict} ({medians[0] - medians[1]:+.4f})")
    machines = sorted({(r["cpu"], r["commit"]) for r in rows.values()})
    for cpu, built in machines:
        print(f"measured on {cpu}, commit {built}")


def sweep(args, setting):
    """{(program, loss, seed): row} of the runs finished, training the missing ones --jobs at a time."""
    jobs = [(program, loss, seed) for loss in args.losses for seed in args.seeds for program in PROGRAMS]
    rows = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_job, args, setting, *job): job for job in jobs}
        try:
            for future in concurrent.futures.as_completed(futures):
                row = future.result()
                if row is not None:
                    rows[futures[future]] = row
        except KeyboardInterrupt:
            stop_runs()
            pool.shutdown(wait=True, cancel_futures=True)
            sys.exit(f"parity: stopped; the finished runs are in {args.results}: run it again to go on")
        except (RuntimeError, OSError, IndexError) as error:
            print(f"parity: {error}; no new run starts, the ones under way finish", file=sys.stderr, flush=True)
            pool.shutdown(wait=True, cancel_futures=True)
            sys.exit(1)
    return rows


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--losses", nargs="+", choices=["mse", "bce"], default=["mse", "bce"])
    parser.add_argument("--bce", action="store_true", help="the same as --losses bce")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one thread each")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N training images (trials)")
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "parity"))
    parser.add_argument("--results", default=os.path.join(ROOT, "measurements", "parity_full_mnist.csv"),
                        help="CSV of finished runs, read first and appended to")
    parser.add_argument("--report-only", action="store_true", help="train nothing; report the runs recorded")
    parser.add_argument("--binary", default=os.environ.get("VAE_CNN_BINARY", os.path.join(ROOT, "build", "vae_cnn")))
    args = parser.parse_args()
    if args.bce:
        args.losses = ["bce"]
    return args


def main():
    args = parse_args()
    sizes = data_sizes(args)
    if sizes is None and not args.report_only:
        sys.exit(f"parity: {args.data} lacks its IDX files (scripts/fetch_data.sh makes data/mnist)")
    setting = dict(epochs=str(args.epochs), data=data_label(args.data), train_images="?", test_images="?")
    args.recorded = read_recorded(args.results)
    if sizes is None:  # --report-only without the data folder: the latest rows of that folder, whatever their sizes
        args.recorded = {key[:5] + ("?", "?"): row for key, row in args.recorded.items()}
    else:
        setting.update(train_images=sizes[0], test_images=sizes[1])
    args.cpu, args.commit = cpu_model(), commit()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # SIGINT too where a shell started it ignored
        signal.signal(stop_signal, stop_runs)
    print(f"{' and '.join(args.losses).upper()}, {args.epochs} epochs, seeds {' '.join(map(str, args.seeds))}, "
          f"data {setting['data']} ({setting['train_images']} train, {setting['test_images']} test images), "
          f"batch 128, Adam 1e-3, one thread per run, {args.jobs} at once; {args.binary}; {args.cpu}", flush=True)
    if not args.report_only:
        os.makedirs(args.work, exist_ok=True)
    report(args, sweep(args, setting))


if __name__ == "__main__":
    main()
