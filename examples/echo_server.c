/* echo_server - a WebSocket echo server built on ws.h.
 *
 *   echo_server [--host HOST] [--port PORT] [--max-message BYTES]
 *               [--subprotocol NAME[,NAME...]]... [--verbose] [--tls CERT KEY]
 *
 * One thread and one event loop (epoll on Linux, poll elsewhere) serve any
 * number of connections. Every message goes back as one frame with the
 * opcode it came with. Buffers come from the allocator only while data is in
 * flight, so an idle connection costs sizeof(struct client) and a socket.
 *
 * --port 0 picks a free port; the start line names the one in use, so a
 * script can wait for "listening on" and read the port from it. SIGINT or
 * SIGTERM closes every connection with 1001, waits a moment for the peers to
 * answer, frees everything and exits 0.
 *
 * --tls CERT KEY serves wss:// with that certificate chain and key (PEM files)
 * through ws.h's mbedTLS adapter; it needs a build with -DWS_MBEDTLS.
 *
 * Flow control: while a connection still owes the peer bytes (its send queue
 * is not empty) the server does not read from it, so a peer that sends
 * faster than it reads is slowed down by TCP instead of growing our queue.
 *
 * Lingering close: when the engine is done with a connection the socket is
 * only half-closed, and whatever the peer still sends is read and dropped
 * until it closes too (or LINGER_MS pass). Closing outright while unread
 * bytes sit in the kernel (say the rest of a message we refused with 1009)
 * makes the kernel send a reset, which can destroy our close frame before
 * the peer has read it.
 */
#define WS_IMPLEMENTATION
#include "ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_size.h"

#if defined(__linux__) && !defined(ECHO_USE_POLL)
#define ECHO_EPOLL 1
#include <sys/epoll.h>
#endif

#define SWEEP_MS 250         /* how often the engines' timers are checked */
#define SHUTDOWN_GRACE_MS 3000 /* how long peers get to answer our close */
#define LINGER_MS 2000         /* how long a finished connection drains */

struct client {
    ws_conn ws;
    int fd;
    unsigned watching; /* 1: readable, 2: writable (what the loop waits for) */
    int doomed;        /* the connection must go at once (could not even close) */
    int lingering;     /* the engine is done; draining until the peer closes */
    uint64_t linger_until;
    struct client *prev, *next;
#ifdef WS_MBEDTLS
    ws_tls *tls; /* with --tls: the session under ws (allocated apart, so a
                    plain connection does not carry its kilobyte and more) */
#endif
};

#ifdef WS_MBEDTLS
/* --tls CERT KEY: one configuration for every connection. The TLS forms of
 * ws_wants_write and ws_disconnect serve plain connections too. */
static struct {
    const char *cert, *key;
    ws_tls_config cfg;
    int on;
} tls;
#define ECHO_SCHEME (tls.on ? "wss" : "ws")
#define echo_wants_io_write ws_tls_wants_write
#define echo_disconnect ws_tls_disconnect
#else
#define ECHO_SCHEME "ws"
#define echo_wants_io_write ws_wants_write
#define echo_disconnect ws_disconnect
#endif

static struct {
    ws_config cfg;
    int listen_fd;
    int sig_pipe[2];
    int accept_paused;
    int stopping;
    int verbose;
    char **protocols; /* supported subprotocols, in order of preference */
    size_t num_protocols;
    struct client *clients;
    size_t num_clients;
#ifdef ECHO_EPOLL
    int ep;
#else
    struct pollfd *pfds;
    struct client **pcl;
    size_t pcap;
#endif
} srv;

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) {
    int saved = errno;
    unsigned char b = 1;
    (void)sig;
    got_signal = 1;
    if (write(srv.sig_pipe[1], &b, 1) < 0) { /* the pipe is full: a wakeup is pending anyway */
    }
    errno = saved;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- buffers ----
 * Allocator mode takes a receive buffer for each read and gives it back as
 * soon as the connection is idle again: a malloc/free pair per message,
 * about a fifth of what a small echo costs (bench/run_e2e.sh, callgrind).
 * A short free list of receive-sized blocks, shared by all connections (an
 * idle one still holds nothing), takes that away. Each block keeps its
 * size in front of it. */
#define RX_CHUNK 16384 /* the first receive buffer (cfg.rx_chunk) */
#define SPARE_MAX 4 /* one read takes and gives back one block: a few are plenty */
static struct {
    void *block[SPARE_MAX];
    size_t n;
} spare;

static void *spare_realloc(void *user, void *ptr, size_t size) {
    size_t *h = ptr ? (size_t *)ptr - 2 : NULL;
    (void)user;
    if (!size) {
        if (h && h[0] == RX_CHUNK && spare.n < SPARE_MAX) spare.block[spare.n++] = h;
        else free(h);
        return NULL;
    }
    if (!h && size == RX_CHUNK && spare.n) h = (size_t *)spare.block[--spare.n];
    else if (!(h = (size_t *)realloc(h, size + 2 * sizeof(size_t)))) return NULL;
    h[0] = size;
    return h + 2;
}

/* ---- engine callbacks ---- */

static void on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    struct client *cl = (struct client *)c->user;
    int r = ws_send(c, opcode, data, len);
    if (r == WS_E_FULL || r == WS_E_NOMEM) {
        /* Never drop a message silently: tell the peer we gave up. */
        if (srv.verbose) fprintf(stderr, "fd %d: cannot queue a %zu-byte echo: %s\n", cl->fd, len, ws_strerror(r));
        if (ws_close(c, WS_CLOSE_INTERNAL, "echo does not fit the send buffer") < 0) cl->doomed = 1;
    }
    /* WS_E_STATE: we are closing (shutdown) and the peer still talks; fine. */
}

