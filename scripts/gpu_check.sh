#!/usr/bin/env bash
# The GPU check for a lent GPU machine (PyTorch 2.x with CUDA, CMake, nvcc and a compiler there; no
# Debian packages, no network).
#   scripts/gpu_check.sh pack    here: copies what the build needs from this machine's Debian
#                                packages (headers, a few small libraries, Graphviz's plugins, the
#                                font, Fashion-MNIST) into the ignored .gpu_carry/ (~40 MB)
#   scripts/gpu_check.sh run     there (the device tool's run, carrying .gpu_carry): builds vae_cnn
#                                against that machine's LibTorch into build-gpu/, runs the GPU tests
#                                and the whole suite, trains, evaluates, plots and serves with
#                                --device cuda, resumes, and compares bf16 with fp32 after 50 epochs
#                                at three seeds; a log and the figures go to $OUT (or gpu-check-out/)
#   scripts/gpu_check.sh bench   there, in a second call (each call has 10 minutes): the benchmark on
#                                Fashion-MNIST, batch 128 and 1,024, fp32 and bf16, vae_cnn (recorded
#                                step and --no-cuda-graph) against the PyTorch reference, eager and
#                                (batch 128, fp32) torch.compile; builds first where build-gpu/ is missing
# Both work here too, on the CPU, with the pip LibTorch (VAE_CNN_GPU_PYTHON=.venv-libtorch/bin/python;
# VAE_CNN_GPU_CHECK_EPOCHS=2 for short precision runs, VAE_CNN_GPU_CHECK_LIMIT=2048 and
# VAE_CNN_GPU_CHECK_REPEATS=1 for a short benchmark; VAE_CNN_GPU_BUILD=build-torch2 to use a build
# made already): that is how they are tested before a GPU machine is asked for.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
carry="$root/.gpu_carry"
multiarch=x86_64-linux-gnu

