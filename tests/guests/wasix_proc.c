/* Process-level WASIX calls: getcwd/chdir, proc_id/parent, tty, threads, futex, sleep,
 * sched_yield, proc_snapshot. Exit status = number of failed checks. */
#include <stdint.h>
#include "wasix.h"
#include "wasix_check.h"

int main(void) {
  uint8_t buf[256];
  uint32_t len = sizeof buf;
  OK(wasix_getcwd(buf, &len));
  CHECK(len == 1 && buf[0] == '/');
  uint32_t small = 0;
  CHECK_ERR(wasix_getcwd(buf, &small), WASIX_EOVERFLOW);
  CHECK(small == 1);

  OK(wasix_chdir("/tmp", 4));
  len = sizeof buf;
  OK(wasix_getcwd(buf, &len));
  CHECK(len == 4 && memcmp(buf, "/tmp", 4) == 0);
  OK(wasix_chdir("..", 2));
  len = sizeof buf;
  OK(wasix_getcwd(buf, &len));
  CHECK(len == 1 && buf[0] == '/');
  CHECK_ERR(wasix_chdir("/does/not/exist", 15), WASIX_ENOENT);

  uint32_t pid = 0, ppid = 99, tid = 99, par = 0;
  OK(wasix_proc_id(&pid));
  CHECK(pid >= 1);
  OK(wasix_proc_parent(pid, &ppid));
  CHECK(ppid == 0);
  CHECK_ERR(wasix_proc_parent(pid + 100, &ppid), 71 /* ESRCH */);
  OK(wasix_thread_id(&tid));
  CHECK(tid == pid); /* the main thread's id is the process id */
  OK(wasix_thread_parallelism(&par));
  CHECK(par == 1);
  OK(wasix_sched_yield());

  wasix_tty_t tty;
  OK(wasix_tty_get(&tty));
  CHECK(tty.cols == 80 && tty.rows == 25);
  tty.cols = 120;
  tty.echo = 0;
  OK(wasix_tty_set(&tty));
  wasix_tty_t tty2;
  OK(wasix_tty_get(&tty2));
  CHECK(tty2.cols == 120 && tty2.echo == 0);

  /* futex: single thread. A value that already changed returns at once as woken (as Wasmer
     does); a wait with a timeout times out (woken false); wake finds nobody. */
  static uint32_t futex = 5;
  uint8_t woken = 9;
  OK(wasix_futex_wait(&futex, 4, NULL, &woken));
  CHECK(woken == 1);
  wasix_option_timestamp_t t = {1, 5000000ull};
  OK(wasix_futex_wait(&futex, 5, &t, &woken));
  CHECK(woken == 0);
  OK(wasix_futex_wake(&futex, &woken));
  CHECK(woken == 0);
  OK(wasix_futex_wake_all(&futex, &woken));
  CHECK(woken == 0);
  /* A wait with no timeout and no other thread would sleep forever: deadlock. */
  CHECK_ERR(wasix_futex_wait(&futex, 5, NULL, &woken), 16 /* EDEADLK */);

  OK(wasix_thread_sleep(2000000ull));
  OK(wasix_proc_snapshot());

  return finish("wasix_proc");
}
