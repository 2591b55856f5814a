/* The client's opening handshake (RFC 6455 sections 4.1 and 4.2.2): the
 * request it builds, the checks on the server's response (each failure named
 * by ws_reason and, for a status other than 101, ws_http_status), frames that
 * arrive right behind the 101, and the handshake timeout. */
#include "harness.h"

#define ST101 "HTTP/1.1 101 Switching Protocols\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define ACC "Sec-WebSocket-Accept: {A}\r\n"
#define GOOD UPG CONN ACC
#define END "\r\n"

typedef struct crow {
    const char *name;
    const char *offer;  /* subprotocols the client offers (NULL: none) */
    const char *resp;   /* {A}: the right accept, {W}: a wrong one */
    size_t pad_to;      /* pad the head to this many bytes */
    int ok;             /* 1: opens */
    const char *sub;    /* ok: what on_open sees */
    int status;         /* failure: ws_http_status */
    const char *why;    /* failure: ws_reason contains this (case-insensitive) */
} crow;

static const crow rows[] = {
    {"minimal", NULL, ST101 GOOD END, 0, 1, "", 0, NULL},
    {"other reason phrase", NULL, "HTTP/1.1 101 OK\r\n" GOOD END, 0, 1, "", 0, NULL},
    {"lower-case names and values", NULL, ST101 "upgrade: WebSocket\r\nconnection: upgrade\r\n"
     "sec-websocket-accept: {A}\r\n" END, 0, 1, "", 0, NULL},
    {"Connection: keep-alive, Upgrade", NULL, ST101 UPG "Connection: keep-alive, Upgrade\r\n" ACC END, 0, 1, "", 0,
     NULL},
    {"extra headers", NULL, ST101 "Server: test\r\nDate: today\r\n" GOOD "X-A: b\r\n" END, 0, 1, "", 0, NULL},
    {"Connection in two lines", NULL, ST101 UPG "Connection: keep-alive\r\nConnection: Upgrade\r\n" ACC END, 0, 1,
     "", 0, NULL},
    {"large head", NULL, ST101 GOOD END, 8000, 1, "", 0, NULL},

    /* status */
    {"404", NULL, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0, 0, NULL, 404, "status"},
    {"404 with a body", NULL, "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!", 0, 0, NULL, 404, "status"},
    {"200", NULL, "HTTP/1.1 200 OK\r\n" GOOD END, 0, 0, NULL, 200, "status"},
    {"302", NULL, "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", 0, 0, NULL, 302, "status"},
    {"426", NULL, "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", 0, 0, NULL, 426, "status"},
    {"503", NULL, "HTTP/1.1 503 Service Unavailable\r\n\r\n", 0, 0, NULL, 503, "status"},
    {"HTTP/1.0 101", NULL, "HTTP/1.0 101 Switching Protocols\r\n" GOOD END, 0, 0, NULL, -1, "HTTP"},
    {"malformed status line", NULL, "HTTP/1.1 10 Switching\r\n" GOOD END, 0, 0, NULL, -1, "status"},
    {"not HTTP", NULL, "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, NULL, -1, "status"},

    /* Upgrade and Connection */
    {"no Upgrade", NULL, ST101 CONN ACC END, 0, 0, NULL, 101, "Upgrade"},
    {"Upgrade: h2c", NULL, ST101 "Upgrade: h2c\r\n" CONN ACC END, 0, 0, NULL, 101, "Upgrade"},
    {"no Connection", NULL, ST101 UPG ACC END, 0, 0, NULL, 101, "Connection"},
    {"Connection: keep-alive", NULL, ST101 UPG "Connection: keep-alive\r\n" ACC END, 0, 0, NULL, 101, "Connection"},

    /* Sec-WebSocket-Accept */
    {"no accept", NULL, ST101 UPG CONN END, 0, 0, NULL, 101, "Accept"},
    {"wrong accept", NULL, ST101 UPG CONN "Sec-WebSocket-Accept: {W}\r\n" END, 0, 0, NULL, 101, "Accept"},
    {"accept of the key itself", NULL, ST101 UPG CONN "Sec-WebSocket-Accept: {K}\r\n" END, 0, 0, NULL, 101, "Accept"},
    {"accept with junk after it", NULL, ST101 UPG CONN "Sec-WebSocket-Accept: {A}x\r\n" END, 0, 0, NULL, 101,
     "Accept"},
    {"accept twice", NULL, ST101 GOOD "Sec-WebSocket-Accept: {W}\r\n" END, 0, 0, NULL, 101, "Accept"},
    {"empty accept", NULL, ST101 UPG CONN "Sec-WebSocket-Accept: \r\n" END, 0, 0, NULL, 101, "Accept"},

    /* subprotocols */
    {"offered chat, got chat", "chat, superchat", ST101 GOOD "Sec-WebSocket-Protocol: chat\r\n" END, 0, 1, "chat", 0,
     NULL},
    {"offered chat, got superchat", "chat, superchat", ST101 GOOD "Sec-WebSocket-Protocol: superchat\r\n" END, 0, 1,
     "superchat", 0, NULL},
    {"offered, none chosen", "chat, superchat", ST101 GOOD END, 0, 1, "", 0, NULL},
    {"got one not offered", "chat, superchat", ST101 GOOD "Sec-WebSocket-Protocol: other\r\n" END, 0, 0, NULL, 101,
     "subprotocol"},
    {"got a prefix of an offer", "chat, superchat", ST101 GOOD "Sec-WebSocket-Protocol: super\r\n" END, 0, 0, NULL,
     101, "subprotocol"},
    {"got two", "chat, superchat", ST101 GOOD "Sec-WebSocket-Protocol: chat, superchat\r\n" END, 0, 0, NULL, 101,
     "subprotocol"},
    {"got one with none offered", NULL, ST101 GOOD "Sec-WebSocket-Protocol: chat\r\n" END, 0, 0, NULL, 101,
     "subprotocol"},
    {"protocol header twice", "chat, superchat",
     ST101 GOOD "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n" END, 0, 0, NULL, 101,
     "subprotocol"},

    /* extensions */
    {"extension not offered", NULL, ST101 GOOD "Sec-WebSocket-Extensions: permessage-deflate\r\n" END, 0, 0, NULL,
     101, "extension"},

    /* syntax and size */
    {"obs-fold", NULL, ST101 GOOD "X-A: 1\r\n continued\r\n" END, 0, 0, NULL, 101, NULL},
    {"control character", NULL, ST101 GOOD "X-A: 1\x01\r\n" END, 0, 0, NULL, 101, NULL},
    {"head over 8 KiB", NULL, ST101 GOOD END, 9000, 0, NULL, -1, NULL},
};

static const char other_key[] = "AAAAAAAAAAAAAAAAAAAAAA==";

/* The row's response with the accept values put in. */
static void make_response(const crow *r, const char *key, hbuf *out) {
    const char *p;
    char acc[WS_ACCEPT_LEN + 1], wrong[WS_ACCEPT_LEN + 1];
    size_t start = out->len;
    ws_accept_key(key, strlen(key), acc);
    ws_accept_key(other_key, strlen(other_key), wrong);
    for (p = r->resp; *p; p++) {
        if (!strncmp(p, "{A}", 3)) hb_str(out, acc), p += 2;
        else if (!strncmp(p, "{W}", 3)) hb_str(out, wrong), p += 2;
        else if (!strncmp(p, "{K}", 3)) hb_str(out, key), p += 2;
        else hb_byte(out, (unsigned char)*p);
    }
    if (r->pad_to) {
        /* Insert X-Pad before the blank line so the head is pad_to bytes. */
        char *head = (char *)out->p + start, *blank = strstr(head, "\r\n\r\n");
        size_t headlen, k;
        hbuf tmp = {0};
        if (!blank) return;
        headlen = (size_t)(blank - head) + 4;
        for (k = 0; head + k < blank + 2; k++) hb_byte(&tmp, (unsigned char)head[k]);
        hb_str(&tmp, "X-Pad: ");
        for (k = headlen + 9; k < r->pad_to; k++) hb_byte(&tmp, 'p');
        hb_str(&tmp, "\r\n\r\n");
        hb_str(&tmp, blank + 4);
        out->len = start;
        hb_add(out, tmp.p, tmp.len);
        hb_free(&tmp);
    }
}

static int icontains(const char *hay, const char *needle) {
    size_t n = strlen(needle), i, j;
    for (i = 0; hay[i]; i++) {
        for (j = 0; j < n && hay[i + j]; j++) {
            int a = hay[i + j], b = needle[j];
            if (a >= 'A' && a <= 'Z') a += 32;
            if (b >= 'A' && b <= 'Z') b += 32;
            if (a != b) break;
        }
        if (j == n) return 1;
    }
    return 0;
}

static void run_row(const crow *r, int fixed, int delivery, uint64_t seed) {
    hsess s;
    hbuf in = {0};
    hout o;
    ws_client_options opt = h_client_opts;
    h_set_ctx("row '%s' [%s, %s, seed %lu]", r->name, fixed ? "fixed" : "alloc", h_dname[delivery],
              (unsigned long)seed);
    hs_init(&s, 0, delivery, seed);
    if (fixed) hs_fixed(&s, 16384, 4096);
    opt.subprotocols = r->offer;
    CHECK(hs_start_client(&s, &opt) == 0);
    CHECK(ws_state(&s.c) == WS_CONNECTING);
    CHECKF(strlen(s.key) == 24, "no key in the request");
    make_response(r, s.key, &in);
    if (r->pad_to) CHECK(strstr((const char *)in.p, "\r\n\r\n") + 4 - (const char *)in.p == (ptrdiff_t)r->pad_to);
    /* A text frame and a ping right behind the response. */
    h_frame(&in, &s.rng, 0, 0x81, "behind", 6);
    h_frame(&in, &s.rng, 0, 0x89, "p", 1);
    hs_deliver(&s, in.p, in.len);
    h_parse_out(&s, &o);
    CHECK(!o.bad && !o.trailing);
    if (r->ok) {
        hbuf want = {0};
        CHECK_INT(ws_state(&s.c), WS_OPEN);
        hb_str(&want, "open");
        h_render(&want, r->sub, strlen(r->sub));
        hb_str(&want, " text\"behind\" ping\"p\"");
        CHECK_STR(hb_cstr(&s.log), hb_cstr(&want));
        CHECK_STR(s.open_sub, r->sub);
        CHECK_STR(hb_cstr(&o.frames), ">pong\"p\"");
        CHECK_INT(ws_http_status(&s.c), 101);
        hb_free(&want);
    } else {
        CHECK_INT(ws_state(&s.c), WS_CLOSED);
        CHECK_STR(hb_cstr(&s.log), "err:HANDSHAKE close:1006");
        CHECK_STR(hb_cstr(&o.frames), "");
        if (r->status >= 0) CHECK_INT(ws_http_status(&s.c), r->status);
        if (r->why && REASONS_GIVEN) CHECKF(icontains(ws_reason(&s.c), r->why), "reason [%s] does not mention [%s]", ws_reason(&s.c), r->why);
        CHECKF(HAS_REASON(ws_reason(&s.c)), "no reason");
        CHECK_STR(s.err_reason, ws_reason(&s.c));
        CHECK_INT(ws_pump(&s.c), WS_E_CLOSED);
    }
    hs_invariants(&s);
    h_out_free(&o);
    hb_free(&in);
    hs_free(&s);
}

static void table(void) {
    size_t i;
    int fixed, d;
    unsigned k;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (fixed = 0; fixed < 2; fixed++)
            for (d = 0; d < D_COUNT; d++)
                for (k = 0; k < (d == D_RANDOM ? 5u : d == D_FEED_SPLIT ? 3u : 1u); k++)
                    run_row(&rows[i], fixed, d, 100u * i + 10u * k + (unsigned)d);
}

/* The request: what the options ask for, nothing twice, a fresh key. */
typedef struct qcase {
    const char *name;
    ws_client_options opt;
    const char *line; /* request line */
    const char *host; /* Host value */
} qcase;

static const qcase qcases[] = {
    {"all options", {"example.com", 8080, "/chat?room=1&x=2", "http://example.com", "chat, superchat",
                     "X-Token: abc\r\nX-Other: 1\r\n", 0, NULL},
     "GET /chat?room=1&x=2 HTTP/1.1", "example.com:8080"},
    {"default port 80", {"example.com", 80, "/", NULL, NULL, NULL, 0, NULL}, "GET / HTTP/1.1", "example.com"},
    {"port 0", {"example.com", 0, NULL, NULL, NULL, NULL, 0, NULL}, "GET / HTTP/1.1", "example.com"},
    {"secure, default port", {"example.com", 443, "/s", NULL, NULL, NULL, 1, NULL}, "GET /s HTTP/1.1", "example.com"},
    {"secure, port 80", {"example.com", 80, "/s", NULL, NULL, NULL, 1, NULL}, "GET /s HTTP/1.1", "example.com:80"},
    {"plain, port 443", {"example.com", 443, "/s", NULL, NULL, NULL, 0, NULL}, "GET /s HTTP/1.1", "example.com:443"},
    {"IPv6 literal", {"::1", 9001, "/", NULL, NULL, NULL, 0, NULL}, "GET / HTTP/1.1", "[::1]:9001"},
    {"query only", {"h", 0, "/?q", NULL, NULL, NULL, 0, NULL}, "GET /?q HTTP/1.1", "h"},
};

static void request(void) {
    size_t i;
    char seen_keys[sizeof qcases / sizeof qcases[0]][32];
    for (i = 0; i < sizeof qcases / sizeof qcases[0]; i++) {
        const qcase *q = &qcases[i];
        hsess s;
        char head[4096], val[512];
        unsigned char raw[32];
        int n, count;
        size_t j;
        h_set_ctx("request: %s", q->name);
        hs_init(&s, 0, D_WHOLE, 500 + i);
        CHECK(hs_start_client(&s, &q->opt) == 0);
        CHECK(hs_http_len(&s) == s.out.b.len);
        CHECK_INT(s.io.send_calls, 1);
        n = (int)(s.http_len < sizeof head - 1 ? s.http_len : sizeof head - 1);
        memcpy(head, s.out.b.p, (size_t)n);
        head[n] = 0;
        CHECKF(!strncmp(head, q->line, strlen(q->line)) && !strncmp(head + strlen(q->line), "\r\n", 2),
               "request line: %.60s", head);
        CHECK(h_http_header(head, "Host", val, sizeof val, &count) && count == 1);
        CHECK_STR(val, q->host);
        CHECK(h_http_header(head, "Upgrade", val, sizeof val, &count) && count == 1 && !strcmp(val, "websocket"));
        CHECK(h_http_header(head, "Connection", val, sizeof val, &count) && count == 1 &&
              ws_token_list_has(val, "Upgrade", 1));
        CHECK(h_http_header(head, "Sec-WebSocket-Version", val, sizeof val, &count) && count == 1 &&
              !strcmp(val, "13"));
        CHECK(h_http_header(head, "Sec-WebSocket-Key", val, sizeof val, &count) && count == 1);
        CHECK_INT(strlen(val), 24);
        CHECK_INT(h_b64decode(val, strlen(val), raw, sizeof raw), 16);
        /* The key is the base64 of 16 bytes from the random source. */
        CHECK(s.io.random_log.len >= 16 && !memcmp(raw, s.io.random_log.p, 16));
        snprintf(seen_keys[i], sizeof seen_keys[i], "%.31s", val);
        for (j = 0; j < i; j++) CHECKF(strcmp(seen_keys[j], val) != 0, "key repeated across connections");
        if (q->opt.origin) {
            CHECK(h_http_header(head, "Origin", val, sizeof val, &count) && count == 1);
            CHECK_STR(val, q->opt.origin);
        } else {
            CHECK(!h_http_header(head, "Origin", NULL, 0, NULL));
        }
        if (q->opt.subprotocols) {
            CHECK(h_http_header(head, "Sec-WebSocket-Protocol", val, sizeof val, &count) && count == 1);
            CHECK_STR(val, q->opt.subprotocols);
        } else {
            CHECK(!h_http_header(head, "Sec-WebSocket-Protocol", NULL, 0, NULL));
        }
        CHECK(!h_http_header(head, "Sec-WebSocket-Extensions", NULL, 0, NULL));
        if (q->opt.extra_headers) {
            CHECK(h_http_header(head, "X-Token", val, sizeof val, &count) && count == 1 && !strcmp(val, "abc"));
            CHECK(h_http_header(head, "X-Other", val, sizeof val, &count) && count == 1 && !strcmp(val, "1"));
        }
        /* A server parser accepts it. */
        {
            ws_request req;
            int status = 0;
            const char *why = NULL;
            CHECK(ws_request_parse(head, (size_t)n, 0, &req, &status, &why) == n);
            CHECK_INT(status, 101);
        }
        hs_free(&s);
    }
    /* Two connections from the same process: different keys even when
     * started back to back (each asks the random source again). */
    {
        hsess a, b;
        h_set_ctx("request: two connections");
        hs_init(&a, 0, D_WHOLE, 900);
        hs_init(&b, 0, D_WHOLE, 901);
        CHECK(hs_start_client(&a, &h_client_opts) == 0);
        CHECK(hs_start_client(&b, &h_client_opts) == 0);
        CHECK(strlen(a.key) == 24 && strlen(b.key) == 24 && strcmp(a.key, b.key) != 0);
        CHECK(a.io.random_log.len >= 16 && b.io.random_log.len >= 16);
        hs_free(&a), hs_free(&b);
    }
    /* Bad options and a failing random source. */
    {
        hsess s;
        ws_client_options opt = h_client_opts;
        h_set_ctx("request: random source fails");
        hs_init(&s, 0, D_WHOLE, 902);
        s.io.random_fail = 1;
        hs_connect(&s);
        CHECK_INT(ws_client_start(&s.c, &opt), WS_E_RANDOM);
        CHECK_INT(s.out.b.len, 0);
        hs_free(&s);

        h_set_ctx("request: no host");
        hs_init(&s, 0, D_WHOLE, 903);
        hs_connect(&s);
        opt.host = NULL;
        CHECK_INT(ws_client_start(&s.c, &opt), WS_E_INVALID);
        hs_free(&s);

        h_set_ctx("request: CRLF in the path");
        hs_init(&s, 0, D_WHOLE, 904);
        hs_connect(&s);
        opt = h_client_opts;
        opt.path = "/a\r\nX-Evil: 1";
        CHECK_INT(ws_client_start(&s.c, &opt), WS_E_INVALID);
        hs_free(&s);

        h_set_ctx("request: extra headers without CRLF");
        hs_init(&s, 0, D_WHOLE, 905);
        hs_connect(&s);
        opt = h_client_opts;
        opt.extra_headers = "X-A: 1";
        CHECK_INT(ws_client_start(&s.c, &opt), WS_E_INVALID);
        hs_free(&s);

        h_set_ctx("request: does not fit a 256-byte send buffer");
        {
            static char longpath[400];
            memset(longpath, 'a', sizeof longpath - 1);
            longpath[0] = '/';
            hs_init(&s, 0, D_WHOLE, 906);
            hs_fixed(&s, 0, 256);
            hs_connect(&s);
            opt = h_client_opts;
            opt.path = longpath;
            CHECK_INT(ws_client_start(&s.c, &opt), WS_E_NOMEM);
            hs_free(&s);
        }
    }
}

/* No answer, half an answer, or the server hangs up. */
static void timeout_and_eof(void) {
    int partial;
    for (partial = 0; partial < 2; partial++) {
        hsess s;
        hbuf in = {0};
        crow r = rows[0];
        h_set_ctx("client handshake timeout (%s)", partial ? "half a response" : "no response");
        hs_init(&s, 0, D_WHOLE, 7);
        s.cfg.handshake_timeout_ms = 2000;
        CHECK(hs_start_client(&s, &h_client_opts) == 0);
        CHECK_INT(ws_next_timeout(&s.c), 2000);
        if (partial) {
            make_response(&r, s.key, &in);
            hs_deliver(&s, in.p, 30);
        }
        s.io.now += 1999;
        CHECK_INT(hs_pump(&s), 0);
        CHECK(ws_state(&s.c) == WS_CONNECTING);
        s.io.now += 1;
        CHECK_INT(hs_pump(&s), WS_E_CLOSED);
        CHECK_STR(hb_cstr(&s.log), "err:TIMEOUT close:1006");
        CHECK(HAS_REASON(ws_reason(&s.c)));
        hs_invariants(&s);
        hb_free(&in);
        hs_free(&s);
    }
    {
        int d;
        for (d = 0; d < D_COUNT; d++) {
            hsess s;
            h_set_ctx("server hangs up before answering [%s]", h_dname[d]);
            hs_init(&s, 0, d, 8);
            CHECK(hs_start_client(&s, &h_client_opts) == 0);
            hs_deliver(&s, "HTTP/1.1 101 Swi", 16);
            hs_eof(&s);
            CHECK(ws_state(&s.c) == WS_CLOSED);
            /* As a browser reports a handshake that never completes: an
             * error event, then the close. */
            CHECK_STR(hb_cstr(&s.log), "err:HANDSHAKE close:1006");
            CHECK(HAS_REASON(ws_reason(&s.c)));
            hs_invariants(&s);
            hs_free(&s);
        }
    }
    /* An answer that cannot be an HTTP status line fails at once, without
     * waiting for a blank line that may never come; its start is waited for. */
    {
        static const struct {
            const char *what, *bytes;
            int refused;
        } cases[] = {
            {"an SSH banner", "SSH-2.0-OpenSSH_9.2\r\n", 1},
            {"a TLS record header", "\x15\x03\x03", 1},
            {"lower-case http", "http/1.1 101", 1},
            {"the start of a status line", "HTTP/1.1 101 Swi", 0},
            {"less than the version", "HTT", 0},
        };
        unsigned i;
        int d;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
            for (d = 0; d < D_COUNT; d++) {
                hsess s;
                h_set_ctx("server answers with %s [%s]", cases[i].what, h_dname[d]);
                hs_init(&s, 0, d, 8);
                CHECK(hs_start_client(&s, &h_client_opts) == 0);
                hs_deliver(&s, cases[i].bytes, strlen(cases[i].bytes));
                if (cases[i].refused) {
                    CHECK(ws_state(&s.c) == WS_CLOSED);
                    CHECK_STR(hb_cstr(&s.log), "err:HANDSHAKE close:1006");
                    if (REASONS_GIVEN) CHECK_STR(ws_reason(&s.c), "malformed status line");
                    else CHECK_STR(ws_reason(&s.c), "");
                } else {
                    CHECK(ws_state(&s.c) == WS_CONNECTING);
                    CHECK_STR(hb_cstr(&s.log), "");
                }
                hs_invariants(&s);
                hs_free(&s);
            }
    }
    /* ws_close while CONNECTING drops the connection at once. */
    {
        hsess s;
        h_set_ctx("ws_close while connecting");
        hs_init(&s, 0, D_WHOLE, 9);
        CHECK(hs_start_client(&s, &h_client_opts) == 0);
        CHECK_INT(ws_close(&s.c, 1000, NULL), 0);
        CHECK(ws_state(&s.c) == WS_CLOSED);
        CHECK_STR(hb_cstr(&s.log), "close:1006");
        CHECK_INT(hs_pump(&s), WS_E_CLOSED);
        CHECK_INT(ws_send_text(&s.c, "x"), WS_E_STATE);
        hs_invariants(&s);
        hs_free(&s);
    }
}

int main(void) {
    table();
    request();
    timeout_and_eof();
    return h_report();
}
