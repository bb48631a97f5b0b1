/*
 * The C tests of WebAssembly/wasi-testsuite (its tests/c/src directory), re-written as one guest: the same
 * libc calls and the same expectations, one mode per test so that each runs as its own process,
 * as the suite's runner does (`thaw run [--dir D] conformance_testsuite.wasm MODE`), or all modes
 * in a row when MODE is "all".
 *
 * The fixture directory (tests/runtime/wasi/guests_test.ts and tests/cli/run_test.ts build it)
 * holds `file`, `lseek.txt` ("01234567"), `pread.txt` ("pread-test"), `fopendir.dir/file-0`,
 * `fopendir.dir/file-1` and an empty `writeable/`. The suite preopens it either as "/" (its
 * current "root" layout: paths like "lseek.txt") or as "fs-tests.dir" (its older "dirs" layout:
 * paths like "fs-tests.dir/lseek.txt"); set PREFIX=fs-tests.dir/ for the latter.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "check.h"

static char g_path[256];

/* The fixture path `name` under PREFIX. */
static const char *fx(const char *name) {
  const char *prefix = getenv("PREFIX");
  snprintf(g_path, sizeof g_path, "%s%s", prefix ? prefix : "", name);
  return g_path;
}

static void clock_getres_tests(void) {
  struct timespec ts;
  CHECK("clock_getres(CLOCK_MONOTONIC)", clock_getres(CLOCK_MONOTONIC, &ts) == 0);
  CHECK("clock_getres(CLOCK_REALTIME)", clock_getres(CLOCK_REALTIME, &ts) == 0);
}

static void clock_gettime_tests(void) {
  struct timespec a, b;
  CHECK("clock_gettime(CLOCK_MONOTONIC)", clock_gettime(CLOCK_MONOTONIC, &a) == 0);
  CHECK("again", clock_gettime(CLOCK_MONOTONIC, &b) == 0);
  CHECK("monotonic never goes back",
        b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
  CHECK("clock_gettime(CLOCK_REALTIME)", clock_gettime(CLOCK_REALTIME, &a) == 0);
  CHECK("realtime is after 2020", a.tv_sec > 1577836800);
}

static void fdopendir_with_access(void) {
  int dfd = open(fx("fopendir.dir"), O_RDONLY | O_DIRECTORY);
  CHECK("open the directory", dfd != -1);
  DIR *d = fdopendir(dfd);
  CHECK("fdopendir", d != NULL);
  int seen[2] = {0, 0}, unexpected = 0, ino_ok = 1;
  ino_t inodes[2] = {0, 0};
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    int i = strcmp(e->d_name, "file-0") == 0 ? 0 : strcmp(e->d_name, "file-1") == 0 ? 1 : -1;
    if (i < 0) {
      unexpected = 1;
      continue;
    }
    seen[i] = 1;
    inodes[i] = e->d_ino;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_ino != e->d_ino) ino_ok = 0;
  }
  CHECK("closedir", closedir(d) == 0);
  CHECK("no unexpected entries", !unexpected);
  CHECK("file-0 and file-1 listed", seen[0] && seen[1]);
  CHECK("d_ino equals fstatat's st_ino", ino_ok);
  CHECK("distinct inodes", inodes[0] != inodes[1]);
}

static void fopen_with_access(void) {
  FILE *f = fopen(fx("file"), "r");
  CHECK("fopen(file, r)", f != NULL);
  CHECK("fclose", f != NULL && fclose(f) == 0);
}

/* Run without any preopen: libc finds no directory for the path. */
static void fopen_with_no_access(void) {
  errno = 0;
  FILE *f = fopen("fs-tests.dir/file", "r");
  int e = errno; /* before printing: stdio's first write may set errno */
  CHECK("fopen without a preopen fails", f == NULL);
  /* No syscall is made: wasi-libc itself sets errno (ENOTCAPABLE in the suite's libc, ENOENT in
   * older ones such as Debian's), so Thaw cannot change it; either is accepted. */
  CHECK("errno is ENOTCAPABLE (or ENOENT from an older wasi-libc)",
        e == ENOTCAPABLE || e == ENOENT);
}

static void lseek_test(void) {
  FILE *f = fopen(fx("lseek.txt"), "r");
  CHECK("fopen(lseek.txt)", f != NULL);
  if (f == NULL) return;
  int fd = fileno(f);
  char buf[4];
  CHECK("fread 4", fread(buf, 1, 4, f) == 4);
  fflush(f);
  CHECK("lseek CUR is 4", lseek(fd, 0, SEEK_CUR) == 4);
  CHECK("fread 1", fread(buf, 1, 1, f) == 1);
  fflush(f);
  CHECK("lseek CUR is 5", lseek(fd, 0, SEEK_CUR) == 5);
  CHECK("the fifth byte is '4'", buf[0] == '4');
  CHECK("lseek SET 0", lseek(fd, 0, SEEK_SET) == 0);
  CHECK("lseek END is 8", lseek(fd, 0, SEEK_END) == 8);
  CHECK("fclose", fclose(f) == 0);
}

