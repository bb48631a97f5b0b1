/*
 * sock_accept, sock_recv, sock_send, sock_shutdown.
 *
 *   sock.wasm          error paths on fds that are not sockets (needs /sandbox)
 *   sock.wasm serve N  with a listening socket after the preopens (--tcplisten, LISTEN_FDS=1):
 *                      accepts N connections one after another; for each, reads one line and
 *                      sends it back upper-cased, then shuts the connection down
 */
#include <ctype.h>

#include "check.h"

static int serve(int count) {
  /* LISTEN_FDS=1: the socket is the first fd after stdio and the preopened directories. */
  __wasi_fd_t listener = 3;
  __wasi_fdstat_t st;
  while (listener < 64 && __wasi_fd_fdstat_get(listener, &st) == 0 &&
         st.fs_filetype == __WASI_FILETYPE_DIRECTORY)
    listener++;
  CHECK("LISTEN_FDS is 1", getenv("LISTEN_FDS") && strcmp(getenv("LISTEN_FDS"), "1") == 0);
  CHECK_OK("fd_fdstat_get(listener)", __wasi_fd_fdstat_get(listener, &st));
  CHECK("the listener is a SOCKET_STREAM", st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM);
  for (int i = 0; i < count; i++) {
    __wasi_fd_t conn;
    __wasi_errno_t e;
    /* Non-blocking accept: AGAIN until a client arrives, waiting in poll_oneoff meanwhile. */
    for (;;) {
      e = __wasi_sock_accept(listener, __WASI_FDFLAGS_NONBLOCK, &conn);
      if (e != __WASI_ERRNO_AGAIN) break;
      __wasi_subscription_t s;
      memset(&s, 0, sizeof s);
      s.u.tag = __WASI_EVENTTYPE_FD_READ;
      s.u.u.fd_read.file_descriptor = listener;
      __wasi_event_t ev;
      __wasi_size_t nev;
      if (__wasi_poll_oneoff(&s, &ev, 1, &nev) != 0) break;
    }
    CHECK_OK("sock_accept", e);
    char line[256];
    size_t len = 0;
    while (len < sizeof line - 1) {
      __wasi_iovec_t iov = {(uint8_t *)line + len, sizeof line - 1 - len};
      __wasi_size_t n = 0;
      __wasi_roflags_t ro = 0;
      e = __wasi_sock_recv(conn, &iov, 1, 0, &n, &ro);
      if (e == __WASI_ERRNO_AGAIN) {
        __wasi_subscription_t s;
        memset(&s, 0, sizeof s);
        s.u.tag = __WASI_EVENTTYPE_FD_READ;
        s.u.u.fd_read.file_descriptor = conn;
        __wasi_event_t ev;
        __wasi_size_t nev;
        (void)__wasi_poll_oneoff(&s, &ev, 1, &nev);
        continue;
      }
      if (e != 0 || n == 0) break;
      len += n;
      if (memchr(line, '\n', len)) break;
    }
    CHECK_OK("sock_recv", e);
    for (size_t k = 0; k < len; k++) line[k] = (char)toupper((unsigned char)line[k]);
    __wasi_ciovec_t out = {(const uint8_t *)line, len};
    __wasi_size_t sent = 0;
    CHECK_OK("sock_send", __wasi_sock_send(conn, &out, 1, 0, &sent));
    CHECK("sock_send sent the whole line", sent == len);
    CHECK_OK("sock_shutdown(WR)", __wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR));
    CHECK_OK("fd_close(connection)", __wasi_fd_close(conn));
  }
  check_done();
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));

  __wasi_fd_t dir = find_preopen("/sandbox");
  __wasi_fd_t fd, conn;
  __wasi_size_t n;
  __wasi_roflags_t ro;
  char buf[16];
  __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
  __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};

  make_file(dir, "plain.txt", "not a socket");
  CHECK_OK("open plain.txt", open_at(dir, "plain.txt", 0, 0, &fd));
  CHECK_ERRNO_PEER("sock_accept on a file is NOTSOCK", __wasi_sock_accept(fd, 0, &conn),
                   __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE);
  CHECK_ERRNO_PEER("sock_recv on a file is NOTSOCK", __wasi_sock_recv(fd, &iov, 1, 0, &n, &ro),
                   __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE);
  CHECK_ERRNO_PEER("sock_send on a file is NOTSOCK", __wasi_sock_send(fd, &ciov, 1, 0, &n),
                   __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE);
  CHECK_ERRNO_PEER("sock_shutdown on a file is NOTSOCK", __wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD),
                   __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTSUP);
  CHECK_ERRNO_PEER("sock_accept on a directory is NOTSOCK", __wasi_sock_accept(dir, 0, &conn),
                   __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_NOTCAPABLE);
  CHECK_ERRNO_PEER("sock_accept on a closed fd is BADF", __wasi_sock_accept(999, 0, &conn),
                   __WASI_ERRNO_BADF, __WASI_ERRNO_NOTSUP);
  CHECK_ERRNO_PEER("sock_recv on a closed fd is BADF", __wasi_sock_recv(999, &iov, 1, 0, &n, &ro),
                   __WASI_ERRNO_BADF, __WASI_ERRNO_NOTSUP);
  CHECK_ERRNO_PEER("sock_send on a closed fd is BADF", __wasi_sock_send(999, &ciov, 1, 0, &n),
                   __WASI_ERRNO_BADF, __WASI_ERRNO_NOTSUP);
  CHECK_ERRNO_PEER("sock_shutdown on a closed fd is BADF", __wasi_sock_shutdown(999, 3),
                   __WASI_ERRNO_BADF, __WASI_ERRNO_NOTSUP);
  CHECK_OK("the file is still usable", read_some(fd, buf, sizeof buf, &n));
  CHECK("and reads its content", n == 12 && memcmp(buf, "not a socket", 12) == 0);
  CHECK_OK("close", __wasi_fd_close(fd));
  check_done();
  return 0;
}
