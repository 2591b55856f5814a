/* main.c - ws.h the way firmware uses it, checked byte for byte.
 *
 * A client engine and a server engine talk to each other over an in-memory
 * byte pipe that takes and gives only a few bytes at a time and says "would
 * block" when it is full or empty - the way a UART driver or lwIP's raw API
 * callbacks feed a connection. Everything lives in static memory: the
 * buffers are handed over with ws_conn_set_buffers and there is no
 * allocator (cfg.realloc_fn stays NULL), so nothing here ever calls malloc.
 *
 * The same file runs natively (CTest embedded.native) and bare-metal on a
 * Cortex-M4 under QEMU (CTest embedded.qemu, with startup.c and mps2.ld);
 * the exit status is the result and the last line says "N passed, N failed".
 *
 * What it covers: the opening handshake with a subprotocol, text (ASCII and
 * multi-byte UTF-8), binary and empty messages, a message of exactly the
 * largest size a fixed receive buffer allows and one byte more (close 1009),
 * fragmented messages both ways with a ping between fragments, streaming
 * delivery (on_fragment) of messages larger than the receive buffer,
 * ping/pong both ways, and the closing handshake started by either side -
 * each under several pipe sizes, so every would-block path is taken.
 *
 * Buffer sizes are the ones examples/embedded/README.md derives:
 *   server: rx 1024 (whole messages up to 1024 - WS_RX_RESERVE = 888 bytes),
 *           tx 512 (the 256 bytes the handshake reserves; frames up to 508)
 *   client: rx 256 (streaming: any message size), tx 1024 (masked frames up
 *           to 1024 - 8 bytes of payload are queued whole) */
#define WS_NO_SOCKETS
#include "ws.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------- */
static unsigned g_passed, g_failed;

static int check(int ok, const char *what, int line) {
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
    return ok;
}
#define CHECK(x) check((x) != 0, #x, __LINE__)

/* ---------------------------------------------------------------------------
 * Deterministic pseudo-random numbers (xorshift32).
 *
 * Good enough to vary chunk sizes and to make test payloads. It is also the
 * ws_io.random callback below, which is ONLY acceptable in a self-test: real
 * firmware must fill mask keys and the Sec-WebSocket-Key from its hardware
 * RNG (or a DRBG seeded from it), because a predictable mask key lets a
 * hostile page poison proxy caches (RFC 6455 section 10.3).
 * ------------------------------------------------------------------------- */
