/* Masking (ws_mask, ws_mask_copy) against a byte-at-a-time reference: every
 * alignment, every key offset, many lengths, big buffers, and a payload
 * unmasked in random pieces with the returned offset carried along. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

#include <stdlib.h>

#define GUARD 32
#define PAD 0x5C

/* The reference: RFC 6455 section 5.3, j-th byte XOR key[j mod 4], with j
 * counted from the start of the payload (here: `offset` bytes ago). */
static void ref_mask(unsigned char *dst, const unsigned char *src, size_t len,
                     const unsigned char key[4], size_t offset) {
    size_t i;
    for (i = 0; i < len; i++) dst[i] = (unsigned char)(src[i] ^ key[(offset + i) % 4]);
}

static int pad_intact(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != PAD) return 0;
    return 1;
}

static void test_small(void) {
    /* Buffers with guard bytes either side, so a write outside [0, len)
     * shows up as a changed guard byte. */
    static unsigned char src[GUARD + 16 + 300 + GUARD], dst[GUARD + 16 + 300 + GUARD],
        want[300], orig[300];
    unsigned char key[4];
    test_rng rng;
    size_t da, sa, off, len;
    unsigned long bad_inplace = 0, bad_copy = 0, bad_ret = 0, bad_guard = 0, cases = 0;

    rng.s = 5;
    test_fill(&rng, key, 4);
    for (da = 0; da < 16; da++) {
        for (off = 0; off < 8; off++) { /* offsets 4..7 must act as 0..3 */
            for (len = 0; len <= 300; len++) {
                unsigned char *d = dst + GUARD + da;
                size_t r;
                test_fill(&rng, orig, len);
                ref_mask(want, orig, len, key, off);

                /* In place at alignment da. */
                memset(dst, PAD, sizeof dst);
                memcpy(d, orig, len);
                r = ws_mask(d, len, key, off);
                cases++;
                if (memcmp(d, want, len) != 0) bad_inplace++;
                if (r != (off + len) % 4) bad_ret++;
                if (!pad_intact(dst, GUARD + da) || !pad_intact(d + len, sizeof dst - GUARD - da - len))
                    bad_guard++;

                /* Copy with the source at every alignment too. */
                for (sa = 0; sa < 16; sa++) {
                    unsigned char *s = src + GUARD + sa;
                    memcpy(s, orig, len);
                    memset(dst, PAD, sizeof dst);
                    r = ws_mask_copy(d, s, len, key, off);
                    cases++;
                    if (memcmp(d, want, len) != 0) bad_copy++;
                    if (memcmp(s, orig, len) != 0) bad_copy++; /* source unchanged */
                    if (r != (off + len) % 4) bad_ret++;
                    if (!pad_intact(dst, GUARD + da) ||
                        !pad_intact(d + len, sizeof dst - GUARD - da - len))
                        bad_guard++;
                }

                /* ws_mask_copy with dst == src is allowed. */
                memcpy(d, orig, len);
                r = ws_mask_copy(d, d, len, key, off);
                cases++;
                if (memcmp(d, want, len) != 0 || r != (off + len) % 4) bad_inplace++;
            }
        }
    }
    printf("mask: %lu small cases (alignments 0-15 x offsets 0-7 x lengths 0-300)\n", cases);
    CHECKF(bad_inplace == 0, "ws_mask in place differs from the reference in %lu cases", bad_inplace);
    CHECKF(bad_copy == 0, "ws_mask_copy differs from the reference in %lu cases", bad_copy);
    CHECKF(bad_ret == 0, "returned offset is not (offset + len) %% 4 in %lu cases", bad_ret);
    CHECKF(bad_guard == 0, "bytes outside the buffer changed in %lu cases", bad_guard);
}

