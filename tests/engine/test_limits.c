/* Size limits (RFC 6455 section 7.4.1, 1009) and streaming delivery:
 * max_message and max_frame, the fixed-buffer bound rx_cap - WS_RX_RESERVE,
 * and on_fragment carrying messages far larger than the receive buffer. */
#include "harness.h"

#define T1009 "err:TOO_BIG close:1009"

static const hrow rows[] = {
    /* max_message = 100 */
    {"max_message: 100 bytes", HR_BOTH, HC_MAXMSG100, 0, {FBIG(0x82, 100), FEND}, 0, "bin[100:az]", "", WS_OPEN},
    {"max_message: 101 bytes", HR_BOTH, HC_MAXMSG100, 0, {FBIG(0x82, 101), FEND}, 0, T1009, ">close:1009", WS_CLOSED},
    {"max_message: 101 bytes of text", HR_BOTH, HC_MAXMSG100, 0, {FBIG(0x81, 101), FEND}, 0, T1009, ">close:1009",
     WS_CLOSED},
    {"max_message: 60 + 40 in fragments", HR_BOTH, HC_MAXMSG100, 0, {FBIG(0x02, 60), FBIG(0x80, 40), FEND}, 0,
     "bin[100:23ebc369]", "", WS_OPEN},
    {"max_message: 60 + 41 in fragments", HR_BOTH, HC_MAXMSG100, 0, {FBIG(0x02, 60), FBIG(0x80, 41), FEND}, 0,
     T1009, ">close:1009", WS_CLOSED},
    {"max_message: 30 + 30 + 30 + 10", HR_BOTH, HC_MAXMSG100, 0,
     {FBIG(0x01, 30), FBIG(0x00, 30), FBIG(0x00, 30), FBIG(0x80, 10), FEND}, 0, "text[100:5655798d]", "", WS_OPEN},
    {"max_message: 30 + 30 + 30 + 11, unfinished", HR_BOTH, HC_MAXMSG100, 0,
     {FBIG(0x01, 30), FBIG(0x00, 30), FBIG(0x00, 30), FBIG(0x00, 11), FEND}, 0, T1009, ">close:1009", WS_CLOSED},
    {"max_message: the limit is per message", HR_BOTH, HC_MAXMSG100, 0,
     {FBIG(0x82, 100), FBIG(0x82, 100), FBIG(0x81, 100), FEND}, 0, "bin[100:az] bin[100:az] text[100:az]", "",
     WS_OPEN},
    {"max_message: huge announced length", HR_BOTH, HC_MAXMSG100, 0,
     {{0x82, HF_ANNOUNCE | HF_LEN64, "", 0, 1ull << 40}, FEND}, 0, T1009, ">close:1009", WS_CLOSED},
    {"max_message: control frames do not count", HR_BOTH, HC_MAXMSG100, 0,
     {FBIG(0x02, 60), FBIG(0x89, 125), FBIG(0x80, 40), FEND}, 0, "ping[125:az] bin[100:23ebc369]", ">pong[125:az]",
     WS_OPEN},

    /* max_frame = 50 */
    {"max_frame: 50 bytes", HR_BOTH, HC_MAXFRAME50, 0, {FBIG(0x82, 50), FEND}, 0, "bin[50:az]", "", WS_OPEN},
    {"max_frame: 51 bytes", HR_BOTH, HC_MAXFRAME50, 0, {FBIG(0x82, 51), FEND}, 0, T1009, ">close:1009", WS_CLOSED},
    {"max_frame: 50 + 50 in fragments", HR_BOTH, HC_MAXFRAME50, 0, {FBIG(0x02, 50), FBIG(0x80, 50), FEND}, 0,
     "bin[100:da70df99]", "", WS_OPEN},
    {"max_frame: 50 + 51 in fragments", HR_BOTH, HC_MAXFRAME50, 0, {FBIG(0x02, 50), FBIG(0x80, 51), FEND}, 0, T1009,
     ">close:1009", WS_CLOSED},

    /* a fixed 1 KiB receive buffer holds messages of 1024 - WS_RX_RESERVE = 888 bytes */
    {"1 KiB buffer: 888 bytes", HR_BOTH, HC_FIXED1K, HO_NOSTREAM, {FBIG(0x82, 888), FEND}, 0, "bin[888:az]", "",
     WS_OPEN},
    {"1 KiB buffer: 888 bytes of text", HR_BOTH, HC_FIXED1K, HO_NOSTREAM, {FBIG(0x81, 888), FEND}, 0, "text[888:az]",
     "", WS_OPEN},
    {"1 KiB buffer: 889 bytes", HR_BOTH, HC_FIXED1K, HO_NOSTREAM, {FBIG(0x82, 889), FEND}, 0, T1009, ">close:1009",
     WS_CLOSED},
    {"1 KiB buffer: 444 + 444 in fragments", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x02, 444), FBIG(0x80, 444), FEND}, 0, "bin[888:d60408cd]", "", WS_OPEN},
    {"1 KiB buffer: 444 + 125-byte ping + 444", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x02, 444), FBIG(0x89, 125), FBIG(0x80, 444), FEND}, 0, "ping[125:az] bin[888:d60408cd]",
     ">pong[125:az]", WS_OPEN},
    {"1 KiB buffer: 888 + 125-byte ping + empty last fragment", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x02, 888), FBIG(0x89, 125), FBIG(0x80, 0), FEND}, 0, "ping[125:az] bin[888:az]", ">pong[125:az]",
     WS_OPEN},
    {"1 KiB buffer: 888 + 125-byte close", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x02, 888), FCLOSE(1000, "a reason of 123 bytes ............................................................."
                          "........................................"), FEND},
     0, "close:1000", ">close:1000", HE_ROLE},
    {"1 KiB buffer: 444 + close + 444", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x02, 444), FCLOSE(1000, "a reason that is fairly long, to fill the reserve up well"), FEND}, 0,
     "close:1000", ">close:1000", HE_ROLE},
    {"1 KiB buffer: 444 + 445 in fragments", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x02, 444), FBIG(0x80, 445), FEND}, 0, T1009, ">close:1009", WS_CLOSED},
    {"1 KiB buffer: many small messages", HR_BOTH, HC_FIXED1K, HO_NOSTREAM,
     {FBIG(0x82, 800), FBIG(0x82, 800), FBIG(0x81, 800), FBIG(0x82, 888), FBIG(0x82, 1), FEND}, 0,
     "bin[800:az] bin[800:az] text[800:az] bin[888:az] bin\"a\"", "", WS_OPEN},

    /* streaming through a fixed 1 KiB buffer: no such bound */
    {"stream, 1 KiB buffer: 5000 bytes", HR_BOTH, HC_STREAM1K, 0, {FBIG(0x82, 5000), FEND}, 0, "bin[5000:az]", "",
     WS_OPEN},
    {"stream, 1 KiB buffer: 70000 bytes of text", HR_BOTH, HC_STREAM1K, 0, {FBIG(0x81, 70000), FEND}, 0,
     "text[70000:az]", "", WS_OPEN},
    {"stream, 1 KiB buffer: fragments and a ping", HR_BOTH, HC_STREAM1K, 0,
     {FBIG(0x02, 444), FBIG(0x89, 125), FBIG(0x80, 444), FEND}, 0, "ping[125:az] bin[888:d60408cd]",
     ">pong[125:az]", WS_OPEN},
};

