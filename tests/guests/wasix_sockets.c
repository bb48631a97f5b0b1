/* Server and client in one guest over the virtual network: bind, listen, connect, accept,
 * send/recv both ways, addresses, shutdown, nonblocking EAGAIN, socket options, sock_pair,
 * resolve. Exit status = number of failed checks. */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include "wasix.h"
#include "wasix_check.h"

static uint32_t send_str(wasix_fd_t fd, const char *s) {
  wasix_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  uint32_t n = 0;
  int e = wasix_sock_send(fd, &iov, 1, 0, &n);
  return e == 0 ? n : 0;
}

static int recv_buf(wasix_fd_t fd, char *buf, size_t cap, uint32_t *n, int flags) {
  wasix_iovec_t iov = {(uint8_t *)buf, cap};
  uint16_t roflags = 0;
  return wasix_sock_recv(fd, &iov, 1, flags, n, &roflags);
}

int main(void) {
  wasix_fd_t srv, cli, conn;
  wasix_addr_port_t addr, got;

  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &srv));
  OK(wasix_sock_set_opt_flag(srv, WASIX_SOCKOPT_REUSE_ADDR, 1));
  uint8_t flag = 0;
  OK(wasix_sock_get_opt_flag(srv, WASIX_SOCKOPT_REUSE_ADDR, &flag));
  CHECK(flag == 1);

  wasix_addr_ipv4(&addr, 127, 0, 0, 1, 8123);
  OK(wasix_sock_bind(srv, &addr));
  OK(wasix_sock_addr_local(srv, &got));
  CHECK(got.tag == WASIX_AF_INET4);
  CHECK(got.u.inet4.port == 8123);
  CHECK(got.u.inet4.addr[0] == 127 && got.u.inet4.addr[3] == 1);
  OK(wasix_sock_listen(srv, 16));
  OK(wasix_sock_get_opt_flag(srv, WASIX_SOCKOPT_LISTENING, &flag));
  CHECK(flag == 1);

  /* Nonblocking accept with nothing pending: EAGAIN. */
  {
    wasix_fd_t none;
    wasix_addr_port_t peer;
    OK(p1_fd_fdstat_set_flags((int32_t)srv, WASIX_FDFLAGS_NONBLOCK));
    CHECK_ERR(wasix_sock_accept_v2(srv, 0, &none, &peer), WASIX_EAGAIN);
    OK(p1_fd_fdstat_set_flags((int32_t)srv, 0));
  }

  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &cli));
  uint8_t status = 99;
  OK(wasix_sock_status(cli, &status));
  CHECK(status == WASIX_SOCK_STATUS_OPENING);
  CHECK_ERR(wasix_sock_addr_peer(cli, &got), WASIX_ENOTCONN);
  OK(wasix_sock_connect(cli, &addr));
  OK(wasix_sock_status(cli, &status));
  CHECK(status == WASIX_SOCK_STATUS_OPENED);
  CHECK_ERR(wasix_sock_connect(cli, &addr), WASIX_EISCONN);

  wasix_addr_port_t peer;
  OK(wasix_sock_accept_v2(srv, 0, &conn, &peer));
  CHECK(peer.tag == WASIX_AF_INET4);
  wasix_addr_port_t cli_local;
  OK(wasix_sock_addr_local(cli, &cli_local));
  CHECK(peer.u.inet4.port == cli_local.u.inet4.port);
  CHECK(cli_local.u.inet4.port != 0);
  OK(wasix_sock_addr_peer(cli, &got));
  CHECK(got.u.inet4.port == 8123);

  /* Client to server, with a peek first. */
  CHECK(send_str(cli, "hello server") == 12);
  char buf[64];
  uint32_t n = 0;
  OK(recv_buf(conn, buf, 5, &n, WASIX_RECV_PEEK));
  CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
  OK(recv_buf(conn, buf, sizeof buf, &n, 0));
  CHECK(n == 12 && memcmp(buf, "hello server", 12) == 0);

  /* Server to client, scattered over two iovecs. */
  CHECK(send_str(conn, "hi client") == 9);
  {
    char a[3], b[16];
    wasix_iovec_t iovs[2] = {{(uint8_t *)a, 3}, {(uint8_t *)b, 16}};
    uint16_t ro;
    OK(wasix_sock_recv(cli, iovs, 2, 0, &n, &ro));
    CHECK(n == 9 && memcmp(a, "hi ", 3) == 0 && memcmp(b, "client", 6) == 0);
  }

  /* Nonblocking recv with nothing buffered: EAGAIN; accept_v2 with NONBLOCK flag. */
  OK(p1_fd_fdstat_set_flags((int32_t)cli, WASIX_FDFLAGS_NONBLOCK));
  CHECK_ERR(recv_buf(cli, buf, sizeof buf, &n, 0), WASIX_EAGAIN);
  OK(p1_fd_fdstat_set_flags((int32_t)cli, 0));

  /* Shutdown: after SHUT_WR the peer reads EOF, the writer gets EPIPE, the other way still works. */
  OK(wasix_sock_shutdown(cli, WASIX_SHUT_WR));
  OK(recv_buf(conn, buf, sizeof buf, &n, 0));
  CHECK(n == 0);
  {
    wasix_ciovec_t iov = {(const uint8_t *)"x", 1};
    CHECK_ERR(wasix_sock_send(cli, &iov, 1, 0, &n), WASIX_EPIPE);
  }
  CHECK(send_str(conn, "still open") == 10);
  OK(recv_buf(cli, buf, sizeof buf, &n, 0));
  CHECK(n == 10);

  /* Close the server side: the client reads EOF. */
  OK(p1_fd_close((int32_t)conn));
  OK(recv_buf(cli, buf, sizeof buf, &n, 0));
  CHECK(n == 0);
  OK(p1_fd_close((int32_t)cli));

  /* A second connection through preview1-style fd_read/fd_write on the sockets. */
  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &cli));
  OK(wasix_sock_connect(cli, &addr));
  OK(wasix_sock_accept(srv, 0, &conn, &peer));
  {
    wasix_ciovec_t out = {(const uint8_t *)"via fd_write", 12};
    OK(p1_fd_write((int32_t)cli, &out, 1, &n));
    CHECK(n == 12);
    wasix_iovec_t in = {(uint8_t *)buf, sizeof buf};
    OK(p1_fd_read((int32_t)conn, &in, 1, &n));
    CHECK(n == 12 && memcmp(buf, "via fd_write", 12) == 0);
  }

  /* Socket options: sizes and times round-trip. */
  OK(wasix_sock_set_opt_size(cli, WASIX_SOCKOPT_RECV_BUF_SIZE, 65536));
  uint64_t size = 0;
  OK(wasix_sock_get_opt_size(cli, WASIX_SOCKOPT_RECV_BUF_SIZE, &size));
  CHECK(size == 65536);
  wasix_option_timestamp_t t = {1, 1500000000ull}, t2 = {0, 0};
  OK(wasix_sock_set_opt_time(cli, WASIX_SOCKOPT_RECV_TIMEOUT, &t));
  OK(wasix_sock_get_opt_time(cli, WASIX_SOCKOPT_RECV_TIMEOUT, &t2));
  CHECK(t2.tag == 1 && t2.u == 1500000000ull);
  OK(wasix_sock_get_opt_size(cli, WASIX_SOCKOPT_TYPE, &size));
  CHECK(size == WASIX_SOCK_STREAM);
  CHECK_ERR(wasix_sock_set_opt_flag(cli, 200, 1), WASIX_EINVAL);

  /* Receive timeout: a blocking recv with nothing to read times out. */
  {
    wasix_option_timestamp_t short_t = {1, 20000000ull}; /* 20 ms */
    OK(wasix_sock_set_opt_time(conn, WASIX_SOCKOPT_RECV_TIMEOUT, &short_t));
    CHECK_ERR(recv_buf(conn, buf, sizeof buf, &n, 0), WASIX_EAGAIN);
  }

  /* sock_pair: a connected pair with no names. */
  wasix_fd_t p1, p2;
  OK(wasix_sock_pair(WASIX_AF_UNIX, WASIX_SOCK_STREAM, 0, &p1, &p2));
  CHECK(send_str(p1, "pair") == 4);
  OK(recv_buf(p2, buf, sizeof buf, &n, 0));
  CHECK(n == 4 && memcmp(buf, "pair", 4) == 0);
  OK(wasix_sock_addr_peer(p1, &got));
  CHECK(got.tag == WASIX_AF_UNIX && got.u.unix_path[0] == 0);

  /* sock_send_file: a file's bytes from an offset, through a socket pair. */
  {
    FILE *f = fopen("/tmp/sendfile.txt", "w");
    CHECK(f != NULL);
    fputs("0123456789abcdef", f);
    fclose(f);
    int in = open("/tmp/sendfile.txt", O_RDONLY);
    CHECK(in >= 0);
    uint64_t sent = 0;
    OK(wasix_sock_send_file(p1, (wasix_fd_t)in, 10, 100, &sent));
    CHECK(sent == 6);
    OK(recv_buf(p2, buf, sizeof buf, &n, 0));
    CHECK(n == 6 && memcmp(buf, "abcdef", 6) == 0);
    CHECK_ERR(wasix_sock_send_file((wasix_fd_t)in, p1, 0, 1, &sent), WASIX_ENOTSOCK);
    close(in);
  }

  /* resolve: localhost gives loopback addresses; unknown names give none. */
  wasix_addr_ip_t addrs[4];
  uint32_t count = 0;
  OK(wasix_resolve("localhost", 9, 0, addrs, 4, &count));
  CHECK(count == 2);
  CHECK(addrs[0].tag == WASIX_AF_INET4 && addrs[0].u.inet4[0] == 127);
  CHECK(addrs[1].tag == WASIX_AF_INET6 && addrs[1].u.inet6[15] == 1);
  OK(wasix_resolve("localhost", 9, 0, addrs, 1, &count));
  CHECK(count == 1);
  CHECK_ERR(wasix_resolve("nosuchhost.example", 18, 0, addrs, 4, &count), WASIX_ENOENT);

  /* IPv6 listener on port 0 gets an ephemeral port; the address round-trips. */
  wasix_fd_t s6;
  OK(wasix_sock_open(WASIX_AF_INET6, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &s6));
  wasix_addr_port_t a6;
  memset(&a6, 0, sizeof a6);
  a6.tag = WASIX_AF_INET6;
  a6.u.inet6.port = 0;
  a6.u.inet6.addr[15] = 1;
  OK(wasix_sock_bind(s6, &a6));
  OK(wasix_sock_addr_local(s6, &got));
  CHECK(got.tag == WASIX_AF_INET6 && got.u.inet6.addr[15] == 1 && got.u.inet6.port >= 49152);

  return finish("wasix_sockets");
}
