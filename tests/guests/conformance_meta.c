/*
 * Conformance with wasmtime's preview1 test programs, part 4: file metadata and positioned I/O
 * (path_filestat, fd_filestat_set, symlink_filestat, file_pread_pwrite, path_open_read_write,
 * remove_nonempty_directory, overwrite_preopen).
 */
#include "check.h"

static __wasi_fd_t g_dir;

#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)
/* Host mounts keep times with millisecond precision; wasmtime's tests allow for such a host. */
#define PRECISION 1000000ull
#define TIME_EQ(a, b) ((a) / PRECISION == (b) / PRECISION)

static __wasi_errno_t po(const char *path, __wasi_oflags_t of, __wasi_rights_t base,
                         __wasi_fdflags_t ff, __wasi_fd_t *out) {
  return __wasi_path_open(g_dir, 0, path, of, base, 0, ff, out);
}

static void path_filestat(void) {
  __wasi_fd_t fd, fd2;
  CHECK_OK("create with APPEND", po("file", __WASI_OFLAGS_CREAT, RW, __WASI_FDFLAGS_APPEND, &fd));
  __wasi_fdstat_t fs;
  CHECK_OK("fdstat", __wasi_fd_fdstat_get(fd, &fs));
  CHECK("APPEND is reported", (fs.fs_flags & __WASI_FDFLAGS_APPEND) != 0);
  /* wasmtime either supports SYNC (and reports it) or refuses it with NOTSUP. */
  __wasi_errno_t e = po("file", 0, RW, __WASI_FDFLAGS_SYNC, &fd2);
  if (e == 0) {
    CHECK_OK("fdstat of the SYNC fd", __wasi_fd_fdstat_get(fd2, &fs));
    CHECK("SYNC is reported", (fs.fs_flags & __WASI_FDFLAGS_SYNC) != 0);
    CHECK_OK("close", __wasi_fd_close(fd2));
  } else {
    CHECK_ERRNO("SYNC refused with NOTSUP", e, __WASI_ERRNO_NOTSUP);
  }
  __wasi_filestat_t st, st2;
  CHECK_OK("path_filestat_get", __wasi_path_filestat_get(g_dir, 0, "file", &st));
  CHECK("size 0", st.size == 0);
  __wasi_timestamp_t mtim = st.mtim - 2 * PRECISION;
  CHECK_OK("set mtim", __wasi_path_filestat_set_times(g_dir, 0, "file", 0, mtim,
                                                      __WASI_FSTFLAGS_MTIM));
  CHECK_OK("path_filestat_get", __wasi_path_filestat_get(g_dir, 0, "file", &st2));
  CHECK("mtim changed", TIME_EQ(st2.mtim, mtim));
  CHECK_ERRNO("MTIM with MTIM_NOW is INVAL",
              __wasi_path_filestat_set_times(g_dir, 0, "file", 0, mtim,
                                             __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
              __WASI_ERRNO_INVAL);
  CHECK_OK("path_filestat_get", __wasi_path_filestat_get(g_dir, 0, "file", &st2));
  CHECK("mtim unchanged after INVAL", TIME_EQ(st2.mtim, mtim));
  CHECK_ERRNO("ATIM with ATIM_NOW is INVAL",
              __wasi_path_filestat_set_times(g_dir, 0, "file", 0, 0,
                                             __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
              __WASI_ERRNO_INVAL);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void fd_filestat_set(void) {
  __wasi_fd_t fd;
  __wasi_filestat_t st;
  CHECK_OK("create", po("file", __WASI_OFLAGS_CREAT, RW, 0, &fd));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size 0", st.size == 0);
  CHECK_OK("set_size 100", __wasi_fd_filestat_set_size(fd, 100));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size 100", st.size == 100);
  __wasi_timestamp_t old_atim = st.atim, mtim = st.mtim - 2 * PRECISION;
  CHECK_OK("fd_filestat_set_times MTIM",
           __wasi_fd_filestat_set_times(fd, mtim, mtim, __WASI_FSTFLAGS_MTIM));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size still 100", st.size == 100);
  CHECK("mtim changed", TIME_EQ(st.mtim, mtim));
  CHECK("atim unchanged", TIME_EQ(st.atim, old_atim));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void symlink_filestat(void) {
  __wasi_fd_t fd;
  __wasi_filestat_t fst, sst, st;
  CHECK_OK("create", po("file", __WASI_OFLAGS_CREAT, RW, 0, &fd));
  CHECK_OK("file stat", __wasi_path_filestat_get(g_dir, 0, "file", &fst));
  CHECK_OK("symlink", __wasi_path_symlink("file", g_dir, "symlink"));
  CHECK_OK("symlink stat", __wasi_path_filestat_get(g_dir, 0, "symlink", &sst));
  __wasi_timestamp_t mtim = sst.mtim - 2 * PRECISION;
  CHECK_OK("set the symlink's own mtim",
           __wasi_path_filestat_set_times(g_dir, 0, "symlink", 0, mtim, __WASI_FSTFLAGS_MTIM));
  CHECK_OK("symlink stat", __wasi_path_filestat_get(g_dir, 0, "symlink", &st));
  CHECK("symlink mtim changed", TIME_EQ(st.mtim, mtim));
  CHECK_OK("file stat", __wasi_path_filestat_get(g_dir, 0, "file", &st));
  CHECK("file mtim unchanged", st.mtim == fst.mtim);
  CHECK_OK("followed stat",
           __wasi_path_filestat_get(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", &st));
  CHECK("followed stat is the file's", st.mtim == fst.mtim);
  CHECK_OK("set the file's mtim through the symlink",
           __wasi_path_filestat_set_times(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", 0,
                                          sst.mtim, __WASI_FSTFLAGS_MTIM));
  CHECK_OK("file stat", __wasi_path_filestat_get(g_dir, 0, "file", &st));
  CHECK("file mtim changed", TIME_EQ(st.mtim, sst.mtim));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  CHECK_OK("unlink file", __wasi_path_unlink_file(g_dir, "file"));
}

static __wasi_size_t pw(__wasi_fd_t fd, const uint8_t *p, size_t n, __wasi_filesize_t off) {
  __wasi_ciovec_t iov = {p, n};
  __wasi_size_t got = 0;
  CHECK_OK("fd_pwrite", __wasi_fd_pwrite(fd, &iov, 1, off, &got));
  return got;
}

static __wasi_size_t pr(__wasi_fd_t fd, uint8_t *p, size_t n, __wasi_filesize_t off) {
  __wasi_iovec_t iov = {p, n};
  __wasi_size_t got = 0;
  CHECK_OK("fd_pread", __wasi_fd_pread(fd, &iov, 1, off, &got));
  return got;
}

static void pread_pwrite(void) {
  __wasi_fd_t fd;
  __wasi_filesize_t pos;
  __wasi_filestat_t st;
  static const uint8_t c[4] = {0, 1, 2, 3};
  uint8_t b[4] = {0};
  CHECK_OK("create", po("file", __WASI_OFLAGS_CREAT, RW, 0, &fd));
  CHECK("pwrite 4 at 0", pw(fd, c, 4, 0) == 4);
  CHECK("pread 4 at 0", pr(fd, b, 4, 0) == 4 && memcmp(b, c, 4) == 0);
  __wasi_ciovec_t two[2] = {{c, 2}, {c + 2, 2}};
  __wasi_size_t n;
  CHECK_OK("pwrite two iovecs", __wasi_fd_pwrite(fd, two, 2, 0, &n));
  CHECK("wrote 4", n == 4);
  uint8_t x[4] = {0};
  __wasi_iovec_t rtwo[2] = {{x, 2}, {x + 2, 2}};
  CHECK_OK("pread two iovecs", __wasi_fd_pread(fd, rtwo, 2, 0, &n));
  CHECK("read 4", n == 4 && memcmp(x, c, 4) == 0);
  memset(b, 0, 4);
  CHECK("pread at 2 reads 2", pr(fd, b, 4, 2) == 2 && b[0] == 2 && b[1] == 3 && b[2] == 0);
  static const uint8_t ten[2] = {1, 0};
  CHECK("pwrite 2 at 2", pw(fd, ten, 2, 2) == 2);
  CHECK("pread 4 at 0", pr(fd, b, 4, 0) == 4 && b[0] == 0 && b[1] == 1 && b[2] == 1 && b[3] == 0);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));

  CHECK_OK("create file2", po("file2", __WASI_OFLAGS_CREAT, RW, 0, &fd));
  CHECK_OK("tell", __wasi_fd_tell(fd, &pos));
  CHECK("position 0", pos == 0);
  CHECK("0-byte pwrite at 50 writes nothing", pw(fd, c, 0, 50) == 0);
  CHECK_OK("tell", __wasi_fd_tell(fd, &pos));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("position and size still 0", pos == 0 && st.size == 0);
  CHECK("1-byte pwrite at 50", pw(fd, c, 1, 50) == 1);
  CHECK_OK("tell", __wasi_fd_tell(fd, &pos));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("position 0, size 51", pos == 0 && st.size == 51);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file2"));

  CHECK_OK("create file3 APPEND", po("file3", __WASI_OFLAGS_CREAT, RW, __WASI_FDFLAGS_APPEND, &fd));
  CHECK("pwrite at 50 with APPEND", pw(fd, c, 1, 50) == 1);
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("APPEND ignores the offset (size 1)", st.size == 1);
  CHECK("pwrite at 0 with APPEND", pw(fd, c, 1, 0) == 1);
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("appended (size 2)", st.size == 2);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file3"));
}

static void open_read_write(void) {
  __wasi_fd_t fd;
  __wasi_fdstat_t fs;
  __wasi_filestat_t st;
  CHECK_OK("create", po("file", __WASI_OFLAGS_CREAT, 0, 0, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));
  uint8_t buf[100];
  uint8_t ones[50], twos[25];
  memset(ones, 1, sizeof ones);
  memset(twos, 2, sizeof twos);
  __wasi_iovec_t iov = {buf, sizeof buf};
  __wasi_ciovec_t c1 = {ones, sizeof ones}, c2 = {twos, sizeof twos};
  __wasi_size_t n;
  CHECK_OK("open read-only", po("file", 0, __WASI_RIGHTS_FD_READ, 0, &fd));
  CHECK_OK("fdstat", __wasi_fd_fdstat_get(fd, &fs));
  CHECK("read-only: FD_READ, no FD_WRITE", (fs.fs_rights_base & __WASI_RIGHTS_FD_READ) &&
                                               !(fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
  CHECK_OK("read empty", __wasi_fd_read(fd, &iov, 1, &n));
  CHECK("read 0", n == 0);
  CHECK_ERRNO2("write to a read-only fd", __wasi_fd_write(fd, &c1, 1, &n), __WASI_ERRNO_PERM,
               __WASI_ERRNO_BADF);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("open write-only", po("file", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd));
  CHECK_OK("fdstat", __wasi_fd_fdstat_get(fd, &fs));
  CHECK("write-only: no FD_READ, no FD_READDIR, FD_WRITE",
        !(fs.fs_rights_base & __WASI_RIGHTS_FD_READ) &&
            !(fs.fs_rights_base & __WASI_RIGHTS_FD_READDIR) &&
            (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
  CHECK_ERRNO2("read from a write-only fd", __wasi_fd_read(fd, &iov, 1, &n), __WASI_ERRNO_PERM,
               __WASI_ERRNO_BADF);
  CHECK_OK("write 50", __wasi_fd_write(fd, &c1, 1, &n));
  CHECK("wrote 50", n == 50);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("open read-write", po("file", 0, RW, 0, &fd));
  CHECK_OK("fdstat", __wasi_fd_fdstat_get(fd, &fs));
  CHECK("read-write: both rights", (fs.fs_rights_base & RW) == RW);
  CHECK_OK("read", __wasi_fd_read(fd, &iov, 1, &n));
  CHECK("read the 50 bytes", n == 50);
  CHECK_OK("write 25", __wasi_fd_write(fd, &c2, 1, &n));
  CHECK("wrote 25", n == 25);
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size 75", st.size == 75);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void remove_nonempty(void) {
  CHECK_OK("mkdir dir", __wasi_path_create_directory(g_dir, "dir"));
  CHECK_OK("mkdir dir/nested", __wasi_path_create_directory(g_dir, "dir/nested"));
  CHECK_ERRNO("rmdir non-empty is NOTEMPTY", __wasi_path_remove_directory(g_dir, "dir"),
              __WASI_ERRNO_NOTEMPTY);
  CHECK_OK("rmdir dir/nested", __wasi_path_remove_directory(g_dir, "dir/nested"));
  CHECK_OK("rmdir dir", __wasi_path_remove_directory(g_dir, "dir"));
}

static void overwrite_preopen(__wasi_fd_t pre) {
  __wasi_filestat_t a, b;
  __wasi_fdstat_t fs;
  CHECK("scratch fd above the preopen", g_dir > pre);
  CHECK_OK("filestat scratch", __wasi_fd_filestat_get(g_dir, &a));
  CHECK_OK("renumber over the preopen", __wasi_fd_renumber(g_dir, pre));
  CHECK_OK("filestat of the preopen's number", __wasi_fd_filestat_get(pre, &b));
  CHECK("it is the scratch directory", a.dev == b.dev && a.ino == b.ino);
  CHECK_ERRNO("old number is closed", __wasi_fd_fdstat_get(g_dir, &fs), __WASI_ERRNO_BADF);
}

int main(void) {
  __wasi_fd_t pre = find_preopen("/sandbox");
  CHECK_OK("mkdir scratch", __wasi_path_create_directory(pre, "scratch"));
  CHECK_OK("open the scratch directory",
           __wasi_path_open(pre, 0, "scratch", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &g_dir));
  path_filestat();
  fd_filestat_set();
  symlink_filestat();
  pread_pwrite();
  open_read_write();
  remove_nonempty();
  overwrite_preopen(pre);
  check_done();
  return 0;
}
