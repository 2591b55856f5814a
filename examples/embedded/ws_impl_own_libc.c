/* ws_impl_own_libc.c - ws.h's implementation with every C library function
 * it uses replaced by the firmware's own (WS_MEMCPY, WS_MEMMOVE, WS_MEMSET,
 * WS_MEMCMP, WS_STRLEN). <string.h> is then not included at all.
 * tests/embedded-symbols.sh checks that such an object refers to nothing
 * but these five and compiler support routines; tests/embedded-size.sh
 * compiles it for Cortex-M with the strict warning set. Nothing links it. */
#include <stddef.h>

void *fw_memcpy(void *dst, const void *src, size_t n);
void *fw_memmove(void *dst, const void *src, size_t n);
void *fw_memset(void *dst, int c, size_t n);
int fw_memcmp(const void *a, const void *b, size_t n);
size_t fw_strlen(const char *s);

#define WS_MEMCPY fw_memcpy
#define WS_MEMMOVE fw_memmove
#define WS_MEMSET fw_memset
#define WS_MEMCMP fw_memcmp
#define WS_STRLEN fw_strlen
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"
