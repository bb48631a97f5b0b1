/*
 * A small HTTP/1.1 server written against the WASIX socket calls (wasix_32v1), for Thaw.
 *
 * - Listens on fd 3 when started with LISTEN_FDS=1 (`thaw run --tcplisten HOST:PORT`), otherwise
 *   opens its own socket on $PORT (default 8080) on the virtual network.
 * - One thread, an epoll event loop, non-blocking sockets: many keep-alive clients at once.
 * - Request bodies with Content-Length or chunked Transfer-Encoding, up to MAX_BODY bytes.
 * - Routes: GET / and static files from $PUBLIC_DIR (default /public), GET /counter (an in-memory
 *   counter; it survives an instaboot snapshot), GET /health, POST /echo, GET /bytes?n=N.
 *
 * Build: ./build.sh (clang-14 --target=wasm32-wasi, see README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "wasix.h"

#define MAX_CONNS 256
#define MAX_HEADER 16384
#define MAX_BODY (64u * 1024u * 1024u)
#define READ_CHUNK 65536

int32_t p1_fd_fdstat_set_flags(int32_t fd, int32_t flags)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_set_flags")));

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

typedef struct {
  wasix_fd_t fd;
  int used;
  buf_t in;
  buf_t out;
  size_t out_off;
  int close_after; /* close once `out` is flushed */
  int want_out;    /* registered for EPOLLOUT */
} conn_t;

static conn_t conns[MAX_CONNS];
static uint64_t counter = 0;
static const char *public_dir = "/public";
static wasix_fd_t epfd;

static void buf_reserve(buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  b->data = p;
  b->cap = cap;
}

static void buf_append(buf_t *b, const void *data, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

static void buf_consume(buf_t *b, size_t n) {
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

static const char *status_text(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Content Too Large";
  case 501: return "Not Implemented";
  default: return "Error";
  }
}

static void buf_str(buf_t *b, const char *s) { buf_append(b, s, strlen(s)); }

/* Appends `n` in decimal (the hot path avoids printf). */
static void buf_uint(buf_t *b, unsigned long long n) {
  char tmp[24];
  size_t at = sizeof tmp;
  do {
    tmp[--at] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  buf_append(b, tmp + at, sizeof tmp - at);
}

static void respond(conn_t *c, int status, const char *type, const void *body, size_t len,
                    int keep_alive) {
  buf_reserve(&c->out, 160 + strlen(type) + len);
  buf_str(&c->out, "HTTP/1.1 ");
  buf_uint(&c->out, (unsigned)status);
  buf_str(&c->out, " ");
  buf_str(&c->out, status_text(status));
  buf_str(&c->out, "\r\nContent-Type: ");
  buf_str(&c->out, type);
  buf_str(&c->out, "\r\nContent-Length: ");
  buf_uint(&c->out, len);
  buf_str(&c->out, "\r\nServer: thaw-wasix-demo\r\n");
  if (!keep_alive) buf_str(&c->out, "Connection: close\r\n");
  buf_str(&c->out, "\r\n");
  buf_append(&c->out, body, len);
  if (!keep_alive) c->close_after = 1;
}

static void respond_text(conn_t *c, int status, const char *text, int keep_alive) {
  respond(c, status, "text/plain; charset=utf-8", text, strlen(text), keep_alive);
}

static const char *mime_type(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot) return "application/octet-stream";
  if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
  if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
  if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
  if (!strcmp(dot, ".json")) return "application/json";
  if (!strcmp(dot, ".txt")) return "text/plain; charset=utf-8";
  if (!strcmp(dot, ".svg")) return "image/svg+xml";
  if (!strcmp(dot, ".png")) return "image/png";
  return "application/octet-stream";
}

static void serve_static(conn_t *c, const char *path, int keep_alive) {
  if (strstr(path, "..") || strlen(path) > 512) {
    respond_text(c, 404, "not found\n", keep_alive);
    return;
  }
  char full[1024];
  snprintf(full, sizeof full, "%s%s", public_dir, strcmp(path, "/") == 0 ? "/index.html" : path);
  FILE *f = fopen(full, "rb");
  if (!f) {
    respond_text(c, 404, "not found\n", keep_alive);
    return;
  }
  buf_t body = {0};
  char tmp[16384];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_append(&body, tmp, n);
  fclose(f);
  respond(c, 200, mime_type(full), body.data ? body.data : "", body.len, keep_alive);
  free(body.data);
}

static void route(conn_t *c, const char *method, const char *target, const char *body,
                  size_t body_len, int keep_alive) {
  char path[1024];
  const char *q = strchr(target, '?');
  size_t plen = q ? (size_t)(q - target) : strlen(target);
  if (plen >= sizeof path) plen = sizeof path - 1;
  memcpy(path, target, plen);
  path[plen] = 0;

  if (!strcmp(path, "/counter")) {
    if (strcmp(method, "GET")) return respond_text(c, 405, "use GET\n", keep_alive);
    char text[32];
    snprintf(text, sizeof text, "%llu\n", (unsigned long long)++counter);
    return respond_text(c, 200, text, keep_alive);
  }
  if (!strcmp(path, "/health")) return respond_text(c, 200, "ok\n", keep_alive);
  if (!strcmp(path, "/echo")) {
    if (strcmp(method, "POST") && strcmp(method, "PUT")) {
      return respond_text(c, 405, "use POST\n", keep_alive);
    }
    return respond(c, 200, "application/octet-stream", body, body_len, keep_alive);
  }
  if (!strcmp(path, "/bytes")) {
    size_t n = 0;
    if (q && !strncmp(q, "?n=", 3)) n = strtoul(q + 3, NULL, 10);
    if (n > MAX_BODY) return respond_text(c, 413, "too large\n", keep_alive);
    char *data = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) data[i] = (char)('a' + i % 26);
    respond(c, 200, "application/octet-stream", data, n, keep_alive);
    free(data);
    return;
  }
  if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
    return respond_text(c, 405, "method not allowed\n", keep_alive);
  }
  serve_static(c, path, keep_alive);
}

