/* tls_peer - our side of the wss:// tests (the mbedTLS adapter of ws.h).
 *
 *   tls_peer server --cert FILE --key FILE [--conns N] [--handshake-timeout MS]
 *       A wss echo server on 127.0.0.1 (a free port, printed as "PORT n").
 *       A text message "please-close:CODE:REASON" is answered by a close
 *       with that code and reason. It exits 0 after N connections ended
 *       (default: never), having freed everything, so that LeakSanitizer
 *       checks what hostile peers left behind. Each failure is printed as
 *       "conn error: ...", each close as "conn closed CODE \"REASON\"".
 *
 *   tls_peer client URL [--ca FILE | --insecure] suite
 *       Against an echo server that knows please-close (tls_test.js's Node
 *       server): messages of 0 B to 16 MiB, text and binary, fragmented
 *       sends, ping/pong, a close with code and reason from each side,
 *       every echo compared byte for byte. Prints "N passed, N failed".
 *
 *   tls_peer client URL [--ca FILE | --insecure | --default] expect-fail TEXT
 *       The connection must fail before it opens, through on_error with
 *       WS_E_TLS and a reason containing TEXT. --default connects with the
 *       plain ws_connect_url (system CAs).
 */
#define WS_IMPLEMENTATION
#include "ws.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else failed++, fprintf(stderr, "FAIL: %s\n", what);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ======================= server ======================= */

struct peer {
    ws_conn c;
    ws_tls t;
    struct peer *next;
};

static void srv_on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    static const char cmd[] = "please-close:";
    if (opcode == WS_OP_TEXT && len > sizeof cmd - 1 && !memcmp(data, cmd, sizeof cmd - 1)) {
        char buf[160];
        const char *reason;
        size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, data, n);
        buf[n] = '\0';
        reason = strchr(buf + sizeof cmd - 1, ':');
        (void)ws_close(c, atoi(buf + sizeof cmd - 1), reason ? reason + 1 : "");
        return;
    }
    if (ws_send(c, opcode, data, len) < 0) (void)ws_close(c, WS_CLOSE_INTERNAL, "echo failed");
}

static void srv_on_close(ws_conn *c, int code, const char *reason) {
    (void)c;
    fprintf(stderr, "conn closed %d \"%s\"\n", code, reason);
}

static void srv_on_error(ws_conn *c, int err, const char *reason) {
    (void)c;
    fprintf(stderr, "conn error: %s: %s\n", ws_strerror(err), reason);
}

