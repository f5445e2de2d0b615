#!/usr/bin/env bash
# Configures and builds vae_cnn (Release).
#   scripts/build.sh [--libtorch debian|pip|DIR] [cmake configure arguments...]
# debian (the default) builds in build/, pip in build-torch2/, DIR in build-libtorch/
# (scripts/libtorch.sh says what each is).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/libtorch.sh"
kind=debian
if [ "${1:-}" = "--libtorch" ]; then
  [ $# -ge 2 ] || { echo "build: --libtorch needs debian, pip or a LibTorch folder" >&2; exit 2; }
  kind=$2
  shift 2
fi
build=$(libtorch_build_dir "$kind")
prefix=$(libtorch_prefix "$kind")
extra=()
[ -n "$prefix" ] && extra+=("-DCMAKE_PREFIX_PATH=$prefix")
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
