#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs the packages, makes the data, lints, builds, runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/fetch_data.sh"
"$root/scripts/lint.sh"
"$root/scripts/build.sh" -DVAE_CNN_WERROR=ON
cd "${VAE_CNN_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)"
# The same suite again, built with AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz
# target for a minute (the libFuzzer binaries come from that build).
"$root/scripts/sanitize.sh"
"$root/scripts/fuzz.sh" 60
