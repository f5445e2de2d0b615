#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs the packages, makes the data, builds, then runs the
# main job. Arguments are passed to `vae_cnn train`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/fetch_data.sh"
"$root/scripts/build.sh"
"${VAE_CNN_BUILD_DIR:-$root/build}/vae_cnn" --version