/* ---- streaming: 10 MiB through a 1 KiB buffer ---- */

typedef struct stream_check {
    uint64_t id;       /* message id for h_pattern */
    uint64_t pos;      /* bytes of the current message seen */
    uint64_t want;     /* its length */
    unsigned long messages, pieces, bad_flags, bad_bytes, empty_pieces;
    int open;
    ws_utf8_state utf8;
    int text;
} stream_check;

static void on_piece(ws_conn *c, int op, const void *data, size_t len, int flags) {
    hsess *s = (hsess *)c->user;
    stream_check *k = (stream_check *)s->user;
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    k->pieces++;
    if (!len && !(flags & WS_LAST)) k->empty_pieces++;
    if (flags & WS_FIRST) {
        if (k->open) k->bad_flags++;
        k->open = 1, k->pos = 0, k->utf8 = WS_UTF8_ACCEPT;
    } else if (!k->open) {
        k->bad_flags++;
    }
    if (op != (k->text ? WS_OP_TEXT : WS_OP_BINARY)) k->bad_flags++;
    if (k->text) {
        if (ws_utf8_feed(&k->utf8, p, len, NULL) != 0) k->bad_bytes++;
        for (i = 0; i < len; i++)
            if (p[i] != (unsigned char)"\xe2\x82\xac"[(k->pos + i) % 3]) k->bad_bytes++;
    } else {
        for (i = 0; i < len; i++)
            if (p[i] != h_pattern(k->id, k->pos + i)) k->bad_bytes++;
    }
    k->pos += len;
    if (flags & WS_LAST) {
        if (k->pos != k->want) k->bad_bytes++;
        if (k->text && ws_utf8_finish(&k->utf8) != 0) k->bad_bytes++;
        k->open = 0;
        k->messages++;
        k->id++;
        k->want = 0, k->text = 0; /* then an empty binary message */
    }
}

