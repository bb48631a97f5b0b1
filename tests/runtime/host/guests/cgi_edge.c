// cgi_edge: a CGI program whose routes misbehave on purpose, to test the WCGI runner.
//   /           "hello from cgi_edge" and the request's method, query and body length
//   /bad        output without a header block
//   /loop       spins forever
//   /trap       executes unreachable
//   /redirect   a Location header without Status
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  const char *path = getenv("PATH_INFO");
  const char *method = getenv("REQUEST_METHOD");
  const char *query = getenv("QUERY_STRING");
  if (!path) path = "/";
  if (strcmp(path, "/bad") == 0) {
    printf("this is not a CGI response");
    return 0;
  }
  if (strcmp(path, "/loop") == 0) {
    volatile unsigned long spin = 0;
    for (;;) spin++;
  }
  if (strcmp(path, "/trap") == 0) __builtin_trap();
  if (strcmp(path, "/redirect") == 0) {
    printf("Location: /elsewhere\r\n\r\n");
    return 0;
  }
  size_t total = 0;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) total += n;
  printf("Content-Type: text/plain\r\nX-Cgi: edge\r\n\r\n");
  printf("hello from cgi_edge\nmethod=%s query=%s body=%zu\n", method ? method : "",
         query ? query : "", total);
  return 0;
}