/* Finds a header's value (case-insensitive name) in the header block; returns its length. */
static const char *find_header(const char *headers, size_t len, const char *name, size_t *vlen) {
  size_t nlen = strlen(name);
  const char *p = headers, *end = headers + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    if ((size_t)(eol - p) > nlen && p[nlen] == ':' && !strncasecmp(p, name, nlen)) {
      const char *v = p + nlen + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      const char *ve = eol;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
      *vlen = (size_t)(ve - v);
      return v;
    }
    p = eol + 1;
  }
  return NULL;
}

/*
 * Decodes a chunked body starting at `p` (with `avail` bytes). Returns the bytes consumed when the
 * whole body (and trailers) is present, 0 when more input is needed, -1 when malformed.
 */
static long decode_chunked(const char *p, size_t avail, buf_t *out) {
  size_t off = 0;
  out->len = 0;
  for (;;) {
    const char *eol = memchr(p + off, '\n', avail - off);
    if (!eol) return 0;
    char *endp;
    unsigned long size = strtoul(p + off, &endp, 16);
    if (endp == p + off) return -1;
    off = (size_t)(eol - p) + 1;
    if (size == 0) {
      /* Trailers end with an empty line. */
      for (;;) {
        const char *tl = memchr(p + off, '\n', avail - off);
        if (!tl) return 0;
        size_t linelen = (size_t)(tl - (p + off));
        off = (size_t)(tl - p) + 1;
        if (linelen == 0 || (linelen == 1 && p[off - 2] == '\r')) return (long)off;
      }
    }
    if (out->len + size > MAX_BODY) return -2;
    if (avail - off < size + 2) return 0;
    buf_append(out, p + off, size);
    off += size;
    if (p[off] == '\r') off++;
    if (p[off] != '\n') return -1;
    off++;
  }
}

