// edge_server: a preview1 HTTP/1.1 server on the pre-opened listener (fd 3) whose routes
// misbehave on purpose, to test the host's proxy runner, limits and crash recovery.
//
// One connection at a time, keep-alive, Content-Length request bodies. Routes:
//   /            "hello <n>", n counts requests served by this instance
//   /echo        echoes the request body (any size)
//   /big?n=N     N bytes of 'a' with Content-Length (default 10 MiB)
//   /chunked     a chunked body in three chunks
//   /bad         a malformed status line
//   /close       closes the connection without answering
//   /partial     promises 100 body bytes, sends 5, closes
//   /loop        spins forever (the host's execution limit must stop it)
//   /alloc?mb=N  mallocs and touches N MiB; answers "allocated" or "alloc failed"
//   /sleep?ms=N  answers "slept" after N ms
//   /trap        executes unreachable
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned long served = 0;
static char *volatile kept;

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, 0);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int reply(int fd, const char *status, const char *type, const char *body, size_t len) {
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", status,
                   type, len);
  if (send_all(fd, head, (size_t)n) < 0) return -1;
  return send_all(fd, body, len);
}

static long query_num(const char *target, const char *key, long fallback) {
  const char *q = strchr(target, '?');
  if (!q) return fallback;
  const char *at = strstr(q, key);
  return at ? atol(at + strlen(key)) : fallback;
}

// Serves one connection until the client closes it; returns when done.
static void serve(int fd) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    char *end;
    while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
      if (len == cap) {
        free(buf);
        return;
      }
      ssize_t r = recv(fd, buf + len, cap - len, 0);
      if (r <= 0) {
        free(buf);
        return;
      }
      len += (size_t)r;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    char method[16] = {0}, target[1024] = {0};
    sscanf(buf, "%15s %1023s", method, target);
    size_t body_len = 0;
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
      if (strncasecmp(h + 2, "content-length:", 15) == 0) body_len = strtoul(h + 17, NULL, 10);
    }
    size_t total = head_len + body_len;
    if (total > cap) {
      char *grown = realloc(buf, total);
      if (!grown) {
        free(buf);
        return;
      }
      buf = grown;
      cap = total;
    }
    while (len < total) {
      ssize_t r = recv(fd, buf + len, cap - len, 0);
      if (r <= 0) {
        free(buf);
        return;
      }
      len += (size_t)r;
    }
    served++;
    char *body = buf + head_len;
    int rc = 0;
    if (strcmp(target, "/echo") == 0) {
      rc = reply(fd, "200 OK", "application/octet-stream", body, body_len);
    } else if (strncmp(target, "/big", 4) == 0) {
      long n = query_num(target, "n=", 10L * 1024 * 1024);
      char *big = malloc((size_t)n);
      memset(big, 'a', (size_t)n);
      rc = reply(fd, "200 OK", "text/plain", big, (size_t)n);
      free(big);
    } else if (strcmp(target, "/chunked") == 0) {
      const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "6\r\nhello \r\n6\r\nchunky\r\n7\r\n world!\r\n0\r\n\r\n";
      rc = send_all(fd, r, strlen(r));
    } else if (strcmp(target, "/bad") == 0) {
      rc = send_all(fd, "HTTP/9 what\r\n\r\n", 15);
    } else if (strcmp(target, "/close") == 0) {
      break;
    } else if (strcmp(target, "/partial") == 0) {
      const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
      send_all(fd, r, strlen(r));
      break;
    } else if (strcmp(target, "/loop") == 0) {
      volatile unsigned long spin = 0;
      for (;;) spin++;
    } else if (strncmp(target, "/alloc", 6) == 0) {
      long mb = query_num(target, "mb=", 1);
      // Kept in a volatile global so the compiler cannot drop the allocation.
      char *p = malloc((size_t)mb * 1024 * 1024);
      kept = p;
      if (p) {
        memset(p, 1, (size_t)mb * 1024 * 1024);
        rc = reply(fd, "200 OK", "text/plain", "allocated\n", 10);
      } else {
        rc = reply(fd, "507 Insufficient Storage", "text/plain", "alloc failed\n", 13);
      }
      free(p);
    } else if (strncmp(target, "/sleep", 6) == 0) {
      usleep((useconds_t)query_num(target, "ms=", 100) * 1000);
      rc = reply(fd, "200 OK", "text/plain", "slept\n", 6);
    } else if (strcmp(target, "/trap") == 0) {
      __builtin_trap();
    } else {
      char msg[64];
      int n = snprintf(msg, sizeof msg, "hello %lu\n", served);
      rc = reply(fd, "200 OK", "text/plain", msg, (size_t)n);
    }
    if (rc < 0) break;
    memmove(buf, buf + total, len - total);
    len -= total;
  }
  free(buf);
}

int main(void) {
  fprintf(stderr, "edge_server: accepting on fd 3\n");
  for (;;) {
    int fd = accept(3, NULL, NULL);
    if (fd < 0) continue;
    serve(fd);
    close(fd);
  }
}