/* One message of `total` bytes (text: euro signs) sent as `frames` frames of
 * random sizes (1: a single frame), streamed through a 1 KiB buffer. */
static void stream_big(int server, int delivery, uint64_t total, unsigned frames, int text, uint64_t seed) {
    hsess s;
    stream_check k;
    hbuf in = {0};
    uint64_t sent = 0;
    unsigned f;
    unsigned char *payload;
    size_t i;
    memset(&k, 0, sizeof k);
    k.id = 1000 + seed, k.want = total, k.text = text;
    h_set_ctx("stream %lu bytes in %u frames [%s, %s, %s, seed %lu]", (unsigned long)total, frames,
              server ? "server" : "client", text ? "text" : "binary", h_dname[delivery], (unsigned long)seed);
    hs_init(&s, server, delivery, seed);
    hs_fixed(&s, 1024, 1024);
    s.cfg.on_fragment = on_piece;
    s.user = &k;
    if (server) CHECK(hs_start_server(&s) == 0);
    else CHECK(hs_start_client(&s, &h_client_opts) == 0);
    hs_handshake_bytes(&s, &in);
    payload = (unsigned char *)malloc((size_t)total + 1);
    for (i = 0; i < (size_t)total; i++)
        payload[i] = text ? (unsigned char)"\xe2\x82\xac"[i % 3] : h_pattern(k.id, i);
    for (f = 0; f < frames; f++) {
        uint64_t n = f + 1 == frames ? total - sent : (uint64_t)hr_below(&s.rng, (size_t)(2 * total / frames) + 1);
        unsigned b0;
        if (n > total - sent) n = total - sent;
        b0 = (f == 0 ? (text ? 0x01u : 0x02u) : 0x00u) | (f + 1 == frames ? 0x80u : 0u);
        h_frame(&in, &s.rng, server, b0, payload + sent, (size_t)n);
        sent += n;
        if (f % 7 == 3) h_frame(&in, &s.rng, server, 0x89, "k", 1); /* a ping now and then */
    }
    h_frame(&in, &s.rng, server, 0x82, "", 0); /* then an empty message */
    hs_deliver(&s, in.p, in.len);
    CHECK_INT(ws_state(&s.c), WS_OPEN);
    CHECK_INT(k.messages, 2);
    CHECK_INT(k.bad_flags, 0);
    CHECKF(k.bad_bytes == 0 || k.messages != 2, "%lu bad bytes", k.bad_bytes);
    CHECK(!k.open);
    CHECKF(k.pieces >= (unsigned long)(total / 1024), "only %lu pieces for %lu bytes through 1 KiB", k.pieces,
           (unsigned long)total);
    CHECK_INT(s.errors, 0);
    hs_invariants(&s);
    free(payload);
    hb_free(&in);
    hs_free(&s);
}

