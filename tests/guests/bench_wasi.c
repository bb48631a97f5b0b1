/*
 * The WASI benchmark workloads of bench/wasi_bench.ts. Each mode times its own loop with the
 * monotonic clock and writes "MODE OPS NANOSECONDS" to /sandbox/report.txt (a file, because
 * node:wasi under Deno cannot redirect stdio), so host start-up is not measured.
 *
 *   bench_wasi.wasm write N     N fd_write calls of 32 bytes to /sandbox/out.bin
 *   bench_wasi.wasm read        reads /sandbox/big.bin in 4 KiB fd_read calls
 *   bench_wasi.wasm open N      N path_open + fd_close pairs on /sandbox/small.txt
 *   bench_wasi.wasm clock N     N clock_time_get(MONOTONIC) calls
 *   bench_wasi.wasm readdir R   lists /sandbox/many (10,000 entries) R times with fd_readdir
 */
#include "check.h"

static __wasi_timestamp_t now(void) {
  __wasi_timestamp_t t = 0;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  return t;
}

static __wasi_fd_t sandbox;

static void report(const char *mode, long long ops, __wasi_timestamp_t t0) {
  __wasi_timestamp_t dt = now() - t0;
  char line[96];
  int n = snprintf(line, sizeof line, "%s %lld %llu\n", mode, ops, (unsigned long long)dt);
  __wasi_fd_t fd;
  __wasi_size_t w;
  if (__wasi_path_open(sandbox, 0, "report.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                       __WASI_RIGHTS_FD_WRITE, 0, 0, &fd) == 0) {
    (void)write_all(fd, line, (size_t)n, &w);
    (void)__wasi_fd_close(fd);
  }
}

static void die(const char *what, int e) {
  char line[96];
  int n = snprintf(line, sizeof line, "bench_wasi: %s failed: %s\n", what, errno_name(e));
  __wasi_size_t w;
  (void)write_all(2, line, (size_t)n, &w);
  __wasi_proc_exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage", __WASI_ERRNO_INVAL);
  const char *mode = argv[1];
  long long n = argc >= 3 ? atoll(argv[2]) : 1;
  __wasi_errno_t e;
  sandbox = find_preopen("/sandbox");
  __wasi_fd_t dir = sandbox;
  if (strcmp(mode, "write") == 0) {
    const char *msg = "0123456789abcdef0123456789abcde\n";
    __wasi_ciovec_t iov = {(const uint8_t *)msg, 32};
    __wasi_size_t w;
    __wasi_fd_t out;
    if ((e = __wasi_path_open(dir, 0, "out.bin", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                              __WASI_RIGHTS_FD_WRITE, 0, 0, &out)) != 0)
      die("open out.bin", e);
    __wasi_timestamp_t t0 = now();
    for (long long i = 0; i < n; i++)
      if ((e = __wasi_fd_write(out, &iov, 1, &w)) != 0) die("fd_write", e);
    report(mode, n, t0);
    (void)__wasi_fd_close(out);
    return 0;
  }
  if (strcmp(mode, "clock") == 0) {
    __wasi_timestamp_t t, sum = 0;
    __wasi_timestamp_t t0 = now();
    for (long long i = 0; i < n; i++) {
      if ((e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t)) != 0) die("clock", e);
      sum += t;
    }
    report(mode, n, t0);
    return sum == 0;
  }
  /* Plain read rights only, so every host opens the same way. */
  __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                           __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR;
  if (strcmp(mode, "read") == 0) {
    __wasi_fd_t fd;
    if ((e = __wasi_path_open(dir, 0, "big.bin", 0, rights, 0, 0, &fd)) != 0) die("open", e);
    static uint8_t buf[4096];
    __wasi_iovec_t iov = {buf, sizeof buf};
    long long reads = 0, total = 0;
    __wasi_size_t got;
    __wasi_timestamp_t t0 = now();
    for (;;) {
      if ((e = __wasi_fd_read(fd, &iov, 1, &got)) != 0) die("fd_read", e);
      reads++;
      if (got == 0) break;
      total += got;
    }
    report(mode, reads, t0);
    return total == 0;
  }
  if (strcmp(mode, "open") == 0) {
    __wasi_timestamp_t t0 = now();
    for (long long i = 0; i < n; i++) {
      __wasi_fd_t fd;
      if ((e = __wasi_path_open(dir, 0, "small.txt", 0, rights, 0, 0, &fd)) != 0) die("open", e);
      if ((e = __wasi_fd_close(fd)) != 0) die("close", e);
    }
    report(mode, n, t0);
    return 0;
  }
  if (strcmp(mode, "readdir") == 0) {
    __wasi_fd_t d;
    if ((e = __wasi_path_open(dir, 0, "many", __WASI_OFLAGS_DIRECTORY, rights, rights, 0, &d)) != 0)
      die("open many", e);
    static uint8_t buf[32768];
    long long entries = 0;
    __wasi_timestamp_t t0 = now();
    for (long long r = 0; r < n; r++) {
      __wasi_dircookie_t cookie = 0;
      for (;;) {
        __wasi_size_t used;
        if ((e = __wasi_fd_readdir(d, buf, sizeof buf, cookie, &used)) != 0) die("fd_readdir", e);
        size_t off = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
          __wasi_dirent_t ent;
          memcpy(&ent, buf + off, sizeof ent);
          if (off + sizeof ent + ent.d_namlen > used) break;
          cookie = ent.d_next;
          off += sizeof ent + ent.d_namlen;
          entries++;
        }
        if (used < sizeof buf) break;
      }
    }
    report(mode, entries, t0);
    return 0;
  }
  die(mode, __WASI_ERRNO_INVAL);
  return 1;
}
