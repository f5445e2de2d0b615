#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs the packages, makes the data, builds, then runs the
# main job: `vae_cnn train` on data/mnist (50 epochs, the seed's settings) into vae_cnn_weights/.
# Arguments are passed to `vae_cnn train` (e.g. --bce, --epochs 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/fetch_data.sh"
"$root/scripts/build.sh"
cd "$root"
vae_cnn="${VAE_CNN_BUILD_DIR:-$root/build}/vae_cnn"
"$vae_cnn" train --data data/mnist --out vae_cnn_weights "$@"
