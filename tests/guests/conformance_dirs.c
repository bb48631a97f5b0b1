/*
 * Conformance with wasmtime's preview1 test programs, part 3: fd_readdir (entries, inodes,
 * cookies, 1000 files, growing buffers), readlink (truncation, growing buffers), dangling symlinks
 * and symlink creation.
 *
 * The scratch directory is opened from the preopen /sandbox as a new fd with no rights requested,
 * as wasmtime's harness does.
 */
#include "check.h"

static __wasi_fd_t g_dir;

static __wasi_errno_t po(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path,
                         __wasi_oflags_t of, __wasi_rights_t base, __wasi_fd_t *out) {
  return __wasi_path_open(dir, lf, path, of, base, 0, 0, out);
}

static void create(const char *path) {
  __wasi_fd_t fd;
  CHECK_OK("create file", po(g_dir, 0, path, __WASI_OFLAGS_CREAT, 0, &fd));
  CHECK_OK("close it", __wasi_fd_close(fd));
}

#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)
#define BUF_LEN 256
#define MAX_ENTRIES 16

struct entry {
  __wasi_dirent_t d;
  char name[64];
};

/* Reads one 256-byte buffer of entries from `cookie`; returns the count, sets *eof. */
static int read_dir(__wasi_fd_t fd, __wasi_dircookie_t cookie, struct entry *out, int *eof) {
  uint8_t buf[BUF_LEN];
  __wasi_size_t used = 0;
  CHECK_OK("fd_readdir", __wasi_fd_readdir(fd, buf, BUF_LEN, cookie, &used));
  CHECK("fd_readdir used <= buffer", used <= BUF_LEN);
  *eof = used < BUF_LEN;
  int n = 0;
  size_t at = 0;
  while (at + sizeof(__wasi_dirent_t) <= used && n < MAX_ENTRIES) {
    memcpy(&out[n].d, buf + at, sizeof(__wasi_dirent_t));
    size_t len = out[n].d.d_namlen;
    if (at + sizeof(__wasi_dirent_t) + len > used || len >= sizeof out[n].name) break;
    memcpy(out[n].name, buf + at + sizeof(__wasi_dirent_t), len);
    out[n].name[len] = 0;
    at += sizeof(__wasi_dirent_t) + len;
    n++;
  }
  return n;
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void assert_empty_dir(__wasi_fd_t fd) {
  __wasi_filestat_t st;
  CHECK_OK("filestat of the directory", __wasi_fd_filestat_get(fd, &st));
  struct entry e[MAX_ENTRIES];
  int eof;
  int n = read_dir(fd, 0, e, &eof);
  CHECK("empty dir read in one go", eof);
  qsort(e, n, sizeof e[0], cmp_entry);
  CHECK("empty dir has two entries", n == 2);
  CHECK(". comes first", strcmp(e[0].name, ".") == 0);
  CHECK(". is a directory", e[0].d.d_type == __WASI_FILETYPE_DIRECTORY);
  CHECK(". has the directory's inode", e[0].d.d_ino == st.ino);
  CHECK(". has namlen 1", e[0].d.d_namlen == 1);
  CHECK(".. comes second", strcmp(e[1].name, "..") == 0);
  CHECK(".. is a directory", e[1].d.d_type == __WASI_FILETYPE_DIRECTORY);
}

static void fd_readdir_basic(void) {
  assert_empty_dir(g_dir);
  __wasi_fd_t fd, nested;
  __wasi_filestat_t fst, nst;
  CHECK_OK("create file", po(g_dir, 0, "file", __WASI_OFLAGS_CREAT, RW, &fd));
  CHECK_OK("file filestat", __wasi_fd_filestat_get(fd, &fst));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("mkdir nested", __wasi_path_create_directory(g_dir, "nested"));
  CHECK_OK("open nested without DIRECTORY or rights", po(g_dir, 0, "nested", 0, 0, &nested));
  CHECK_OK("nested filestat", __wasi_fd_filestat_get(nested, &nst));
  struct entry e[MAX_ENTRIES];
  int eof;
  int n = read_dir(g_dir, 0, e, &eof);
  CHECK("whole dir in one go", eof);
  CHECK("four entries", n == 4);
  __wasi_dircookie_t last_cookie = e[2].d.d_next;
  char last_name[64];
  strcpy(last_name, e[3].name);
  qsort(e, n, sizeof e[0], cmp_entry);
  CHECK("sorted: . .. file nested", strcmp(e[0].name, ".") == 0 && strcmp(e[1].name, "..") == 0 &&
                                        strcmp(e[2].name, "file") == 0 &&
                                        strcmp(e[3].name, "nested") == 0);
  CHECK("file is a regular file", e[2].d.d_type == __WASI_FILETYPE_REGULAR_FILE);
  CHECK("file d_ino equals its filestat ino", e[2].d.d_ino == fst.ino);
  CHECK("nested is a directory", e[3].d.d_type == __WASI_FILETYPE_DIRECTORY);
  CHECK("nested d_ino equals its filestat ino", e[3].d.d_ino == nst.ino);
  n = read_dir(g_dir, last_cookie, e, &eof);
  CHECK("reading from the third entry's cookie gives the last entry",
        eof && n == 1 && strcmp(e[0].name, last_name) == 0);
  assert_empty_dir(nested);
  CHECK_OK("close nested", __wasi_fd_close(nested));
  CHECK_OK("unlink file", __wasi_path_unlink_file(g_dir, "file"));
  CHECK_OK("rmdir nested", __wasi_path_remove_directory(g_dir, "nested"));
}

static void fd_readdir_lots(void) {
  char name[32];
  int ok = 1;
  for (int i = 0; i < 1000 && ok; i++) {
    __wasi_fd_t fd;
    snprintf(name, sizeof name, "file.%d", i);
    ok = po(g_dir, 0, name, __WASI_OFLAGS_CREAT, RW, &fd) == 0 && __wasi_fd_close(fd) == 0;
  }
  CHECK("created 1000 files", ok);
  int total = 0;
  __wasi_dircookie_t cookie = 0;
  for (;;) {
    struct entry e[MAX_ENTRIES];
    int eof;
    int n = read_dir(g_dir, cookie, e, &eof);
    total += n;
    if (eof || n == 0) break;
    cookie = e[n - 1].d.d_next;
  }
  CHECK("1002 entries seen through cookies", total == 1002);
  for (int i = 0; i < 1000 && ok; i++) {
    snprintf(name, sizeof name, "file.%d", i);
    ok = __wasi_path_unlink_file(g_dir, name) == 0;
  }
  CHECK("removed 1000 files", ok);
}

static void fd_readdir_unicode_boundary(void) {
  static const char name[] = "\xd0\x94\xd0\xb5\xd0\xb9\xd1\x81\xd1\x82\xd0\xb2\xd0\xb8\xd0\xb5";
  __wasi_fd_t fd;
  CHECK_OK("create a Cyrillic name", po(g_dir, 0, name, __WASI_OFLAGS_CREAT, RW, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));
  static uint8_t buf[512];
  int found = 0;
  for (size_t cap = 0; cap < sizeof buf && !found; cap++) {
    __wasi_size_t used = 0;
    if (__wasi_fd_readdir(g_dir, buf, cap, 0, &used) != 0 || used > cap) break;
    size_t at = 0;
    while (at + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, buf + at, sizeof d);
      if (at + sizeof d + d.d_namlen > used) break;
      if (d.d_namlen == sizeof name - 1 && memcmp(buf + at + sizeof d, name, d.d_namlen) == 0)
        found = 1;
      at += sizeof d + d.d_namlen;
    }
  }
  CHECK("growing buffers one byte at a time eventually hold the whole name", found);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, name));
}

