#!/usr/bin/env bash
# Whether two builds of vae_cnn compute the same thing: from the same seed the same weights, bit for
# bit, and from the same weights the same pictures. Each binary trains three short runs on the
# repository's digits (MSE; --bce; MSE stopped after epoch 2 and resumed to 3), then draws plot,
# decode and interpolate from each run's weights; AFTER also draws from BEFORE's weights.
# Compared: each weights file and every PNG byte for byte (sha256), and metrics.csv without its
# timing columns. Checkpoints are not compared as files: a build may record one more option in
# them; the weights they hold are in the weights files.
#   scripts/same_results.sh BEFORE_BINARY AFTER_BINARY [WORKDIR]
# Prints one line per compared file and a summary. Exit 0: all the same; 1: something differs;
# 2: a command failed (its output is in WORKDIR). WORKDIR (default: a new folder under /tmp) must
# be absent or empty, and is kept.
set -euo pipefail

usage() {
  echo "usage: scripts/same_results.sh BEFORE_BINARY AFTER_BINARY [WORKDIR]" >&2
  exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/data/mnist-sample"
dataset=$(basename "$data")  # the weights file is named after it
for binary in "$1" "$2"; do
  [ -x "$binary" ] || { echo "same_results: $binary is not an executable file" >&2; exit 2; }
done
before=$(realpath "$1")
after=$(realpath "$2")
work=${3:-$(mktemp -d /tmp/same_results.XXXXXX)}
if [ -e "$work" ] && [ -n "$(ls -A "$work")" ]; then
  echo "same_results: $work is not empty; name an empty or new folder" >&2
  exit 2
fi
mkdir -p "$work"
work=$(realpath "$work")

# A minute or two on two cores, yet ~190 steps: enough for digits to form, so that the pictures
# show the weights (after a few dozen steps every decoded digit is the same flat grey).
common=(--data "$data" --limit 2000 --batch-size 32 --threads 2 --device cpu --seed 7)
runs=(mse bce resumed)

# Runs one command of `binary`, its output kept in `log`; stops the script when it fails.
step() {
  local log=$1
  shift
  local code=0
  "$@" >"$log" 2>&1 || code=$?
  if [ "$code" -ne 0 ]; then
    echo "same_results: exit $code from: $* (output in $log)" >&2
    tail -n 5 "$log" >&2
    exit 2
  fi
}

train_runs() {
  local binary=$1 side=$2
  mkdir -p "$side/logs"
  step "$side/logs/train_mse.txt" "$binary" train "${common[@]}" --epochs 3 --out "$side/mse"
  step "$side/logs/train_bce.txt" "$binary" train "${common[@]}" --bce --epochs 3 --out "$side/bce"
  step "$side/logs/train_resumed_1.txt" "$binary" train "${common[@]}" --epochs 2 --out "$side/resumed"
  step "$side/logs/train_resumed_2.txt" "$binary" train --resume --out "$side/resumed" --epochs 3 --threads 2
}

# Draws the pictures of each run's weights found in `weights_side` into `side`.
draw_pictures() {
  local binary=$1 weights_side=$2 side=$3
  mkdir -p "$side/logs"
  for run in "${runs[@]}"; do
    local weights="$weights_side/$run/vae_cnn.$dataset.pt"
    step "$side/logs/plot_$run.txt" "$binary" plot -w "$weights" --data "$data" --out "$side/pictures/$run" --grid 15
    step "$side/logs/decode_$run.txt" "$binary" decode -w "$weights" -z 0.5,-1.25 -o "$side/pictures/$run/decode.png"
    step "$side/logs/interpolate_$run.txt" "$binary" interpolate -w "$weights" --data "$data" --from 3 --to 17 --steps 8 \
      -o "$side/pictures/$run/interpolate.png"
  done
}

same=0
different=0
# Prints whether `first` and `second` hold the same bytes, named by `label`.
compare() {
  local label=$1 first=$2 second=$3
  if [ ! -f "$first" ] || [ ! -f "$second" ]; then
    printf '%-9s %s (missing: %s)\n' DIFFERENT "$label" "$([ -f "$first" ] && echo "$second" || echo "$first")"
    different=$((different + 1))
  elif [ "$(sha256sum <"$first")" = "$(sha256sum <"$second")" ]; then
    printf '%-9s %s  sha256 %.16s\n' same "$label" "$(sha256sum <"$first")"
    same=$((same + 1))
  else
    printf '%-9s %s\n' DIFFERENT "$label"
    different=$((different + 1))
  fi
}

# metrics.csv without the columns that measure time (seconds, images_per_second).
untimed_metrics() {
  awk -F, -v OFS=, '
    NR == 1 { for (i = 1; i <= NF; i++) timed[i] = ($i == "seconds" || $i == "images_per_second") }
    { line = ""; for (i = 1; i <= NF; i++) if (!timed[i]) line = line (line == "" ? "" : OFS) $i; print line }
  ' "$1"
}

# Every PNG under either folder, by its path below the folder.
png_names() {
  (cd "$1" && find . -name '*.png' | sed 's|^\./||'
   cd "$2" && find . -name '*.png' | sed 's|^\./||') | sort -u
}

echo "before: $before ($("$before" --version))"
echo "after:  $after ($("$after" --version))"
echo "work:   $work"
start=$SECONDS
train_runs "$before" "$work/before"
draw_pictures "$before" "$work/before" "$work/before"
train_runs "$after" "$work/after"
draw_pictures "$after" "$work/after" "$work/after"
draw_pictures "$after" "$work/before" "$work/after_from_before_weights"
echo "trained and drew in $((SECONDS - start)) s"

for run in "${runs[@]}"; do
  compare "$run/vae_cnn.$dataset.pt" "$work/before/$run/vae_cnn.$dataset.pt" "$work/after/$run/vae_cnn.$dataset.pt"
  untimed_metrics "$work/before/$run/metrics.csv" >"$work/before/$run/metrics.untimed.csv"
  untimed_metrics "$work/after/$run/metrics.csv" >"$work/after/$run/metrics.untimed.csv"
  compare "$run/metrics.csv (without seconds, images_per_second)" \
    "$work/before/$run/metrics.untimed.csv" "$work/after/$run/metrics.untimed.csv"
done
while read -r name; do
  compare "pictures/$name" "$work/before/pictures/$name" "$work/after/pictures/$name"
done < <(png_names "$work/before/pictures" "$work/after/pictures")
while read -r name; do
  compare "pictures/$name, by after from before's weights" \
    "$work/before/pictures/$name" "$work/after_from_before_weights/pictures/$name"
done < <(png_names "$work/before/pictures" "$work/after_from_before_weights/pictures")

echo "summary: $((same + different)) files compared, $same the same, $different different"
[ "$different" -eq 0 ]
