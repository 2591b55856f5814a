/* UTF-8 validation against an independent decoder written plainly here:
 * every 1-, 2- and 3-byte input, every 4-byte input with a lead byte F0-F4,
 * Markus Kuhn's decoder stress-test cases, random text with random damage,
 * dense text broken at every position, and the ASCII fast path's hand-over
 * points. Each input is also fed in
 * pieces (split at every position, byte by byte, random pieces) so the
 * state carried between ws_utf8_feed calls is checked as well. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

#include <stdlib.h>

/* ---- the reference ------------------------------------------------------
 * Decodes one code point at a time. After every byte of a sequence it asks
 * whether any way of finishing the sequence can still give a code point that
 * UTF-8 allows; the first byte where none can is the fail-fast position. */
enum { REF_VALID, REF_INVALID, REF_TRUNCATED };

/* The bits known so far are cp, with `missing` continuation bytes (6 bits
 * each) to come, in a sequence of 1 + need bytes: is there a completion that
 * is neither overlong, nor a surrogate, nor above U+10FFFF? */
static int ref_possible(uint32_t cp, unsigned need, unsigned missing) {
    uint32_t lo = cp << (6 * missing);
    uint32_t hi = lo | ((1u << (6 * missing)) - 1u);
    uint32_t min = need == 1 ? 0x80u : need == 2 ? 0x800u : 0x10000u;
    uint32_t max = need == 1 ? 0x7FFu : need == 2 ? 0xFFFFu : 0x10FFFFu;
    if (hi < min || lo > max) return 0;
    if (lo < min) lo = min;
    if (hi > max) hi = max;
    if (lo >= 0xD800u && hi <= 0xDFFFu) return 0; /* nothing but surrogates left */
    return 1;
}

/* REF_VALID, REF_INVALID with *bad the fail-fast index, or REF_TRUNCATED
 * (valid so far but ends inside a sequence; *bad = n). */
static int ref_scan(const unsigned char *p, size_t n, size_t *bad) {
    size_t i = 0;
    while (i < n) {
        unsigned b = p[i], need, j;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xC0 && b <= 0xDF) need = 1, cp = b & 0x1Fu;
        else if (b >= 0xE0 && b <= 0xEF) need = 2, cp = b & 0x0Fu;
        else if (b >= 0xF0 && b <= 0xF7) need = 3, cp = b & 0x07u;
        else {
            *bad = i; /* a continuation byte with no lead, or F8-FF */
            return REF_INVALID;
        }
        if (!ref_possible(cp, need, need)) {
            *bad = i;
            return REF_INVALID;
        }
        for (j = 1; j <= need; j++) {
            unsigned c;
            if (i + j >= n) {
                *bad = n;
                return REF_TRUNCATED;
            }
            c = p[i + j];
            if ((c & 0xC0u) != 0x80u) {
                *bad = i + j;
                return REF_INVALID;
            }
            cp = cp << 6 | (c & 0x3Fu);
            if (!ref_possible(cp, need, need - j)) {
                *bad = i + j;
                return REF_INVALID;
            }
        }
        i += need + 1;
    }
    *bad = n;
    return REF_VALID;
}

/* ---- comparing ws.h with a verdict ------------------------------------- */

/* One shot. */
static int oneshot_agrees(const unsigned char *p, size_t n, int status, size_t bad) {
    size_t at = (size_t)-1;
    int r = ws_utf8_validate(p, n, &at);
    if (status == REF_VALID) return r == 0;
    return r == WS_E_UTF8 && at == bad; /* truncated: bad == n */
}

/* Fed in pieces of the given lengths (summing to n). */
static int pieces_agree(const unsigned char *p, size_t n, const size_t *piece, size_t count,
                        int status, size_t bad) {
    ws_utf8_state st = WS_UTF8_ACCEPT;
    size_t pos = 0, k;
    for (k = 0; k < count; k++) {
        size_t at = (size_t)-1;
        int r = ws_utf8_feed(&st, p + pos, piece[k], &at);
        if (status == REF_INVALID && bad < pos + piece[k]) {
            if (r != WS_E_UTF8 || at != bad - pos) return 0;
            /* Once failed, always failed. */
            return ws_utf8_finish(&st) == WS_E_UTF8 && ws_utf8_feed(&st, "a", 1, &at) == WS_E_UTF8 &&
                   at == 0;
        }
        if (r != 0) return 0;
        pos += piece[k];
    }
    (void)n;
    return ws_utf8_finish(&st) == (status == REF_VALID ? 0 : WS_E_UTF8);
}

