/* Every SIMD path of the primitives against the portable one (simd_ref.c,
 * built with WS_NO_SIMD) on the same inputs: masking at every alignment,
 * length, key offset and split point; UTF-8 on every byte pair and many
 * triples around vector edges, on texts built to take the validators through
 * all their loops with each byte in turn made telling, and on random valid
 * text and mutations of it, whole, at every alignment and split at every
 * point. Results, fail-fast positions and states must agree exactly.
 *
 * usage: test_simd PATH [--quick]
 *   PATH is the path this build must have taken (sse2, ssse3, avx2, neon),
 *   so a build that silently fell back to the portable code fails.
 *   --quick: fewer random inputs (sanitizer builds). Exit 77: the CPU
 *   cannot run this build's instructions (CTest reports it skipped). */
#define WS_STATIC
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"

#include "simd_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd_path.h"

static unsigned long passed, failed;

static int check(int ok, const char *what, size_t a, size_t b, size_t c) {
    if (ok) {
        passed++;
    } else {
        failed++;
        if (failed <= 30) printf("FAIL %s (%zu, %zu, %zu)\n", what, a, b, c);
    }
    return ok;
}

static uint64_t rng_s = 0x1234567887654321ull;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static size_t below(size_t n) { return (size_t)(rnd() % n); }

/* ---- masking ---- */

static unsigned char src[70000 + 128], dst[70000 + 128], expect[70000 + 128];

static void test_mask(void) {
    static const size_t dst_aligns[] = {0, 1, 2, 3, 5, 7, 8, 15, 16, 31, 32, 33};
    unsigned char key[4] = {0x12, 0xA5, 0x3C, 0xF0};
    size_t len, sa, da, off, split, i;
    unsigned long bad = 0, cases = 0;
    for (i = 0; i < sizeof src; i++) src[i] = (unsigned char)rnd();
    for (len = 0; len <= 300; len++)
        for (sa = 0; sa < 34; sa++)
            for (i = 0; i < sizeof dst_aligns / sizeof dst_aligns[0]; i++)
                for (off = 0; off < 4; off++) {
                    size_t r1, r2;
                    da = dst_aligns[i];
                    r1 = ref_mask_copy(expect, src + sa, len, key, off);
                    r2 = ws_mask_copy(dst + da, src + sa, len, key, off);
                    cases++;
                    if (r1 != r2 || r2 != ((off + len) & 3) || memcmp(expect, dst + da, len)) {
                        if (!bad++) check(0, "mask_copy len/src align/dst align", len, sa, da);
                    }
                }
    check(bad == 0, "mask_copy: all lengths 0..300 x alignments x offsets", cases, bad, 0);

    /* In place, every alignment, a large buffer too. */
    bad = 0;
    for (sa = 0; sa < 64; sa++)
        for (len = 0; len < 70000; len = len < 300 ? len + 1 : len * 3 + 7) {
            memcpy(dst + sa, src, len);
            ref_mask_copy(expect, src, len, key, 1);
            if (ws_mask(dst + sa, len, key, 1) != ((1 + len) & 3) || memcmp(expect, dst + sa, len)) bad++;
        }
    check(bad == 0, "mask in place: every alignment 0..63, lengths to 64 KiB", bad, 0, 0);

    /* Piece by piece: every split point gives the whole result. */
    len = 1000;
    ref_mask_copy(expect, src, len, key, 0);
    bad = 0;
    for (split = 0; split <= len; split++) {
        size_t o;
        memcpy(dst + 3, src, len);
        o = ws_mask(dst + 3, split, key, 0);
        o = ws_mask(dst + 3 + split, len - split, key, o);
        if (o != (len & 3) || memcmp(expect, dst + 3, len)) bad++;
    }
    check(bad == 0, "mask split at every point of 1000 bytes", bad, 0, 0);
}

/* ---- UTF-8 ---- */

/* Both implementations on one input: result, fail-fast position and state. */
static int same_feed(const unsigned char *p, size_t len, uint32_t st_in) {
    uint32_t s1 = st_in, s2 = st_in;
    size_t b1 = (size_t)-1, b2 = (size_t)-1;
    int r1 = ref_utf8_feed(&s1, p, len, &b1);
    int r2 = ws_utf8_feed(&s2, p, len, &b2);
    return r1 == r2 && s1 == s2 && (r1 == 0 || b1 == b2);
}

/* The input flush against the end of its own allocation (ASan sees any
 * over-read), at alignment `align`. */
