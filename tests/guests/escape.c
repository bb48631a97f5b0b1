/*
 * Confinement: every attempt to reach outside the preopened directory is refused, whichever
 * syscall makes it and however the path gets out (.., absolute paths, symlinks out, symlink
 * chains, .. through a symlink, renames and links out of the preopen).
 *
 * Run with HOST/sandbox preopened as /sandbox, where HOST also holds (outside the sandbox)
 * secret.txt ("TOP SECRET\n"), an empty directory emptydir/ and a symlink outlink -> secret.txt.
 * The test runner checks afterwards that nothing outside the sandbox changed.
 */
#include "check.h"

static __wasi_fd_t dir;
static int refused = 0;

#define REFUSE(what, call) \
  do {                     \
    CHECK_REFUSED(what, call); \
    refused++;             \
  } while (0)

static __wasi_errno_t open_file(__wasi_fd_t base, const char *path, __wasi_oflags_t oflags) {
  __wasi_fd_t fd;
  __wasi_errno_t e = open_at(base, path, oflags, 0, &fd);
  if (e == 0) {
    /* Show what leaked before failing. */
    char buf[32] = {0};
    __wasi_size_t n;
    (void)read_some(fd, buf, sizeof buf - 1, &n);
    printf("# opened %s: %s\n", path, buf);
    (void)__wasi_fd_close(fd);
  }
  return e;
}

/* Creates a symlink `link` -> `target`; a host may refuse targets that point out (then the attempt
   counts as refused). If it was created, opening `through` must be refused. */
static void link_out(const char *what, const char *target, const char *link, const char *through) {
  __wasi_errno_t e = __wasi_path_symlink(target, dir, link);
  if (e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE) {
    char w[128];
    snprintf(w, sizeof w, "%s (link creation refused)", what);
    check_pass(w);
    refused++;
    return;
  }
  if (e != 0) check_fail(what, errno_name(e), __LINE__);
  REFUSE(what, open_file(dir, through, 0));
}

