// build-flags: -mexec-model=reactor
// A reactor (no _start): _initialize runs the constructor below once; a runner then calls the
// exports. Snapshot tests check that a restored instance keeps the counters and that the
// constructor did not run again.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int inits = 0;
static int counter = 0;
static char *table;

__attribute__((constructor)) static void boot(void) {
  inits++;
  table = malloc(1 << 16);
  for (int i = 0; i < (1 << 16); i++) table[i] = (char)(i % 251);
  mkdir("/tmp", 0755);
  FILE *f = fopen("/tmp/reactor.txt", "w");
  if (f) {
    fputs("initialized\n", f);
    fclose(f);
  }
}

__attribute__((export_name("inc"))) int inc(void) { return ++counter; }
__attribute__((export_name("inits"))) int get_inits(void) { return inits; }
__attribute__((export_name("checksum"))) int checksum(void) {
  int s = 0;
  for (int i = 0; i < (1 << 16); i++) s += table[i];
  return s;
}
__attribute__((export_name("file_ok"))) int file_ok(void) {
  FILE *f = fopen("/tmp/reactor.txt", "r");
  if (!f) return 0;
  char buf[32] = {0};
  fgets(buf, sizeof buf, f);
  fclose(f);
  return strcmp(buf, "initialized\n") == 0;
}

// Built as a reactor by the snapshot tests (-mexec-model=reactor), where this is dead code; the
// shared tests/guests/build.sh builds every guest as a command, which needs a main.
int main(void) { return 0; }
