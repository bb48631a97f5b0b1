/* A plain preview1 server (no WASIX imports): accept(3) as with `thaw run --tcplisten` and
 * LISTEN_FDS=1, then recv/send/shutdown through wasi-libc's preview1 socket calls. Serves
 * $REQUESTS connections (default 2): each gets its request echoed back upper-cased. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  const char *n_env = getenv("REQUESTS");
  int n = n_env ? atoi(n_env) : 2;
  if (!getenv("LISTEN_FDS")) {
    fprintf(stderr, "LISTEN_FDS is not set\n");
    return 2;
  }
  for (int i = 0; i < n; i++) {
    int c = accept(3, NULL, NULL);
    if (c < 0) {
      perror("accept");
      return 1;
    }
    char buf[256];
    ssize_t got = recv(c, buf, sizeof buf, 0);
    if (got < 0) {
      perror("recv");
      return 1;
    }
    for (ssize_t k = 0; k < got; k++) buf[k] = (char)toupper((unsigned char)buf[k]);
    if (send(c, buf, (size_t)got, 0) != got) {
      perror("send");
      return 1;
    }
    if (shutdown(c, SHUT_WR) != 0) {
      perror("shutdown");
      return 1;
    }
    /* The client closes after reading: recv then sees EOF. */
    got = recv(c, buf, sizeof buf, 0);
    if (got != 0) {
      fprintf(stderr, "expected EOF, got %zd\n", got);
      return 1;
    }
    close(c);
  }
  printf("served %d\n", n);
  return 0;
}
