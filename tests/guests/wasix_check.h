/* Tiny assertion helpers shared by the wasix_*.c test guests. Each failed check prints a line and
 * bumps the failure count; main() returns the count, so the TS test sees a non-zero exit. */
#ifndef WASIX_CHECK_H
#define WASIX_CHECK_H
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    checks++;                                                              \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
    }                                                                      \
  } while (0)

#define CHECK_ERR(call, expected)                                          \
  do {                                                                     \
    int _e = (call);                                                       \
    checks++;                                                              \
    if (_e != (expected)) {                                                \
      failures++;                                                          \
      printf("FAIL %s:%d: %s = %d, expected %d\n", __FILE__, __LINE__,     \
             #call, _e, (int)(expected));                                  \
    }                                                                      \
  } while (0)

#define OK(call) CHECK_ERR(call, 0)

/* preview1 imports the tests also exercise on WASIX handles. */
int32_t p1_fd_close(int32_t fd) __attribute__((import_module("wasi_snapshot_preview1"),
                                               import_name("fd_close")));
int32_t p1_fd_read(int32_t fd, const void *iovs, size_t n, uint32_t *nread)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_read")));
int32_t p1_fd_write(int32_t fd, const void *iovs, size_t n, uint32_t *nwritten)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")));
int32_t p1_fd_fdstat_set_flags(int32_t fd, int32_t flags)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_set_flags")));
int32_t p1_poll_oneoff(const void *subs, void *events, size_t n, uint32_t *nevents)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("poll_oneoff")));
int32_t p1_sock_accept(int32_t fd, int32_t flags, uint32_t *ret_fd)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_accept")));
int32_t p1_sock_recv(int32_t fd, const void *iovs, size_t n, int32_t flags, uint32_t *nread,
                     uint16_t *roflags)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_recv")));
int32_t p1_sock_send(int32_t fd, const void *iovs, size_t n, int32_t flags, uint32_t *nwritten)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_send")));
int32_t p1_sock_shutdown(int32_t fd, int32_t how)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_shutdown")));

static int finish(const char *name) {
  printf("%s: %d checks, %d failures\n", name, checks, failures);
  return failures;
}
#endif