/* Whole, split in two at every position, and (when asked) byte by byte. */
static int all_splits_agree(const unsigned char *p, size_t n, int status, size_t bad, int bytewise) {
    size_t piece[2], k;
    if (!oneshot_agrees(p, n, status, bad)) return 0;
    for (k = 0; k <= n; k++) {
        piece[0] = k, piece[1] = n - k;
        if (!pieces_agree(p, n, piece, 2, status, bad)) return 0;
    }
    if (bytewise && n > 2) {
        size_t ones[512];
        for (k = 0; k < n && k < 512; k++) ones[k] = 1;
        if (n <= 512 && !pieces_agree(p, n, ones, n, status, bad)) return 0;
    }
    return 1;
}

static void print_bytes(const char *label, const unsigned char *p, size_t n) {
    size_t i;
    printf("    %s:", label);
    for (i = 0; i < n && i < 48; i++) printf(" %02x", p[i]);
    printf(n > 48 ? " ...\n" : "\n");
}

/* ---- exhaustive short inputs -------------------------------------------- */

static void exhaustive(unsigned nbytes, unsigned lead_lo, unsigned lead_hi) {
    unsigned char p[4];
    unsigned long total = 0, bad_count = 0, valid = 0;
    uint32_t lead, rest, rest_max = nbytes == 1 ? 1u : 1u << (8 * (nbytes - 1));
    for (lead = lead_lo; lead <= lead_hi; lead++) {
        for (rest = 0; rest < rest_max; rest++) {
            size_t bad;
            int status;
            unsigned k;
            p[0] = (unsigned char)lead;
            for (k = 1; k < nbytes; k++) p[k] = (unsigned char)(rest >> (8 * (nbytes - 1 - k)));
            status = ref_scan(p, nbytes, &bad);
            total++;
            if (status == REF_VALID) valid++;
            if (!all_splits_agree(p, nbytes, status, bad, 1)) {
                if (++bad_count <= 5) {
                    printf("  disagreement (reference: %s, bad_at %u)\n",
                           status == REF_VALID ? "valid" : status == REF_INVALID ? "invalid" : "truncated",
                           (unsigned)bad);
                    print_bytes("input", p, nbytes);
                }
            }
        }
    }
    printf("utf8: %u-byte inputs, leads %02X-%02X: %lu inputs, %lu valid\n", nbytes, lead_lo, lead_hi,
           total, valid);
    CHECKF(bad_count == 0, "%u-byte inputs: %lu disagree with the reference", nbytes, bad_count);
}

/* The reference itself, on facts anyone can check: the number of valid
 * sequences of each length is the number of scalar values of that length. */
static void check_reference(void) {
    unsigned char p[4];
    unsigned long valid2 = 0, valid3 = 0;
    uint32_t v;
    size_t bad;
    for (v = 0; v < 0x10000u; v++) {
        p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v;
        if (p[0] >= 0x80 && ref_scan(p, 2, &bad) == REF_VALID) valid2++;
    }
    for (v = 0; v < 0x1000000u; v += 1) {
        p[0] = (unsigned char)(v >> 16), p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)v;
        if (p[0] >= 0xE0 && ref_scan(p, 3, &bad) == REF_VALID) valid3++;
    }
    CHECKF(valid2 == 0x800 - 0x80, "reference: %lu valid 2-byte sequences", valid2);
    CHECKF(valid3 == 0x10000 - 0x800 - 0x800, "reference: %lu valid 3-byte sequences", valid3);
}

/* ---- Markus Kuhn's UTF-8 decoder capability and stress test -------------
 * The cases of his test file, written out as hex with the verdict a strict
 * fail-fast validator must give (bad_at: index of the first byte after which
 * the input can no longer become valid; a truncated input reports its
 * length). A few cases of our own follow each group (marked "+"). */
enum { V = REF_VALID, X = REF_INVALID, T = REF_TRUNCATED };

typedef struct kuhn_case {
    const char *name;
    const char *hex;
    int verdict;
    unsigned bad_at; /* for X and T */
} kuhn_case;

