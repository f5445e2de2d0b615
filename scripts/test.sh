#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs the packages, makes the data, builds, runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/fetch_data.sh"
"$root/scripts/build.sh" -DVAE_CNN_WERROR=ON
cd "${VAE_CNN_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)"
