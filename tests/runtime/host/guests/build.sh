#!/usr/bin/env bash
# Builds the host tests' guest programs (committed .wasm next to each .c).
# Usage: bash tests/runtime/host/guests/build.sh
set -euo pipefail
cd "$(dirname "$0")"
cc="${CC:-clang-14}"
for src in *.c; do
  "$cc" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -Wl,--strip-debug \
    "$src" -o "${src%.c}.wasm"
  echo "built ${src%.c}.wasm"
done
