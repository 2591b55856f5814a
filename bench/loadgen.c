/* loadgen - a WebSocket load generator for echo servers on loopback.
 *
 *   loadgen --port P [--host 127.0.0.1] [--conns N] [--size BYTES]
 *           [--seconds S] [--binary] [--server-pid PID]
 *   loadgen --port P --idle N --server-pid PID [--settle-ms MS]
 *
 * Echo mode: N connections (one epoll loop, non-blocking sockets) each send
 * one pre-built masked frame, wait for the whole echo (counted in bytes,
 * its first byte checked), then send the next; for S seconds after every
 * handshake is done. With --server-pid the server's CPU time is read at the
 * start and end of that window, from two sources: utime and stime from
 * /proc/PID/stat, and the run time of all its threads from
 * /proc/PID/task/TID/schedstat. The scheduler keeps the run time exactly;
 * utime and stime are that same total split by sampling which mode the
 * timer tick found the process in, so only the split is approximate.
 * Prints one line of key=value pairs:
 *   msgs, seconds, msgs_per_s, MB_per_s (payload bytes echoed back, 10^6),
 *   server_user_us, server_sys_us, user_us_per_msg, cpu_us_per_msg,
 *   server_run_us, run_us_per_msg (schedstat).
 * Idle mode: opens N connections, completes the handshakes, waits
 * --settle-ms (500), and prints the server's VmRSS growth per connection:
 *   idle_conns, rss_before_kib, rss_after_kib, rss_kib_per_conn.
 * Bounded: at most --seconds (10 by default, 60 at most) of load, and every
 * wait has a deadline. Loopback only by design (any --host is taken as is,
 * but the benchmarks pass 127.0.0.1). */
#define _GNU_SOURCE
#define WS_NO_SOCKETS
#define WS_STATIC
#define WS_IMPLEMENTATION
#include "ws.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    int state;        /* 0 connecting/handshake sent, 1 open, 2 failed */
    size_t sent;      /* bytes of the current frame (or request) written */
    size_t got;       /* bytes of the current echo (or response) read */
    char hs[512];     /* the handshake response so far */
};

static struct {
    const char *host;
    unsigned port;
    int nconns, idle, binary;
    size_t size;
    double seconds;
    long server_pid;
    int settle_ms;
} opt = {"127.0.0.1", 0, 100, 0, 0, 20, 5.0, 0, 500};

static unsigned char *frame;
static size_t frame_len, echo_len;
static char request[512];
static size_t request_len;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* utime + stime of a process, in clock ticks; -1 when unreadable. */
static int proc_cpu(long pid, unsigned long long *ut, unsigned long long *st) {
    char path[64], buf[2048], *p;
    FILE *f;
    size_t n;
    int field;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r"))) return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    /* after ')': field 3 is state; utime and stime are fields 14 and 15 */
    for (field = 2; field < 14 && p; field++) p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu %llu", ut, st) != 2) return -1;
    return 0;
}

/* Nanoseconds all threads of a process have run (schedstat's first
 * field); -1 when unreadable. */
static long long proc_run_ns(long pid) {
    char path[96];
    long long sum = 0, ns;
    struct dirent *e;
    DIR *d;
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    if (!(d = opendir(path))) return -1;
    while ((e = readdir(d)) != NULL) {
        FILE *f;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/schedstat", pid, e->d_name);
        if (!(f = fopen(path, "r"))) continue; /* the thread just ended */
        if (fscanf(f, "%lld", &ns) == 1) sum += ns;
        fclose(f);
    }
    closedir(d);
    return sum;
}

static long proc_rss_kib(long pid) {
    char path[64], line[256];
    long kib = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (!(f = fopen(path, "r"))) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static int open_conn(void) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) die("socket");
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)opt.port);
    if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
        exit(2);
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
    return fd;
}

/* Writes what is left of buf; returns 1 when all of it is out, 0 if it
 * would block, -1 on error. */
static int push(struct conn *c, const void *buf, size_t len) {
    while (c->sent < len) {
        ssize_t n = send(c->fd, (const char *)buf + c->sent, len - c->sent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->sent += (size_t)n;
    }
    return 1;
}

/* Handshake: send the request, read to the blank line, insist on 101. */
static int handshake_step(struct conn *c) {
    ssize_t n;
    if (c->sent < request_len && push(c, request, request_len) < 0) return -1;
    for (;;) {
        n = recv(c->fd, c->hs + c->got, sizeof c->hs - 1 - c->got, 0);
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (n == 0) return -1;
        c->got += (size_t)n;
        c->hs[c->got] = '\0';
        if (strstr(c->hs, "\r\n\r\n")) {
            if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) return -1;
            if (c->got != (size_t)(strstr(c->hs, "\r\n\r\n") + 4 - c->hs)) return -1; /* nothing may follow yet */
            c->state = 1, c->sent = 0, c->got = 0;
            return 1;
        }
        if (c->got >= sizeof c->hs - 1) return -1;
    }
}

