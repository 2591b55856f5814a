/* ws_impl.c - the one translation unit that holds ws.h's implementation in
 * the embedded programs. It is kept apart from the application so that
 * tests/embedded-symbols.sh can list exactly what the library needs from
 * the outside world (nm -u on this object alone) and so that the size
 * scripts can tell its bytes from the application's.
 *
 * WS_NO_SOCKETS: no POSIX adapter; the firmware supplies the transport.
 * WS_NO_CLIENT / WS_NO_SERVER may come from the command line to drop a role. */
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"
