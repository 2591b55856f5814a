/* Over-read checks in the manner of picohttpparser's tests: every input is
 * placed flush against a PROT_NONE page, so reading one byte past its end
 * (or before its start) crashes the test instead of passing by luck.
 *   test_guard frame   ws_frame_parse over every prefix of many headers
 *   test_guard utf8    ws_utf8_validate / ws_utf8_feed over inputs that end
 *                      at the page boundary (including the ASCII fast path)
 *   test_guard other   masking, base64 and SHA-1 at the boundary */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c99 */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

static unsigned char *region; /* guard page, readable pages, guard page */
static size_t page, usable;

static void guard_setup(void) {
    long ps = sysconf(_SC_PAGESIZE);
    void *m;
    page = ps > 0 ? (size_t)ps : 4096;
    usable = 4 * page;
    m = mmap(NULL, usable + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    region = (unsigned char *)m;
    if (mprotect(region, page, PROT_NONE) != 0 || mprotect(region + page + usable, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
}

/* A copy of p[0..n) that ends exactly where the trailing guard page begins. */
static unsigned char *at_end(const void *p, size_t n) {
    unsigned char *dst = region + page + usable - n;
    if (n > usable) exit(2);
    if (n) memcpy(dst, p, n);
    return dst;
}

/* A copy that starts exactly where the leading guard page ends. */
static unsigned char *at_start(const void *p, size_t n) {
    unsigned char *dst = region + page;
    if (n > usable) exit(2);
    if (n) memcpy(dst, p, n);
    return dst;
}

static void guard_frame(void) {
    static const uint64_t lens[] = {0, 5, 125, 126, 300, 65535, 65536, (uint64_t)1 << 40};
    unsigned long prefixes = 0, wrong = 0;
    size_t li, k;
    int masked, first;
    for (li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (masked = 0; masked < 2; masked++)
            for (first = 0; first < 256; first += 17) {
                unsigned char hdr[WS_FRAME_HEADER_MAX];
                static const unsigned char key[4] = {9, 8, 7, 6};
                size_t n = ws_frame_write(hdr, first >> 7, (first >> 4) & 7, first & 15, lens[li],
                                          masked ? key : NULL);
                for (k = 0; k <= n; k++) {
                    ws_frame_header h;
                    int r = ws_frame_parse(at_end(hdr, k), k, &h);
                    prefixes++;
                    if (r != (k < n ? WS_E_INCOMPLETE : (int)n)) wrong++;
                }
            }
    /* Second bytes that announce extended lengths and a mask, with only
     * the first two bytes present. */
    for (k = 0; k < 256; k++) {
        unsigned char two[2];
        ws_frame_header h;
        int r;
        two[0] = 0x81, two[1] = (unsigned char)k;
        r = ws_frame_parse(at_end(two, 2), 2, &h);
        prefixes++;
        if (r != ((k & 0x7F) >= 126 || (k & 0x80) ? WS_E_INCOMPLETE : 2)) wrong++;
        r = ws_frame_parse(at_end(two, 1), 1, &h);
        if (r != WS_E_INCOMPLETE) wrong++;
    }
    printf("guard: %lu header prefixes parsed flush against the guard page\n", prefixes);
    CHECKF(wrong == 0, "frame prefixes: %lu wrong results", wrong);
}

static void guard_utf8(void) {
    test_rng rng;
    unsigned char buf[600];
    unsigned long cases = 0, wrong = 0;
    size_t n, pos;
    rng.s = 77;
    /* ASCII runs of every length up to 600 (the 16-byte fast path must stop
     * in time), plain and with a trailing multi-byte character. */
    for (n = 0; n <= 600; n++) {
        size_t at;
        memset(buf, 'x', n);
        if (ws_utf8_validate(at_end(buf, n), n, &at) != 0) wrong++;
        if (ws_utf8_validate(at_start(buf, n), n, &at) != 0) wrong++;
        if (n >= 3) {
            memcpy(buf + n - 3, "\xe2\x82\xac", 3);
            if (ws_utf8_validate(at_end(buf, n), n, &at) != 0) wrong++;
            buf[n - 1] = 'x'; /* now E2 82 'x': invalid at n - 1 */
            if (ws_utf8_validate(at_end(buf, n), n, &at) != WS_E_UTF8 || at != n - 1) wrong++;
            buf[n - 1] = 0xE2; /* a lead byte at the very end: truncated */
            buf[n - 2] = buf[n - 3] = 'x';
            if (ws_utf8_validate(at_end(buf, n), n, &at) != WS_E_UTF8 || at != n) wrong++;
        }
        cases++;
    }
    /* Random valid text of random lengths fed in pieces, each piece flush
     * against the guard page. */
    for (n = 0; n < 3000; n++) {
        size_t len = test_below(&rng, 500), i;
        ws_utf8_state st = WS_UTF8_ACCEPT;
        for (i = 0; i < len; i++) buf[i] = (unsigned char)(test_below(&rng, 4) ? 'a' + test_below(&rng, 26) : 0);
        for (pos = 0; pos < len;) {
            size_t piece = 1 + test_below(&rng, 40), at;
            if (piece > len - pos) piece = len - pos;
            if (ws_utf8_feed(&st, at_end(buf + pos, piece), piece, &at) != 0) wrong++;
            pos += piece;
        }
        if (ws_utf8_finish(&st) != 0) wrong++;
        cases++;
    }
    /* Text with multi-byte characters, where the code near the end is not
     * the ASCII fast path (the portable path's blocks and last bytes, the
     * vector paths' text loops): random lengths, valid or with one byte
     * broken, whole and in pieces, each against the guard page and giving
     * what the same bytes give in an ordinary buffer. */
    for (n = 0; n < 3000; n++) {
        static const char *const chars[] = {"a", "bc", "\xc3\xa9", "\xd0\xb6", "\xe2\x82\xac", "\xe4\xb8\xad",
                                            "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "0123456789abcdefghij"};
        size_t len = 0, target = test_below(&rng, 300), at = 0, want_at = 0;
        int want, broken = n % 3 == 1;
        ws_utf8_state st = WS_UTF8_ACCEPT;
        while (len + 20 < target) {
            const char *c = chars[test_below(&rng, sizeof chars / sizeof chars[0])];
            memcpy(buf + len, c, strlen(c));
            len += strlen(c);
        }
        if (broken && len) buf[test_below(&rng, len)] = (unsigned char)test_rand(&rng);
        want = ws_utf8_validate(buf, len, &want_at);
        if (ws_utf8_validate(at_end(buf, len), len, &at) != want || (want && at != want_at)) wrong++;
        for (pos = 0; pos < len;) {
            size_t piece = 1 + test_below(&rng, 40);
            if (piece > len - pos) piece = len - pos;
            if (ws_utf8_feed(&st, at_end(buf + pos, piece), piece, &at) != 0) break;
            pos += piece;
        }
        if ((pos == len && ws_utf8_finish(&st) == 0) != (want == 0)) wrong++;
        cases++;
    }
    printf("guard: %lu UTF-8 inputs validated flush against the guard page\n", cases);
    CHECKF(wrong == 0, "UTF-8 at the page boundary: %lu wrong results", wrong);
}

static void guard_other(void) {
    unsigned char data[300], want[300];
    static const unsigned char key[4] = {0xA1, 0xB2, 0xC3, 0xD4};
    size_t n, i;
    int wrong = 0;
    for (n = 0; n < 300; n++) {
        unsigned char *p;
        for (i = 0; i < n; i++) data[i] = (unsigned char)(i * 7), want[i] = (unsigned char)(data[i] ^ key[(i + 1) % 4]);
        p = at_end(data, n);
        ws_mask(p, n, key, 1);
        if (n && memcmp(p, want, n) != 0) wrong++;
        p = at_start(data, n);
        ws_mask(p, n, key, 1);
        if (n && memcmp(p, want, n) != 0) wrong++;
        /* Copy from the end of one page into the start of the other. */
        ws_mask_copy(region + page, at_end(data, n), n, key, 1);
        if (n && memcmp(region + page, want, n) != 0) wrong++;
    }
    CHECKF(wrong == 0, "masking at the page boundary: %d wrong", wrong);

    wrong = 0;
    for (n = 0; n < 100; n++) {
        char enc[WS_BASE64_ENCODED_LEN(100) + 1];
        unsigned char dec[100], digest[20], digest2[20];
        int r;
        for (i = 0; i < n; i++) data[i] = (unsigned char)(i * 13 + 5);
        r = ws_base64_encode(at_end(data, n), n, enc, sizeof enc);
        if (r < 0) {
            wrong++;
            continue;
        }
        if (ws_base64_decode((const char *)at_end(enc, (size_t)r), (size_t)r, dec, sizeof dec) != (int)n ||
            memcmp(dec, data, n) != 0)
            wrong++;
        /* Decoding into an output buffer that ends at the guard page. */
        if (ws_base64_decode(enc, (size_t)r, region + page + usable - n, n) != (int)n) wrong++;
        ws_sha1_oneshot(data, n, digest);
        ws_sha1_oneshot(at_end(data, n), n, digest2);
        if (memcmp(digest, digest2, 20) != 0) wrong++;
    }
    CHECKF(wrong == 0, "base64 and SHA-1 at the page boundary: %d wrong", wrong);
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "all";
    int all = strcmp(what, "all") == 0;
    guard_setup();
    if (all || strcmp(what, "frame") == 0) guard_frame();
    if (all || strcmp(what, "utf8") == 0) guard_utf8();
    if (all || strcmp(what, "other") == 0) guard_other();
    return test_report();
}