static void on_close(ws_conn *c, int code, const char *reason) {
    struct client *cl = (struct client *)c->user;
    if (srv.verbose) fprintf(stderr, "fd %d: closed %d \"%s\"\n", cl->fd, code, reason);
}

static void on_error(ws_conn *c, int err, const char *reason) {
    struct client *cl = (struct client *)c->user;
    if (srv.verbose) fprintf(stderr, "fd %d: %s: %s\n", cl->fd, ws_strerror(err), reason);
}

static int on_request(ws_conn *c, const ws_request *req, ws_accept *acc) {
    size_t i;
    (void)c;
    for (i = 0; i < srv.num_protocols; i++)
        if (ws_request_offers(req, srv.protocols[i])) {
            acc->subprotocol = srv.protocols[i];
            break;
        }
    return 0; /* offers we do not speak are answered with no subprotocol */
}

/* ---- the event loop's bookkeeping ---- */

static void watch(struct client *cl) {
    /* Read only while nothing is owed to the peer (see the top comment). */
    unsigned want = !cl->lingering && echo_wants_io_write(&cl->ws) ? 2u : 1u; /* TLS: its handshake may want to write */
    if (want == cl->watching) return;
#ifdef ECHO_EPOLL
    {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = want == 2u ? EPOLLOUT : EPOLLIN;
        ev.data.ptr = cl;
        if (epoll_ctl(srv.ep, cl->watching ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, cl->fd, &ev) < 0) {
            perror("echo_server: epoll_ctl");
            cl->doomed = 1;
            return;
        }
    }
#endif
    cl->watching = want;
}

static void drop(struct client *cl) {
#ifdef ECHO_EPOLL
    if (cl->watching) (void)epoll_ctl(srv.ep, EPOLL_CTL_DEL, cl->fd, NULL);
#endif
    echo_disconnect(&cl->ws); /* closes the socket, fires on_close if still due */
    if (cl->prev) cl->prev->next = cl->next;
    else srv.clients = cl->next;
    if (cl->next) cl->next->prev = cl->prev;
    srv.num_clients--;
#ifdef WS_MBEDTLS
    free(cl->tls);
#endif
    free(cl);
}

/* The engine is CLOSED: give its buffers back, half-close the socket and
 * drain it (see the top comment). */
static void retire(struct client *cl) {
#ifdef WS_MBEDTLS
    /* wss: end the TLS session properly (close_notify, best effort) before
     * the TCP half-close; this also frees the session while we linger. */
    if (cl->tls) ws_tls_free(cl->tls);
#endif
    if (cl->doomed || shutdown(cl->fd, SHUT_WR) < 0) {
        drop(cl);
        return;
    }
    ws_conn_release(&cl->ws);
    cl->lingering = 1;
    cl->linger_until = now_ms() + LINGER_MS;
    watch(cl);
    if (cl->doomed) drop(cl);
}

static void drain(struct client *cl) {
    static unsigned char sink[65536];
    int i;
    for (i = 0; i < 16; i++) { /* then let the others have a turn */
        ssize_t n = read(cl->fd, sink, sizeof sink);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        drop(cl); /* the peer closed too (or the socket failed) */
        return;
    }
}

