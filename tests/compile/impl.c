/* The implementation translation unit, written the way the front matter of
 * ws.h tells users to: define WS_IMPLEMENTATION, include ws.h. A second
 * include must be harmless (a header of the project may include ws.h too). */
#define WS_IMPLEMENTATION
#include "ws.h"
#include "ws.h"

/* Called from the other translation unit: with WS_STATIC each unit has its
 * own private copy of the library, and both copies must work side by side. */
int compile_impl_probe(void);
int compile_impl_probe(void) {
    unsigned char digest[20];
    ws_sha1_oneshot("abc", 3, digest);
    return digest[0] == 0xa9 && ws_close_code_valid(1000) ? 0 : 1;
}
