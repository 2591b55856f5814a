/* Text messages must be UTF-8 (RFC 6455 sections 5.6 and 8.1): invalid
 * text fails the connection with 1007, as soon as the impossible byte
 * arrives (fail fast), even when the rest of the frame is still on its way;
 * a code point may be split across frames; a message may not end inside
 * one; a close reason must be UTF-8 too. */
#include "harness.h"

#define U1007 "err:UTF8 close:1007"

static const hrow rows[] = {
    {"two-byte and three-byte", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x81, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), FEND}, 0,
     "text\"\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5\"", "", WS_OPEN},
    {"four-byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xf0\x9f\x98\x80"), FEND}, 0,
     "text\"\\xf0\\x9f\\x98\\x80\"", "", WS_OPEN},
    {"U+10FFFF", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xf4\x8f\xbf\xbf"), FEND}, 0, "text\"\\xf4\\x8f\\xbf\\xbf\"", "",
     WS_OPEN},
    {"U+FFFF and U+FEFF", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xef\xbf\xbf\xef\xbb\xbf"), FEND}, 0,
     "text\"\\xef\\xbf\\xbf\\xef\\xbb\\xbf\"", "", WS_OPEN},
    {"U+D7FF and U+E000", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xed\x9f\xbf\xee\x80\x80"), FEND}, 0,
     "text\"\\xed\\x9f\\xbf\\xee\\x80\\x80\"", "", WS_OPEN},
    {"NUL is a character", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "a\x00z"), FEND}, 0, "text\"a\\x00z\"", "", WS_OPEN},

    /* invalid in one frame */
    {"0xFF", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "ab\xff"), FEND}, 0, U1007, ">close:1007", WS_CLOSED},
    {"0xFE", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xfe"), FEND}, 0, U1007, ">close:1007", WS_CLOSED},
    {"lone continuation byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "a\x80"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"overlong two-byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xc0\xaf"), FEND}, 0, U1007, ">close:1007", WS_CLOSED},
    {"overlong C1", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xc1\xbf"), FEND}, 0, U1007, ">close:1007", WS_CLOSED},
    {"overlong three-byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xe0\x80\xaf"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"overlong four-byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xf0\x80\x80\xaf"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"surrogate D800", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xed\xa0\x80"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"surrogate DFFF", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xed\xbf\xbf"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"above U+10FFFF", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xf4\x90\x80\x80"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"F5 lead byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xf5\x80\x80\x80"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"missing continuation", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xc3\x28"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"ends inside a sequence", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "ok\xe2\x82"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"ends after a lead byte", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "\xc3"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"invalid after a valid message", HR_BOTH, HC_DEFAULT, 0, {FR(0x81, "fine"), FR(0x81, "\xff"), FEND}, 0,
     "text\"fine\" " U1007, ">close:1007", WS_CLOSED},
    {"invalid deep in a long text", HR_BOTH, HC_DEFAULT, 0, {FBIG(0x01, 5000), FR(0x80, "\xff"), FEND}, 0, U1007,
     ">close:1007", WS_CLOSED},

    /* split across fragments */
    {"two-byte split across fragments", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "\xce"), FR(0x80, "\xba"), FEND}, 0,
     "text\"\\xce\\xba\"", "", WS_OPEN},
    {"four-byte split in four", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x01, "\xf0"), FR(0x00, "\x9f"), FR(0x00, "\x98"), FR(0x80, "\x80"), FEND}, 0,
     "text\"\\xf0\\x9f\\x98\\x80\"", "", WS_OPEN},
    {"split around a ping", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "\xe2\x82"), FR(0x89, ""), FR(0x80, "\xac"), FEND}, 0,
     "ping\"\" text\"\\xe2\\x82\\xac\"", ">pong\"\"", WS_OPEN},
    {"split around empty fragments", HR_BOTH, HC_DEFAULT, 0,
     {FR(0x01, "\xe2"), FR(0x00, ""), FR(0x00, "\x82"), FR(0x00, ""), FR(0x80, "\xac"), FEND}, 0,
     "text\"\\xe2\\x82\\xac\"", "", WS_OPEN},
    {"split, then a bad continuation", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "\xce"), FR(0x80, "A"), FEND}, 0, U1007,
     ">close:1007", WS_CLOSED},
    {"invalid in the second fragment", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "ok"), FR(0x80, "\xff"), FEND}, 0, U1007,
     ">close:1007", WS_CLOSED},
    {"invalid in an unfinished fragment", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "ok"), FR(0x00, "\xc0"), FEND}, 0,
     U1007, ">close:1007", WS_CLOSED},
    {"message ends inside a sequence", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "a"), FR(0x80, "\xe2\x82"), FEND}, 0,
     U1007, ">close:1007", WS_CLOSED},
    {"message ends after an empty last fragment", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "\xe2\x82"), FR(0x80, ""), FEND},
     0, U1007, ">close:1007", WS_CLOSED},
    {"each message starts afresh", HR_BOTH, HC_DEFAULT, 0, {FR(0x01, "a"), FR(0x80, "\xc3\xa9"), FR(0x81, "\xa9"), FEND},
     0, "text\"a\\xc3\\xa9\" " U1007, ">close:1007", WS_CLOSED},

    /* not text: anything goes */
    {"binary is not checked", HR_BOTH, HC_DEFAULT, 0, {FR(0x82, "\xff\xfe\xc0"), FEND}, 0,
     "bin\"\\xff\\xfe\\xc0\"", "", WS_OPEN},
    {"fragmented binary is not checked", HR_BOTH, HC_DEFAULT, 0, {FR(0x02, "\xe2"), FR(0x80, "\xff"), FEND}, 0,
     "bin\"\\xe2\\xff\"", "", WS_OPEN},
    {"ping payload is not checked", HR_BOTH, HC_DEFAULT, 0, {FR(0x89, "\xff"), FEND}, 0, "ping\"\\xff\"",
     ">pong\"\\xff\"", WS_OPEN},
    {"pong payload is not checked", HR_BOTH, HC_DEFAULT, 0, {FR(0x8A, "\xc0"), FEND}, 0, "pong\"\\xc0\"", "",
     WS_OPEN},

    /* close reasons */
    {"close reason in UTF-8", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, "\xce\xba\xe1\xbd\xb9"), FEND}, 0, "close:1000",
     ">close:1000", HE_ROLE},
    {"close reason not UTF-8", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1000, "bad\xff"), FEND}, 0, U1007, ">close:1007",
     WS_CLOSED},
    {"close reason ends inside a sequence", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(1001, "\xe2\x82"), FEND}, 0, U1007,
     ">close:1007", WS_CLOSED},
    {"close reason with a surrogate", HR_BOTH, HC_DEFAULT, 0, {FCLOSE(3000, "\xed\xa0\x80"), FEND}, 0, U1007,
     ">close:1007", WS_CLOSED},
};