static uint32_t prng_next(uint32_t *s) {
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void fill_pattern(unsigned char *p, size_t n, uint32_t seed) {
    size_t i;
    for (i = 0; i < n; i++) p[i] = (unsigned char)(prng_next(&seed) >> 24);
}

/* ---------------------------------------------------------------------------
 * The byte pipe: one ring buffer per direction.
 * ------------------------------------------------------------------------- */
#define PIPE_MAX 1536

typedef struct bytepipe {
    unsigned char buf[PIPE_MAX];
    size_t cap;      /* this run's capacity (<= PIPE_MAX) */
    size_t head, len;
    int writer_gone; /* the sender closed its end: EOF once drained */
    int reader_gone; /* the receiver closed its end: writes fail */
} bytepipe;

typedef struct run_params {
    size_t pipe_cap;  /* bytes a direction holds before writes would block */
    size_t max_chunk; /* most bytes one recv/send call moves */
    int server_sendv; /* give the server a vectored send */
    uint32_t seed;
} run_params;

static run_params g_run;
static uint32_t g_chunk_rng, g_key_rng;
static uint64_t g_clock_ms;

/* How many bytes the "hardware" moves in this call: 1..max_chunk. */
static size_t chunk_limit(void) { return 1 + (size_t)(prng_next(&g_chunk_rng) % g_run.max_chunk); }

static size_t pipe_write(bytepipe *p, const unsigned char *src, size_t n) {
    size_t i, room = p->cap - p->len;
    if (n > room) n = room;
    for (i = 0; i < n; i++) p->buf[(p->head + p->len + i) % p->cap] = src[i];
    p->len += n;
    return n;
}

static size_t pipe_read(bytepipe *p, unsigned char *dst, size_t n) {
    size_t i;
    if (n > p->len) n = p->len;
    for (i = 0; i < n; i++) dst[i] = p->buf[(p->head + i) % p->cap];
    p->head = (p->head + n) % p->cap;
    p->len -= n;
    return n;
}

/* ---------------------------------------------------------------------------
 * An endpoint: the connection, its static buffers and what it received.
 * ------------------------------------------------------------------------- */
typedef struct endpoint {
    const char *name;
    ws_conn conn;
    bytepipe *in, *out;
    int hung_up; /* the host closed this end's transport */
    /* events */
    int opened, closes, errors, last_error, close_code;
    char subprotocol[32], close_reason[128], error_reason[96];
    /* messages (whole, or reassembled from on_fragment pieces) */
    unsigned char msg[2048];
    size_t msg_len, partial_len;
    int msg_op, msg_count, pieces, partial_op, fragment_flag_errors;
    /* control frames */
    unsigned char ctl[125];
    size_t ctl_len;
    int pings, pongs;
} endpoint;

static bytepipe g_c2s, g_s2c;
static endpoint g_srv, g_cli;

/* The buffers the engines work in: static, sized as the README explains. */
static unsigned char g_srv_rx[1024], g_srv_tx[512];
static unsigned char g_cli_rx[256], g_cli_tx[1024];
#define SERVER_MAX_MESSAGE (sizeof g_srv_rx - WS_RX_RESERVE)

static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- the transport (ws_io) ---- */

static ptrdiff_t io_recv(void *user, void *buf, size_t cap) {
    endpoint *ep = (endpoint *)user;
    size_t lim = chunk_limit();
    if (ep->in->len == 0) return ep->in->writer_gone ? 0 : WS_E_AGAIN;
    return (ptrdiff_t)pipe_read(ep->in, (unsigned char *)buf, cap < lim ? cap : lim);
}

static ptrdiff_t io_send(void *user, const void *buf, size_t len) {
    endpoint *ep = (endpoint *)user;
    size_t lim = chunk_limit(), n;
    if (ep->out->reader_gone) return WS_E_IO;
    n = pipe_write(ep->out, (const unsigned char *)buf, len < lim ? len : lim);
    return n ? (ptrdiff_t)n : WS_E_AGAIN;
}

/* Like lwIP's tcp_write over several pieces: takes what fits, in order. */
static ptrdiff_t io_sendv(void *user, const ws_iovec *iov, int count) {
    endpoint *ep = (endpoint *)user;
    size_t lim = chunk_limit(), total = 0;
    int i;
    if (ep->out->reader_gone) return WS_E_IO;
    for (i = 0; i < count && total < lim; i++) {
        size_t want = iov[i].len < lim - total ? iov[i].len : lim - total;
        size_t n = pipe_write(ep->out, (const unsigned char *)iov[i].base, want);
        total += n;
        if (n < iov[i].len) break;
    }
    return total ? (ptrdiff_t)total : WS_E_AGAIN;
}

/* Self-test only: see the comment on prng_next. Firmware reads its TRNG. */
static int io_random(void *user, void *buf, size_t len) {
    unsigned char *p = (unsigned char *)buf;
    size_t i;
    (void)user;
    for (i = 0; i < len; i++) p[i] = (unsigned char)(prng_next(&g_key_rng) >> 24);
    return 0;
}

/* A tick counter, as firmware has one: one millisecond per pump round. */
static uint64_t io_now(void *user) {
    (void)user;
    return g_clock_ms;
}

static const ws_io g_io = {io_recv, io_send, NULL, io_random, io_now};
static const ws_io g_io_sendv = {io_recv, io_send, io_sendv, io_random, io_now};

/* ---- events (ws_config) ---- */

static endpoint *ep_of(ws_conn *c) { return (endpoint *)c->user; }

static void on_open(ws_conn *c, const char *subprotocol) {
    endpoint *ep = ep_of(c);
    ep->opened++;
    copy_str(ep->subprotocol, sizeof ep->subprotocol, subprotocol);
}

static void on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    endpoint *ep = ep_of(c);
    ep->msg_count++;
    ep->msg_op = opcode;
    ep->msg_len = len;
    if (len > sizeof ep->msg) {
        ep->fragment_flag_errors++;
        return;
    }
    if (len) memcpy(ep->msg, data, len);
}

