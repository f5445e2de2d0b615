#!/usr/bin/env bash
# scripts/reference_train.py --checkpoint, on which scripts/parity.py's 50-epoch runs rest when they
# outlast a session: a run stopped after an epoch and started again prints the same losses as one
# never stopped; an epoch run again (ended but not saved when stopped) is printed twice and
# scripts/parity.py reads its last line; a checkpoint of other options is refused with one line.
#   tests/reference_checkpoint_test.sh REPOSITORY   (Debian's python3-torch at /usr/bin/python3)
set -euo pipefail
repo=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/reference_checkpoint.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
reference() {
  /usr/bin/python3 "$repo/scripts/reference_train.py" "$repo/data/mnist-sample" --threads 1 --limit 384 --seed 7 \
    --validate --revive 2 "$@"
}
# The losses of each epoch line, without its timings.
losses() { grep '^epoch' "$1" | sed -E 's/ images_per_second \S+ seconds \S+//'; }

reference --epochs 3 > "$work/straight.log"
reference --epochs 1 --checkpoint "$work/ckpt" > "$work/stopped.log"
cp "$work/ckpt" "$work/ckpt.after_epoch_1"
reference --epochs 3 --checkpoint "$work/ckpt" >> "$work/stopped.log"
[ "$(losses "$work/straight.log")" = "$(losses "$work/stopped.log")" ] ||
  fail "stopped after epoch 1 and continued, the losses differ: $(diff <(losses "$work/straight.log") <(losses "$work/stopped.log"))"
[ "$(grep '^encoder alive' "$work/straight.log")" = "$(grep '^encoder alive' "$work/stopped.log" | tail -n 1)" ] ||
  fail "the encoder's health after the last epoch differs"

# Epochs 2 and 3 ended but only epoch 1 was saved: they run again and are printed again.
mkdir "$work/parity_run"
cp "$work/stopped.log" "$work/parity_run/reference.log"
cp "$work/ckpt.after_epoch_1" "$work/ckpt"
reference --epochs 3 --checkpoint "$work/ckpt" >> "$work/parity_run/reference.log"
[ "$(grep -c '^epoch 3 ' "$work/parity_run/reference.log")" -eq 2 ] || fail "epoch 3 was not run again"
figures=$(/usr/bin/python3 - "$repo/scripts" "$work/parity_run" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import parity
figures = parity.reference_figures(sys.argv[2], 3)
print("none" if figures is None else f"{figures['test_loss']} {figures['units_alive']}")
EOF
)
expected=$(grep '^epoch 3 ' "$work/straight.log" | sed -E 's/.* val_loss (\S+) .*/\1/')
alive=$(sed -nE 's/^encoder alive ([0-9]+)\/.*/\1/p' "$work/straight.log")
[ "$figures" = "$(printf '%.6f %s' "$expected" "$alive")" ] ||
  fail "parity read '$figures' from a log with epochs run twice, expected '$(printf '%.6f %s' "$expected" "$alive")'"

# Other options: one line, exit 1, the checkpoint kept.
rc=0
reference --epochs 3 --checkpoint "$work/ckpt" --bce > "$work/out" 2> "$work/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a checkpoint of other options: exit $rc, expected 1"
[ "$(wc -l < "$work/err")" -eq 1 ] && grep -q 'made with other options: bce False, not True' "$work/err" ||
  fail "a checkpoint of other options: stderr is not the one line expected: $(cat "$work/err")"
[ -f "$work/ckpt" ] || fail "the refused checkpoint was removed"

[ "$failures" -eq 0 ] && echo "reference_checkpoint_test: all checks passed"
exit $((failures > 0))
