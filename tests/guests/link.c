/*
 * path_symlink, path_readlink, path_link, and how the other path calls treat links
 * (LOOKUPFLAGS_SYMLINK_FOLLOW or not, dangling links, loops).
 *
 * Run with a writable empty directory preopened as /sandbox.
 */
#include "check.h"

int main(void) {
  __wasi_fd_t dir = find_preopen("/sandbox");
  __wasi_fd_t fd;
  __wasi_filestat_t fs, fs2;
  __wasi_size_t n;
  char buf[64];

  make_file(dir, "target.txt", "target");
  CHECK_OK("path_create_directory(sub)", __wasi_path_create_directory(dir, "sub"));

  /* path_symlink / path_readlink */
  CHECK_OK("path_symlink(target.txt <- link)", __wasi_path_symlink("target.txt", dir, "link"));
  CHECK_ERRNO("path_symlink onto an existing name is EXIST",
              __wasi_path_symlink("target.txt", dir, "link"), __WASI_ERRNO_EXIST);
  CHECK_OK("path_readlink(link)", __wasi_path_readlink(dir, "link", (uint8_t *)buf, sizeof buf, &n));
  CHECK("readlink gives target.txt (no NUL)", n == 10 && memcmp(buf, "target.txt", 10) == 0);
  CHECK_ERRNO("path_readlink on a regular file is INVAL",
              __wasi_path_readlink(dir, "target.txt", (uint8_t *)buf, sizeof buf, &n),
              __WASI_ERRNO_INVAL);
  CHECK_ERRNO("path_readlink(missing) is NOENT",
              __wasi_path_readlink(dir, "missing", (uint8_t *)buf, sizeof buf, &n),
              __WASI_ERRNO_NOENT);
  CHECK_OK("path_symlink(sub <- sublink)", __wasi_path_symlink("sub", dir, "sublink"));
  /* Node's WASI refuses every link target holding "..", even one that stays inside. */
  int uplink = __wasi_path_symlink("../target.txt", dir, "sub/uplink") == 0;
  CHECK("path_symlink(../target.txt <- sub/uplink) stays inside", uplink || peer_mode());

  /* Following and not following. */
  CHECK_OK("path_filestat_get(link, FOLLOW)",
           __wasi_path_filestat_get(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link", &fs));
  CHECK("followed link is a REGULAR_FILE of size 6",
        fs.filetype == __WASI_FILETYPE_REGULAR_FILE && fs.size == 6);
  CHECK_OK("path_filestat_get(link, no FOLLOW)", __wasi_path_filestat_get(dir, 0, "link", &fs));
  CHECK("unfollowed link is a SYMBOLIC_LINK", fs.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
  CHECK_OK("path_open(link, FOLLOW)", open_at(dir, "link", 0, 0, &fd));
  CHECK_OK("read through the link", read_some(fd, buf, sizeof buf, &n));
  CHECK("read gives target", n == 6 && memcmp(buf, "target", 6) == 0);
  CHECK_OK("close", __wasi_fd_close(fd));
  /* Node's WASI opens the target anyway. */
  CHECK_ERRNO_PEER("path_open(link, no FOLLOW) is LOOP",
                   __wasi_path_open(dir, 0, "link", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd),
                   __WASI_ERRNO_LOOP, __WASI_ERRNO_SUCCESS);
  if (uplink) {
    CHECK_OK("path_open(sub/uplink) follows ../ inside the sandbox",
             open_at(dir, "sub/uplink", 0, 0, &fd));
    CHECK_OK("close", __wasi_fd_close(fd));
  }
  CHECK_OK("path_open(sublink/, DIRECTORY) through a dir link",
           open_at(dir, "sublink", __WASI_OFLAGS_DIRECTORY, 0, &fd));
  CHECK_OK("close", __wasi_fd_close(fd));
  if (uplink) {
    CHECK_OK("intermediate links are always followed",
             __wasi_path_filestat_get(dir, 0, "sublink/uplink", &fs));
    CHECK("sublink/uplink is itself a link", fs.filetype == __WASI_FILETYPE_SYMBOLIC_LINK);
  }

  /* Dangling links and loops. */
  CHECK_OK("path_symlink(nowhere <- dangling)", __wasi_path_symlink("nowhere", dir, "dangling"));
  CHECK_ERRNO("path_open(dangling) is NOENT", open_at(dir, "dangling", 0, 0, &fd),
              __WASI_ERRNO_NOENT);
  CHECK_OK("path_filestat_get(dangling, no FOLLOW) works",
           __wasi_path_filestat_get(dir, 0, "dangling", &fs));
  CHECK_OK("path_symlink(loop2 <- loop1)", __wasi_path_symlink("loop2", dir, "loop1"));
  CHECK_OK("path_symlink(loop1 <- loop2)", __wasi_path_symlink("loop1", dir, "loop2"));
  CHECK_ERRNO("path_open(loop1) is LOOP", open_at(dir, "loop1", 0, 0, &fd), __WASI_ERRNO_LOOP);
  CHECK_ERRNO("path_filestat_get(loop1/x) is LOOP",
              __wasi_path_filestat_get(dir, 0, "loop1/x", &fs), __WASI_ERRNO_LOOP);
  CHECK_OK("path_symlink(self <- self)", __wasi_path_symlink("self", dir, "self"));
  CHECK_ERRNO("path_open(self) is LOOP", open_at(dir, "self", 0, 0, &fd), __WASI_ERRNO_LOOP);
  CHECK_ERRNO("path_open(CREAT) through a dangling link's dir is NOENT",
              open_at(dir, "dangling/x", __WASI_OFLAGS_CREAT, 0, &fd), __WASI_ERRNO_NOENT);

  /* Removing links removes the link, not the target. */
  CHECK_ERRNO("path_remove_directory on a link to a dir is NOTDIR",
              __wasi_path_remove_directory(dir, "sublink"), __WASI_ERRNO_NOTDIR);
  CHECK_OK("path_unlink_file(sublink)", __wasi_path_unlink_file(dir, "sublink"));
  CHECK_OK("sub survives", __wasi_path_filestat_get(dir, 0, "sub", &fs));
  CHECK_OK("path_unlink_file(link)", __wasi_path_unlink_file(dir, "link"));
  CHECK_OK("target survives", __wasi_path_filestat_get(dir, 0, "target.txt", &fs));
  CHECK_OK("path_rename of a dangling link", __wasi_path_rename(dir, "dangling", dir, "dangling2"));
  CHECK_OK("path_readlink of the renamed link",
           __wasi_path_readlink(dir, "dangling2", (uint8_t *)buf, sizeof buf, &n));
  CHECK("the renamed link still says nowhere", n == 7 && memcmp(buf, "nowhere", 7) == 0);

  /* path_link (hard links). */
  CHECK_OK("path_link(target.txt -> hard.txt)",
           __wasi_path_link(dir, 0, "target.txt", dir, "hard.txt"));
  CHECK_OK("stat target", __wasi_path_filestat_get(dir, 0, "target.txt", &fs));
  CHECK_OK("stat hard", __wasi_path_filestat_get(dir, 0, "hard.txt", &fs2));
  CHECK("a hard link shares the inode", fs.ino == fs2.ino && fs.dev == fs2.dev);
  CHECK("nlink is 2", fs.nlink == 2 && fs2.nlink == 2);
  CHECK_ERRNO("path_link onto an existing name is EXIST",
              __wasi_path_link(dir, 0, "target.txt", dir, "hard.txt"), __WASI_ERRNO_EXIST);
  CHECK_ERRNO("path_link(missing) is NOENT", __wasi_path_link(dir, 0, "missing", dir, "x"),
              __WASI_ERRNO_NOENT);
  CHECK_ERRNO2("path_link of a directory is PERM or ACCES",
               __wasi_path_link(dir, 0, "sub", dir, "subhard"), __WASI_ERRNO_PERM,
               __WASI_ERRNO_ACCES);
  CHECK_OK("write through the hard link", open_at(dir, "hard.txt", __WASI_OFLAGS_TRUNC, 0, &fd));
  CHECK_OK("write", write_all(fd, "changed", 7, &n));
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("open target", open_at(dir, "target.txt", 0, 0, &fd));
  CHECK_OK("read target", read_some(fd, buf, sizeof buf, &n));
  CHECK("target sees the change", n == 7 && memcmp(buf, "changed", 7) == 0);
  CHECK_OK("close", __wasi_fd_close(fd));
  CHECK_OK("unlink target", __wasi_path_unlink_file(dir, "target.txt"));
  CHECK_OK("stat hard after unlinking target", __wasi_path_filestat_get(dir, 0, "hard.txt", &fs2));
  CHECK("nlink back to 1", fs2.nlink == 1);

  /* libc. */
  CHECK("symlink()", symlink("hard.txt", "/sandbox/libc-link") == 0);
  ssize_t len = readlink("/sandbox/libc-link", buf, sizeof buf);
  CHECK("readlink()", len == 8 && memcmp(buf, "hard.txt", 8) == 0);
  struct stat sb;
  CHECK("lstat() sees a link", lstat("/sandbox/libc-link", &sb) == 0 && S_ISLNK(sb.st_mode));
  CHECK("stat() follows it", stat("/sandbox/libc-link", &sb) == 0 && S_ISREG(sb.st_mode));
  check_done();
  return 0;
}
