/* POSIX adapter under failing system calls (tests/adapter/test_faults.c).
 * Linked with -Wl,--wrap for read, send, sendmsg, poll, accept, socket,
 * listen, fcntl, open and getrandom (tests/adapter.cmake): each can be made
 * to fail on demand (tests/adapter/faults.h). Checks that the socket io
 * retries EINTR and maps EAGAIN and errors, that random bytes fall back to
 * /dev/urandom and report WS_E_RANDOM when both sources fail, that the TCP
 * helpers close what they opened on every failure, that ws_poll reports a
 * failing poll, and that a whole connection works when every other system
 * call is interrupted.
 * Everything on 127.0.0.1 or a socketpair, single-threaded, every wait
 * bounded. Prints "N passed, N failed". */
#define WS_IMPLEMENTATION
#include "ws.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#include "faults.h"

/* ---- the wrapped system calls ---- */
static fault f_read, f_send, f_sendmsg, f_poll, f_accept, f_socket, f_listen, f_fcntl, f_open, f_getrandom;
static int last_accepted = -1;
/* getrandom: when > 0, a call that is let through returns at most this many */
static size_t getrandom_short;

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
ssize_t __real_sendmsg(int fd, const struct msghdr *m, int flags);
int __real_poll(struct pollfd *p, nfds_t n, int timeout);
int __real_accept(int fd, struct sockaddr *a, socklen_t *n);
int __real_socket(int domain, int type, int proto);
int __real_listen(int fd, int backlog);
int __real_fcntl(int fd, int cmd, ...);
int __real_open(const char *path, int flags, ...);
ssize_t __real_getrandom(void *buf, size_t n, unsigned flags);

ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags);
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout);
int __wrap_accept(int fd, struct sockaddr *a, socklen_t *n);
int __wrap_socket(int domain, int type, int proto);
int __wrap_listen(int fd, int backlog);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_open(const char *path, int flags, ...);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags);

ssize_t __wrap_read(int fd, void *buf, size_t n) { return fault_hit(&f_read) ? -1 : __real_read(fd, buf, n); }
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags) {
    return fault_hit(&f_send) ? -1 : __real_send(fd, buf, n, flags);
}
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags) {
    return fault_hit(&f_sendmsg) ? -1 : __real_sendmsg(fd, m, flags);
}
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout) {
    return fault_hit(&f_poll) ? -1 : __real_poll(p, n, timeout);
}
int __wrap_accept(int fd, struct sockaddr *a, socklen_t *n) {
    int r;
    if (fault_hit(&f_accept)) return -1;
    r = __real_accept(fd, a, n);
    if (r >= 0) last_accepted = r;
    return r;
}
int __wrap_socket(int domain, int type, int proto) {
    return fault_hit(&f_socket) ? -1 : __real_socket(domain, type, proto);
}
int __wrap_listen(int fd, int backlog) { return fault_hit(&f_listen) ? -1 : __real_listen(fd, backlog); }
/* The third argument's type depends on cmd; libgcov locks its files with
 * F_SETLKW (a pointer) through this wrapper too. */
int __wrap_fcntl(int fd, int cmd, ...) {
    va_list ap;
    int r;
    if (fault_hit(&f_fcntl)) return -1;
    va_start(ap, cmd);
    switch (cmd) {
    case F_GETFD:
    case F_GETFL:
        r = __real_fcntl(fd, cmd);
        break;
    case F_SETFD:
    case F_SETFL:
    case F_DUPFD:
        r = __real_fcntl(fd, cmd, va_arg(ap, int));
        break;
    default:
        r = __real_fcntl(fd, cmd, va_arg(ap, void *));
        break;
    }
    va_end(ap);
    return r;
}
int __wrap_open(const char *path, int flags, ...) {
    int mode = 0;
    if (fault_hit(&f_open)) return -1;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    return __real_open(path, flags, mode);
}
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags) {
    if (fault_hit(&f_getrandom)) return -1;
    if (getrandom_short && n > getrandom_short) n = getrandom_short;
    return __real_getrandom(buf, n, flags);
}

static void faults_off(void) {
    fault_reset(&f_read), fault_reset(&f_send), fault_reset(&f_sendmsg), fault_reset(&f_poll);
    fault_reset(&f_accept), fault_reset(&f_socket), fault_reset(&f_listen), fault_reset(&f_fcntl);
    fault_reset(&f_open), fault_reset(&f_getrandom);
    getrandom_short = 0;
}