int main(void) {
  dir = find_preopen("/sandbox");
  __wasi_fd_t sub, fd;
  __wasi_filestat_t fs;
  __wasi_size_t n;
  char buf[64];

  make_file(dir, "file.txt", "inside");
  CHECK_OK("path_create_directory(sub)", __wasi_path_create_directory(dir, "sub"));
  CHECK_OK("path_create_directory(sub/deeper)", __wasi_path_create_directory(dir, "sub/deeper"));

  /* Sanity: staying inside with .. is fine. */
  CHECK_OK("sub/../file.txt stays inside", open_file(dir, "sub/../file.txt", 0));
  CHECK_OK("sub/deeper/../../file.txt stays inside", open_file(dir, "sub/deeper/../../file.txt", 0));
  CHECK_OK("'.' opens the sandbox itself", open_at(dir, ".", __WASI_OFLAGS_DIRECTORY, 0, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));

  /* .. and absolute paths. */
  REFUSE("path_open(../secret.txt)", open_file(dir, "../secret.txt", 0));
  REFUSE("path_open(/secret.txt) absolute", open_file(dir, "/secret.txt", 0));
  REFUSE("path_open(/etc/passwd) absolute", open_file(dir, "/etc/passwd", 0));
  REFUSE("path_open(sub/../../secret.txt)", open_file(dir, "sub/../../secret.txt", 0));
  REFUSE("path_open(./../secret.txt)", open_file(dir, "./../secret.txt", 0));
  REFUSE("path_open(.., DIRECTORY)", open_file(dir, "..", __WASI_OFLAGS_DIRECTORY));
  REFUSE("path_open(sub/../.., DIRECTORY)", open_file(dir, "sub/../..", __WASI_OFLAGS_DIRECTORY));
  REFUSE("path_open(sub/deeper/../../../secret.txt)",
         open_file(dir, "sub/deeper/../../../secret.txt", 0));
  CHECK_OK("open sub as a base", open_at(dir, "sub", __WASI_OFLAGS_DIRECTORY, 0, &sub));
  REFUSE("path_open(../../secret.txt) from an opened subdirectory",
         open_file(sub, "../../secret.txt", 0));
  REFUSE("path_open(../file.txt) from an opened subdirectory (above its base)",
         open_file(sub, "../file.txt", 0));
  REFUSE("path_open(CREAT ../created.txt)", open_file(dir, "../created.txt", __WASI_OFLAGS_CREAT));

  /* Every other path call. */
  REFUSE("path_filestat_get(../secret.txt)", __wasi_path_filestat_get(dir, 0, "../secret.txt", &fs));
  REFUSE("path_filestat_set_times(../secret.txt)",
         __wasi_path_filestat_set_times(dir, 0, "../secret.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
  REFUSE("path_create_directory(../newdir)", __wasi_path_create_directory(dir, "../newdir"));
  REFUSE("path_unlink_file(../secret.txt)", __wasi_path_unlink_file(dir, "../secret.txt"));
  REFUSE("path_remove_directory(../emptydir)", __wasi_path_remove_directory(dir, "../emptydir"));
  REFUSE("path_readlink(../outlink)",
         __wasi_path_readlink(dir, "../outlink", (uint8_t *)buf, sizeof buf, &n));
  REFUSE("path_symlink creating ../evil", __wasi_path_symlink("file.txt", dir, "../evil"));

  /* Renames and links out of (or into) the preopen. */
  REFUSE("path_rename(file.txt -> ../moved.txt)",
         __wasi_path_rename(dir, "file.txt", dir, "../moved.txt"));
  REFUSE("path_rename(sub -> ../subout)", __wasi_path_rename(dir, "sub", dir, "../subout"));
  REFUSE("path_rename(../secret.txt -> stolen.txt)",
         __wasi_path_rename(dir, "../secret.txt", dir, "stolen.txt"));
  REFUSE("path_link(../secret.txt -> hard.txt)",
         __wasi_path_link(dir, 0, "../secret.txt", dir, "hard.txt"));
  REFUSE("path_link(file.txt -> ../hardout.txt)",
         __wasi_path_link(dir, 0, "file.txt", dir, "../hardout.txt"));

  /* Symlinks out. */
  link_out("symlink to ../secret.txt, then open it", "../secret.txt", "out", "out");
  {
    __wasi_errno_t e = __wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "out", &fs);
    CHECK("path_filestat_get(out, FOLLOW) is refused or the link was never made",
          e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE || e == __WASI_ERRNO_NOENT);
    refused++;
  }
  link_out("symlink to absolute /etc/passwd, then open it", "/etc/passwd", "abs", "abs");
  link_out("symlink to .., then open up/secret.txt", "..", "up", "up/secret.txt");
  link_out("symlink sub/up2 to ../.., then open sub/up2/secret.txt", "../..", "sub/up2",
           "sub/up2/secret.txt");
  CHECK_OK("symlink l1 -> l2 (inside, dangling for now)", __wasi_path_symlink("l2", dir, "l1"));
  {
    __wasi_errno_t e = __wasi_path_symlink("../secret.txt", dir, "l2");
    if (e == 0) REFUSE("chain l1 -> l2 -> ../secret.txt: open l1", open_file(dir, "l1", 0));
    else CHECK("chain link l2 refused at creation", e == __WASI_ERRNO_PERM ||
                                                       e == __WASI_ERRNO_NOTCAPABLE);
    refused++;
  }
  CHECK_OK("symlink d -> sub (inside)", __wasi_path_symlink("sub", dir, "d"));
  REFUSE(".. through a symlink: d/../../secret.txt", open_file(dir, "d/../../secret.txt", 0));
  REFUSE(".. through a symlink: d/deeper/../../../secret.txt",
         open_file(dir, "d/deeper/../../../secret.txt", 0));
  link_out("symlink to an absolute path naming the sandbox itself", "/sandbox/file.txt", "selfabs",
           "selfabs");

  /* libc's view: /sandbox/.. is still outside. */
  errno = 0;
  FILE *f = fopen("/sandbox/../secret.txt", "r");
  CHECK("fopen(/sandbox/../secret.txt) fails", f == NULL);
  refused++;
  CHECK("fopen(/etc/passwd) fails (no preopen covers it)", fopen("/etc/passwd", "r") == NULL);
  refused++;

  CHECK("at least 20 distinct escape attempts refused", refused >= 20);
  printf("# %d escape attempts refused\n", refused);
  check_done();
  return 0;
}