static const kuhn_case kuhn[] = {
    {"1 kosme", "ce ba e1 bd b9 cf 83 ce bc ce b5", V, 0},
    {"2.1.1 U+0000", "00", V, 0},
    {"2.1.2 U+0080", "c2 80", V, 0},
    {"2.1.3 U+0800", "e0 a0 80", V, 0},
    {"2.1.4 U+10000", "f0 90 80 80", V, 0},
    {"2.1.5 5-byte U+200000", "f8 88 80 80 80", X, 0},
    {"2.1.6 6-byte U+4000000", "fc 84 80 80 80 80", X, 0},
    {"2.2.1 U+007F", "7f", V, 0},
    {"2.2.2 U+07FF", "df bf", V, 0},
    {"2.2.3 U+FFFF", "ef bf bf", V, 0},
    {"2.2.4 U+1FFFFF", "f7 bf bf bf", X, 0},
    {"2.2.5 U+3FFFFFF", "fb bf bf bf bf", X, 0},
    {"2.2.6 U+7FFFFFFF", "fd bf bf bf bf bf", X, 0},
    {"2.3.1 U+D7FF", "ed 9f bf", V, 0},
    {"2.3.2 U+E000", "ee 80 80", V, 0},
    {"2.3.3 U+FFFD", "ef bf bd", V, 0},
    {"2.3.4 U+10FFFF", "f4 8f bf bf", V, 0},
    {"2.3.5 U+110000", "f4 90 80 80", X, 1},
    {"3.1.1 first continuation byte", "80", X, 0},
    {"3.1.2 last continuation byte", "bf", X, 0},
    {"3.1.3 2 continuation bytes", "80 bf", X, 0},
    {"3.1.4 3 continuation bytes", "80 bf 80", X, 0},
    {"3.1.5 4 continuation bytes", "80 bf 80 bf", X, 0},
    {"3.1.6 5 continuation bytes", "80 bf 80 bf 80", X, 0},
    {"3.1.7 6 continuation bytes", "80 bf 80 bf 80 bf", X, 0},
    {"3.1.8 7 continuation bytes", "80 bf 80 bf 80 bf 80", X, 0},
    {"3.1.9 all 64 continuation bytes",
     "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f 90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f "
     "a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc bd be bf",
     X, 0},
    {"3.1+ continuation after ASCII", "61 80", X, 1},
    {"3.1+ continuation after a whole 2-byte char", "c3 a9 a9", X, 2},
    {"3.1+ continuation after a whole 4-byte char", "f0 9f 98 80 80", X, 4},
    {"3.2.1 all 32 2-byte leads, each followed by a space",
     "c0 20 c1 20 c2 20 c3 20 c4 20 c5 20 c6 20 c7 20 c8 20 c9 20 ca 20 cb 20 cc 20 cd 20 ce 20 cf 20 "
     "d0 20 d1 20 d2 20 d3 20 d4 20 d5 20 d6 20 d7 20 d8 20 d9 20 da 20 db 20 dc 20 dd 20 de 20 df 20",
     X, 0},
    {"3.2.1+ C2 followed by a space", "c2 20", X, 1},
    {"3.2.1+ DF followed by a space", "df 20", X, 1},
    {"3.2.2 all 16 3-byte leads, each followed by a space",
     "e0 20 e1 20 e2 20 e3 20 e4 20 e5 20 e6 20 e7 20 e8 20 e9 20 ea 20 eb 20 ec 20 ed 20 ee 20 ef 20", X, 1},
    {"3.2.2+ ED followed by a space", "ed 20", X, 1},
    {"3.2.3 all 8 4-byte leads, each followed by a space", "f0 20 f1 20 f2 20 f3 20 f4 20 f5 20 f6 20 f7 20",
     X, 1},
    {"3.2.3+ F4 followed by a space", "f4 20", X, 1},
    {"3.2.3+ F5 followed by a space", "f5 20", X, 0},
    {"3.2.3+ F7 followed by a space", "f7 20", X, 0},
    {"3.2.4 all 4 5-byte leads, each followed by a space", "f8 20 f9 20 fa 20 fb 20", X, 0},
    {"3.2.5 both 6-byte leads, each followed by a space", "fc 20 fd 20", X, 0},
    {"3.3.1 2-byte U+0000 missing its last byte", "c0", X, 0},
    {"3.3.2 3-byte U+0000 missing its last byte", "e0 80", X, 1},
    {"3.3.3 4-byte U+0000 missing its last byte", "f0 80 80", X, 1},
    {"3.3.4 5-byte U+0000 missing its last byte", "f8 80 80 80", X, 0},
    {"3.3.5 6-byte U+0000 missing its last byte", "fc 80 80 80 80", X, 0},
    {"3.3.6 2-byte U+07FF missing its last byte", "df", T, 1},
    {"3.3.7 3-byte U+FFFF missing its last byte", "ef bf", T, 2},
    {"3.3.8 4-byte U+1FFFFF missing its last byte", "f7 bf bf", X, 0},
    {"3.3.9 5-byte U+3FFFFFF missing its last byte", "fb bf bf bf", X, 0},
    {"3.3.10 6-byte U+7FFFFFFF missing its last byte", "fd bf bf bf bf", X, 0},
    {"3.3+ 3-byte lead alone", "e1", T, 1},
    {"3.3+ 4-byte U+10000 missing its last byte", "f0 90 80", T, 3},
    {"3.3+ 4-byte U+10FFFF missing two bytes", "f4 8f", T, 2},
    {"3.3+ 2-byte char cut short by ASCII", "df 41", X, 1},
    {"3.3+ 3-byte char cut short by ASCII", "ef bf 41", X, 2},
    {"3.3+ 4-byte char cut short by ASCII", "f4 8f bf 41", X, 3},
    {"3.3+ 3-byte char cut short by a lead", "e2 82 e2 82 ac", X, 2},
    {"3.4 concatenation of 3.3.1-3.3.10",
     "c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf fb bf bf bf fd bf bf bf bf", X, 0},
    {"3.4+ concatenation of 3.3.6-3.3.7", "df ef bf", X, 1},
    {"3.5.1 FE", "fe", X, 0},
    {"3.5.2 FF", "ff", X, 0},
    {"3.5.3 FE FE FF FF", "fe fe ff ff", X, 0},
    {"3.5+ FE after ASCII", "61 62 fe", X, 2},
    {"4.1.1 '/' as 2 bytes", "c0 af", X, 0},
    {"4.1.2 '/' as 3 bytes", "e0 80 af", X, 1},
    {"4.1.3 '/' as 4 bytes", "f0 80 80 af", X, 1},
    {"4.1.4 '/' as 5 bytes", "f8 80 80 80 af", X, 0},
    {"4.1.5 '/' as 6 bytes", "fc 80 80 80 80 af", X, 0},
    {"4.2.1 U+007F as 2 bytes", "c1 bf", X, 0},
    {"4.2.2 U+07FF as 3 bytes", "e0 9f bf", X, 1},
    {"4.2.3 U+FFFF as 4 bytes", "f0 8f bf bf", X, 1},
    {"4.2.4 U+1FFFFF as 5 bytes", "f8 87 bf bf bf", X, 0},
    {"4.2.5 U+3FFFFFF as 6 bytes", "fc 83 bf bf bf bf", X, 0},
    {"4.3.1 U+0000 as 2 bytes", "c0 80", X, 0},
    {"4.3.2 U+0000 as 3 bytes", "e0 80 80", X, 1},
    {"4.3.3 U+0000 as 4 bytes", "f0 80 80 80", X, 1},
    {"4.3.4 U+0000 as 5 bytes", "f8 80 80 80 80", X, 0},
    {"4.3.5 U+0000 as 6 bytes", "fc 80 80 80 80 80", X, 0},
    {"4+ shortest 3-byte form is fine", "e0 a0 80", V, 0},
    {"4+ shortest 4-byte form is fine", "f0 90 80 80", V, 0},
    {"5.1.1 U+D800", "ed a0 80", X, 1},
    {"5.1.2 U+DB7F", "ed ad bf", X, 1},
    {"5.1.3 U+DB80", "ed ae 80", X, 1},
    {"5.1.4 U+DBFF", "ed af bf", X, 1},
    {"5.1.5 U+DC00", "ed b0 80", X, 1},
    {"5.1.6 U+DF80", "ed be 80", X, 1},
    {"5.1.7 U+DFFF", "ed bf bf", X, 1},
    {"5.1+ U+D800 after ASCII", "61 ed a0 80", X, 2},
    {"5.1+ U+D800 as 4 bytes (overlong surrogate)", "f0 8d a0 80", X, 1},
    {"5.2.1 U+D800 U+DC00", "ed a0 80 ed b0 80", X, 1},
    {"5.2.2 U+D800 U+DFFF", "ed a0 80 ed bf bf", X, 1},
    {"5.2.3 U+DB7F U+DC00", "ed ad bf ed b0 80", X, 1},
    {"5.2.4 U+DB7F U+DFFF", "ed ad bf ed bf bf", X, 1},
    {"5.2.5 U+DB80 U+DC00", "ed ae 80 ed b0 80", X, 1},
    {"5.2.6 U+DB80 U+DFFF", "ed ae 80 ed bf bf", X, 1},
    {"5.2.7 U+DBFF U+DC00", "ed af bf ed b0 80", X, 1},
    {"5.2.8 U+DBFF U+DFFF", "ed af bf ed bf bf", X, 1},
    {"5.3.1 U+FFFE", "ef bf be", V, 0},
    {"5.3.2 U+FFFF", "ef bf bf", V, 0},
    {"5.3.3 U+FDD0 .. U+FDEF", "ef b7 90 ef b7 91 ef b7 af", V, 0},
    {"5.3.4 U+1FFFE U+1FFFF U+10FFFE U+10FFFF", "f0 9f bf be f0 9f bf bf f4 8f bf be f4 8f bf bf", V, 0},
    {"+ Autobahn 6.x: Hello-mu@eszett..-UTF-8!!",
     "48 65 6c 6c 6f 2d c2 b5 40 c3 9f c3 b6 c3 a4 c3 bc c3 a0 c3 a1 2d 55 54 46 2d 38 21 21", V, 0},
    {"+ kosme, a surrogate, then 'edited'",
     "ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64", X, 12},
    {"+ kosme then F4 90 (above U+10FFFF)", "ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80", X, 12},
};