static int run_server(int argc, char **argv) {
    const char *cert = NULL, *key = NULL;
    long conns = -1, ended = 0;
    unsigned long hs_ms = 0;
    ws_tls_options o;
    ws_tls_config tc;
    ws_config cfg;
    struct peer *peers = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int a, lfd, rc = 0;
    for (a = 0; a < argc; a++) {
        if (!strcmp(argv[a], "--cert") && a + 1 < argc) cert = argv[++a];
        else if (!strcmp(argv[a], "--key") && a + 1 < argc) key = argv[++a];
        else if (!strcmp(argv[a], "--conns") && a + 1 < argc) conns = atol(argv[++a]);
        else if (!strcmp(argv[a], "--handshake-timeout") && a + 1 < argc) hs_ms = strtoul(argv[++a], NULL, 10);
        else return fprintf(stderr, "tls_peer server: bad argument %s\n", argv[a]), 2;
    }
    memset(&o, 0, sizeof o);
    o.cert_file = cert, o.key_file = key;
    if (ws_tls_config_init(&tc, 1, &o) < 0) {
        fprintf(stderr, "tls_peer: %s\n", ws_tls_config_reason(&tc));
        return 1;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.on_message = srv_on_message;
    cfg.on_error = srv_on_error;
    cfg.on_close = srv_on_close;
    cfg.realloc_fn = ws_libc_realloc;
    cfg.max_message = (size_t)20 << 20;
    cfg.max_send_buffer = (size_t)48 << 20;
    cfg.handshake_timeout_ms = (uint32_t)hs_ms;
    lfd = ws_tcp_listen("127.0.0.1", 0, 64);
    if (lfd < 0 || getsockname(lfd, (struct sockaddr *)&ss, &sl) < 0) {
        fprintf(stderr, "tls_peer: cannot listen\n");
        ws_tls_config_free(&tc);
        return 1;
    }
    printf("PORT %u\n", (unsigned)ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port));
    fflush(stdout);
    while (conns < 0 || ended < conns) {
        struct pollfd pfd[65];
        struct peer *p, **pp;
        nfds_t n = 1;
        long tmo = 1000;
        pfd[0].fd = lfd, pfd[0].events = POLLIN, pfd[0].revents = 0;
        for (p = peers; p && n < 65; p = p->next, n++) {
            long t = ws_next_timeout(&p->c);
            pfd[n].fd = ws_tls_conn_fd(&p->c);
            pfd[n].events = (short)(POLLIN | (ws_tls_wants_write(&p->c) ? POLLOUT : 0));
            pfd[n].revents = 0;
            if (t >= 0 && t < tmo) tmo = t;
        }
        if (poll(pfd, n, (int)tmo) < 0 && errno != EINTR) {
            perror("poll");
            rc = 1;
            break;
        }
        for (pp = &peers; (p = *pp) != NULL;) {
            if (ws_pump(&p->c) == WS_E_CLOSED) {
                *pp = p->next;
                ws_tls_disconnect(&p->c); /* close_notify, socket, buffers */
                free(p);
                ended++;
            } else {
                pp = &p->next;
            }
        }
        if (pfd[0].revents) {
            int fd = ws_tcp_accept(lfd);
            if (fd >= 0) {
                p = (struct peer *)calloc(1, sizeof *p);
                if (!p || ws_tls_init(&p->t, &tc, fd, NULL) < 0) {
                    fprintf(stderr, "tls_peer: cannot start a session%s%s\n", p ? ": " : "",
                            p ? ws_tls_reason(&p->t) : "");
                    free(p);
                    close(fd);
                    continue;
                }
                ws_tls_conn_init(&p->c, &cfg, &p->t);
                (void)ws_server_start(&p->c);
                p->next = peers;
                peers = p;
            }
        }
    }
    while (peers) {
        struct peer *p = peers;
        peers = p->next;
        ws_tls_disconnect(&p->c);
        free(p);
    }
    close(lfd);
    ws_tls_config_free(&tc);
    return rc;
}

/* ======================= client ======================= */

static struct {
    int opened, closed, err, close_code, pongs;
    char reason[256], close_reason[256];
    unsigned char *got; /* the last message received */
    size_t got_len;
    int got_op, have_msg;
    unsigned char pong[126];
    size_t pong_len;
} cl;

static void cl_on_open(ws_conn *c, const char *sub) {
    (void)c, (void)sub;
    cl.opened = 1;
}

static void cl_on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    (void)c;
    free(cl.got);
    cl.got = (unsigned char *)malloc(len ? len : 1);
    if (!cl.got) abort();
    if (len) memcpy(cl.got, data, len);
    cl.got_len = len, cl.got_op = opcode, cl.have_msg = 1;
}

static void cl_on_pong(ws_conn *c, const void *data, size_t len) {
    (void)c;
    memcpy(cl.pong, data, len);
    cl.pong_len = len;
    cl.pongs++;
}

static void cl_on_error(ws_conn *c, int err, const char *reason) {
    (void)c;
    if (!cl.err) {
        cl.err = err;
        snprintf(cl.reason, sizeof cl.reason, "%s", reason);
    }
}

static void cl_on_close(ws_conn *c, int code, const char *reason) {
    (void)c;
    cl.closed = 1, cl.close_code = code;
    snprintf(cl.close_reason, sizeof cl.close_reason, "%s", reason);
}

/* Pumps until cond holds or the connection closes; 0 on time-out. */
static int wait_for(ws_conn *c, const int *flag, unsigned ms) {
    uint64_t end = now_ms() + ms;
    while (!*flag && now_ms() < end) {
        if (ws_tls_poll(c, 200) == WS_E_CLOSED) return *flag;
    }
    return *flag;
}

static void fill(unsigned char *p, size_t n, int text, unsigned seed) {
    /* Text: ASCII with 2-, 3- and 4-byte code points mixed in, cut at a
     * whole code point; binary: an LCG's bytes. */
    static const char unit[] = "ab\xc3\xa9" "c\xe2\x82\xac" "d\xf0\x9d\x84\x9e";
    size_t i;
    uint32_t x = seed * 2654435761u + 1;
    if (text) {
        for (i = 0; i + sizeof unit - 1 <= n; i += sizeof unit - 1) memcpy(p + i, unit, sizeof unit - 1);
        for (; i < n; i++) p[i] = 'x';
    } else {
        for (i = 0; i < n; i++) x = x * 1664525u + 1013904223u, p[i] = (unsigned char)(x >> 24);
    }
}

