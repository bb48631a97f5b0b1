/*
 * Conformance with wasmtime's preview1 test programs, part 5: poll_oneoff on clocks and files,
 * path_exists, dangling_fd, symlink_loop, path_open_create_existing, path_open_missing,
 * path_open_nonblock, file_unbuffered_write, remove_directory, clock_time_get, poll_oneoff_stdio,
 * stdio.
 */
#include "check.h"

static __wasi_fd_t g_dir;

static __wasi_errno_t po(const char *path, __wasi_oflags_t of, __wasi_rights_t base,
                         __wasi_fd_t *out) {
  return __wasi_path_open(g_dir, 0, path, of, base, 0, 0, out);
}

static void create(const char *path) {
  __wasi_fd_t fd;
  CHECK_OK("create file", po(path, __WASI_OFLAGS_CREAT, 0, &fd));
  CHECK_OK("close it", __wasi_fd_close(fd));
}

static __wasi_timestamp_t now(void) {
  __wasi_timestamp_t t = 0;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t);
  return t;
}

static void poll_clock(__wasi_clockid_t id, const char *what) {
  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.userdata = 0x12345678;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = id;
  sub.u.u.clock.timeout = 5000000; /* 5 ms */
  __wasi_event_t ev;
  __wasi_size_t n = 0;
  __wasi_timestamp_t before = now();
  CHECK_OK(what, __wasi_poll_oneoff(&sub, &ev, 1, &n));
  __wasi_timestamp_t after = now();
  CHECK("one event", n == 1);
  CHECK("clock event, no error, our userdata",
        ev.error == 0 && ev.type == __WASI_EVENTTYPE_CLOCK && ev.userdata == 0x12345678);
  CHECK("slept at least 5 ms", after - before >= 5000000);
}

static void poll_files(void) {
  __wasi_event_t evs[2];
  __wasi_size_t n = 0;
  CHECK_ERRNO("poll_oneoff with no subscriptions is INVAL",
              __wasi_poll_oneoff((const __wasi_subscription_t *)evs, evs, 0, &n),
              __WASI_ERRNO_INVAL);
  __wasi_fd_t w, r, w2;
  CHECK_OK("create readable_file", po("readable_file", __WASI_OFLAGS_CREAT,
                                      __WASI_RIGHTS_FD_WRITE, &w));
  __wasi_ciovec_t one = {(const uint8_t *)"\1", 1};
  CHECK_OK("write a byte", __wasi_fd_write(w, &one, 1, &n));
  CHECK_OK("close", __wasi_fd_close(w));
  CHECK_OK("open it for reading", po("readable_file", 0, __WASI_RIGHTS_FD_READ, &r));
  CHECK_OK("create writable_file", po("writable_file", __WASI_OFLAGS_CREAT,
                                      __WASI_RIGHTS_FD_WRITE, &w2));
  __wasi_subscription_t subs[2];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 1;
  subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[0].u.u.fd_read.file_descriptor = r;
  subs[1].userdata = 2;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  subs[1].u.u.fd_write.file_descriptor = w2;
  int got_read = 0, got_write = 0, ok = 1;
  for (int tries = 0; tries < 10 && !(got_read && got_write); tries++) {
    CHECK_OK("poll_oneoff on two files", __wasi_poll_oneoff(subs, evs, 2, &n));
    for (__wasi_size_t i = 0; i < n; i++) {
      if (evs[i].userdata == 1) {
        got_read = 1;
        ok = ok && evs[i].error == 0 && evs[i].type == __WASI_EVENTTYPE_FD_READ;
      } else if (evs[i].userdata == 2) {
        got_write = 1;
        ok = ok && evs[i].error == 0 && evs[i].type == __WASI_EVENTTYPE_FD_WRITE;
      }
    }
  }
  CHECK("files are ready for reading and writing", got_read && got_write && ok);
  CHECK_OK("close", __wasi_fd_close(r));
  CHECK_OK("close", __wasi_fd_close(w2));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "readable_file"));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "writable_file"));
  subs[0].u.u.fd_read.file_descriptor = 0xffffffff;
  subs[1].u.u.fd_write.file_descriptor = 0xffffffff;
  CHECK_ERRNO("poll_oneoff on an invalid fd is BADF", __wasi_poll_oneoff(subs, evs, 2, &n),
              __WASI_ERRNO_BADF);
}

