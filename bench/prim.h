#ifndef BENCH_PRIM_H
#define BENCH_PRIM_H
#include <stddef.h>
struct prim {
    const char *path;
    size_t (*mask_copy)(void *dst, const void *src, size_t len, const unsigned char key[4], size_t offset);
    int (*utf8_validate)(const void *data, size_t len);
    int (*utf8_bytewise)(const void *data, size_t len); /* portable build only */
};
extern const struct prim prim_portable, prim_default, prim_ssse3, prim_avx2;
#endif
