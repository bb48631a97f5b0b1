#!/usr/bin/env bash
# Load test of the host: wrk at 64 connections against the C WASIX proxy example served by
# `deno task serve`, next to a plain Deno.serve hello world, in the same run.
#
# Usage: bash bench/host_load.sh [DURATION] [CONNECTIONS] [PATH]
#   defaults: 30s, 64, /health (the example's smallest response)
# Prints wrk's output for each target and a summary table (req/s, p99, errors, the server's CPU
# time per request over all its threads, ratio), then each server's CPU per request by thread.
set -euo pipefail
for tool in wrk curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench/host_load.sh needs $tool: apt-get install -y $tool" >&2
    exit 1
  fi
done
root="$(cd "$(dirname "$0")/.." && pwd)"
duration="${1:-30s}"
conns="${2:-64}"
path="${3:-/health}"
threads=2
hello_port=8199
thaw_port=8198
app_host="wasix-http-server.localhost"
pids=()
threads_file="$(mktemp)"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -f "$threads_file"
}
trap cleanup EXIT

wait_for() { # url [host]
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null -H "Host: ${2:-localhost}" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "bench/host_load.sh: $1 did not answer" >&2
  exit 1
}

# CPU ticks (user + system, every thread) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# CPU ticks by thread: "tid name ticks" lines (the main thread is named deno).
thread_ticks() {
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
  done 2>/dev/null | sort
}

run_wrk() { # name pid url [host]
  local out t0 t1 th0 th1
  t0="$(cpu_ticks "$2")"
  th0="$(thread_ticks "$2")"
  out="$(wrk -t"$threads" -c"$conns" -d"$duration" --latency ${4:+-H "Host: $4"} "$3")"
  t1="$(cpu_ticks "$2")"
  th1="$(thread_ticks "$2")"
  echo "== $1" >&2
  echo "$out" >&2
  local rps p99 errors requests cpu
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx or 3xx/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")"
  requests="$(awk '/requests in/ {print $1}' <<<"$out")"
  # The server's CPU time per request, all threads, in µs (ticks are 1/100 s).
  cpu="$(awk -v a="$t0" -v b="$t1" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}')"
  # Per thread name (instance Workers are worker-N, V8's helpers V8_DefaultWorke), in µs.
  join <(echo "$th0") <(echo "$th1") | awk -v n="$requests" -v hz="$(getconf CLK_TCK)" -v name="$1" '
    { d = $5 - $3; if (d > 0) { k = $2 ~ /^worker-/ ? "workers" : $2; s[k] += d } }
    END { line = ""; for (k in s) line = line sprintf(" %s %.1f", k, s[k] * 1e6 / hz / n)
          print name " CPU/req by thread (µs):" line }' >>"$threads_file"
  echo "$1 $rps $p99 $errors $cpu"
}

cd "$root"
deno run --allow-net bench/host_hello.ts "$hello_port" >/dev/null &
hello_pid=$!
pids+=($!)
# The V8 flags of `deno task serve` (runtime/host/mod.ts HOST_V8_FLAGS) unless THAW_V8_FLAGS is set.
v8_flags="${THAW_V8_FLAGS-"--experimental-wasm-compilation-hints,--no-wasm-inlining"}"
deno run -A ${v8_flags:+--v8-flags=$v8_flags} main.ts --apps examples --port "$thaw_port" --max-instances "${THAW_MAX_INSTANCES:-2}" \
  >/dev/null 2>&1 &
thaw_pid=$!
pids+=($!)
wait_for "http://127.0.0.1:$hello_port/"
wait_for "http://127.0.0.1:$thaw_port$path" "$app_host"
# Warm both up so neither pays JIT or cold-start costs inside the measurement.
wrk -t1 -c8 -d2s "http://127.0.0.1:$hello_port/" >/dev/null
wrk -t1 -c8 -d2s -H "Host: $app_host" "http://127.0.0.1:$thaw_port$path" >/dev/null

hello="$(run_wrk deno-hello "$hello_pid" "http://127.0.0.1:$hello_port/")"
thaw="$(run_wrk thaw-proxy "$thaw_pid" "http://127.0.0.1:$thaw_port$path" "$app_host")"
metrics="$(curl -s "http://127.0.0.1:$thaw_port/_thaw/metrics" | grep -E '^thaw_(cold_starts_total|instances|requests_total)\{app="wasix' || true)"

read -r _ h_rps h_p99 h_err h_cpu <<<"$hello"
read -r _ t_rps t_p99 t_err t_cpu <<<"$thaw"
ratio="$(awk -v a="$t_rps" -v b="$h_rps" 'BEGIN {printf "%.1f", 100 * a / b}')"
echo
echo "wrk -t$threads -c$conns -d$duration --latency, $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-12s %12s %10s %8s %14s\n' target "req/s" p99 errors "server CPU/req"
printf '%-12s %12s %10s %8s %11s µs\n' deno-hello "$h_rps" "$h_p99" "$h_err" "$h_cpu"
printf '%-12s %12s %10s %8s %11s µs\n' thaw-proxy "$t_rps" "$t_p99" "$t_err" "$t_cpu"
echo "thaw-proxy / deno-hello throughput: $ratio%"
cat "$threads_file"
echo "$metrics"
