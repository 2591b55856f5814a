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
 * The checks and the "N passed, N failed" line come from tests/unit/test.h. */
#ifndef WS_TEST_FAULTS_H
#define WS_TEST_FAULTS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../unit/test.h"

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

#endif
