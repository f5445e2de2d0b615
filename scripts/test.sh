#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs the packages (and PyPI's LibTorch 2.x), checks the data,
# lints, builds vae_cnn on Debian's LibTorch 1.13 and on LibTorch 2.x, each with warnings as errors,
# and runs the whole suite on both (the 2.x suite also exchanges files with the 1.13 binary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/libtorch.sh"
started=$SECONDS
phase() { echo "test: $1 done at $((SECONDS - started)) s"; }  # CI's time per phase, for the 40-minute budget
"$root/scripts/install_deps.sh" --libtorch pip
phase "set-up"
"$root/scripts/fetch_data.sh"
"$root/scripts/lint.sh"
phase "data and lint"

run_suite() { # run_suite KIND EXCLUDED [cmake arguments]: build, then ctest in its folder less EXCLUDED
  local kind=$1 excluded=$2
  shift 2
  echo "test: LibTorch $kind build"
  "$root/scripts/build.sh" --libtorch "$kind" -DVAE_CNN_WERROR=ON "$@"
  (cd "$(libtorch_build_dir "$kind")" && ctest --output-on-failure -j "$(nproc)" ${excluded:+-E "$excluded"})
}
run_suite debian ""
phase "LibTorch 1.13 build and suite"
# The explorer page's three browser tests check its JavaScript, which is the same file for both builds:
# they run once, on 1.13 (the 2.x server code runs in ServeCli, ServeHostileCli and ServeLoad).
# FetchData and ReferenceCheckpoint test scripts, not the build: once is enough too.
run_suite pip '^(ExplorerPage|ExplorerPageLatent3|ExplorerPageColour|FetchData|ReferenceCheckpoint)$' \
  -DVAE_CNN_OTHER_BUILD_BINARY="$(libtorch_build_dir debian)/vae_cnn"
phase "LibTorch 2.x build and suite"

# The 1.13 suite again, built with AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzz
# target for 24 s (the libFuzzer binaries come from that build).
"$root/scripts/sanitize.sh"
phase "sanitizer build and suite"
"$root/scripts/fuzz.sh" 24  # five targets in two minutes: the whole run stays under CI's 40-minute budget
phase "fuzzing"
