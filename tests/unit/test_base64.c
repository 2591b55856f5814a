/* base64: RFC 4648 section 10 vectors both ways, strict rejection of
 * anything non-canonical without a partial result, buffer limits, and a
 * round trip of random data. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

#define SENTINEL 0xA5

static const char *const rfc_plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc_coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static int untouched(const unsigned char *p, size_t from, size_t to) {
    size_t i;
    for (i = from; i < to; i++)
        if (p[i] != SENTINEL) return 0;
    return 1;
}

/* Decoding `in` must fail with `want` and leave every byte of out alone. */
static void expect_decode_error(const char *in, size_t len, int want, const char *what) {
    unsigned char out[64];
    int r;
    memset(out, SENTINEL, sizeof out);
    r = ws_base64_decode(in, len, out, sizeof out);
    CHECKF(r == want, "%s: decode gives %d, want %d", what, r, want);
    CHECKF(untouched(out, 0, sizeof out), "%s: output written on error", what);
}

static void test_rfc_vectors(void) {
    size_t i;
    for (i = 0; i < sizeof rfc_plain / sizeof rfc_plain[0]; i++) {
        const char *plain = rfc_plain[i], *coded = rfc_coded[i];
        size_t plen = strlen(plain), clen = strlen(coded);
        char enc[32];
        unsigned char dec[32];
        int r;

        CHECKF(WS_BASE64_ENCODED_LEN(plen) == clen, "encoded length of \"%s\"", plain);
        memset(enc, SENTINEL, sizeof enc);
        r = ws_base64_encode(plain, plen, enc, sizeof enc);
        CHECKF(r == (int)clen && strcmp(enc, coded) == 0, "encode \"%s\": %d", plain, r);

        /* Exactly enough room (encoding plus NUL) works; one less does not
         * and writes nothing past the given capacity. */
        memset(enc, SENTINEL, sizeof enc);
        r = ws_base64_encode(plain, plen, enc, clen + 1);
        CHECKF(r == (int)clen && strcmp(enc, coded) == 0, "encode \"%s\" into exact room", plain);
        memset(enc, SENTINEL, sizeof enc);
        r = ws_base64_encode(plain, plen, enc, clen);
        CHECKF(r == WS_E_NOMEM, "encode \"%s\" into one byte too few: %d", plain, r);
        CHECKF(untouched((unsigned char *)enc, clen, sizeof enc), "encode wrote past its capacity");

        memset(dec, SENTINEL, sizeof dec);
        r = ws_base64_decode(coded, clen, dec, sizeof dec);
        CHECKF(r == (int)plen && memcmp(dec, plain, plen) == 0, "decode \"%s\": %d", coded, r);
        CHECKF(untouched(dec, plen, sizeof dec), "decode \"%s\" wrote past the result", coded);

        memset(dec, SENTINEL, sizeof dec);
        r = ws_base64_decode(coded, clen, dec, plen);
        CHECKF(r == (int)plen && memcmp(dec, plain, plen) == 0, "decode \"%s\" into exact room", coded);
        if (plen > 0) {
            memset(dec, SENTINEL, sizeof dec);
            r = ws_base64_decode(coded, clen, dec, plen - 1);
            CHECKF(r == WS_E_NOMEM, "decode \"%s\" into one byte too few: %d", coded, r);
            CHECKF(untouched(dec, plen - 1, sizeof dec), "decode wrote past its capacity");
        }
    }
    /* Decoding an empty string needs no room at all. */
    CHECK(ws_base64_decode("", 0, NULL, 0) == 0);
}

static void test_rejects(void) {
    static const char *const bad_padding[] = {
        "Zg=a",     /* '=' followed by data */
        "Z===",     /* three pad characters */
        "====",     /* nothing but padding */
        "Zh==",     /* non-canonical: 'h' leaves nonzero bits that padding drops */
        "Zm9=",     /* non-canonical: '9' leaves nonzero bits */
        "Zg==Zg==", /* padding in the middle */
        "=Zg=",     /* padding first */
        "Zm=v",     /* pad then data within a group */
        "Zm9vY===", /* three pad characters in the last group */
    };
    static const char *const bad_length[] = {"Z", "Zm", "Zm9", "Zm9vY", "Zm9vYg", "Zm9vYg=", "Zm9vYg==="};
    static const unsigned char outsiders[] = {'!', '-', '_', ' ', '.', '\n', '\r', '\0', 0x80, 0xFF, '*', '~', ':', '@', '[', '`', '{'};
    size_t i, pos;

    for (i = 0; i < sizeof bad_padding / sizeof bad_padding[0]; i++)
        expect_decode_error(bad_padding[i], strlen(bad_padding[i]), WS_E_BASE64, bad_padding[i]);
    for (i = 0; i < sizeof bad_length / sizeof bad_length[0]; i++)
        expect_decode_error(bad_length[i], strlen(bad_length[i]), WS_E_BASE64, bad_length[i]);

    /* A character outside the alphabet at every position of a valid input,
     * including the last group, where an error after good groups must not
     * leave those groups decoded. */
    for (i = 0; i < sizeof outsiders; i++) {
        char in[16];
        memcpy(in, "Zm9vYmFyZm9v", 12);
        for (pos = 0; pos < 12; pos++) {
            char what[48];
            char saved = in[pos];
            in[pos] = (char)outsiders[i];
            snprintf(what, sizeof what, "byte 0x%02x at %u", outsiders[i], (unsigned)pos);
            expect_decode_error(in, 12, WS_E_BASE64, what);
            in[pos] = saved;
        }
    }

    /* Every byte value as the third character of "Zg?=": only the alphabet
     * is accepted, and of it only the canonical choices (low bits zero). */
    for (i = 0; i < 256; i++) {
        char in[4] = {'Z', 'm', (char)i, '='};
        unsigned char out[8];
        int r;
        const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *hit = i ? strchr(abc, (int)i) : NULL;
        int value = hit ? (int)(hit - abc) : -1;
        int want = value >= 0 && (value & 3) == 0 ? 2 : WS_E_BASE64;
        memset(out, SENTINEL, sizeof out);
        r = ws_base64_decode(in, 4, out, sizeof out);
        CHECKF(r == want, "\"Zm%c=\" (0x%02x): %d, want %d", i >= 32 && i < 127 ? (int)i : '?',
               (unsigned)i, r, want);
        if (r < 0) CHECK(untouched(out, 0, sizeof out));
    }
}

static void test_round_trip(void) {
    test_rng rng;
    size_t len;
    int ok_enc = 1, ok_dec = 1, ok_len = 1;
    rng.s = 4648;
    for (len = 0; len <= 300; len++) {
        unsigned char data[300], back[310];
        char enc[WS_BASE64_ENCODED_LEN(300) + 1];
        int r;
        test_fill(&rng, data, len);
        r = ws_base64_encode(data, len, enc, sizeof enc);
        if (r != (int)WS_BASE64_ENCODED_LEN(len) || strlen(enc) != (size_t)r) ok_enc = 0;
        if (r < 0) continue;
        memset(back, SENTINEL, sizeof back);
        r = ws_base64_decode(enc, (size_t)r, back, sizeof back);
        if (r != (int)len) ok_len = 0;
        else if (memcmp(back, data, len) != 0 || !untouched(back, len, sizeof back)) ok_dec = 0;
    }
    CHECKF(ok_enc, "random round trip: encoded length");
    CHECKF(ok_len, "random round trip: decoded length");
    CHECKF(ok_dec, "random round trip: decoded bytes");
}

int main(void) {
    test_rfc_vectors();
    test_rejects();
    test_round_trip();
    return test_report();
}
