#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs the packages, makes the data, builds, then runs the
# main job: `vae_cnn train` on data/mnist (50 epochs, the seed's settings) into vae_cnn_weights/,
# then `vae_cnn plot` of the weights it wrote into vae_cnn/.
# Arguments are passed to `vae_cnn train` (e.g. --bce, --epochs 5, --data data/fashion-mnist).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/fetch_data.sh"
"$root/scripts/build.sh"
cd "$root"
vae_cnn="${VAE_CNN_BUILD_DIR:-$root/build}/vae_cnn"
"$vae_cnn" train --data data/mnist --out vae_cnn_weights "$@"
# The weights are named after the data set, which the arguments may have changed: take the newest.
weights=$(ls -t vae_cnn_weights/vae_cnn.*.pt | head -n 1)
"$vae_cnn" plot -w "$weights" --out vae_cnn