static void pread_with_access(void) {
  int fd = open(fx("pread.txt"), O_RDONLY);
  CHECK("open(pread.txt)", fd > 0);
  char buf[16];
  int got = 0;
  while (got < 3) {
    ssize_t r = pread(fd, buf + got, 3 - got, 4 + got);
    if (r <= 0) break;
    got += (int)r;
  }
  CHECK("pread 3 bytes at 4: d-t", got == 3 && memcmp(buf, "d-t", 3) == 0);
  CHECK("close", close(fd) == 0);
}

static void pwrite_with_access(void) {
  const char *path = fx("writeable/test_pwrite_pread.txt.cleanup");
  char name[256];
  snprintf(name, sizeof name, "%s", path);
  CHECK("the file does not exist yet", access(name, F_OK) != 0);
  int fd = open(name, O_WRONLY | O_CREAT);
  CHECK("open(O_WRONLY|O_CREAT)", fd > 0);
  CHECK("pwrite 'very long text' at 0", pwrite(fd, "very long text", 14, 0) == 14);
  CHECK("pwrite 'test' at 3", pwrite(fd, "test", 4, 3) == 4);
  CHECK("close", close(fd) == 0);
  fd = open(name, O_RDONLY);
  CHECK("open(O_RDONLY)", fd > 0);
  char buf[16];
  int got = 0;
  while (got < 14) {
    ssize_t r = read(fd, buf + got, sizeof buf - got);
    if (r <= 0) break;
    got += (int)r;
  }
  CHECK("reads vertestng text", got == 14 && memcmp(buf, "vertestng text", 14) == 0);
  CHECK("close", close(fd) == 0);
  CHECK("remove", remove(name) == 0);
}

static void pwrite_with_append(void) {
  char buf[4] = {0};
  const char *path = fx("pwrite.cleanup");
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND);
  CHECK("open with O_APPEND", fd != -1);
  CHECK("write 2", write(fd, buf, 2) == 2);
  CHECK("lseek SET 0", lseek(fd, 0, SEEK_SET) == 0);
  CHECK("write 2 more", write(fd, buf, 2) == 2);
  CHECK("appended: position 4", lseek(fd, 0, SEEK_CUR) == 4);
  CHECK("pwrite 3 at 0", pwrite(fd, buf, 3, 0) == 3);
  CHECK("pwrite leaves the position at 4", lseek(fd, 0, SEEK_CUR) == 4);
  off_t end = lseek(fd, 0, SEEK_END);
  CHECK("end is 4 (POSIX) or 7 (Linux)", end == 4 || end == 7);
  CHECK("close", close(fd) == 0);
  CHECK("remove", remove(path) == 0);
}

static void sock_shutdown_tests(void) {
  errno = 0;
  int r = shutdown(STDOUT_FILENO, SHUT_RD), e = errno;
  CHECK("shutdown(stdout) fails with ENOTSOCK", r != 0 && e == ENOTSOCK);
  errno = 0;
  r = shutdown(1234, SHUT_RD);
  e = errno;
  CHECK("shutdown(invalid fd) fails with EBADF", r != 0 && e == EBADF);
}

static void stat_dev_ino(void) {
  int a = open(fx("file"), O_RDONLY), b = open(fx("lseek.txt"), O_RDONLY);
  CHECK("open both", a != -1 && b != -1);
  struct stat sa, sb;
  CHECK("fstat both", fstat(a, &sa) == 0 && fstat(b, &sb) == 0);
  CHECK("same st_dev", sa.st_dev == sb.st_dev);
  CHECK("different st_ino", sa.st_ino != sb.st_ino);
  close(a);
  close(b);
}

static const struct {
  const char *name;
  void (*run)(void);
} TESTS[] = {
    {"clock_getres", clock_getres_tests},
    {"clock_gettime", clock_gettime_tests},
    {"fdopendir-with-access", fdopendir_with_access},
    {"fopen-with-access", fopen_with_access},
    {"lseek", lseek_test},
    {"pread-with-access", pread_with_access},
    {"pwrite-with-access", pwrite_with_access},
    {"pwrite-with-append", pwrite_with_append},
    {"sock_shutdown", sock_shutdown_tests},
    {"stat-dev-ino", stat_dev_ino},
    {"fopen-with-no-access", fopen_with_no_access},
};

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "all";
  int found = 0;
  for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++) {
    /* "all" skips the test that needs no preopen at all. */
    int all = strcmp(mode, "all") == 0 && strcmp(TESTS[i].name, "fopen-with-no-access") != 0;
    if (all || strcmp(mode, TESTS[i].name) == 0) {
      TESTS[i].run();
      found = 1;
    }
  }
  if (!found) {
    printf("not ok - unknown test %s\n", mode);
    return 2;
  }
  check_done();
  return 0;
}
