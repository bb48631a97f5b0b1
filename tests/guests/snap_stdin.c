// Snapshot test guest: boots (allocates and fills a cache, counts boots), then answers each line
// read from stdin with a running counter, so a restored instance shows the warmed state.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int counter = 0;
static int boots = 0;
static unsigned char *cache;

static int depth(int n, char *buf, size_t size) {
  // Blocks a few frames deep so the rewind has a real stack to restore.
  if (n > 0) return depth(n - 1, buf, size) + 1;
  return (int)read(0, buf, size);
}

int main(void) {
  boots++;
  cache = malloc(200000);
  for (int i = 0; i < 200000; i++) cache[i] = (unsigned char)(i * 7 + 1);
  printf("boot %d\n", boots);
  fflush(stdout);
  char buf[128];
  for (;;) {
    int n = depth(5, buf, sizeof buf) - 5;
    if (n <= 0) break;
    counter++;
    unsigned sum = 0;
    for (int i = 0; i < 200000; i++) sum += cache[i];
    printf("line %d boots %d sum %u: %.*s\n", counter, boots, sum, n, buf);
    fflush(stdout);
  }
  printf("eof after %d\n", counter);
  return 0;
}