static void readlink_tests(void) {
  create("target");
  CHECK_OK("symlink", __wasi_path_symlink("target", g_dir, "symlink"));
  uint8_t buf[10] = {0};
  __wasi_size_t used = 0;
  CHECK_OK("readlink", __wasi_path_readlink(g_dir, "symlink", buf, sizeof buf, &used));
  CHECK("6 bytes used", used == 6);
  CHECK("target read", memcmp(buf, "target", 6) == 0);
  CHECK("rest untouched", buf[6] == 0 && buf[7] == 0 && buf[8] == 0 && buf[9] == 0);
  uint8_t small[4];
  CHECK_OK("readlink into 4 bytes truncates silently",
           __wasi_path_readlink(g_dir, "symlink", small, sizeof small, &used));
  CHECK("4 bytes: targ", used == 4 && memcmp(small, "targ", 4) == 0);
  CHECK_OK("unlink target", __wasi_path_unlink_file(g_dir, "target"));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  static const char name[] = "\xd0\x94\xd0\xb5\xd0\xb9\xd1\x81\xd1\x82\xd0\xb2\xd0\xb8\xd0\xb5";
  create(name);
  CHECK_OK("symlink to a Cyrillic name", __wasi_path_symlink(name, g_dir, "symlink"));
  uint8_t big[64];
  int ok = 1;
  for (size_t cap = 0; cap <= sizeof name - 1; cap++) {
    if (__wasi_path_readlink(g_dir, "symlink", big, cap, &used) != 0 || used > cap) ok = 0;
  }
  CHECK("readlink succeeds for every buffer size", ok);
  CHECK_OK("readlink, room enough", __wasi_path_readlink(g_dir, "symlink", big, sizeof big, &used));
  CHECK("whole name", used == sizeof name - 1 && memcmp(big, name, used) == 0);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, name));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
}

static void dangling_and_create(void) {
  __wasi_fd_t fd;
  CHECK_OK("dangling symlink", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_ERRNO2("nofollow open DIRECTORY of a dangling symlink",
               po(g_dir, 0, "symlink", __WASI_OFLAGS_DIRECTORY, 0, &fd), __WASI_ERRNO_NOTDIR,
               __WASI_ERRNO_LOOP);
  CHECK_ERRNO("nofollow open of a dangling symlink is LOOP", po(g_dir, 0, "symlink", 0, 0, &fd),
              __WASI_ERRNO_LOOP);
  CHECK_OK("unlink", __wasi_path_unlink_file(g_dir, "symlink"));
  create("target");
  CHECK_OK("symlink to a file", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_OK("follow-open it", po(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", 0, 0, &fd));
  CHECK("fd above stdio", fd > 2);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  CHECK_OK("unlink target", __wasi_path_unlink_file(g_dir, "target"));
  CHECK_OK("mkdir target", __wasi_path_create_directory(g_dir, "target"));
  CHECK_OK("symlink to a dir", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_OK("follow-open it as a directory",
           po(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", __WASI_OFLAGS_DIRECTORY, 0, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  CHECK("a symlink to / is refused", __wasi_path_symlink("/", g_dir, "symlink") != 0);
}

int main(void) {
  __wasi_fd_t pre = find_preopen("/sandbox");
  CHECK_OK("open the scratch directory", __wasi_path_open(pre, 0, ".", 0, 0, 0, 0, &g_dir));
  fd_readdir_basic();
  fd_readdir_lots();
  fd_readdir_unicode_boundary();
  readlink_tests();
  dangling_and_create();
  check_done();
  return 0;
}