/* The socket is ready (or a timer is due): let the engine work. */
static void service(struct client *cl, int run_timers) {
    if (cl->lingering) {
        if (run_timers) drop(cl);
        else drain(cl);
        return;
    }
    if (!cl->doomed && ws_wants_write(&cl->ws) && ws_flush(&cl->ws) == WS_E_CLOSED) {
        retire(cl);
        return;
    }
    if (!cl->doomed && (run_timers || !ws_wants_write(&cl->ws)) && ws_pump(&cl->ws) == WS_E_CLOSED) {
        retire(cl);
        return;
    }
    if (!cl->doomed) watch(cl);
    if (cl->doomed) drop(cl);
}

static void set_listening(int on) {
#ifdef ECHO_EPOLL
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &srv.listen_fd;
    if (on) (void)epoll_ctl(srv.ep, EPOLL_CTL_ADD, srv.listen_fd, &ev);
    else (void)epoll_ctl(srv.ep, EPOLL_CTL_DEL, srv.listen_fd, NULL);
#endif
    srv.accept_paused = !on;
}

static void accept_some(void) {
    int i;
    for (i = 0; i < 256; i++) { /* then let the others have a turn */
        struct client *cl;
        int fd = ws_tcp_accept(srv.listen_fd);
        if (fd == WS_E_AGAIN) return;
        if (fd < 0) {
            /* Out of descriptors, say: stop accepting until the next sweep
             * instead of spinning on a listener that stays readable. */
            fprintf(stderr, "echo_server: accept failed: %s (pausing)\n", strerror(errno));
            set_listening(0);
            return;
        }
        cl = (struct client *)calloc(1, sizeof *cl);
        if (!cl) {
            close(fd);
            continue;
        }
#ifdef WS_MBEDTLS
        if (tls.on) {
            if (!(cl->tls = (ws_tls *)calloc(1, sizeof *cl->tls)) || ws_tls_init(cl->tls, &tls.cfg, fd, NULL) < 0) {
                fprintf(stderr, "echo_server: TLS session: %s\n", cl->tls ? ws_tls_reason(cl->tls) : "out of memory");
                close(fd);
                free(cl->tls);
                free(cl);
                continue;
            }
            ws_tls_conn_init(&cl->ws, &srv.cfg, cl->tls); /* the TLS handshake runs inside ws_pump */
        } else
#endif
        ws_conn_init(&cl->ws, &srv.cfg, ws_posix_io(), (void *)(intptr_t)fd);
        cl->ws.user = cl;
        cl->fd = fd;
        (void)ws_server_start(&cl->ws);
        cl->next = srv.clients;
        if (srv.clients) srv.clients->prev = cl;
        srv.clients = cl;
        srv.num_clients++;
        watch(cl);
        if (cl->doomed) drop(cl);
    }
}

/* Runs the timers of every connection whose timer is due. */
static void sweep(void) {
    struct client *cl = srv.clients, *next;
    uint64_t now = now_ms();
    for (; cl; cl = next) {
        next = cl->next;
        if (cl->lingering ? now >= cl->linger_until : ws_next_timeout(&cl->ws) == 0) service(cl, 1);
    }
    if (srv.accept_paused && !srv.stopping) set_listening(1);
}

/* First signal: close everything politely. */
static void begin_shutdown(void) {
    struct client *cl, *next;
    srv.stopping = 1;
    if (!srv.accept_paused) set_listening(0);
    close(srv.listen_fd);
    srv.listen_fd = -1;
    for (cl = srv.clients; cl; cl = next) {
        next = cl->next;
        if (cl->lingering) continue; /* ends by itself within the grace period */
        if (ws_state(&cl->ws) == WS_OPEN || ws_state(&cl->ws) == WS_CONNECTING) {
            if (ws_close(&cl->ws, WS_CLOSE_GOING_AWAY, "server shutting down") < 0) cl->doomed = 1;
        }
        if (cl->doomed) drop(cl);
        else if (ws_state(&cl->ws) == WS_CLOSED) retire(cl);
        else watch(cl);
    }
}

static void drain_signals(void) {
    unsigned char buf[64];
    while (read(srv.sig_pipe[0], buf, sizeof buf) > 0) {
    }
}