static int client_open(ws_conn *c, ws_config *cfg, const char *url, const ws_tls_options *to) {
    int r;
    free(cl.got);
    memset(&cl, 0, sizeof cl);
    memset(cfg, 0, sizeof *cfg);
    cfg->on_open = cl_on_open;
    cfg->on_message = cl_on_message;
    cfg->on_pong = cl_on_pong;
    cfg->on_error = cl_on_error;
    cfg->on_close = cl_on_close;
    cfg->realloc_fn = ws_libc_realloc;
    cfg->max_message = (size_t)20 << 20;
    cfg->max_send_buffer = (size_t)48 << 20;
    cfg->handshake_timeout_ms = 20000;
    /* NULL: the plain ws_connect_url, whose wss:// trusts the system CAs */
    r = to ? ws_connect_url_tls(c, cfg, url, NULL, to) : ws_connect_url(c, cfg, url, NULL);
    if (r < 0) {
        fprintf(stderr, "connect: %s (%s)\n", ws_strerror(r), cl.reason);
        return r;
    }
    return 0;
}

static int echo_one(ws_conn *c, int op, const unsigned char *msg, size_t len, const char *what) {
    char label[128];
    int r = ws_send(c, op, msg, len);
    snprintf(label, sizeof label, "%s (%zu bytes): sent", what, len);
    check(r == 0, label);
    if (r) return -1;
    cl.have_msg = 0;
    snprintf(label, sizeof label, "%s (%zu bytes): echoed byte for byte", what, len);
    check(wait_for(c, &cl.have_msg, 120000) && cl.got_op == op && cl.got_len == len &&
              (!len || !memcmp(cl.got, msg, len)),
          label);
    return 0;
}

