/*
 * wasix.h: the wasix_32v1 imports that Thaw implements, for C guests built with plain
 * wasi-libc (clang --target=wasm32-wasi).
 *
 * Layouts and signatures follow the WASIX witx (wasix-org/wasix-witx, wasix_v1.witx and
 * typenames.witx) and the lowering that wasix-libc generates: every call returns an errno as
 * int32_t and writes its results through trailing out-pointers. Structs are little-endian.
 *
 * Names are prefixed `wasix_` so they never clash with wasi-libc's own `__wasi_*` symbols.
 * Ports inside wasix_addr_port_t are in HOST byte order (not network order), exactly as
 * wasix-libc's sockaddr_to_wasi() stores them.
 *
 * Usage:
 *   #include "wasix.h"     (compile with -I runtime/wasix/include)
 *   int32_t fd;
 *   wasix_sock_open(WASIX_AF_INET4, WASIX_SOCK_STREAM, WASIX_PROTO_TCP, &fd);
 */
#ifndef THAW_WASIX_H
#define THAW_WASIX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WASIX_IMPORT(name) __attribute__((import_module("wasix_32v1"), import_name(#name)))

typedef int32_t wasix_errno_t; /* preview1 errno numbering; 0 = success */
typedef uint32_t wasix_fd_t;
typedef uint64_t wasix_timestamp_t; /* nanoseconds */

/* ---- errno values used by the calls below (same numbers as preview1) ---- */
#define WASIX_ESUCCESS 0
#define WASIX_EADDRINUSE 3
#define WASIX_EADDRNOTAVAIL 4
#define WASIX_EAFNOSUPPORT 5
#define WASIX_EAGAIN 6
#define WASIX_EALREADY 7
#define WASIX_EBADF 8
#define WASIX_ECONNREFUSED 14
#define WASIX_ECONNRESET 15
#define WASIX_EFAULT 21
#define WASIX_EINPROGRESS 26
#define WASIX_EINTR 27
#define WASIX_EINVAL 28
#define WASIX_EIO 29
#define WASIX_EISCONN 30
#define WASIX_EMFILE 33
#define WASIX_ENETUNREACH 40
#define WASIX_ENOENT 44
#define WASIX_ENOPROTOOPT 50
#define WASIX_ENOSYS 52
#define WASIX_ENOTCONN 53
#define WASIX_ENOTSOCK 57
#define WASIX_ENOTSUP 58
#define WASIX_EOVERFLOW 61
#define WASIX_EPIPE 64
#define WASIX_EPROTONOSUPPORT 66
#define WASIX_ETIMEDOUT 73

/* ---- sockets ---- */
typedef uint8_t wasix_address_family_t;
#define WASIX_AF_UNSPEC 0
#define WASIX_AF_INET4 1
#define WASIX_AF_INET6 2
#define WASIX_AF_UNIX 3

typedef uint8_t wasix_sock_type_t;
#define WASIX_SOCK_STREAM 1
#define WASIX_SOCK_DGRAM 2
#define WASIX_SOCK_RAW 3
#define WASIX_SOCK_SEQPACKET 4

typedef uint16_t wasix_sock_proto_t;
#define WASIX_PROTO_IP 0
#define WASIX_PROTO_TCP 6
#define WASIX_PROTO_UDP 17

typedef uint8_t wasix_sock_status_t;
#define WASIX_SOCK_STATUS_OPENING 0
#define WASIX_SOCK_STATUS_OPENED 1
#define WASIX_SOCK_STATUS_CLOSED 2
#define WASIX_SOCK_STATUS_FAILED 3

typedef uint8_t wasix_sock_option_t;
#define WASIX_SOCKOPT_NOOP 0
#define WASIX_SOCKOPT_REUSE_PORT 1
#define WASIX_SOCKOPT_REUSE_ADDR 2
#define WASIX_SOCKOPT_NO_DELAY 3
#define WASIX_SOCKOPT_DONT_ROUTE 4
#define WASIX_SOCKOPT_ONLY_V6 5
#define WASIX_SOCKOPT_BROADCAST 6
#define WASIX_SOCKOPT_LISTENING 10
#define WASIX_SOCKOPT_LAST_ERROR 11
#define WASIX_SOCKOPT_KEEP_ALIVE 12
#define WASIX_SOCKOPT_LINGER 13
#define WASIX_SOCKOPT_OOB_INLINE 14
#define WASIX_SOCKOPT_RECV_BUF_SIZE 15
#define WASIX_SOCKOPT_SEND_BUF_SIZE 16
#define WASIX_SOCKOPT_RECV_LOWAT 17
#define WASIX_SOCKOPT_SEND_LOWAT 18
#define WASIX_SOCKOPT_RECV_TIMEOUT 19
#define WASIX_SOCKOPT_SEND_TIMEOUT 20
#define WASIX_SOCKOPT_CONNECT_TIMEOUT 21
#define WASIX_SOCKOPT_ACCEPT_TIMEOUT 22
#define WASIX_SOCKOPT_TTL 23
#define WASIX_SOCKOPT_MULTICAST_TTL_V4 24
#define WASIX_SOCKOPT_TYPE 25
#define WASIX_SOCKOPT_PROTO 26

