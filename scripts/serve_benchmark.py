#!/usr/bin/env python3
"""Load on `vae_cnn serve`: C clients at once, each sending R decode requests over one keep-alive
connection to random latent points; prints the decode latency (median, p99) and requests per
second, and fails (exit 1) on any error, wrong answer or crash.

    python3 scripts/serve_benchmark.py [-w WEIGHTS] [--data DIR] [--clients 8] [--requests 500]
                                       [--binary build/vae_cnn]

Without -w it first trains a small model of its own (one epoch on 512 digits, in a temporary
folder): the figures are about serving, and a decode costs the same whatever the weights.
Starts the server itself on a free port and stops it with Ctrl-C (it must exit 130). Only the
standard library.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def client(port, requests, seed, latencies, errors):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    generator = random.Random(seed)
    for _ in range(requests):
        z = f"{generator.uniform(-4, 4):.4f},{generator.uniform(-4, 4):.4f}"
        started = time.perf_counter()
        try:
            connection.request("GET", "/api/decode?z=" + z)
            response = connection.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            pixels = json.loads(body)["pixels"] if response.status == 200 else None
            if pixels is None or len(pixels) != 784:
                errors.append(f"status {response.status}: {body[:100]!r}")
            else:
                latencies.append(elapsed)
        except (OSError, http.client.HTTPException, ValueError) as error:
            errors.append(repr(error))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-w", "--weights")
    parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "vae_cnn"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if not args.weights:
            subprocess.run([args.binary, "train", "--data", args.data, "--limit", "512", "--epochs", "1",
                            "--seed", "1", "--out", scratch], check=True, stdout=subprocess.DEVNULL)
            args.weights = os.path.join(scratch, "vae_cnn." + os.path.basename(os.path.normpath(args.data)) + ".pt")
        sys.exit(benchmark(args))


def benchmark(args):
    server = subprocess.Popen([args.binary, "serve", "-w", args.weights, "--data", args.data, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", server.stdout.readline())
    if not match:
        server.kill()
        print("serve_benchmark: the server did not start: " + server.stderr.read(), file=sys.stderr)
        return 1
    port = int(match.group(1))

    # One request alone first: the latency of a single user, nothing else running.
    alone = []
    client(port, 200, 0, alone, [])
    latencies, errors = [], []
    threads = [threading.Thread(target=client, args=(port, args.requests, seed + 1, latencies, errors))
               for seed in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server.send_signal(signal.SIGINT)
    code = server.wait(timeout=30)

    def ms(values, q):
        return 1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")
    print(f"decode, one client alone:  median {1000 * statistics.median(alone):.2f} ms, p99 {ms(alone, 99):.2f} ms "
          f"({len(alone)} requests)")
    total = args.clients * args.requests
    print(f"decode, {args.clients} clients x {args.requests}: median {1000 * statistics.median(latencies):.2f} ms, "
          f"p99 {ms(latencies, 99):.2f} ms, {len(latencies) / elapsed:.0f} requests/s, "
          f"{len(errors)} errors of {total}; server exit {code}")
    for error in errors[:5]:
        print("  error:", error)
    return 0 if not errors and code == 130 and len(latencies) == total else 1


if __name__ == "__main__":
    main()
