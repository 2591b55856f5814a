/* POSIX adapter tests (tests/adapter/test_posix.c): ws_url_parse accepts and
 * rejects, the TCP helpers' error paths, ws_connect_url, ws_poll,
 * ws_disconnect and the socket ws_io against a real loopback peer (peer
 * closes -> 1006, peer resets -> WS_E_IO, large sends through sendv).
 * Everything on 127.0.0.1, single-threaded, every wait bounded.
 * Prints "N passed, N failed"; exits non-zero on a failure. */
#define WS_IMPLEMENTATION
#include "ws.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#include "../unit/test.h"

/* ---- ws_url_parse ---- */
static void test_url(void) {
    static const char *bad[] = {
        "http://h/", "w", "ws:h", "ws:/h", "ws://", "ws://:80/", "ws://h:/", "ws://h:0/", "ws://h:65536/",
        "ws://h:99999999999/", "ws://h:8x/", "ws://h:80x", "ws://h/#frag", "ws://h/a#b", "ws://h#x",
        "ws://h/a b", "ws://h x/", "ws://u@h/", "ws://[::1/", "ws://[]/", "ws://h/\x7f", "wss//h/", "",
    };
    ws_url u;
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = ws_url_parse(bad[i], &u);
        if (r != WS_E_URL) printf("    url [%s] -> %d\n", bad[i], r);
        CHECK_INT(r, WS_E_URL);
    }
    CHECK_INT(ws_url_parse(NULL, &u), WS_E_URL);

    CHECK_INT(ws_url_parse("ws://example.com", &u), 0);
    CHECK(u.host_len == 11 && memcmp(u.host, "example.com", 11) == 0);
    CHECK_INT(u.port, 80);
    CHECK_INT(u.secure, 0);
    CHECK(u.path_len == 1 && strcmp(u.path, "/") == 0);

    CHECK_INT(ws_url_parse("WSS://example.com/chat?x=1&y", &u), 0);
    CHECK_INT(u.port, 443);
    CHECK_INT(u.secure, 1);
    CHECK(u.path_len == 11 && strcmp(u.path, "/chat?x=1&y") == 0);

    CHECK_INT(ws_url_parse("ws://h:65535?q", &u), 0);
    CHECK_INT(u.port, 65535);
    CHECK(strcmp(u.path, "?q") == 0);
    CHECK(u.host_len == 1 && u.host[0] == 'h');

    CHECK_INT(ws_url_parse("wss://[::1]:8443/p", &u), 0);
    CHECK(u.host_len == 3 && memcmp(u.host, "::1", 3) == 0);
    CHECK_INT(u.port, 8443);
    CHECK(strcmp(u.path, "/p") == 0);

    CHECK_INT(ws_url_parse("ws://[fe80::1]", &u), 0);
    CHECK_INT(u.port, 80);
    CHECK(u.host_len == 7);
    /* after a bracketed host only ':' '/' '?' or the end may follow */
    CHECK_INT(ws_url_parse("ws://[::1]x/", &u), WS_E_URL);
    CHECK_INT(ws_url_parse("ws://h:1", &u), 0);
    CHECK_INT(u.port, 1);
}

/* ---- helpers ---- */
/* ---- TCP helpers ---- */
static void test_tcp(void) {
    int l, l2, fd, a;
    unsigned port;
    l = ws_tcp_listen("127.0.0.1", 0, 0);
    CHECK(l >= 0);
    port = local_port(l);
    CHECK(port > 0);
    /* nothing pending */
    CHECK_INT(ws_tcp_accept(l), WS_E_AGAIN);
    /* the port is taken */
    l2 = ws_tcp_listen("127.0.0.1", port, 4);
    CHECK(l2 < 0);
    CHECK_INT(l2, WS_E_CONNECT);
    if (l2 >= 0) close(l2);
    /* a connection is accepted */
    fd = ws_tcp_connect("127.0.0.1", port);
    CHECK(fd >= 0);
    a = -1;
    {
        int tries;
        for (tries = 0; tries < 500 && a < 0; tries++) {
            a = ws_tcp_accept(l);
            if (a == WS_E_AGAIN) nap_ms(10);
        }
    }
    CHECK(a >= 0);
    if (a >= 0) close(a);
    if (fd >= 0) close(fd);
    close(l);
    /* closed port now: refused */
    CHECK_INT(ws_tcp_connect("127.0.0.1", port), WS_E_CONNECT);
    /* accept on something that is not a socket */
    CHECK_INT(ws_tcp_accept(-1), WS_E_IO);
    /* names that do not resolve (.invalid is reserved: never resolves) */
    CHECK_INT(ws_tcp_connect("nonexistent.invalid", 80), WS_E_RESOLVE);
    CHECK_INT(ws_tcp_listen("nonexistent.invalid", 0, 1), WS_E_RESOLVE);
}

