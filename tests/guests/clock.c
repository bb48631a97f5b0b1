/* clock_res_get, clock_time_get, sched_yield. */
#include "check.h"

int main(void) {
  __wasi_timestamp_t res = 0, t0 = 0, t1 = 0, wall = 0;
  CHECK_OK("clock_res_get(MONOTONIC)", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res));
  CHECK("monotonic resolution is between 1ns and 1s", res >= 1 && res <= 1000000000ull);
  CHECK_OK("clock_res_get(REALTIME)", __wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res));
  CHECK("realtime resolution is between 1ns and 1s", res >= 1 && res <= 1000000000ull);
  CHECK_ERRNO("clock_res_get(99) is INVAL", __wasi_clock_res_get(99, &res), __WASI_ERRNO_INVAL);

  CHECK_OK("clock_time_get(REALTIME)", __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &wall));
  /* 2020-01-01 and 2200-01-01 in nanoseconds since the epoch. */
  CHECK("realtime is a plausible date", wall > 1577836800ull * 1000000000ull &&
                                            wall < 7258118400ull * 1000000000ull);
  CHECK_OK("clock_time_get(MONOTONIC)", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0));
  int monotone = 1;
  __wasi_timestamp_t prev = t0;
  for (int i = 0; i < 10000; i++) {
    __wasi_timestamp_t t;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t) != 0 || t < prev) monotone = 0;
    prev = t;
  }
  CHECK("monotonic never goes backwards over 10000 reads", monotone);
  CHECK_OK("sched_yield", __wasi_sched_yield());
  /* Busy-wait 5 ms of monotonic time; realtime must advance too. */
  do {
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t1) != 0) break;
  } while (t1 - t0 < 5000000ull);
  CHECK("monotonic advances", t1 - t0 >= 5000000ull);
  __wasi_timestamp_t wall2 = 0;
  CHECK_OK("clock_time_get(REALTIME) again", __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, &wall2));
  CHECK("realtime advances with monotonic", wall2 > wall);
  CHECK_ERRNO("clock_time_get(99) is INVAL", __wasi_clock_time_get(99, 0, &t1), __WASI_ERRNO_INVAL);

  /* CPU-time clocks: wasmtime answers BADF; a host that supports them must give sane values. */
  __wasi_errno_t e = __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 0, &t1);
  CHECK("clock_time_get(PROCESS_CPUTIME) is BADF or a time", e == __WASI_ERRNO_BADF || e == 0);
  e = __wasi_clock_res_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, &res);
  CHECK("clock_res_get(THREAD_CPUTIME) is BADF or a resolution",
        e == __WASI_ERRNO_BADF || (e == 0 && res >= 1));

  /* libc on top. */
  struct timespec ts;
  CHECK("clock_gettime(CLOCK_MONOTONIC)", clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  CHECK("time(NULL) matches realtime", (unsigned long long)time(NULL) >= wall / 1000000000ull);
  check_done();
  return 0;
}