/* Streaming delivery: pieces are appended as they come; WS_FIRST and
 * WS_LAST must each appear exactly once per message, in that order. */
static void on_fragment(ws_conn *c, int opcode, const void *data, size_t len, int flags) {
    endpoint *ep = ep_of(c);
    ep->pieces++;
    if (flags & WS_FIRST) {
        if (ep->partial_op) ep->fragment_flag_errors++;
        ep->partial_op = opcode;
        ep->partial_len = 0;
    } else if (!ep->partial_op || opcode != ep->partial_op) {
        ep->fragment_flag_errors++;
    }
    if (ep->partial_len + len > sizeof ep->msg) {
        ep->fragment_flag_errors++;
        len = sizeof ep->msg - ep->partial_len;
    }
    if (len) memcpy(ep->msg + ep->partial_len, data, len);
    ep->partial_len += len;
    if (flags & WS_LAST) {
        ep->msg_count++;
        ep->msg_op = ep->partial_op;
        ep->msg_len = ep->partial_len;
        ep->partial_op = 0;
    }
}

static void on_ping(ws_conn *c, const void *data, size_t len) {
    endpoint *ep = ep_of(c);
    ep->pings++;
    ep->ctl_len = len;
    if (len) memcpy(ep->ctl, data, len);
}

static void on_pong(ws_conn *c, const void *data, size_t len) {
    endpoint *ep = ep_of(c);
    ep->pongs++;
    ep->ctl_len = len;
    if (len) memcpy(ep->ctl, data, len);
}

static void on_close(ws_conn *c, int code, const char *reason) {
    endpoint *ep = ep_of(c);
    ep->closes++;
    ep->close_code = code;
    copy_str(ep->close_reason, sizeof ep->close_reason, reason);
}

static void on_error(ws_conn *c, int err, const char *reason) {
    endpoint *ep = ep_of(c);
    ep->errors++;
    ep->last_error = err;
    copy_str(ep->error_reason, sizeof ep->error_reason, reason);
}

/* The server checks what the client asked for and picks "chat". */
static int on_request(ws_conn *c, const ws_request *req, ws_accept *acc) {
    (void)c;
    if (strcmp(req->target, "/embedded?x=1") != 0 || strcmp(req->host, "device.local:8080") != 0 ||
        !req->origin || strcmp(req->origin, "http://device.local") != 0)
        return 400;
    if (ws_request_offers(req, "chat")) acc->subprotocol = "chat";
    return 0;
}

/* Zero means default everywhere; no realloc_fn: fixed buffers only. */
static ws_config g_srv_cfg, g_cli_cfg;

/* ---------------------------------------------------------------------------
 * Driving both ends, as a firmware main loop would.
 * ------------------------------------------------------------------------- */

/* When ws_pump says CLOSED, the host closes the transport: the peer reads
 * EOF once the pipe is drained, and its writes fail. */
static void pump_one(endpoint *ep) {
    if (ep->hung_up) return;
    if (ws_pump(&ep->conn) == WS_E_CLOSED) {
        ep->hung_up = 1;
        ep->out->writer_gone = 1;
        ep->in->reader_gone = 1;
    }
}

static void pump_both(void) {
    pump_one(&g_cli);
    pump_one(&g_srv);
    g_clock_ms++;
}

#define WAIT_ROUNDS 200000L
#define WAIT_UNTIL(cond)                                                                           \
    do {                                                                                           \
        long r_;                                                                                   \
        for (r_ = 0; r_ < WAIT_ROUNDS && !(cond); r_++) pump_both();                               \
        CHECK(cond);                                                                               \
    } while (0)

/* ws_send_frame, retried while the send queue is full (WS_E_FULL), as a
 * firmware task would retry after the next pump. */