static int same_at(const unsigned char *p, size_t len, size_t align) {
    unsigned char *buf = (unsigned char *)malloc(len + align + 1);
    int ok;
    if (!buf) return 0;
    memcpy(buf + align, p, len);
    ok = same_feed(buf + align, len, WS_UTF8_ACCEPT);
    free(buf);
    return ok;
}

/* Fed in two pieces split at k: each call agrees, state carried over. */
static int same_split(const unsigned char *p, size_t len, size_t k) {
    uint32_t s1 = WS_UTF8_ACCEPT, s2 = WS_UTF8_ACCEPT;
    size_t b1 = 0, b2 = 0;
    int r1 = ref_utf8_feed(&s1, p, k, &b1), r2 = ws_utf8_feed(&s2, p, k, &b2);
    if (r1 != r2 || s1 != s2 || (r1 && b1 != b2)) return 0;
    r1 = ref_utf8_feed(&s1, p + k, len - k, &b1), r2 = ws_utf8_feed(&s2, p + k, len - k, &b2);
    return r1 == r2 && s1 == s2 && (r1 == 0 || b1 == b2);
}

/* Random pieces of random sizes. */
static int same_pieces(const unsigned char *p, size_t len) {
    uint32_t s1 = WS_UTF8_ACCEPT, s2 = WS_UTF8_ACCEPT;
    size_t at = 0;
    while (at < len) {
        size_t n = below(4) == 0 ? below(8) : below(200), b1 = 0, b2 = 0;
        int r1, r2;
        if (n > len - at) n = len - at;
        r1 = ref_utf8_feed(&s1, p + at, n, &b1), r2 = ws_utf8_feed(&s2, p + at, n, &b2);
        if (r1 != r2 || s1 != s2 || (r1 && b1 != b2)) return 0;
        if (r1) return 1;
        at += n;
    }
    return 1;
}

