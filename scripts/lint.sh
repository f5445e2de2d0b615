#!/usr/bin/env bash
# Static analysis of our code (src/, tools/, fuzz/, tests/) with cppcheck; any finding not justified in
# .cppcheck-suppressions fails. Warnings in compiler output fail the build itself (VAE_CNN_WERROR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cppcheck --enable=warning,style,performance,portability --std=c++17 --language=c++ -I include \
  --library=googletest --suppressions-list=.cppcheck-suppressions --inline-suppr --error-exitcode=1 --quiet \
  src/ tools/ fuzz/ tests/
echo "lint: cppcheck found nothing in src/, tools/, fuzz/ and tests/"