static int send_frame(endpoint *ep, int opcode, const void *data, size_t len, int fin) {
    long i;
    int r = WS_E_FULL;
    for (i = 0; i < WAIT_ROUNDS && r == WS_E_FULL; i++) {
        r = ws_send_frame(&ep->conn, opcode, data, len, fin);
        if (r == WS_E_FULL) pump_both();
    }
    return r;
}

static int send_msg(endpoint *ep, int opcode, const void *data, size_t len) {
    return send_frame(ep, opcode, data, len, 1);
}

static int send_ping(endpoint *ep, const void *data, size_t len) {
    long i;
    int r = WS_E_FULL;
    for (i = 0; i < WAIT_ROUNDS && r == WS_E_FULL; i++) {
        r = ws_ping(&ep->conn, data, len);
        if (r == WS_E_FULL) pump_both();
    }
    return r;
}

/* Delivered as message number `count` with exactly these bytes? */
static int got(const endpoint *ep, int count, int opcode, const void *data, size_t len) {
    return ep->msg_count == count && ep->msg_op == opcode && ep->msg_len == len &&
           (len == 0 || memcmp(ep->msg, data, len) == 0);
}

static void endpoint_reset(endpoint *ep, const char *name, bytepipe *in, bytepipe *out) {
    memset(ep, 0, sizeof *ep);
    ep->name = name;
    ep->in = in, ep->out = out;
}

/* Both ends set up and the handshake done. */
static int connect_pair(void) {
    ws_client_options opt;
    int r;
    memset(&g_c2s, 0, sizeof g_c2s), memset(&g_s2c, 0, sizeof g_s2c);
    g_c2s.cap = g_s2c.cap = g_run.pipe_cap;
    g_chunk_rng = g_run.seed, g_key_rng = g_run.seed ^ 0x5bd1e995u;
    endpoint_reset(&g_srv, "server", &g_c2s, &g_s2c);
    endpoint_reset(&g_cli, "client", &g_s2c, &g_c2s);

    memset(&g_srv_cfg, 0, sizeof g_srv_cfg);
    g_srv_cfg.on_open = on_open, g_srv_cfg.on_message = on_message, g_srv_cfg.on_ping = on_ping;
    g_srv_cfg.on_pong = on_pong, g_srv_cfg.on_close = on_close, g_srv_cfg.on_error = on_error;
    g_srv_cfg.on_request = on_request;
    memset(&g_cli_cfg, 0, sizeof g_cli_cfg);
    g_cli_cfg.on_open = on_open, g_cli_cfg.on_fragment = on_fragment, g_cli_cfg.on_ping = on_ping;
    g_cli_cfg.on_pong = on_pong, g_cli_cfg.on_close = on_close, g_cli_cfg.on_error = on_error;

    ws_conn_init(&g_srv.conn, &g_srv_cfg, g_run.server_sendv ? &g_io_sendv : &g_io, &g_srv);
    g_srv.conn.user = &g_srv;
    CHECK(ws_conn_set_buffers(&g_srv.conn, g_srv_rx, sizeof g_srv_rx, g_srv_tx, sizeof g_srv_tx) == 0);
    CHECK(ws_server_start(&g_srv.conn) == 0);

    ws_conn_init(&g_cli.conn, &g_cli_cfg, &g_io, &g_cli);
    g_cli.conn.user = &g_cli;
    CHECK(ws_conn_set_buffers(&g_cli.conn, g_cli_rx, sizeof g_cli_rx, g_cli_tx, sizeof g_cli_tx) == 0);
    memset(&opt, 0, sizeof opt);
    opt.host = "device.local", opt.port = 8080, opt.path = "/embedded?x=1";
    opt.origin = "http://device.local", opt.subprotocols = "superchat, chat";
    r = ws_client_start(&g_cli.conn, &opt);
    CHECK(r == 0);
    if (r != 0) return 0;
    CHECK(ws_state(&g_cli.conn) == WS_CONNECTING && ws_state(&g_srv.conn) == WS_CONNECTING);

    WAIT_UNTIL(ws_state(&g_cli.conn) == WS_OPEN && ws_state(&g_srv.conn) == WS_OPEN);
    CHECK(g_srv.opened == 1 && g_cli.opened == 1);
    CHECK(strcmp(g_srv.subprotocol, "chat") == 0);
    CHECK(strcmp(g_cli.subprotocol, "chat") == 0);
    CHECK(ws_http_status(&g_cli.conn) == 101);
    return ws_state(&g_cli.conn) == WS_OPEN && ws_state(&g_srv.conn) == WS_OPEN;
}