/* Copies the next space-separated word of `*p` into `out` (at most `max` bytes); -1 if none or
 * too long. */
static int next_word(const char **p, char *out, size_t max) {
  const char *s = *p;
  while (*s == ' ' || *s == '\t') s++;
  size_t n = 0;
  while (s[n] && s[n] != ' ' && s[n] != '\t') n++;
  if (n == 0 || n > max) return -1;
  memcpy(out, s, n);
  out[n] = 0;
  *p = s + n;
  return 0;
}

/* Splits "METHOD TARGET VERSION" (exactly three words); -1 when malformed. */
static int split_request_line(const char *line, char *method, char *target, char *version) {
  const char *p = line;
  if (next_word(&p, method, 15) || next_word(&p, target, 2047) || next_word(&p, version, 15)) {
    return -1;
  }
  while (*p == ' ' || *p == '\t') p++;
  return *p ? -1 : 0;
}

/* Parses and answers every complete request buffered on `c`. */
static void process_input(conn_t *c) {
  buf_t chunked = {0};
  while (!c->close_after) {
    char *hdr_end = NULL;
    for (size_t i = 0; i + 3 < c->in.len; i++) {
      if (c->in.data[i] == '\r' && !memcmp(c->in.data + i, "\r\n\r\n", 4)) {
        hdr_end = c->in.data + i + 4;
        break;
      }
    }
    if (!hdr_end) {
      if (c->in.len > MAX_HEADER) respond_text(c, 400, "headers too large\n", 0);
      break;
    }
    size_t head_len = (size_t)(hdr_end - c->in.data);
    /* Parse the request line alone, NUL-terminated (the buffer itself is not). */
    char line[2100], method[16], target[2048], version[16];
    const char *eol = memchr(c->in.data, '\n', head_len);
    size_t line_len = (size_t)(eol - c->in.data);
    if (line_len > 0 && c->in.data[line_len - 1] == '\r') line_len--;
    if (line_len >= sizeof line) {
      respond_text(c, 400, "request line too long\n", 0);
      break;
    }
    memcpy(line, c->in.data, line_len);
    line[line_len] = 0;
    if (split_request_line(line, method, target, version) != 0 || strncmp(version, "HTTP/1.", 7)) {
      respond_text(c, 400, "bad request line\n", 0);
      break;
    }
    const char *headers = memchr(c->in.data, '\n', head_len) + 1;
    size_t headers_len = head_len - (size_t)(headers - c->in.data);
    int keep_alive = strcmp(version, "HTTP/1.0") != 0;
    size_t vlen;
    const char *v = find_header(headers, headers_len, "Connection", &vlen);
    if (v && vlen == 5 && !strncasecmp(v, "close", 5)) keep_alive = 0;
    if (v && vlen == 10 && !strncasecmp(v, "keep-alive", 10)) keep_alive = 1;

    const char *te = find_header(headers, headers_len, "Transfer-Encoding", &vlen);
    const char *body;
    size_t body_len, consumed;
    if (te && vlen >= 7 && !strncasecmp(te + vlen - 7, "chunked", 7)) {
      long n = decode_chunked(hdr_end, c->in.len - head_len, &chunked);
      if (n == 0) break; /* need more */
      if (n == -2) {
        respond_text(c, 413, "body too large\n", 0);
        break;
      }
      if (n < 0) {
        respond_text(c, 400, "bad chunked body\n", 0);
        break;
      }
      body = chunked.data ? chunked.data : "";
      body_len = chunked.len;
      consumed = head_len + (size_t)n;
    } else {
      const char *cl = find_header(headers, headers_len, "Content-Length", &vlen);
      unsigned long long len = 0;
      if (cl) {
        char tmp[24];
        if (vlen == 0 || vlen >= sizeof tmp) {
          respond_text(c, 400, "bad Content-Length\n", 0);
          break;
        }
        memcpy(tmp, cl, vlen);
        tmp[vlen] = 0;
        char *endp;
        len = strtoull(tmp, &endp, 10);
        if (*endp) {
          respond_text(c, 400, "bad Content-Length\n", 0);
          break;
        }
      }
      if (len > MAX_BODY) {
        respond_text(c, 413, "body too large\n", 0);
        break;
      }
      if (c->in.len - head_len < len) break; /* need more */
      body = hdr_end;
      body_len = (size_t)len;
      consumed = head_len + (size_t)len;
    }
    size_t before = c->out.len;
    route(c, method, target, body, body_len, keep_alive);
    if (!strcmp(method, "HEAD")) {
      /* Drop the body we just queued, keep the headers. */
      char *sep = NULL;
      for (size_t i = before; i + 3 < c->out.len; i++) {
        if (!memcmp(c->out.data + i, "\r\n\r\n", 4)) {
          sep = c->out.data + i + 4;
          break;
        }
      }
      if (sep) c->out.len = (size_t)(sep - c->out.data);
    }
    buf_consume(&c->in, consumed);
  }
  free(chunked.data);
}

