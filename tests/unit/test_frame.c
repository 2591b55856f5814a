/* Frame codec: headers written and parsed back at every length boundary
 * and flag combination, parsed from every prefix (incomplete until whole),
 * the RFC 6455 section 5.7 examples, ws_frame_check's rules and the close
 * code table. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

#define SENTINEL 0xEE

/* The bytes RFC 6455 section 5.2 prescribes, built here field by field. */
static size_t expected_header(unsigned char *out, int fin, int rsv, int opcode, uint64_t len,
                              const unsigned char *key) {
    size_t n = 2, i;
    out[0] = (unsigned char)((fin ? 0x80 : 0) | rsv << 4 | opcode);
    if (len <= 125) {
        out[1] = (unsigned char)len;
    } else if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (unsigned char)(len / 256);
        out[3] = (unsigned char)(len % 256);
        n = 4;
    } else {
        out[1] = 127;
        for (i = 0; i < 8; i++) out[2 + i] = (unsigned char)((len >> (8 * (7 - i))) & 0xFF);
        n = 10;
    }
    if (key) {
        out[1] = (unsigned char)(out[1] | 0x80);
        for (i = 0; i < 4; i++) out[n + i] = key[i];
        n += 4;
    }
    return n;
}

static int header_equals(const ws_frame_header *h, int fin, int rsv, int opcode, uint64_t len,
                         const unsigned char *key, size_t header_len) {
    return h->fin == fin && h->rsv == rsv && h->opcode == opcode && h->payload_len == len &&
           h->masked == (key != NULL) && (!key || memcmp(h->mask_key, key, 4) == 0) &&
           h->header_len == header_len;
}

/* Every prefix shorter than the header is incomplete; the whole header,
 * alone or followed by payload bytes, parses to its length. */
static int prefixes_ok(const unsigned char *hdr, size_t n) {
    unsigned char buf[WS_FRAME_HEADER_MAX + 8];
    ws_frame_header h;
    size_t k;
    memcpy(buf, hdr, n);
    memset(buf + n, 0xFF, sizeof buf - n);
    for (k = 0; k < n; k++)
        if (ws_frame_parse(buf, k, &h) != WS_E_INCOMPLETE) return 0;
    return ws_frame_parse(buf, n, &h) == (int)n && ws_frame_parse(buf, sizeof buf, &h) == (int)n;
}

static void test_round_trips(void) {
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, (uint64_t)1 << 32,
                                    ((uint64_t)1 << 63) - 1};
    static const unsigned char key[4] = {0x01, 0x80, 0xFF, 0x7E};
    unsigned long cases = 0, bad_write = 0, bad_parse = 0, bad_prefix = 0;
    size_t li;
    int masked, opcode, fin, rsv;
    for (li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (masked = 0; masked < 2; masked++)
            for (opcode = 0; opcode < 16; opcode++)
                for (fin = 0; fin < 2; fin++)
                    for (rsv = 0; rsv < 8; rsv++) {
                        unsigned char out[WS_FRAME_HEADER_MAX + 4], want[WS_FRAME_HEADER_MAX];
                        const unsigned char *k = masked ? key : NULL;
                        size_t wn = expected_header(want, fin, rsv, opcode, lens[li], k), n;
                        ws_frame_header h;
                        int r;
                        memset(out, SENTINEL, sizeof out);
                        n = ws_frame_write(out, fin, rsv, opcode, lens[li], k);
                        cases++;
                        if (n != wn || memcmp(out, want, wn) != 0 || out[n] != SENTINEL) {
                            if (++bad_write <= 5)
                                printf("  write: fin %d rsv %d op %d len %llu masked %d\n", fin, rsv,
                                       opcode, (unsigned long long)lens[li], masked);
                            continue;
                        }
                        memset(&h, 0x55, sizeof h);
                        r = ws_frame_parse(out, n, &h);
                        if (r != (int)n || !header_equals(&h, fin, rsv, opcode, lens[li], k, n)) bad_parse++;
                        if (!prefixes_ok(out, n)) bad_prefix++;
                    }
    printf("frame: %lu header round trips\n", cases);
    CHECKF(bad_write == 0, "%lu headers written differently from RFC 6455 5.2", bad_write);
    CHECKF(bad_parse == 0, "%lu headers parsed back differently", bad_parse);
    CHECKF(bad_prefix == 0, "%lu headers not incomplete on a prefix", bad_prefix);

    /* Header lengths at the boundaries. */
    {
        unsigned char out[WS_FRAME_HEADER_MAX];
        CHECK(ws_frame_write(out, 1, 0, 2, 125, NULL) == 2);
        CHECK(ws_frame_write(out, 1, 0, 2, 126, NULL) == 4);
        CHECK(ws_frame_write(out, 1, 0, 2, 65535, NULL) == 4);
        CHECK(ws_frame_write(out, 1, 0, 2, 65536, NULL) == 10);
        CHECK(ws_frame_write(out, 1, 0, 2, ((uint64_t)1 << 63) - 1, key) == WS_FRAME_HEADER_MAX);
    }
}

