/*
 * Shared helpers for Thaw's C guest programs (tests/guests/NAME.c).
 *
 * Every guest prints one line per check ("ok N - what") and exits with status 1 at the first
 * failing check ("not ok N - what: got X, want Y"), so the test runner can show exactly which
 * syscall and which case went wrong. The last line of a passing guest is "done N checks".
 *
 * Expectations follow wasmtime's preview1 semantics. Where Node's WASI (uvwasi), used to validate
 * the guests before Thaw's runtime existed, knowingly differs, CHECK_ERRNO_PEER names both errnos:
 * the peer's is accepted only when the environment variable THAW_GUEST_PEER is set. Thaw never
 * runs guests with it.
 */
#ifndef THAW_GUEST_CHECK_H
#define THAW_GUEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int g_checks = 0;

static const char *errno_name(int e) {
  static const char *names[] = {
      "SUCCESS", "2BIG",   "ACCES",       "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN",
      "ALREADY", "BADF",   "BADMSG",      "BUSY",      "CANCELED",     "CHILD",       "CONNABORTED",
      "CONNREFUSED", "CONNRESET", "DEADLK", "DESTADDRREQ", "DOM", "DQUOT", "EXIST", "FAULT", "FBIG",
      "HOSTUNREACH", "IDRM", "ILSEQ", "INPROGRESS", "INTR", "INVAL", "IO", "ISCONN", "ISDIR", "LOOP",
      "MFILE", "MLINK", "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET", "NETUNREACH",
      "NFILE", "NOBUFS", "NODEV", "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM", "NOMSG",
      "NOPROTOOPT", "NOSPC", "NOSYS", "NOTCONN", "NOTDIR", "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK",
      "NOTSUP", "NOTTY", "NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO",
      "PROTONOSUPPORT", "PROTOTYPE", "RANGE", "ROFS", "SPIPE", "SRCH", "STALE", "TIMEDOUT",
      "TXTBSY", "XDEV", "NOTCAPABLE"};
  if (e >= 0 && e < (int)(sizeof(names) / sizeof(names[0]))) return names[e];
  return "?";
}

static int peer_mode(void) { return getenv("THAW_GUEST_PEER") != NULL; }

static void check_pass(const char *what) {
  printf("ok %d - %s\n", ++g_checks, what);
  fflush(stdout);
}

static void check_fail(const char *what, const char *detail, int line) {
  printf("not ok %d - %s: %s (line %d)\n", ++g_checks, what, detail, line);
  fflush(stdout);
  exit(1);
}

/* A boolean condition. */
#define CHECK(what, cond)                                        \
  do {                                                           \
    if (cond) check_pass(what);                                  \
    else check_fail(what, "condition false: " #cond, __LINE__);  \
  } while (0)

/* A call that must return exactly `want`. */
#define CHECK_ERRNO(what, call, want)                                             \
  do {                                                                            \
    int got_ = (int)(call);                                                       \
    if (got_ == (int)(want)) {                                                    \
      check_pass(what);                                                           \
    } else {                                                                      \
      char d_[96];                                                                \
      snprintf(d_, sizeof d_, "got %s (%d), want %s", errno_name(got_), got_,     \
               errno_name((int)(want)));                                          \
      check_fail(what, d_, __LINE__);                                             \
    }                                                                             \
  } while (0)

#define CHECK_OK(what, call) CHECK_ERRNO(what, call, __WASI_ERRNO_SUCCESS)

/* A call that must return `want` (wasmtime), or `peer` under THAW_GUEST_PEER (Node's WASI). */
#define CHECK_ERRNO_PEER(what, call, want, peer)                                  \
  do {                                                                            \
    int got_ = (int)(call);                                                       \
    if (got_ == (int)(want) || (peer_mode() && got_ == (int)(peer))) {           \
      check_pass(what);                                                           \
    } else {                                                                      \
      char d_[96];                                                                \
      snprintf(d_, sizeof d_, "got %s (%d), want %s", errno_name(got_), got_,     \
               errno_name((int)(want)));                                          \
      check_fail(what, d_, __LINE__);                                             \
    }                                                                             \
  } while (0)

/* A call that may return either of two errnos (both are correct preview1 behaviour). */
#define CHECK_ERRNO2(what, call, want1, want2)                                    \
  do {                                                                            \
    int got_ = (int)(call);                                                       \
    if (got_ == (int)(want1) || got_ == (int)(want2)) {                           \
      check_pass(what);                                                           \
    } else {                                                                      \
      char d_[112];                                                               \
      snprintf(d_, sizeof d_, "got %s (%d), want %s or %s", errno_name(got_), got_, \
               errno_name((int)(want1)), errno_name((int)(want2)));               \
      check_fail(what, d_, __LINE__);                                             \
    }                                                                             \
  } while (0)

/* An escape attempt: wasmtime refuses it with PERM; Node's WASI says NOTCAPABLE. */
#define CHECK_REFUSED(what, call) \
  CHECK_ERRNO_PEER(what, call, __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE)

static void check_done(void) {
  printf("done %d checks\n", g_checks);
  fflush(stdout);
}

/* Finds the preopened directory whose guest name is `name` (for example "/sandbox"). */
static __wasi_fd_t find_preopen(const char *name) {
  for (__wasi_fd_t fd = 3; fd < 64; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
    char buf[256];
    size_t n = ps.u.dir.pr_name_len;
    if (n >= sizeof buf) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, n) != 0) continue;
    buf[n] = 0;
    if (strcmp(buf, name) == 0) return fd;
  }
  printf("not ok - no preopened directory named %s (run with --dir HOST::%s)\n", name, name);
  exit(1);
}

/* Rights that ask for everything; the host narrows them to what the preopen allows. */
#define ALL_RIGHTS ((__wasi_rights_t)0x1FFFFFFFull)

static __wasi_errno_t open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                              __wasi_fdflags_t fdflags, __wasi_fd_t *out) {
  /* Ask for what the directory may hand down, as wasi-libc's open() does. */
  __wasi_fdstat_t st;
  __wasi_rights_t base = ALL_RIGHTS, inheriting = ALL_RIGHTS;
  if (__wasi_fd_fdstat_get(dir, &st) == 0) {
    inheriting = st.fs_rights_inheriting;
    /* A directory is opened with directory rights (no FD_WRITE), a file with file rights. */
    base = (oflags & __WASI_OFLAGS_DIRECTORY) ? st.fs_rights_base : inheriting;
  }
  return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, base, inheriting,
                          fdflags, out);
}

static __wasi_errno_t write_all(__wasi_fd_t fd, const char *s, size_t n, __wasi_size_t *written) {
  __wasi_ciovec_t iov = {(const uint8_t *)s, n};
  return __wasi_fd_write(fd, &iov, 1, written);
}

static __wasi_errno_t read_some(__wasi_fd_t fd, char *buf, size_t n, __wasi_size_t *got) {
  __wasi_iovec_t iov = {(uint8_t *)buf, n};
  return __wasi_fd_read(fd, &iov, 1, got);
}

/* Creates `path` under `dir` holding `text`. */
static void make_file(__wasi_fd_t dir, const char *path, const char *text) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(dir, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd);
  if (e != 0) {
    char d[96];
    snprintf(d, sizeof d, "create %s: %s", path, errno_name(e));
    check_fail("setup", d, __LINE__);
  }
  __wasi_size_t n;
  (void)write_all(fd, text, strlen(text), &n);
  (void)__wasi_fd_close(fd);
}

#endif
