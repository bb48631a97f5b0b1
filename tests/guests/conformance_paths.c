/*
 * Conformance with wasmtime's preview1 test programs, part 1: path_open, renames, links, symlinks,
 * trailing slashes, odd paths, rights of a preopen.
 *
 * Each block re-states, in our own words and code, the assertions of one program of wasmtime's
 * crates/test-programs (preview1_<name>.rs), with the errnos wasmtime accepts on Unix (where it
 * accepts several, so do we). The scratch directory is the preopen /sandbox.
 */
#include "check.h"

static __wasi_fd_t g_dir;

/* path_open with an explicit path length (the libc wrapper uses strlen). */
int32_t raw_path_open(int32_t fd, int32_t dirflags, const char *path, int32_t path_len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      __wasi_fd_t *out)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")));

/* path_open with explicit lookup flags and rights (wasmtime's tests often pass no rights). */
static __wasi_errno_t po(__wasi_fd_t dir, __wasi_lookupflags_t lf, const char *path,
                         __wasi_oflags_t of, __wasi_rights_t base, __wasi_fdflags_t ff,
                         __wasi_fd_t *out) {
  return __wasi_path_open(dir, lf, path, of, base, 0, ff, out);
}

/* Creates an empty file (wasmtime's create_file helper: CREAT, no rights). */
static void create(__wasi_fd_t dir, const char *path) {
  __wasi_fd_t fd;
  CHECK_OK("create file", po(dir, 0, path, __WASI_OFLAGS_CREAT, 0, 0, &fd));
  CHECK_OK("close created file", __wasi_fd_close(fd));
}

