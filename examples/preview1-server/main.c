// preview1-server: an HTTP/1.1 server that uses only wasi_snapshot_preview1.
//
// Preview1 cannot open sockets, so the host pre-opens the listening socket(s) and passes them as
// fds 3, 4, ... with LISTEN_FDS=<count> in the environment (the systemd convention, and what
// `wasmtime run --tcplisten 127.0.0.1:8080` does). The server accepts with sock_accept, reads with
// sock_recv and writes with sock_send, and waits for any of its sockets with poll_oneoff, so many
// keep-alive connections are served side by side by one thread.
//
// HTTP handling: requests may arrive in pieces or several at once (pipelining); bodies need
// Content-Length (chunked bodies get 501); "Expect: 100-continue" is answered; HTTP/1.1 keeps the
// connection open unless "Connection: close", HTTP/1.0 closes it unless "Connection: keep-alive".
//
// Routes: GET /health answers "ok"; every other request gets an echo of its method, path, body
// size and the number of requests served so far (that count survives an instaboot snapshot).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wasi/api.h>

#define FIRST_LISTEN_FD 3
#define MAX_LISTENERS 8
#define MAX_CONNS 64
#define MAX_HEADER 8192
#define MAX_BODY 8192
#define BUF_CAP (MAX_HEADER + MAX_BODY)
#define LISTENER_TAG 1000

struct conn {
  int used;
  __wasi_fd_t fd;
  size_t len;             // bytes buffered
  unsigned served;        // requests answered on this connection
  int continue_sent;      // "100 Continue" sent for the request being read
  char buf[BUF_CAP];
};

static struct conn conns[MAX_CONNS];
static unsigned long total_served;
static int listeners;

static void close_conn(struct conn *c) {
  // Errors are ignored: the peer may already be gone, and the fd is released either way.
  (void)__wasi_sock_shutdown(c->fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR);
  (void)__wasi_fd_close(c->fd);
  c->used = 0;
  c->len = 0;
}

// Waits until fd can be written (after sock_send said EAGAIN on a non-blocking socket).
static void wait_writable(__wasi_fd_t fd) {
  __wasi_subscription_t sub = {0};
  sub.userdata = fd;
  sub.u.tag = __WASI_EVENTTYPE_FD_WRITE;
  sub.u.u.fd_write.file_descriptor = fd;
  __wasi_event_t ev;
  __wasi_size_t n;
  if (__wasi_poll_oneoff(&sub, &ev, 1, &n) != 0) return; // send_all retries and reports errors
}

// Sends all of data, looping over partial sends. Returns 0, or -1 when the peer is gone.
static int send_all(__wasi_fd_t fd, const char *data, size_t len) {
  while (len > 0) {
    __wasi_ciovec_t iov = {.buf = (const uint8_t *)data, .buf_len = len};
    __wasi_size_t sent = 0;
    __wasi_errno_t err = __wasi_sock_send(fd, &iov, 1, 0, &sent);
    if (err == __WASI_ERRNO_AGAIN) {
      wait_writable(fd);
      continue;
    }
    if (err == __WASI_ERRNO_INTR) continue;
    if (err != 0 || sent == 0) return -1;
    data += sent;
    len -= sent;
  }
  return 0;
}

static int respond(struct conn *c, int status, const char *reason, const char *body,
                   int head_only, int keep_alive) {
  char head[512];
  size_t body_len = strlen(body);
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                   status, reason, body_len, keep_alive ? "keep-alive" : "close");
  if (send_all(c->fd, head, (size_t)n) != 0) return -1;
  if (!head_only && send_all(c->fd, body, body_len) != 0) return -1;
  return 0;
}

// Answers a malformed request and closes the connection.
static void reject(struct conn *c, int status, const char *reason, const char *why) {
  respond(c, status, reason, why, 0, 0);
  close_conn(c);
}

static const char *find_crlfcrlf(const char *buf, size_t len) {
  for (size_t i = 0; i + 3 < len; i++) {
    if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
      return buf + i;
    }
  }
  return NULL;
}

// Finds the next CRLF in [from, limit); the buffer may hold NUL bytes, so no strstr.
static const char *find_crlf(const char *from, const char *limit) {
  for (const char *p = from; p + 1 < limit; p++) {
    if (p[0] == '\r' && p[1] == '\n') return p;
  }
  return NULL;
}