/* preview1 riflags / roflags / sdflags / fdflags */
#define WASIX_RECV_PEEK 1
#define WASIX_RECV_WAITALL 2
#define WASIX_RECV_DATA_TRUNCATED 1 /* roflags */
#define WASIX_SHUT_RD 1
#define WASIX_SHUT_WR 2
#define WASIX_FDFLAGS_APPEND 1
#define WASIX_FDFLAGS_NONBLOCK 4
#define WASIX_FDFLAGSEXT_CLOEXEC 1

/* __wasi_addr_port_t: tag at 0, union at 2, 110 bytes, align 2. */
typedef struct wasix_addr_ip4_port_t {
  uint16_t port; /* host byte order */
  uint8_t addr[4];
} wasix_addr_ip4_port_t;

typedef struct wasix_addr_ip6_port_t {
  uint16_t port; /* host byte order */
  uint8_t addr[16];
  uint16_t flow_info1, flow_info0, scope_id1, scope_id0;
} wasix_addr_ip6_port_t;

typedef struct wasix_addr_port_t {
  uint8_t tag; /* wasix_address_family_t */
  union {
    wasix_addr_ip4_port_t inet4;
    wasix_addr_ip6_port_t inet6;
    uint8_t unix_path[108];
  } u;
} wasix_addr_port_t;

/* __wasi_addr_ip_t, the element of resolve()'s output array: tag at 0, address bytes at 2
 * (4 for inet4, 16 for inet6), 18 bytes, align 2. */
typedef struct wasix_addr_ip_t {
  uint8_t tag;
  union {
    uint16_t _align;
    uint8_t inet4[4];
    uint8_t inet6[16];
  } u;
} wasix_addr_ip_t;

typedef struct wasix_option_timestamp_t {
  uint8_t tag; /* 0 = none, 1 = some */
  wasix_timestamp_t u;
} wasix_option_timestamp_t;

typedef struct wasix_iovec_t {
  uint8_t *buf;
  size_t buf_len;
} wasix_iovec_t;

typedef struct wasix_ciovec_t {
  const uint8_t *buf;
  size_t buf_len;
} wasix_ciovec_t;

_Static_assert(sizeof(wasix_addr_port_t) == 110, "wasix_addr_port_t layout");
_Static_assert(offsetof(wasix_addr_port_t, u) == 2, "wasix_addr_port_t layout");
_Static_assert(sizeof(wasix_addr_ip6_port_t) == 26, "wasix_addr_ip6_port_t layout");
_Static_assert(sizeof(wasix_addr_ip_t) == 18, "wasix_addr_ip_t layout");
_Static_assert(sizeof(wasix_option_timestamp_t) == 16, "wasix_option_timestamp_t layout");

wasix_errno_t wasix_sock_open(int32_t af, int32_t socktype, int32_t proto, wasix_fd_t *ret_fd)
    WASIX_IMPORT(sock_open);
wasix_errno_t wasix_sock_pair(int32_t af, int32_t socktype, int32_t proto, wasix_fd_t *ret_fd1,
                              wasix_fd_t *ret_fd2) WASIX_IMPORT(sock_pair);
wasix_errno_t wasix_sock_bind(wasix_fd_t fd, const wasix_addr_port_t *addr)
    WASIX_IMPORT(sock_bind);
wasix_errno_t wasix_sock_listen(wasix_fd_t fd, uint32_t backlog) WASIX_IMPORT(sock_listen);
wasix_errno_t wasix_sock_accept_v2(wasix_fd_t fd, int32_t fdflags, wasix_fd_t *ret_fd,
                                   wasix_addr_port_t *ret_addr) WASIX_IMPORT(sock_accept_v2);
/* In wasix_32v1, sock_accept has the sock_accept_v2 signature (as in Wasmer). */
wasix_errno_t wasix_sock_accept(wasix_fd_t fd, int32_t fdflags, wasix_fd_t *ret_fd,
                                wasix_addr_port_t *ret_addr) WASIX_IMPORT(sock_accept);
wasix_errno_t wasix_sock_connect(wasix_fd_t fd, const wasix_addr_port_t *addr)
    WASIX_IMPORT(sock_connect);
wasix_errno_t wasix_sock_recv(wasix_fd_t fd, const wasix_iovec_t *iovs, size_t iovs_len,
                              int32_t riflags, uint32_t *ret_len, uint16_t *ret_roflags)
    WASIX_IMPORT(sock_recv);
