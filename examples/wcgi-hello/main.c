// wcgi-hello: a CGI program (RFC 3875) for Thaw's WCGI runner.
//
// The runner starts this program once per request with the request in the environment
// (REQUEST_METHOD, PATH_INFO, QUERY_STRING, CONTENT_LENGTH, HTTP_* headers, ...) and the body on
// stdin, which it closes after the body. The program writes a CGI response to stdout: header lines (Status:, Content-Type:), a
// blank line, then the body. It echoes what it received, so a runner can be tested against it.
//
// Routes:
//   /status/NNN   answers with status NNN (100-599), to test status handling
//   anything else 200 with an echo of method, path, query, selected headers and the body
//
// It imports only wasi_snapshot_preview1.
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v != NULL ? v : fallback;
}

static const char *reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 413: return "Content Too Large";
  case 418: return "I'm a teapot";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return "Status";
  }
}

static void simple_response(int status, const char *text) {
  printf("Status: %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\n", status,
         reason(status), text);
}

// Reads stdin to EOF into a fresh buffer; sets *too_large past MAX_BODY bytes.
static char *read_body(size_t *len_out, int *too_large) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) return NULL;
  for (;;) {
    if (len + 1 >= cap) {
      if (cap > MAX_BODY) {
        *too_large = 1;
        break;
      }
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        return NULL;
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(STDIN_FILENO, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; // EOF, or an error: keep what arrived
    len += (size_t)n;
  }
  buf[len] = '\0';
  *len_out = len;
  return buf;
}

int main(void) {
  // Read the body before looking at the environment: with instaboot's first-stdin trigger the
  // snapshot is taken at this first read, so nothing request-specific may be read before it.
  // The WCGI runner closes stdin after the body, as Wasmer's does.
  size_t body_len = 0;
  int too_large = 0;
  char *body = read_body(&body_len, &too_large);
  if (body == NULL) {
    simple_response(500, "out of memory");
    return 0;
  }

  const char *method = getenv("REQUEST_METHOD");
  if (method == NULL) {
    fprintf(stderr, "wcgi-hello: REQUEST_METHOD is not set; run me through a CGI/WCGI runner, "
                    "e.g. REQUEST_METHOD=GET PATH_INFO=/ wasmtime wcgi-hello.wasm </dev/null\n");
    return 2;
  }
  const char *path = env_or("PATH_INFO", "");
  const char *query = env_or("QUERY_STRING", "");
  const char *length_text = getenv("CONTENT_LENGTH");
  if (too_large) {
    simple_response(413, "request body is larger than 1 MiB");
    return 0;
  }
  if (length_text != NULL && length_text[0] != '\0') {
    char *end;
    errno = 0;
    long length = strtol(length_text, &end, 10);
    if (errno != 0 || *end != '\0' || length < 0) {
      simple_response(400, "CONTENT_LENGTH is not a number");
      return 0;
    }
    // RFC 3875: the body is CONTENT_LENGTH bytes; ignore anything after it.
    if ((size_t)length < body_len) body_len = (size_t)length;
  }

  if (strncmp(path, "/status/", 8) == 0) {
    const char *code = path + 8;
    int ok = strlen(code) == 3 && isdigit((unsigned char)code[0]) &&
             isdigit((unsigned char)code[1]) && isdigit((unsigned char)code[2]);
    int status = ok ? atoi(code) : 0;
    if (status < 100 || status > 599) {
      simple_response(400, "use /status/NNN with NNN between 100 and 599");
    } else {
      printf("Status: %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nstatus %d\n",
             status, reason(status), status);
    }
    free(body);
    return 0;
  }

  printf("Status: 200 OK\r\n");
  printf("Content-Type: text/plain; charset=utf-8\r\n");
  printf("X-Wcgi-Hello: 1\r\n");
  printf("\r\n");
  if (strcmp(method, "HEAD") == 0) {
    free(body);
    return 0;
  }
  printf("hello from wcgi-hello\n");
  printf("method: %s\n", method);
  printf("path: %s\n", path);
  printf("query: %s\n", query);
  printf("content-type: %s\n", env_or("CONTENT_TYPE", ""));
  printf("content-length: %zu\n", body_len);
  printf("host: %s\n", env_or("HTTP_HOST", ""));
  printf("protocol: %s\n", env_or("SERVER_PROTOCOL", ""));
  printf("body: ");
  fwrite(body, 1, body_len, stdout);
  printf("\n");
  free(body);
  return 0;
}
