#!/usr/bin/env bash
# Runs each libFuzzer target (fuzz/) for a bounded time, seeded from real files, after replaying
# the inputs kept in fuzz/regressions/. Prints each target's executions and crashes; exits 1 on
# any crash, leaving the input in build-asan/fuzz-work/crashes/ (add it to fuzz/regressions/).
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${VAE_CNN_ASAN_BUILD_DIR:-$root/build-asan}"
seconds="${1:-60}"
targets=(idx_reader weights_loader weights_structure serve_api data_files)
for target in "${targets[@]}"; do
  [ -x "$build/fuzz/fuzz_$target" ] || { "$root/scripts/sanitize.sh" --build-only; break; }
done

work="$build/fuzz-work"
rm -rf "$work/crashes" "$work/seeds" "$work/model"
for target in "${targets[@]}"; do mkdir -p "$work/seeds/$target" "$work/corpus/$target"; done
mkdir -p "$work/crashes"
python3 "$root/fuzz/make_seeds.py" "$root/data/mnist-sample" "$work/seeds/idx_reader"
# A real weights file and checkpoint: one epoch on 64 real digits.
OMP_NUM_THREADS=1 "$root/build/vae_cnn" train --data "$root/data/mnist-sample" --limit 64 --epochs 1 --batch-size 32 \
  --threads 1 --seed 1 --out "$work/model" >/dev/null
cp "$work/model/vae_cnn.mnist-sample.pt" "$work/model/checkpoint.pt" "$work/seeds/weights_loader/"
cp "$work/model/vae_cnn.mnist-sample.pt" "$work/model/checkpoint.pt" "$work/seeds/weights_structure/"
# Requests as serve_api_fuzz.cpp reads them: method byte, raw path, NUL, raw query, NUL, body.
serve_seed() { printf "$2" >"$work/seeds/serve_api/$1"; }
serve_seed page '\000/\000\000'
serve_seed info '\000/api/info\000\000'
serve_seed latents '\000/api/latents\000\000'
serve_seed decode '\000/api/decode\000z=0.5%%2C-1&format=png\000'
serve_seed test '\000/api/test/7\000\000'
serve_seed line '\000/api/line\000from=0,0&to=1,1&steps=3\000'
serve_seed encode '\001/api/encode\000\000{"pixels": [0, 255, 12.5]}'

# Own data: a grey and a colour PNG, and a small Keras-style .npz and one of its .npy entries.
/usr/bin/python3 "$root/scripts/mnist_to_image_folder.py" --limit 1 --data "$root/data/mnist-sample" "$work/png" >/dev/null
/usr/bin/python3 "$root/scripts/mnist_to_image_folder.py" --tinted --limit 1 --data "$root/data/mnist-sample" \
  "$work/png-colour" >/dev/null
cp "$work/png/train/0/00000.png" "$work/seeds/data_files/grey.png"
cp "$work/png-colour/train/zero/00000.png" "$work/seeds/data_files/colour.png"
rm -rf "$work/png" "$work/png-colour"
/usr/bin/python3 - "$work/seeds/data_files" <<'PY'
import io, sys, zipfile
import numpy as np
x = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
y = np.array([0, 1], dtype=np.uint8)
np.savez_compressed(sys.argv[1] + "/small.npz", x_train=x, y_train=y, x_test=x, y_test=y)
np.savez(sys.argv[1] + "/stored.npz", x_train=x, y_train=y, x_test=x, y_test=y)
with zipfile.ZipFile(sys.argv[1] + "/stored.npz") as archive:
    open(sys.argv[1] + "/x_train.npy", "wb").write(archive.read("x_train.npy"))
PY

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for target in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$target"
  shopt -s nullglob
  regressions=("$root/fuzz/regressions/$target"/*)
  if [ ${#regressions[@]} -gt 0 ]; then
    "$binary" "${regressions[@]}" >"$work/$target.regressions.log" 2>&1 ||
      { echo "fuzz $target: a kept regression input crashes again (see $work/$target.regressions.log)"; failed=1; continue; }
  fi
  log="$work/$target.log"
  status=0
  OMP_NUM_THREADS=1 "$binary" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/$target-" "$work/corpus/$target" "$work/seeds/$target" >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$work/crashes" -name "$target-*" | wc -l)
  echo "fuzz $target: ${executions:-?} executions in ${seconds} s, $crashes crashes, corpus $(ls "$work/corpus/$target" | wc -l) inputs, ${#regressions[@]} regression inputs replayed"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    grep -m 3 -E "ERROR|runtime error|let through|deadly signal" "$log" || tail -5 "$log"
  fi
done
exit "$failed"
