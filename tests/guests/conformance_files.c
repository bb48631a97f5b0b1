/*
 * Conformance with wasmtime's preview1 test programs, part 2: file I/O and descriptors (seek and
 * tell, append, truncation, allocate, advise, renumber, closing a preopen, directory seeks, unlink
 * with trailing slashes).
 *
 * As in wasmtime's harness, the scratch directory is opened from the preopen /sandbox as a new fd,
 * and files are opened asking only for FD_READ and/or FD_WRITE (or no rights at all): wasmtime
 * uses the requested rights only to choose read/write access.
 */
#include "check.h"

static __wasi_fd_t g_dir;

static __wasi_errno_t po(__wasi_fd_t dir, const char *path, __wasi_oflags_t of,
                         __wasi_rights_t base, __wasi_fdflags_t ff, __wasi_fd_t *out) {
  return __wasi_path_open(dir, 0, path, of, base, 0, ff, out);
}

#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)

static __wasi_size_t wr(__wasi_fd_t fd, const void *p, size_t n) {
  __wasi_ciovec_t iov = {p, n};
  __wasi_size_t got = 0;
  CHECK_OK("fd_write", __wasi_fd_write(fd, &iov, 1, &got));
  return got;
}

static __wasi_size_t rd(__wasi_fd_t fd, void *p, size_t n) {
  __wasi_iovec_t iov = {p, n};
  __wasi_size_t got = 0;
  CHECK_OK("fd_read", __wasi_fd_read(fd, &iov, 1, &got));
  return got;
}

