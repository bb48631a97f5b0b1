/*
 * fd_* calls on files and stdio: fd_write, fd_read, fd_seek, fd_tell, fd_pread, fd_pwrite,
 * fd_filestat_get, fd_filestat_set_size, fd_filestat_set_times, fd_fdstat_get,
 * fd_fdstat_set_flags, fd_fdstat_set_rights, fd_advise, fd_allocate, fd_datasync, fd_sync,
 * fd_renumber, fd_close, fd_prestat_get, fd_prestat_dir_name.
 *
 * Run with a writable empty directory preopened as /sandbox.
 */
#include "check.h"

int main(void) {
  __wasi_fd_t dir = find_preopen("/sandbox");
  __wasi_fd_t fd, fd2;
  __wasi_size_t n;
  __wasi_filesize_t pos;
  char buf[64];

  /* Preopens. */
  __wasi_prestat_t ps;
  CHECK_OK("fd_prestat_get(preopen)", __wasi_fd_prestat_get(dir, &ps));
  CHECK("prestat tag is DIR", ps.tag == __WASI_PREOPENTYPE_DIR);
  CHECK("prestat name length is 8", ps.u.dir.pr_name_len == 8);
  CHECK_OK("fd_prestat_dir_name", __wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, 8));
  CHECK("prestat name is /sandbox", memcmp(buf, "/sandbox", 8) == 0);
  CHECK_ERRNO_PEER("fd_prestat_dir_name with short buffer is NAMETOOLONG",
                   __wasi_fd_prestat_dir_name(dir, (uint8_t *)buf, 3), __WASI_ERRNO_NAMETOOLONG,
                   __WASI_ERRNO_NOBUFS);
  CHECK_ERRNO_PEER("fd_prestat_get(stdout) is BADF", __wasi_fd_prestat_get(1, &ps),
                   __WASI_ERRNO_BADF, __WASI_ERRNO_INVAL);
  CHECK_ERRNO("fd_prestat_get(999) is BADF", __wasi_fd_prestat_get(999, &ps), __WASI_ERRNO_BADF);

  /* stdio. */
  __wasi_fdstat_t st;
  CHECK_OK("fd_fdstat_get(stdout)", __wasi_fd_fdstat_get(1, &st));
  __wasi_ciovec_t two[2] = {{(const uint8_t *)"# two ", 6}, {(const uint8_t *)"iovecs\n", 7}};
  CHECK_OK("fd_write(stdout, 2 iovecs)", __wasi_fd_write(1, two, 2, &n));
  CHECK("fd_write(stdout) wrote 13 bytes", n == 13);
  CHECK_OK("fd_write(stdout, 0 iovecs)", __wasi_fd_write(1, two, 0, &n));
  CHECK("zero iovecs write 0 bytes", n == 0);
  CHECK_ERRNO("fd_write(999) is BADF", write_all(999, "x", 1, &n), __WASI_ERRNO_BADF);
  CHECK_ERRNO("fd_read(999) is BADF", read_some(999, buf, 1, &n), __WASI_ERRNO_BADF);

  /* A fresh file. */
  CHECK_OK("path_open(CREAT|EXCL)",
           open_at(dir, "data.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd));
  CHECK_OK("fd_fdstat_get(file)", __wasi_fd_fdstat_get(fd, &st));
  CHECK("file filetype is REGULAR_FILE", st.fs_filetype == __WASI_FILETYPE_REGULAR_FILE);
  CHECK("file flags are 0", st.fs_flags == 0 || peer_mode());
  CHECK("file has FD_READ and FD_WRITE rights",
        (st.fs_rights_base & (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)) ==
            (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE));
  CHECK_OK("fd_write(file)", write_all(fd, "hello, world", 12, &n));
  CHECK("fd_write wrote 12 bytes", n == 12);
  CHECK_OK("fd_tell after write", __wasi_fd_tell(fd, &pos));
  CHECK("position is 12", pos == 12);
  CHECK_OK("fd_seek(0, SET)", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
  CHECK("seek SET returns 0", pos == 0);
  __wasi_iovec_t rv[2] = {{(uint8_t *)buf, 5}, {(uint8_t *)buf + 5, 20}};
  CHECK_OK("fd_read(2 iovecs)", __wasi_fd_read(fd, rv, 2, &n));
  CHECK("fd_read scatters 12 bytes", n == 12 && memcmp(buf, "hello, world", 12) == 0);
  CHECK_OK("fd_read at EOF", read_some(fd, buf, sizeof buf, &n));
  CHECK("read at EOF returns 0 bytes", n == 0);
  CHECK_OK("fd_seek(-5, END)", __wasi_fd_seek(fd, -5, __WASI_WHENCE_END, &pos));
  CHECK("seek END-5 is 7", pos == 7);
  CHECK_OK("fd_seek(2, CUR)", __wasi_fd_seek(fd, 2, __WASI_WHENCE_CUR, &pos));
  CHECK("seek CUR+2 is 9", pos == 9);
  CHECK_ERRNO("fd_seek before 0 is INVAL", __wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos),
              __WASI_ERRNO_INVAL);
  CHECK_ERRNO("fd_seek with whence 7 is INVAL", __wasi_fd_seek(fd, 0, 7, &pos),
              __WASI_ERRNO_INVAL);
  CHECK_OK("fd_tell after failed seeks", __wasi_fd_tell(fd, &pos));
  CHECK("failed seeks leave the position at 9", pos == 9);
  CHECK_OK("fd_seek past the end", __wasi_fd_seek(fd, 20, __WASI_WHENCE_SET, &pos));
  CHECK_OK("fd_write past the end", write_all(fd, "!", 1, &n));

  /* pread / pwrite do not move the position. */
  __wasi_filestat_t fs;
  CHECK_OK("fd_filestat_get", __wasi_fd_filestat_get(fd, &fs));
  CHECK("size is 21 (write past the end extends)", fs.size == 21);
  CHECK("filestat filetype is REGULAR_FILE", fs.filetype == __WASI_FILETYPE_REGULAR_FILE);
  CHECK("nlink is 1", fs.nlink == 1);
  CHECK_OK("fd_pread at 7", __wasi_fd_pread(fd, rv, 1, 7, &n));
  CHECK("fd_pread reads 'world' at 7", n == 5 && memcmp(buf, "world", 5) == 0);
  CHECK_OK("fd_pread past EOF", __wasi_fd_pread(fd, rv, 1, 1000, &n));
  CHECK("pread past EOF returns 0 bytes", n == 0);
  CHECK_OK("fd_pread of the hole", __wasi_fd_pread(fd, rv, 2, 12, &n));
  CHECK("the hole reads as zero bytes", n == 9 && buf[0] == 0 && buf[7] == 0 && buf[8] == '!');
  __wasi_ciovec_t wv = {(const uint8_t *)"HELLO", 5};
  CHECK_OK("fd_pwrite at 0", __wasi_fd_pwrite(fd, &wv, 1, 0, &n));
  CHECK("fd_pwrite wrote 5", n == 5);
  CHECK_OK("fd_tell after pread/pwrite", __wasi_fd_tell(fd, &pos));
  CHECK("pread/pwrite left the position at 21", pos == 21);
  CHECK_OK("fd_pread sees pwrite", __wasi_fd_pread(fd, rv, 1, 0, &n));
  CHECK("content is HELLO, world", memcmp(buf, "HELLO, world", 5) == 0);

  /* Size and times. */
  CHECK_OK("fd_filestat_set_size(5)", __wasi_fd_filestat_set_size(fd, 5));
  CHECK_OK("fd_filestat_get after truncate", __wasi_fd_filestat_get(fd, &fs));
  CHECK("size is 5", fs.size == 5);
  CHECK_OK("fd_filestat_set_size(100)", __wasi_fd_filestat_set_size(fd, 100));
  CHECK_OK("fd_filestat_get after extend", __wasi_fd_filestat_get(fd, &fs));
  CHECK("size is 100", fs.size == 100);
  __wasi_timestamp_t t = 1600000000ull * 1000000000ull;
  CHECK_OK("fd_filestat_set_times(ATIM|MTIM)",
           __wasi_fd_filestat_set_times(fd, t, t + 1000000000ull,
                                        __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
  CHECK_OK("fd_filestat_get after set_times", __wasi_fd_filestat_get(fd, &fs));
  CHECK("atim set", fs.atim == t);
  CHECK("mtim set", fs.mtim == t + 1000000000ull);
  CHECK_OK("fd_filestat_set_times(MTIM_NOW)",
           __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
  CHECK_OK("fd_filestat_get after MTIM_NOW", __wasi_fd_filestat_get(fd, &fs));
  CHECK("mtim is now (after 2020)", fs.mtim > 1577836800ull * 1000000000ull);
  CHECK("atim untouched by MTIM_NOW", fs.atim == t);
  CHECK_ERRNO("fd_filestat_set_times(ATIM|ATIM_NOW) is INVAL",
              __wasi_fd_filestat_set_times(fd, t, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
              __WASI_ERRNO_INVAL);
  CHECK_ERRNO("fd_filestat_set_times(MTIM|MTIM_NOW) is INVAL",
              __wasi_fd_filestat_set_times(fd, 0, t, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
              __WASI_ERRNO_INVAL);

  /* Advice, allocation, syncing. */
  CHECK_OK("fd_advise(SEQUENTIAL)", __wasi_fd_advise(fd, 0, 100, __WASI_ADVICE_SEQUENTIAL));
  CHECK_OK("fd_advise(DONTNEED)", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_DONTNEED));
  CHECK_ERRNO("fd_advise(advice 9) is INVAL", __wasi_fd_advise(fd, 0, 100, 9), __WASI_ERRNO_INVAL);
  CHECK_ERRNO("fd_advise(999) is BADF", __wasi_fd_advise(999, 0, 0, 0), __WASI_ERRNO_BADF);
  {
    /* wasmtime does not support fd_allocate (NOTSUP); a host that does must grow the file. */
    __wasi_errno_t e = __wasi_fd_allocate(fd, 0, 200);
    CHECK("fd_allocate is NOTSUP or succeeds", e == __WASI_ERRNO_NOTSUP || e == 0);
    if (e == 0) {
      CHECK_OK("fd_filestat_get after allocate", __wasi_fd_filestat_get(fd, &fs));
      CHECK("allocate grew the file to 200", fs.size == 200);
      CHECK_OK("fd_allocate inside the file keeps the size", __wasi_fd_allocate(fd, 0, 10));
      CHECK_OK("fd_filestat_get after small allocate", __wasi_fd_filestat_get(fd, &fs));
      CHECK("size still 200", fs.size == 200);
    }
  }
  CHECK_OK("fd_datasync", __wasi_fd_datasync(fd));
  CHECK_OK("fd_sync", __wasi_fd_sync(fd));
  CHECK_ERRNO("fd_sync(999) is BADF", __wasi_fd_sync(999), __WASI_ERRNO_BADF);
  CHECK_ERRNO("fd_datasync(999) is BADF", __wasi_fd_datasync(999), __WASI_ERRNO_BADF);

  /* fdflags: APPEND sends every write to the end. */
  CHECK_OK("fd_filestat_set_size(5) again", __wasi_fd_filestat_set_size(fd, 5));
  CHECK_OK("fd_fdstat_set_flags(APPEND)", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
  CHECK_OK("fd_fdstat_get after set_flags", __wasi_fd_fdstat_get(fd, &st));
  CHECK("APPEND flag reported", (st.fs_flags & __WASI_FDFLAGS_APPEND) || peer_mode());
  CHECK_OK("fd_seek(0, SET) under APPEND", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
  CHECK_OK("fd_write under APPEND", write_all(fd, "+tail", 5, &n));
  CHECK_OK("fd_pread whole file", __wasi_fd_pread(fd, rv, 2, 0, &n));
  CHECK("APPEND write landed at the end", n == 10 && memcmp(buf, "HELLO+tail", 10) == 0);
  CHECK_OK("fd_fdstat_set_flags(0)", __wasi_fd_fdstat_set_flags(fd, 0));
  CHECK_ERRNO("fd_fdstat_set_flags(999) is BADF", __wasi_fd_fdstat_set_flags(999, 0),
              __WASI_ERRNO_BADF);

  /* Rights: shrinking is allowed (wasmtime does not enforce them afterwards, so only the call is
     checked); a bad fd is BADF. */
  CHECK_OK("fd_fdstat_set_rights(shrink)",
           __wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_ALLOCATE, 0));
  CHECK_ERRNO("fd_fdstat_set_rights(999) is BADF", __wasi_fd_fdstat_set_rights(999, 0, 0),
              __WASI_ERRNO_BADF);

  /* Directories are not files. */
  CHECK_OK("fd_fdstat_get(dir)", __wasi_fd_fdstat_get(dir, &st));
  CHECK("dir filetype is DIRECTORY", st.fs_filetype == __WASI_FILETYPE_DIRECTORY);
  CHECK_OK("fd_filestat_get(dir)", __wasi_fd_filestat_get(dir, &fs));
  CHECK("dir filestat filetype is DIRECTORY", fs.filetype == __WASI_FILETYPE_DIRECTORY);
  /* wasmtime answers BADF for these; ISDIR (the host's own answer) is also accepted. */
  {
    int e = write_all(dir, "x", 1, &n);
    CHECK("fd_write(dir) is BADF or ISDIR", e == __WASI_ERRNO_BADF || e == __WASI_ERRNO_ISDIR ||
                                                (peer_mode() && e == __WASI_ERRNO_NOTCAPABLE));
    e = read_some(dir, buf, 4, &n);
    CHECK("fd_read(dir) is BADF or ISDIR", e == __WASI_ERRNO_BADF || e == __WASI_ERRNO_ISDIR ||
                                               (peer_mode() && e == __WASI_ERRNO_NOTCAPABLE));
  }

  /* Read-only and write-only opens. */
  CHECK_OK("path_open read-only",
           __wasi_path_open(dir, 0, "data.txt", 0,
                            __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL,
                            0, 0, &fd2));
  CHECK_ERRNO2("fd_write on a read-only fd is BADF or NOTCAPABLE", write_all(fd2, "x", 1, &n),
               __WASI_ERRNO_BADF, __WASI_ERRNO_NOTCAPABLE);
  CHECK_OK("fd_read on a read-only fd", read_some(fd2, buf, 5, &n));
  CHECK("read-only fd reads HELLO", n == 5 && memcmp(buf, "HELLO", 5) == 0);

  /* Renumber: fd2 takes over fd's number; the old number is closed. */
  CHECK_OK("fd_renumber(fd2 -> fd)", __wasi_fd_renumber(fd2, fd));
  CHECK_ERRNO("renumbered-from fd is BADF", __wasi_fd_fdstat_get(fd2, &st), __WASI_ERRNO_BADF);
  CHECK_OK("fd_tell on the renumbered fd", __wasi_fd_tell(fd, &pos));
  CHECK("renumbered fd keeps its position (5)", pos == 5);
  CHECK_ERRNO("fd_renumber(999 -> fd) is BADF", __wasi_fd_renumber(999, fd), __WASI_ERRNO_BADF);

  CHECK_OK("fd_close", __wasi_fd_close(fd));
  CHECK_ERRNO("fd_close twice is BADF", __wasi_fd_close(fd), __WASI_ERRNO_BADF);
  CHECK_ERRNO("fd_read on a closed fd is BADF", read_some(fd, buf, 1, &n), __WASI_ERRNO_BADF);
  CHECK_ERRNO("fd_tell on a closed fd is BADF", __wasi_fd_tell(fd, &pos), __WASI_ERRNO_BADF);
  CHECK_ERRNO("fd_filestat_get on a closed fd is BADF", __wasi_fd_filestat_get(fd, &fs),
              __WASI_ERRNO_BADF);

  /* fds are reused lowest-first after a close, like wasmtime. */
  CHECK_OK("path_open again", open_at(dir, "data.txt", 0, 0, &fd2));
  CHECK("the closed number is reused", fd2 == fd);
  CHECK_OK("fd_close again", __wasi_fd_close(fd2));

  /* Zero-length reads and writes succeed and move nothing. */
  CHECK_OK("path_open for empty iovecs", open_at(dir, "data.txt", 0, 0, &fd));
  {
    __wasi_iovec_t empty = {(uint8_t *)buf, 0};
    __wasi_ciovec_t cempty = {(const uint8_t *)buf, 0};
    n = 99;
    CHECK_OK("fd_read with a zero-length iovec", __wasi_fd_read(fd, &empty, 1, &n));
    CHECK("it reads 0 bytes", n == 0);
    n = 99;
    CHECK_OK("fd_write with a zero-length iovec", __wasi_fd_write(fd, &cempty, 1, &n));
    CHECK("it writes 0 bytes", n == 0);
    CHECK_OK("fd_tell after empty calls", __wasi_fd_tell(fd, &pos));
    CHECK("the position did not move", pos == 0);
  }
  CHECK_OK("close", __wasi_fd_close(fd));

  /* libc stdio on top of it all. */
  FILE *f = fopen("/sandbox/libc.txt", "w+");
  CHECK("fopen(w+)", f != NULL);
  CHECK("fprintf", fprintf(f, "line %d\n", 42) == 8);
  CHECK("fseek/rewind", fseek(f, 0, SEEK_SET) == 0);
  CHECK("fgets", fgets(buf, sizeof buf, f) && strcmp(buf, "line 42\n") == 0);
  CHECK("fclose", fclose(f) == 0);

  /* A preopen can be closed like any fd (wasmtime allows it); then it is gone. */
  CHECK_OK("fd_close(preopen)", __wasi_fd_close(dir));
  CHECK_ERRNO("fd_prestat_get on the closed preopen is BADF", __wasi_fd_prestat_get(dir, &ps),
              __WASI_ERRNO_BADF);
  CHECK_ERRNO("path_open on the closed preopen is BADF", open_at(dir, "data.txt", 0, 0, &fd),
              __WASI_ERRNO_BADF);
  check_done();
  return 0;
}