/* max_message also bounds a streamed message. */
static void stream_limit(int server, int delivery) {
    int over;
    for (over = 0; over < 2; over++) {
        hsess s;
        hbuf in = {0};
        hout o;
        h_set_ctx("stream with max_message 10000, %s [%s, %s]", over ? "10001 bytes" : "10000 bytes",
                  server ? "server" : "client", h_dname[delivery]);
        hs_init(&s, server, delivery, 5);
        hs_fixed(&s, 1024, 1024);
        hs_streaming(&s);
        s.cfg.max_message = 10000;
        if (server) CHECK(hs_start_server(&s) == 0);
        else CHECK(hs_start_client(&s, &h_client_opts) == 0);
        hs_handshake_bytes(&s, &in);
        {
            static unsigned char zeros[10001];
            h_frame(&in, &s.rng, server, 0x02, zeros, 6000);
            h_frame(&in, &s.rng, server, 0x80, zeros, over ? 4001u : 4000u);
        }
        hs_deliver(&s, in.p, in.len);
        h_parse_out(&s, &o);
        if (over) {
            CHECK_STR(hb_cstr(&o.frames), ">close:1009");
            if (!server) hs_eof(&s); /* the client waits for the server to hang up */
            CHECK_STR(hb_cstr(&s.log), "open\"\" " T1009);
        } else {
            CHECK_STR(hb_cstr(&o.frames), "");
            CHECK_STR(hb_cstr(&s.log), "open\"\" bin[10000:73d70505]");
        }
        hs_invariants(&s);
        h_out_free(&o);
        hb_free(&in);
        hs_free(&s);
    }
}

/* The default limit in allocator mode is 16 MiB. */
static void default_limit(int server, int delivery) {
    int over;
    for (over = 0; over < 2; over++) {
        hsess s;
        hbuf in = {0};
        hout o;
        size_t n = ((size_t)16 << 20) + (size_t)over;
        unsigned char *p = (unsigned char *)calloc(n, 1);
        h_set_ctx("allocator default max_message, %s [%s, %s]", over ? "16 MiB + 1" : "16 MiB",
                  server ? "server" : "client", h_dname[delivery]);
        hs_init(&s, server, delivery, 9);
        if (server) CHECK(hs_start_server(&s) == 0);
        else CHECK(hs_start_client(&s, &h_client_opts) == 0);
        hs_handshake_bytes(&s, &in);
        /* Over the limit the header alone must be refused: send just it and
         * a few payload bytes. */
        h_frame_ex(&in, &s.rng, server, 0x82, n, 0, p, over ? 16 : n, NULL);
        hs_deliver(&s, in.p, in.len);
        h_parse_out(&s, &o);
        if (over) {
            CHECK_STR(hb_cstr(&o.frames), ">close:1009");
            if (!server) hs_eof(&s); /* the client waits for the server to hang up */
            CHECK_STR(hb_cstr(&s.log), "open\"\" " T1009);
            /* It failed on the header: no buffer grew toward 16 MiB. */
            CHECKF(s.peak_bytes < ((size_t)1 << 20), "peak %lu bytes", (unsigned long)s.peak_bytes);
        } else {
            CHECK_STR(hb_cstr(&o.frames), "");
            CHECKF(!strncmp(hb_cstr(&s.log), "open\"\" bin[16777216:", 20), "log %.60s", hb_cstr(&s.log));
            CHECKF(s.peak_bytes < ((size_t)48 << 20), "peak %lu bytes", (unsigned long)s.peak_bytes);
        }
        hs_invariants(&s);
        h_out_free(&o);
        hb_free(&in);
        free(p);
        hs_free(&s);
    }
}

int main(void) {
    int server, d;
    unsigned k;
    h_run_table(rows, sizeof rows / sizeof rows[0], 6, HR_BOTH);
    for (server = 0; server < 2; server++)
        for (d = 0; d < D_COUNT; d++) {
            if (d != D_BYTE) {
                for (k = 0; k < (d == D_RANDOM ? 2u : 1u); k++) {
                    stream_big(server, d, (uint64_t)10 << 20, 1, 0, 11u + k);
                    stream_big(server, d, (uint64_t)10 << 20, 40, 0, 21u + k);
                }
                stream_big(server, d, ((uint64_t)1 << 20) - 1, 25, 1, 31); /* whole euro signs */
            } else {
                stream_big(server, d, 100000, 1, 0, 41);
                stream_big(server, d, 99999, 30, 1, 42);
            }
            stream_limit(server, d);
            if (d == D_WHOLE || d == D_FEED) default_limit(server, d);
        }
    return h_report();
}
