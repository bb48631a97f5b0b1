#!/usr/bin/env bash
# Builds server.wasm from server.c with clang-14 and wasi-libc (deterministic output).
# Usage: examples/wasix-http-server/build.sh   (or: bash examples/build.sh wasix-http-server)
# Needs: apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${THAW_ROOT:-$(cd "$here/../.." && pwd)}"
cc="${CC:-clang-14}"
cflags="${CFLAGS:---target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -ffile-prefix-map=$root=. -Wl,--strip-debug -I $root/runtime/wasix/include}"
# clang runs any wasm-opt on PATH after linking, which changes the bytes: keep it out.
clean_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  if [ ! -x "$d/wasm-opt" ]; then clean_path="${clean_path:+$clean_path:}$d"; fi
done
export PATH="$clean_path"
cd "$here"
# shellcheck disable=SC2086
"$cc" $cflags server.c -o server.wasm.tmp
mv server.wasm.tmp server.wasm
echo "built examples/wasix-http-server/server.wasm ($(wc -c <server.wasm) bytes)"