static unsigned char g_big[1400], g_tmp[1400];

/* ---------------------------------------------------------------------------
 * Session 1: messages both ways, then the client closes.
 * ------------------------------------------------------------------------- */
static void session_exchange(void) {
    static const char hello[] = "Hello, ws.h!";
    /* "Grüße, κόσμε – 🌍 ✓" as UTF-8 bytes (2-, 3- and 4-byte sequences). */
    static const char utf8[] = "Gr\xc3\xbc\xc3\x9f" "e, \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 "
                               "\xe2\x80\x93 \xf0\x9f\x8c\x8d \xe2\x9c\x93";
    static const char reply[] = "Hello from the device";
    static const unsigned char ping_c[] = "ping from the client";
    static const unsigned char ping_s[] = "are you there?";
    unsigned char bytes[256];
    int n = 0, i;
    size_t off;

    if (!connect_pair()) return;

    /* ---- client -> server: whole messages into the server's rx ---- */
    CHECK(send_msg(&g_cli, WS_OP_TEXT, hello, sizeof hello - 1) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1);
    CHECK(got(&g_srv, ++n, WS_OP_TEXT, hello, sizeof hello - 1));

    CHECK(send_msg(&g_cli, WS_OP_TEXT, utf8, sizeof utf8 - 1) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1);
    CHECK(got(&g_srv, ++n, WS_OP_TEXT, utf8, sizeof utf8 - 1));

    for (i = 0; i < 256; i++) bytes[i] = (unsigned char)i;
    CHECK(send_msg(&g_cli, WS_OP_BINARY, bytes, sizeof bytes) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1);
    CHECK(got(&g_srv, ++n, WS_OP_BINARY, bytes, sizeof bytes));

    CHECK(send_msg(&g_cli, WS_OP_BINARY, NULL, 0) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1);
    CHECK(got(&g_srv, ++n, WS_OP_BINARY, NULL, 0));
    CHECK(send_msg(&g_cli, WS_OP_TEXT, "", 0) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1);
    CHECK(got(&g_srv, ++n, WS_OP_TEXT, "", 0));

    /* A frame that can never fit the client's send buffer (payload + 8
     * bytes of header and mask key > tx_cap) is refused whole, at once. */
    CHECK(ws_send_binary(&g_cli.conn, g_big, sizeof g_cli_tx - 7) == WS_E_TOO_BIG);
    CHECK(ws_buffered_amount(&g_cli.conn) == 0 || ws_buffered_amount(&g_cli.conn) < sizeof g_cli_tx);

    /* Invalid UTF-8 is refused before anything is sent. */
    CHECK(ws_send(&g_cli.conn, WS_OP_TEXT, "\xc3\x28", 2) == WS_E_UTF8);

    /* The largest whole message the server's fixed rx takes. */
    fill_pattern(g_big, SERVER_MAX_MESSAGE, 1u);
    CHECK(send_msg(&g_cli, WS_OP_BINARY, g_big, SERVER_MAX_MESSAGE) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1);
    CHECK(got(&g_srv, ++n, WS_OP_BINARY, g_big, SERVER_MAX_MESSAGE));

    /* A fragmented text message with a ping between the fragments; a code
     * point is split across the frames. */
    g_srv.pings = g_cli.pongs = 0;
    CHECK(send_frame(&g_cli, WS_OP_TEXT, "frag-\xe2\x9c", 7, 0) == 0);
    CHECK(send_ping(&g_cli, ping_c, sizeof ping_c - 1) == 0);
    CHECK(send_frame(&g_cli, WS_OP_CONTINUATION, "\x93 ment", 6, 0) == 0);
    CHECK(send_frame(&g_cli, WS_OP_CONTINUATION, "ed", 2, 1) == 0);
    WAIT_UNTIL(g_srv.msg_count == n + 1 && g_cli.pongs == 1);
    CHECK(got(&g_srv, ++n, WS_OP_TEXT, "frag-\xe2\x9c\x93 mented", 15));
    CHECK(g_srv.pings == 1);
    CHECK(g_cli.ctl_len == sizeof ping_c - 1 && memcmp(g_cli.ctl, ping_c, g_cli.ctl_len) == 0);

    /* ---- server -> client: streamed into the client's 256-byte rx ---- */
    n = 0;
    CHECK(send_msg(&g_srv, WS_OP_TEXT, reply, sizeof reply - 1) == 0);
    WAIT_UNTIL(g_cli.msg_count == n + 1);
    CHECK(got(&g_cli, ++n, WS_OP_TEXT, reply, sizeof reply - 1));

    CHECK(send_msg(&g_srv, WS_OP_TEXT, utf8, sizeof utf8 - 1) == 0);
    WAIT_UNTIL(g_cli.msg_count == n + 1);
    CHECK(got(&g_cli, ++n, WS_OP_TEXT, utf8, sizeof utf8 - 1));

    /* Larger than the client's whole receive buffer: only streaming works. */
    fill_pattern(g_big, 500, 2u);
    CHECK(send_msg(&g_srv, WS_OP_BINARY, g_big, 500) == 0);
    WAIT_UNTIL(g_cli.msg_count == n + 1);
    CHECK(got(&g_cli, ++n, WS_OP_BINARY, g_big, 500));

    /* 1300 bytes in four frames (400 + 400 + 400 + 100), a ping between. */
    fill_pattern(g_big, 1300, 3u);
    g_cli.pings = g_srv.pongs = 0;
    for (off = 0; off < 1300; off += 400) {
        size_t len = 1300 - off < 400 ? 1300 - off : 400;
        CHECK(send_frame(&g_srv, off ? WS_OP_CONTINUATION : WS_OP_BINARY, g_big + off, len,
                         off + len == 1300) == 0);
        if (off == 400) CHECK(send_ping(&g_srv, ping_s, sizeof ping_s - 1) == 0);
    }
    WAIT_UNTIL(g_cli.msg_count == n + 1 && g_srv.pongs == 1);
    CHECK(got(&g_cli, ++n, WS_OP_BINARY, g_big, 1300));
    CHECK(g_cli.pings == 1);
    CHECK(g_srv.ctl_len == sizeof ping_s - 1 && memcmp(g_srv.ctl, ping_s, g_srv.ctl_len) == 0);
    CHECK(g_cli.fragment_flag_errors == 0 && g_cli.pieces >= n);

    /* An empty ping; its pong comes back empty. */
    CHECK(send_ping(&g_srv, NULL, 0) == 0);
    WAIT_UNTIL(g_srv.pongs == 2);
    CHECK(g_srv.ctl_len == 0);

    /* Nothing is left queued once the pipe drained. */
    WAIT_UNTIL(ws_buffered_amount(&g_cli.conn) == 0 && ws_buffered_amount(&g_srv.conn) == 0);
    CHECK(g_srv.errors == 0 && g_cli.errors == 0);
    CHECK(g_srv.fragment_flag_errors == 0);

    /* ---- the client closes ---- */
    CHECK(ws_close(&g_cli.conn, 1000, "bye from client") == 0);
    CHECK(ws_state(&g_cli.conn) == WS_CLOSING);
    CHECK(ws_send_text(&g_cli.conn, "too late") == WS_E_STATE);
    WAIT_UNTIL(g_cli.hung_up && g_srv.hung_up);
    CHECK(ws_state(&g_cli.conn) == WS_CLOSED && ws_state(&g_srv.conn) == WS_CLOSED);
    CHECK(g_srv.closes == 1 && g_srv.close_code == 1000);
    CHECK(strcmp(g_srv.close_reason, "bye from client") == 0);
    CHECK(g_cli.closes == 1 && g_cli.close_code == 1000);
    CHECK(ws_pump(&g_cli.conn) == WS_E_CLOSED && ws_pump(&g_srv.conn) == WS_E_CLOSED);
    CHECK(g_srv.errors == 0 && g_cli.errors == 0);
}