wasix_errno_t wasix_sock_recv_from(wasix_fd_t fd, const wasix_iovec_t *iovs, size_t iovs_len,
                                   int32_t riflags, uint32_t *ret_len, uint16_t *ret_roflags,
                                   wasix_addr_port_t *ret_addr) WASIX_IMPORT(sock_recv_from);
wasix_errno_t wasix_sock_send(wasix_fd_t fd, const wasix_ciovec_t *iovs, size_t iovs_len,
                              int32_t siflags, uint32_t *ret_len) WASIX_IMPORT(sock_send);
wasix_errno_t wasix_sock_send_to(wasix_fd_t fd, const wasix_ciovec_t *iovs, size_t iovs_len,
                                 int32_t siflags, const wasix_addr_port_t *addr,
                                 uint32_t *ret_len) WASIX_IMPORT(sock_send_to);
/* sendfile(2): sends up to `count` bytes of `in_fd` from `offset`; returns how many were sent. */
wasix_errno_t wasix_sock_send_file(wasix_fd_t out_fd, wasix_fd_t in_fd, uint64_t offset,
                                   uint64_t count, uint64_t *ret_sent) WASIX_IMPORT(sock_send_file);
wasix_errno_t wasix_sock_shutdown(wasix_fd_t fd, int32_t how) WASIX_IMPORT(sock_shutdown);
wasix_errno_t wasix_sock_status(wasix_fd_t fd, wasix_sock_status_t *ret_status)
    WASIX_IMPORT(sock_status);
wasix_errno_t wasix_sock_addr_local(wasix_fd_t fd, wasix_addr_port_t *ret_addr)
    WASIX_IMPORT(sock_addr_local);
wasix_errno_t wasix_sock_addr_peer(wasix_fd_t fd, wasix_addr_port_t *ret_addr)
    WASIX_IMPORT(sock_addr_peer);
wasix_errno_t wasix_sock_set_opt_flag(wasix_fd_t fd, int32_t opt, int32_t flag)
    WASIX_IMPORT(sock_set_opt_flag);
wasix_errno_t wasix_sock_get_opt_flag(wasix_fd_t fd, int32_t opt, uint8_t *ret_flag)
    WASIX_IMPORT(sock_get_opt_flag);
wasix_errno_t wasix_sock_set_opt_size(wasix_fd_t fd, int32_t opt, uint64_t size)
    WASIX_IMPORT(sock_set_opt_size);
wasix_errno_t wasix_sock_get_opt_size(wasix_fd_t fd, int32_t opt, uint64_t *ret_size)
    WASIX_IMPORT(sock_get_opt_size);
wasix_errno_t wasix_sock_set_opt_time(wasix_fd_t fd, int32_t opt,
                                      const wasix_option_timestamp_t *time)
    WASIX_IMPORT(sock_set_opt_time);
wasix_errno_t wasix_sock_get_opt_time(wasix_fd_t fd, int32_t opt,
                                      wasix_option_timestamp_t *ret_time)
    WASIX_IMPORT(sock_get_opt_time);
wasix_errno_t wasix_resolve(const char *host, size_t host_len, int32_t port, wasix_addr_ip_t *addrs,
                            uint32_t naddrs, uint32_t *ret_naddrs) WASIX_IMPORT(resolve);

/* ---- fds ---- */
wasix_errno_t wasix_fd_dup(wasix_fd_t fd, wasix_fd_t *ret_fd) WASIX_IMPORT(fd_dup);
wasix_errno_t wasix_fd_dup2(wasix_fd_t fd, wasix_fd_t min_result_fd, int32_t cloexec,
                            wasix_fd_t *ret_fd) WASIX_IMPORT(fd_dup2);
wasix_errno_t wasix_fd_pipe(wasix_fd_t *ret_fd1, wasix_fd_t *ret_fd2) WASIX_IMPORT(fd_pipe);
#define WASIX_EVENTFD_SEMAPHORE 1
wasix_errno_t wasix_fd_event(uint64_t initial_val, int32_t flags, wasix_fd_t *ret_fd)
    WASIX_IMPORT(fd_event);
wasix_errno_t wasix_fd_fdflags_get(wasix_fd_t fd, uint16_t *ret_flags)
    WASIX_IMPORT(fd_fdflags_get);
wasix_errno_t wasix_fd_fdflags_set(wasix_fd_t fd, int32_t flags) WASIX_IMPORT(fd_fdflags_set);