static size_t parse_hex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = 0;
    while (*hex) {
        unsigned v;
        if (*hex == ' ') {
            hex++;
            continue;
        }
        if (n >= cap || sscanf(hex, "%2x", &v) != 1) exit(2);
        out[n++] = (unsigned char)v;
        hex += 2;
    }
    return n;
}

static void test_kuhn(void) {
    size_t i;
    for (i = 0; i < sizeof kuhn / sizeof kuhn[0]; i++) {
        const kuhn_case *k = &kuhn[i];
        unsigned char p[128];
        size_t n = parse_hex(k->hex, p, sizeof p), ref_bad, want_bad = k->verdict == V ? n : k->bad_at;
        int ref = ref_scan(p, n, &ref_bad);
        size_t at = (size_t)-1;
        int r = ws_utf8_validate(p, n, &at);
        /* The table and the reference must agree, or one of them is wrong. */
        CHECKF(ref == k->verdict && ref_bad == want_bad, "%s: the reference says %d at %u", k->name, ref,
               (unsigned)ref_bad);
        if (k->verdict == V)
            CHECKF(r == 0, "%s: ws_utf8_validate gives %d at %u, want valid", k->name, r, (unsigned)at);
        else
            CHECKF(r == WS_E_UTF8 && at == want_bad, "%s: ws_utf8_validate gives %d at %u, want %u",
                   k->name, r, (unsigned)at, (unsigned)want_bad);
        CHECKF(all_splits_agree(p, n, k->verdict, want_bad, 1), "%s: fed in pieces", k->name);
        CHECK(ws_utf8_validate(p, n, NULL) == (k->verdict == V ? 0 : WS_E_UTF8));
    }
    printf("utf8: %u Kuhn stress-test cases\n", (unsigned)(sizeof kuhn / sizeof kuhn[0]));
}