/* ---------------------------------------------------------------------------
 * Session 2: the server closes (going away); the client answers and waits
 * for the server to drop the transport, as RFC 6455 section 7.1.1 asks.
 * ------------------------------------------------------------------------- */
static void session_server_closes(void) {
    if (!connect_pair()) return;
    CHECK(send_msg(&g_cli, WS_OP_TEXT, "last words", 10) == 0);
    CHECK(ws_close(&g_srv.conn, 1001, "going away") == 0);
    WAIT_UNTIL(g_cli.hung_up && g_srv.hung_up);
    CHECK(g_cli.closes == 1 && g_cli.close_code == 1001);
    CHECK(strcmp(g_cli.close_reason, "going away") == 0);
    CHECK(g_srv.closes == 1 && g_srv.close_code == 1001);
    CHECK(g_srv.errors == 0 && g_cli.errors == 0);
}

/* ---------------------------------------------------------------------------
 * Session 3: one byte more than the server's rx allows is refused with 1009
 * (whole-message mode's limit is rx_cap - WS_RX_RESERVE).
 * ------------------------------------------------------------------------- */
static void session_too_big(void) {
    if (!connect_pair()) return;
    fill_pattern(g_tmp, SERVER_MAX_MESSAGE + 1, 4u);
    CHECK(send_msg(&g_cli, WS_OP_BINARY, g_tmp, SERVER_MAX_MESSAGE + 1) == 0);
    WAIT_UNTIL(g_cli.hung_up && g_srv.hung_up);
    CHECK(g_srv.msg_count == 0);
    CHECK(g_srv.errors == 1 && g_srv.last_error == WS_E_TOO_BIG);
    CHECK(g_srv.closes == 1 && g_srv.close_code == WS_CLOSE_TOO_BIG);
    /* The client reads the server's close (1009) - unless it was still
     * pushing the rest of its message when the server dropped the
     * transport: then its send fails first, as a TCP reset would, and it
     * closes with 1006 and a transport error. Either way exactly once. */
    CHECK(g_cli.closes == 1);
    CHECK(g_cli.close_code == WS_CLOSE_TOO_BIG ||
          (g_cli.close_code == WS_CLOSE_ABNORMAL && g_cli.last_error == WS_E_IO));
}

