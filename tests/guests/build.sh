#!/usr/bin/env bash
# Builds every C guest program tests/guests/<name>.c into tests/guests/wasm/<name>.wasm.
#
# Usage: bash tests/guests/build.sh [NAME...]     (or: deno task guests)
#
# Output is deterministic (no debug info, no paths or timestamps embedded), so rebuilding on any
# machine with the same clang-14 and wasi-libc gives byte-identical fixtures. Guests named
# wasix_*.c also see runtime/wasix/include (WASIX declarations). A guest that needs more flags
# names them in a line of its own near the top, for example a reactor:
#   // build-flags: -mexec-model=reactor
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/tests/guests"
out="$src/wasm"
cc="${CC:-clang-14}"
mkdir -p "$out"

# clang runs wasm-opt after linking whenever one is on PATH, and `deno task` puts binaryen's
# (from npm) there. Drop such directories so every build of the same source gives the same bytes.
clean_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  if [ ! -x "$d/wasm-opt" ]; then clean_path="${clean_path:+$clean_path:}$d"; fi
done
export PATH="$clean_path"

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build.sh: $cc not found; install it with: apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  for f in "$src"/*.c; do names+=("$(basename "$f" .c)"); done
fi

cd "$src"
for name in "${names[@]}"; do
  flags=(--target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -Wno-unused-function
    -ffile-prefix-map="$root"=. -Wl,--strip-debug)
  case "$name" in
  wasix_*) flags+=(-I "$root/runtime/wasix/include") ;;
  esac
  extra="$(head -n 20 "$name.c" | sed -n 's|^// build-flags: *||p' | head -n 1)"
  # shellcheck disable=SC2206 # the flags are meant to split on spaces
  if [ -n "$extra" ]; then flags+=($extra); fi
  "$cc" "${flags[@]}" "$name.c" -o "$out/$name.wasm.tmp"
  mv "$out/$name.wasm.tmp" "$out/$name.wasm"
  echo "built tests/guests/wasm/$name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
done
