#!/usr/bin/env bash
# Cold requests to the Ruby blog through a running host: deploys examples/ruby-blog, starts
# `deno task serve` on the bundle with a 1 s idle timeout, and after each idle period sends one
# request, which a new instance (a new Worker) serves. Prints each request's time (curl) and the
# host's Server-Timing phases. The first cold start is the process's first instance.
#
# Usage: bash bench/host_ruby_cold.sh [COLD_REQUESTS]   (default 3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
count="${1:-3}"
out="$(mktemp -d)/ruby-blog"
port=8196
deno run -A cli/main.ts deploy examples/ruby-blog --out "$out" --quiet >/dev/null
flags="$(deno eval 'const t = JSON.parse(Deno.readTextFileSync("deno.json")).tasks.serve;
console.log(t.match(/--v8-flags=\S+/)?.[0] ?? "")')"
deno run -A $flags main.ts --apps "$out" --port "$port" --idle-timeout 1 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$(dirname "$out")"' EXIT
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/_thaw/health" && break
  sleep 0.05
done
echo "host: deno run -A $flags main.ts --apps <bundle> --idle-timeout 1; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$count"); do
  sleep 3 # the idle instance stops after 1 s; the reserve Worker is ready again
  curl -s -D /tmp/thaw-ruby-cold.h -o /dev/null -w "cold request $i: %{time_total}s  " \
    -H "Host: ruby-blog.localhost" "http://127.0.0.1:$port/posts/how-restore-works"
  grep -i '^server-timing' /tmp/thaw-ruby-cold.h | tr -d '\r'
done