static void test_random_round_trips(void) {
    test_rng rng;
    int i, ok = 1;
    rng.s = 52;
    for (i = 0; i < 20000; i++) {
        unsigned char out[WS_FRAME_HEADER_MAX], key[4];
        uint64_t len = test_rand(&rng) >> (1 + test_below(&rng, 63)); /* every magnitude, < 2^63 */
        int fin = (int)test_below(&rng, 2), rsv = (int)test_below(&rng, 8), op = (int)test_below(&rng, 16);
        int masked = (int)test_below(&rng, 2);
        ws_frame_header h;
        size_t n;
        test_fill(&rng, key, 4);
        n = ws_frame_write(out, fin, rsv, op, len, masked ? key : NULL);
        if (ws_frame_parse(out, n, &h) != (int)n ||
            !header_equals(&h, fin, rsv, op, len, masked ? key : NULL, n) || !prefixes_ok(out, n))
            ok = 0;
    }
    CHECKF(ok, "random header round trips");
}

static void test_rfc_examples(void) {
    ws_frame_header h;
    /* A single-frame unmasked text message "Hello". */
    static const unsigned char t1[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    /* A single-frame masked text message "Hello". */
    static const unsigned char t2[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    /* A fragmented unmasked text message: "Hel" then "lo". */
    static const unsigned char t3a[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    static const unsigned char t3b[] = {0x80, 0x02, 0x6c, 0x6f};
    /* Unmasked ping "Hello"; masked pong "Hello". */
    static const unsigned char t4[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    static const unsigned char t5[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    /* 256 bytes and 64 KiB binary messages, headers only. */
    static const unsigned char t6[] = {0x82, 0x7E, 0x01, 0x00};
    static const unsigned char t7[] = {0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char payload[5];

    CHECK(ws_frame_parse(t1, sizeof t1, &h) == 2 && header_equals(&h, 1, 0, 1, 5, NULL, 2));
    CHECK(ws_frame_parse(t2, sizeof t2, &h) == 6 && header_equals(&h, 1, 0, 1, 5, key, 6));
    memcpy(payload, t2 + 6, 5);
    ws_mask(payload, 5, h.mask_key, 0);
    CHECK(memcmp(payload, "Hello", 5) == 0);
    CHECK(ws_frame_parse(t3a, sizeof t3a, &h) == 2 && header_equals(&h, 0, 0, WS_OP_TEXT, 3, NULL, 2));
    CHECK(ws_frame_parse(t3b, sizeof t3b, &h) == 2 &&
          header_equals(&h, 1, 0, WS_OP_CONTINUATION, 2, NULL, 2));
    CHECK(ws_frame_parse(t4, sizeof t4, &h) == 2 && header_equals(&h, 1, 0, WS_OP_PING, 5, NULL, 2));
    CHECK(ws_frame_parse(t5, sizeof t5, &h) == 6 && header_equals(&h, 1, 0, WS_OP_PONG, 5, key, 6));
    CHECK(ws_frame_parse(t6, sizeof t6, &h) == 4 && header_equals(&h, 1, 0, WS_OP_BINARY, 256, NULL, 4));
    CHECK(ws_frame_parse(t7, sizeof t7, &h) == 10 &&
          header_equals(&h, 1, 0, WS_OP_BINARY, 65536, NULL, 10));

    /* And the writer produces exactly those headers. */
    {
        unsigned char out[WS_FRAME_HEADER_MAX];
        CHECK(ws_frame_write(out, 1, 0, WS_OP_TEXT, 5, NULL) == 2 && memcmp(out, t1, 2) == 0);
        CHECK(ws_frame_write(out, 1, 0, WS_OP_TEXT, 5, key) == 6 && memcmp(out, t2, 6) == 0);
        CHECK(ws_frame_write(out, 0, 0, WS_OP_TEXT, 3, NULL) == 2 && memcmp(out, t3a, 2) == 0);
        CHECK(ws_frame_write(out, 1, 0, WS_OP_CONTINUATION, 2, NULL) == 2 && memcmp(out, t3b, 2) == 0);
        CHECK(ws_frame_write(out, 1, 0, WS_OP_PONG, 5, key) == 6 && memcmp(out, t5, 6) == 0);
        CHECK(ws_frame_write(out, 1, 0, WS_OP_BINARY, 256, NULL) == 4 && memcmp(out, t6, 4) == 0);
        CHECK(ws_frame_write(out, 1, 0, WS_OP_BINARY, 65536, NULL) == 10 && memcmp(out, t7, 10) == 0);
    }
}

static void test_length_top_bit(void) {
    unsigned char b[WS_FRAME_HEADER_MAX];
    ws_frame_header h;
    int masked, top;
    for (masked = 0; masked < 2; masked++)
        for (top = 0x80; top <= 0xFF; top++) {
            size_t i;
            int r;
            b[0] = 0x82, b[1] = (unsigned char)(masked ? 0xFF : 0x7F);
            b[2] = (unsigned char)top;
            for (i = 3; i < sizeof b; i++) b[i] = (unsigned char)(i * 37);
            r = ws_frame_parse(b, masked ? 14 : 10, &h);
            CHECKF(r == WS_E_PROTOCOL, "64-bit length starting %02x (masked %d): %d", top, masked, r);
        }
    /* 2^63 exactly is too long; 2^63 - 1 is the largest allowed. */
    memset(b, 0, sizeof b);
    b[0] = 0x82, b[1] = 0x7F, b[2] = 0x80;
    CHECK(ws_frame_parse(b, 10, &h) == WS_E_PROTOCOL);
    memset(b + 2, 0xFF, 8);
    b[2] = 0x7F;
    CHECK(ws_frame_parse(b, 10, &h) == 10 && h.payload_len == ((uint64_t)1 << 63) - 1);
}

static void test_check_rules(void) {
    static const uint64_t lens[] = {0, 125, 126, 65536};
    unsigned long cases = 0, wrong = 0, no_why = 0;
    int server, op, fin, rsv, masked;
    size_t li;
    for (server = 0; server < 2; server++)
        for (op = 0; op < 16; op++)
            for (fin = 0; fin < 2; fin++)
                for (rsv = 0; rsv < 8; rsv++)
                    for (masked = 0; masked < 2; masked++)
                        for (li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                            ws_frame_header h;
                            const char *why = NULL;
                            int control = op >= 8, known = op <= 2 || (op >= 8 && op <= 10);
                            int ok = rsv == 0 && known && !(control && (!fin || lens[li] > 125)) &&
                                     masked == server;
                            int r;
                            memset(&h, 0, sizeof h);
                            h.fin = (unsigned char)fin, h.rsv = (unsigned char)rsv;
                            h.opcode = (unsigned char)op, h.masked = (unsigned char)masked;
                            h.payload_len = lens[li];
                            h.header_len = 2;
                            r = ws_frame_check(&h, server, &why);
                            cases++;
                            if (r != (ok ? 0 : WS_E_PROTOCOL)) {
                                if (++wrong <= 5)
                                    printf("  check: server %d op %d fin %d rsv %d masked %d len %llu: %d\n",
                                           server, op, fin, rsv, masked, (unsigned long long)lens[li], r);
                            }
                            if (!ok && (!why || !*why)) no_why++;
                            if (ws_frame_check(&h, server, NULL) != r) wrong++;
                        }
    printf("frame: %lu ws_frame_check cases\n", cases);
    CHECKF(wrong == 0, "ws_frame_check: %lu wrong verdicts", wrong);
    CHECKF(no_why == 0, "ws_frame_check: %lu errors without an explanation", no_why);

    /* Named cases, so a failure reads as a rule. */
    {
        ws_frame_header h;
        const char *why;
        memset(&h, 0, sizeof h);
        h.fin = 1, h.opcode = WS_OP_TEXT, h.masked = 1;
        CHECK(ws_frame_check(&h, 1, &why) == 0);          /* client text to server */
        CHECK(ws_frame_check(&h, 0, &why) == WS_E_PROTOCOL); /* masked frame from a server */
        h.masked = 0;
        CHECK(ws_frame_check(&h, 0, &why) == 0);
        CHECK(ws_frame_check(&h, 1, &why) == WS_E_PROTOCOL); /* unmasked frame from a client */
        h.rsv = 4;
        CHECK(ws_frame_check(&h, 0, &why) == WS_E_PROTOCOL); /* RSV1 without an extension */
        h.rsv = 0, h.opcode = 3;
        CHECK(ws_frame_check(&h, 0, &why) == WS_E_PROTOCOL);
        h.opcode = 11;
        CHECK(ws_frame_check(&h, 0, &why) == WS_E_PROTOCOL);
        h.opcode = WS_OP_PING, h.fin = 0;
        CHECK(ws_frame_check(&h, 0, &why) == WS_E_PROTOCOL); /* fragmented control frame */
        h.fin = 1, h.payload_len = 126;
        CHECK(ws_frame_check(&h, 0, &why) == WS_E_PROTOCOL); /* control frame > 125 */
        h.payload_len = 125;
        CHECK(ws_frame_check(&h, 0, &why) == 0);
        h.opcode = WS_OP_CONTINUATION, h.fin = 0, h.payload_len = 1000000;
        CHECK(ws_frame_check(&h, 0, &why) == 0); /* data frames may be fragmented and long */
    }
}

static void test_close_codes(void) {
    unsigned code;
    unsigned long wrong = 0;
    for (code = 0; code < 70000; code++) {
        int want = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                   (code >= 3000 && code <= 4999);
        if (!ws_close_code_valid(code) != !want) {
            if (++wrong <= 5) printf("  close code %u: %d\n", code, ws_close_code_valid(code));
        }
    }
    CHECKF(wrong == 0, "close code table: %lu wrong", wrong);
    /* The ones that matter most, by name. */
    CHECK(ws_close_code_valid(1000) && ws_close_code_valid(1001) && ws_close_code_valid(1002));
    CHECK(ws_close_code_valid(1003) && ws_close_code_valid(1007) && ws_close_code_valid(1011));
    CHECK(ws_close_code_valid(3000) && ws_close_code_valid(4999));
    CHECK(!ws_close_code_valid(0) && !ws_close_code_valid(999));
    CHECK(!ws_close_code_valid(1004));                                   /* reserved */
    CHECK(!ws_close_code_valid(1005) && !ws_close_code_valid(1006));     /* never sent */
    CHECK(!ws_close_code_valid(1015));                                   /* TLS, never sent */
    CHECK(!ws_close_code_valid(1016) && !ws_close_code_valid(2999) && !ws_close_code_valid(5000));
    CHECK(!ws_close_code_valid(65535) && !ws_close_code_valid(0xFFFFFFFFu));
    CHECK(!ws_close_code_valid(1000u + 65536u)); /* no truncation to 16 bits */
}

int main(void) {
    test_round_trips();
    test_random_round_trips();
    test_rfc_examples();
    test_length_top_bit();
    test_check_rules();
    test_close_codes();
    return test_report();
}
