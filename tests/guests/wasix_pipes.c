/* Pipes, dup and event fds: data crosses a pipe written through a dup'd fd, EOF arrives only when
 * every writer closed, fd_dup2 honours its minimum, fdflagsext round-trips, eventfd counts.
 * Exit status = number of failed checks. */
#include <stdint.h>
#include "wasix.h"
#include "wasix_check.h"

static int pwrite_str(wasix_fd_t fd, const char *s, uint32_t *n) {
  wasix_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  return p1_fd_write((int32_t)fd, &iov, 1, n);
}

static int pread_buf(wasix_fd_t fd, void *buf, size_t cap, uint32_t *n) {
  wasix_iovec_t iov = {(uint8_t *)buf, cap};
  return p1_fd_read((int32_t)fd, &iov, 1, n);
}

int main(void) {
  wasix_fd_t r, w, w2, w3;
  uint32_t n;
  char buf[64];

  OK(wasix_fd_pipe(&r, &w));
  CHECK(r != w);
  OK(wasix_fd_dup(w, &w2));
  CHECK(w2 != w && w2 != r);

  OK(pwrite_str(w2, "through dup", &n));
  CHECK(n == 11);
  OK(p1_fd_close((int32_t)w2));
  OK(pread_buf(r, buf, sizeof buf, &n));
  CHECK(n == 11 && memcmp(buf, "through dup", 11) == 0);

  /* fd_dup2 with a minimum fd and cloexec. */
  OK(wasix_fd_dup2(w, 40, 1, &w3));
  CHECK(w3 >= 40);
  uint16_t ext = 0;
  OK(wasix_fd_fdflags_get(w3, &ext));
  CHECK(ext == WASIX_FDFLAGSEXT_CLOEXEC);
  OK(wasix_fd_fdflags_set(w3, 0));
  OK(wasix_fd_fdflags_get(w3, &ext));
  CHECK(ext == 0);

  /* Closing one writer keeps the pipe open; closing the last gives EOF. */
  OK(p1_fd_close((int32_t)w));
  OK(pwrite_str(w3, "still", &n));
  OK(pread_buf(r, buf, sizeof buf, &n));
  CHECK(n == 5);
  OK(p1_fd_close((int32_t)w3));
  OK(pread_buf(r, buf, sizeof buf, &n));
  CHECK(n == 0);

  /* Writing into a pipe whose readers are gone: EPIPE. */
  wasix_fd_t r2, wfd;
  OK(wasix_fd_pipe(&r2, &wfd));
  OK(p1_fd_close((int32_t)r2));
  CHECK_ERR(pwrite_str(wfd, "x", &n), WASIX_EPIPE);

  /* Nonblocking read of an empty pipe: EAGAIN. */
  wasix_fd_t r3, w4;
  OK(wasix_fd_pipe(&r3, &w4));
  OK(p1_fd_fdstat_set_flags((int32_t)r3, WASIX_FDFLAGS_NONBLOCK));
  CHECK_ERR(pread_buf(r3, buf, sizeof buf, &n), WASIX_EAGAIN);
  /* Pipes are bidirectional in WASIX. */
  OK(pwrite_str(r3, "back", &n));
  OK(pread_buf(w4, buf, sizeof buf, &n));
  CHECK(n == 4 && memcmp(buf, "back", 4) == 0);

  /* Event fds: writes add, a read returns and clears the counter; semaphore mode counts down. */
  wasix_fd_t ev;
  OK(wasix_fd_event(3, 0, &ev));
  uint64_t v = 2;
  wasix_ciovec_t vio = {(const uint8_t *)&v, 8};
  OK(p1_fd_write((int32_t)ev, &vio, 1, &n));
  CHECK(n == 8);
  uint64_t got = 0;
  OK(pread_buf(ev, &got, 8, &n));
  CHECK(n == 8 && got == 5);
  OK(p1_fd_fdstat_set_flags((int32_t)ev, WASIX_FDFLAGS_NONBLOCK));
  CHECK_ERR(pread_buf(ev, &got, 8, &n), WASIX_EAGAIN);
  /* A read must ask for 8 bytes. */
  OK(p1_fd_write((int32_t)ev, &vio, 1, &n));
  CHECK_ERR(pread_buf(ev, &got, 4, &n), WASIX_EINVAL);

  wasix_fd_t sem;
  OK(wasix_fd_event(2, WASIX_EVENTFD_SEMAPHORE, &sem));
  OK(pread_buf(sem, &got, 8, &n));
  CHECK(got == 1);
  OK(pread_buf(sem, &got, 8, &n));
  CHECK(got == 1);

  /* A blocking read on a pipe whose writer was dup'd then closed after writing: data first. */
  wasix_fd_t r4, w5;
  OK(wasix_fd_pipe(&r4, &w5));
  OK(pwrite_str(w5, "bye", &n));
  OK(p1_fd_close((int32_t)w5));
  OK(pread_buf(r4, buf, sizeof buf, &n));
  CHECK(n == 3);
  OK(pread_buf(r4, buf, sizeof buf, &n));
  CHECK(n == 0);

  return finish("wasix_pipes");
}