/* ---- process, cwd, tty ---- */
wasix_errno_t wasix_getcwd(uint8_t *buf, uint32_t *buf_len) WASIX_IMPORT(getcwd);
wasix_errno_t wasix_chdir(const char *path, size_t path_len) WASIX_IMPORT(chdir);
wasix_errno_t wasix_proc_id(uint32_t *ret_pid) WASIX_IMPORT(proc_id);
wasix_errno_t wasix_proc_parent(uint32_t pid, uint32_t *ret_pid) WASIX_IMPORT(proc_parent);
wasix_errno_t wasix_proc_fork(int32_t copy_memory, uint32_t *ret_pid) WASIX_IMPORT(proc_fork);
/* Asks the runtime to snapshot the guest now (Thaw: an instaboot capture point). */
wasix_errno_t wasix_proc_snapshot(void) WASIX_IMPORT(proc_snapshot);

typedef struct wasix_tty_t {
  uint32_t cols, rows, width, height;
  uint8_t stdin_tty, stdout_tty, stderr_tty, echo, line_buffered, line_feeds;
} wasix_tty_t;
_Static_assert(sizeof(wasix_tty_t) == 24, "wasix_tty_t layout");
wasix_errno_t wasix_tty_get(wasix_tty_t *state) WASIX_IMPORT(tty_get);
wasix_errno_t wasix_tty_set(const wasix_tty_t *state) WASIX_IMPORT(tty_set);

/* ---- threads, futex (single-threaded semantics in Thaw) ---- */
wasix_errno_t wasix_thread_sleep(wasix_timestamp_t duration_ns) WASIX_IMPORT(thread_sleep);
wasix_errno_t wasix_thread_id(uint32_t *ret_tid) WASIX_IMPORT(thread_id);
wasix_errno_t wasix_thread_parallelism(uint32_t *ret_n) WASIX_IMPORT(thread_parallelism);
wasix_errno_t wasix_sched_yield(void) WASIX_IMPORT(sched_yield);
wasix_errno_t wasix_futex_wait(uint32_t *futex, uint32_t expected,
                               const wasix_option_timestamp_t *timeout, uint8_t *ret_woken)
    WASIX_IMPORT(futex_wait);
wasix_errno_t wasix_futex_wake(uint32_t *futex, uint8_t *ret_woken) WASIX_IMPORT(futex_wake);
wasix_errno_t wasix_futex_wake_all(uint32_t *futex, uint8_t *ret_woken)
    WASIX_IMPORT(futex_wake_all);

/* ---- epoll ---- */
#define WASIX_EPOLLIN (1u << 0)
#define WASIX_EPOLLOUT (1u << 1)
#define WASIX_EPOLLRDHUP (1u << 2)
#define WASIX_EPOLLPRI (1u << 3)
#define WASIX_EPOLLERR (1u << 4)
#define WASIX_EPOLLHUP (1u << 5)
#define WASIX_EPOLLET (1u << 6)
#define WASIX_EPOLLONESHOT (1u << 7)
#define WASIX_EPOLL_CTL_ADD 0
#define WASIX_EPOLL_CTL_MOD 1
#define WASIX_EPOLL_CTL_DEL 2

typedef struct wasix_epoll_data_t {
  uint32_t ptr;
  wasix_fd_t fd;
  uint32_t data1;
  uint64_t data2;
} wasix_epoll_data_t;

typedef struct wasix_epoll_event_t {
  uint32_t events;
  wasix_epoll_data_t data;
} wasix_epoll_event_t;
_Static_assert(sizeof(wasix_epoll_event_t) == 32, "wasix_epoll_event_t layout");
_Static_assert(offsetof(wasix_epoll_event_t, data) == 8, "wasix_epoll_event_t layout");

wasix_errno_t wasix_epoll_create(wasix_fd_t *ret_fd) WASIX_IMPORT(epoll_create);
wasix_errno_t wasix_epoll_ctl(wasix_fd_t epfd, int32_t op, wasix_fd_t fd,
                              const wasix_epoll_event_t *event) WASIX_IMPORT(epoll_ctl);
/* timeout in nanoseconds; UINT64_MAX waits forever, 0 polls. */
wasix_errno_t wasix_epoll_wait(wasix_fd_t epfd, wasix_epoll_event_t *events, uint32_t maxevents,
                               wasix_timestamp_t timeout, uint32_t *ret_n)
    WASIX_IMPORT(epoll_wait);

/* Helpers: build and read IPv4 addresses. */
static inline void wasix_addr_ipv4(wasix_addr_port_t *a, uint8_t b0, uint8_t b1, uint8_t b2,
                                   uint8_t b3, uint16_t port) {
  __builtin_memset(a, 0, sizeof(*a));
  a->tag = WASIX_AF_INET4;
  a->u.inet4.port = port;
  a->u.inet4.addr[0] = b0;
  a->u.inet4.addr[1] = b1;
  a->u.inet4.addr[2] = b2;
  a->u.inet4.addr[3] = b3;
}

#ifdef __cplusplus
}
#endif

#endif /* THAW_WASIX_H */