static int header_has_token(const char *value, size_t len, const char *token) {
  size_t tlen = strlen(token);
  for (size_t i = 0; i + tlen <= len; i++) {
    if (strncasecmp(value + i, token, tlen) == 0) return 1;
  }
  return 0;
}

// Handles every complete request in c->buf. Returns 0 to keep the connection, -1 once closed.
static int serve_buffered(struct conn *c) {
  for (;;) {
    const char *end = find_crlfcrlf(c->buf, c->len);
    if (end == NULL) {
      if (c->len >= MAX_HEADER) {
        reject(c, 431, "Request Header Fields Too Large", "request headers exceed 8 KiB\n");
        return -1;
      }
      return 0; // wait for the rest of the headers
    }
    size_t header_len = (size_t)(end - c->buf) + 4;

    // Request line: METHOD SP TARGET SP HTTP/1.x
    char method[16], target[2048], version[16];
    const char *line_end = find_crlf(c->buf, end + 2); // found: end is a CRLF
    size_t line_len = (size_t)(line_end - c->buf);
    char line[2100];
    if (line_len >= sizeof line) {
      reject(c, 414, "URI Too Long", "request target too long\n");
      return -1;
    }
    memcpy(line, c->buf, line_len);
    line[line_len] = '\0';
    if (sscanf(line, "%15s %2047s %15s", method, target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/') {
      reject(c, 400, "Bad Request", "malformed request line\n");
      return -1;
    }
    int http10 = strcmp(version, "HTTP/1.0") == 0;
    int keep_alive = !http10;
    long content_length = 0;
    int expect_continue = 0;

    // Headers, one per line, until the blank line.
    const char *p = line_end + 2;
    while (p < end + 2) {
      const char *eol = find_crlf(p, end + 2);
      const char *colon = memchr(p, ':', (size_t)(eol - p));
      if (colon == NULL) {
        reject(c, 400, "Bad Request", "malformed header line\n");
        return -1;
      }
      size_t name_len = (size_t)(colon - p);
      const char *value = colon + 1;
      while (value < eol && (*value == ' ' || *value == '\t')) value++;
      size_t value_len = (size_t)(eol - value);
      if (name_len == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
        char digits[24];
        if (value_len == 0 || value_len >= sizeof digits) {
          reject(c, 400, "Bad Request", "bad Content-Length\n");
          return -1;
        }
        memcpy(digits, value, value_len);
        digits[value_len] = '\0';
        char *stop;
        content_length = strtol(digits, &stop, 10);
        while (*stop == ' ' || *stop == '\t') stop++;
        if (*stop != '\0' || content_length < 0) {
          reject(c, 400, "Bad Request", "bad Content-Length\n");
          return -1;
        }
      } else if (name_len == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
        if (!header_has_token(value, value_len, "identity")) {
          reject(c, 501, "Not Implemented", "chunked request bodies are not supported\n");
          return -1;
        }
      } else if (name_len == 10 && strncasecmp(p, "Connection", 10) == 0) {
        if (header_has_token(value, value_len, "close")) keep_alive = 0;
        if (header_has_token(value, value_len, "keep-alive")) keep_alive = 1;
      } else if (name_len == 6 && strncasecmp(p, "Expect", 6) == 0) {
        expect_continue = header_has_token(value, value_len, "100-continue");
      }
      p = eol + 2;
    }
    if (content_length > MAX_BODY) {
      reject(c, 413, "Content Too Large", "request body exceeds 8 KiB\n");
      return -1;
    }
    size_t total = header_len + (size_t)content_length;
    if (c->len < total) {
      if (expect_continue && !c->continue_sent) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send_all(c->fd, cont, sizeof cont - 1) != 0) {
          close_conn(c);
          return -1;
        }
        c->continue_sent = 1;
      }
      return 0; // wait for the rest of the body
    }

    c->served++;
    total_served++;
    char body[512];
    int head_only = strcmp(method, "HEAD") == 0;
    if (strcmp(target, "/health") == 0) {
      snprintf(body, sizeof body, "ok\n");
    } else {
      snprintf(body, sizeof body,
               "hello from preview1-server\nmethod: %s\npath: %s\nbody-bytes: %ld\n"
               "request-on-connection: %u\nrequests-served: %lu\n",
               method, target, content_length, c->served, total_served);
    }
    if (respond(c, 200, "OK", body, head_only, keep_alive) != 0 || !keep_alive) {
      close_conn(c);
      return -1;
    }
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
    c->continue_sent = 0;
  }
}