static size_t put_cp(unsigned char *o, uint32_t cp) {
    if (cp < 0x80) return o[0] = (unsigned char)cp, 1;
    if (cp < 0x800) return o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), o[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

/* Valid text of about len bytes; ascii_pct of the code points are ASCII
 * (in runs), the rest spread over 2, 3 and 4 bytes with the edge values
 * (0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF) often. */
static size_t gen_valid(unsigned char *o, size_t len, unsigned ascii_pct) {
    static const uint32_t edges[] = {0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0x10FFFF};
    size_t n = 0;
    while (n + 4 <= len) {
        uint32_t cp;
        size_t k = below(100);
        if (k < ascii_pct) {
            size_t run = 1 + below(40);
            while (run-- && n < len) o[n++] = (unsigned char)(0x20 + below(0x5F));
            continue;
        }
        switch (below(4)) {
        case 0: cp = 0x80 + (uint32_t)below(0x780); break;
        case 1:
            cp = 0x800 + (uint32_t)below(0xF800);
            if (cp >= 0xD800 && cp < 0xE000) cp -= 0x800;
            break;
        case 2: cp = 0x10000 + (uint32_t)below(0x100000); break;
        default: cp = edges[below(sizeof edges / sizeof edges[0])]; break;
        }
        n += put_cp(o + n, cp);
    }
    return n;
}

static void mutate(unsigned char *p, size_t *len) {
    static const unsigned char hot[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                        0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4,
                                        0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFE, 0xFF};
    size_t n = *len, at;
    if (!n) return;
    at = below(n);
    switch (below(6)) {
    case 0: p[at] = (unsigned char)rnd(); break;
    case 1: p[at] = hot[below(sizeof hot)]; break;
    case 2: memmove(p + at, p + at + 1, n - at - 1), *len = n - 1; break; /* delete */
    case 3: memmove(p + at + 1, p + at, n - at), p[at] = hot[below(sizeof hot)], *len = n + 1; break;
    case 4: *len = at; break; /* truncate */
    default: {
        size_t b = below(n);
        unsigned char t = p[at];
        p[at] = p[b], p[b] = t;
    } break;
    }
}

static void test_utf8_exhaustive(int quick) {
    /* Every byte pair, and triples with a lead and telling third bytes, at
     * positions around the vector edges (16, 32, 64) in ASCII and in
     * multi-byte surroundings. */
    static const size_t pos[] = {0, 1, 2, 13, 14, 15, 16, 17, 29, 30, 31, 32, 33, 34, 45, 46, 47, 48, 61, 62, 63, 64, 65, 66, 94, 95, 96};
    static const unsigned char third[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF};
    unsigned char buf[100], base[2][100];
    size_t i, k, len = sizeof buf;
    unsigned a, b, c, bg;
    unsigned long bad = 0, cases = 0;
    memset(base[0], 'a', len);
    for (i = 0; i + 2 <= len; i += 2) base[1][i] = 0xC3, base[1][i + 1] = 0xA9; /* e-acute */
    for (bg = 0; bg < 2; bg++)
        for (k = 0; k < sizeof pos / sizeof pos[0]; k++)
            for (a = 0; a < 256; a++)
                for (b = 0; b < 256; b += quick && k % 3 ? 7 : 1) {
                    size_t at = pos[k] + (bg && pos[k] % 2); /* whole code points before it */
                    memcpy(buf, base[bg], len);
                    buf[at] = (unsigned char)a, buf[at + 1] = (unsigned char)b;
                    cases++;
                    if (!same_feed(buf, len, WS_UTF8_ACCEPT) && !bad++) check(0, "pair", a, b, at);
                }
    check(bad == 0, "every byte pair at vector edges", cases, bad, 0);
    bad = cases = 0;
    for (k = 0; k < sizeof pos / sizeof pos[0]; k += quick ? 3 : 1)
        for (a = 0xC0; a < 256; a++)
            for (b = 0; b < 256; b++)
                for (c = 0; c < sizeof third; c++) {
                    memcpy(buf, base[0], len);
                    buf[pos[k]] = (unsigned char)a, buf[pos[k] + 1] = (unsigned char)b, buf[pos[k] + 2] = third[c];
                    cases++;
                    if (!same_feed(buf, len, WS_UTF8_ACCEPT) && !bad++) check(0, "triple", a, b, third[c]);
                    /* and cut right after the lead, the second, the third byte */
                    if (!same_feed(buf, pos[k] + 1 + c % 3, WS_UTF8_ACCEPT) && !bad++) check(0, "cut triple", a, b, c);
                }
    check(bad == 0, "lead, second and third bytes at vector edges, whole and cut", cases, bad, 0);
    /* Each possible state coming in from an earlier chunk. */
    bad = 0;
    for (a = 0; a < 9; a++)
        for (b = 0; b < 256; b++) {
            memcpy(buf, base[0], len);
            buf[0] = (unsigned char)b;
            if (!same_feed(buf, len, a * 12u) && !bad++) check(0, "state in", a, b, 0);
        }
    check(bad == 0, "every incoming state before every byte", bad, 0, 0);
}

/* Text that the vector paths take vector by vector, four at a time once
 * it is dense, with ASCII runs (whole blocks, and one byte short of one)
 * in between that send them back and forth, at four phases against the
 * vector grid: every byte in turn replaced by a telling one, so that an
 * error lands on, just before and just after every vector and block edge
 * and every switch between the loops; whole, split, and cut short. */
static unsigned long blocks_text(const unsigned char *text, size_t len, int quick, unsigned long *cases) {
    static const unsigned char hot[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                        0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xF0, 0xF1, 0xF4, 0xF5, 0xF8, 0xFF};
    unsigned char buf[512];
    unsigned long bad = 0;
    size_t k, h;
    memcpy(buf, text, len);
    for (k = 0; k < len; k++) {
        for (h = 0; h < sizeof hot; h += quick ? 2 : 1) {
            buf[k] = hot[h];
            ++*cases;
            if (!same_feed(buf, len, WS_UTF8_ACCEPT) && !bad++) check(0, "block edges, whole", len, k, hot[h]);
            if (h % 4 == 0 && (!same_split(buf, len, k) || !same_split(buf, len, k + 1)) && !bad++)
                check(0, "block edges, split", len, k, hot[h]);
        }
        buf[k] = text[k];
    }
    for (k = 0; k <= len; k++)
        if (!same_feed(buf, k, WS_UTF8_ACCEPT) && !bad++) check(0, "block edges, cut", len, k, 0);
    return bad;
}

static void test_utf8_blocks(int quick) {
    static const char *const shapes[] = {
        "2", "3", "4", "234x", /* multi-byte throughout, or with single ASCII letters (x) */
        "3333A333", "22A44", "4A3A2", "3AAA", /* 64-byte ASCII runs (A) between text */
        "A3A4A2", "a3a4a2a", /* ASCII first; a: runs of 63, just short of a whole block */
    };
    static const unsigned char two[] = {0xD0, 0xB6}, three[] = {0xE4, 0xB8, 0xAD}, four[] = {0xF0, 0x9F, 0x98, 0x80};
    unsigned char text[420];
    unsigned long bad = 0, cases = 0;
    size_t sh, phase, len, at, n;
    for (sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (phase = 0; phase < 4; phase++) { /* where the text falls on the validator's 16-byte grid */
            uint32_t st = WS_UTF8_ACCEPT;
            for (len = 0; len < phase * 5; len++) text[len] = '.';
            for (at = 0; len + 70 < sizeof text; at++) { /* the shape, repeated */
                char t = shapes[sh][at % strlen(shapes[sh])];
                if (t == '2') for (n = 0; n < 9; n++) memcpy(text + len, two, 2), len += 2;
                if (t == '3') for (n = 0; n < 7; n++) memcpy(text + len, three, 3), len += 3;
                if (t == '4') for (n = 0; n < 5; n++) memcpy(text + len, four, 4), len += 4;
                if (t == 'x') text[len++] = 'x';
                if (t == 'A' || t == 'a')
                    for (n = 0; n < (t == 'A' ? 64u : 63u); n++) text[len++] = (unsigned char)('a' + n % 26);
            }
            check(ref_utf8_feed(&st, text, len, NULL) == 0 && st == WS_UTF8_ACCEPT, "block edges: the text is valid", sh,
                  phase, len);
            bad += blocks_text(text, len, quick, &cases);
        }
    check(bad == 0, "errors at every vector and block edge, in and out of the dense loop", cases, bad, 0);
}

static void test_utf8_random(int quick) {
    static unsigned char text[4200];
    static const unsigned ascii_pcts[] = {0, 10, 50, 90, 99};
    unsigned long n_inputs = quick ? 1500 : 6000, t;
    unsigned long bad_whole = 0, bad_align = 0, bad_split = 0, bad_pieces = 0, invalid = 0;
    for (t = 0; t < n_inputs; t++) {
        size_t want = t % 10 == 0 ? 1000 + below(3000) : 1 + below(300), len, k, m;
        len = gen_valid(text, want, ascii_pcts[t % 5]);
        m = t % 3 == 0 ? 0 : 1 + below(3); /* a third stays valid */
        while (m--) mutate(text, &len);
        {
            uint32_t s = WS_UTF8_ACCEPT;
            if (ref_utf8_feed(&s, text, len, NULL) < 0) invalid++;
        }
        if (!same_feed(text, len, WS_UTF8_ACCEPT)) {
            if (!bad_whole++) check(0, "random input whole", t, len, 0);
        }
        for (k = 0; k < 64; k += (t % 8 == 0 ? 1 : 9))
            if (!same_at(text, len, k) && !bad_align++) check(0, "random input at alignment", t, len, k);
        if (len <= 400 || t % 10 == 0) {
            for (k = 0; k <= len; k++)
                if (!same_split(text, len, k) && !bad_split++) check(0, "random input split", t, len, k);
        }
        if (!same_pieces(text, len) && !bad_pieces++) check(0, "random input in pieces", t, len, 0);
    }
    printf("  %lu random inputs, %lu of them invalid\n", n_inputs, invalid);
    check(bad_whole == 0, "random valid/invalid text, whole", bad_whole, 0, 0);
    check(bad_align == 0, "random text at alignments 0..63", bad_align, 0, 0);
    check(bad_split == 0, "random text split at every point", bad_split, 0, 0);
    check(bad_pieces == 0, "random text in random pieces", bad_pieces, 0, 0);
    check(invalid > n_inputs / 3 && invalid < n_inputs * 9 / 10, "mutations make both valid and invalid inputs", invalid, n_inputs, 0);
}

int main(int argc, char **argv) {
    const char *want = argc > 1 ? argv[1] : PATH;
    int quick = argc > 2 && strcmp(argv[2], "--quick") == 0;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#if defined(__AVX2__)
    if (!__builtin_cpu_supports("avx2")) {
        printf("SKIP: this CPU has no AVX2\n");
        return 77;
    }
#elif defined(__SSSE3__)
    if (!__builtin_cpu_supports("ssse3")) {
        printf("SKIP: this CPU has no SSSE3\n");
        return 77;
    }
#endif
#endif
    printf("path: %s (expected %s)\n", PATH, want);
    check(strcmp(PATH, want) == 0, "the build took the expected path", 0, 0, 0);
    test_mask();
    test_utf8_exhaustive(quick);
    test_utf8_blocks(quick);
    test_utf8_random(quick);
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}