/* Waits for events up to timeout_ms and handles them. */
static int wait_and_dispatch(int timeout_ms) {
#ifdef ECHO_EPOLL
    struct epoll_event evs[256];
    int i, n = epoll_wait(srv.ep, evs, 256, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return 0;
        perror("echo_server: epoll_wait");
        return -1;
    }
    for (i = 0; i < n; i++) {
        void *p = evs[i].data.ptr;
        if (p == &srv.listen_fd) {
            if (srv.listen_fd >= 0) accept_some();
        } else if (p == &srv.sig_pipe) {
            drain_signals();
        } else {
            service((struct client *)p, 0);
        }
    }
    return 0;
#else
    size_t i, n = 2 + srv.num_clients;
    struct client *cl;
    int r;
    if (n > srv.pcap) {
        size_t cap = n * 2;
        struct pollfd *pf = (struct pollfd *)realloc(srv.pfds, cap * sizeof *pf);
        struct client **pc;
        if (!pf) return -1;
        srv.pfds = pf;
        pc = (struct client **)realloc(srv.pcl, cap * sizeof *pc);
        if (!pc) return -1;
        srv.pcl = pc;
        srv.pcap = cap;
    }
    srv.pfds[0].fd = srv.accept_paused || srv.listen_fd < 0 ? -1 : srv.listen_fd;
    srv.pfds[0].events = POLLIN;
    srv.pfds[1].fd = srv.sig_pipe[0];
    srv.pfds[1].events = POLLIN;
    for (i = 2, cl = srv.clients; cl; cl = cl->next, i++) {
        srv.pfds[i].fd = cl->fd;
        srv.pfds[i].events = (short)(cl->watching == 2u ? POLLOUT : POLLIN);
        srv.pcl[i] = cl;
    }
    for (i = 0; i < n; i++) srv.pfds[i].revents = 0;
    r = poll(srv.pfds, (nfds_t)n, timeout_ms);
    if (r < 0) {
        if (errno == EINTR) return 0;
        perror("echo_server: poll");
        return -1;
    }
    if (srv.pfds[1].revents) drain_signals();
    for (i = 2; i < n; i++)
        if (srv.pfds[i].revents) service(srv.pcl[i], 0); /* may free pcl[i]; it is not touched again */
    if (srv.pfds[0].revents && srv.listen_fd >= 0) accept_some();
    return 0;
#endif
}

/* ---- setup ---- */

static int add_protocols(const char *list) {
    const char *p = list;
    while (*p) {
        const char *start;
        size_t len;
        char **grown, *name;
        while (*p == ',' || *p == ' ') p++;
        start = p;
        while (*p && *p != ',' && *p != ' ') p++;
        len = (size_t)(p - start);
        if (!len) continue;
        grown = (char **)realloc(srv.protocols, (srv.num_protocols + 1) * sizeof *grown);
        if (!grown) return -1;
        srv.protocols = grown;
        name = (char *)malloc(len + 1);
        if (!name) return -1;
        memcpy(name, start, len);
        name[len] = '\0';
        srv.protocols[srv.num_protocols++] = name;
    }
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: echo_server [--host HOST] [--port PORT] [--max-message BYTES]\n"
            "                   [--subprotocol NAME[,NAME...]]... [--verbose]\n"
            "  --host HOST          address to listen on (default 127.0.0.1)\n"
            "  --port PORT          port (default 9001; 0 picks a free one)\n"
            "  --max-message BYTES  largest message accepted, suffix K/M/G allowed (default 64M)\n"
            "  --subprotocol NAMES  subprotocols to agree to, in order of preference\n"
            "  --verbose            log connections to stderr\n"
            "  --tls CERT KEY       serve wss:// with this certificate chain and key (PEM;\n"
            "                       needs a build with -DWS_MBEDTLS)\n");
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    unsigned long port = 9001;
    size_t max_message = (size_t)64 << 20;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct sigaction sa;
    char shown[INET6_ADDRSTRLEN];
    unsigned bound_port;
    uint64_t next_sweep, deadline = 0;
    size_t i;
    int a, rc = 0;

    for (a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v")) {
            srv.verbose = 1;
        } else if (!val) {
            usage(stderr);
            return 2;
        } else if (!strcmp(arg, "--host")) {
            host = val, a++;
        } else if (!strcmp(arg, "--port")) {
            char *end;
            port = strtoul(val, &end, 10);
            if (*end || end == val || port > 65535) {
                fprintf(stderr, "echo_server: bad port '%s'\n", val);
                return 2;
            }
            a++;
        } else if (!strcmp(arg, "--max-message")) {
            if (parse_size(val, &max_message) < 0) {
                fprintf(stderr, "echo_server: bad size '%s'\n", val);
                return 2;
            }
            a++;
        } else if (!strcmp(arg, "--tls")) {
#ifdef WS_MBEDTLS
            if (a + 2 >= argc) {
                usage(stderr);
                return 2;
            }
            tls.cert = argv[a + 1], tls.key = argv[a + 2], a += 2;
#else
            fprintf(stderr, "echo_server: built without TLS (compile with -DWS_MBEDTLS, link mbedTLS)\n");
            return 2;
#endif
        } else if (!strcmp(arg, "--subprotocol")) {
            if (add_protocols(val) < 0) return 1;
            a++;
        } else {
            usage(stderr);
            return 2;
        }
    }

    /* Allocator mode: an idle connection holds no buffer. The send bound
     * leaves room for one whole echo (header included) while the previous
     * one is still queued, plus control frames. */
    srv.cfg.on_message = on_message;
    srv.cfg.on_close = on_close;
    srv.cfg.on_error = on_error;
    srv.cfg.on_request = on_request;
    srv.cfg.realloc_fn = spare_realloc;
    srv.cfg.rx_chunk = RX_CHUNK;
    srv.cfg.max_message = max_message;
    srv.cfg.max_send_buffer = 2 * (max_message + WS_FRAME_HEADER_MAX) + 4096;