static void on_readable(struct conn *c) {
  __wasi_iovec_t iov = {.buf = (uint8_t *)c->buf + c->len, .buf_len = BUF_CAP - c->len};
  __wasi_size_t got = 0;
  __wasi_roflags_t flags = 0;
  __wasi_errno_t err = __wasi_sock_recv(c->fd, &iov, 1, 0, &got, &flags);
  if (err == __WASI_ERRNO_AGAIN || err == __WASI_ERRNO_INTR) return;
  if (err != 0 || got == 0) { // error, or the peer closed its side
    close_conn(c);
    return;
  }
  c->len += got;
  serve_buffered(c);
}

static void on_acceptable(__wasi_fd_t listener) {
  __wasi_fd_t fd;
  __wasi_errno_t err = __wasi_sock_accept(listener, 0, &fd);
  if (err == __WASI_ERRNO_AGAIN || err == __WASI_ERRNO_INTR || err == __WASI_ERRNO_CONNABORTED) {
    return;
  }
  if (err != 0) {
    fprintf(stderr, "preview1-server: sock_accept(%u) failed: errno %u\n", listener, err);
    if (err == __WASI_ERRNO_BADF || err == __WASI_ERRNO_NOTSOCK) {
      fprintf(stderr, "preview1-server: fd %u is not a listening socket; run me with "
                      "`wasmtime run --tcplisten 127.0.0.1:8080 preview1-server.wasm`\n",
              listener);
      exit(1);
    }
    return;
  }
  for (int i = 0; i < MAX_CONNS; i++) {
    if (!conns[i].used) {
      conns[i].used = 1;
      conns[i].fd = fd;
      conns[i].len = 0;
      conns[i].served = 0;
      conns[i].continue_sent = 0;
      return;
    }
  }
  (void)__wasi_fd_close(fd); // cannot happen: the listener is not polled when full
}

int main(void) {
  const char *listen_fds = getenv("LISTEN_FDS");
  listeners = listen_fds != NULL ? atoi(listen_fds) : 1;
  if (listen_fds == NULL) {
    fprintf(stderr, "preview1-server: LISTEN_FDS is not set; assuming fd 3 is the listener\n");
  }
  if (listeners < 1 || listeners > MAX_LISTENERS) {
    fprintf(stderr, "preview1-server: LISTEN_FDS=%s must be between 1 and %d\n",
            listen_fds, MAX_LISTENERS);
    return 1;
  }
  fprintf(stderr, "preview1-server: serving HTTP on fd 3 (%d listener(s))\n", listeners);

  static __wasi_subscription_t subs[MAX_LISTENERS + MAX_CONNS];
  static __wasi_event_t events[MAX_LISTENERS + MAX_CONNS];
  for (;;) {
    size_t n = 0, open = 0;
    for (int i = 0; i < MAX_CONNS; i++) open += conns[i].used;
    if (open < MAX_CONNS) {
      for (int l = 0; l < listeners; l++) {
        memset(&subs[n], 0, sizeof subs[n]);
        subs[n].userdata = LISTENER_TAG + l;
        subs[n].u.tag = __WASI_EVENTTYPE_FD_READ;
        subs[n].u.u.fd_read.file_descriptor = FIRST_LISTEN_FD + l;
        n++;
      }
    }
    for (int i = 0; i < MAX_CONNS; i++) {
      if (!conns[i].used) continue;
      memset(&subs[n], 0, sizeof subs[n]);
      subs[n].userdata = i;
      subs[n].u.tag = __WASI_EVENTTYPE_FD_READ;
      subs[n].u.u.fd_read.file_descriptor = conns[i].fd;
      n++;
    }
    __wasi_size_t ready = 0;
    __wasi_errno_t err = __wasi_poll_oneoff(subs, events, n, &ready);
    if (err != 0) {
      fprintf(stderr, "preview1-server: poll_oneoff failed: errno %u\n", err);
      return 1;
    }
    for (__wasi_size_t e = 0; e < ready; e++) {
      uint64_t tag = events[e].userdata;
      if (tag >= LISTENER_TAG) {
        on_acceptable((__wasi_fd_t)(FIRST_LISTEN_FD + (tag - LISTENER_TAG)));
      } else if (conns[tag].used) {
        if (events[e].error != 0) close_conn(&conns[tag]);
        else on_readable(&conns[tag]);
      }
    }
  }
}
