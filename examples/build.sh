#!/usr/bin/env bash
# Rebuilds the .wasm of every example (or of the examples named as arguments).
#
# Usage: bash examples/build.sh [EXAMPLE...]      e.g. bash examples/build.sh wcgi-hello
#
# For each directory examples/<name>/:
#   - if it has an executable-or-not build.sh, that script is run from the example directory
#     (with CC, CFLAGS and THAW_ROOT exported) and owns its output;
#   - else if it has a main.c, it is compiled to examples/<name>/<name>.wasm;
#   - else it is skipped (e.g. the Ruby example, which ships no C).
# Every C build sees runtime/wasix/include, so WASIX examples need nothing extra. Output is
# deterministic (no debug info, no absolute paths), so the committed .wasm files can be checked by
# rebuilding them: with OUT_DIR set, main.c examples are written to $OUT_DIR/<name>.wasm instead
# and examples with their own build.sh are skipped (tests/examples/build_test.ts does this).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cc="${CC:-clang-14}"

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "examples/build.sh: $cc not found; install it with:" >&2
  echo "  apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32" >&2
  exit 1
fi

# clang runs wasm-opt after linking whenever one is on PATH (binaryen from npm puts one in
# node_modules/.bin under `deno task`), and that changes the output. Drop such directories from
# PATH so every build of the same source gives the same bytes.
clean_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  if [ ! -x "$d/wasm-opt" ]; then clean_path="${clean_path:+$clean_path:}$d"; fi
done
export PATH="$clean_path"

CFLAGS="--target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -ffile-prefix-map=$root=. \
-Wl,--strip-debug -I $root/runtime/wasix/include"
export CC="$cc" CFLAGS THAW_ROOT="$root"

if [ "$#" -gt 0 ]; then
  dirs=()
  for name in "$@"; do
    if [ ! -d "$root/examples/$name" ]; then
      echo "examples/build.sh: no example named \"$name\" (looked for examples/$name/)" >&2
      exit 1
    fi
    dirs+=("$root/examples/$name")
  done
else
  dirs=("$root"/examples/*/)
fi

for dir in "${dirs[@]}"; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  if [ -f "$dir/build.sh" ] && [ -n "${OUT_DIR:-}" ]; then
    echo "examples/$name: has its own build.sh; skipped because OUT_DIR is set"
  elif [ -f "$dir/build.sh" ]; then
    echo "examples/$name: running build.sh"
    (cd "$dir" && bash ./build.sh)
  elif [ -f "$dir/main.c" ]; then
    out="${OUT_DIR:-$dir}/$name.wasm"
    # shellcheck disable=SC2086 # CFLAGS is a list of flags
    (cd "$dir" && "$cc" $CFLAGS main.c -o "$out.tmp")
    mv "$out.tmp" "$out"
    echo "built ${out#"$root"/} ($(wc -c <"$out") bytes)"
  else
    echo "examples/$name: no build.sh or main.c; skipped"
  fi
done