/* A text frame announcing 1000 bytes whose first bytes hold an impossible
 * sequence: the close must be on the wire before the rest arrives. */
typedef struct ff {
    const char *name;
    const char *lead;   /* bytes before the frame (a first fragment) or NULL */
    unsigned char b0;   /* the announcing frame */
    const char *good;   /* bytes that are still fine */
    const char *bad;    /* the byte that makes it impossible */
} ff;

static const ff ff_cases[] = {
    {"0xFF after ASCII", NULL, 0x81, "hello ", "\xff"},
    {"bad continuation of a 4-byte sequence", NULL, 0x81, "hi \xf0\x9f\x98", "\x28"},
    {"overlong E0 80", NULL, 0x81, "x\xe0", "\x80"},
    {"surrogate ED A0", NULL, 0x81, "\xed", "\xa0"},
    {"F4 90", NULL, 0x81, "\xf4", "\x90"},
    {"in a continuation frame", "first part", 0x80, "more ", "\xc0"},
    {"in an unfinished frame", NULL, 0x01, "abc", "\xfe"},
    {"split lead from the first fragment", "ok\xe2", 0x80, "", "A"},
};

static void fail_fast(const ff *f, int server, int fixed, int stream, int delivery, uint64_t seed) {
    hsess s;
    hbuf in = {0}, rest = {0};
    hout o;
    unsigned char key[4];
    size_t goodlen = strlen(f->good), i;
    int mask = server;
    char tail[1000];
    h_set_ctx("fail fast: %s [%s, %s, %s, %s, seed %lu]", f->name, server ? "server" : "client",
              fixed ? "fixed" : "alloc", stream ? "stream" : "message", h_dname[delivery], (unsigned long)seed);
    hs_init(&s, server, delivery, seed);
    if (stream) hs_streaming(&s);
    if (fixed) hs_fixed(&s, 4096, 4096);
    if (server) CHECK(hs_start_server(&s) == 0);
    else CHECK(hs_start_client(&s, &h_client_opts) == 0);
    hs_handshake_bytes(&s, &in);
    if (f->lead) h_frame(&in, &s.rng, mask, 0x01, f->lead, strlen(f->lead));
    h_frame_ex(&in, &s.rng, mask, f->b0, 1000, 0, f->good, goodlen, key);
    hs_deliver(&s, in.p, in.len);
    /* Still possible: nothing said yet. */
    h_parse_out(&s, &o);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    CHECK_STR(hb_cstr(&o.frames), "");
    h_out_free(&o);
    /* The impossible byte, and nothing after it. */
    h_mask_more(&rest, key, mask, goodlen, f->bad, 1);
    hs_deliver(&s, rest.p, rest.len);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:1007");
    CHECK_STR(hb_cstr(&s.log), server ? "open\"\" " U1007 : "open\"\" err:UTF8");
    CHECK_INT(ws_state(&s.c), server ? WS_CLOSED : WS_CLOSING); /* the client waits for the server's EOF */
    CHECK(!o.bad);
    h_out_free(&o);
    /* The rest of the frame changes nothing. */
    for (i = 0; i < sizeof tail; i++) tail[i] = 'z';
    hb_clear(&rest);
    h_mask_more(&rest, key, mask, goodlen + 1, tail, 1000 - goodlen - 1);
    hs_deliver(&s, rest.p, rest.len);
    if (!server) hs_eof(&s);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">close:1007");
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_STR(hb_cstr(&s.log), "open\"\" " U1007);
    CHECK_INT(s.closes, 1);
    hs_invariants(&s);
    h_out_free(&o);
    hb_free(&in), hb_free(&rest);
    hs_free(&s);
}

