/* Error paths: bad fds, bad pointers, wrong families, ports in use, not-a-socket, unsupported
 * calls. None may crash the host. Exit status = number of failed checks. */
#include <stdint.h>
#include "wasix.h"
#include "wasix_check.h"

#define BAD_PTR ((void *)0xFFFFFFF0u)

int main(void) {
  wasix_fd_t s, s2, fd;
  wasix_addr_port_t addr, got;
  uint32_t n;

  /* Bad fds. */
  CHECK_ERR(wasix_sock_listen(1234, 1), WASIX_EBADF);
  CHECK_ERR(wasix_sock_bind(1234, &addr), WASIX_EBADF);
  CHECK_ERR(wasix_fd_dup(1234, &fd), WASIX_EBADF);
  CHECK_ERR(wasix_sock_status(1234, (uint8_t *)&n), WASIX_EBADF);
  CHECK_ERR(wasix_epoll_wait(1234, NULL, 1, 0, &n), WASIX_EBADF);

  /* Not a socket: stdout. */
  CHECK_ERR(wasix_sock_listen(1, 1), WASIX_ENOTSOCK);
  CHECK_ERR(wasix_sock_addr_local(1, &got), WASIX_ENOTSOCK);

  /* Unsupported families and types. */
  CHECK_ERR(wasix_sock_open(9, WASIX_SOCK_STREAM, 0, &fd), WASIX_EAFNOSUPPORT);
  CHECK_ERR(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_RAW, 0, &fd), WASIX_EPROTONOSUPPORT);
  CHECK_ERR(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_UDP, &fd),
            WASIX_EPROTONOSUPPORT);

  /* Bad pointers: out-of-bounds result and argument pointers give EFAULT. */
  CHECK_ERR(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, 0, BAD_PTR), WASIX_EFAULT);
  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, 0, &s));
  CHECK_ERR(wasix_sock_bind(s, BAD_PTR), WASIX_EFAULT);
  CHECK_ERR(wasix_sock_addr_local(s, BAD_PTR), WASIX_EFAULT);
  CHECK_ERR(wasix_fd_pipe(BAD_PTR, &fd), WASIX_EFAULT);
  CHECK_ERR(wasix_resolve((const char *)BAD_PTR, 100, 0, NULL, 0, &n), WASIX_EFAULT);
  CHECK_ERR(wasix_getcwd(BAD_PTR, &n), WASIX_EFAULT);

  /* Wrong family for the socket: an IPv6 address on an IPv4 socket. */
  memset(&addr, 0, sizeof addr);
  addr.tag = WASIX_AF_INET6;
  addr.u.inet6.port = 7000;
  CHECK_ERR(wasix_sock_bind(s, &addr), WASIX_EAFNOSUPPORT);
  addr.tag = 77;
  CHECK_ERR(wasix_sock_bind(s, &addr), WASIX_EINVAL);

  /* A foreign address cannot be bound; outside hosts are unreachable. */
  wasix_addr_ipv4(&addr, 10, 1, 2, 3, 7000);
  CHECK_ERR(wasix_sock_bind(s, &addr), WASIX_EADDRNOTAVAIL);
  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, 0, &s2));
  CHECK_ERR(wasix_sock_connect(s2, &addr), WASIX_ENETUNREACH);

  /* Port in use. */
  wasix_addr_ipv4(&addr, 0, 0, 0, 0, 7000);
  OK(wasix_sock_bind(s, &addr));
  CHECK_ERR(wasix_sock_bind(s, &addr), WASIX_EINVAL); /* already bound */
  wasix_fd_t s3;
  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, 0, &s3));
  CHECK_ERR(wasix_sock_bind(s3, &addr), WASIX_EADDRINUSE);

  /* Nobody listens yet: connection refused. Operations on unconnected sockets. */
  wasix_addr_ipv4(&addr, 127, 0, 0, 1, 7000);
  CHECK_ERR(wasix_sock_connect(s3, &addr), WASIX_ECONNREFUSED);
  {
    char b[4];
    wasix_iovec_t iov = {(uint8_t *)b, 4};
    uint16_t ro;
    CHECK_ERR(wasix_sock_recv(s3, &iov, 1, 0, &n, &ro), WASIX_ENOTCONN);
    CHECK_ERR(wasix_sock_shutdown(s3, WASIX_SHUT_WR), WASIX_ENOTCONN);
  }
  /* accept on a socket that does not listen. */
  CHECK_ERR(wasix_sock_accept_v2(s, 0, &fd, &got), WASIX_EINVAL);
  /* listen on an unbound socket binds an ephemeral port, as on Linux. */
  OK(wasix_sock_listen(s2, 4));
  OK(wasix_sock_addr_local(s2, &got));
  CHECK(got.u.inet4.port >= 49152);

  /* Datagram sockets are not supported by the virtual network. */
  CHECK_ERR(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_DGRAM, 0, &fd), WASIX_EPROTONOSUPPORT);

  /* Unsupported process calls say so instead of trapping. */
  uint32_t pid;
  CHECK_ERR(wasix_proc_fork(0, &pid), WASIX_ENOTSUP);

  /* Bad iovec pointer inside sock_send. */
  {
    wasix_fd_t a, b;
    OK(wasix_sock_pair(WASIX_AF_UNIX, WASIX_SOCK_STREAM, 0, &a, &b));
    wasix_ciovec_t iov = {(const uint8_t *)BAD_PTR, 64};
    CHECK_ERR(wasix_sock_send(a, &iov, 1, 0, &n), WASIX_EFAULT);
    CHECK_ERR(wasix_sock_send(a, (const wasix_ciovec_t *)BAD_PTR, 1, 0, &n), WASIX_EFAULT);
  }

  return finish("wasix_errors");
}