static void path_exists(void) {
  __wasi_filestat_t st;
  CHECK_OK("mkdir subdir", __wasi_path_create_directory(g_dir, "subdir"));
  CHECK_OK("stat subdir", __wasi_path_filestat_get(g_dir, 0, "subdir", &st));
  CHECK("a directory", st.filetype == __WASI_FILETYPE_DIRECTORY);
  CHECK_OK("stat subdir (follow)",
           __wasi_path_filestat_get(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "subdir", &st));
  CHECK("a directory", st.filetype == __WASI_FILETYPE_DIRECTORY);
  create("subdir/file");
  CHECK_OK("stat subdir/file", __wasi_path_filestat_get(g_dir, 0, "subdir/file", &st));
  CHECK("a regular file", st.filetype == __WASI_FILETYPE_REGULAR_FILE);
  CHECK_OK("symlink link1 -> subdir/file", __wasi_path_symlink("subdir/file", g_dir, "link1"));
  CHECK_OK("stat link1", __wasi_path_filestat_get(g_dir, 0, "link1", &st));
  CHECK("a symlink", st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
  CHECK_OK("stat link1 (follow)",
           __wasi_path_filestat_get(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link1", &st));
  CHECK("a regular file", st.filetype == __WASI_FILETYPE_REGULAR_FILE);
  CHECK_OK("symlink link2 -> subdir", __wasi_path_symlink("subdir", g_dir, "link2"));
  CHECK_OK("stat link2", __wasi_path_filestat_get(g_dir, 0, "link2", &st));
  CHECK("a symlink", st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
  CHECK_OK("stat link2 (follow)",
           __wasi_path_filestat_get(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link2", &st));
  CHECK("a directory", st.filetype == __WASI_FILETYPE_DIRECTORY);
  CHECK_OK("unlink link1", __wasi_path_unlink_file(g_dir, "link1"));
  CHECK_OK("unlink link2", __wasi_path_unlink_file(g_dir, "link2"));
  CHECK_OK("unlink subdir/file", __wasi_path_unlink_file(g_dir, "subdir/file"));
  CHECK_OK("rmdir subdir", __wasi_path_remove_directory(g_dir, "subdir"));
}

static void dangling_fd(void) {
  __wasi_fd_t fd, sub;
  create("file");
  CHECK_OK("open file", po("file", 0, 0, &fd));
  CHECK_OK("unlink the open file", __wasi_path_unlink_file(g_dir, "file"));
  create("file");
  CHECK_OK("mkdir subdir", __wasi_path_create_directory(g_dir, "subdir"));
  CHECK_OK("open subdir", po("subdir", __WASI_OFLAGS_DIRECTORY, 0, &sub));
  CHECK_OK("rmdir the open subdir", __wasi_path_remove_directory(g_dir, "subdir"));
  CHECK_OK("mkdir subdir again", __wasi_path_create_directory(g_dir, "subdir"));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("close", __wasi_fd_close(sub));
  CHECK_OK("unlink file", __wasi_path_unlink_file(g_dir, "file"));
  CHECK_OK("rmdir subdir", __wasi_path_remove_directory(g_dir, "subdir"));
}

static void loops_and_existing(void) {
  __wasi_fd_t fd;
  CHECK_OK("self-referencing symlink", __wasi_path_symlink("symlink", g_dir, "symlink"));
  CHECK_ERRNO("opening it is LOOP", po("symlink", 0, 0, &fd), __WASI_ERRNO_LOOP);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "symlink"));
  create("file");
  CHECK_ERRNO("CREAT|EXCL on an existing file is EXIST",
              po("file", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd), __WASI_ERRNO_EXIST);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
  CHECK_OK("mkdir dir", __wasi_path_create_directory(g_dir, "dir"));
  CHECK_OK("rmdir dir", __wasi_path_remove_directory(g_dir, "dir"));
  create("file");
  CHECK_ERRNO("rmdir of a file is NOTDIR", __wasi_path_remove_directory(g_dir, "file"),
              __WASI_ERRNO_NOTDIR);
  CHECK_ERRNO("rmdir of file/ is NOTDIR", __wasi_path_remove_directory(g_dir, "file/"),
              __WASI_ERRNO_NOTDIR);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void open_misc(void) {
  __wasi_fd_t fd, r, w;
  CHECK_ERRNO("opening a missing file without CREAT is NOENT", po("file", 0, 0, &fd),
              __WASI_ERRNO_NOENT);
  CHECK_OK("open . with NONBLOCK",
           __wasi_path_open(g_dir, 0, ".", 0, 0, 0, __WASI_FDFLAGS_NONBLOCK, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("create for reading", po("file", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, &r));
  CHECK_OK("open again for writing", po("file", 0, __WASI_RIGHTS_FD_WRITE, &w));
  __wasi_ciovec_t one = {(const uint8_t *)"\1", 1};
  __wasi_size_t n = 0;
  CHECK_OK("write a byte", __wasi_fd_write(w, &one, 1, &n));
  uint8_t b = 0;
  __wasi_iovec_t in = {&b, 1};
  CHECK_OK("read it through the other fd", __wasi_fd_read(r, &in, 1, &n));
  CHECK("the write is visible at once (unbuffered)", n == 1 && b == 1);
  CHECK_OK("close", __wasi_fd_close(w));
  CHECK_OK("close", __wasi_fd_close(r));
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "file"));
}

static void clock_and_stdio_poll(void) {
  __wasi_timestamp_t a, b;
  CHECK_OK("clock_time_get, precision 1", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &a));
  CHECK_OK("clock_time_get, precision 0", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &a));
  CHECK_OK("again", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &b));
  CHECK("monotonic", a <= b);
  /* stdin: either readable or the 200 ms clock fires; both are right. */
  __wasi_subscription_t subs[3];
  __wasi_event_t evs[3];
  __wasi_size_t n = 0;
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 0x12345678;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 200000000;
  subs[1].userdata = 0x876543210ull;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[1].u.u.fd_read.file_descriptor = 0;
  CHECK_OK("poll stdin with a 200 ms timeout", __wasi_poll_oneoff(subs, evs, 2, &n));
  int ok = n >= 1;
  for (__wasi_size_t i = 0; i < n; i++) {
    ok = ok && evs[i].error == 0 &&
         ((evs[i].type == __WASI_EVENTTYPE_CLOCK && evs[i].userdata == 0x12345678) ||
          (evs[i].type == __WASI_EVENTTYPE_FD_READ && evs[i].userdata == 0x876543210ull));
  }
  CHECK("a clock or stdin event, without errors", ok);
  /* stdout and stderr become writable before the 200 ms clock. */
  int out = 0, err = 0, timed_out = 0;
  while (!(out && err) && !timed_out) {
    __wasi_size_t k = 0;
    subs[0].userdata = 0x12345678;
    if (!out) {
      memset(&subs[1 + k], 0, sizeof subs[0]);
      subs[1 + k].userdata = 1;
      subs[1 + k].u.tag = __WASI_EVENTTYPE_FD_WRITE;
      subs[1 + k].u.u.fd_write.file_descriptor = 1;
      k++;
    }
    if (!err) {
      memset(&subs[1 + k], 0, sizeof subs[0]);
      subs[1 + k].userdata = 2;
      subs[1 + k].u.tag = __WASI_EVENTTYPE_FD_WRITE;
      subs[1 + k].u.u.fd_write.file_descriptor = 2;
      k++;
    }
    if (__wasi_poll_oneoff(subs, evs, 1 + k, &n) != 0) break;
    for (__wasi_size_t i = 0; i < n; i++) {
      if (evs[i].userdata == 0x12345678) timed_out = 1;
      else if (evs[i].userdata == 1 && evs[i].error == 0) out = 1;
      else if (evs[i].userdata == 2 && evs[i].error == 0) err = 1;
    }
  }
  CHECK("stdout and stderr are writable", out && err);
}

/* wasmtime's stdio test: fdstat on 0, 1, 2, and renumbering each to a number that is not open. */
static void stdio(void) {
  __wasi_fdstat_t st;
  int ok = 1;
  for (__wasi_fd_t fd = 0; fd < 3; fd++) ok = ok && __wasi_fd_fdstat_get(fd, &st) == 0;
  CHECK("fdstat on stdio", ok);
  fflush(stdout);
  /* Move each stdio fd to fd + 100 and back, so that the results can still be printed. */
  __wasi_errno_t e[3], back[3];
  for (__wasi_fd_t fd = 0; fd < 3; fd++) {
    e[fd] = __wasi_fd_renumber(fd, fd + 100);
    back[fd] = e[fd] == 0 ? __wasi_fd_renumber(fd + 100, fd) : 0;
  }
  for (int fd = 0; fd < 3; fd++) {
    CHECK_OK("renumber a stdio fd to a free number", e[fd]);
    CHECK_OK("and back", back[fd]);
  }
}

int main(void) {
  __wasi_fd_t pre = find_preopen("/sandbox");
  CHECK_OK("open the scratch directory",
           __wasi_path_open(pre, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &g_dir));
  poll_clock(__WASI_CLOCKID_MONOTONIC, "poll_oneoff 5 ms on the monotonic clock");
  poll_clock(__WASI_CLOCKID_REALTIME, "poll_oneoff 5 ms on the realtime clock");
  poll_files();
  path_exists();
  dangling_fd();
  loops_and_existing();
  open_misc();
  clock_and_stdio_poll();
  stdio();
  check_done();
  return 0;
}
