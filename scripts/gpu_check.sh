#!/usr/bin/env bash
# The GPU check for a lent GPU machine (PyTorch 2.x with CUDA, CMake, nvcc and a compiler there; no
# Debian packages, no network).
#   scripts/gpu_check.sh pack    here: copies what the build needs from this machine's Debian
#                                packages (headers, a few small libraries, Graphviz's plugins, the
#                                font, Fashion-MNIST) into the ignored .gpu_carry/ (~40 MB)
#   scripts/gpu_check.sh run     there (the device tool's run, carrying .gpu_carry): builds vae_cnn
#                                against that machine's LibTorch into build-gpu/, runs the whole
#                                suite, trains, evaluates and plots with --device cuda, then the GPU
#                                benchmark against the PyTorch reference; a log and the figures go
#                                to $OUT (or gpu-check-out/)
# `run` works here too, on the CPU, with the pip LibTorch (VAE_CNN_GPU_PYTHON=.venv-libtorch/bin/python,
# VAE_CNN_GPU_CHECK_LIMIT=2048 to benchmark on that many images): that is how it is tested before a
# GPU machine is asked for.
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

run() {
  [ -d "$carry" ] || { echo "gpu_check: no .gpu_carry/; run 'scripts/gpu_check.sh pack' here first" >&2; exit 1; }
  local out="${OUT:-$root/gpu-check-out}" build="$root/build-gpu" python=${VAE_CNN_GPU_PYTHON:-python3}
  mkdir -p "$out"
  exec > >(tee "$out/gpu_check.log") 2>&1
  # Carried files stand in for /usr: the pkg-config files and the library folders point there.
  local prefix="$carry/usr" lib="$carry/usr/lib/$multiarch"
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$carry" PATH="$carry/bin:$PATH"
  export GVBINDIR="$lib/graphviz" VAE_CNN_FONT="$carry/fonts/DejaVuSans.ttf"
  echo "gpu_check: $(date -u +%FT%TZ) on $(hostname); $("$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")')"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
  local torch_prefix
  torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  local start=$SECONDS
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix" \
    -DCXXOPTS_INCLUDE_DIR="$prefix/include" -DSTB_INCLUDE_DIR="$prefix/include/stb" \
    -DGLOO_INCLUDE_DIR="$prefix/include" -DZLIB_ROOT="$prefix" -DCMAKE_CXX_FLAGS="-isystem $prefix/include" \
    > "$out/cmake_configure.log" 2>&1 || { tail -n 30 "$out/cmake_configure.log"; exit 1; }
  cmake --build "$build" -j "$(nproc)" 2>&1 | grep -E "error|warning|Built target vae_cnn$" || true
  [ -x "$build/vae_cnn" ] || { echo "gpu_check: build failed" >&2; exit 1; }
  echo "gpu_check: built in $((SECONDS - start)) s: $("$build/vae_cnn" --version)"
  (cd "$build" && ctest -j 8 --output-on-failure 2>&1 | tail -n 40) || true

  local device=cpu
  "$python" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' && device=cuda
  local work="$out/runs"
  rm -rf "$work"
  mkdir -p "$work"
  echo "gpu_check: train/eval/plot/encode with --device $device"
  "$build/vae_cnn" train --device "$device" --epochs 3 --seed 1 --out "$work/mnist" | tail -n 4
  "$build/vae_cnn" eval -w "$work/mnist/vae_cnn.mnist.pt" --device "$device" --iw 100 2>&1 | tail -n 6 || true
  "$build/vae_cnn" plot -w "$work/mnist/vae_cnn.mnist.pt" --device "$device" --out "$work/plots" | tail -n 2
  "$build/vae_cnn" train --device "$device" --epochs 5 --seed 1 --out "$work/resumed" >/dev/null
  "$build/vae_cnn" train --device "$device" --epochs 3 --seed 1 --out "$work/stopped" >/dev/null
  "$build/vae_cnn" train --device "$device" --epochs 5 --resume --out "$work/stopped" >/dev/null
  echo "gpu_check: resumed 3+2 vs straight 5 epochs (last metrics rows):"
  tail -n 1 "$work/resumed/metrics.csv" "$work/stopped/metrics.csv"
  cp "$work/plots/digits_over_latent.png" "$out/" 2>/dev/null || true

  echo "gpu_check: benchmark on $device, data/fashion-mnist (60,000 images)"
  for batch in 128 1024; do
    "$python" "$root/scripts/benchmark.py" --data "$carry/data/fashion-mnist" --device "$device" --epochs 3 \
      --repeats 2 --batch-size "$batch" --binary "$build/vae_cnn" --binary2 /nonexistent --python "$python" \
      --python2 /nonexistent --threads 8 --limit "${VAE_CNN_GPU_CHECK_LIMIT:-0}"
  done
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: scripts/gpu_check.sh pack|run" >&2; exit 2 ;;
esac