static int run_suite(const char *url, const ws_tls_options *to) {
    static const size_t sizes[] = {0, 1, 2, 125, 126, 127, 128, 1000, 4095, 4096, 4097, 16383, 16384, 16385,
                                   65535, 65536, 65537, 100000, (size_t)1 << 20, (size_t)16 << 20};
    ws_config cfg;
    ws_conn c;
    unsigned char *buf;
    size_t i, max = (size_t)16 << 20;
    if (client_open(&c, &cfg, url, to) < 0) return 1;
    check(wait_for(&c, &cl.opened, 30000), "TLS and WebSocket handshakes complete");
    if (!cl.opened) {
        fprintf(stderr, "not open: %s\n", cl.reason);
        ws_tls_disconnect(&c);
        return 1;
    }
    buf = (unsigned char *)malloc(max);
    if (!buf) return 1;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fill(buf, sizes[i], 0, (unsigned)i);
        echo_one(&c, WS_OP_BINARY, buf, sizes[i], "binary");
        fill(buf, sizes[i], 1, (unsigned)i);
        echo_one(&c, WS_OP_TEXT, buf, sizes[i], "text");
    }
    /* Fragmented: a text message in pieces that cut code points apart. */
    {
        static const size_t cuts[] = {0, 3, 1, 7, 70000, 2, 0, 5000};
        size_t off = 0, total = 0, k;
        int ok = 1;
        for (k = 0; k < sizeof cuts / sizeof cuts[0]; k++) total += cuts[k];
        fill(buf, total, 1, 99);
        for (k = 0; k < sizeof cuts / sizeof cuts[0] && ok; k++) {
            int last = k + 1 == sizeof cuts / sizeof cuts[0];
            ok = ws_send_frame(&c, k ? WS_OP_CONTINUATION : WS_OP_TEXT, buf + off, cuts[k], last) == 0;
            off += cuts[k];
        }
        check(ok, "fragmented text: all pieces sent");
        cl.have_msg = 0;
        check(wait_for(&c, &cl.have_msg, 60000) && cl.got_op == WS_OP_TEXT && cl.got_len == total &&
                  !memcmp(cl.got, buf, total),
              "fragmented text: echoed whole, byte for byte");
        fill(buf, 300000, 0, 7);
        ok = ws_send_frame(&c, WS_OP_BINARY, buf, 100000, 0) == 0 &&
             ws_ping(&c, "between", 7) == 0 && /* a control frame between fragments */
             ws_send_frame(&c, WS_OP_CONTINUATION, buf + 100000, 200000, 1) == 0;
        check(ok, "fragmented binary with a ping between: sent");
        cl.have_msg = 0;
        check(wait_for(&c, &cl.have_msg, 60000) && cl.got_op == WS_OP_BINARY && cl.got_len == 300000 &&
                  !memcmp(cl.got, buf, 300000),
              "fragmented binary: echoed whole");
    }
    /* Ping with a payload: the pong carries it back. (The pong of the
     * ping between fragments came before that message's echo.) */
    {
        int before = cl.pongs;
        uint64_t end = now_ms() + 30000;
        unsigned char p[125];
        fill(p, sizeof p, 0, 5);
        check(ws_ping(&c, p, sizeof p) == 0, "ping sent");
        while (cl.pongs == before && now_ms() < end)
            if (ws_tls_poll(&c, 200) == WS_E_CLOSED) break;
        check(cl.pongs == before + 1 && cl.pong_len == sizeof p && !memcmp(cl.pong, p, sizeof p),
              "pong carries the ping's 125 bytes");
    }
    /* Our close with a code and a reason: the Node server echoes both. */
    check(ws_close(&c, 4000, "client bye \xe2\x9c\x93") == 0, "close sent");
    check(wait_for(&c, &cl.closed, 30000), "closed");
    check(cl.close_code == 4000 && !strcmp(cl.close_reason, "client bye \xe2\x9c\x93"),
          "close code 4000 and reason came back");
    ws_tls_disconnect(&c);

    /* The server's close with a code and a reason. */
    if (client_open(&c, &cfg, url, to) == 0) {
        check(wait_for(&c, &cl.opened, 30000), "second connection opens");
        check(ws_send_text(&c, "please-close:4001:server says bye \xe2\x9c\x93") == 0, "close request sent");
        check(wait_for(&c, &cl.closed, 30000), "server closed");
        check(cl.close_code == 4001 && !strcmp(cl.close_reason, "server says bye \xe2\x9c\x93"),
              "server's close code 4001 and reason arrived");
        check(!cl.err, "no error on either connection");
        ws_tls_disconnect(&c);
    } else {
        check(0, "second connection");
    }
    free(cl.got);
    free(buf);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static int run_expect_fail(const char *url, const ws_tls_options *to, const char *text) {
    ws_config cfg;
    ws_conn c;
    uint64_t end = now_ms() + 30000;
    int r = client_open(&c, &cfg, url, to);
    if (r == 0) {
        while (ws_state(&c) != WS_CLOSED && now_ms() < end) (void)ws_tls_poll(&c, 200);
        check(ws_state(&c) == WS_CLOSED, "the connection ended");
        printf("reason: %s\n", ws_reason(&c));
        check(!strcmp(ws_reason(&c), cl.reason), "ws_reason() is on_error's reason");
        check(cl.closed && cl.close_code == WS_CLOSE_ABNORMAL && !strcmp(cl.close_reason, cl.reason),
              "on_close(1006) with the same reason");
        ws_tls_disconnect(&c);
    } else {
        printf("reason: %s\n", cl.reason);
    }
    check(!cl.opened, "the connection never opened");
    check(cl.err == WS_E_TLS, "on_error got WS_E_TLS");
    check(strstr(cl.reason, text) != NULL, "the reason names the cause");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    ws_tls_options to;
    const ws_tls_options *use = &to;
    const char *url;
    int a;
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "server")) return run_server(argc - 2, argv + 2);
    if (argc < 4 || strcmp(argv[1], "client")) {
        fprintf(stderr, "usage: tls_peer server ... | tls_peer client URL [options] suite|expect-fail TEXT\n");
        return 2;
    }
    url = argv[2];
    memset(&to, 0, sizeof to);
    for (a = 3; a < argc; a++) {
        if (!strcmp(argv[a], "--ca") && a + 1 < argc) to.ca_file = argv[++a];
        else if (!strcmp(argv[a], "--insecure")) to.insecure_skip_verify = 1;
        else if (!strcmp(argv[a], "--default")) use = NULL;
        else if (!strcmp(argv[a], "suite")) return run_suite(url, use);
        else if (!strcmp(argv[a], "expect-fail") && a + 1 < argc) return run_expect_fail(url, use, argv[a + 1]);
        else break;
    }
    fprintf(stderr, "tls_peer client: bad arguments\n");
    return 2;
}
