/* Benchmarks for the per-byte hot paths: masking and UTF-8 validation.
 * Each is measured against the machine's own ceiling in the same run
 * (memcpy of the same buffer) and UTF-8 also against a plain byte-at-a-time
 * DFA validator written below, the classic approach. Ratios are printed
 * next to the targets; nothing is asserted (timings are not tests).
 * Every figure is the best of several repetitions, each long enough
 * (>= 20 ms) for the monotonic clock to be precise, and the functions that
 * are compared take turns, so a shared machine's noise hits them alike. */
#define _POSIX_C_SOURCE 200809L
#define WS_IMPLEMENTATION
#include "../ws.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/perf/simd_path.h"

#define REPS 15
#define MIN_REP_SECONDS 0.02

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What a benchmarked call works on. */
typedef struct job {
    unsigned char *dst;
    const unsigned char *src;
    size_t len;
} job;

static volatile unsigned sink; /* keeps results observable */

typedef void (*job_fn)(const job *j);

/* Calls per repetition so one repetition lasts at least MIN_REP_SECONDS. */
static size_t calibrate(job_fn fn, const job *j) {
    size_t iters = 1, i;
    for (;;) {
        double t0 = now_seconds();
        for (i = 0; i < iters; i++) fn(j);
        if (now_seconds() - t0 >= MIN_REP_SECONDS) return iters;
        iters *= 2;
    }
}

/* Best seconds per call for each of n functions on the same job. The
 * repetitions are interleaved (a, b, c, a, b, c, ...) so that a busy moment
 * on a shared machine hits all of them alike instead of one. */
static void best_per_call(job_fn *fns, size_t n, const job *j, double *best) {
    size_t iters[8], f, i;
    int r;
    for (f = 0; f < n; f++) {
        iters[f] = calibrate(fns[f], j);
        best[f] = 1e30;
    }
    for (r = 0; r < REPS; r++)
        for (f = 0; f < n; f++) {
            double t0 = now_seconds(), dt;
            for (i = 0; i < iters[f]; i++) fns[f](j);
            dt = (now_seconds() - t0) / (double)iters[f];
            if (dt < best[f]) best[f] = dt;
        }
}

/* ---- the measured calls ------------------------------------------------- */

static const unsigned char mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Every measured function is called through a volatile pointer: the
 * compiler cannot see which function runs, so it cannot notice that a
 * validator reads the same unchanged bytes each time and hoist the call out
 * of the timing loop (GCC does that to pure functions it can see). */
static void *(*volatile p_memcpy)(void *, const void *, size_t) = memcpy;
static size_t (*volatile p_mask)(void *, size_t, const unsigned char *, size_t) = ws_mask;
static size_t (*volatile p_mask_copy)(void *, const void *, size_t, const unsigned char *, size_t) =
    ws_mask_copy;
static int (*volatile p_validate)(const void *, size_t, size_t *) = ws_utf8_validate;

static void run_memcpy(const job *j) {
    p_memcpy(j->dst, j->src, j->len);
    sink += j->dst[j->len / 2];
}

static void run_mask_inplace(const job *j) {
    sink += (unsigned)p_mask(j->dst, j->len, mask_key, 0);
    sink += j->dst[j->len / 2];
}

static void run_mask_copy(const job *j) {
    sink += (unsigned)p_mask_copy(j->dst, j->src, j->len, mask_key, 0);
    sink += j->dst[j->len / 2];
}

static void run_validate(const job *j) { sink += (unsigned)(p_validate(j->src, j->len, NULL) + 1); }

/* The baseline: a byte-class table and a state x class transition table,
 * one step per byte, stopping at the first byte that makes the input
 * invalid. States are stored multiplied by the number of classes, so a step
 * is two loads and an add, as in the well-known table-driven decoders.
 * Tables are built at start-up from the RFC 3629 byte ranges. */
enum { D_ACCEPT, D_REJECT, D_TAIL1, D_TAIL2, D_TAIL3, D_E0, D_ED, D_F0, D_F4, D_STATES };
enum { C_ASCII, C_80_8F, C_90_9F, C_A0_BF, C_C2_DF, C_E0, C_E1_EF, C_ED, C_F0, C_F1_F3, C_F4, C_BAD, C_CLASSES };
static unsigned char dfa_class[256];
static unsigned char dfa_next[D_STATES * C_CLASSES];

