#!/usr/bin/env bash
# Static checks of our code, each of which fails the run:
#   cppcheck on src/, tools/, fuzz/, tests/ (findings not justified in .cppcheck-suppressions);
#   lizard: no function in src/ longer than 60 lines (a pinned PyPI package in the ignored .venv-tools/);
#   scripts/layer_map.py --check: no include reaches a layer above its own (docs/DESIGN.md's order).
# Warnings in compiler output fail the build itself (VAE_CNN_WERROR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lizard_pin=1.24.3

cppcheck -j2 --enable=warning,style,performance,portability --std=c++17 --language=c++ -I include \
  --library=googletest --suppressions-list=.cppcheck-suppressions --inline-suppr --error-exitcode=1 --quiet \
  src/ tools/ fuzz/ tests/
echo "lint: cppcheck found nothing in src/, tools/, fuzz/ and tests/"

if ! .venv-tools/bin/python -m lizard --version 2>/dev/null | grep -qx "$lizard_pin"; then
  python3 -m venv .venv-tools
  .venv-tools/bin/pip install -q "lizard==$lizard_pin"
fi
# -C: a complexity bound lizard insists on; set out of reach, since length is the rule here.
if ! .venv-tools/bin/python -m lizard --length 60 --CCN 1000 --warnings_only src/; then
  echo "lint: the functions above are longer than 60 lines; split them into named steps" >&2
  exit 1
fi
echo "lint: no function in src/ is longer than 60 lines"

python3 scripts/layer_map.py --check
