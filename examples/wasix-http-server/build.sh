#!/usr/bin/env bash
# Builds server.wasm from server.c with clang-14 and wasi-libc.
# Usage: ./build.sh   (needs: apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror \
  -I "$root/runtime/wasix/include" -ffile-prefix-map="$root"=. -Wl,--strip-debug \
  server.c -o server.wasm.tmp
mv server.wasm.tmp server.wasm
echo "built examples/wasix-http-server/server.wasm ($(wc -c <server.wasm) bytes)"
