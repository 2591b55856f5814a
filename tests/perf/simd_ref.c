/* The portable primitives, built with WS_NO_SIMD as a private copy: the
 * reference that test_simd.c holds every SIMD path against. */
#define WS_NO_SIMD
#define WS_STATIC
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"

#include "simd_ref.h"

size_t ref_mask_copy(void *dst, const void *src, size_t len, const unsigned char key[4], size_t offset) {
    return ws_mask_copy(dst, src, len, key, offset);
}

int ref_utf8_feed(uint32_t *state, const void *data, size_t len, size_t *bad_at) {
    return ws_utf8_feed(state, data, len, bad_at);
}
