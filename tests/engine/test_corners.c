/* Engine corners (tests/engine/test_corners.c): paths the table-driven
 * engine tests do not reach.
 *  - the owed close reply: the peer's close arrives while a fixed send queue
 *    is full; once the transport takes bytes again the reply goes out with
 *    the peer's code;
 *  - the allocator failing with half a frame already on the wire (server)
 *    or before anything was written (client);
 *  - the handshake builders: every too-small cap, header injection, limits;
 *  - ws_http_reason and ws_strerror for every value they know, and others.
 * In memory, no sockets. Prints "N passed, N failed"; exits non-zero on a
 * failure. */
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test.h"

/* ---- an in-memory transport ---- */
static unsigned char out[1 << 16];
static size_t out_len;
static long send_room = -1; /* bytes send may still take; -1: all; 0: would-block */
static int send_calls;

static const char *in_data; /* what recv hands out, then would-block */
static size_t in_len;
static ptrdiff_t t_recv(void *u, void *b, size_t n) {
    (void)u;
    if (!in_len) return WS_E_AGAIN;
    if (n > in_len) n = in_len;
    memcpy(b, in_data, n);
    in_data += n, in_len -= n;
    return (ptrdiff_t)n;
}
static ptrdiff_t t_send(void *u, const void *b, size_t n) {
    (void)u;
    send_calls++;
    if (send_room == 0) return WS_E_AGAIN;
    if (send_room > 0 && n > (size_t)send_room) n = (size_t)send_room;
    if (n > sizeof out - out_len) n = sizeof out - out_len;
    memcpy(out + out_len, b, n);
    out_len += n;
    if (send_room > 0) send_room -= (long)n;
    return (ptrdiff_t)n;
}
static int t_random(void *u, void *b, size_t n) {
    (void)u;
    memset(b, 0x5a, n);
    return 0;
}
static uint64_t now_ms;
static uint64_t t_now(void *u) {
    (void)u;
    return now_ms;
}
static const ws_io tio = {t_recv, t_send, NULL, t_random, t_now};

/* ---- events ---- */
static int closes, close_code, errors, last_err;
static char close_reason[128];
static void on_close(ws_conn *c, int code, const char *why) {
    (void)c;
    closes++, close_code = code;
    snprintf(close_reason, sizeof close_reason, "%s", why);
}
static void on_error(ws_conn *c, int err, const char *why) {
    (void)c, (void)why;
    errors++, last_err = err;
}

static void reset_io(void) {
    out_len = 0, send_room = -1, send_calls = 0;
    in_data = NULL, in_len = 0;
    closes = close_code = errors = last_err = 0;
    close_reason[0] = '\0';
}

/* A masked client close frame: code (0: no payload). */
static size_t close_frame(unsigned char *f, unsigned code) {
    static const unsigned char key[4] = {1, 2, 3, 4};
    unsigned char pl[2];
    size_t n = code ? 2 : 0, hl;
    pl[0] = (unsigned char)(code >> 8), pl[1] = (unsigned char)code;
    hl = ws_frame_write(f, 1, 0, WS_OP_CLOSE, n, key);
    ws_mask_copy(f + hl, pl, n, key, 0);
    return hl + n;
}