static void dfa_set(int state, int cls, int next) {
    dfa_next[state * C_CLASSES + cls] = (unsigned char)(next * C_CLASSES);
}

static void dfa_build(void) {
    int b, s, c;
    for (b = 0; b < 256; b++) {
        unsigned char k;
        if (b < 0x80) k = C_ASCII;
        else if (b < 0x90) k = C_80_8F;
        else if (b < 0xA0) k = C_90_9F;
        else if (b < 0xC0) k = C_A0_BF;
        else if (b < 0xC2) k = C_BAD;
        else if (b < 0xE0) k = C_C2_DF;
        else if (b == 0xE0) k = C_E0;
        else if (b == 0xED) k = C_ED;
        else if (b < 0xF0) k = C_E1_EF;
        else if (b == 0xF0) k = C_F0;
        else if (b < 0xF4) k = C_F1_F3;
        else if (b == 0xF4) k = C_F4;
        else k = C_BAD;
        dfa_class[b] = k;
    }
    for (s = 0; s < D_STATES; s++)
        for (c = 0; c < C_CLASSES; c++) dfa_set(s, c, D_REJECT);
    dfa_set(D_ACCEPT, C_ASCII, D_ACCEPT);
    dfa_set(D_ACCEPT, C_C2_DF, D_TAIL1);
    dfa_set(D_ACCEPT, C_E0, D_E0);
    dfa_set(D_ACCEPT, C_E1_EF, D_TAIL2);
    dfa_set(D_ACCEPT, C_ED, D_ED);
    dfa_set(D_ACCEPT, C_F0, D_F0);
    dfa_set(D_ACCEPT, C_F1_F3, D_TAIL3);
    dfa_set(D_ACCEPT, C_F4, D_F4);
    for (c = C_80_8F; c <= C_A0_BF; c++) {
        dfa_set(D_TAIL1, c, D_ACCEPT);
        dfa_set(D_TAIL2, c, D_TAIL1);
        dfa_set(D_TAIL3, c, D_TAIL2);
    }
    dfa_set(D_E0, C_A0_BF, D_TAIL1);
    dfa_set(D_ED, C_80_8F, D_TAIL1);
    dfa_set(D_ED, C_90_9F, D_TAIL1);
    dfa_set(D_F0, C_90_9F, D_TAIL2);
    dfa_set(D_F0, C_A0_BF, D_TAIL2);
    dfa_set(D_F4, C_80_8F, D_TAIL2);
}

static int dfa_validate(const unsigned char *p, size_t n) {
    unsigned st = D_ACCEPT * C_CLASSES;
    size_t i;
    for (i = 0; i < n; i++) {
        st = dfa_next[st + dfa_class[p[i]]];
        if (st == D_REJECT * C_CLASSES) return -1;
    }
    return st == D_ACCEPT * C_CLASSES ? 0 : -1;
}

static int (*volatile p_dfa)(const unsigned char *, size_t) = dfa_validate;
static void run_dfa(const job *j) { sink += (unsigned)(p_dfa(j->src, j->len) + 1); }

/* ---- test data ----------------------------------------------------------- */

