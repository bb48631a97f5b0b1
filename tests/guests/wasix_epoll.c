/* epoll over several sockets and a pipe, and preview1 poll_oneoff over the same handles.
 * Exit status = number of failed checks. */
#include <stdint.h>
#include "wasix.h"
#include "wasix_check.h"

#define NCLIENTS 3

static void send_str(wasix_fd_t fd, const char *s) {
  wasix_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  uint32_t n;
  OK(wasix_sock_send(fd, &iov, 1, 0, &n));
}

/* preview1 subscription / event layouts (48 and 32 bytes). */
typedef struct {
  uint64_t userdata;
  uint8_t tag;
  uint8_t pad[7];
  union {
    struct { uint32_t id; uint32_t pad; uint64_t timeout, precision; uint16_t flags; } clock;
    struct { uint32_t fd; } rw;
  } u;
} sub_t;
typedef struct {
  uint64_t userdata;
  uint16_t error;
  uint8_t type;
  uint8_t pad[5];
  uint64_t nbytes;
  uint16_t flags;
  uint8_t pad2[6];
} event_t;
_Static_assert(sizeof(sub_t) == 48, "subscription");
_Static_assert(sizeof(event_t) == 32, "event");

int main(void) {
  wasix_fd_t srv, cli[NCLIENTS], conn[NCLIENTS], ep;
  wasix_addr_port_t addr, peer;
  wasix_addr_ipv4(&addr, 127, 0, 0, 1, 9000);
  OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &srv));
  OK(wasix_sock_bind(srv, &addr));
  OK(wasix_sock_listen(srv, 8));

  OK(wasix_epoll_create(&ep));
  wasix_epoll_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.events = WASIX_EPOLLIN;
  ev.data.fd = srv;
  ev.data.data2 = 0xABCDEF0123ull;
  OK(wasix_epoll_ctl(ep, WASIX_EPOLL_CTL_ADD, srv, &ev));
  CHECK_ERR(wasix_epoll_ctl(ep, WASIX_EPOLL_CTL_ADD, srv, &ev), 20 /* EEXIST */);

  wasix_epoll_event_t out[8];
  uint32_t n = 99;
  OK(wasix_epoll_wait(ep, out, 8, 0, &n));
  CHECK(n == 0);

  for (int i = 0; i < NCLIENTS; i++) {
    OK(wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &cli[i]));
    OK(wasix_sock_connect(cli[i], &addr));
  }
  OK(wasix_epoll_wait(ep, out, 8, 0, &n));
  CHECK(n == 1);
  CHECK(out[0].events & WASIX_EPOLLIN);
  CHECK(out[0].data.fd == srv && out[0].data.data2 == 0xABCDEF0123ull);

  for (int i = 0; i < NCLIENTS; i++) {
    OK(wasix_sock_accept_v2(srv, 0, &conn[i], &peer));
    memset(&ev, 0, sizeof ev);
    ev.events = WASIX_EPOLLIN | WASIX_EPOLLRDHUP;
    ev.data.fd = conn[i];
    OK(wasix_epoll_ctl(ep, WASIX_EPOLL_CTL_ADD, conn[i], &ev));
  }
  OK(wasix_epoll_ctl(ep, WASIX_EPOLL_CTL_DEL, srv, NULL));

  send_str(cli[0], "zero");
  send_str(cli[2], "two");
  OK(wasix_epoll_wait(ep, out, 8, 1000000000ull, &n));
  CHECK(n == 2);
  int seen0 = 0, seen2 = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (out[i].data.fd == conn[0]) seen0 = 1;
    if (out[i].data.fd == conn[2]) seen2 = 1;
  }
  CHECK(seen0 && seen2);

  /* maxevents limits the answer, and ready fds take turns (no starvation). */
  OK(wasix_epoll_wait(ep, out, 1, 0, &n));
  CHECK(n == 1);
  wasix_fd_t first = out[0].data.fd;
  OK(wasix_epoll_wait(ep, out, 1, 0, &n));
  CHECK(n == 1 && out[0].data.fd != first);

  /* EPOLLOUT through MOD; hangup is reported after the peer closes. */
  memset(&ev, 0, sizeof ev);
  ev.events = WASIX_EPOLLOUT;
  ev.data.fd = conn[1];
  OK(wasix_epoll_ctl(ep, WASIX_EPOLL_CTL_MOD, conn[1], &ev));
  OK(p1_fd_close((int32_t)cli[1]));
  OK(wasix_epoll_wait(ep, out, 8, 0, &n));
  int hup = 0;
  for (uint32_t i = 0; i < n; i++)
    if (out[i].data.fd == conn[1]) hup = (out[i].events & WASIX_EPOLLHUP) != 0;
  CHECK(hup);

  /* A timed wait with nothing ready returns 0 after the timeout. */
  wasix_fd_t ep2, pr, pw;
  OK(wasix_epoll_create(&ep2));
  OK(wasix_fd_pipe(&pr, &pw));
  memset(&ev, 0, sizeof ev);
  ev.events = WASIX_EPOLLIN;
  ev.data.fd = pr;
  OK(wasix_epoll_ctl(ep2, WASIX_EPOLL_CTL_ADD, pr, &ev));
  OK(wasix_epoll_wait(ep2, out, 8, 10000000ull, &n));
  CHECK(n == 0);
  /* Bad arguments. */
  CHECK_ERR(wasix_epoll_ctl(ep2, WASIX_EPOLL_CTL_ADD, 999, &ev), WASIX_EBADF);
  CHECK_ERR(wasix_epoll_ctl(ep2, 7, pr, &ev), WASIX_EINVAL);
  CHECK_ERR(wasix_epoll_ctl(ep2, WASIX_EPOLL_CTL_MOD, pw, &ev), WASIX_ENOENT);
  CHECK_ERR(wasix_epoll_wait(pr, out, 8, 0, &n), WASIX_EINVAL);
  CHECK_ERR(wasix_epoll_wait(ep2, out, 0, 0, &n), WASIX_EINVAL);

  /* An event fd becomes readable in epoll once written. */
  {
    wasix_fd_t ev, ep3;
    OK(wasix_fd_event(0, 0, &ev));
    OK(wasix_epoll_create(&ep3));
    wasix_epoll_event_t e;
    memset(&e, 0, sizeof e);
    e.events = WASIX_EPOLLIN;
    e.data.fd = ev;
    OK(wasix_epoll_ctl(ep3, WASIX_EPOLL_CTL_ADD, ev, &e));
    OK(wasix_epoll_wait(ep3, out, 8, 0, &n));
    CHECK(n == 0);
    uint64_t one = 1;
    wasix_ciovec_t io = {(const uint8_t *)&one, 8};
    uint32_t w;
    OK(p1_fd_write((int32_t)ev, &io, 1, &w));
    OK(wasix_epoll_wait(ep3, out, 8, 0, &n));
    CHECK(n == 1 && out[0].data.fd == ev && (out[0].events & WASIX_EPOLLIN));
    /* The epoll fd itself is pollable: nested readiness. */
    sub_t s1;
    event_t e1;
    memset(&s1, 0, sizeof s1);
    s1.userdata = 9;
    s1.tag = 1;
    s1.u.rw.fd = ep3;
    uint32_t ne = 0;
    OK(p1_poll_oneoff(&s1, &e1, 1, &ne));
    CHECK(ne == 1 && e1.userdata == 9 && e1.error == 0 && e1.type == 1);
  }

  /* preview1 poll_oneoff sees pipe and socket readiness. */
  sub_t subs[3];
  event_t evs[3];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 1; subs[0].tag = 1; subs[0].u.rw.fd = pr;       /* fd_read: not ready */
  subs[1].userdata = 2; subs[1].tag = 1; subs[1].u.rw.fd = conn[2];  /* fd_read: "two" */
  subs[2].userdata = 3; subs[2].tag = 2; subs[2].u.rw.fd = pw;       /* fd_write: ready */
  uint32_t nev = 0;
  OK(p1_poll_oneoff(subs, evs, 3, &nev));
  CHECK(nev == 2);
  int got2 = 0, got3 = 0;
  for (uint32_t i = 0; i < nev; i++) {
    if (evs[i].userdata == 2 && evs[i].nbytes == 3) got2 = 1;
    if (evs[i].userdata == 3 && evs[i].type == 2) got3 = 1;
  }
  CHECK(got2 && got3);

  return finish("wasix_epoll");
}