/* ---- the owed close reply ---- */
static void test_owed_close(unsigned code) {
    static unsigned char rx[1024], tx[WS_MIN_BUFFER], payload[WS_MIN_BUFFER];
    unsigned char f[16];
    size_t fl, i, plen = WS_MIN_BUFFER - 4; /* 4-byte header: fills the queue exactly */
    ws_conn c;
    ws_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_close = on_close, cfg.on_error = on_error;
    reset_io();
    test_ctx = code ? "owed close with a code" : "owed close without a code";
    for (i = 0; i < plen; i++) payload[i] = (unsigned char)i;
    ws_conn_init(&c, &cfg, &tio, NULL);
    CHECK_INT(ws_conn_set_buffers(&c, rx, sizeof rx, tx, sizeof tx), 0);
    CHECK_INT(ws_start_open(&c, 1), 0);
    send_room = 0; /* the transport takes nothing */
    CHECK_INT(ws_send_binary(&c, payload, plen), 0);
    CHECK_INT(ws_buffered_amount(&c), WS_MIN_BUFFER);
    CHECK_INT(ws_send_binary(&c, payload, 1), WS_E_FULL);
    fl = close_frame(f, code);
    CHECK_INT(ws_feed(&c, f, fl), 0);
    CHECK_INT(ws_state(&c), WS_CLOSING);
    CHECK_INT(out_len, 0);
    CHECK_INT(closes, 0);
    CHECK(ws_wants_write(&c));
    /* the transport takes 100 bytes: the queue is not empty yet, no reply */
    send_room = 100;
    CHECK_INT(ws_flush(&c), WS_E_AGAIN);
    CHECK_INT(out_len, 100);
    CHECK_INT(closes, 0);
    /* and now everything */
    send_room = -1;
    CHECK_INT(ws_pump(&c), WS_E_CLOSED);
    CHECK_INT(out_len, WS_MIN_BUFFER + (code ? 4u : 2u));
    CHECK(out[0] == 0x82 && out[1] == 126 && out[2] == (plen >> 8) && out[3] == (plen & 255));
    CHECK(memcmp(out + 4, payload, plen) == 0);
    CHECK_INT(out[WS_MIN_BUFFER], 0x88);
    if (code) {
        CHECK_INT(out[WS_MIN_BUFFER + 1], 2);
        CHECK_INT(out[WS_MIN_BUFFER + 2] << 8 | out[WS_MIN_BUFFER + 3], code);
    } else {
        CHECK_INT(out[WS_MIN_BUFFER + 1], 0);
    }
    CHECK_INT(closes, 1);
    CHECK_INT(close_code, code ? code : WS_CLOSE_NO_STATUS);
    CHECK_INT(errors, 0);
    CHECK_INT(ws_state(&c), WS_CLOSED);
    CHECK_INT(ws_flush(&c), WS_E_CLOSED);
    ws_conn_release(&c);
}

/* ---- allocation failures ---- */
static int allocs_left; /* growing calls that still succeed; -1: all */
static int live_blocks;
static void *t_realloc(void *u, void *p, size_t n) {
    (void)u;
    if (!n) {
        if (p) live_blocks--;
        free(p);
        return NULL;
    }
    if (allocs_left == 0) return NULL;
    if (allocs_left > 0) allocs_left--;
    if (!p) live_blocks++;
    return realloc(p, n);
}

/* A server whose transport takes part of a frame, then the allocator fails
 * to queue the rest: the stream cannot be continued. */
static void test_nomem_half_frame(void) {
    static unsigned char payload[600];
    ws_conn c;
    ws_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_close = on_close, cfg.on_error = on_error, cfg.realloc_fn = t_realloc;
    reset_io();
    test_ctx = "server: half a frame written, allocator fails";
    memset(payload, 'p', sizeof payload);
    live_blocks = 0;
    allocs_left = -1;
    ws_conn_init(&c, &cfg, &tio, NULL);
    CHECK_INT(ws_start_open(&c, 1), 0);
    allocs_left = 0;
    send_room = 10; /* header (4) and 6 payload bytes go out */
    CHECK_INT(ws_send_binary(&c, payload, sizeof payload), WS_E_CLOSED);
    CHECK_INT(out_len, 10);
    CHECK_INT(errors, 1);
    CHECK_INT(last_err, WS_E_NOMEM);
    CHECK_INT(closes, 1);
    CHECK_INT(close_code, WS_CLOSE_ABNORMAL);
    CHECK_INT(ws_state(&c), WS_CLOSED);
    CHECK_INT(ws_send_binary(&c, payload, 1), WS_E_STATE);
    ws_conn_release(&c);
    CHECK_INT(live_blocks, 0);

    /* the same with the whole frame taken: no allocation needed, all well */
    reset_io();
    test_ctx = "server: frame taken whole, allocator failing";
    ws_conn_init(&c, &cfg, &tio, NULL);
    allocs_left = -1;
    CHECK_INT(ws_start_open(&c, 1), 0);
    allocs_left = 0;
    CHECK_INT(ws_send_binary(&c, payload, sizeof payload), 0);
    CHECK_INT(out_len, sizeof payload + 4);
    CHECK_INT(errors, 0);
    CHECK_INT(ws_state(&c), WS_OPEN);
    /* nothing taken at all: the caller hears WS_E_NOMEM, the connection lives */
    send_room = 0;
    CHECK_INT(ws_send_binary(&c, payload, sizeof payload), WS_E_NOMEM);
    CHECK_INT(ws_state(&c), WS_OPEN);
    CHECK_INT(errors, 0);
    /* the allocator recovers */
    allocs_left = -1;
    CHECK_INT(ws_send_binary(&c, payload, sizeof payload), 0);
    CHECK_INT(ws_buffered_amount(&c), sizeof payload + 4);
    send_room = -1;
    CHECK_INT(ws_flush(&c), 0);
    CHECK_INT(out_len, 2 * (sizeof payload + 4));
    CHECK_INT(ws_buffered_amount(&c), 0);
    ws_conn_release(&c);
    CHECK_INT(live_blocks, 0);

    /* a client masks into its queue first: nothing is written, WS_E_NOMEM */
    reset_io();
    test_ctx = "client: allocator fails before anything is written";
    ws_conn_init(&c, &cfg, &tio, NULL);
    allocs_left = -1;
    CHECK_INT(ws_start_open(&c, 0), 0);
    allocs_left = 0;
    CHECK_INT(ws_send_binary(&c, payload, sizeof payload), WS_E_NOMEM);
    CHECK_INT(out_len, 0);
    CHECK_INT(ws_state(&c), WS_OPEN);
    allocs_left = -1;
    CHECK_INT(ws_send_binary(&c, payload, 5), 0);
    CHECK_INT(out_len, 2 + 4 + 5);
    CHECK_INT(out[0], 0x82);
    CHECK_INT(out[1], 0x80 | 5);
    ws_conn_release(&c);
    CHECK_INT(live_blocks, 0);
}