/* ---- socket options: non-blocking, TCP_NODELAY ---- */
static int is_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    return fl >= 0 && (fl & O_NONBLOCK) != 0;
}

static int has_nodelay(int fd) {
    int v = 0;
    socklen_t n = sizeof v;
    return getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &n) == 0 && v != 0;
}

/* Every socket the helpers hand out is non-blocking; connected ones have
 * TCP_NODELAY (small frames are not held back by Nagle). */
static void test_socket_options(void) {
    int l, fd, a = -1, tries;
    test_ctx = "socket options";
    l = ws_tcp_listen("127.0.0.1", 0, 4);
    CHECK(l >= 0);
    if (l < 0) return;
    CHECK(is_nonblocking(l));
    fd = ws_tcp_connect("127.0.0.1", local_port(l));
    CHECK(fd >= 0);
    for (tries = 0; tries < 500 && a < 0; tries++) {
        a = ws_tcp_accept(l);
        if (a == WS_E_AGAIN) nap_ms(10);
    }
    CHECK(a >= 0);
    if (fd >= 0) {
        CHECK(is_nonblocking(fd));
        CHECK(has_nodelay(fd));
        close(fd);
    }
    if (a >= 0) {
        CHECK(is_nonblocking(a));
        CHECK(has_nodelay(a));
        close(a);
    }
    close(l);
    test_ctx = "";
}

/* ---- libc realloc ---- */
static void test_realloc(void) {
    unsigned char *p = (unsigned char *)ws_libc_realloc(NULL, NULL, 16);
    CHECK(p != NULL);
    if (!p) return;
    memset(p, 0xab, 16);
    p = (unsigned char *)ws_libc_realloc(NULL, p, 4096);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(p[0] == 0xab && p[15] == 0xab);
    CHECK(ws_libc_realloc(NULL, p, 0) == NULL);
}

/* ---- connections over loopback ---- */
typedef struct ev {
    int opened, closes, close_code, errors, last_err, messages;
    size_t last_len;
    char last[64];
} ev;

static ev cev, sev;
static ev *evof(ws_conn *c) { return (ev *)c->user; }
static void on_open(ws_conn *c, const char *sp) {
    (void)sp;
    evof(c)->opened++;
}
static void on_message(ws_conn *c, int op, const void *d, size_t n) {
    ev *e = evof(c);
    (void)op;
    e->messages++;
    e->last_len = n;
    memcpy(e->last, d, n < sizeof e->last - 1 ? n : sizeof e->last - 1);
    e->last[n < sizeof e->last - 1 ? n : sizeof e->last - 1] = '\0';
    /* the server echoes */
    if (c->server) (void)ws_send(c, op, d, n);
}
static void on_close(ws_conn *c, int code, const char *why) {
    (void)why;
    evof(c)->closes++;
    evof(c)->close_code = code;
}
static void on_error(ws_conn *c, int err, const char *why) {
    (void)why;
    evof(c)->errors++;
    evof(c)->last_err = err;
}

static ws_config mkcfg(void) {
    ws_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_open = on_open, cfg.on_message = on_message, cfg.on_close = on_close, cfg.on_error = on_error;
    return cfg;
}

/* A listening socket, a client from ws_connect_url and the accepted server
 * (allocator mode); both OPEN on success. */
typedef struct pair {
    int l;
    unsigned port;
    ws_conn cl, sv;
    int sfd;
} pair;

static ws_config ccfg, scfg;
static int (*pair_hook)(ws_conn *c, const ws_request *req, ws_accept *acc); /* the server's on_request */

/* pump both until cond or ~10 s */
#define SPIN(p, cond)                                                                              \
    do {                                                                                           \
        int spin_;                                                                                 \
        for (spin_ = 0; spin_ < 2000 && !(cond); spin_++) {                                        \
            if ((p)->cl.state != WS_CLOSED) (void)ws_poll(&(p)->cl, 5);                            \
            if ((p)->sfd >= 0 && (p)->sv.state != WS_CLOSED) (void)ws_pump(&(p)->sv);              \
        }                                                                                          \
    } while (0)

/* listen_host: what ws_tcp_listen binds; url_host: the URL's host part
 * (an IPv6 literal in brackets). */