/* ---- random text with random damage ------------------------------------ */

static size_t encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6), out[1] = (unsigned char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12), out[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        out[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18), out[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), out[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

static uint32_t random_scalar(test_rng *r) {
    static const uint32_t edges[] = {0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF,
                                     0x10000, 0x10FFFF, 0xFEFF, 0x1F600};
    switch (test_below(r, 8)) {
    case 0: return edges[test_below(r, sizeof edges / sizeof edges[0])];
    case 1: return (uint32_t)(0x80 + test_below(r, 0x800 - 0x80));
    case 2: {
        uint32_t cp = (uint32_t)(0x800 + test_below(r, 0x10000 - 0x800));
        return cp >= 0xD800 && cp <= 0xDFFF ? cp - 0x800 : cp;
    }
    case 3: return (uint32_t)(0x10000 + test_below(r, 0x110000 - 0x10000));
    default: return (uint32_t)(0x20 + test_below(r, 0x5F)); /* mostly ASCII: long runs */
    }
}

static void test_random(void) {
    unsigned char p[400];
    size_t piece[400];
    unsigned long cases = 0, bad_count = 0, counts[3] = {0, 0, 0};
    test_rng rng;
    int iter;
    rng.s = 3629;
    for (iter = 0; iter < 30000; iter++) {
        size_t n = 0, target = test_below(&rng, 300), bad, k, pos;
        int status, damage = (int)test_below(&rng, 6);
        while (n < target) n += encode(random_scalar(&rng), p + n);
        if (damage == 1 && n) p[test_below(&rng, n)] = (unsigned char)test_rand(&rng);
        else if (damage == 2 && n) n -= test_below(&rng, n < 3 ? n : 3); /* maybe cut inside a char */
        else if (damage == 3 && n) p[test_below(&rng, n)] ^= (unsigned char)(1u << test_below(&rng, 8));
        status = ref_scan(p, n, &bad);
        counts[status]++;
        cases++;
        /* Random pieces, including empty ones. */
        for (pos = 0, k = 0; pos < n; k++) {
            piece[k] = test_below(&rng, 20);
            if (piece[k] > n - pos || k == sizeof piece / sizeof piece[0] - 1) piece[k] = n - pos;
            pos += piece[k];
        }
        if (!all_splits_agree(p, n, status, bad, iter % 8 == 0) || !pieces_agree(p, n, piece, k, status, bad)) {
            if (++bad_count <= 5) {
                printf("  disagreement (reference %d at %u)\n", status, (unsigned)bad);
                print_bytes("input", p, n);
            }
        }
    }
    printf("utf8: %lu random texts (%lu valid, %lu invalid, %lu truncated)\n", cases, counts[0], counts[1],
           counts[2]);
    CHECKF(bad_count == 0, "random texts: %lu disagree with the reference", bad_count);
}

/* ---- dense text ---------------------------------------------------------
 * Text with no ASCII to skip, where the portable path steps in blocks and
 * tests once per block: every byte position (so every place in a block and
 * every block boundary), overwritten by each byte that breaks text in a
 * different way, must give the reference's fail-fast position; and every
 * cut of the text must be valid or truncated as the reference says. */

static void test_dense(void) {
    static const uint32_t scripts[][4] = {
        {0xE9, 0x3B1, 0x430, 0x7FF},         /* 2-byte */
        {0x4E2D, 0x800, 0xD7FF, 0xFFFD},     /* 3-byte */
        {0x1F600, 0x10000, 0x10FFFF, 0x2F800}, /* 4-byte */
        {0xE9, 0x4E2D, 0x1F600, 'a'},        /* mixed, a little ASCII */
    };
    static const unsigned char breakers[] = {0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 'a'};
    unsigned char text[128], p[128];
    unsigned long cases = 0, bad_count = 0;
    size_t si, j, n, pos, bi, bad = 0;
    for (si = 0; si < sizeof scripts / sizeof scripts[0]; si++) {
        for (n = 0, j = 0; n + 4 <= 100; j++) n += encode(scripts[si][j % 4], text + n);
        for (pos = 0; pos <= n; pos++) {
            int status = ref_scan(text, pos, &bad); /* a cut: valid or truncated */
            cases++;
            if (!all_splits_agree(text, pos, status, bad, 0) && ++bad_count <= 5)
                printf("  dense text cut at %u: wrong\n", (unsigned)pos);
            for (bi = 0; pos < n && bi < sizeof breakers; bi++) {
                memcpy(p, text, n);
                p[pos] = breakers[bi];
                status = ref_scan(p, n, &bad);
                cases++;
                if (!all_splits_agree(p, n, status, bad, pos % 16 == 0) && ++bad_count <= 5) {
                    printf("  dense text with %02x at %u: wrong\n", breakers[bi], (unsigned)pos);
                    print_bytes("input", p, n);
                }
            }
        }
    }
    printf("utf8: %lu dense-text cases\n", cases);
    CHECKF(bad_count == 0, "dense text: %lu cases wrong", bad_count);
}

/* ---- the ASCII fast path ------------------------------------------------ */

static void test_ascii_runs(void) {
    static unsigned char buf[16 + 300];
    static const struct {
        const char *hex;
        int verdict;
        unsigned bad_off; /* from the insertion point */
    } inserts[] = {
        {"80", X, 0},       {"ff", X, 0},       {"c0", X, 0},          {"c3 41", X, 1},
        {"e2 82 41", X, 2}, {"ed a0 80", X, 1}, {"c3 a9", V, 0},       {"e2 82 ac", V, 0},
        {"f0 9f 98 80", V, 0}, {"f4 90 80 80", X, 1},
    };
    size_t lens[] = {64, 65, 80, 100, 160, 299};
    unsigned long cases = 0, bad_count = 0;
    size_t li, align, pos, ii;
    for (li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        for (align = 0; align < 16; align++) {
            for (pos = 0; pos <= 64; pos++) {
                for (ii = 0; ii < sizeof inserts / sizeof inserts[0]; ii++) {
                    unsigned char ins[8], *p = buf + align;
                    size_t n = lens[li], m = parse_hex(inserts[ii].hex, ins, sizeof ins), want_bad, bad;
                    int verdict = inserts[ii].verdict;
                    if (pos + m > n) continue;
                    memset(p, 'a', n);
                    memcpy(p + pos, ins, m);
                    want_bad = verdict == V ? n : pos + inserts[ii].bad_off;
                    cases++;
                    if (ref_scan(p, n, &bad) != verdict || bad != want_bad ||
                        !all_splits_agree(p, n, verdict, want_bad, 0)) {
                        if (++bad_count <= 5)
                            printf("  ASCII run of %u at alignment %u, %s at %u: wrong\n", (unsigned)n,
                                   (unsigned)align, inserts[ii].hex, (unsigned)pos);
                    }
                }
                /* A sequence cut off by the end of a long ASCII run. */
                {
                    unsigned char *p = buf + align;
                    size_t n = lens[li] - 64 + pos;
                    if (n < 2) continue;
                    memset(p, 'a', n);
                    p[n - 1] = 0xE2;
                    cases++;
                    if (!all_splits_agree(p, n, T, n, 0)) {
                        if (++bad_count <= 5)
                            printf("  ASCII run of %u ending in a lead byte: wrong\n", (unsigned)n);
                    }
                }
            }
        }
    }
    printf("utf8: %lu ASCII fast-path cases\n", cases);
    CHECKF(bad_count == 0, "ASCII fast path: %lu cases wrong", bad_count);
}

static void test_api_details(void) {
    ws_utf8_state st = WS_UTF8_ACCEPT;
    size_t at = 99;
    CHECK(ws_utf8_validate("", 0, &at) == 0);
    CHECK(ws_utf8_validate(NULL, 0, NULL) == 0);
    CHECK(ws_utf8_feed(&st, "", 0, &at) == 0 && ws_utf8_finish(&st) == 0);
    /* A state in the middle of a sequence is not "finished". */
    CHECK(ws_utf8_feed(&st, "\xe2\x82", 2, &at) == 0 && ws_utf8_finish(&st) == WS_E_UTF8);
    CHECK(ws_utf8_feed(&st, "\xac", 1, &at) == 0 && ws_utf8_finish(&st) == 0);
    /* Errors stick. */
    CHECK(ws_utf8_feed(&st, "ab\xff", 3, NULL) == WS_E_UTF8);
    CHECK(ws_utf8_feed(&st, "ab", 2, &at) == WS_E_UTF8 && at == 0);
    CHECK(ws_utf8_finish(&st) == WS_E_UTF8);
}

int main(int argc, char **argv) {
    /* "--quick" leaves out the 4-byte enumeration (sanitizer builds, where
     * the 84 million inputs take minutes); everything else still runs. */
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    check_reference();
    test_api_details();
    test_kuhn();
    test_ascii_runs();
    test_dense();
    test_random();
    exhaustive(1, 0x00, 0xFF);
    exhaustive(2, 0x00, 0xFF);
    exhaustive(3, 0x00, 0xFF);
    if (!quick) exhaustive(4, 0xF0, 0xF4);
    return test_report();
}
