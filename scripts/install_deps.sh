#!/usr/bin/env bash
# Installs every Debian package vae_cnn needs to build, test, link its data and plot.
# Idempotent: packages already present are reported and skipped. Needs root or sudo.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libtorch-dev            # LibTorch 1.13.1 (CPU)
  libopenblas0-openmp     # the reference BLAS makes transposed convolutions ~8x slower
  libdnnl-dev             # oneDNN, the convolution backend LibTorch uses
  libgloo-dev             # headers behind LibTorch's c10d ProcessGroupGloo
  libgraphviz-dev         # Graphviz's dot layout for the model diagrams of `plot`
  libcxxopts-dev libspdlog-dev libstb-dev zlib1g-dev
  nlohmann-json3-dev      # the JSON report of `eval`
  libgtest-dev
  clang-14 libclang-rt-14-dev libfuzzer-14-dev   # sanitizer build and fuzz targets (scripts/sanitize.sh, fuzz.sh)
  cppcheck                # static analysis (scripts/lint.sh)
  fonts-dejavu-core
  dataset-fashion-mnist   # 60,000 + 10,000 Fashion-MNIST IDX files
  python3-torch           # PyTorch reference, the Python loader and torchrun
  ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    :
  else
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "install_deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install_deps: done"
