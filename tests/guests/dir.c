/*
 * fd_readdir: every entry exactly once, d_type and d_namlen right, resuming from cookies with
 * small buffers, and libc's opendir/readdir on top.
 *
 * Run with a writable empty directory preopened as /sandbox.
 */
#include <dirent.h>

#include "check.h"

#define NFILES 300

int main(void) {
  __wasi_fd_t dir = find_preopen("/sandbox");
  __wasi_fd_t d, fd;
  char name[32];
  __wasi_size_t used;

  CHECK_OK("path_create_directory(list)", __wasi_path_create_directory(dir, "list"));
  for (int i = 0; i < NFILES; i++) {
    snprintf(name, sizeof name, "list/file-%03d", i);
    make_file(dir, name, "x");
  }
  CHECK_OK("path_create_directory(list/subdir)", __wasi_path_create_directory(dir, "list/subdir"));
  CHECK_OK("open list", open_at(dir, "list", __WASI_OFLAGS_DIRECTORY, 0, &d));

  /* Read with a buffer that holds a couple of entries at a time, so entries get cut. */
  static uint8_t seen[NFILES];
  int dots = 0, dotdot = 0, subdir = 0, bad_type = 0, bad_name = 0, calls = 0, dup = 0;
  __wasi_dircookie_t cookie = __WASI_DIRCOOKIE_START;
  uint8_t buf[64];
  for (;;) {
    __wasi_errno_t e = __wasi_fd_readdir(d, buf, sizeof buf, cookie, &used);
    if (e != 0) check_fail("fd_readdir (small buffer)", errno_name(e), __LINE__);
    calls++;
    size_t off = 0;
    int progressed = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t ent;
      memcpy(&ent, buf + off, sizeof ent);
      if (off + sizeof ent + ent.d_namlen > used) break; /* cut entry: resume from its cookie */
      const char *nm = (const char *)buf + off + sizeof ent;
      if (ent.d_namlen == 1 && nm[0] == '.') dots++;
      else if (ent.d_namlen == 2 && nm[0] == '.' && nm[1] == '.') dotdot++;
      else if (ent.d_namlen == 6 && memcmp(nm, "subdir", 6) == 0) {
        subdir++;
        if (ent.d_type != __WASI_FILETYPE_DIRECTORY) bad_type++;
      } else if (ent.d_namlen == 8 && memcmp(nm, "file-", 5) == 0) {
        int k = (nm[5] - '0') * 100 + (nm[6] - '0') * 10 + (nm[7] - '0');
        if (k < 0 || k >= NFILES) bad_name++;
        else if (seen[k]++) dup++;
        if (ent.d_type != __WASI_FILETYPE_REGULAR_FILE) bad_type++;
      } else {
        bad_name++;
      }
      cookie = ent.d_next;
      off += sizeof ent + ent.d_namlen;
      progressed = 1;
    }
    if (used < sizeof buf) break; /* a short buffer means the end */
    if (!progressed) {
      check_fail("fd_readdir makes progress", "a 64-byte buffer held no whole entry", __LINE__);
    }
    if (calls > 10000) check_fail("fd_readdir ends", "more than 10000 calls", __LINE__);
  }
  CHECK("fd_readdir with a 64-byte buffer walked the directory", calls > 10);
  int missing = 0;
  for (int i = 0; i < NFILES; i++) missing += seen[i] == 0;
  CHECK("every file listed", missing == 0);
  CHECK("no file listed twice", dup == 0);
  CHECK("subdir listed once", subdir == 1);
  CHECK("no unexpected names", bad_name == 0);
  CHECK("d_type right for files and the directory", bad_type == 0);
  /* wasmtime lists . and ..; Node's WASI leaves them out. */
  CHECK("'.' and '..' listed once each", (dots == 1 && dotdot == 1) ||
                                             (peer_mode() && dots == 0 && dotdot == 0));

  /* A cookie from the middle resumes there; a cookie past the end gives nothing. */
  CHECK_OK("fd_readdir with a big buffer", __wasi_fd_readdir(d, buf, sizeof buf, 0, &used));
  CHECK("a 64-byte buffer comes back full", used == sizeof buf);
  static uint8_t big[65536];
  CHECK_OK("fd_readdir everything at once", __wasi_fd_readdir(d, big, sizeof big, 0, &used));
  size_t off = 0;
  int count = 0;
  __wasi_dircookie_t third = 0;
  while (off + sizeof(__wasi_dirent_t) <= used) {
    __wasi_dirent_t ent;
    memcpy(&ent, big + off, sizeof ent);
    if (++count == 3) third = ent.d_next;
    off += sizeof ent + ent.d_namlen;
  }
  CHECK("one big read lists every entry", count == NFILES + 1 + (dots ? 2 : 0));
  CHECK("the big read is not padded", off == used);
  __wasi_size_t used2;
  CHECK_OK("fd_readdir from the third entry's cookie",
           __wasi_fd_readdir(d, big, sizeof big, third, &used2));
  off = 0;
  int rest = 0;
  while (off + sizeof(__wasi_dirent_t) <= used2) {
    __wasi_dirent_t ent;
    memcpy(&ent, big + off, sizeof ent);
    rest++;
    off += sizeof ent + ent.d_namlen;
  }
  CHECK("resuming lists the remaining entries", rest == count - 3);

  CHECK_OK("open a file", open_at(dir, "list/file-000", 0, 0, &fd));
  CHECK_ERRNO_PEER("fd_readdir on a file is NOTDIR", __wasi_fd_readdir(fd, buf, sizeof buf, 0, &used),
                   __WASI_ERRNO_NOTDIR, __WASI_ERRNO_NOTCAPABLE);
  CHECK_OK("close the file", __wasi_fd_close(fd));
  CHECK_ERRNO("fd_readdir on a closed fd is BADF",
              __wasi_fd_readdir(999, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF);
  CHECK_OK("close list", __wasi_fd_close(d));

  /* An empty directory. */
  CHECK_OK("path_create_directory(empty)", __wasi_path_create_directory(dir, "empty"));
  CHECK_OK("open empty", open_at(dir, "empty", __WASI_OFLAGS_DIRECTORY, 0, &d));
  CHECK_OK("fd_readdir(empty)", __wasi_fd_readdir(d, big, sizeof big, 0, &used));
  CHECK("an empty directory lists only . and ..",
        used == 2 * sizeof(__wasi_dirent_t) + 3 || (peer_mode() && used == 0));
  CHECK_OK("close empty", __wasi_fd_close(d));

  /* libc. */
  DIR *dp = opendir("/sandbox/list");
  CHECK("opendir", dp != NULL);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dp)) != NULL)
    if (de->d_name[0] != '.') n++;
  CHECK("readdir lists 301 names", n == NFILES + 1);
  CHECK("closedir", closedir(dp) == 0);
  check_done();
  return 0;
}