pack() {
  rm -rf "$carry"
  local inc="$carry/usr/include" lib="$carry/usr/lib/$multiarch"
  mkdir -p "$inc" "$lib/pkgconfig" "$lib/cmake" "$carry/usr/share/cmake" "$carry/bin" "$carry/fonts" \
           "$carry/data/fashion-mnist"
  local header
  for header in spdlog fmt cxxopts.hpp stb nlohmann gtest gmock graphviz gloo zlib.h zconf.h zip.h zipconf.h httplib.h expat.h expat_external.h; do
    cp -a "/usr/include/$header" "$inc/"
  done
    # The shared libraries that Debian's spdlog, fmt and Graphviz are, with what they need beyond
  # glibc and libstdc++; GoogleTest as Debian's static libraries.
  local name
  for name in libspdlog libfmt libgvc libcgraph libcdt libpathplan libxdot libltdl libexpat libz libzip libbz2 libcrypto libssl libcpp-httplib libbrotlicommon libbrotlidec libbrotlienc libpkgconf; do
    cp -a /usr/lib/$multiarch/$name.so* "$lib/"
  done
  cp -a /usr/lib/$multiarch/libgtest*.a /usr/lib/$multiarch/libgmock*.a "$lib/"
  mkdir -p "$lib/graphviz"
  cp -a /usr/lib/$multiarch/graphviz/libgvplugin_core.so* /usr/lib/$multiarch/graphviz/libgvplugin_dot_layout.so* \
        "$lib/graphviz/"
  # Graphviz finds its plugins through config6a: this machine's, cut to the two plugins carried.
  awk '/^libgvplugin_(core|dot_layout)\.so/ {keep = 1} /^libgvplugin_/ && !/^libgvplugin_(core|dot_layout)\.so/ {keep = 0}
       keep' /usr/lib/$multiarch/graphviz/config6a > "$lib/graphviz/config6a"
  cp -a /usr/lib/$multiarch/cmake/spdlog /usr/lib/$multiarch/cmake/fmt /usr/lib/$multiarch/cmake/GTest "$lib/cmake/"
  cp -a /usr/share/cmake/nlohmann_json "$carry/usr/share/cmake/"
  for name in libgvc libcgraph libcdt libpathplan libxdot zlib libzip expat cpp-httplib openssl libssl libcrypto libbrotlicommon libbrotlidec libbrotlienc; do
    [ -f "/usr/lib/$multiarch/pkgconfig/$name.pc" ] && cp "/usr/lib/$multiarch/pkgconfig/$name.pc" "$lib/pkgconfig/"
    [ -f "/usr/share/pkgconfig/$name.pc" ] && cp "/usr/share/pkgconfig/$name.pc" "$lib/pkgconfig/"
  done
  cp /usr/bin/pkgconf "$carry/bin/pkg-config"
  cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$carry/fonts/"
  cp -L "$root"/data/fashion-mnist/*.gz "$carry/data/fashion-mnist/"
  du -sh "$carry"
}

# What `run` and `bench` share: the carried files in place of /usr, the output folder and its log.
setup() {
  [ -d "$carry" ] || { echo "gpu_check: no .gpu_carry/; run 'scripts/gpu_check.sh pack' here first" >&2; exit 1; }
  out="${OUT:-$root/gpu-check-out}" build="${VAE_CNN_GPU_BUILD:-$root/build-gpu}" python=${VAE_CNN_GPU_PYTHON:-python3}
  mkdir -p "$out"
  exec > >(tee -a "$out/gpu_check.log") 2>&1
  local prefix="$carry/usr" lib="$carry/usr/lib/$multiarch"
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$carry" PATH="$carry/bin:$PATH"
  export GVBINDIR="$lib/graphviz" VAE_CNN_FONT="$carry/fonts/DejaVuSans.ttf"
  device=cpu
  "$python" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' && device=cuda
  echo "gpu_check $1: $(date -u +%FT%TZ) on $(hostname); $("$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")')"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
}

build_here() {
  local prefix="$carry/usr" torch_prefix start=$SECONDS
  torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix" \
    -DCXXOPTS_INCLUDE_DIR="$prefix/include" -DSTB_INCLUDE_DIR="$prefix/include/stb" \
    -DGLOO_INCLUDE_DIR="$prefix/include" -DZLIB_ROOT="$prefix" -DCMAKE_CXX_FLAGS="-isystem $prefix/include" \
    > "$out/cmake_configure.log" 2>&1 || { tail -n 30 "$out/cmake_configure.log"; exit 1; }
  cmake --build "$build" -j "$(nproc)" > "$out/build.log" 2>&1 || true
  grep -E "error|warning" "$out/build.log" | head -n 20 || true
  [ -x "$build/vae_cnn" ] || { echo "gpu_check: build failed" >&2; tail -n 30 "$out/build.log"; exit 1; }
  echo "gpu_check: built in $((SECONDS - start)) s: $("$build/vae_cnn" --version)"
}

# The test loss (reconstruction + KL, importance-weighted with K = 1) of a finished run.
test_loss() {
  "$build/vae_cnn" eval -w "$1" --device "$device" --iw 1 --json "$1.eval.json" >/dev/null 2>&1 &&
    "$python" -c 'import json, sys; print("%.3f" % json.load(open(sys.argv[1]))["loss"])' "$1.eval.json" ||
    echo "?"
}

run() {
  setup run
  if [ -n "${VAE_CNN_GPU_BUILD:-}" ]; then
    echo "gpu_check: using the build in $build (VAE_CNN_GPU_BUILD)"
  else
    build_here
  fi
  echo "gpu_check: the GPU tests (OnTheGpu.*, StepRecording.*):"
  "$build/tests/vae_cnn_unit_tests" --gtest_filter='OnTheGpu.*:StepRecording.*' 2>&1 | grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|Failure|Expected|Which is|error" || true
  echo "gpu_check: the whole suite:"
  # Not the two tests of the whole MNIST: data/mnist is made at set-up and not carried (no network there).
  (cd "$build" && ctest -j "$(nproc)" --output-on-failure -E '^(FullMnist|FetchData)$' > "$out/ctest.log" 2>&1
   tail -n 25 "$out/ctest.log") || true

  local work="$out/runs" sample="$root/data/mnist-sample"
  rm -rf "$work"
  mkdir -p "$work"
  echo "gpu_check: train/eval/plot/serve with --device $device"
  "$build/vae_cnn" train --data "$sample" --device "$device" --epochs 3 --seed 1 --out "$work/mnist" | tail -n 5
  "$build/vae_cnn" eval -w "$work/mnist/vae_cnn.mnist-sample.pt" --device "$device" --iw 100 2>&1 | tail -n 6 || true
  "$build/vae_cnn" plot -w "$work/mnist/vae_cnn.mnist-sample.pt" --device "$device" --out "$work/plots" | tail -n 2
  cp "$work/plots/digits_over_latent.png" "$out/" 2>/dev/null || true
  "$build/vae_cnn" serve -w "$work/mnist/vae_cnn.mnist-sample.pt" --device "$device" --port 0 > "$work/serve.out" 2>&1 &
  local server=$! port="" tries
  for tries in $(seq 1 100); do
    port=$(grep -oE 'http://[^:]+:[0-9]+' "$work/serve.out" | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.2
  done
  "$python" - "$port" <<'PY' || true
import sys, urllib.request
port = sys.argv[1]
for path in ("/api/info", "/api/latents", "/api/decode?z=0.5,-0.5", "/api/test/3"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as reply:
            print(f"  serve {path}: HTTP {reply.status}, {len(reply.read())} bytes")
    except Exception as error:  # noqa: BLE001 - a check script reports every failure and goes on
        print(f"  serve {path}: {error}")
PY
  kill -INT "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true

  "$build/vae_cnn" train --data "$sample" --device "$device" --epochs 5 --seed 1 --out "$work/straight" >/dev/null
  "$build/vae_cnn" train --data "$sample" --device "$device" --epochs 3 --seed 1 --out "$work/stopped" >/dev/null
  "$build/vae_cnn" train --device "$device" --epochs 5 --resume --out "$work/stopped" >/dev/null
  echo "gpu_check: resumed 3+2 vs straight 5 epochs (last metrics rows):"
  tail -n 1 "$work/straight/metrics.csv" "$work/stopped/metrics.csv"

  # bf16 against fp32 after the default 50 epochs on data/mnist-sample, per seed (targets: within 1 %).
  local epochs=${VAE_CNN_GPU_CHECK_EPOCHS:-50} seed precision
  echo "gpu_check: test loss after $epochs epochs, fp32 vs bf16 (data/mnist-sample, eval --iw 1)"
  echo "  seed  fp32      bf16      difference"
  for seed in 1 2 3; do
    for precision in fp32 bf16; do
      "$build/vae_cnn" train --data "$sample" --device "$device" --epochs "$epochs" --seed "$seed" --precision "$precision" \
        --out "$work/p_${precision}_$seed" >/dev/null
    done
    local fp32 bf16
    fp32=$(test_loss "$work/p_fp32_$seed/vae_cnn.mnist-sample.pt")
    bf16=$(test_loss "$work/p_bf16_$seed/vae_cnn.mnist-sample.pt")
    echo "  $seed     $fp32   $bf16   $("$python" -c "print(f'{100 * ($bf16 - $fp32) / $fp32:+.2f} %')" 2>/dev/null || echo ?)"
  done
}

bench() {
  setup bench
  [ -x "$build/vae_cnn" ] || build_here
  local batch precision limit=${VAE_CNN_GPU_CHECK_LIMIT:-0}
  echo "gpu_check: benchmark on $device, data/fashion-mnist"
  for batch in 128 1024; do
    for precision in fp32 bf16; do
      # torch.compile's compilation takes a minute per run: at batch 128 in fp32 only, to keep
      # the whole benchmark within one call.
      "$python" "$root/scripts/benchmark.py" --data "$carry/data/fashion-mnist" --device "$device" --epochs 3 \
        --repeats "${VAE_CNN_GPU_CHECK_REPEATS:-2}" --batch-size "$batch" --precisions "$precision" --eager-too \
        $([ "$precision$batch" = fp32128 ] || echo --no-compile) --binary "$build/vae_cnn" --binary2 /nonexistent \
        --python "$python" --python2 /nonexistent --threads 8 --limit "$limit" 2>&1 | grep -v "^  repeat"
    done
  done
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  bench) bench ;;
  *) echo "usage: scripts/gpu_check.sh pack|run|bench" >&2; exit 2 ;;
esac
