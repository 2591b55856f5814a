/* Shared by the fuzz targets: the libFuzzer entry point's prototype, the
 * check that aborts on an invariant violation, and a deliberately plain
 * UTF-8 validator that the targets use as the reference for ws.h's DFA.
 *
 * Each target is one .c file that includes ws.h with WS_IMPLEMENTATION and
 * defines LLVMFuzzerTestOneInput. Built with clang -fsanitize=fuzzer it is a
 * libFuzzer binary; built with any compiler together with replay_main.c it
 * replays files (for CTest, AFL++ and debugging). */
#ifndef WS_FUZZ_COMMON_H
#define WS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FUZZ_UNUSED __attribute__((unused))
#else
#define FUZZ_UNUSED
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant failed: say which, then abort so that libFuzzer, AFL++ and
 * CTest all see a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) fuzz_fail(#cond, __FILE__, __LINE__);                                         \
    } while (0)

static FUZZ_UNUSED void fuzz_fail(const char *what, const char *file, int line) {
    fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, file, line);
    fflush(stderr);
    abort();
}

/* A bounded reader over the fuzzer's input. Reads past the end give 0. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t len, pos;
} fuzz_in;

static FUZZ_UNUSED unsigned fuzz_byte(fuzz_in *in) {
    return in->pos < in->len ? in->p[in->pos++] : 0u;
}

/* ---------------------------------------------------------------------------
 * Reference UTF-8 validator.
 * Decodes code points the plain way: a lead byte says how many bytes follow
 * and which range the code point must land in; after every byte we ask
 * whether the bits seen so far can still end up in that range (minus the
 * surrogates). The first byte after which the answer is "no" is the
 * fail-fast position. It shares no table or trick with ws.h's DFA.
 * ------------------------------------------------------------------------- */
enum { REF_UTF8_VALID = 0, REF_UTF8_TRUNCATED = 1, REF_UTF8_INVALID = 2 };

/* Can a code point in [lo_cp, hi_cp] still be a legal value in [lo, hi]? */
static FUZZ_UNUSED int ref_utf8_viable(uint32_t lo_cp, uint32_t hi_cp, uint32_t lo, uint32_t hi) {
    uint32_t a_hi = hi < 0xD7FFu ? hi : 0xD7FFu; /* below the surrogates */
    uint32_t b_lo = lo > 0xE000u ? lo : 0xE000u; /* above them */
    if (lo <= a_hi && lo_cp <= a_hi && hi_cp >= lo) return 1;
    if (b_lo <= hi && lo_cp <= hi && hi_cp >= b_lo) return 1;
    return 0;
}

/* Returns REF_UTF8_VALID, REF_UTF8_TRUNCATED (valid so far, ends inside a
 * code point; *at = len) or REF_UTF8_INVALID (*at = first impossible byte). */
static FUZZ_UNUSED int ref_utf8_scan(const unsigned char *p, size_t len, size_t *at) {
    size_t i = 0;
    while (i < len) {
        unsigned b = p[i], n, k;
        uint32_t cp, lo, hi;
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b < 0xC0) { /* a continuation byte cannot start anything */
            *at = i;
            return REF_UTF8_INVALID;
        } else if (b < 0xE0) {
            n = 2, lo = 0x80, hi = 0x7FF, cp = b & 0x1Fu;
        } else if (b < 0xF0) {
            n = 3, lo = 0x800, hi = 0xFFFF, cp = b & 0x0Fu;
        } else if (b < 0xF8) {
            n = 4, lo = 0x10000, hi = 0x10FFFF, cp = b & 0x07u;
        } else {
            *at = i;
            return REF_UTF8_INVALID;
        }
        for (k = 1;; k++) {
            unsigned rest = 6 * (n - k); /* bits still to come */
            uint32_t min = cp << rest, max = min | ((1u << rest) - 1u);
            if (!ref_utf8_viable(min, max, lo, hi)) {
                *at = i + k - 1;
                return REF_UTF8_INVALID;
            }
            if (k == n) break;
            if (i + k >= len) {
                *at = len;
                return REF_UTF8_TRUNCATED;
            }
            if ((p[i + k] & 0xC0u) != 0x80u) {
                *at = i + k;
                return REF_UTF8_INVALID;
            }
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        i += n;
    }
    *at = len;
    return REF_UTF8_VALID;
}

/* Whole and valid? */
static FUZZ_UNUSED int ref_utf8_ok(const void *p, size_t len) {
    size_t at;
    return ref_utf8_scan((const unsigned char *)p, len, &at) == REF_UTF8_VALID;
}

#endif
