// A CGI program that reads its environment before stdin: a first-stdin snapshot would freeze the
// warm-up request's environment, so deploy must refuse to snapshot it.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  const char *method = getenv("REQUEST_METHOD");
  char body[256];
  ssize_t n = read(0, body, sizeof body - 1);
  body[n > 0 ? n : 0] = 0;
  printf("Content-Type: text/plain\r\n\r\nmethod=%s body=%s\n", method ? method : "-", body);
  return 0;
}