int main(void) {
    /* Pipe capacities from a byte at a time (every call would-blocks at
     * once) to roomier than the largest frame. */
    static const run_params runs[] = {
        {1, 1, 0, 11u}, {5, 3, 1, 22u}, {64, 17, 0, 33u}, {200, 64, 1, 44u}, {PIPE_MAX, PIPE_MAX, 1, 55u},
    };
    size_t i;
    printf("embedded self-test: sizeof(ws_conn) = %u bytes, buffers %u + %u (server), %u + %u (client)\n",
           (unsigned)sizeof(ws_conn), (unsigned)sizeof g_srv_rx, (unsigned)sizeof g_srv_tx,
           (unsigned)sizeof g_cli_rx, (unsigned)sizeof g_cli_tx);
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        unsigned before = g_failed;
        g_run = runs[i];
        session_exchange();
        session_server_closes();
        session_too_big();
        printf("pipe %4u bytes, chunks <= %4u, %s: %s\n", (unsigned)g_run.pipe_cap, (unsigned)g_run.max_chunk,
               g_run.server_sendv ? "sendv" : "send ", g_failed == before ? "ok" : "FAILED");
        if (g_failed != before) {
            printf("  server: state %d, reason \"%s\", error \"%s\"\n", (int)ws_state(&g_srv.conn),
                   ws_reason(&g_srv.conn), g_srv.error_reason);
            printf("  client: state %d, reason \"%s\", error \"%s\"\n", (int)ws_state(&g_cli.conn),
                   ws_reason(&g_cli.conn), g_cli.error_reason);
        }
    }
    printf("%u passed, %u failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
