// Instaboot test guest: a one-connection-at-a-time HTTP server on WASIX sockets with a blocking
// accept loop. Its boot code is observable (a boot counter, a "booted" line on stdout, a file written
// at boot) and warm-up requests change its state (a counter, a cache, a file), so a test can tell a
// restored instance from a cold one.
//
// Routes: GET /inc (counter++), GET /cache/KEY=VALUE, GET /write (writes /tmp/count.txt),
// GET /state (everything), POST /echo (echoes the body with the method, path and query).
// Exports thaw_after_restore, which counts restores and redraws its random id. With
// EXPLICIT_SNAPSHOT set it calls proc_snapshot() during boot, before it listens.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../runtime/wasix/include/wasix.h"

static int boots = 0, counter = 0, restores = 0;
static char cache[16][64];
static int cache_len = 0;
static unsigned random_id = 0;
static unsigned *table = NULL;
static size_t table_words = 0;
static unsigned table_sum = 0;

__attribute__((export_name("thaw_after_restore"))) void thaw_after_restore(void) {
  restores++;
  getentropy(&random_id, sizeof random_id);
}

static void send_all(wasix_fd_t fd, const char *data, size_t len) {
  while (len > 0) {
    wasix_ciovec_t iov = {(const uint8_t *)data, len};
    uint32_t n = 0;
    if (wasix_sock_send(fd, &iov, 1, 0, &n) != 0 || n == 0) return;
    data += n;
    len -= n;
  }
}

static void respond(wasix_fd_t fd, const char *body) {
  char head[128];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   strlen(body));
  send_all(fd, head, (size_t)n);
  send_all(fd, body, strlen(body));
}

static void handle(wasix_fd_t fd) {
  static char req[8192];
  size_t len = 0;
  char *end = NULL;
  for (;;) {
    wasix_iovec_t iov = {(uint8_t *)req + len, sizeof req - 1 - len};
    uint32_t n = 0;
    uint16_t flags = 0;
    if (wasix_sock_recv(fd, &iov, 1, 0, &n, &flags) != 0 || n == 0) return;
    len += n;
    req[len] = 0;
    end = strstr(req, "\r\n\r\n");
    if (end != NULL) {
      const char *cl = strstr(req, "Content-Length: ");
      size_t want = cl ? (size_t)atoi(cl + 16) : 0;
      if (len >= (size_t)(end + 4 - req) + want || len >= sizeof req - 1) break;
    }
  }
  char method[16] = {0}, target[1024] = {0};
  sscanf(req, "%15s %1023s", method, target);
  char out[4096];
  if (!strcmp(target, "/inc")) {
    snprintf(out, sizeof out, "counter=%d\n", ++counter);
  } else if (!strncmp(target, "/cache/", 7) && cache_len < 16) {
    snprintf(cache[cache_len++], 64, "%s", target + 7);
    snprintf(out, sizeof out, "cached %d\n", cache_len);
  } else if (!strcmp(target, "/write")) {
    FILE *f = fopen("/tmp/count.txt", "w");
    if (f != NULL) {
      fprintf(f, "written at counter %d\n", counter);
      fclose(f);
    }
    snprintf(out, sizeof out, f != NULL ? "wrote\n" : "cannot write\n");
  } else if (!strcmp(target, "/state")) {
    char file[128] = "none";
    FILE *f = fopen("/tmp/count.txt", "r");
    if (f) {
      size_t k = fread(file, 1, sizeof file - 1, f);
      file[k] = 0;
      if (k > 0 && file[k - 1] == '\n') file[k - 1] = 0;
      fclose(f);
    }
    char boot[64] = "none";
    f = fopen("/tmp/boot.txt", "r");
    if (f) {
      size_t k = fread(boot, 1, sizeof boot - 1, f);
      boot[k] = 0;
      if (k > 0 && boot[k - 1] == '\n') boot[k - 1] = 0;
      fclose(f);
    }
    int off = snprintf(out, sizeof out, "boots=%d restores=%d counter=%d file=%s bootfile=%s cache=",
                       boots, restores, counter, file, boot);
    for (int i = 0; i < cache_len; i++) off += snprintf(out + off, sizeof out - off, "%s,", cache[i]);
    snprintf(out + off, sizeof out - off, " id=%u table=%u\n", random_id, table_sum);
  } else {
    char *q = strchr(target, '?');
    if (q) *q++ = 0;
    snprintf(out, sizeof out, "method=%s path=%s query=%s body=%s\n", method, target, q ? q : "",
             end ? end + 4 : "");
  }
  respond(fd, out);
}

int main(void) {
  boots++;
  getentropy(&random_id, sizeof random_id);
  mkdir("/tmp", 0755);
  // Hosts without a writable root (the plain cold boot) leave the boot file out.
  FILE *f = fopen("/tmp/boot.txt", "w");
  if (f != NULL) {
    fprintf(f, "boot %d\n", boots);
    fclose(f);
  }
  const char *table_mb = getenv("BOOT_TABLE_MB");
  if (table_mb != NULL) {
    // Boot work standing in for an interpreter's start-up: compute a table the app then serves
    // from (benchmarks use it to weigh boot work against restoring its result).
    table_words = (size_t)atoi(table_mb) * 1024 * 1024 / sizeof(unsigned);
    table = malloc(table_words * sizeof(unsigned));
    unsigned x = 2463534242u;
    for (size_t i = 0; i < table_words; i++) {
      for (int k = 0; k < 8; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
      }
      table[i] = x;
      table_sum += x;
    }
  }
  if (getenv("EXPLICIT_SNAPSHOT") != NULL) {
    // Snapshot here, before listening: a restored instance resumes right after this call.
    counter = 100;
    if (wasix_proc_snapshot() != 0) fprintf(stderr, "proc_snapshot failed\n");
    counter++;
  }
  const char *port_env = getenv("PORT");
  int port = port_env ? atoi(port_env) : 8080;
  wasix_fd_t listener;
  wasix_addr_port_t addr;
  wasix_addr_ipv4(&addr, 0, 0, 0, 0, (uint16_t)port);
  if (wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &listener) != 0 ||
      wasix_sock_bind(listener, &addr) != 0 || wasix_sock_listen(listener, 16) != 0) {
    fprintf(stderr, "cannot listen on %d\n", port);
    return 1;
  }
  printf("booted, listening on %d\n", port);
  fflush(stdout);
  for (;;) {
    wasix_fd_t conn;
    wasix_addr_port_t peer;
    if (wasix_sock_accept_v2(listener, 0, &conn, &peer) != 0) continue;
    handle(conn);
    close((int)conn);
  }
}