static void test_keys(void) {
    /* Keys with every byte pattern that might hide a word-assembly mistake. */
    static const unsigned char keys[][4] = {{0, 0, 0, 0},       {0xFF, 0xFF, 0xFF, 0xFF},
                                            {1, 2, 3, 4},       {0x80, 0, 0, 0},
                                            {0, 0, 0, 0x80},    {0x37, 0xFA, 0x21, 0x3D}};
    unsigned char buf[77], want[77], orig[77];
    size_t k, off;
    test_rng rng;
    int ok = 1;
    rng.s = 77;
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (off = 0; off < 4; off++) {
            test_fill(&rng, orig, sizeof orig);
            ref_mask(want, orig, sizeof orig, keys[k], off);
            memcpy(buf, orig, sizeof buf);
            ws_mask(buf, sizeof buf, keys[k], off);
            if (memcmp(buf, want, sizeof buf) != 0) ok = 0;
            ws_mask(buf, sizeof buf, keys[k], off); /* masking twice restores */
            if (memcmp(buf, orig, sizeof buf) != 0) ok = 0;
        }
    CHECKF(ok, "special keys");

    /* The RFC 6455 section 5.7 example: "Hello" masked with 37 fa 21 3d. */
    {
        unsigned char hello[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
        CHECK(ws_mask(hello, 5, keys[5], 0) == 1);
        CHECK(memcmp(hello, "Hello", 5) == 0);
    }
}

static void test_big(void) {
    size_t sizes[] = {(size_t)4 << 20, ((size_t)3 << 20) + 3};
    size_t si;
    for (si = 0; si < 2; si++) {
        size_t n = sizes[si], a;
        unsigned char *orig = (unsigned char *)malloc(n + 16);
        unsigned char *want = (unsigned char *)malloc(n);
        unsigned char *buf = (unsigned char *)malloc(n + 16);
        unsigned char key[4] = {0xDE, 0xAD, 0xBE, 0xEF};
        test_rng rng;
        if (!orig || !want || !buf) exit(2);
        rng.s = 99 + si;
        test_fill(&rng, orig, n + 16);
        for (a = 0; a < 4; a++) {
            size_t off = (a * 3) & 3;
            ref_mask(want, orig + a, n, key, off);
            memcpy(buf + a, orig + a, n);
            CHECKF(ws_mask(buf + a, n, key, off) == (off + n) % 4, "big in place, return");
            CHECKF(memcmp(buf + a, want, n) == 0, "big in place: %u bytes at alignment %u",
                   (unsigned)n, (unsigned)a);
            memset(buf, 0, n + 16);
            CHECKF(ws_mask_copy(buf + 7 - a, orig + a, n, key, off) == (off + n) % 4, "big copy, return");
            CHECKF(memcmp(buf + 7 - a, want, n) == 0, "big copy: %u bytes", (unsigned)n);
        }
        free(orig), free(want), free(buf);
    }
}

static void test_pieces(void) {
    size_t n = 1 << 20;
    unsigned char *orig = (unsigned char *)malloc(n), *whole = (unsigned char *)malloc(n),
                  *piecewise = (unsigned char *)malloc(n);
    unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    uint64_t seed;
    test_rng rng;
    if (!orig || !whole || !piecewise) exit(2);
    rng.s = 1;
    test_fill(&rng, orig, n);
    memcpy(whole, orig, n);
    ws_mask(whole, n, key, 0);
    for (seed = 1; seed <= 6; seed++) {
        size_t pos = 0, off = 0, maxpiece = seed % 2 ? 17 : 3000;
        int use_copy = seed > 3;
        rng.s = seed;
        memcpy(piecewise, orig, n);
        while (pos < n) {
            size_t len = test_below(&rng, maxpiece + 1);
            if (len > n - pos) len = n - pos;
            off = use_copy ? ws_mask_copy(piecewise + pos, orig + pos, len, key, off)
                           : ws_mask(piecewise + pos, len, key, off);
            pos += len;
        }
        CHECKF(memcmp(piecewise, whole, n) == 0, "random pieces (seed %u, %s) differ from one shot",
               (unsigned)seed, use_copy ? "ws_mask_copy" : "ws_mask");
        CHECK(off == n % 4);
    }
    free(orig), free(whole), free(piecewise);
}

int main(void) {
    test_small();
    test_keys();
    test_big();
    test_pieces();
    return test_report();
}
