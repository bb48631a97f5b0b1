/*
 * proc_exit, proc_raise, and the process contract seen from outside (exit status, stdio, traps).
 *
 *   proc.wasm                 runs the checks below and exits 0
 *   proc.wasm exit N          writes "out" to stdout, "err" to stderr, then proc_exit(N)
 *   proc.wasm trap            writes "before trap" to stdout, then executes unreachable
 *   proc.wasm overflow        writes "before overflow", then recurses until the C stack (in
 *                             linear memory) runs out: an out-of-bounds trap
 *   proc.wasm deep            the same with no C stack frames: the engine's call stack runs out
 *   proc.wasm echo            copies stdin to stdout, then writes "N bytes" to stderr
 *   proc.wasm args            prints argc, then each argument on its own line
 *   proc.wasm env NAME...     prints NAME=VALUE (or NAME unset) for each name
 *   proc.wasm cat PATH        prints the file at PATH (a guest path such as /data/x.txt)
 *   proc.wasm write PATH TEXT writes TEXT to the file at PATH
 */
#include "check.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise"))) int32_t
raw_proc_raise(int32_t sig);

/* Unbounded recursion that the compiler cannot turn into a loop. */
static volatile int g_limit = -1; /* never reached: depth only grows */

__attribute__((noinline)) static int recurse(int depth) {
  volatile char frame[256];
  frame[depth & 255] = (char)depth;
  if (depth == g_limit) return 0;
  return recurse(depth + 1) + frame[(depth * 7) & 255];
}

/* The same without a frame in linear memory: V8's own call stack runs out first. */
static int recurse_native(int depth);
static int (*volatile g_next)(int) = recurse_native; /* an indirect call: no loop rewrite */

__attribute__((noinline)) static int recurse_native(int depth) {
  if (depth == g_limit) return 0;
  return g_next(depth + 1) + depth % 7;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "exit") == 0) {
    fputs("out\n", stdout);
    fflush(stdout);
    fputs("err\n", stderr);
    __wasi_proc_exit((__wasi_exitcode_t)atoi(argv[2]));
  }
  if (argc >= 2 && strcmp(argv[1], "trap") == 0) {
    puts("before trap");
    fflush(stdout);
    __builtin_trap();
  }
  if (argc >= 2 && strcmp(argv[1], "overflow") == 0) {
    puts("before overflow");
    fflush(stdout);
    return recurse(1) == 42;
  }
  if (argc >= 2 && strcmp(argv[1], "deep") == 0) {
    puts("before deep recursion");
    fflush(stdout);
    return recurse_native(1) == 42;
  }
  if (argc >= 2 && strcmp(argv[1], "echo") == 0) {
    char buf[4096];
    size_t total = 0, n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
      fwrite(buf, 1, n, stdout);
      total += n;
    }
    fflush(stdout);
    fprintf(stderr, "%zu bytes\n", total);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "args") == 0) {
    printf("%d\n", argc);
    for (int i = 0; i < argc; i++) printf("%s\n", argv[i]);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "env") == 0) {
    for (int i = 2; i < argc; i++) {
      const char *v = getenv(argv[i]);
      if (v) printf("%s=%s\n", argv[i], v);
      else printf("%s unset\n", argv[i]);
    }
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "cat") == 0) {
    FILE *f = fopen(argv[2], "r");
    if (!f) {
      fprintf(stderr, "cat: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "write") == 0) {
    FILE *f = fopen(argv[2], "w");
    if (!f) {
      fprintf(stderr, "write: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    fputs(argv[3], f);
    return fclose(f) == 0 ? 0 : 1;
  }

  /* wasmtime does not deliver signals: proc_raise is NOTSUP (NOSYS is also accepted). Node's WASI
     raises the signal for real, so only signal 0 (none) is tried. */
  int32_t e = raw_proc_raise(0);
  CHECK("proc_raise(0) is NOTSUP or NOSYS",
        e == __WASI_ERRNO_NOTSUP || e == __WASI_ERRNO_NOSYS || (peer_mode() && e == 0));
  CHECK_OK("sched_yield", __wasi_sched_yield());
  CHECK("stdout is writable via libc", printf("# hello from proc\n") > 0);
  CHECK("stderr is writable via libc", fprintf(stderr, "# stderr line\n") > 0);
  check_done();
  /* proc_exit(0) from inside main: the status is 0 and nothing after it runs. */
  __wasi_proc_exit(0);
  puts("not reached");
  return 3;
}