static void close_conn(conn_t *c) {
  wasix_epoll_ctl(epfd, WASIX_EPOLL_CTL_DEL, c->fd, NULL);
  close((int)c->fd);
  free(c->in.data);
  free(c->out.data);
  memset(c, 0, sizeof *c);
}

static void watch(conn_t *c, int want_out) {
  wasix_epoll_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.events = WASIX_EPOLLIN | (want_out ? WASIX_EPOLLOUT : 0);
  ev.data.fd = c->fd;
  wasix_epoll_ctl(epfd, WASIX_EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = want_out;
}

/* Sends what is queued; returns -1 when the connection must be closed. */
static int flush(conn_t *c) {
  while (c->out_off < c->out.len) {
    wasix_ciovec_t iov = {(const uint8_t *)c->out.data + c->out_off, c->out.len - c->out_off};
    uint32_t n = 0;
    int e = wasix_sock_send(c->fd, &iov, 1, 0, &n);
    if (e == WASIX_EAGAIN) {
      if (!c->want_out) watch(c, 1);
      return 0;
    }
    if (e != 0) return -1;
    c->out_off += n;
  }
  c->out.len = 0;
  c->out_off = 0;
  if (c->want_out) watch(c, 0);
  return c->close_after ? -1 : 0;
}

static void on_readable(conn_t *c) {
  for (;;) {
    buf_reserve(&c->in, READ_CHUNK);
    wasix_iovec_t iov = {(uint8_t *)c->in.data + c->in.len, READ_CHUNK};
    uint32_t n = 0;
    uint16_t ro;
    int e = wasix_sock_recv(c->fd, &iov, 1, 0, &n, &ro);
    if (e == WASIX_EAGAIN) break;
    if (e != 0 || n == 0) {
      close_conn(c);
      return;
    }
    c->in.len += n;
    if (c->in.len > MAX_HEADER + MAX_BODY + 65536) break;
    /* A short read drained the socket: epoll is level-triggered, so anything that arrives later
       is reported again, and a second recv would only say EAGAIN (a syscall per request). */
    if (n < READ_CHUNK) break;
  }
  process_input(c);
  if (flush(c) < 0) close_conn(c);
}

/* The first inherited listening socket at fd >= 3 (--tcplisten puts it after preopened dirs). */
static int find_inherited_listener(wasix_fd_t *out) {
  for (wasix_fd_t fd = 3; fd < 64; fd++) {
    uint8_t listening = 0;
    if (wasix_sock_get_opt_flag(fd, WASIX_SOCKOPT_LISTENING, &listening) == 0 && listening) {
      *out = fd;
      return 1;
    }
  }
  return 0;
}

static wasix_fd_t open_listener(void) {
  const char *listen_fds = getenv("LISTEN_FDS");
  wasix_fd_t inherited;
  if (listen_fds && atoi(listen_fds) >= 1) {
    if (find_inherited_listener(&inherited)) return inherited;
    fprintf(stderr, "LISTEN_FDS is set but no listening socket was passed in\n");
    exit(1);
  }
  const char *port_env = getenv("PORT");
  int port = port_env ? atoi(port_env) : 8080;
  wasix_fd_t fd;
  wasix_addr_port_t addr;
  int e = wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &fd);
  if (e == 0) e = wasix_sock_set_opt_flag(fd, WASIX_SOCKOPT_REUSE_ADDR, 1);
  wasix_addr_ipv4(&addr, 0, 0, 0, 0, (uint16_t)port);
  if (e == 0) e = wasix_sock_bind(fd, &addr);
  if (e == 0) e = wasix_sock_listen(fd, 128);
  if (e != 0) {
    fprintf(stderr, "cannot listen on port %d: wasix errno %d\n", port, e);
    exit(1);
  }
  return fd;
}

