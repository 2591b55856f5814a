/* size_app.c - a small, typical firmware use of ws.h, built only to be
 * measured (tests/embedded-size.sh links it with -Wl,--gc-sections and
 * newlib-nano, then subtracts the SIZE_ROLE=0 build from the others).
 *
 *   SIZE_ROLE 0  the baseline: the same application work, no library
 *             1  a server (built with WS_NO_CLIENT)
 *             2  a client (built with WS_NO_SERVER)
 *             3  both roles
 *
 * The application part - a polled "UART" transport, a hardware random
 * register, a millisecond tick, the event callbacks and the static buffers -
 * is present in every build, kept alive through a volatile pointer, so the
 * difference between a role build and the baseline is what ws.h itself adds
 * (its code, its constant tables and the libc/libgcc helpers it pulls in).
 * The connection objects are reserved in the baseline too, so the .bss
 * difference is the library's own static data (none). */
#define WS_NO_SOCKETS
#include "ws.h"

#ifndef SIZE_ROLE
#define SIZE_ROLE 3
#endif
#define HAVE_SERVER (SIZE_ROLE == 1 || SIZE_ROLE == 3)
#define HAVE_CLIENT (SIZE_ROLE == 2 || SIZE_ROLE == 3)

/* ---- the application's side: a UART-like byte transport ---- */

/* Stand-ins for peripheral registers (never touched: the program is only
 * measured, not run). */
#define UART_STATUS (*(volatile uint32_t *)0x40004004u)
#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define TRNG_DATA (*(volatile uint32_t *)0x40010000u)

static volatile uint32_t g_ticks;

static ptrdiff_t uart_recv(void *user, void *buf, size_t cap) {
    unsigned char *p = (unsigned char *)buf;
    size_t n = 0;
    (void)user;
    while (n < cap && (UART_STATUS & 1u)) p[n++] = (unsigned char)UART_DATA;
    return n ? (ptrdiff_t)n : -1; /* -1 is WS_E_AGAIN */
}

static ptrdiff_t uart_send(void *user, const void *buf, size_t len) {
    const unsigned char *p = (const unsigned char *)buf;
    size_t n = 0;
    (void)user;
    while (n < len && (UART_STATUS & 2u)) UART_DATA = p[n++];
    return n ? (ptrdiff_t)n : -1;
}

/* Mask keys and the handshake key come from the hardware RNG. */
static int trng_fill(void *user, void *buf, size_t len) {
    unsigned char *p = (unsigned char *)buf;
    (void)user;
    while (len--) *p++ = (unsigned char)TRNG_DATA;
    return 0;
}

static uint64_t tick_ms(void *user) {
    (void)user;
    return g_ticks;
}

static const ws_io g_io = {uart_recv, uart_send, NULL, trng_fill, tick_ms};

static unsigned char g_rx[2][1024], g_tx[2][1024];
/* The connections: ws.h's state, reserved in every build (see above). */
static ws_conn g_conn[2];

static volatile unsigned g_events;

static void on_open(ws_conn *c, const char *subprotocol) {
    (void)c, (void)subprotocol;
    g_events++;
}

static void on_message(ws_conn *c, int opcode, const void *data, size_t len) {
#if SIZE_ROLE
    (void)ws_send(c, opcode, data, len); /* echo */
#else
    (void)c, (void)opcode, (void)data;
    g_events += (unsigned)len;
#endif
}

static void on_close(ws_conn *c, int code, const char *reason) {
    (void)c, (void)reason;
    g_events += (unsigned)code;
}

static ws_config g_cfg;

/* Keeps the application's functions and data in the baseline too. */
static const void *volatile g_keep[5];

int main(void) {
    int i;
#if SIZE_ROLE
    int phase = 0;
#endif
    g_cfg.on_open = on_open, g_cfg.on_message = on_message, g_cfg.on_close = on_close;
    g_keep[0] = &g_io, g_keep[1] = &g_cfg, g_keep[2] = g_rx, g_keep[3] = g_tx;
    g_keep[4] = g_conn;
#if HAVE_SERVER
    ws_conn_init(&g_conn[0], &g_cfg, &g_io, NULL);
    if (ws_conn_set_buffers(&g_conn[0], g_rx[0], sizeof g_rx[0], g_tx[0], sizeof g_tx[0]) < 0) return 1;
    (void)ws_server_start(&g_conn[0]);
#endif
#if HAVE_CLIENT
    {
        ws_client_options opt = {0};
        opt.host = "192.0.2.1", opt.path = "/telemetry";
        ws_conn_init(&g_conn[1], &g_cfg, &g_io, NULL);
        if (ws_conn_set_buffers(&g_conn[1], g_rx[1], sizeof g_rx[1], g_tx[1], sizeof g_tx[1]) < 0) return 1;
        if (ws_client_start(&g_conn[1], &opt) < 0) return 1;
    }
#endif
    for (i = 0; i < 1000; i++) {
        g_ticks++;
#if SIZE_ROLE
        {
            int k;
            /* A phase counter rather than i % 100: a Cortex-M0 would pull in
             * libgcc's division for the application, not for ws.h. */
            if (++phase == 100) phase = 0;
            for (k = 0; k < 2; k++) {
                ws_conn *c = &g_conn[k];
                if ((k == 0 && !HAVE_SERVER) || (k == 1 && !HAVE_CLIENT)) continue;
                if (ws_pump(c) == WS_E_CLOSED) continue;
                if (ws_state(c) != WS_OPEN) continue;
                if (phase == 10) (void)ws_send_text(c, "{\"temp\":21.5}");
                if (phase == 20) (void)ws_send_binary(c, g_tx[k], 16);
                if (phase == 30) (void)ws_ping(c, NULL, 0);
                if (i == 900) (void)ws_close(c, 1000, "bye");
            }
        }
#endif
    }
    return (int)(g_events & 1u);
}
