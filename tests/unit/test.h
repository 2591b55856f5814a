/* Tiny helpers shared by the unit tests: checks that count, a seeded PRNG.
 * Each test program ends with test_report(), which prints the final
 * "N passed, N failed" line and gives the exit status. */
#ifndef WS_TEST_H
#define WS_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define TEST_FN static __attribute__((unused))
#else
#define TEST_FN static
#endif

static unsigned long test_passed, test_failed;

/* Counts one check; prints the failing expression with its location. */
#define CHECK(cond) test_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
/* The same with a printf-style note that says which case failed. */
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (!test_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)) {                              \
            printf("    ");                                                                        \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* What the checks that follow are about, printed with a failure. */
static const char *test_ctx = "";

TEST_FN int test_check(int ok, const char *expr, const char *file, int line) {
    if (ok) {
        test_passed++;
    } else {
        test_failed++;
        if (test_failed <= 50) printf("FAIL %s:%d%s%s%s: %s\n", file, line, *test_ctx ? " (" : "", test_ctx,
                                      *test_ctx ? ")" : "", expr);
    }
    return ok;
}

#define FAIL(what) test_check(0, what, __FILE__, __LINE__)
/* Comparisons that print what they got. */
#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (!test_check(g_ == w_, #got " == " #want, __FILE__, __LINE__))                          \
            printf("    got %lld, want %lld\n", g_, w_);                                          \
    } while (0)
#define TEST_CHECK_TEXT(ok, what, got)                                                             \
    do {                                                                                           \
        if (!test_check(ok, what, __FILE__, __LINE__)) printf("    got \"%s\"\n", (got) ? (got) : "(null)"); \
    } while (0)
#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        TEST_CHECK_TEXT(g_ && strcmp(g_, w_) == 0, #got " == \"" #want "\"", g_);                  \
    } while (0)
/* got starts with prefix */
#define CHECK_PREFIX(got, prefix)                                                                  \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (prefix);                                                    \
        TEST_CHECK_TEXT(g_ && strncmp(g_, w_, strlen(w_)) == 0, #got " starts with " #prefix, g_); \
    } while (0)
/* got contains part */
#define CHECK_HAS(got, part)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (part);                                                      \
        TEST_CHECK_TEXT(g_ && strstr(g_, w_) != NULL, #got " contains " #part, g_);                \
    } while (0)

TEST_FN int test_report(void) {
    printf("%lu passed, %lu failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

/* splitmix64: small, seedable, good enough to pick piece sizes and data. */
typedef struct test_rng {
    uint64_t s;
} test_rng;

TEST_FN uint64_t test_rand(test_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform-ish in [0, n); n > 0. */
TEST_FN size_t test_below(test_rng *r, size_t n) { return (size_t)(test_rand(r) % n); }

TEST_FN void test_fill(test_rng *r, unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) p[i] = (unsigned char)test_rand(r);
}

TEST_FN void test_hex(char *out, const unsigned char *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

#endif
