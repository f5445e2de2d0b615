#!/usr/bin/env bash
# Builds our code with clang, AddressSanitizer and UndefinedBehaviorSanitizer (plus the libFuzzer
# targets) in build-asan/, and runs the whole test suite there. LibTorch is not instrumented; ours is.
#   scripts/sanitize.sh [--build-only]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${VAE_CNN_ASAN_BUILD_DIR:-$root/build-asan}"
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVAE_CNN_FUZZ=ON -DVAE_CNN_WERROR=ON -DVAE_CNN_UNITY_BUILD=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
[ "${1:-}" = "--build-only" ] && exit 0

# Any finding fails the test that met it; leaks inside Debian's libraries are listed in lsan.supp.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0"
cd "$build"
# Not the three explorer-page tests: they test the page's JavaScript in Chromium (two minutes of CPU
# here); the server code they drive runs under the sanitizers in ServeCli, ServeHostileCli, ServeLoad
# and the serve_api fuzz target. Not FetchData or ReferenceCheckpoint either: scripts, none of our C++.
# Not Likelihood: tensor arithmetic in LibTorch (not instrumented) on 50,000 decodes, a sixth of this
# suite's time; its code has no loops over raw memory. Not ResumeCli, the slowest here (signals'
# timing and exact arithmetic over whole runs): --resume, checkpoint writes and kills mid-write run
# under the sanitizers in Faults, FileSafety, HostileInputs, HostileWeights and ResumeOptionsCli.
ctest --output-on-failure -j "$(nproc)" \
  -E '^(ExplorerPage|ExplorerPageLatent3|ExplorerPageColour|FetchData|ReferenceCheckpoint|Likelihood|ResumeCli)$'
