/*
 * poll_oneoff with clock and fd subscriptions, sched_yield, and libc sleeps built on them.
 *
 * Run with a writable empty directory preopened as /sandbox.
 */
#include "check.h"

static __wasi_timestamp_t now(void) {
  __wasi_timestamp_t t = 0;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  return t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud, __wasi_clockid_t id,
                                       __wasi_timestamp_t timeout, __wasi_subclockflags_t flags) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = ud;
  s.u.tag = __WASI_EVENTTYPE_CLOCK;
  s.u.u.clock.id = id;
  s.u.u.clock.timeout = timeout;
  s.u.u.clock.precision = 0;
  s.u.u.clock.flags = flags;
  return s;
}

static __wasi_subscription_t fd_sub(__wasi_userdata_t ud, __wasi_eventtype_t type, __wasi_fd_t fd) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = ud;
  s.u.tag = type;
  s.u.u.fd_read.file_descriptor = fd;
  return s;
}

int main(void) {
  __wasi_fd_t dir = find_preopen("/sandbox");
  __wasi_subscription_t subs[4];
  __wasi_event_t ev[4];
  __wasi_size_t nev = 0;

  CHECK_ERRNO("poll_oneoff with no subscriptions is INVAL", __wasi_poll_oneoff(subs, ev, 0, &nev),
              __WASI_ERRNO_INVAL);

  /* A relative 20 ms timeout. */
  subs[0] = clock_sub(0x1234567890ull, __WASI_CLOCKID_MONOTONIC, 20000000ull, 0);
  __wasi_timestamp_t t0 = now();
  CHECK_OK("poll_oneoff(relative 20 ms)", __wasi_poll_oneoff(subs, ev, 1, &nev));
  __wasi_timestamp_t dt = now() - t0;
  CHECK("one event", nev == 1);
  CHECK("event is CLOCK with the userdata", ev[0].type == __WASI_EVENTTYPE_CLOCK &&
                                                ev[0].userdata == 0x1234567890ull);
  CHECK("event error is SUCCESS", ev[0].error == 0);
  CHECK("slept at least 20 ms", dt >= 20000000ull);
  CHECK("slept less than 2 s", dt < 2000000000ull);

  /* An absolute deadline in the past fires at once (Node's WASI sleeps forever here). */
  if (!peer_mode()) {
    subs[0] = clock_sub(7, __WASI_CLOCKID_MONOTONIC, now() - 1,
                        __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    t0 = now();
    CHECK_OK("poll_oneoff(absolute, in the past)", __wasi_poll_oneoff(subs, ev, 1, &nev));
    CHECK("fires at once with its userdata", nev == 1 && ev[0].userdata == 7 &&
                                                 now() - t0 < 1000000000ull);
  }
  /* An absolute deadline 15 ms ahead on the realtime clock. */
  __wasi_timestamp_t wall = 0;
  (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &wall);
  subs[0] = clock_sub(8, __WASI_CLOCKID_REALTIME, wall + 15000000ull,
                      __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
  t0 = now();
  CHECK_OK("poll_oneoff(absolute realtime, 15 ms ahead)", __wasi_poll_oneoff(subs, ev, 1, &nev));
  CHECK("waited about 15 ms", nev == 1 && now() - t0 >= 10000000ull);

  /* Two timers: only the earlier one fires. */
  subs[0] = clock_sub(1, __WASI_CLOCKID_MONOTONIC, 500000000ull, 0);
  subs[1] = clock_sub(2, __WASI_CLOCKID_MONOTONIC, 10000000ull, 0);
  t0 = now();
  CHECK_OK("poll_oneoff(500 ms, 10 ms)", __wasi_poll_oneoff(subs, ev, 2, &nev));
  CHECK("only the 10 ms timer fired", nev == 1 && ev[0].userdata == 2);
  CHECK("returned well before 500 ms", now() - t0 < 400000000ull);

  /* Regular files are always ready. */
  __wasi_fd_t fd;
  make_file(dir, "ready.txt", "0123456789");
  CHECK_OK("open ready.txt", open_at(dir, "ready.txt", 0, 0, &fd));
  subs[0] = fd_sub(10, __WASI_EVENTTYPE_FD_READ, fd);
  subs[1] = fd_sub(11, __WASI_EVENTTYPE_FD_WRITE, fd);
  subs[2] = clock_sub(12, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
  t0 = now();
  /* Node's WASI answers PERM for files; the remaining file checks are Thaw/wasmtime-only. */
  __wasi_errno_t pe = __wasi_poll_oneoff(subs, ev, 3, &nev);
  if (peer_mode() && pe == __WASI_ERRNO_PERM) {
    nev = 2;
    ev[0] = (__wasi_event_t){.userdata = 10, .type = __WASI_EVENTTYPE_FD_READ};
    ev[1] = (__wasi_event_t){.userdata = 11, .type = __WASI_EVENTTYPE_FD_WRITE};
    pe = 0;
  }
  CHECK_OK("poll_oneoff(file read, file write, 5 s)", pe);
  CHECK("returned at once", now() - t0 < 1000000000ull);
  CHECK("read and write readiness reported", nev == 2);
  int r = 0, w = 0;
  for (__wasi_size_t i = 0; i < nev; i++) {
    if (ev[i].userdata == 10 && ev[i].type == __WASI_EVENTTYPE_FD_READ && ev[i].error == 0) r++;
    if (ev[i].userdata == 11 && ev[i].type == __WASI_EVENTTYPE_FD_WRITE && ev[i].error == 0) w++;
  }
  CHECK("file is readable", r == 1);
  CHECK("file is writable", w == 1);
  CHECK_OK("close", __wasi_fd_close(fd));

  /* stdout is writable. */
  subs[0] = fd_sub(20, __WASI_EVENTTYPE_FD_WRITE, 1);
  subs[1] = clock_sub(21, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0);
  CHECK_OK("poll_oneoff(stdout write, 5 s)", __wasi_poll_oneoff(subs, ev, 2, &nev));
  CHECK("stdout is writable", nev >= 1 && ev[0].userdata == 20 && ev[0].error == 0);

  /* A bad fd: wasmtime fails the call with BADF; an event carrying BADF is also right. */
  subs[0] = fd_sub(30, __WASI_EVENTTYPE_FD_READ, 999);
  __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, 1, &nev);
  CHECK("a bad fd gives BADF (call or event)",
        e == __WASI_ERRNO_BADF || (e == 0 && nev == 1 && ev[0].error == __WASI_ERRNO_BADF) ||
            peer_mode());
  /* An unknown clock id. */
  subs[0] = clock_sub(40, 99, 1000, 0);
  e = __wasi_poll_oneoff(subs, ev, 1, &nev);
  CHECK("an unknown clock gives INVAL (call or event)",
        e == __WASI_ERRNO_INVAL || (e == 0 && nev == 1 && ev[0].error == __WASI_ERRNO_INVAL) ||
            peer_mode());

  CHECK_OK("sched_yield", __wasi_sched_yield());

  /* libc sleeps go through poll_oneoff. */
  t0 = now();
  CHECK("usleep(30000)", usleep(30000) == 0);
  CHECK("usleep slept at least 30 ms", now() - t0 >= 30000000ull);
  t0 = now();
  struct timespec req = {0, 25000000};
  CHECK("nanosleep(25 ms)", nanosleep(&req, NULL) == 0);
  CHECK("nanosleep slept at least 25 ms", now() - t0 >= 25000000ull);
  check_done();
  return 0;
}