static void file_seek_tell(void) {
  __wasi_fd_t fd;
  __wasi_filesize_t off;
  CHECK_OK("create file (READ|WRITE)", po(g_dir, "file", __WASI_OFLAGS_CREAT, RW, 0, &fd));
  CHECK_OK("fd_tell without FD_TELL requested", __wasi_fd_tell(fd, &off));
  CHECK("initial offset 0", off == 0);
  static const char zeros[100];
  CHECK("wrote 100", wr(fd, zeros, 100) == 100);
  CHECK_OK("fd_tell", __wasi_fd_tell(fd, &off));
  CHECK("offset 100", off == 100);
  CHECK_OK("seek -50 CUR", __wasi_fd_seek(fd, -50, __WASI_WHENCE_CUR, &off));
  CHECK("offset 50", off == 50);
  CHECK_OK("seek 0 SET", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
  CHECK("offset 0", off == 0);
  CHECK_OK("seek past the end", __wasi_fd_seek(fd, 1000, __WASI_WHENCE_CUR, &off));
  CHECK_ERRNO("seek before 0 is INVAL", __wasi_fd_seek(fd, -2000, __WASI_WHENCE_CUR, &off),
              __WASI_ERRNO_INVAL);
  CHECK_OK("seek 0 SET", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
  char buf[100];
  CHECK("read 100", rd(fd, buf, 100) == 100);
  CHECK_OK("fd_tell", __wasi_fd_tell(fd, &off));
  CHECK("offset 100 after read", off == 100);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void fd_flags_set(void) {
  __wasi_fd_t fd;
  __wasi_filesize_t off;
  char data[100], buf[100];
  CHECK_OK("open APPEND", po(g_dir, "file", __WASI_OFLAGS_CREAT, RW, __WASI_FDFLAGS_APPEND, &fd));
  memset(data, 0, sizeof data);
  CHECK("append 100 zeros", wr(fd, data, 100) == 100);
  CHECK_OK("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
  CHECK("read 100", rd(fd, buf, 100) == 100 && memcmp(buf, data, 100) == 0);
  memset(data, 1, sizeof data);
  CHECK_OK("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
  CHECK("append 100 ones", wr(fd, data, 100) == 100);
  CHECK_OK("seek 100", __wasi_fd_seek(fd, 100, __WASI_WHENCE_SET, &off));
  CHECK("the ones went to the end", rd(fd, buf, 100) == 100 && memcmp(buf, data, 100) == 0);
  CHECK_OK("clear APPEND", __wasi_fd_fdstat_set_flags(fd, 0));
  CHECK_OK("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
  memset(data, 2, sizeof data);
  CHECK("overwrite 100 twos", wr(fd, data, 100) == 100);
  CHECK_OK("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
  CHECK("the twos are at 0", rd(fd, buf, 100) == 100 && memcmp(buf, data, 100) == 0);
  CHECK_OK("close", __wasi_fd_close(fd));
  __wasi_filestat_t st;
  CHECK_OK("path_filestat_get", __wasi_path_filestat_get(g_dir, 0, "file", &st));
  CHECK("size 200", st.size == 200);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void file_allocate_and_advise(void) {
  __wasi_fd_t fd;
  __wasi_filestat_t st;
  CHECK_OK("create", po(g_dir, "file", __WASI_OFLAGS_CREAT, RW, 0, &fd));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size 0", st.size == 0);
  CHECK_ERRNO("fd_allocate is NOTSUP", __wasi_fd_allocate(fd, 0, 100), __WASI_ERRNO_NOTSUP);
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size still 0", st.size == 0);
  CHECK_OK("set_size 100", __wasi_fd_filestat_set_size(fd, 100));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("size 100", st.size == 100);
  CHECK_OK("fd_advise NORMAL", __wasi_fd_advise(fd, 10, 50, __WASI_ADVICE_NORMAL));
  CHECK_OK("filestat", __wasi_fd_filestat_get(fd, &st));
  CHECK("advise keeps size 100", st.size == 100);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void file_truncation(void) {
  __wasi_fd_t fd;
  CHECK_OK("create (WRITE)", po(g_dir, "test.txt", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0,
                                &fd));
  static const char text[] = "this content will be truncated!";
  CHECK("write", wr(fd, text, sizeof text - 1) == sizeof text - 1);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("open CREAT|TRUNC", po(g_dir, "test.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RW,
                                  0, &fd));
  char buf[100];
  CHECK("truncated file reads empty", rd(fd, buf, sizeof buf) == 0);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "test.txt"));
}

static void unlink_trailing_slashes(void) {
  CHECK_OK("mkdir dir", __wasi_path_create_directory(g_dir, "dir"));
  CHECK_ERRNO("unlink a dir is ISDIR", __wasi_path_unlink_file(g_dir, "dir"), __WASI_ERRNO_ISDIR);
  CHECK_ERRNO("unlink dir/ is ISDIR", __wasi_path_unlink_file(g_dir, "dir/"), __WASI_ERRNO_ISDIR);
  CHECK_OK("rmdir", __wasi_path_remove_directory(g_dir, "dir"));
  __wasi_fd_t fd;
  CHECK_OK("create", po(g_dir, "file", __WASI_OFLAGS_CREAT, 0, 0, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_ERRNO("unlink file/ is NOTDIR", __wasi_path_unlink_file(g_dir, "file/"),
              __WASI_ERRNO_NOTDIR);
  CHECK_OK("unlink file", __wasi_path_unlink_file(g_dir, "file"));
}

static void renumber(void) {
  __wasi_fd_t from, to;
  CHECK_OK("create file1", po(g_dir, "file1", __WASI_OFLAGS_CREAT, RW, 0, &from));
  __wasi_fdstat_t a, b;
  CHECK_OK("fdstat file1", __wasi_fd_fdstat_get(from, &a));
  CHECK_OK("create file2", po(g_dir, "file2", __WASI_OFLAGS_CREAT, RW, 0, &to));
  CHECK_OK("renumber", __wasi_fd_renumber(from, to));
  CHECK_ERRNO("old fd is closed", __wasi_fd_close(from), __WASI_ERRNO_BADF);
  CHECK_OK("fdstat new", __wasi_fd_fdstat_get(to, &b));
  CHECK("same fdstat", a.fs_filetype == b.fs_filetype && a.fs_flags == b.fs_flags &&
                           a.fs_rights_base == b.fs_rights_base &&
                           a.fs_rights_inheriting == b.fs_rights_inheriting);
  CHECK_OK("close", __wasi_fd_close(to));
  CHECK_OK("unlink file1", __wasi_path_unlink_file(g_dir, "file1"));
  CHECK_OK("unlink file2", __wasi_path_unlink_file(g_dir, "file2"));
}

static void directory_seek_and_dirfd(void) {
  __wasi_fd_t fd, f2;
  __wasi_filesize_t off;
  CHECK_OK("mkdir dir", __wasi_path_create_directory(g_dir, "dir"));
  CHECK_OK("open dir, no rights", po(g_dir, "dir", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
  CHECK_ERRNO("seek on a directory is BADF", __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &off),
              __WASI_ERRNO_BADF);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("rmdir", __wasi_path_remove_directory(g_dir, "dir"));
  CHECK_OK("create file", po(g_dir, "file", __WASI_OFLAGS_CREAT, 0, 0, &fd));
  CHECK_ERRNO("path_open below a file fd is NOTDIR",
              po(fd, "foo", __WASI_OFLAGS_CREAT, 0, 0, &f2), __WASI_ERRNO_NOTDIR);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void close_preopen(__wasi_fd_t pre) {
  CHECK("scratch fd above the preopen", g_dir > pre);
  CHECK_OK("close the preopen", __wasi_fd_close(pre));
  __wasi_fdstat_t st;
  CHECK_OK("scratch dir still open", __wasi_fd_fdstat_get(g_dir, &st));
  CHECK("scratch is a directory", st.fs_filetype == __WASI_FILETYPE_DIRECTORY);
  CHECK_ERRNO("closed preopen is BADF", __wasi_fd_fdstat_get(pre, &st), __WASI_ERRNO_BADF);
}

int main(void) {
  __wasi_fd_t pre = find_preopen("/sandbox");
  CHECK_OK("open the scratch directory",
           __wasi_path_open(pre, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &g_dir));
  file_seek_tell();
  fd_flags_set();
  file_allocate_and_advise();
  file_truncation();
  unlink_trailing_slashes();
  renumber();
  directory_seek_and_dirfd();
  close_preopen(pre);
  check_done();
  return 0;
}
