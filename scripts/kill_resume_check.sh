#!/usr/bin/env bash
# Kills `vae_cnn train` with SIGKILL at random moments, resumes it each time, and checks that the
# finished run's metrics.csv lists epochs 1..N exactly once and every checkpoint stayed loadable.
# usage: scripts/kill_resume_check.sh [KILLS (6)] [EPOCHS (12)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vae_cnn="${VAE_CNN_BUILD_DIR:-$root/build}/vae_cnn"
kills=${1:-6}
epochs=${2:-12}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
train=("$vae_cnn" train --data "$root/data/mnist-sample" --limit 512 --batch-size 64 --seed 3 --epochs "$epochs" --out "$out")

for k in $(seq 1 "$kills"); do
  args=("${train[@]}")
  [ -f "$out/checkpoint.pt" ] && args+=(--resume)
  "${args[@]}" >"$out/stdout.$k" 2>"$out/stderr.$k" &
  pid=$!
  delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 2 + 5 * rand() }')
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  done_epochs=0
  [ -f "$out/metrics.csv" ] && done_epochs=$(($(wc -l <"$out/metrics.csv") - 1))
  if [ -f "$out/checkpoint.pt" ]; then
    # Any command that loads the checkpoint proves it whole; a resume to the same epoch is refused
    # with "nothing to resume" only after the file was read successfully.
    answer=$("$vae_cnn" train --resume "$out/checkpoint.pt" --epochs 1 2>&1 || true)
    case "$answer" in
      *"nothing to resume"*) ;;
      *) echo "kill $k: checkpoint not loadable: $answer"; exit 1 ;;
    esac
  fi
  echo "kill $k: SIGKILL after ${delay}s; checkpoint holds $done_epochs epoch(s)"
done

args=("${train[@]}")
[ -f "$out/checkpoint.pt" ] && args+=(--resume)
"${args[@]}" >"$out/stdout.final" 2>"$out/stderr.final"
expected=$(seq 1 "$epochs" | tr '\n' ' ')
found=$(tail -n +2 "$out/metrics.csv" | cut -d, -f1 | tr '\n' ' ')
echo "metrics.csv epochs: $found"
[ "$found" = "$expected" ] || { echo "FAIL: expected epochs $expected"; exit 1; }
echo "OK: $kills kills, run completed with epochs 1..$epochs once each"
