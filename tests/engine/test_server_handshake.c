/* The server's opening handshake (RFC 6455 section 4.2): requests that must
 * be accepted or answered with a given HTTP status, the on_request hook,
 * bytes that arrive right behind the request, one write for the response,
 * and the handshake timeout. */
#include "harness.h"

#define RL "GET /chat HTTP/1.1\r\n"
#define HOST "Host: server.example.com\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define KEYH "Sec-WebSocket-Key: " H_KEY "\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"
#define GOOD HOST UPG CONN KEYH VER
#define END "\r\n"

enum { SC_DEFAULT, SC_MAXHDR512, SC_FIXED1K, SC_HOOK, SC_REJECT, SC_BADSUB, SC_HOOK_BIGEXTRA };

typedef struct srow {
    const char *name;
    const char *req; /* "{NUL}" stands for a zero byte */
    int cfg;
    size_t pad_to;     /* pad the head to exactly this many bytes */
    unsigned nheaders; /* add header lines up to this many */
    int status;
    int alt_status;    /* also acceptable (0: none) */
    const char *must;  /* a line the response must hold (NULL: none) */
    const char *sub;   /* the subprotocol on_open must see ("" none) */
} srow;

static const srow rows[] = {
    {"minimal", RL GOOD END, SC_DEFAULT, 0, 0, 101, 0, "Sec-WebSocket-Accept: " H_ACCEPT, ""},
    {"browser-like", "GET /chat?room=1&x=%20 HTTP/1.1\r\nHost: server.example.com:8080\r\nUser-Agent: test\r\n"
     "Accept: */*\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n"
     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
     "Sec-WebSocket-Key: " H_KEY "\r\nConnection: keep-alive, Upgrade\r\nPragma: no-cache\r\n"
     "Cache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n",
     SC_DEFAULT, 0, 0, 101, 0, "Sec-WebSocket-Accept: " H_ACCEPT, ""},
    {"other key", RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n" VER END, SC_DEFAULT, 0, 0,
     101, 0, "Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=", ""},
    {"lower-case header names", RL "host: a\r\nupgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: "
     H_KEY "\r\nsec-websocket-version: 13\r\n\r\n", SC_DEFAULT, 0, 0, 101, 0, NULL, ""},
    {"spaces around values", RL "Host:a\r\nUpgrade:   websocket  \r\nConnection:\tUpgrade\t\r\n"
     "Sec-WebSocket-Key:   " H_KEY "   \r\nSec-WebSocket-Version:13\r\n\r\n", SC_DEFAULT, 0, 0, 101, 0, NULL, ""},

    /* method and version */
    {"HTTP/1.0", "GET /chat HTTP/1.0\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"HTTP/0.9", "GET /chat HTTP/0.9\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"HTTP/1.2", "GET /chat HTTP/1.2\r\n" GOOD END, SC_DEFAULT, 0, 0, 101, 0, NULL, ""},
    {"POST", "POST /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 405, 0, "Allow: GET", NULL},
    {"PUT", "PUT /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 405, 0, NULL, NULL},
    {"HEAD", "HEAD /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 405, 0, NULL, NULL},
    {"lower-case get", "get /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 405, 400, NULL, NULL},
    {"two spaces in the request line", "GET  /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"a control byte before the method", "\x01GET /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"no method", " /chat HTTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"no version", "GET /chat\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"junk after the version", "GET /chat HTTP/1.1 x\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"bare LF after the request line", "GET /chat HTTP/1.1\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"not HTTP", "GET /chat FTP/1.1\r\n" GOOD END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},

    /* Host */
    {"no Host", RL UPG CONN KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"two Host lines", RL GOOD "Host: other.example.com\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},

    /* Upgrade */
    {"no Upgrade", RL HOST CONN KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"Upgrade: h2c", RL HOST "Upgrade: h2c\r\n" CONN KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"Upgrade: WebSocket", RL HOST "Upgrade: WebSocket\r\n" CONN KEYH VER END, SC_DEFAULT, 0, 0, 101, 0, NULL, ""},
    {"Upgrade: WEBSOCKET", RL HOST "Upgrade: WEBSOCKET\r\n" CONN KEYH VER END, SC_DEFAULT, 0, 0, 101, 0, NULL, ""},
    {"Upgrade list", RL HOST "Upgrade: h2c, websocket\r\n" CONN KEYH VER END, SC_DEFAULT, 0, 0, 101, 0, NULL, ""},
    {"Upgrade: websocketx", RL HOST "Upgrade: websocketx\r\n" CONN KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL,
     NULL},

    /* Connection */
    {"no Connection", RL HOST UPG KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"Connection: keep-alive", RL HOST UPG "Connection: keep-alive\r\n" KEYH VER END, SC_DEFAULT, 0, 0, 400, 0,
     NULL, NULL},
    {"Connection: keep-alive, Upgrade (Firefox)", RL HOST UPG "Connection: keep-alive, Upgrade\r\n" KEYH VER END,
     SC_DEFAULT, 0, 0, 101, 0, NULL, ""},
    {"Connection: Upgrade, keep-alive", RL HOST UPG "Connection: Upgrade, keep-alive\r\n" KEYH VER END, SC_DEFAULT,
     0, 0, 101, 0, NULL, ""},
    {"Connection: keep-alive,upgrade", RL HOST UPG "Connection: keep-alive,upgrade\r\n" KEYH VER END, SC_DEFAULT,
     0, 0, 101, 0, NULL, ""},
    {"Connection: UPGRADE", RL HOST UPG "Connection: UPGRADE\r\n" KEYH VER END, SC_DEFAULT, 0, 0, 101, 0, NULL,
     ""},
    {"Connection: upgrade2", RL HOST UPG "Connection: upgrade2\r\n" KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL,
     NULL},
    {"Connection in two lines", RL HOST UPG "Connection: keep-alive\r\nConnection: Upgrade\r\n" KEYH VER END,
     SC_DEFAULT, 0, 0, 101, 0, NULL, ""},

    /* Sec-WebSocket-Version */
    {"version 8", RL HOST UPG CONN KEYH "Sec-WebSocket-Version: 8\r\n" END, SC_DEFAULT, 0, 0, 426, 0,
     "Sec-WebSocket-Version: 13", NULL},
    {"version 14", RL HOST UPG CONN KEYH "Sec-WebSocket-Version: 14\r\n" END, SC_DEFAULT, 0, 0, 426, 0,
     "Sec-WebSocket-Version: 13", NULL},
    {"version 130", RL HOST UPG CONN KEYH "Sec-WebSocket-Version: 130\r\n" END, SC_DEFAULT, 0, 0, 426, 0,
     "Sec-WebSocket-Version: 13", NULL},
    {"no version", RL HOST UPG CONN KEYH END, SC_DEFAULT, 0, 0, 426, 400, NULL, NULL},

    /* Sec-WebSocket-Key */
    {"no key", RL HOST UPG CONN VER END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"key of 15 bytes", RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n" VER END, SC_DEFAULT, 0, 0,
     400, 0, NULL, NULL},
    {"key of 17 bytes", RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=\r\n" VER END, SC_DEFAULT, 0,
     0, 400, 0, NULL, NULL},
    {"key of 18 bytes", RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA\r\n" VER END, SC_DEFAULT, 0,
     0, 400, 0, NULL, NULL},
    {"key without padding", RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA\r\n" VER END, SC_DEFAULT,
     0, 0, 400, 0, NULL, NULL},
    {"key with a bad character", RL HOST UPG CONN "Sec-WebSocket-Key: AAAAAAAAAA*AAAAAAAAAAA==\r\n" VER END,
     SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"empty key", RL HOST UPG CONN "Sec-WebSocket-Key: \r\n" VER END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"two keys", RL GOOD "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL,
     NULL},

    /* header syntax */
    {"obs-fold with a space", RL GOOD "X-A: 1\r\n continued\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"obs-fold with a tab", RL GOOD "X-A: 1\r\n\tcontinued\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"space in a header name", RL GOOD "Bad Name: x\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"space before the colon", RL GOOD "X-A : x\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"no colon", RL GOOD "NoColon\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"empty header name", RL GOOD ": x\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"control character in a value", RL GOOD "X-A: a\x01z\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"DEL in a value", RL GOOD "X-A: a\x7fz\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"NUL in a value", RL GOOD "X-A: a{NUL}z\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"NUL in a name", RL GOOD "X-{NUL}A: z\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"bare LF between headers", RL HOST "X-A: b\nX-B: c\r\n" UPG CONN KEYH VER END, SC_DEFAULT, 0, 0, 400, 0, NULL,
     NULL},
    {"bare CR in a value", RL GOOD "X-A: b\rc\r\n" END, SC_DEFAULT, 0, 0, 400, 0, NULL, NULL},
    {"UTF-8 in a value is fine", RL GOOD "X-A: \xc3\xa9t\xc3\xa9\r\n" END, SC_DEFAULT, 0, 0, 101, 0, NULL, ""},

    /* size limits */
    {"head of exactly 8192 bytes", RL GOOD END, SC_DEFAULT, 8192, 0, 101, 0, NULL, ""},
    {"head of 8193 bytes", RL GOOD END, SC_DEFAULT, 8193, 0, 431, 0, NULL, NULL},
    {"head of 20000 bytes", RL GOOD END, SC_DEFAULT, 20000, 0, 431, 0, NULL, NULL},
    {"max_header 512: 512 bytes", RL GOOD END, SC_MAXHDR512, 512, 0, 101, 0, NULL, ""},
    {"max_header 512: 513 bytes", RL GOOD END, SC_MAXHDR512, 513, 0, 431, 0, NULL, NULL},
    {"max_header 512: 3000 bytes", RL GOOD END, SC_MAXHDR512, 3000, 0, 431, 0, NULL, NULL},
    {"1 KiB fixed buffer: 1024 bytes", RL GOOD END, SC_FIXED1K, 1024, 0, 101, 0, NULL, ""},
    {"1 KiB fixed buffer: 1025 bytes", RL GOOD END, SC_FIXED1K, 1025, 0, 431, 0, NULL, NULL},
    {"1 KiB fixed buffer: 9000 bytes", RL GOOD END, SC_FIXED1K, 9000, 0, 431, 0, NULL, NULL},
    {"32 header lines", RL GOOD END, SC_DEFAULT, 0, 32, 101, 0, NULL, ""},
    {"33 header lines", RL GOOD END, SC_DEFAULT, 0, 33, 431, 0, NULL, NULL},
    {"200 header lines", RL GOOD END, SC_DEFAULT, 0, 200, 431, 0, NULL, NULL},

    /* the on_request hook */
    {"hook picks chat", RL GOOD "Origin: http://example.com\r\nSec-WebSocket-Protocol: superchat, chat\r\n"
     "X-Custom: 42\r\n" END, SC_HOOK, 0, 0, 101, 0, "Sec-WebSocket-Protocol: chat", "chat"},
    {"hook adds a header", RL GOOD "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat\r\nX-Custom: 42\r\n"
     END, SC_HOOK, 0, 0, 101, 0, "X-Extra: yes", "chat"},
    {"hook: offers in two lines", RL GOOD "Origin: http://example.com\r\nSec-WebSocket-Protocol: a, b\r\n"
     "Sec-WebSocket-Protocol: chat\r\nX-Custom: 42\r\n" END, SC_HOOK, 0, 0, 101, 0,
     "Sec-WebSocket-Protocol: chat", "chat"},
    {"hook: chat not offered", RL GOOD "Origin: http://example.com\r\nSec-WebSocket-Protocol: superchat\r\n"
     "X-Custom: 42\r\n" END, SC_HOOK, 0, 0, 101, 0, "X-Extra: yes", ""},
    {"hook: no offer at all", RL GOOD "Origin: http://example.com\r\nX-Custom: 42\r\n" END, SC_HOOK, 0, 0, 101, 0,
     NULL, ""},
    {"hook rejects with 403", RL GOOD "Origin: http://evil.example\r\n" END, SC_REJECT, 0, 0, 403, 0,
     "X-Why: origin", NULL},
    {"hook picks a protocol that was not offered", RL GOOD "Sec-WebSocket-Protocol: chat\r\n" END, SC_BADSUB, 0, 0,
     500, 0, NULL, NULL},
    {"hook: response does not fit the send buffer", RL GOOD END, SC_HOOK_BIGEXTRA, 0, 0, 500, 0, NULL, NULL},
};

/* What the hook saw. */
typedef struct seen {
    int calls, offers_chat, offers_superchat, offers_chat_upper;
    char target[128], origin[128], host[128], custom[64], method[16];
    unsigned num_headers;
} seen;

static char big_extra[600];

static int hook(hsess *s, const ws_request *req, ws_accept *acc) {
    seen *w = (seen *)s->user;
    (void)acc;
    w->calls++;
    snprintf(w->target, sizeof w->target, "%s", req->target ? req->target : "(null)");
    snprintf(w->origin, sizeof w->origin, "%s", req->origin ? req->origin : "(null)");
    snprintf(w->host, sizeof w->host, "%s", req->host ? req->host : "(null)");
    snprintf(w->method, sizeof w->method, "%s", req->method ? req->method : "(null)");
    snprintf(w->custom, sizeof w->custom, "%s",
             ws_header_find(req->headers, req->num_headers, "x-custom") ? ws_header_find(req->headers, req->num_headers, "x-custom") : "(null)");
    w->num_headers = req->num_headers;
    w->offers_chat = ws_request_offers(req, "chat");
    w->offers_superchat = ws_request_offers(req, "superchat");
    w->offers_chat_upper = ws_request_offers(req, "CHAT");
    return 0;
}

static int hook_chat(hsess *s, const ws_request *req, ws_accept *acc) {
    hook(s, req, acc);
    if (ws_request_offers(req, "chat")) acc->subprotocol = "chat";
    acc->extra_headers = "X-Extra: yes\r\n";
    return 0;
}

static int hook_reject(hsess *s, const ws_request *req, ws_accept *acc) {
    hook(s, req, acc);
    acc->extra_headers = "X-Why: origin\r\n";
    return 403;
}

static int hook_badsub(hsess *s, const ws_request *req, ws_accept *acc) {
    hook(s, req, acc);
    acc->subprotocol = "nope";
    return 0;
}

static int hook_bigextra(hsess *s, const ws_request *req, ws_accept *acc) {
    hook(s, req, acc);
    acc->extra_headers = big_extra;
    return 0;
}

/* The row's request with padding, extra lines and zero bytes put in. */
static void make_request(const srow *r, hbuf *out) {
    const char *p = r->req, *end = strstr(r->req, "\r\n\r\n");
    unsigned lines = 0, i;
    const char *q;
    if (!end) {
        hb_str(out, r->req);
        return;
    }
    for (q = strstr(r->req, "\r\n"); q && q < end; q = strstr(q + 2, "\r\n")) lines++;
    /* Everything up to the last header line's CRLF. */
    for (; p < end + 2; p++) {
        if (!strncmp(p, "{NUL}", 5)) hb_byte(out, 0), p += 4;
        else hb_byte(out, (unsigned char)*p);
    }
    for (i = lines; i < r->nheaders; i++) hb_printf(out, "X-H%u: v\r\n", i);
    if (r->pad_to) {
        size_t have = out->len + 2, k;
        if (have + 9 <= r->pad_to) {
            hb_str(out, "X-Pad: ");
            for (k = have + 9; k < r->pad_to; k++) hb_byte(out, 'p');
            hb_str(out, "\r\n");
        }
    }
    hb_str(out, "\r\n");
    hb_str(out, end + 4);
}

static void setup(hsess *s, int cfg, seen *w) {
    s->user = w;
    s->on_request = hook;
    switch (cfg) {
    case SC_MAXHDR512: s->cfg.max_header = 512; break;
    case SC_FIXED1K: hs_fixed(s, 1024, 1024); break;
    case SC_HOOK: s->on_request = hook_chat; break;
    case SC_REJECT: s->on_request = hook_reject; break;
    case SC_BADSUB: s->on_request = hook_badsub; break;
    case SC_HOOK_BIGEXTRA: s->on_request = hook_bigextra, hs_fixed(s, 4096, 512); break;
    default: break;
    }
}

static void run_row(const srow *r, int fixed, int delivery, uint64_t seed) {
    hsess s;
    hbuf req = {0}, frames = {0};
    hout o;
    seen w;
    char val[256];
    int n;
    memset(&w, 0, sizeof w);
    h_set_ctx("row '%s' [%s, %s, seed %lu]", r->name, fixed ? "fixed" : "alloc", h_dname[delivery],
              (unsigned long)seed);
    hs_init(&s, 1, delivery, seed);
    if (fixed) hs_fixed(&s, 16384, 16384);
    setup(&s, r->cfg, &w);
    CHECK(hs_start_server(&s) == 0);
    CHECK(ws_state(&s.c) == WS_CONNECTING);
    make_request(r, &req);
    if (r->pad_to) CHECKF(req.len == r->pad_to, "request is %lu bytes, not %lu", (unsigned long)req.len,
                          (unsigned long)r->pad_to);
    /* A text frame and a ping right behind the request, in the same read. */
    h_frame(&req, &s.rng, 1, 0x81, "behind", 6);
    h_frame(&req, &s.rng, 1, 0x89, "p", 1);
    hs_deliver(&s, req.p, req.len);
    h_parse_out(&s, &o);
    CHECKF(o.status == r->status || (r->alt_status && o.status == r->alt_status), "status %d, want %d", o.status,
           r->status);
    CHECKF(hs_http_len(&s) != 0, "no complete response head: [%s]", o.head);
    if (r->must) CHECKF(strstr(o.head, r->must) != NULL, "response lacks [%s]:\n%s", r->must, o.head);
    CHECKF(!strncmp(o.head, "HTTP/1.1 ", 9), "status line: %.40s", o.head);
    if (r->status == 101) {
        CHECK(!strncmp(o.head, "HTTP/1.1 101 Switching Protocols\r\n", 34));
        CHECK(h_http_header(o.head, "Upgrade", val, sizeof val, &n) && n == 1 && !strcmp(val, "websocket"));
        CHECK(h_http_header(o.head, "Connection", val, sizeof val, &n) && n == 1 && ws_token_list_has(val, "upgrade", 1));
        CHECK(h_http_header(o.head, "Sec-WebSocket-Accept", val, sizeof val, &n) && n == 1 && strlen(val) == 28);
        CHECK(!h_http_header(o.head, "Sec-WebSocket-Extensions", NULL, 0, NULL));
        if (r->sub && !*r->sub) CHECK(!h_http_header(o.head, "Sec-WebSocket-Protocol", NULL, 0, NULL));
        if (r->sub && *r->sub) {
            CHECK(h_http_header(o.head, "Sec-WebSocket-Protocol", val, sizeof val, &n) && n == 1);
            CHECK_STR(val, r->sub);
        }
        CHECK(ws_state(&s.c) == WS_OPEN);
        {
            hbuf want = {0};
            hb_str(&want, "open");
            h_render(&want, r->sub, strlen(r->sub));
            hb_str(&want, " text\"behind\" ping\"p\"");
            CHECK_STR(hb_cstr(&s.log), hb_cstr(&want));
            hb_free(&want);
        }
        CHECK_STR(hb_cstr(&o.frames), ">pong\"p\"");
        CHECK(!o.bad && !o.trailing);
        CHECK(s.errors == 0);
    } else {
        /* An error answer, nothing else, and the connection is done. */
        CHECK(h_http_header(o.head, "Content-Length", val, sizeof val, NULL) && !strcmp(val, "0"));
        CHECK(!h_http_header(o.head, "Sec-WebSocket-Accept", NULL, 0, NULL));
        if (r->status == 426) CHECK(h_http_header(o.head, "Sec-WebSocket-Version", val, sizeof val, NULL) && !strcmp(val, "13"));
        CHECKF(s.out.b.len == hs_http_len(&s), "%lu bytes after the error response",
               (unsigned long)(s.out.b.len - hs_http_len(&s)));
        CHECK_INT(ws_state(&s.c), WS_CLOSED);
        /* A response too big for the send buffer is the server's own
         * shortage, not the peer's fault. */
        CHECK_STR(hb_cstr(&s.log), r->cfg == SC_HOOK_BIGEXTRA ? "err:NOMEM close:1006" : "err:HANDSHAKE close:1006");
        CHECKF(HAS_REASON(ws_reason(&s.c)), "no reason");
        CHECK_INT(ws_pump(&s.c), WS_E_CLOSED);
    }
    if (r->cfg == SC_HOOK) {
        CHECK_INT(w.calls, 1);
        CHECK_STR(w.target, "/chat");
        CHECK_STR(w.origin, "http://example.com");
        CHECK_STR(w.host, "server.example.com");
        CHECK_STR(w.method, "GET");
        CHECK_STR(w.custom, "42");
        CHECK(w.offers_chat == !strcmp(r->sub, "chat"));
        CHECK(w.offers_superchat == (strstr(r->req, "superchat") != NULL));
        CHECK(!w.offers_chat_upper); /* subprotocol names are case-sensitive */
    }
    if (r->cfg == SC_REJECT) CHECK_STR(w.origin, "http://evil.example");
    hs_invariants(&s);
    h_out_free(&o);
    hb_free(&req), hb_free(&frames);
    hs_free(&s);
}

/* Run each row every way. */
static void table(void) {
    size_t i;
    int fixed, d;
    unsigned k;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (fixed = 0; fixed < 2; fixed++) {
            if (fixed && rows[i].cfg != SC_DEFAULT && rows[i].cfg != SC_HOOK && rows[i].cfg != SC_REJECT) continue;
            for (d = 0; d < D_COUNT; d++)
                for (k = 0; k < (d == D_RANDOM ? 5u : d == D_FEED_SPLIT ? 3u : 1u); k++)
                    run_row(&rows[i], fixed, d, 100u * i + 10u * k + (unsigned)d);
        }
}

/* The 101 goes out in one write when the transport takes it whole. */
static void one_write(void) {
    int vec;
    for (vec = 0; vec < 2; vec++) {
        hsess s;
        h_set_ctx("one write for the response (%s)", vec ? "sendv" : "send");
        hs_init(&s, 1, D_WHOLE, 1);
        s.use_vec = vec;
        CHECK(hs_start_server(&s) == 0);
        hs_deliver(&s, H_REQUEST, strlen(H_REQUEST));
        CHECK(ws_state(&s.c) == WS_OPEN);
        CHECK_INT(s.io.send_calls + s.io.sendv_calls, 1);
        CHECK_INT(s.out.b.len, hs_http_len(&s));
        hs_free(&s);
    }
    /* With a message sent from on_open: still one write. */
    {
        hsess s;
        hout o;
        h_set_ctx("one write for the response and a message sent from on_open");
        hs_init(&s, 1, D_WHOLE, 2);
        s.open_send = "welcome";
        CHECK(hs_start_server(&s) == 0);
        hs_deliver(&s, H_REQUEST, strlen(H_REQUEST));
        CHECK_INT(s.echo_rc, 0);
        CHECK_INT(s.io.send_calls + s.io.sendv_calls, 1);
        h_parse_out(&s, &o);
        CHECK_INT(o.status, 101);
        CHECK_STR(hb_cstr(&o.frames), ">text\"welcome\"");
        h_out_free(&o);
        hs_free(&s);
    }
}

/* No request, or half of one: the handshake times out (fake clock). */
static void timeout(void) {
    int partial, custom;
    for (partial = 0; partial < 2; partial++)
        for (custom = 0; custom < 2; custom++) {
            hsess s;
            uint64_t limit = custom ? 500 : 10000;
            h_set_ctx("handshake timeout (%s, %s)", partial ? "half a request" : "no request",
                      custom ? "500 ms" : "default");
            hs_init(&s, 1, D_WHOLE, 3);
            if (custom) s.cfg.handshake_timeout_ms = 500;
            CHECK(hs_start_server(&s) == 0);
            CHECK_INT(ws_next_timeout(&s.c), (long)limit);
            if (partial) hs_deliver(&s, H_REQUEST, 40);
            s.io.now += limit - 1;
            CHECK_INT(hs_pump(&s), 0);
            CHECK(ws_state(&s.c) == WS_CONNECTING);
            CHECK_INT(ws_next_timeout(&s.c), 1);
            s.io.now += 1;
            CHECK_INT(hs_pump(&s), WS_E_CLOSED);
            CHECK(ws_state(&s.c) == WS_CLOSED);
            CHECK_STR(hb_cstr(&s.log), "err:TIMEOUT close:1006");
            CHECK(s.last_err == WS_E_TIMEOUT);
            CHECK(HAS_REASON(ws_reason(&s.c)));
            CHECK_INT(ws_next_timeout(&s.c), -1);
            hs_invariants(&s);
            hs_free(&s);
        }
    /* Once open, the handshake timer is gone. */
    {
        hsess s;
        h_set_ctx("no handshake timeout once open");
        hs_init(&s, 1, D_WHOLE, 4);
        CHECK(hs_start_server(&s) == 0);
        hs_deliver(&s, H_REQUEST, strlen(H_REQUEST));
        CHECK(ws_state(&s.c) == WS_OPEN);
        CHECK_INT(ws_next_timeout(&s.c), -1);
        s.io.now += 100000;
        CHECK_INT(hs_pump(&s), 0);
        CHECK(ws_state(&s.c) == WS_OPEN);
        hs_free(&s);
    }
    /* Without a clock there is no timeout at all. */
    {
        hsess s;
        h_set_ctx("no clock, no handshake timeout");
        hs_init(&s, 1, D_WHOLE, 5);
        s.no_clock = 1;
        CHECK(hs_start_server(&s) == 0);
        CHECK_INT(ws_next_timeout(&s.c), -1);
        CHECK_INT(hs_pump(&s), 0);
        CHECK(ws_state(&s.c) == WS_CONNECTING);
        hs_free(&s);
    }
}

/* Bytes that cannot begin a request line (a TLS ClientHello sent to a plain
 * server, binary noise) get 400 at once, before the header block would end
 * or the handshake time out; the start of a real request is waited for. */
static void not_a_request(void) {
    static const struct {
        const char *what, *bytes;
        size_t len;
        int refused;
    } cases[] = {
#define BYTES(s) s, sizeof(s) - 1
        {"a TLS ClientHello", BYTES("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 1},
        {"a control byte in the method", BYTES("GE\x01"), 1},
        {"a space first", BYTES(" GET /"), 1},
        {"CR LF first", BYTES("\r\nGET /"), 1},
        {"the start of a request", BYTES("GET /chat HTTP/1.1\r\nHost: x"), 0},
        {"a method alone", BYTES("OPTIONS"), 0},
#undef BYTES
    };
    unsigned i;
    int d;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (d = 0; d < D_COUNT; d++) {
            hsess s;
            hout o;
            memset(&o, 0, sizeof o);
            h_set_ctx("%s, no end of headers yet [%s]", cases[i].what, h_dname[d]);
            hs_init(&s, 1, d, 7);
            CHECK(hs_start_server(&s) == 0);
            hs_deliver(&s, cases[i].bytes, cases[i].len);
            if (cases[i].refused) {
                h_parse_out(&s, &o);
                CHECK_INT(o.status, 400);
                CHECK_INT(ws_http_status(&s.c), 400);
                CHECK(ws_state(&s.c) == WS_CLOSED);
                CHECK_STR(hb_cstr(&s.log), "err:HANDSHAKE close:1006");
                CHECK(HAS_REASON(ws_reason(&s.c)));
            } else {
                CHECK(ws_state(&s.c) == WS_CONNECTING);
                CHECK_INT(s.out.b.len, 0);
                CHECK_STR(hb_cstr(&s.log), "");
            }
            hs_invariants(&s);
            h_out_free(&o);
            hs_free(&s);
        }
}

/* The peer goes away during the handshake. */
static void eof_during_handshake(void) {
    int d;
    for (d = 0; d < D_COUNT; d++) {
        hsess s;
        h_set_ctx("EOF in the middle of the request [%s]", h_dname[d]);
        hs_init(&s, 1, d, 6);
        CHECK(hs_start_server(&s) == 0);
        hs_deliver(&s, H_REQUEST, 30);
        hs_eof(&s);
        CHECK(ws_state(&s.c) == WS_CLOSED);
        CHECK_STR(hb_cstr(&s.log), "err:HANDSHAKE close:1006"); /* the peer never completed it */
        CHECK(HAS_REASON(ws_reason(&s.c)));
        CHECK_INT(s.out.b.len, 0);
        hs_invariants(&s);
        hs_free(&s);
    }
}

int main(void) {
    memset(big_extra, 0, sizeof big_extra);
    {
        size_t i;
        for (i = 0; i + 20 < sizeof big_extra; i += 20) memcpy(big_extra + i, "X-Long-Header: abc\r\n", 20);
    }
    table();
    one_write();
    timeout();
    eof_during_handshake();
    not_a_request();
    return h_report();
}
