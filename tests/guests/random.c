/* random_get. */
#include "check.h"

int main(void) {
  uint8_t a[32], b[32];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  CHECK_OK("random_get(0 bytes)", __wasi_random_get(a, 0));
  CHECK("a zero-length read writes nothing", a[0] == 0);
  CHECK_OK("random_get(32 bytes)", __wasi_random_get(a, sizeof a));
  CHECK_OK("random_get(32 more bytes)", __wasi_random_get(b, sizeof b));
  CHECK("two draws differ", memcmp(a, b, sizeof a) != 0);
  int nonzero = 0;
  for (size_t i = 0; i < sizeof a; i++) nonzero += a[i] != 0;
  CHECK("a draw is not all zero", nonzero > 16);

  /* Larger than Web Crypto's 65536-byte getRandomValues limit. */
  size_t big = 1 << 20;
  uint8_t *m = calloc(big, 1);
  CHECK_OK("random_get(1 MiB)", __wasi_random_get(m, big));
  size_t counts[256] = {0};
  for (size_t i = 0; i < big; i++) counts[m[i]]++;
  int flat = 1;
  for (int i = 0; i < 256; i++)
    if (counts[i] < big / 256 / 2 || counts[i] > big / 256 * 2) flat = 0;
  CHECK("1 MiB draw is roughly uniform (every byte value within 2x of expected)", flat);
  CHECK("the tail of a large draw is filled", memcmp(m + big - 64, (uint8_t[64]){0}, 64) != 0);
  check_done();
  return 0;
}