/* A long text arriving one byte per delivery: the close comes exactly when
 * the first impossible byte is in, not a byte earlier or later. */
static void exact_position(int server, int delivery) {
    static const char text[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok \xf0\x9f\x98";
    hsess s;
    hbuf in = {0}, one = {0};
    unsigned char key[4];
    size_t i, n = sizeof text - 1;
    int mask = server;
    h_set_ctx("exact fail-fast position [%s, %s]", server ? "server" : "client", h_dname[delivery]);
    hs_init(&s, server, delivery, 77);
    if (server) CHECK(hs_start_server(&s) == 0);
    else CHECK(hs_start_client(&s, &h_client_opts) == 0);
    hs_handshake_bytes(&s, &in);
    h_frame_ex(&in, &s.rng, mask, 0x81, 500, 0, "", 0, key);
    hs_deliver(&s, in.p, in.len);
    for (i = 0; i < n; i++) {
        hb_clear(&one);
        h_mask_more(&one, key, mask, i, text + i, 1);
        hs_deliver(&s, one.p, one.len);
        CHECKF(ws_state(&s.c) == WS_OPEN, "closed after byte %lu of a valid prefix", (unsigned long)i);
    }
    hb_clear(&one);
    h_mask_more(&one, key, mask, n, "\xc3", 1); /* 0xC3 cannot continue F0 9F 98 */
    hs_deliver(&s, one.p, one.len);
    CHECK_INT(ws_state(&s.c), server ? WS_CLOSED : WS_CLOSING);
    CHECK_STR(hb_cstr(&s.log), server ? "open\"\" " U1007 : "open\"\" err:UTF8");
    if (!server) hs_eof(&s);
    CHECK_INT(ws_state(&s.c), WS_CLOSED);
    CHECK_STR(hb_cstr(&s.log), "open\"\" " U1007);
    hs_invariants(&s);
    hb_free(&in), hb_free(&one);
    hs_free(&s);
}

/* A server sending text back from on_message: the whole message, as
 * given, goes out without a second validation, but anything else is still
 * checked - a piece of it cut inside a code point, a first fragment (the
 * rest is still to come), the same bytes from another buffer. */
static void echo_sends(hsess *s, int op, const unsigned char *p, size_t n) {
    unsigned char copy[16];
    int *rc = (int *)s->user;
    (void)op;
    memcpy(copy, p, n);
    copy[n - 1] = 0xC3;                                  /* "h\xc3\xc3": invalid */
    rc[0] = ws_send(&s->c, WS_OP_TEXT, p, n);           /* the echo */
    rc[1] = ws_send(&s->c, WS_OP_TEXT, p, n - 1);       /* "h\xc3": cut short */
    rc[2] = ws_send(&s->c, WS_OP_TEXT, copy, n);
    rc[3] = ws_send_frame(&s->c, WS_OP_TEXT, p, n - 1, 0); /* may go on: fine */
    rc[4] = ws_send_frame(&s->c, WS_OP_CONTINUATION, p + n - 1, 1, 1);
}

static void echo_validation(int delivery) {
    static const char text[] = "h\xc3\xa9";
    int rc[5] = {-99, -99, -99, -99, -99};
    hsess s;
    hbuf in = {0};
    hout o;
    h_set_ctx("echo skips only the whole message [%s]", h_dname[delivery]);
    hs_init(&s, 1, delivery, 5);
    s.on_msg = echo_sends, s.user = rc;
    CHECK(hs_start_server(&s) == 0);
    hs_handshake_bytes(&s, &in);
    hs_deliver(&s, in.p, in.len);
    hs_settle(&s); /* OPEN first: a frame in the read that opens is not batched */
    hb_clear(&in);
    h_frame(&in, &s.rng, 1, 0x81, text, sizeof text - 1);
    hs_deliver(&s, in.p, in.len);
    hs_settle(&s);
    CHECK_INT(rc[0], 0);
    CHECK_INT(rc[1], WS_E_UTF8);
    CHECK_INT(rc[2], WS_E_UTF8);
    CHECK_INT(rc[3], 0);
    CHECK_INT(rc[4], 0);
    h_parse_out(&s, &o);
    CHECK_STR(hb_cstr(&o.frames), ">text\"h\\xc3\\xa9\" >text~\"h\\xc3\" >cont\"\\xa9\"");
    CHECK(!o.bad);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    hs_invariants(&s);
    h_out_free(&o);
    hb_free(&in);
    hs_free(&s);
}

int main(void) {
    size_t i;
    int server, fixed, stream, d;
    unsigned k;
    h_run_table(rows, sizeof rows / sizeof rows[0], 6, HR_BOTH);
    for (i = 0; i < sizeof ff_cases / sizeof ff_cases[0]; i++)
        for (server = 0; server < 2; server++)
            for (fixed = 0; fixed < 2; fixed++)
                for (stream = 0; stream < 2; stream++)
                    for (d = 0; d < D_COUNT; d++)
                        for (k = 0; k < (d == D_RANDOM ? 4u : d == D_FEED_SPLIT ? 2u : 1u); k++)
                            fail_fast(&ff_cases[i], server, fixed, stream, d, 31u * i + 7u * k + (unsigned)d);
    for (server = 0; server < 2; server++)
        for (d = 0; d < D_COUNT; d++) exact_position(server, d);
    for (d = 0; d < D_COUNT; d++) echo_validation(d);
    return h_report();
}