int main(void) {
  const char *dir = getenv("PUBLIC_DIR");
  if (dir) public_dir = dir;
  wasix_fd_t listener = open_listener();
  if (p1_fd_fdstat_set_flags((int32_t)listener, WASIX_FDFLAGS_NONBLOCK) != 0) {
    fprintf(stderr, "fd %u is not a listening socket\n", listener);
    return 1;
  }
  if (wasix_epoll_create(&epfd) != 0) {
    fprintf(stderr, "epoll_create failed\n");
    return 1;
  }
  wasix_epoll_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.events = WASIX_EPOLLIN;
  ev.data.fd = listener;
  wasix_epoll_ctl(epfd, WASIX_EPOLL_CTL_ADD, listener, &ev);
  printf("wasix-http-server: listening (public dir %s)\n", public_dir);
  fflush(stdout);

  wasix_epoll_event_t events[64];
  for (;;) {
    uint32_t n = 0;
    int e = wasix_epoll_wait(epfd, events, 64, UINT64_MAX, &n);
    if (e != 0 && e != WASIX_EINTR) {
      fprintf(stderr, "epoll_wait failed: %d\n", e);
      return 1;
    }
    for (uint32_t i = 0; i < n; i++) {
      wasix_fd_t fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          wasix_fd_t cfd;
          wasix_addr_port_t peer;
          int ae = wasix_sock_accept_v2(listener, WASIX_FDFLAGS_NONBLOCK, &cfd, &peer);
          if (ae == WASIX_EAGAIN) break;
          if (ae != 0) {
            printf("wasix-http-server: the listening socket is gone (errno %d); exiting\n", ae);
            return 0;
          }
          conn_t *c = NULL;
          for (int k = 0; k < MAX_CONNS; k++) {
            if (!conns[k].used) {
              c = &conns[k];
              break;
            }
          }
          if (!c) {
            close((int)cfd);
            continue;
          }
          memset(c, 0, sizeof *c);
          c->used = 1;
          c->fd = cfd;
          wasix_epoll_event_t cev;
          memset(&cev, 0, sizeof cev);
          cev.events = WASIX_EPOLLIN;
          cev.data.fd = cfd;
          wasix_epoll_ctl(epfd, WASIX_EPOLL_CTL_ADD, cfd, &cev);
        }
        continue;
      }
      conn_t *c = NULL;
      for (int k = 0; k < MAX_CONNS; k++) {
        if (conns[k].used && conns[k].fd == fd) {
          c = &conns[k];
          break;
        }
      }
      if (!c) continue;
      if (events[i].events & (WASIX_EPOLLIN | WASIX_EPOLLHUP | WASIX_EPOLLERR)) {
        on_readable(c);
      } else if (events[i].events & WASIX_EPOLLOUT) {
        if (flush(c) < 0) close_conn(c);
      }
    }
  }
}
