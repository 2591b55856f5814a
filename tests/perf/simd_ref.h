#ifndef SIMD_REF_H
#define SIMD_REF_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
size_t ref_mask_copy(void *dst, const void *src, size_t len, const unsigned char key[4], size_t offset);
int ref_utf8_feed(uint32_t *state, const void *data, size_t len, size_t *bad_at);
#ifdef __cplusplus
}
#endif
#endif