static int pair_open_on(pair *p, const char *listen_host, const char *url_host, const char *path) {
    char url[128];
    int tries, r;
    memset(p, 0, sizeof *p);
    memset(&cev, 0, sizeof cev), memset(&sev, 0, sizeof sev);
    ccfg = mkcfg(), scfg = mkcfg();
    scfg.realloc_fn = ws_libc_realloc;
    scfg.on_request = pair_hook;
    p->sfd = -1;
    p->l = ws_tcp_listen(listen_host, 0, 4);
    CHECKF(p->l >= 0, "ws_tcp_listen(%s): %s", listen_host, ws_strerror(p->l));
    if (p->l < 0) return -1;
    p->port = local_port(p->l);
    snprintf(url, sizeof url, "ws://%s:%u%s", url_host, p->port, path);
    r = ws_connect_url(&p->cl, &ccfg, url, NULL);
    CHECK_INT(r, 0);
    if (r < 0) return -1;
    p->cl.user = &cev;
    for (tries = 0; tries < 1000 && p->sfd < 0; tries++) {
        p->sfd = ws_tcp_accept(p->l);
        if (p->sfd < 0) nap_ms(10);
    }
    CHECK(p->sfd >= 0);
    if (p->sfd < 0) return -1;
    ws_conn_init(&p->sv, &scfg, ws_posix_io(), (void *)(intptr_t)p->sfd);
    p->sv.user = &sev;
    CHECK_INT(ws_server_start(&p->sv), 0);
    SPIN(p, cev.opened && sev.opened);
    CHECK(cev.opened == 1 && sev.opened == 1);
    return cev.opened && sev.opened ? 0 : -1;
}

static int pair_open(pair *p, const char *path) { return pair_open_on(p, "127.0.0.1", "127.0.0.1", path); }

static void pair_close(pair *p) {
    if (p->cl.io) ws_disconnect(&p->cl);
    if (p->sfd >= 0 && p->sv.io) ws_disconnect(&p->sv);
    if (p->l >= 0) close(p->l);
}

