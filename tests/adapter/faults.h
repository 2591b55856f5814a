/* Fault injection for the adapter tests (tests/adapter/): the test binaries
 * link with -Wl,--wrap=SYM for the system calls below, so calls from ws.h
 * (compiled into the test) reach __wrap_SYM, which fails when armed and
 * otherwise passes through to the real function. --wrap works under the
 * sanitizers too (their interceptors sit behind __real_SYM), and does not
 * touch calls made inside shared libraries.
 *
 * Each wrapped function has a `fault`: let `skip` calls through, then fail
 * `count` calls with errno `err` (count -1: every call; with `every`, only
 * every other call). `calls` counts the calls seen since fault_reset, so a
 * test can tell that a retry happened.
 *
 * Also: the CHECK macros and the "N passed, N failed" summary. */
#ifndef WS_TEST_FAULTS_H
#define WS_TEST_FAULTS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct fault {
    int skip;  /* calls to let through before failing */
    int count; /* calls to fail (-1: all) */
    int every; /* fail only every other call (the first one fails) */
    int err;   /* errno of a failure */
    int calls; /* calls seen */
    int failed; /* failures injected */
} fault;

static void fault_arm(fault *f, int skip, int count, int err) {
    memset(f, 0, sizeof *f);
    f->skip = skip, f->count = count, f->err = err;
}

static void fault_reset(fault *f) { memset(f, 0, sizeof *f); }

/* 1 when this call must fail (errno is set then). */
static int fault_hit(fault *f) {
    f->calls++;
    if (f->skip > 0) {
        f->skip--;
        return 0;
    }
    if (!f->count) return 0;
    if (f->every && (f->calls & 1) == 0) return 0;
    if (f->count > 0) f->count--;
    f->failed++;
    errno = f->err;
    return 1;
}

static unsigned long passed, failed;
static void check(int ok, const char *expr, const char *file, int line) {
    if (ok) passed++;
    else failed++, printf("FAIL %s:%d: %s\n", file, line, expr);
}
#define CHECK(x) check((x) ? 1 : 0, #x, __FILE__, __LINE__)
#define FAIL(what) check(0, what, __FILE__, __LINE__)
#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        check(g_ == w_, #got " == " #want, __FILE__, __LINE__);                                    \
        if (g_ != w_) printf("    got %lld, want %lld\n", g_, w_);                                \
    } while (0)
#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        int ok_ = g_ && strcmp(g_, w_) == 0;                                                       \
        check(ok_, #got " == \"" #want "\"", __FILE__, __LINE__);                                  \
        if (!ok_) printf("    got \"%s\"\n", g_ ? g_ : "(null)");                                  \
    } while (0)
/* got starts with prefix */
#define CHECK_PREFIX(got, prefix)                                                                  \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (prefix);                                                    \
        int ok_ = g_ && strncmp(g_, w_, strlen(w_)) == 0;                                          \
        check(ok_, #got " starts with " #prefix, __FILE__, __LINE__);                              \
        if (!ok_) printf("    got \"%s\"\n", g_ ? g_ : "(null)");                                  \
    } while (0)
/* got contains part */
#define CHECK_HAS(got, part)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (part);                                                      \
        int ok_ = g_ && strstr(g_, w_) != NULL;                                                    \
        check(ok_, #got " contains " #part, __FILE__, __LINE__);                                   \
        if (!ok_) printf("    got \"%s\"\n", g_ ? g_ : "(null)");                                  \
    } while (0)

static int summary(void) {
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
