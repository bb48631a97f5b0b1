/* A WASIX client guest: connects to 127.0.0.1:$PORT (another guest on the same virtual network),
 * sends $MESSAGE, shuts down writing, prints what comes back until EOF. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasix.h"

int main(void) {
  const char *port = getenv("PORT");
  const char *msg = getenv("MESSAGE");
  if (!port || !msg) {
    fprintf(stderr, "set PORT and MESSAGE\n");
    return 2;
  }
  wasix_fd_t fd;
  wasix_addr_port_t addr;
  wasix_addr_ipv4(&addr, 127, 0, 0, 1, (uint16_t)atoi(port));
  int e = wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &fd);
  if (e == 0) e = wasix_sock_connect(fd, &addr);
  if (e != 0) {
    printf("connect failed: %d\n", e);
    return 1;
  }
  wasix_ciovec_t out = {(const uint8_t *)msg, strlen(msg)};
  uint32_t n;
  if (wasix_sock_send(fd, &out, 1, 0, &n) != 0 || wasix_sock_shutdown(fd, WASIX_SHUT_WR) != 0) {
    printf("send failed\n");
    return 1;
  }
  char buf[256];
  size_t total = 0;
  for (;;) {
    wasix_iovec_t in = {(uint8_t *)buf + total, sizeof buf - 1 - total};
    uint16_t ro;
    e = wasix_sock_recv(fd, &in, 1, 0, &n, &ro);
    if (e != 0) {
      printf("recv failed: %d\n", e);
      return 1;
    }
    if (n == 0) break;
    total += n;
  }
  buf[total] = 0;
  printf("reply: %s\n", buf);
  return 0;
}