/* Whether this host has an IPv6 loopback at all (containers often do not). */
static int have_ipv6_loopback(void) {
    struct sockaddr_in6 a;
    int ok, s = socket(AF_INET6, SOCK_STREAM, 0);
    if (s < 0) return 0;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static char v6_host[64]; /* the Host header the server saw */
static int v6_on_request(ws_conn *c, const ws_request *req, ws_accept *acc) {
    (void)c, (void)acc;
    snprintf(v6_host, sizeof v6_host, "%s", req->host ? req->host : "(none)");
    return 0;
}

/* ws://[::1]:port/ end to end: listen, connect and accept over IPv6, one
 * echo, a clean close; the Host header carries the bracketed literal. */
static void test_ipv6(void) {
    pair p;
    int fd, l;
    char want[64];
    if (!have_ipv6_loopback()) {
        printf("skip: no IPv6 loopback on this host (ws://[::1] not tested)\n");
        return;
    }
    test_ctx = "IPv6";
    l = ws_tcp_listen("::1", 0, 4);
    CHECKF(l >= 0, "ws_tcp_listen(::1): %s", ws_strerror(l));
    if (l >= 0) {
        fd = ws_tcp_connect("::1", local_port(l));
        CHECKF(fd >= 0, "ws_tcp_connect(::1): %s", ws_strerror(fd));
        if (fd >= 0) {
            CHECK(is_nonblocking(fd));
            CHECK(has_nodelay(fd));
            close(fd);
        }
        close(l);
    }
    v6_host[0] = '\0';
    pair_hook = v6_on_request;
    if (pair_open_on(&p, "::1", "[::1]", "/v6?q=1") == 0) {
        snprintf(want, sizeof want, "[::1]:%u", p.port);
        CHECK_STR(v6_host, want);
        CHECK_INT(ws_send_text(&p.cl, "over IPv6"), 0);
        SPIN(&p, cev.messages > 0);
        CHECK_INT(cev.messages, 1);
        CHECK_STR(cev.last, "over IPv6");
        CHECK_INT(ws_close(&p.cl, 1000, "v6 bye"), 0);
        SPIN(&p, cev.closes && sev.closes);
        CHECK_INT(cev.close_code, 1000);
        CHECK_INT(sev.close_code, 1000);
    }
    pair_hook = NULL;
    pair_close(&p);
    test_ctx = "";
}

static void test_echo_and_close(void) {
    pair p;
    ws_conn mem;
    static const ws_io fake = {0, 0, 0, 0, 0};
    ws_config cfg = mkcfg();
    if (pair_open(&p, "/echo?x=1") == 0) {
        CHECK_INT(ws_conn_fd(&p.cl) >= 0, 1);
        CHECK_INT(ws_conn_fd(&p.sv), p.sfd);
        CHECK_INT(ws_send_text(&p.cl, "hello"), 0);
        SPIN(&p, cev.messages > 0);
        CHECK_INT(sev.messages, 1);
        CHECK_INT(cev.messages, 1);
        CHECK(strcmp(cev.last, "hello") == 0);
        CHECK_INT(ws_close(&p.cl, 1000, "bye"), 0);
        SPIN(&p, cev.closes && sev.closes);
        CHECK_INT(cev.closes, 1);
        CHECK_INT(sev.closes, 1);
        CHECK_INT(cev.close_code, 1000);
        CHECK_INT(sev.close_code, 1000);
        CHECK_INT(ws_poll(&p.cl, 0), WS_E_CLOSED);
    }
    pair_close(&p);
    CHECK_INT(cev.closes, 1); /* ws_disconnect after CLOSED reports nothing more */
    CHECK_INT(ws_conn_fd(&p.cl), -1);
    /* a connection on another io has no fd */
    ws_conn_init(&mem, &cfg, &fake, NULL);
    CHECK_INT(ws_conn_fd(&mem), -1);
}

/* The peer's socket goes away with no close frame: 1006. */
static void test_peer_eof(void) {
    pair p;
    if (pair_open(&p, "/") == 0) {
        ws_conn_release(&p.sv);
        close(p.sfd);
        p.sfd = -1;
        SPIN(&p, cev.closes);
        CHECK_INT(cev.closes, 1);
        CHECK_INT(cev.close_code, 1006);
        CHECK_INT(ws_state(&p.cl), WS_CLOSED);
    }
    pair_close(&p);
    CHECK_INT(cev.closes, 1);
}

/* The peer resets the connection: the transport error is reported (on_error
 * WS_E_IO) and on_close says 1006. */
static void test_peer_reset(void) {
    pair p;
    if (pair_open(&p, "/") == 0) {
        struct linger lg;
        int i;
        lg.l_onoff = 1, lg.l_linger = 0;
        CHECK_INT(setsockopt(p.sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        ws_conn_release(&p.sv);
        close(p.sfd); /* RST */
        p.sfd = -1;
        nap_ms(20);
        /* sends after the reset fail at the transport */
        for (i = 0; i < 200 && !cev.closes; i++) {
            (void)ws_send_text(&p.cl, "after reset");
            (void)ws_poll(&p.cl, 5);
        }
        CHECK_INT(cev.closes, 1);
        CHECK_INT(cev.close_code, 1006);
        CHECK(cev.errors >= 1);
        CHECK_INT(cev.last_err, WS_E_IO);
        CHECK_INT(ws_send_text(&p.cl, "x"), WS_E_STATE);
    }
    pair_close(&p);
}

/* A large message through the socket sendv: the kernel takes part, the rest
 * is queued and flushed as the peer reads; the echo comes back whole. */
static void test_large(void) {
    pair p;
    size_t n = 8u << 20, i;
    unsigned char *big = (unsigned char *)malloc(n);
    if (!big) return;
    for (i = 0; i < n; i++) big[i] = (unsigned char)(i * 7u);
    if (pair_open(&p, "/") == 0) {
        CHECK_INT(ws_send_binary(&p.sv, big, n), 0); /* server: vectored write from big */
        /* (how much the kernel took at once is its business: not checked) */
        printf("large: %lu of %lu bytes queued after the first write\n",
               (unsigned long)ws_buffered_amount(&p.sv), (unsigned long)n);
        SPIN(&p, cev.messages > 0);
        CHECK_INT(cev.messages, 1);
        CHECK(cev.last_len == n);
        CHECK_INT(ws_buffered_amount(&p.sv), 0);
        /* the client with a message the size of the kernel's buffers or more */
        CHECK_INT(ws_send_binary(&p.cl, big, n), 0);
        SPIN(&p, cev.messages > 1);
        CHECK_INT(sev.messages, 1);
        CHECK(sev.last_len == n);
        CHECK_INT(cev.messages, 2);
    }
    pair_close(&p);
    free(big);
}

/* ws_disconnect on an open connection: on_close once, with 1006. */
static void test_disconnect_open(void) {
    pair p;
    if (pair_open(&p, "/") == 0) {
        ws_disconnect(&p.cl);
        CHECK_INT(cev.closes, 1);
        CHECK_INT(cev.close_code, 1006);
        CHECK_INT(ws_state(&p.cl), WS_CLOSED);
        CHECK_INT(ws_conn_fd(&p.cl), -1);
        ws_disconnect(&p.cl); /* a second time: nothing happens */
        CHECK_INT(cev.closes, 1);
        SPIN(&p, sev.closes);
        CHECK_INT(sev.closes, 1);
        CHECK_INT(sev.close_code, 1006);
    }
    pair_close(&p);
    CHECK_INT(cev.closes, 1);
}

static void test_connect_url_errors(void) {
    ws_conn c;
    ws_config cfg = mkcfg();
    char url[400];
    int l;
    unsigned port;
    memset(&cev, 0, sizeof cev);
    memset(&c, 0, sizeof c);
    CHECK_INT(ws_connect_url(&c, &cfg, "http://127.0.0.1/", NULL), WS_E_URL);
    CHECK_INT(ws_connect_url(&c, &cfg, "ws://127.0.0.1:0/", NULL), WS_E_URL);
#ifndef WS_MBEDTLS
    CHECK_INT(ws_connect_url(&c, &cfg, "wss://127.0.0.1/", NULL), WS_E_NO_TLS);
#endif
    /* a host name longer than the adapter's copy */
    memcpy(url, "ws://", 5);
    memset(url + 5, 'a', 300);
    strcpy(url + 305, "/");
    CHECK_INT(ws_connect_url(&c, &cfg, url, NULL), WS_E_URL);
    CHECK_INT(ws_connect_url(&c, &cfg, "ws://nonexistent.invalid/", NULL), WS_E_RESOLVE);
    l = ws_tcp_listen("127.0.0.1", 0, 1);
    CHECK(l >= 0);
    port = local_port(l);
    close(l);
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", port);
    CHECK_INT(ws_connect_url(&c, &cfg, url, NULL), WS_E_CONNECT);
    /* the handshake cannot start (a header that would inject lines): the
     * socket is closed again and the error returned */
    l = ws_tcp_listen("127.0.0.1", 0, 1);
    CHECK(l >= 0);
    if (l >= 0) {
        ws_client_options o;
        memset(&o, 0, sizeof o);
        o.origin = "http://x\r\nEvil: 1";
        snprintf(url, sizeof url, "ws://127.0.0.1:%u/", local_port(l));
        CHECK_INT(ws_connect_url(&c, &cfg, url, &o), WS_E_INVALID);
        CHECK_INT(ws_conn_fd(&c), -1);
        CHECK_INT(cev.closes, 0);
        close(l);
    }
}

/* The socket io on a descriptor that is not open: transport errors. */
static void test_io_bad_fd(void) {
    const ws_io *io = ws_posix_io();
    void *bad = (void *)(intptr_t)-1;
    unsigned char b[4] = {1, 2, 3, 4};
    ws_iovec v[2];
    v[0].base = b, v[0].len = 2, v[1].base = b + 2, v[1].len = 2;
    CHECK_INT(io->recv(bad, b, sizeof b), WS_E_IO);
    CHECK_INT(io->send(bad, b, sizeof b), WS_E_IO);
    CHECK_INT(io->sendv(bad, v, 2), WS_E_IO);
    CHECK_INT(io->random(NULL, b, sizeof b), 0);
    CHECK(io->now_ms(NULL) > 0);
}

/* ws_connect_url when the allocator fails: the socket is closed again. */
static int fail_allocs;
static void *failing_realloc(void *u, void *p, size_t n) {
    (void)u;
    if (n && fail_allocs) return NULL;
    return ws_libc_realloc(NULL, p, n);
}
static void test_connect_url_nomem(void) {
    ws_conn c;
    ws_config cfg = mkcfg();
    char url[64];
    int l = ws_tcp_listen("127.0.0.1", 0, 1);
    CHECK(l >= 0);
    if (l < 0) return;
    cfg.realloc_fn = failing_realloc;
    fail_allocs = 1;
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/p", local_port(l));
    CHECK_INT(ws_connect_url(&c, &cfg, url, NULL), WS_E_NOMEM);
    close(l);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_url();
    test_tcp();
    test_socket_options();
    test_realloc();
    test_io_bad_fd();
    test_connect_url_nomem();
    test_connect_url_errors();
    test_echo_and_close();
    test_peer_eof();
    test_peer_reset();
    test_large();
    test_disconnect_open();
    test_ipv6();
    return test_report();
}
