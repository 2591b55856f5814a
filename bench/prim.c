/* The primitives of ws.h as a private copy, built once per path by
 * bench/perf.cmake (PRIM_NAME names the table; -DWS_NO_SIMD, default flags
 * and -mavx2 select the path) so bench_micro.c runs every path in one
 * process, interleaved. */
#define WS_STATIC
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"

#include "prim.h"

#include "../tests/perf/simd_path.h"

static size_t mask_copy(void *dst, const void *src, size_t len, const unsigned char key[4], size_t offset) {
    return ws_mask_copy(dst, src, len, key, offset);
}

static int utf8_validate(const void *data, size_t len) { return ws_utf8_validate(data, len, NULL); }

#ifdef WS_NO_SIMD
/* The classic validator: one DFA step per byte, no ASCII shortcut (the
 * yardstick for the vector paths). Uses ws.h's own tables. */
static int utf8_bytewise(const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t st = 0;
    size_t i;
    for (i = 0; i < len; i++) st = ws__utf8_next[st + ws__utf8_class[p[i]]]; /* REJECT stays */
    return st == 0 ? 0 : -1;
}
#define BYTEWISE utf8_bytewise
#else
#define BYTEWISE NULL
#endif

const struct prim PRIM_NAME = {PATH, mask_copy, utf8_validate, BYTEWISE};