static size_t put_utf8(unsigned char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        out[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 63));
    out[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* Printable ASCII prose: words of letters, spaces, punctuation, newlines. */
static size_t make_ascii(unsigned char *out, size_t cap) {
    size_t n = 0;
    while (n + 16 < cap) {
        uint32_t w = 2 + rnd(8), i;
        for (i = 0; i < w; i++) out[n++] = (unsigned char)('a' + rnd(26));
        out[n++] = (unsigned char)(rnd(12) == 0 ? (rnd(3) == 0 ? '\n' : '.') : ' ');
    }
    return n;
}

/* Text in five scripts, a paragraph (~300 code points) at a time: Latin
 * with accents, Greek, Cyrillic, CJK, and ASCII prose sprinkled with emoji.
 * Built from code points so the mix is exact and reproducible. */
static const uint32_t latin_accents[] = {0xE9, 0xE8, 0xEA, 0xE0, 0xE2, 0xE7, 0xEE, 0xEF, 0xF4, 0xF9, 0xFB,
                                         0xFC, 0xF6, 0xE4, 0xDF, 0xF1, 0xE1, 0xED, 0xF3, 0xFA, 0xF8, 0xE5,
                                         0x153, 0x161, 0x17E, 0x10D, 0x142};
static size_t make_mixed(unsigned char *out, size_t cap, size_t per_script[5]) {
    size_t n = 0;
    unsigned para = 0;
    memset(per_script, 0, 5 * sizeof per_script[0]);
    while (n + 64 < cap) {
        unsigned script = para++ % 5;
        size_t start = n, cps = 0;
        while (cps < 300 && n + 64 < cap) {
            uint32_t w = script == 3 ? 1 + rnd(4) : 2 + rnd(8), i;
            for (i = 0; i < w; i++, cps++) {
                uint32_t cp;
                switch (script) {
                case 0: /* Latin: about one letter in six accented */
                    cp = rnd(6) == 0 ? latin_accents[rnd(sizeof latin_accents / sizeof latin_accents[0])]
                                     : 'a' + rnd(26);
                    break;
                case 1: cp = 0x3B1 + rnd(25); break;  /* Greek small letters */
                case 2: cp = 0x430 + rnd(32); break;  /* Cyrillic small letters */
                case 3: cp = 0x4E00 + rnd(0x5000); break; /* CJK ideographs */
                default: /* ASCII chat with emoji */
                    cp = rnd(5) == 0 ? (rnd(2) ? 0x1F600 + rnd(0x50) : 0x1F300 + rnd(0x100)) : 'a' + rnd(26);
                    break;
                }
                n += put_utf8(out + n, cp);
            }
            /* CJK runs on without spaces but with ideographic punctuation. */
            if (script == 3) n += put_utf8(out + n, rnd(4) == 0 ? 0x3002 : 0xFF0C);
            else out[n++] = (unsigned char)(rnd(10) == 0 ? '.' : ' ');
        }
        out[n++] = '\n';
        per_script[script] += n - start;
    }
    return n;
}

/* ---- report --------------------------------------------------------------- */

static double gbps(size_t bytes, double seconds) { return (double)bytes / seconds / 1e9; }

static void row(const char *name, const char *size, double rate, double vs_memcpy, double vs_dfa,
                const char *target) {
    char a[16] = "", b[16] = "";
    if (vs_memcpy > 0) snprintf(a, sizeof a, "%.2fx", vs_memcpy);
    if (vs_dfa > 0) snprintf(b, sizeof b, "%.2fx", vs_dfa);
    printf("| %-26s | %-12s | %7.2f | %9s | %7s | %s |\n", name, size, rate, a, b, target);
}

static void target_text(char *out, size_t cap, double ratio, double want, const char *of) {
    if (ratio >= want)
        snprintf(out, cap, ">= %.2gx %s: met", want, of);
    else
        snprintf(out, cap, ">= %.2gx %s: MISSED by %.0f%% (%.2fx short)", want, of,
                 100.0 * (1.0 - ratio / want), want / ratio);
}

static void bench_mask(size_t len, const char *label) {
    unsigned char *src = (unsigned char *)malloc(len), *dst = (unsigned char *)malloc(len);
    job_fn fns[3] = {run_memcpy, run_mask_inplace, run_mask_copy};
    double t[3], t_copy, t_mask, t_mask_copy;
    char target[96];
    job j;
    size_t i;
    if (!src || !dst) exit(1);
    for (i = 0; i < len; i++) src[i] = (unsigned char)(i * 131 + 7);
    memcpy(dst, src, len);
    j.dst = dst, j.src = src, j.len = len;
    best_per_call(fns, 3, &j, t);
    t_copy = t[0], t_mask = t[1], t_mask_copy = t[2];
    row("memcpy", label, gbps(len, t_copy), 1.0, 0, "");
    if (len == 64 * 1024) target_text(target, sizeof target, t_copy / t_mask, 0.25, "memcpy");
    else target[0] = '\0';
    row("ws_mask (in place)", label, gbps(len, t_mask), t_copy / t_mask, 0, target);
    row("ws_mask_copy", label, gbps(len, t_mask_copy), t_copy / t_mask_copy, 0, "");
    free(src), free(dst);
}

static void bench_utf8(const unsigned char *text, size_t len, const char *label, double want) {
    unsigned char *dst = (unsigned char *)malloc(len);
    job_fn fns[3] = {run_memcpy, run_dfa, run_validate};
    double t[3], t_copy, t_dfa, t_ws;
    char target[96];
    job j;
    if (!dst) exit(1);
    if (dfa_validate(text, len) != 0 || ws_utf8_validate(text, len, NULL) != 0) {
        printf("bench data is not valid UTF-8 (a bug in the bench or ws.h)\n");
        exit(1);
    }
    j.dst = dst, j.src = text, j.len = len;
    best_per_call(fns, 3, &j, t);
    t_copy = t[0], t_dfa = t[1], t_ws = t[2];
    row("memcpy", label, gbps(len, t_copy), 1.0, 0, "");
    row("DFA, byte at a time", label, gbps(len, t_dfa), t_copy / t_dfa, 1.0, "");
    target_text(target, sizeof target, t_dfa / t_ws, want, "DFA");
    row("ws_utf8_validate", label, gbps(len, t_ws), t_copy / t_ws, t_dfa / t_ws, target);
    free(dst);
}

/* The baseline must be a correct validator, or the comparison means nothing. */
static int dfa_selfcheck(void) {
    static const char *const bad[] = {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x9f\xbf",
                                      "\xf0\x8f\xbf\xbf", "\x80", "\xff", "\xe2\x82"};
    static const char *const good[] = {"\xc2\x80", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf", "\xe0\xa0\x80",
                                       "\xf0\x90\x80\x80", "abc", "\xef\xbf\xbf"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dfa_validate((const unsigned char *)bad[i], strlen(bad[i])) == 0) return 0;
    for (i = 0; i < sizeof good / sizeof good[0]; i++)
        if (dfa_validate((const unsigned char *)good[i], strlen(good[i])) != 0) return 0;
    return 1;
}

int main(void) {
    size_t cap = 1u << 20, ascii_len, mixed_len, per_script[5], i, non_ascii = 0;
    unsigned char *ascii = (unsigned char *)malloc(cap), *mixed = (unsigned char *)malloc(cap);
    if (!ascii || !mixed) return 1;
    dfa_build();
    if (!dfa_selfcheck()) {
        printf("the baseline DFA is wrong\n");
        return 1;
    }
    ascii_len = make_ascii(ascii, cap);
    mixed_len = make_mixed(mixed, cap, per_script);
    for (i = 0; i < mixed_len; i++) non_ascii += mixed[i] >= 0x80;

    printf("ws.h primitives benchmark (%s path): best of %d interleaved repetitions of >= %.0f ms each\n",
           PATH, REPS, MIN_REP_SECONDS * 1e3);
    printf("mixed text: %zu bytes, %.0f%% non-ASCII bytes; bytes per script: Latin %zu, Greek %zu, "
           "Cyrillic %zu, CJK %zu, ASCII+emoji %zu\n\n",
           mixed_len, 100.0 * (double)non_ascii / (double)mixed_len, per_script[0], per_script[1],
           per_script[2], per_script[3], per_script[4]);
    printf("| %-26s | %-12s | %7s | %9s | %7s | %s |\n", "case", "size", "GB/s", "vs memcpy", "vs DFA",
           "target");
    printf("|----------------------------|--------------|---------|-----------|---------|--------|\n");
    bench_mask(64 * 1024, "64 KiB");
    bench_mask(16 * 1024 * 1024, "16 MiB");
    bench_utf8(ascii, ascii_len, "1 MiB ASCII", 10.0);
    bench_utf8(mixed, mixed_len, "1 MiB mixed", 2.0);
    printf("%s", sink == 0x12345678u ? " " : "");
    free(ascii), free(mixed);
    return 0;
}
