/*
 * args_sizes_get, args_get, environ_sizes_get, environ_get.
 *
 * Run as: args_env.wasm alpha "beta gamma" "ünï" ""   with env THAW_A=1 THAW_EMPTY= THAW_EQ=x=y
 * (and no other THAW_* variables).
 */
#include "check.h"

static const char *want_args[] = {"alpha", "beta gamma", "\xc3\xbcn\xc3\xaf", ""};

int main(void) {
  __wasi_size_t argc = 0, argv_size = 0;
  CHECK_OK("args_sizes_get", __wasi_args_sizes_get(&argc, &argv_size));
  CHECK("argc is 5", argc == 5);
  size_t want_size = 0;
  for (int i = 0; i < 4; i++) want_size += strlen(want_args[i]) + 1;
  /* argv[0] is the program name, whatever it is; the rest is exact. */
  CHECK("argv buffer size covers the arguments", argv_size > want_size);

  uint8_t **argv = calloc(argc + 1, sizeof(uint8_t *));
  uint8_t *buf = malloc(argv_size);
  memset(buf, 0xAA, argv_size);
  CHECK_OK("args_get", __wasi_args_get(argv, buf));
  CHECK("argv[0] is the first string in the buffer", argv[0] == buf);
  CHECK("argv[0] ends in .wasm", strlen((char *)argv[0]) >= 5 &&
                                   strcmp((char *)argv[0] + strlen((char *)argv[0]) - 5, ".wasm") == 0);
  CHECK("argv buffer size is exact", (size_t)argv_size == strlen((char *)argv[0]) + 1 + want_size);
  for (int i = 0; i < 4; i++) {
    char what[64];
    snprintf(what, sizeof what, "argv[%d] is exact (NUL-terminated, UTF-8 kept)", i + 1);
    CHECK(what, strcmp((char *)argv[i + 1], want_args[i]) == 0);
  }
  CHECK("argument strings are packed", argv[2] == argv[1] + strlen((char *)argv[1]) + 1);
  CHECK("last byte of the buffer is NUL", buf[argv_size - 1] == 0);

  __wasi_size_t envc = 0, env_size = 0;
  CHECK_OK("environ_sizes_get", __wasi_environ_sizes_get(&envc, &env_size));
  CHECK("at least 3 variables", envc >= 3);
  uint8_t **env = calloc(envc + 1, sizeof(uint8_t *));
  uint8_t *ebuf = malloc(env_size);
  CHECK_OK("environ_get", __wasi_environ_get(env, ebuf));
  int seen_a = 0, seen_empty = 0, seen_eq = 0, others = 0;
  size_t total = 0;
  for (__wasi_size_t i = 0; i < envc; i++) {
    const char *e = (const char *)env[i];
    total += strlen(e) + 1;
    if (strcmp(e, "THAW_A=1") == 0) seen_a++;
    else if (strcmp(e, "THAW_EMPTY=") == 0) seen_empty++;
    else if (strcmp(e, "THAW_EQ=x=y") == 0) seen_eq++;
    else if (strncmp(e, "THAW_", 5) == 0 && strncmp(e, "THAW_GUEST_PEER=", 16) != 0) others++;
  }
  CHECK("THAW_A=1 present once", seen_a == 1);
  CHECK("THAW_EMPTY= present once (empty value kept)", seen_empty == 1);
  CHECK("THAW_EQ=x=y present once (= in value kept)", seen_eq == 1);
  CHECK("no other THAW_ variables leak in", others == 0);
  CHECK("environ buffer size is exact", total == env_size);

  /* libc's view agrees with the raw calls. */
  CHECK("getenv THAW_EQ", getenv("THAW_EQ") && strcmp(getenv("THAW_EQ"), "x=y") == 0);
  CHECK("getenv THAW_MISSING is NULL", getenv("THAW_MISSING") == NULL);
  check_done();
  return 0;
}
