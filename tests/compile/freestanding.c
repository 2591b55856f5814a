/* The core as firmware builds it: no sockets, no libc beyond what the
 * WS_MEM* / WS_STRLEN macros name (here the compiler's builtins), compiled
 * with -ffreestanding. The test then lists the object's undefined symbols:
 * the compiler may still emit calls to mem* and strlen, nothing else. */
#define WS_NO_SOCKETS
#define WS_MEMCPY __builtin_memcpy
#define WS_MEMMOVE __builtin_memmove
#define WS_MEMSET __builtin_memset
#define WS_MEMCMP __builtin_memcmp
#define WS_STRLEN __builtin_strlen
#define WS_IMPLEMENTATION
#include "ws.h"