#ifdef WS_MBEDTLS
    if (tls.cert) {
        ws_tls_options to;
        memset(&to, 0, sizeof to);
        to.cert_file = tls.cert, to.key_file = tls.key;
        if (ws_tls_config_init(&tls.cfg, 1, &to) < 0) {
            fprintf(stderr, "echo_server: TLS: %s\n", ws_tls_config_reason(&tls.cfg));
            return 1;
        }
        tls.on = 1;
    }
#endif
    srv.listen_fd = ws_tcp_listen(host, (unsigned)port, 1024);
    if (srv.listen_fd < 0) {
        fprintf(stderr, "echo_server: cannot listen on %s:%lu: %s\n", host, port, ws_strerror(srv.listen_fd));
        return 1;
    }
    if (getsockname(srv.listen_fd, (struct sockaddr *)&ss, &sl) < 0) {
        perror("echo_server: getsockname");
        return 1;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
        bound_port = ntohs(s6->sin6_port);
        inet_ntop(AF_INET6, &s6->sin6_addr, shown, sizeof shown);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
        bound_port = ntohs(s4->sin_port);
        inet_ntop(AF_INET, &s4->sin_addr, shown, sizeof shown);
    }

    if (pipe(srv.sig_pipe) < 0) {
        perror("echo_server: pipe");
        return 1;
    }
    for (i = 0; i < 2; i++) {
        int fl = fcntl(srv.sig_pipe[i], F_GETFL, 0);
        (void)fcntl(srv.sig_pipe[i], F_SETFL, fl | O_NONBLOCK);
        (void)fcntl(srv.sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

#ifdef ECHO_EPOLL
    srv.ep = epoll_create1(EPOLL_CLOEXEC);
    if (srv.ep < 0) {
        perror("echo_server: epoll_create1");
        return 1;
    }
    {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.ptr = &srv.sig_pipe;
        (void)epoll_ctl(srv.ep, EPOLL_CTL_ADD, srv.sig_pipe[0], &ev);
    }
#endif
    set_listening(1);

    printf("echo_server listening on %s://%s%s%s:%u/\n", ECHO_SCHEME, ss.ss_family == AF_INET6 ? "[" : "", shown,
           ss.ss_family == AF_INET6 ? "]" : "", bound_port);
    fflush(stdout);

    next_sweep = now_ms() + SWEEP_MS;
    for (;;) {
        uint64_t now = now_ms();
        int timeout;
        if (got_signal) {
            got_signal = 0;
            if (!srv.stopping) {
                if (srv.verbose) fprintf(stderr, "echo_server: shutting down (%zu connections)\n", srv.num_clients);
                begin_shutdown();
                deadline = now + SHUTDOWN_GRACE_MS;
            } else {
                deadline = now; /* a second signal: no more waiting */
            }
        }
        if (srv.stopping && (!srv.clients || now >= deadline)) break;
        if (now >= next_sweep) {
            sweep();
            next_sweep = now + SWEEP_MS;
        }
        timeout = (int)(next_sweep > now ? next_sweep - now : 0);
        if (srv.stopping && deadline - now < (uint64_t)timeout) timeout = (int)(deadline - now);
        if (wait_and_dispatch(timeout) < 0) {
            rc = 1;
            break;
        }
    }

    while (srv.clients) drop(srv.clients); /* whoever did not answer in time */
    if (srv.listen_fd >= 0) close(srv.listen_fd);
#ifdef ECHO_EPOLL
    close(srv.ep);
#else
    free(srv.pfds);
    free(srv.pcl);
#endif
    close(srv.sig_pipe[0]);
    close(srv.sig_pipe[1]);
    for (i = 0; i < srv.num_protocols; i++) free(srv.protocols[i]);
    free(srv.protocols);
#ifdef WS_MBEDTLS
    if (tls.on) ws_tls_config_free(&tls.cfg);
#endif
    while (spare.n) free(spare.block[--spare.n]);
    if (srv.verbose) fprintf(stderr, "echo_server: stopped\n");
    return rc;
}