/* ---- helpers ---- */
/* The lowest free descriptor: a descriptor leaked by a failing call would
 * take it (socket() and open() hand out the lowest free number). */
static int lowest_free_fd(void) {
    int fd = dup(0);
    if (fd >= 0) close(fd);
    return fd;
}

/* Whether fd's peer closed: waits up to ~10 s for EOF. */
static int peer_closed(int fd) {
    struct pollfd p;
    char b[16];
    int i;
    for (i = 0; i < 100; i++) {
        ssize_t n;
        p.fd = fd, p.events = POLLIN, p.revents = 0;
        (void)__real_poll(&p, 1, 100);
        n = __real_read(fd, b, sizeof b);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return 1;
        if (n > 0) continue; /* bytes before the end are fine */
    }
    return 0;
}

static int nonblocking_pair(int sv[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return -1;
    (void)__real_fcntl(sv[0], F_SETFL, __real_fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    (void)__real_fcntl(sv[1], F_SETFL, __real_fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    return 0;
}

/* ---- the socket io ---- */
static void test_io_recv(void) {
    const ws_io *io = ws_posix_io();
    int sv[2];
    char buf[16];
    if (nonblocking_pair(sv) != 0) {
        FAIL("socketpair failed");
        return;
    }
    CHECK_INT(__real_send(sv[1], "abc", 3, 0), 3);
    /* interrupted twice: retried, the bytes arrive */
    fault_arm(&f_read, 0, 2, EINTR);
    CHECK_INT(io->recv((void *)(intptr_t)sv[0], buf, sizeof buf), 3);
    CHECK_INT(f_read.calls, 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    /* nothing there */
    fault_reset(&f_read);
    CHECK_INT(io->recv((void *)(intptr_t)sv[0], buf, sizeof buf), WS_E_AGAIN);
    fault_arm(&f_read, 0, 1, EWOULDBLOCK);
    CHECK_INT(io->recv((void *)(intptr_t)sv[0], buf, sizeof buf), WS_E_AGAIN);
    /* a failure of the transport */
    fault_arm(&f_read, 0, 1, EIO);
    CHECK_INT(io->recv((void *)(intptr_t)sv[0], buf, sizeof buf), WS_E_IO);
    CHECK_INT(f_read.calls, 1);
    fault_arm(&f_read, 0, 1, ECONNRESET);
    CHECK_INT(io->recv((void *)(intptr_t)sv[0], buf, sizeof buf), WS_E_IO);
    faults_off();
    /* the peer closed: 0 */
    close(sv[1]);
    CHECK_INT(io->recv((void *)(intptr_t)sv[0], buf, sizeof buf), 0);
    close(sv[0]);
}

static void test_io_send(void) {
    const ws_io *io = ws_posix_io();
    int sv[2];
    char buf[128];
    ws_iovec v[70];
    unsigned char bytes[70];
    int i;
    if (nonblocking_pair(sv) != 0) {
        FAIL("socketpair failed");
        return;
    }
    /* send: interrupted, retried */
    fault_arm(&f_send, 0, 3, EINTR);
    CHECK_INT(io->send((void *)(intptr_t)sv[0], "hello", 5), 5);
    CHECK_INT(f_send.calls, 4);
    CHECK_INT(__real_read(sv[1], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    fault_arm(&f_send, 0, 1, EAGAIN);
    CHECK_INT(io->send((void *)(intptr_t)sv[0], "x", 1), WS_E_AGAIN);
    fault_arm(&f_send, 0, 1, EPIPE);
    CHECK_INT(io->send((void *)(intptr_t)sv[0], "x", 1), WS_E_IO);
    fault_arm(&f_send, 0, 1, ENOBUFS);
    CHECK_INT(io->send((void *)(intptr_t)sv[0], "x", 1), WS_E_IO);

    /* sendv: interrupted, retried; all pieces in order */
    v[0].base = "ab", v[0].len = 2, v[1].base = "", v[1].len = 0, v[2].base = "cde", v[2].len = 3;
    fault_arm(&f_sendmsg, 0, 1, EINTR);
    CHECK_INT(io->sendv((void *)(intptr_t)sv[0], v, 3), 5);
    CHECK_INT(f_sendmsg.calls, 2);
    CHECK_INT(__real_read(sv[1], buf, sizeof buf), 5);
    CHECK(memcmp(buf, "abcde", 5) == 0);
    fault_arm(&f_sendmsg, 0, 1, EWOULDBLOCK);
    CHECK_INT(io->sendv((void *)(intptr_t)sv[0], v, 3), WS_E_AGAIN);
    fault_arm(&f_sendmsg, 0, 1, ECONNRESET);
    CHECK_INT(io->sendv((void *)(intptr_t)sv[0], v, 3), WS_E_IO);
    faults_off();
    /* more pieces than one sendmsg takes: the first 64 go, the rest is the
     * engine's to retry (a partial write) */
    for (i = 0; i < 70; i++) bytes[i] = (unsigned char)i, v[i].base = bytes + i, v[i].len = 1;
    CHECK_INT(io->sendv((void *)(intptr_t)sv[0], v, 70), 64);
    CHECK_INT(__real_read(sv[1], buf, sizeof buf), 64);
    CHECK(memcmp(buf, bytes, 64) == 0);
    /* a full socket: would block */
    {
        static char big[65536];
        ptrdiff_t r;
        int rounds = 0;
        do r = io->send((void *)(intptr_t)sv[0], big, sizeof big);
        while (r > 0 && ++rounds < 10000);
        CHECK_INT(r, WS_E_AGAIN);
        v[0].base = big, v[0].len = sizeof big;
        CHECK_INT(io->sendv((void *)(intptr_t)sv[0], v, 1), WS_E_AGAIN);
    }
    close(sv[1]);
    /* the peer is gone: EPIPE, reported, no SIGPIPE */
    CHECK_INT(io->send((void *)(intptr_t)sv[0], "x", 1), WS_E_IO);
    CHECK_INT(io->sendv((void *)(intptr_t)sv[0], v, 1), WS_E_IO);
    close(sv[0]);
}

static int all_zero(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void test_random(void) {
    const ws_io *io = ws_posix_io();
    unsigned char b[64];
    int low = lowest_free_fd();

    /* getrandom interrupted: retried, /dev/urandom not needed */
    memset(b, 0, sizeof b);
    fault_arm(&f_getrandom, 0, 2, EINTR);
    fault_reset(&f_open);
    CHECK_INT(io->random(NULL, b, sizeof b), 0);
    CHECK_INT(f_getrandom.calls, 3);
    CHECK_INT(f_open.calls, 0);
    CHECK(!all_zero(b, sizeof b));

    /* short reads from getrandom are continued */
    memset(b, 0, sizeof b);
    fault_reset(&f_getrandom);
    getrandom_short = 10;
    CHECK_INT(io->random(NULL, b, sizeof b), 0);
    CHECK_INT(f_getrandom.calls, 7);
    CHECK(!all_zero(b + 54, 10));
    getrandom_short = 0;

    /* no getrandom (old kernel, seccomp): /dev/urandom */
    memset(b, 0, sizeof b);
    fault_arm(&f_getrandom, 0, -1, ENOSYS);
    fault_reset(&f_open);
    CHECK_INT(io->random(NULL, b, sizeof b), 0);
    CHECK_INT(f_open.calls, 1);
    CHECK(!all_zero(b, sizeof b));

    /* getrandom gives part, then fails: the file supplies the rest */
    memset(b, 0, sizeof b);
    fault_arm(&f_getrandom, 1, -1, EPERM);
    getrandom_short = 16;
    fault_reset(&f_open);
    fault_reset(&f_read);
    CHECK_INT(io->random(NULL, b, sizeof b), 0);
    CHECK_INT(f_getrandom.calls, 2);
    CHECK_INT(f_open.calls, 1);
    CHECK_INT(f_read.calls, 1);
    CHECK(!all_zero(b + 16, sizeof b - 16));
    getrandom_short = 0;

    /* the file read interrupted: retried */
    fault_arm(&f_getrandom, 0, -1, ENOSYS);
    fault_arm(&f_read, 0, 1, EINTR);
    CHECK_INT(io->random(NULL, b, sizeof b), 0);
    CHECK_INT(f_read.calls, 2);

    /* both sources fail */
    fault_arm(&f_getrandom, 0, -1, ENOSYS);
    fault_arm(&f_open, 0, 1, ENOENT);
    CHECK_INT(io->random(NULL, b, sizeof b), WS_E_RANDOM);
    fault_arm(&f_getrandom, 0, -1, ENOSYS);
    fault_arm(&f_read, 0, 1, EIO);
    CHECK_INT(io->random(NULL, b, sizeof b), WS_E_RANDOM);
    /* ... the file is closed again */
    CHECK_INT(lowest_free_fd(), low);
    faults_off();
}

/* A client that cannot make its key: ws_connect_url says WS_E_RANDOM and
 * closes the socket (the server side sees the end of the stream). */
static void test_connect_url_no_random(void) {
    ws_conn c;
    ws_config cfg;
    char url[64];
    int l = ws_tcp_listen("127.0.0.1", 0, 4), a = -1, i, low;
    CHECK(l >= 0);
    if (l < 0) return;
    memset(&cfg, 0, sizeof cfg);
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", local_port(l));
    low = lowest_free_fd();
    fault_arm(&f_getrandom, 0, -1, ENOSYS);
    fault_arm(&f_open, 0, -1, EMFILE);
    CHECK_INT(ws_connect_url(&c, &cfg, url, NULL), WS_E_RANDOM);
    faults_off();
    CHECK_INT(lowest_free_fd(), low);
    for (i = 0; i < 1000 && a < 0; i++) {
        a = ws_tcp_accept(l);
        if (a < 0) nap_ms(10);
    }
    CHECK(a >= 0);
    if (a >= 0) {
        CHECK(peer_closed(a));
        close(a);
    }
    close(l);
}

/* ---- TCP helpers ---- */
static void test_tcp_connect_faults(void) {
    int l = ws_tcp_listen("127.0.0.1", 0, 8), low, fd;
    unsigned port;
    CHECK(l >= 0);
    if (l < 0) return;
    port = local_port(l);
    low = lowest_free_fd();
    /* no socket to be had */
    fault_arm(&f_socket, 0, -1, EMFILE);
    CHECK_INT(ws_tcp_connect("127.0.0.1", port), WS_E_CONNECT);
    CHECK(f_socket.calls >= 1);
    /* the socket cannot be made non-blocking: closed, not returned */
    fault_arm(&f_socket, 0, 0, 0);
    fault_arm(&f_fcntl, 0, -1, EINVAL);
    CHECK_INT(ws_tcp_connect("127.0.0.1", port), WS_E_CONNECT);
    CHECK(f_fcntl.calls >= 1);
    fault_arm(&f_fcntl, 1, -1, EINVAL); /* F_GETFL works, F_SETFL fails */
    CHECK_INT(ws_tcp_connect("127.0.0.1", port), WS_E_CONNECT);
    faults_off();
    CHECK_INT(lowest_free_fd(), low);
    /* and with nothing failing it connects */
    fd = ws_tcp_connect("127.0.0.1", port);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    close(l);
}

static void test_tcp_listen_faults(void) {
    int low = lowest_free_fd();
    fault_arm(&f_socket, 0, -1, EAFNOSUPPORT);
    CHECK_INT(ws_tcp_listen("127.0.0.1", 0, 1), WS_E_CONNECT);
    faults_off();
    fault_arm(&f_listen, 0, -1, EADDRINUSE);
    CHECK_INT(ws_tcp_listen("127.0.0.1", 0, 1), WS_E_CONNECT);
    CHECK_INT(f_listen.calls, 1);
    faults_off();
    fault_arm(&f_fcntl, 0, -1, EBADF);
    CHECK_INT(ws_tcp_listen("127.0.0.1", 0, 0), WS_E_CONNECT);
    faults_off();
    CHECK_INT(lowest_free_fd(), low);
}

static void test_tcp_accept_faults(void) {
    int l = ws_tcp_listen("127.0.0.1", 0, 8), cl, a, i;
    unsigned port;
    CHECK(l >= 0);
    if (l < 0) return;
    port = local_port(l);
    /* an aborted connection and an interruption are skipped over: the
     * next call finds the queue empty */
    fault_arm(&f_accept, 0, 2, ECONNABORTED);
    CHECK_INT(ws_tcp_accept(l), WS_E_AGAIN);
    CHECK_INT(f_accept.calls, 3);
    fault_arm(&f_accept, 0, 1, EINTR);
    CHECK_INT(ws_tcp_accept(l), WS_E_AGAIN);
    CHECK_INT(f_accept.calls, 2);
    fault_arm(&f_accept, 0, 1, EMFILE);
    CHECK_INT(ws_tcp_accept(l), WS_E_IO);
    CHECK_INT(f_accept.calls, 1);
    faults_off();

    /* a pending connection, accepted after an interruption */
    cl = ws_tcp_connect("127.0.0.1", port);
    CHECK(cl >= 0);
    a = WS_E_AGAIN;
    for (i = 0; i < 1000 && a == WS_E_AGAIN; i++) {
        fault_arm(&f_accept, 0, 1, EINTR);
        a = ws_tcp_accept(l);
        if (a == WS_E_AGAIN) nap_ms(10);
    }
    faults_off();
    CHECK(a >= 0);
    if (a >= 0) {
        CHECK((__real_fcntl(a, F_GETFL) & O_NONBLOCK) != 0);
        close(a);
    }
    if (cl >= 0) close(cl);

    /* the accepted socket cannot be set up: it is closed, WS_E_IO */
    cl = ws_tcp_connect("127.0.0.1", port);
    CHECK(cl >= 0);
    a = WS_E_AGAIN;
    last_accepted = -1;
    for (i = 0; i < 1000 && a == WS_E_AGAIN; i++) {
        fault_arm(&f_fcntl, 0, -1, EINVAL);
        a = ws_tcp_accept(l);
        faults_off();
        if (a == WS_E_AGAIN) nap_ms(10);
    }
    CHECK_INT(a, WS_E_IO);
    CHECK(last_accepted >= 0);
    if (cl >= 0) {
        CHECK(peer_closed(cl));
        close(cl);
    }
    close(l);
}

/* ---- connections ---- */
typedef struct ev {
    int opened, closes, close_code, errors, last_err, messages;
    size_t last_len;
    unsigned long sum;
    char reason[64];
} ev;
static ev cev, sev;
static ev *evof(ws_conn *c) { return (ev *)c->user; }
static void on_open(ws_conn *c, const char *sp) {
    (void)sp;
    evof(c)->opened++;
}
static void on_message(ws_conn *c, int op, const void *d, size_t n) {
    ev *e = evof(c);
    size_t i;
    e->messages++;
    e->last_len = n;
    for (i = 0; i < n; i++) e->sum += ((const unsigned char *)d)[i];
    if (c->server) (void)ws_send(c, op, d, n); /* echo */
}
static void on_close(ws_conn *c, int code, const char *why) {
    evof(c)->closes++;
    evof(c)->close_code = code;
    snprintf(evof(c)->reason, sizeof evof(c)->reason, "%s", why);
}
static void on_error(ws_conn *c, int err, const char *why) {
    (void)why;
    evof(c)->errors++;
    evof(c)->last_err = err;
}

typedef struct pair {
    int l, sfd;
    ws_conn cl, sv;
    ws_config ccfg, scfg;
} pair;

#define SPIN(p, cond)                                                                              \
    do {                                                                                           \
        int spin_;                                                                                 \
        for (spin_ = 0; spin_ < 4000 && !(cond); spin_++) {                                        \
            if ((p)->cl.state != WS_CLOSED) (void)ws_poll(&(p)->cl, 5);                            \
            if ((p)->sfd >= 0 && (p)->sv.state != WS_CLOSED) (void)ws_pump(&(p)->sv);              \
            /* a closed server closes its socket (the client waits for that) */                    \
            if ((p)->sfd >= 0 && (p)->sv.state == WS_CLOSED) ws_disconnect(&(p)->sv), (p)->sfd = -1; \
        }                                                                                          \
    } while (0)

static int pair_open(pair *p) {
    char url[64];
    int i;
    memset(p, 0, sizeof *p);
    memset(&cev, 0, sizeof cev), memset(&sev, 0, sizeof sev);
    p->ccfg.on_open = p->scfg.on_open = on_open;
    p->ccfg.on_message = p->scfg.on_message = on_message;
    p->ccfg.on_close = p->scfg.on_close = on_close;
    p->ccfg.on_error = p->scfg.on_error = on_error;
    p->scfg.realloc_fn = ws_libc_realloc;
    p->sfd = -1;
    p->l = ws_tcp_listen("127.0.0.1", 0, 4);
    if (p->l < 0) return -1;
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/f", local_port(p->l));
    if (ws_connect_url(&p->cl, &p->ccfg, url, NULL) != 0) return -1;
    p->cl.user = &cev;
    for (i = 0; i < 1000 && p->sfd < 0; i++) {
        p->sfd = ws_tcp_accept(p->l);
        if (p->sfd < 0) nap_ms(10);
    }
    if (p->sfd < 0) return -1;
    ws_conn_init(&p->sv, &p->scfg, ws_posix_io(), (void *)(intptr_t)p->sfd);
    p->sv.user = &sev;
    (void)ws_server_start(&p->sv);
    return 0;
}

static void pair_close(pair *p) {
    faults_off();
    if (p->cl.io) ws_disconnect(&p->cl);
    if (p->sfd >= 0 && p->sv.io) ws_disconnect(&p->sv);
    if (p->l >= 0) close(p->l);
}

/* poll fails: the connection is dead (WS_E_IO "poll failed", 1006) */
static void test_poll_fails(void) {
    pair p;
    int r = pair_open(&p);
    CHECK_INT(r, 0);
    if (r == 0) {
        SPIN(&p, cev.opened && sev.opened);
        CHECK(cev.opened && sev.opened);
        /* interrupted: not a failure, the pump runs */
        fault_arm(&f_poll, 0, 1, EINTR);
        CHECK_INT(ws_poll(&p.cl, 1000), 0);
        CHECK_INT(f_poll.calls, 1);
        CHECK_INT(ws_state(&p.cl), WS_OPEN);
        CHECK_INT(cev.errors, 0);
        fault_arm(&f_poll, 0, 1, ENOMEM);
        CHECK_INT(ws_poll(&p.cl, 1000), WS_E_CLOSED);
        CHECK_INT(cev.errors, 1);
        CHECK_INT(cev.last_err, WS_E_IO);
        CHECK_INT(cev.closes, 1);
        CHECK_INT(cev.close_code, 1006);
        CHECK_STR(ws_reason(&p.cl), "poll failed");
        CHECK_STR(cev.reason, "poll failed");
        CHECK_INT(ws_state(&p.cl), WS_CLOSED);
        faults_off();
        CHECK_INT(ws_poll(&p.cl, 0), WS_E_CLOSED);
        CHECK_INT(cev.closes, 1);
        /* the server sees the end once the client's socket is closed */
        ws_disconnect(&p.cl);
        SPIN(&p, sev.closes);
        CHECK_INT(sev.closes, 1);
        CHECK_INT(sev.close_code, 1006);
    }
    pair_close(&p);
}

/* Every other read, send, sendmsg and poll is interrupted: the handshake,
 * messages both ways (one larger than the socket buffers) and the closing
 * handshake all complete. */
static void test_interrupt_storm(void) {
    pair p;
    size_t n = 3u << 20, i;
    unsigned long want = 0;
    unsigned char *big = (unsigned char *)malloc(n);
    int r = pair_open(&p);
    CHECK_INT(r, 0);
    if (big && r == 0) {
        for (i = 0; i < n; i++) big[i] = (unsigned char)(i * 13u + 5u), want += big[i];
        fault_arm(&f_read, 0, -1, EINTR), f_read.every = 1;
        fault_arm(&f_send, 0, -1, EINTR), f_send.every = 1;
        fault_arm(&f_sendmsg, 0, -1, EINTR), f_sendmsg.every = 1;
        fault_arm(&f_poll, 0, -1, EINTR), f_poll.every = 1;
        SPIN(&p, cev.opened && sev.opened);
        CHECK(cev.opened && sev.opened);
        CHECK_INT(ws_send_text(&p.cl, "through the storm"), 0);
        SPIN(&p, cev.messages == 1);
        CHECK_INT(sev.messages, 1);
        CHECK_INT(cev.messages, 1);
        CHECK_INT(cev.last_len, 17);
        CHECK_INT(ws_send_binary(&p.cl, big, n), 0);
        SPIN(&p, cev.messages == 2);
        CHECK_INT(cev.messages, 2);
        CHECK_INT(cev.last_len, n);
        CHECK_INT(sev.sum, cev.sum);
        CHECK(cev.sum > want); /* the text's bytes plus big's */
        CHECK_INT(ws_close(&p.cl, 1000, "done"), 0);
        SPIN(&p, cev.closes && sev.closes);
        CHECK_INT(cev.close_code, 1000);
        CHECK_INT(sev.close_code, 1000);
        CHECK_INT(cev.errors + sev.errors, 0);
        CHECK(f_read.failed > 0 && f_send.failed + f_sendmsg.failed > 0 && f_poll.failed > 0);
        printf("storm: %d reads, %d sends, %d sendmsgs, %d polls interrupted\n", f_read.failed,
               f_send.failed, f_sendmsg.failed, f_poll.failed);
    }
    pair_close(&p);
    free(big);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_io_recv();
    test_io_send();
    test_random();
    test_connect_url_no_random();
    test_tcp_connect_faults();
    test_tcp_listen_faults();
    test_tcp_accept_faults();
    test_poll_fails();
    test_interrupt_storm();
    faults_off();
    return test_report();
}