static int ep;

static void watch(struct conn *c, unsigned events, int op) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl");
}

/* Opens every connection and completes every handshake (deadline 30 s). */
static struct conn *connect_all(int n) {
    struct conn *cs = (struct conn *)calloc((size_t)n, sizeof *cs);
    struct epoll_event evs[256];
    double deadline = now_s() + 30;
    int i, open = 0;
    if (!cs) die("calloc");
    for (i = 0; i < n; i++) {
        cs[i].fd = open_conn();
        watch(&cs[i], EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
    }
    while (open < n) {
        int k, m = epoll_wait(ep, evs, 256, 1000);
        if (m < 0 && errno != EINTR) die("epoll_wait");
        if (now_s() > deadline) {
            fprintf(stderr, "loadgen: only %d of %d handshakes completed in 30 s\n", open, n);
            exit(1);
        }
        for (k = 0; k < m; k++) {
            struct conn *c = (struct conn *)evs[k].data.ptr;
            int r;
            if (c->state != 0) continue;
            r = handshake_step(c);
            if (r < 0) {
                fprintf(stderr, "loadgen: handshake failed (%.60s)\n", c->hs);
                exit(1);
            }
            if (r > 0) {
                open++;
                watch(c, EPOLLIN, EPOLL_CTL_MOD);
            } else if (c->sent >= request_len) {
                watch(c, EPOLLIN, EPOLL_CTL_MOD);
            }
        }
    }
    return cs;
}

static unsigned char rbuf[1 << 17];

/* Reads what the socket has; counts finished echoes. Returns -1 on error. */
static int on_readable(struct conn *c, unsigned long long *msgs) {
    for (;;) {
        ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
        size_t off = 0;
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (n == 0) return -1;
        while (off < (size_t)n) {
            size_t take = echo_len - c->got;
            if (take > (size_t)n - off) take = (size_t)n - off;
            if (c->got == 0 && rbuf[off] != (frame[0])) {
                fprintf(stderr, "loadgen: unexpected frame byte 0x%02x\n", rbuf[off]);
                return -1;
            }
            c->got += take, off += take;
            if (c->got == echo_len) {
                (*msgs)++;
                c->got = 0;
                if (off != (size_t)n) {
                    fprintf(stderr, "loadgen: more bytes than one echo\n");
                    return -1;
                }
                c->sent = 0;
                if (push(c, frame, frame_len) < 0) return -1;
                if (c->sent < frame_len) watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
            }
        }
        if ((size_t)n < sizeof rbuf) return 0;
    }
}

static void run_echo(void) {
    struct conn *cs = connect_all(opt.nconns);
    struct epoll_event evs[256];
    unsigned long long msgs = 0, ut0 = 0, st0 = 0, ut1 = 0, st1 = 0;
    long long run0 = -1, run1 = -1;
    double t0, t1, end;
    long hz = sysconf(_SC_CLK_TCK);
    int i, have_cpu = 0;
    if (opt.server_pid) have_cpu = proc_cpu(opt.server_pid, &ut0, &st0) == 0, run0 = proc_run_ns(opt.server_pid);
    t0 = now_s(), end = t0 + opt.seconds;
    for (i = 0; i < opt.nconns; i++) {
        if (push(&cs[i], frame, frame_len) < 0) die("send");
        if (cs[i].sent < frame_len) watch(&cs[i], EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
    }
    while ((t1 = now_s()) < end) {
        int k, m = epoll_wait(ep, evs, 256, 100);
        if (m < 0 && errno != EINTR) die("epoll_wait");
        for (k = 0; k < m; k++) {
            struct conn *c = (struct conn *)evs[k].data.ptr;
            if ((evs[k].events & EPOLLOUT) && c->sent < frame_len) {
                int r = push(c, frame, frame_len);
                if (r < 0) die("send");
                if (r > 0) watch(c, EPOLLIN, EPOLL_CTL_MOD);
            }
            if ((evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && on_readable(c, &msgs) < 0) {
                fprintf(stderr, "loadgen: connection failed after %llu messages\n", msgs);
                exit(1);
            }
        }
    }
    if (have_cpu) have_cpu = proc_cpu(opt.server_pid, &ut1, &st1) == 0;
    if (run0 >= 0) run1 = proc_run_ns(opt.server_pid);
    t1 = now_s();
    printf("conns=%d size=%zu msgs=%llu seconds=%.3f msgs_per_s=%.0f MB_per_s=%.2f", opt.nconns, opt.size, msgs,
           t1 - t0, (double)msgs / (t1 - t0), (double)msgs * (double)opt.size / (t1 - t0) / 1e6);
    if (have_cpu && msgs) {
        double uu = (double)(ut1 - ut0) * 1e6 / (double)hz, su = (double)(st1 - st0) * 1e6 / (double)hz;
        printf(" server_user_us=%.0f server_sys_us=%.0f user_us_per_msg=%.3f cpu_us_per_msg=%.3f", uu, su,
               uu / (double)msgs, (uu + su) / (double)msgs);
    }
    if (run0 >= 0 && run1 >= run0 && msgs)
        printf(" server_run_us=%.0f run_us_per_msg=%.3f", (double)(run1 - run0) / 1e3, (double)(run1 - run0) / 1e3 / (double)msgs);
    printf("\n");
    for (i = 0; i < opt.nconns; i++) close(cs[i].fd);
    free(cs);
}

static void run_idle(void) {
    long before = proc_rss_kib(opt.server_pid), after;
    struct conn *cs;
    struct timespec ts;
    int i;
    if (before < 0) {
        fprintf(stderr, "loadgen: cannot read VmRSS of %ld\n", opt.server_pid);
        exit(1);
    }
    cs = connect_all(opt.idle);
    ts.tv_sec = opt.settle_ms / 1000, ts.tv_nsec = (long)(opt.settle_ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
    after = proc_rss_kib(opt.server_pid);
    printf("idle_conns=%d rss_before_kib=%ld rss_after_kib=%ld rss_kib_per_conn=%.3f\n", opt.idle, before, after,
           (double)(after - before) / opt.idle);
    for (i = 0; i < opt.idle; i++) close(cs[i].fd);
    free(cs);
}

int main(int argc, char **argv) {
    unsigned char key[4] = {0x11, 0x22, 0x33, 0x44}, hdr[WS_FRAME_HEADER_MAX], *payload;
    size_t hl, i;
    int a;
    for (a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(argv[a], "--binary")) {
            opt.binary = 1;
            continue;
        }
        if (!v) goto usage;
        if (!strcmp(argv[a], "--host")) opt.host = v;
        else if (!strcmp(argv[a], "--port")) opt.port = (unsigned)atoi(v);
        else if (!strcmp(argv[a], "--conns")) opt.nconns = atoi(v);
        else if (!strcmp(argv[a], "--size")) opt.size = (size_t)atol(v);
        else if (!strcmp(argv[a], "--seconds")) opt.seconds = atof(v);
        else if (!strcmp(argv[a], "--server-pid")) opt.server_pid = atol(v);
        else if (!strcmp(argv[a], "--idle")) opt.idle = atoi(v);
        else if (!strcmp(argv[a], "--settle-ms")) opt.settle_ms = atoi(v);
        else goto usage;
        a++;
    }
    if (!opt.port || opt.nconns < 1 || opt.nconns > 100000 || opt.idle < 0 || opt.idle > 100000 ||
        opt.seconds <= 0 || opt.seconds > 60 || opt.size > ((size_t)1 << 26) || (opt.idle && !opt.server_pid))
        goto usage;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET / HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                                   opt.host, opt.port);
    if (opt.idle) {
        run_idle();
        return 0;
    }
    payload = (unsigned char *)malloc(opt.size + 1);
    if (!payload) die("malloc");
    for (i = 0; i < opt.size; i++) payload[i] = opt.binary ? (unsigned char)(i * 131u + 7u) : (unsigned char)('a' + i % 26);
    hl = ws_frame_write(hdr, 1, 0, opt.binary ? WS_OP_BINARY : WS_OP_TEXT, opt.size, key);
    frame_len = hl + opt.size;
    frame = (unsigned char *)malloc(frame_len);
    if (!frame) die("malloc");
    memcpy(frame, hdr, hl);
    ws_mask_copy(frame + hl, payload, opt.size, key, 0);
    echo_len = (opt.size < 126 ? 2 : opt.size < 65536 ? 4 : 10) + opt.size;
    run_echo();
    free(frame);
    free(payload);
    return 0;
usage:
    fprintf(stderr, "usage: loadgen --port P [--host 127.0.0.1] [--conns N] [--size BYTES] [--seconds S (<= 60)]\n"
                    "               [--binary] [--server-pid PID]\n"
                    "       loadgen --port P --idle N --server-pid PID [--settle-ms MS]\n");
    return 2;
}