/* ---- handshake builders ---- */
static const char *KEY = "dGhlIHNhbXBsZSBub25jZQ==";

static void test_request_build(void) {
    char buf[1024], small[1024];
    ws_client_options o;
    int n, cap;
    test_ctx = "ws_request_build";
    memset(&o, 0, sizeof o);
    o.host = "example.com", o.path = "chat?x=1", o.origin = "http://example.com";
    o.subprotocols = "a, b", o.extra_headers = "X-A: 1\r\nX-B: 2\r\n", o.port = 8080;
    n = ws_request_build(buf, sizeof buf, &o, KEY);
    CHECK(n > 0);
    CHECK_INT((size_t)n, strlen(buf));
    CHECK(strncmp(buf, "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n", 48) == 0);
    CHECK(strstr(buf, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n") != NULL);
    CHECK(strstr(buf, "\r\nOrigin: http://example.com\r\n") != NULL);
    CHECK(strstr(buf, "\r\nSec-WebSocket-Protocol: a, b\r\n") != NULL);
    CHECK(strstr(buf, "\r\nX-A: 1\r\nX-B: 2\r\n\r\n") != NULL);
    /* every cap too small by at least one byte (the NUL) */
    for (cap = 1; cap <= n; cap++) {
        int r = ws_request_build(small, (size_t)cap, &o, KEY);
        if (r != WS_E_NOMEM) printf("    cap %d -> %d\n", cap, r);
        CHECK_INT(r, WS_E_NOMEM);
        CHECK(memchr(small, '\0', (size_t)cap) != NULL); /* still a string */
    }
    CHECK_INT(ws_request_build(small, (size_t)n + 1, &o, KEY), n);
    CHECK_INT(ws_request_build(small, 0, &o, KEY), WS_E_INVALID);

    /* IPv6 literal gets brackets; default ports are left out */
    memset(&o, 0, sizeof o);
    o.host = "::1", o.port = 443, o.secure = 1;
    n = ws_request_build(buf, sizeof buf, &o, KEY);
    CHECK(n > 0 && strstr(buf, "GET / HTTP/1.1\r\nHost: [::1]\r\n") == buf);
    o.port = 80;
    CHECK(ws_request_build(buf, sizeof buf, &o, KEY) > 0 && strstr(buf, "Host: [::1]:80\r\n") != NULL);
    o.host = "[::1]", o.port = 0;
    CHECK(ws_request_build(buf, sizeof buf, &o, KEY) > 0 && strstr(buf, "Host: [::1]\r\n") != NULL);

    /* rejected arguments */
    memset(&o, 0, sizeof o);
    o.host = "";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.host = NULL;
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.host = "h\r\nX: y";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.host = "h";
    o.path = "/a\nb";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.path = NULL, o.origin = "o\r";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.origin = NULL, o.subprotocols = "a\r\nb";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.subprotocols = NULL, o.extra_headers = "X: 1";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.extra_headers = "X: 1\r\n\r\nGET / HTTP/1.1\r\n";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.extra_headers = "\r\nX: 1\r\n";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.extra_headers = "\n";
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.extra_headers = "", o.port = 65536;
    CHECK_INT(ws_request_build(buf, sizeof buf, &o, KEY), WS_E_INVALID);
    o.port = 65535;
    CHECK(ws_request_build(buf, sizeof buf, &o, KEY) > 0 && strstr(buf, "Host: h:65535\r\n") != NULL);
}

static void test_response_build(void) {
    char buf[512], small[512];
    int n, cap;
    test_ctx = "ws_response_build";
    n = ws_response_build(buf, sizeof buf, KEY, "chat", "X-A: 1\r\n");
    CHECK(n > 0);
    CHECK_INT((size_t)n, strlen(buf));
    CHECK(strcmp(buf, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                      "Sec-WebSocket-Protocol: chat\r\nX-A: 1\r\n\r\n") == 0);
    for (cap = 1; cap <= n; cap++) {
        int r = ws_response_build(small, (size_t)cap, KEY, "chat", "X-A: 1\r\n");
        if (r != WS_E_NOMEM) printf("    cap %d -> %d\n", cap, r);
        CHECK_INT(r, WS_E_NOMEM);
    }
    CHECK_INT(ws_response_build(small, (size_t)n + 1, KEY, "chat", "X-A: 1\r\n"), n);
    CHECK(ws_response_build(buf, sizeof buf, KEY, "", NULL) > 0 && strstr(buf, "Sec-WebSocket-Protocol") == NULL);
    CHECK_INT(ws_response_build(buf, 0, KEY, NULL, NULL), WS_E_INVALID);
    CHECK_INT(ws_response_build(buf, sizeof buf, KEY, "a\r\nX: 1", NULL), WS_E_INVALID);
    CHECK_INT(ws_response_build(buf, sizeof buf, KEY, NULL, "X: 1"), WS_E_INVALID);
    CHECK_INT(ws_response_build(buf, sizeof buf, KEY, NULL, "X: 1\r\n\r\nY: 2\r\n"), WS_E_INVALID);

    test_ctx = "ws_error_response_build";
    n = ws_error_response_build(buf, sizeof buf, 426, "X-A: 1\r\n");
    CHECK(n > 0);
    CHECK(strcmp(buf, "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                      "Connection: close\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n") == 0);
    for (cap = 1; cap <= n; cap++) CHECK_INT(ws_error_response_build(small, (size_t)cap, 426, "X-A: 1\r\n"), WS_E_NOMEM);
    CHECK_INT(ws_error_response_build(small, (size_t)n + 1, 426, "X-A: 1\r\n"), n);
    n = ws_error_response_build(buf, sizeof buf, 405, NULL);
    CHECK(n > 0 && strcmp(buf, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"
                               "Connection: close\r\nContent-Length: 0\r\n\r\n") == 0);
    n = ws_error_response_build(buf, sizeof buf, 999, NULL);
    CHECK(n > 0 && strncmp(buf, "HTTP/1.1 999 Error\r\n", 20) == 0);
    CHECK(ws_error_response_build(buf, sizeof buf, 100, NULL) > 0);
    CHECK_INT(ws_error_response_build(buf, sizeof buf, 99, NULL), WS_E_INVALID);
    CHECK_INT(ws_error_response_build(buf, sizeof buf, 1000, NULL), WS_E_INVALID);
    CHECK_INT(ws_error_response_build(buf, 0, 400, NULL), WS_E_INVALID);
    CHECK_INT(ws_error_response_build(buf, sizeof buf, 400, "X: 1\n"), WS_E_INVALID);
}

static void test_reasons(void) {
    static const struct {
        int status;
        const char *text;
    } t[] = {
        {101, "Switching Protocols"},
        {200, "OK"},
        {400, "Bad Request"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {426, "Upgrade Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
        {0, "Error"},
        {302, "Error"},
        {599, "Error"},
        {-1, "Error"},
    };
    size_t i;
    test_ctx = "ws_http_reason";
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *r = ws_http_reason(t[i].status);
        if (strcmp(r, t[i].text) != 0) printf("    %d -> [%s]\n", t[i].status, r);
        CHECK(strcmp(r, t[i].text) == 0);
    }
}

static void test_strerror(void) {
    static const struct {
        int code;
        const char *text;
    } t[] = {
#define ROW(name, value, text) {name, text},
        WS_ERRORS(ROW)
#undef ROW
    };
    size_t i, j;
    test_ctx = "ws_strerror";
    CHECK_INT(sizeof t / sizeof t[0], -WS_E_LAST_); /* WS_OK and every WS_E_* */
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *s = ws_strerror(t[i].code);
        CHECK_INT(t[i].code, -(int)i);
        CHECK(s != NULL && strcmp(s, t[i].text) == 0 && strcmp(s, "unknown error") != 0 && *s);
        for (j = 0; j < i; j++) CHECK(strcmp(s, ws_strerror(t[j].code)) != 0);
    }
    CHECK(strcmp(ws_strerror(WS_E_AGAIN), "operation would block") == 0);
    CHECK(strcmp(ws_strerror(WS_E_TLS), "TLS error") == 0);
    CHECK(strcmp(ws_strerror(WS_OK), "success") == 0);
    CHECK(strcmp(ws_strerror(1), "unknown error") == 0);
    CHECK(strcmp(ws_strerror(WS_E_LAST_), "unknown error") == 0);
    CHECK(strcmp(ws_strerror(-1000), "unknown error") == 0);
}

/* A header block larger than a fixed receive buffer (the default
 * max_header is larger): the server answers 431 and drops; the client
 * fails the handshake. */
static void test_header_overflows_rx(void) {
    static unsigned char rx[WS_MIN_BUFFER], tx[1024];
    static char req[2048];
    ws_conn c;
    ws_config cfg;
    size_t n;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_close = on_close, cfg.on_error = on_error;
    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\n");
    while (n < 1500) n += (size_t)snprintf(req + n, sizeof req - n, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n");

    test_ctx = "server: request head overflows a fixed receive buffer";
    reset_io();
    in_data = req, in_len = n;
    ws_conn_init(&c, &cfg, &tio, NULL);
    CHECK_INT(ws_conn_set_buffers(&c, rx, sizeof rx, tx, sizeof tx), 0);
    CHECK_INT(ws_server_start(&c), 0);
    CHECK_INT(ws_pump(&c), WS_E_CLOSED);
    CHECK_INT(errors, 1);
    CHECK_INT(last_err, WS_E_HANDSHAKE);
    CHECK_INT(closes, 1);
    CHECK_INT(close_code, WS_CLOSE_ABNORMAL);
    CHECK(out_len > 12 && memcmp(out, "HTTP/1.1 431", 12) == 0);
    ws_conn_release(&c);

    test_ctx = "client: response head overflows a fixed receive buffer";
    reset_io();
    {
        ws_client_options o;
        memset(&o, 0, sizeof o);
        o.host = "h";
        memcpy(req, "HTTP/1.1 101 Switching Protocols\r\n", 34);
        in_data = req, in_len = n;
        ws_conn_init(&c, &cfg, &tio, NULL);
        CHECK_INT(ws_conn_set_buffers(&c, rx, sizeof rx, tx, sizeof tx), 0);
        CHECK_INT(ws_client_start(&c, &o), 0);
        CHECK_INT(ws_pump(&c), WS_E_CLOSED);
        CHECK_INT(errors, 1);
        CHECK_INT(last_err, WS_E_HANDSHAKE);
        CHECK_INT(closes, 1);
        CHECK_INT(close_code, WS_CLOSE_ABNORMAL);
        CHECK(out_len > 4 && memcmp(out, "GET ", 4) == 0);
        ws_conn_release(&c);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_owed_close(1001);
    test_owed_close(4000);
    test_owed_close(0);
    test_nomem_half_frame();
    test_header_overflows_rx();
    test_request_build();
    test_response_build();
    test_reasons();
    test_strerror();
    return test_report();
}