static void path_open_preopen(void) {
  __wasi_fdstat_t st;
  CHECK_OK("preopen fdstat", __wasi_fd_fdstat_get(g_dir, &st));
  const __wasi_rights_t dir_base =
      __WASI_RIGHTS_PATH_CREATE_DIRECTORY | __WASI_RIGHTS_PATH_CREATE_FILE |
      __WASI_RIGHTS_PATH_LINK_SOURCE | __WASI_RIGHTS_PATH_LINK_TARGET | __WASI_RIGHTS_PATH_OPEN |
      __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_READLINK | __WASI_RIGHTS_PATH_RENAME_SOURCE |
      __WASI_RIGHTS_PATH_RENAME_TARGET | __WASI_RIGHTS_PATH_SYMLINK |
      __WASI_RIGHTS_PATH_REMOVE_DIRECTORY | __WASI_RIGHTS_PATH_UNLINK_FILE |
      __WASI_RIGHTS_PATH_FILESTAT_GET | __WASI_RIGHTS_PATH_FILESTAT_SET_TIMES |
      __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES;
  const __wasi_rights_t dir_inh =
      dir_base | __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK |
      __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_TELL |
      __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_ALLOCATE |
      __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_POLL_FD_READWRITE;
  CHECK("preopen has every directory base right", (st.fs_rights_base & dir_base) == dir_base);
  CHECK("preopen has every inheriting right", (st.fs_rights_inheriting & dir_inh) == dir_inh);
  __wasi_fd_t fd;
  CHECK_OK("open . with the same rights",
           __wasi_path_open(g_dir, 0, ".", 0, st.fs_rights_base, st.fs_rights_inheriting, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("open . with no rights", po(g_dir, 0, ".", 0, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("open . DIRECTORY with no rights", po(g_dir, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("open . DIRECTORY with FD_READ",
           po(g_dir, 0, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_ERRNO("open . DIRECTORY with FD_READ|FD_WRITE is ISDIR",
              po(g_dir, 0, ".", __WASI_OFLAGS_DIRECTORY,
                 __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, &fd),
              __WASI_ERRNO_ISDIR);
}

static void nofollow_errors(void) {
  __wasi_fd_t fd;
  CHECK_OK("mkdir target", __wasi_path_create_directory(g_dir, "target"));
  CHECK_OK("symlink -> target", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_ERRNO2("nofollow open DIRECTORY of a dir symlink",
               po(g_dir, 0, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd), __WASI_ERRNO_LOOP,
               __WASI_ERRNO_NOTDIR);
  CHECK_ERRNO2("nofollow open of a dir symlink", po(g_dir, 0, "symlink", 0, 0, 0, &fd),
               __WASI_ERRNO_LOOP, __WASI_ERRNO_ACCES);
  CHECK_OK("follow open DIRECTORY of a dir symlink",
           po(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0,
              &fd));
  CHECK("fd above stdio", fd > 2);
  (void)__wasi_fd_close(fd);
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  create(g_dir, "target");
  CHECK_OK("symlink -> file", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_ERRNO2("nofollow open DIRECTORY of a file symlink",
               po(g_dir, 0, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd), __WASI_ERRNO_LOOP,
               __WASI_ERRNO_NOTDIR);
  CHECK_ERRNO("nofollow open of a file symlink is LOOP", po(g_dir, 0, "symlink", 0, 0, 0, &fd),
              __WASI_ERRNO_LOOP);
  CHECK_ERRNO("follow open DIRECTORY of a file symlink is NOTDIR",
              po(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", __WASI_OFLAGS_DIRECTORY, 0,
                 0, &fd),
              __WASI_ERRNO_NOTDIR);
  CHECK_OK("unlink target", __wasi_path_unlink_file(g_dir, "target"));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
}

static void path_rename(void) {
  __wasi_fd_t fd;
  CHECK_OK("mkdir source", __wasi_path_create_directory(g_dir, "source"));
  CHECK_OK("rename dir to a new name", __wasi_path_rename(g_dir, "source", g_dir, "target"));
  CHECK_ERRNO("old dir name is gone", po(g_dir, 0, "source", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd),
              __WASI_ERRNO_NOENT);
  CHECK_OK("new dir name opens", po(g_dir, 0, "target", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  CHECK_OK("mkdir source", __wasi_path_create_directory(g_dir, "source"));
  CHECK_OK("mkdir target", __wasi_path_create_directory(g_dir, "target"));
  CHECK_OK("rename dir over an empty dir", __wasi_path_rename(g_dir, "source", g_dir, "target"));
  CHECK_ERRNO("old dir name is gone", po(g_dir, 0, "source", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd),
              __WASI_ERRNO_NOENT);
  CHECK_OK("target opens", po(g_dir, 0, "target", __WASI_OFLAGS_DIRECTORY, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  CHECK_OK("mkdir source", __wasi_path_create_directory(g_dir, "source"));
  CHECK_OK("mkdir target", __wasi_path_create_directory(g_dir, "target"));
  create(g_dir, "target/file");
  CHECK_ERRNO("rename dir over a non-empty dir is NOTEMPTY",
              __wasi_path_rename(g_dir, "source", g_dir, "target"), __WASI_ERRNO_NOTEMPTY);
  CHECK_ERRNO("rename dir over a file is NOTDIR",
              __wasi_path_rename(g_dir, "source", g_dir, "target/file"), __WASI_ERRNO_NOTDIR);
  CHECK_OK("unlink target/file", __wasi_path_unlink_file(g_dir, "target/file"));
  CHECK_OK("rmdir source", __wasi_path_remove_directory(g_dir, "source"));
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  create(g_dir, "source");
  CHECK_OK("rename file to a new name", __wasi_path_rename(g_dir, "source", g_dir, "target"));
  CHECK_ERRNO("old file name is gone", po(g_dir, 0, "source", 0, 0, 0, &fd), __WASI_ERRNO_NOENT);
  CHECK_OK("new file name opens", po(g_dir, 0, "target", 0, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("unlink target", __wasi_path_unlink_file(g_dir, "target"));
  create(g_dir, "source");
  create(g_dir, "target");
  CHECK_OK("rename file over a file", __wasi_path_rename(g_dir, "source", g_dir, "target"));
  CHECK_ERRNO("old file name is gone", po(g_dir, 0, "source", 0, 0, 0, &fd), __WASI_ERRNO_NOENT);
  CHECK_OK("unlink target", __wasi_path_unlink_file(g_dir, "target"));
  create(g_dir, "source");
  CHECK_OK("mkdir target", __wasi_path_create_directory(g_dir, "target"));
  CHECK_ERRNO("rename file over a dir is ISDIR",
              __wasi_path_rename(g_dir, "source", g_dir, "target"), __WASI_ERRNO_ISDIR);
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  CHECK_OK("unlink source", __wasi_path_unlink_file(g_dir, "source"));
}

static void interesting_paths(void) {
  __wasi_fd_t fd;
  CHECK_OK("mkdir dir", __wasi_path_create_directory(g_dir, "dir"));
  CHECK_OK("mkdir dir/nested", __wasi_path_create_directory(g_dir, "dir/nested"));
  create(g_dir, "dir/nested/file");
  CHECK_ERRNO("absolute path is PERM", po(g_dir, 0, "/dir/nested/file", 0, 0, 0, &fd),
              __WASI_ERRNO_PERM);
  CHECK_OK("path with . and .. and //",
           po(g_dir, 0, "dir/.//nested/../../dir/nested/../nested///./file", 0, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  /* A trailing NUL inside the path's length. */
  static const char with_nul[] = "dir/nested/file\0";
  CHECK_ERRNO("trailing NUL is INVAL",
              raw_path_open(g_dir, 0, with_nul, sizeof with_nul - 1, 0, 0, 0, 0, &fd),
              __WASI_ERRNO_INVAL);
  CHECK_ERRNO2("file with trailing slash", po(g_dir, 0, "dir/nested/file/", 0, 0, 0, &fd),
               __WASI_ERRNO_NOTDIR, __WASI_ERRNO_NOENT);
  CHECK_ERRNO2("file with trailing slashes", po(g_dir, 0, "dir/nested/file///", 0, 0, 0, &fd),
               __WASI_ERRNO_NOTDIR, __WASI_ERRNO_NOENT);
  CHECK_OK("dir with trailing slash", po(g_dir, 0, "dir/nested/", 0, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("dir with trailing slashes", po(g_dir, 0, "dir/nested///", 0, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_ERRNO("too many .. is PERM",
              po(g_dir, 0, "dir/nested/../../../sandbox/dir/nested/file", 0, 0, 0, &fd),
              __WASI_ERRNO_PERM);
  CHECK_OK("unlink dir/nested/file", __wasi_path_unlink_file(g_dir, "dir/nested/file"));
  CHECK_OK("rmdir dir/nested", __wasi_path_remove_directory(g_dir, "dir/nested"));
  CHECK_OK("rmdir dir", __wasi_path_remove_directory(g_dir, "dir"));
}

static void symlink_trailing_slashes(void) {
  CHECK_ERRNO("dangling symlink named target/ is NOENT",
              __wasi_path_symlink("source", g_dir, "target/"), __WASI_ERRNO_NOENT);
  CHECK_OK("dangling symlink", __wasi_path_symlink("source", g_dir, "target"));
  CHECK_OK("unlink it", __wasi_path_unlink_file(g_dir, "target"));
  CHECK_OK("mkdir target", __wasi_path_create_directory(g_dir, "target"));
  CHECK_ERRNO("symlink over dir target/ is EXIST", __wasi_path_symlink("source", g_dir, "target/"),
              __WASI_ERRNO_EXIST);
  CHECK_ERRNO("symlink over dir target is EXIST", __wasi_path_symlink("source", g_dir, "target"),
              __WASI_ERRNO_EXIST);
  CHECK_OK("rmdir target", __wasi_path_remove_directory(g_dir, "target"));
  create(g_dir, "target");
  CHECK_ERRNO("symlink over file target/ is NOTDIR",
              __wasi_path_symlink("source", g_dir, "target/"), __WASI_ERRNO_NOTDIR);
  CHECK_ERRNO("symlink over file target is EXIST", __wasi_path_symlink("source", g_dir, "target"),
              __WASI_ERRNO_EXIST);
  CHECK_OK("unlink target", __wasi_path_unlink_file(g_dir, "target"));
}

static void stat_eq(const char *what, __wasi_fd_t a, __wasi_fd_t b) {
  __wasi_filestat_t x, y;
  CHECK_OK("filestat a", __wasi_fd_filestat_get(a, &x));
  CHECK_OK("filestat b", __wasi_fd_filestat_get(b, &y));
  CHECK(what, x.dev == y.dev && x.ino == y.ino && x.atim == y.atim && x.mtim == y.mtim &&
                  x.ctim == y.ctim && x.size == y.size && x.nlink == y.nlink &&
                  x.filetype == y.filetype);
  __wasi_fdstat_t s, t;
  CHECK_OK("fdstat a", __wasi_fd_fdstat_get(a, &s));
  CHECK_OK("fdstat b", __wasi_fd_fdstat_get(b, &t));
  CHECK("link and file have equal fdstats",
        s.fs_flags == t.fs_flags && s.fs_filetype == t.fs_filetype &&
            s.fs_rights_base == t.fs_rights_base &&
            s.fs_rights_inheriting == t.fs_rights_inheriting);
}

static void path_link(void) {
  __wasi_fd_t fd, file_fd, link_fd, sub;
  CHECK_OK("create file", po(g_dir, 0, "file", __WASI_OFLAGS_CREAT, 0, 0, &fd));
  (void)__wasi_fd_close(fd);
  CHECK_OK("open file", po(g_dir, 0, "file", 0, 0, 0, &file_fd));
  CHECK_OK("link in the same dir", __wasi_path_link(g_dir, 0, "file", g_dir, "link"));
  CHECK_OK("open link", po(g_dir, 0, "link", 0, 0, 0, &link_fd));
  stat_eq("link and file have equal filestats", file_fd, link_fd);
  (void)__wasi_fd_close(link_fd);
  CHECK_OK("unlink link", __wasi_path_unlink_file(g_dir, "link"));
  CHECK_OK("mkdir subdir", __wasi_path_create_directory(g_dir, "subdir"));
  CHECK_OK("open subdir", po(g_dir, 0, "subdir", __WASI_OFLAGS_DIRECTORY, 0, 0, &sub));
  CHECK_OK("link into subdir", __wasi_path_link(g_dir, 0, "file", sub, "link"));
  CHECK_OK("open subdir link", po(sub, 0, "link", 0, 0, 0, &link_fd));
  stat_eq("subdir link and file have equal filestats", file_fd, link_fd);
  (void)__wasi_fd_close(link_fd);
  CHECK_OK("unlink subdir link", __wasi_path_unlink_file(sub, "link"));
  (void)__wasi_fd_close(sub);
  CHECK_OK("rmdir subdir", __wasi_path_remove_directory(g_dir, "subdir"));
  create(g_dir, "link");
  CHECK_ERRNO("link over a file is EXIST", __wasi_path_link(g_dir, 0, "file", g_dir, "link"),
              __WASI_ERRNO_EXIST);
  CHECK_OK("unlink link", __wasi_path_unlink_file(g_dir, "link"));
  CHECK_ERRNO("link to itself is EXIST", __wasi_path_link(g_dir, 0, "file", g_dir, "file"),
              __WASI_ERRNO_EXIST);
  CHECK_OK("mkdir link", __wasi_path_create_directory(g_dir, "link"));
  CHECK_ERRNO("link over a dir is EXIST", __wasi_path_link(g_dir, 0, "file", g_dir, "link"),
              __WASI_ERRNO_EXIST);
  CHECK_OK("rmdir link", __wasi_path_remove_directory(g_dir, "link"));
  CHECK_OK("mkdir subdir", __wasi_path_create_directory(g_dir, "subdir"));
  CHECK_ERRNO2("link of a dir", __wasi_path_link(g_dir, 0, "subdir", g_dir, "link"),
               __WASI_ERRNO_PERM, __WASI_ERRNO_ACCES);
  CHECK_OK("rmdir subdir", __wasi_path_remove_directory(g_dir, "subdir"));
  CHECK_ERRNO("link named link/ is NOENT", __wasi_path_link(g_dir, 0, "file", g_dir, "link/"),
              __WASI_ERRNO_NOENT);
  CHECK_OK("dangling symlink", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_OK("hard link of a dangling symlink",
           __wasi_path_link(g_dir, 0, "symlink", g_dir, "link"));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  CHECK_OK("unlink link", __wasi_path_unlink_file(g_dir, "link"));
  CHECK_OK("symlink loop", __wasi_path_symlink("symlink", g_dir, "symlink"));
  CHECK_OK("hard link of a symlink loop", __wasi_path_link(g_dir, 0, "symlink", g_dir, "link"));
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  CHECK_OK("unlink link", __wasi_path_unlink_file(g_dir, "link"));
  CHECK_OK("dangling symlink", __wasi_path_symlink("target", g_dir, "symlink"));
  CHECK_ERRNO("link over a dangling symlink is EXIST",
              __wasi_path_link(g_dir, 0, "file", g_dir, "symlink"), __WASI_ERRNO_EXIST);
  CHECK_ERRNO("path_link with SYMLINK_FOLLOW is INVAL",
              __wasi_path_link(g_dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", g_dir, "link"),
              __WASI_ERRNO_INVAL);
  CHECK_OK("unlink symlink", __wasi_path_unlink_file(g_dir, "symlink"));
  (void)__wasi_fd_close(file_fd);
  CHECK_OK("unlink file", __wasi_path_unlink_file(g_dir, "file"));
}

int main(void) {
  g_dir = find_preopen("/sandbox");
  path_open_preopen();
  nofollow_errors();
  path_rename();
  interesting_paths();
  symlink_trailing_slashes();
  path_link();
  check_done();
  return 0;
}
