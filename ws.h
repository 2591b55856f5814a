/* ws.h - a single-header WebSocket (RFC 6455) library in C.

OVERVIEW
    One file holds the opening handshake, the frame codec, masking, UTF-8
    validation and a sans-I/O connection engine for both the client and the
    server role. The host supplies the transport through a small struct of
    callbacks (ws_io), so the same engine runs over POSIX sockets, an event
    loop, lwIP, mbedTLS, a pipe or a fuzzer's byte buffer.

    In exactly one C or C++ file:
        #define WS_IMPLEMENTATION
        #include "ws.h"
    Everywhere else just #include "ws.h".

QUICK START (client, POSIX adapter)
    static void on_open(ws_conn *c, const char *subprotocol) {
        ws_send_text(c, "hello");   (sends before OPEN are refused: WS_E_STATE)
    }
    static void on_message(ws_conn *c, int opcode, const void *p, size_t n) {
        printf("%.*s\n", (int)n, (const char *)p);
        ws_close(c, 1000, "bye");
    }
    int main(void) {
        ws_config cfg = {0};  ws_conn c;
        cfg.on_open = on_open, cfg.on_message = on_message;
        if (ws_connect_url(&c, &cfg, "ws://127.0.0.1:9001/", NULL) < 0) return 1;
        while (ws_state(&c) != WS_CLOSED) ws_poll(&c, 1000);
        ws_disconnect(&c);
        return 0;
    }

CONFIGURATION MACROS (define before including)
    WS_IMPLEMENTATION   compile the implementation in this translation unit
    WS_STATIC           make every function static (a private copy per unit)
    WS_NO_SOCKETS       leave out the POSIX socket adapter (also left out
                        automatically where there is no POSIX)
    WS_NO_CLIENT        leave out the client role (handshake and engine parts)
    WS_NO_SERVER        leave out the server role
    WS_MBEDTLS          compile the mbedTLS adapter (wss://)
    WS_NO_SIMD          use only the portable code paths
    WS_MEMCPY, WS_MEMMOVE, WS_MEMSET, WS_MEMCMP, WS_STRLEN
                        override what the header takes from libc
    WS_NO_ALLOC         no allocator mode: buffers only from
                        ws_conn_set_buffers (needs WS_NO_SOCKETS; starting
                        without both buffers is WS_E_INVALID)
    WS_SMALL            smallest code for microcontrollers: no reason
                        texts, byte-at-a-time loops and its own memcpy & co.
                        (WS_SMALL_USE_LIBC keeps libc's), no frame batching
    WS_MAX_HEADERS      most header lines in a handshake (default 32)
    WS_CORK_FRAMES      server frames batched into one vectored write per
                        read (default 16; 0 turns batching off)

MEMORY
    The core never allocates on its own. A connection (ws_conn) is a plain
    struct; its receive and send buffers are either handed over by the host
    (ws_conn_set_buffers) or obtained through ws_config.realloc_fn, in which
    case the engine takes them only while data is in flight and gives them
    back when the connection is idle.

    Fixed buffers: the receive buffer bounds the handshake (the request or
    response header block must fit) and the largest whole message, which is
    rx_cap - WS_RX_RESERVE bytes (WS_RX_RESERVE leaves room for a control frame
    arriving between fragments). With streaming delivery (on_fragment) any
    message size works with a receive buffer of 256 bytes or more (but the
    handshake must still fit). The send buffer bounds what can be queued:
    a client message needs header + payload bytes free, as does anything a
    server sends while earlier bytes are still queued.

THREADS
    One connection is driven by one thread. To hand a message over from
    another thread, put it on a queue of your own and wake the loop that owns
    the connection (a pipe or eventfd in its poll set); that loop then calls
    ws_send. Nothing in the engine is thread-safe and nothing needs locks.

ERROR REPORTING
    Functions return 0 (or a count) on success and a negative WS_E_* code on
    failure; ws_strerror() turns a code into text, and ws_reason() gives the
    connection's own explanation of its last failure. Nothing aborts, asserts
    or prints on peer input.

LICENSE
    MIT; see the end of this file.
*/
#ifndef WS_H_INCLUDED
#define WS_H_INCLUDED

/* The socket adapter needs POSIX declarations, which glibc hides under
 * -std=c99 unless asked before the first system header. */
#if defined(WS_IMPLEMENTATION) && !defined(WS_NO_SOCKETS) && !defined(_WIN32) && \
    !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#if defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE 1
#endif
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef WS_STATIC
#define WS_API static
#elif defined(__cplusplus)
#define WS_API extern "C"
#else
#define WS_API extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Declarations: errors
 * One X-macro list, so the names and their text never drift apart.
 * ------------------------------------------------------------------------- */
#define WS_ERRORS(X)                                                       \
    X(WS_OK, 0, "success")                                                 \
    X(WS_E_AGAIN, -1, "operation would block")                             \
    X(WS_E_INCOMPLETE, -2, "more input is needed")                         \
    X(WS_E_INVALID, -3, "invalid argument")                                \
    X(WS_E_NOMEM, -4, "buffer too small or allocation failed")             \
    X(WS_E_FULL, -5, "send buffer full")                                   \
    X(WS_E_STATE, -6, "not allowed in the connection's current state")     \
    X(WS_E_PROTOCOL, -7, "protocol error")                                 \
    X(WS_E_UTF8, -8, "invalid UTF-8")                                      \
    X(WS_E_TOO_BIG, -9, "message too big")                                 \
    X(WS_E_HANDSHAKE, -10, "handshake failed")                             \
    X(WS_E_TIMEOUT, -11, "timed out")                                      \
    X(WS_E_CLOSED, -12, "connection closed")                               \
    X(WS_E_IO, -13, "transport error")                                     \
    X(WS_E_BASE64, -14, "invalid base64")                                  \
    X(WS_E_URL, -15, "invalid URL")                                        \
    X(WS_E_RESOLVE, -16, "host name lookup failed")                        \
    X(WS_E_CONNECT, -17, "connection refused or unreachable")              \
    X(WS_E_RANDOM, -18, "random source failed")                            \
    X(WS_E_NO_TLS, -19, "TLS not compiled in (build with WS_MBEDTLS)")     \
    X(WS_E_TLS, -20, "TLS error")

enum ws_error {
#define WS__ENUM(name, value, text) name = value,
    WS_ERRORS(WS__ENUM)
#undef WS__ENUM
    WS_E_LAST_ = -21
};

/* The text of a WS_E_* code ("unknown error" for anything else). */
WS_API const char *ws_strerror(int err);

/* ---------------------------------------------------------------------------
 * Declarations: primitives (each usable on its own)
 * ------------------------------------------------------------------------- */
typedef struct ws_sha1 {
    uint32_t h[5];
    uint64_t total;          /* bytes hashed so far */
    unsigned char block[64]; /* partial block */
} ws_sha1;

WS_API void ws_sha1_init(ws_sha1 *s);
WS_API void ws_sha1_update(ws_sha1 *s, const void *data, size_t len);
WS_API void ws_sha1_final(ws_sha1 *s, unsigned char digest[20]);
WS_API void ws_sha1_oneshot(const void *data, size_t len, unsigned char digest[20]);

/* Base64 (RFC 4648, standard alphabet, padded). WS_BASE64_ENCODED_LEN does not
 * count the terminating NUL that ws_base64_encode also writes. */
#define WS_BASE64_ENCODED_LEN(n) ((((n) + 2u) / 3u) * 4u)
/* Writes the encoding and a NUL; returns its length, or WS_E_NOMEM when
 * out_cap < WS_BASE64_ENCODED_LEN(len) + 1. */
WS_API int ws_base64_encode(const void *in, size_t len, char *out, size_t out_cap);
/* Returns the decoded length, or WS_E_BASE64 for a character outside the
 * alphabet, bad padding or a length that is not a multiple of 4 (nothing is
 * written then), or WS_E_NOMEM when out_cap is too small. */
WS_API int ws_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_cap);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: 28 characters and a NUL. */
#define WS_ACCEPT_LEN 28
WS_API void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);

/* XOR data with the 4-byte key starting at key[offset & 3]; returns the key
 * offset for the byte after the last one, so a payload that arrives in pieces
 * is unmasked piece by piece. Any alignment, any length. */
WS_API size_t ws_mask(void *data, size_t len, const unsigned char key[4], size_t offset);
/* The same, from src into dst (which may not overlap src unless equal). */
WS_API size_t ws_mask_copy(void *dst, const void *src, size_t len, const unsigned char key[4],
                           size_t offset);

/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF). The incremental validator keeps a small state across chunks so a
 * code point may be split anywhere. It fails fast: on error *bad_at is the
 * offset, within this chunk, of the first byte after which the input can no
 * longer become valid. */
#define WS_UTF8_ACCEPT 0u
typedef uint32_t ws_utf8_state; /* start at WS_UTF8_ACCEPT */
/* 0 while the input so far can still be valid, WS_E_UTF8 (and *bad_at) once
 * not; bad_at may be NULL. After an error the state stays failed. */
WS_API int ws_utf8_feed(ws_utf8_state *state, const void *data, size_t len, size_t *bad_at);
/* 0 when the input ended on a whole code point, WS_E_UTF8 otherwise. */
WS_API int ws_utf8_finish(const ws_utf8_state *state);
/* One-shot: 0 or WS_E_UTF8 (with *bad_at, which may be NULL; a truncated
 * sequence at the end reports len). */
WS_API int ws_utf8_validate(const void *data, size_t len, size_t *bad_at);

/* ---------------------------------------------------------------------------
 * Declarations: frame codec (pure functions over bytes)
 * ------------------------------------------------------------------------- */
enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA
};

#define WS_FRAME_HEADER_MAX 14 /* 2 + 8 (64-bit length) + 4 (mask key) */

typedef struct ws_frame_header {
    uint64_t payload_len;
    unsigned char mask_key[4]; /* valid when masked */
    unsigned char fin;         /* 0 or 1 */
    unsigned char rsv;         /* RSV1..3 as bits 2..0 (RSV1 = 4) */
    unsigned char opcode;      /* 0..15, not checked here */
    unsigned char masked;      /* 0 or 1 */
    unsigned char header_len;  /* 2..14 */
} ws_frame_header;

/* Parses one header from the start of buf. Returns the header length (2..14),
 * WS_E_INCOMPLETE when more bytes are needed, or WS_E_PROTOCOL for a 64-bit
 * length with the top bit set. Opcode, RSV and masking rules belong to the
 * engine (ws_frame_check) because they depend on role and state. */
WS_API int ws_frame_parse(const void *buf, size_t len, ws_frame_header *h);
/* Writes a header; mask_key NULL means unmasked. Returns its length (2..14).
 * rsv is RSV1..3 as bits 2..0. */
WS_API size_t ws_frame_write(unsigned char out[WS_FRAME_HEADER_MAX], int fin, int rsv, int opcode,
                             uint64_t payload_len, const unsigned char *mask_key);
/* RFC 6455 rules for a header received by `server` (1) or client (0): RSV
 * bits without an extension, reserved opcodes, control frames that are
 * fragmented or longer than 125 bytes, and the masking direction. Returns 0
 * or WS_E_PROTOCOL with *why set to a short static explanation. */
WS_API int ws_frame_check(const ws_frame_header *h, int server, const char **why);

/* A close code that may appear in a Close frame (1000-1003, 1007-1014,
 * 3000-4999). */
WS_API int ws_close_code_valid(unsigned code);

/* ---------------------------------------------------------------------------
 * Declarations: handshake (HTTP/1.1 Upgrade, RFC 6455 section 4)
 * Parsing works in place: the header block is NUL-terminated piece by piece
 * so every string handed out is an ordinary C string pointing into it.
 * ------------------------------------------------------------------------- */
#ifndef WS_MAX_HEADERS
#define WS_MAX_HEADERS 32
#endif
#define WS_KEY_LEN 24 /* base64 of 16 bytes */

typedef struct ws_header {
    const char *name;
    const char *value; /* leading and trailing white space removed */
} ws_header;

typedef struct ws_request {
    const char *method;
    const char *target; /* path and query, as sent */
    const char *host;
    const char *origin; /* NULL when absent */
    const char *key;    /* Sec-WebSocket-Key */
    ws_header headers[WS_MAX_HEADERS];
    unsigned num_headers;
    unsigned http_minor; /* 1 for HTTP/1.1 */
} ws_request;

typedef struct ws_response {
    const char *accept;      /* Sec-WebSocket-Accept */
    const char *subprotocol; /* NULL when the server chose none */
    const char *reason;      /* reason phrase */
    ws_header headers[WS_MAX_HEADERS];
    unsigned num_headers;
    int status;
} ws_response;

/* Finds a header by case-insensitive name; NULL when absent. */
WS_API const char *ws_header_find(const ws_header *h, unsigned n, const char *name);
/* Whether a comma-separated list of tokens (as in Connection, Upgrade,
 * Sec-WebSocket-Protocol) holds token, compared case-insensitively when
 * nocase is set. */
WS_API int ws_token_list_has(const char *list, const char *token, int nocase);
/* Whether any Sec-WebSocket-Protocol header of the request offers proto. */
WS_API int ws_request_offers(const ws_request *req, const char *proto);

/* Server: parses and checks an upgrade request at the start of buf (bytes
 * after it are left alone). Returns the length of the header block,
 * WS_E_INCOMPLETE, or WS_E_HANDSHAKE with *status set to the HTTP status to
 * answer (400, 405, 426, 431) and *why to a short explanation. The block may
 * be at most max_header bytes (0: 8192). buf is modified. */
WS_API int ws_request_parse(char *buf, size_t len, size_t max_header, ws_request *req, int *status,
                            const char **why);
/* Client: parses and checks the response to a request sent with `key`
 * offering the comma-separated `protocols` (NULL for none). Returns the
 * header block length, WS_E_INCOMPLETE, or WS_E_HANDSHAKE with *why saying
 * which check failed (resp->status holds the HTTP status once parsed). */
WS_API int ws_response_parse(char *buf, size_t len, size_t max_header, const char *key,
                             const char *protocols, ws_response *resp, const char **why);

typedef struct ws_client_options {
    const char *host;          /* Host header (required) */
    unsigned port;             /* 0: default for the scheme, left out of Host */
    const char *path;          /* path and query; NULL: "/" */
    const char *origin;        /* NULL: no Origin header */
    const char *subprotocols;  /* comma-separated offer, or NULL; must stay
                                  valid until the handshake completes */
    const char *extra_headers; /* raw "Name: value\r\n" lines, or NULL */
    int secure;                /* wss: the default port is 443, not 80 */
    void *user;                /* ws_connect_url*: set as c->user before
                                  anything can call back (ws_client_start
                                  ignores it) */
} ws_client_options;

/* Writes a client request with the 24-character key into out (NUL-terminated).
 * Returns its length or WS_E_NOMEM / WS_E_INVALID. */
WS_API int ws_request_build(char *out, size_t cap, const ws_client_options *opt, const char *key);
/* Writes a 101 response (subprotocol and extra_headers may be NULL). */
WS_API int ws_response_build(char *out, size_t cap, const char *key, const char *subprotocol,
                             const char *extra_headers);
/* Writes an HTTP error response with Content-Length 0 (and
 * Sec-WebSocket-Version: 13 for 426). */
WS_API int ws_error_response_build(char *out, size_t cap, int status, const char *extra_headers);
/* The reason phrase for a status we use ("Error" for others). */
WS_API const char *ws_http_reason(int status);

/* ---------------------------------------------------------------------------
 * Declarations: the connection engine (sans-I/O, both roles)
 * ------------------------------------------------------------------------- */
typedef enum ws_ready_state {
    WS_CONNECTING = 0,
    WS_OPEN = 1,
    WS_CLOSING = 2,
    WS_CLOSED = 3
} ws_ready_state;

/* Close codes the engine uses itself (RFC 6455 section 7.4.1). */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_UNSUPPORTED = 1003,
    WS_CLOSE_NO_STATUS = 1005, /* reported only: the close frame had no code */
    WS_CLOSE_ABNORMAL = 1006,  /* reported only: no close frame at all */
    WS_CLOSE_INVALID_DATA = 1007,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_EXTENSION = 1010,
    WS_CLOSE_INTERNAL = 1011
};

/* Receive-buffer bytes kept free beyond the largest whole message, for a
 * control frame arriving between fragments (2 + 4 + 125, rounded up). */
#define WS_RX_RESERVE 136u

/* Flags for on_fragment. */
#define WS_FIRST 1
#define WS_LAST 2

typedef struct ws_conn ws_conn;

typedef struct ws_iovec {
    const void *base;
    size_t len;
} ws_iovec;

/* The transport. `user` is the io_user given to ws_conn_init.
 * recv: bytes read (> 0), 0 when the peer closed the stream, WS_E_AGAIN
 *       when nothing is there now, another negative code on failure.
 * send: bytes taken (>= 0, may be fewer than len), WS_E_AGAIN, or < 0.
 * sendv (optional): the same for several buffers in order; without it the
 *       engine calls send once per buffer.
 * random: fill buf with unpredictable bytes (mask keys and the client's
 *       Sec-WebSocket-Key rely on it: never use a predictable source such as
 *       rand()). Returns 0 or a negative code.
 * now_ms (optional): a monotonic clock in milliseconds; without it there are
 *       no timeouts and no keepalive. */
typedef struct ws_io {
    ptrdiff_t (*recv)(void *user, void *buf, size_t cap);
    ptrdiff_t (*send)(void *user, const void *buf, size_t len);
    ptrdiff_t (*sendv)(void *user, const ws_iovec *iov, int count);
    int (*random)(void *user, void *buf, size_t len);
    uint64_t (*now_ms)(void *user);
} ws_io;

/* What the server's on_request hook decides. */
typedef struct ws_accept {
    const char *subprotocol;   /* one of the offered, or NULL */
    const char *extra_headers; /* raw "Name: value\r\n" lines, or NULL */
} ws_accept;

/* Shared by any number of connections; zero means the default everywhere.
 * Callbacks may call ws_send*, ws_ping and ws_close on the connection. */
typedef struct ws_config {
    /* open: the handshake completed; subprotocol is "" when none. */
    void (*on_open)(ws_conn *c, const char *subprotocol);
    /* A whole message; opcode is WS_OP_TEXT (valid UTF-8) or WS_OP_BINARY.
     * data points into the receive buffer and is valid during the call; it
     * is read-only (a server sending it back whole, an echo, does not
     * validate the text again). */
    void (*on_message)(ws_conn *c, int opcode, const void *data, size_t len);
    /* Streaming delivery: when set, data messages come piece by piece as
     * they arrive (flags WS_FIRST / WS_LAST) and on_message is not used. */
    void (*on_fragment)(ws_conn *c, int opcode, const void *data, size_t len, int flags);
    void (*on_ping)(ws_conn *c, const void *data, size_t len);
    void (*on_pong)(ws_conn *c, const void *data, size_t len);
    /* Exactly once, when the state becomes CLOSED: the code and reason of
     * the peer's close frame (1005 when it had none); when the engine failed
     * the connection, the code it sent; 1006 when the stream ended without
     * a close frame. reason is NUL-terminated. */
    void (*on_close)(ws_conn *c, int code, const char *reason);
    /* A failure (before on_close): err is a WS_E_* code, reason says why.
     * An opening handshake that is refused, times out or is cut short by
     * the peer is one (WS_E_HANDSHAKE or WS_E_TIMEOUT), as in a browser. */
    void (*on_error)(ws_conn *c, int err, const char *reason);
    /* Server: sees the upgrade request; returns 0 to accept (filling *acc)
     * or an HTTP status (say 403) to reject. Without it every valid request
     * is accepted with no subprotocol. */
    int (*on_request)(ws_conn *c, const ws_request *req, ws_accept *acc);

    /* Allocator for the buffers (optional): realloc semantics, size 0 frees.
     * Used when the host gave no buffers. */
    void *(*realloc_fn)(void *alloc_user, void *ptr, size_t size);
    void *alloc_user;

    size_t max_message;      /* whole message bytes; 0: 16 MiB (allocator)
                                or what the receive buffer holds */
    size_t max_frame;        /* one frame's payload; 0: max_message */
    size_t max_send_buffer;  /* allocator mode: most bytes queued; 0: 16 MiB */
    size_t max_header;       /* handshake header block; 0: 8192 */
    size_t rx_chunk;         /* allocator mode: first receive buffer; 0: 16 KiB */
    uint32_t handshake_timeout_ms; /* 0: 10000 */
    uint32_t close_timeout_ms;     /* 0: 5000 */
    uint32_t ping_interval_ms;     /* keepalive ping; 0: off */
    uint32_t pong_timeout_ms;      /* 0: ping_interval_ms */
    int no_auto_pong;              /* 1: pings are not answered by the engine */
} ws_config;

/* The connection. Plain data: put it anywhere; read nothing directly. */
struct ws_conn {
    const ws_config *cfg;
    const ws_io *io;
    void *io_user;
    void *user; /* the host's; ws_conn_init sets it to NULL */
    const char *reason; /* last failure or close reason (static or in rx) */
    const char *protocols; /* client: offered subprotocols */
    void *cork;            /* server frames batched while one read is processed */
    unsigned char *rx;
    unsigned char *tx;
    size_t rx_cap, rx_rd, rx_wr, msg_off, msg_len;
    size_t tx_cap, tx_head, tx_len;
    uint64_t frame_left;    /* payload bytes of the current frame not yet seen */
    uint64_t deadline;      /* handshake or close timeout, 0: none */
    uint64_t next_ping;     /* keepalive */
    void *(*realloc_fn)(void *alloc_user, void *ptr, size_t size);
    ws_utf8_state utf8;       /* received text message so far */
    ws_utf8_state send_utf8;  /* text message being sent in pieces */
    unsigned char frame_key[4];
    unsigned char key[16];  /* client: the Sec-WebSocket-Key bytes */
    unsigned short close_code;
    unsigned short http_status;
    unsigned char state;      /* ws_ready_state */
    unsigned char server;     /* role */
    unsigned char frame_op;   /* opcode of the frame in progress */
    unsigned char frame_fin;
    unsigned char frame_key_off;
    unsigned char in_frame;   /* a data frame's payload is in progress */
    unsigned char msg_op;     /* opcode of the message in progress, 0: none */
    unsigned char msg_first;  /* streaming: nothing delivered yet */
    unsigned char send_op;    /* our fragmented send in progress, 0: none */
    unsigned short flags;     /* WS__F_* */
    unsigned char owns_rx, owns_tx;
    unsigned char pong_due;   /* keepalive: waiting for a pong */
};

/* Sets up c (zeroed, CONNECTING as in browsers) with a config and a transport; both must
 * outlive the connection. The user pointer is c->user. */
WS_API void ws_conn_init(ws_conn *c, const ws_config *cfg, const ws_io *io, void *io_user);
/* Hands fixed buffers to the engine (instead of cfg->realloc_fn); either
 * may be NULL to keep using the allocator for it. Each must hold at least
 * WS_MIN_BUFFER bytes (WS_E_INVALID otherwise). */
#define WS_MIN_BUFFER 256u
WS_API int ws_conn_set_buffers(ws_conn *c, void *rx, size_t rx_cap, void *tx, size_t tx_cap);
/* Starts the client handshake: builds and queues the request (sent by the
 * next ws_pump or ws_flush). WS_E_NOMEM / WS_E_RANDOM / WS_E_INVALID. */
WS_API int ws_client_start(ws_conn *c, const ws_client_options *opt);
/* Starts the server role: waits for the upgrade request. */
WS_API int ws_server_start(ws_conn *c);
/* Starts OPEN with no handshake (it happened elsewhere); server != 0 for
 * the server role. on_open is called with "". */
WS_API int ws_start_open(ws_conn *c, int server);

/* Drives the connection: sends what is queued, reads and processes what the
 * transport has, runs the timers. Returns 0 while the connection lives and
 * WS_E_CLOSED once it is CLOSED (the host then closes the transport). */
WS_API int ws_pump(ws_conn *c);
/* Pushes bytes the host already holds (read by its own HTTP server, or a
 * fuzzer's input) as if they came from recv. Returns 0 or WS_E_CLOSED. */
WS_API int ws_feed(ws_conn *c, const void *data, size_t len);
/* Sends queued bytes only. 0, WS_E_AGAIN while some remain, or WS_E_CLOSED. */
WS_API int ws_flush(ws_conn *c);
/* Milliseconds until ws_pump has a timer to run (-1: none). */
WS_API long ws_next_timeout(const ws_conn *c);
/* Whether queued bytes wait for the transport to become writable. */
WS_API int ws_wants_write(const ws_conn *c);

/* Sending. Whole messages (text must be valid UTF-8: WS_E_UTF8 otherwise),
 * pieces of one message (ws_send_frame: the first piece carries TEXT or
 * BINARY, later ones CONTINUATION, the last one fin = 1), ping and close.
 * The caller's buffer is never modified. Returns 0; WS_E_FULL when the
 * frame does not fit the send queue now (nothing is queued then: retry once
 * ws_buffered_amount has gone down); WS_E_TOO_BIG when it can never fit
 * (larger than the send buffer, or max_send_buffer); WS_E_STATE when not
 * OPEN; WS_E_INVALID for bad arguments. */
WS_API int ws_send(ws_conn *c, int opcode, const void *data, size_t len);
WS_API int ws_send_text(ws_conn *c, const char *text);
WS_API int ws_send_binary(ws_conn *c, const void *data, size_t len);
WS_API int ws_send_frame(ws_conn *c, int opcode, const void *data, size_t len, int fin);
WS_API int ws_ping(ws_conn *c, const void *data, size_t len);
/* Starts the closing handshake (code 0: a close frame without a code).
 * Reason at most 123 bytes of UTF-8. In CONNECTING it just drops the
 * connection. */
WS_API int ws_close(ws_conn *c, int code, const char *reason);

WS_API ws_ready_state ws_state(const ws_conn *c);
/* Bytes accepted by ws_send* but not yet taken by the transport. */
WS_API size_t ws_buffered_amount(const ws_conn *c);
/* Why the connection failed or closed ("" if it did not). */
WS_API const char *ws_reason(const ws_conn *c);
/* Client: the HTTP status of a failed handshake (0 if none was read). */
WS_API int ws_http_status(const ws_conn *c);
/* Gives back buffers taken through cfg->realloc_fn. */
WS_API void ws_conn_release(ws_conn *c);

/* ---------------------------------------------------------------------------
 * Declarations: POSIX socket adapter
 * ------------------------------------------------------------------------- */
#if !defined(WS_NO_SOCKETS) && !defined(_WIN32) &&                                              \
    (defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__)))
#define WS_HAVE_SOCKETS 1
#ifdef WS_NO_ALLOC
#error "WS_NO_ALLOC needs WS_NO_SOCKETS: the socket helpers (ws_connect_url) allocate their buffers"
#endif

typedef struct ws_url {
    const char *host; /* slices of the URL string: host without brackets */
    size_t host_len;
    const char *path; /* path and query, "/" when empty */
    size_t path_len;
    unsigned port;
    int secure; /* wss */
} ws_url;

/* ws://host[:port][/path][?query] and wss://...; IPv6 literals in
 * brackets. Returns 0 or WS_E_URL. */
WS_API int ws_url_parse(const char *url, ws_url *out);
/* Connected, non-blocking, TCP_NODELAY socket, or a negative WS_E_* code. */
WS_API int ws_tcp_connect(const char *host, unsigned port);
/* Listening non-blocking socket (SO_REUSEADDR), or a negative code. */
WS_API int ws_tcp_listen(const char *host, unsigned port, int backlog);
/* Accepted non-blocking, TCP_NODELAY socket, WS_E_AGAIN, or a code. */
WS_API int ws_tcp_accept(int listen_fd);
/* The transport over a socket: pass (void *)(intptr_t)fd as io_user. */
WS_API const ws_io *ws_posix_io(void);
/* The socket behind a connection made with the POSIX io (-1 otherwise). */
WS_API int ws_conn_fd(const ws_conn *c);
/* Client in one call: parses the URL, connects (blocking), starts the
 * handshake over a non-blocking socket. opt may be NULL; its host, port,
 * path and secure fields are taken from the URL. Buffers come from
 * cfg->realloc_fn, or from libc realloc when that is NULL. */
WS_API int ws_connect_url(ws_conn *c, const ws_config *cfg, const char *url,
                          const ws_client_options *opt);
/* Waits up to timeout_ms for the socket (and the engine's timers), then
 * pumps. Returns what ws_pump returns. */
WS_API int ws_poll(ws_conn *c, int timeout_ms);
/* Closes the socket and releases the buffers. */
WS_API void ws_disconnect(ws_conn *c);
/* libc realloc behind the ws_config.realloc_fn signature. */
WS_API void *ws_libc_realloc(void *user, void *ptr, size_t size);
#endif

/* ---------------------------------------------------------------------------
 * Declarations: mbedTLS adapter (WS_MBEDTLS): wss:// for both roles
 *
 * TLS ADAPTER
 *     A ws_io over an mbedtls_ssl_context, non-blocking like the POSIX one:
 *     mbedTLS's WANT_READ / WANT_WRITE become WS_E_AGAIN. The TLS handshake
 *     runs inside the adapter's recv and send before any WebSocket byte
 *     moves, so the host writes no loop for it: the engine's queued HTTP
 *     request simply waits, and the engine's handshake timeout covers both.
 *     Random bytes for the engine come from mbedTLS's CTR-DRBG, seeded from
 *     its entropy source. Tested with mbedTLS 2.28 (Debian 12); written for
 *     3.x too, where the API differs (key parsing, TLS version setup, PSA
 *     initialisation), but not tested there.
 *
 *     Client: the certificate is verified by default against the CA file or
 *     buffer in ws_tls_options; without one, the system bundle
 *     (/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt
 *     or /etc/ssl/cert.pem, the first that exists). The URL's host is the
 *     name checked and sent as SNI; for an IP literal the certificate must
 *     list that address (iPAddress SAN) and no SNI is sent. Turning checks
 *     off takes insecure_skip_verify = 1, which trusts any server (tests
 *     only). A server: certificate chain and key from files or buffers.
 *
 *     Errors: a failed TLS handshake (say, an untrusted certificate) ends
 *     the connection with on_error(c, WS_E_TLS, why) and on_close(c, 1006,
 *     why), and ws_reason(c) says why, for example "TLS certificate
 *     verification failed for localhost: The certificate is not correctly
 *     signed by the trusted CA". That needs the adapter to know the
 *     connection: ws_tls_conn_init (and ws_connect_url_tls) link the two.
 *     A ws_tls used with a plain ws_conn_init makes the engine report
 *     WS_E_IO "transport receive failed"; ws_tls_reason(t) then has the text.
 *
 *     The quickest client: ws_connect_url(c, &cfg, "wss://host/", NULL)
 *     (system CAs), or ws_connect_url_tls with ws_tls_options for a CA file
 *     of your own; drive it with ws_tls_poll and end it with
 *     ws_tls_disconnect (which also take plain ws:// connections). A server,
 *     or clients sharing one configuration:
 *         ws_tls_config tc;            (one for many connections)
 *         ws_tls_options o = {0};  o.cert_file = "c.pem"; o.key_file = "k.pem";
 *         if (ws_tls_config_init(&tc, 1, &o) < 0) die(ws_tls_config_reason(&tc));
 *         ... fd = ws_tcp_accept(lfd);
 *         ws_tls_init(&t, &tc, fd, NULL);       (t and c must not move now)
 *         ws_tls_conn_init(&c, &cfg, &t);  ws_server_start(&c);
 *         ... poll ws_tls_fd(&t), for POLLOUT when ws_tls_wants_write(&c),
 *         ... then ws_pump(&c); at the end ws_tls_free(&t); close(fd);
 *     Without sockets (firmware) pass fd -1 to ws_tls_init and attach your
 *     own transport with mbedtls_ssl_set_bio(&t.ssl, ...); for your own
 *     clock, build a ws_io from ws_tls_recv, ws_tls_send and ws_tls_random.
 *
 *     A ws_tls_config is used by one thread at a time unless mbedTLS was
 *     built with MBEDTLS_THREADING_C (Debian's is): its random generator is
 *     shared by its connections.
 * ------------------------------------------------------------------------- */
#ifdef WS_MBEDTLS
#ifdef __cplusplus
}
#endif
#include <mbedtls/version.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#ifdef __cplusplus
extern "C" {
#endif

/* Zero means default everywhere. Buffers hold PEM (a C string: len 0, or
 * len counting the terminating NUL, as mbedTLS wants) or DER (len bytes). */
typedef struct ws_tls_options {
    const char *ca_file; /* client: trusted CAs (PEM); NULL: the system bundle */
    const void *ca;      /* ... or in memory */
    size_t ca_len;
    const char *cert_file; /* server (or a client certificate): own chain */
    const void *cert;
    size_t cert_len;
    const char *key_file; /* and its private key */
    const void *key;
    size_t key_len;
    const char *key_password; /* NULL: the key is not encrypted */
    /* Client: INSECURE. Accepts any certificate for any name, so anyone on
     * the path can read and change the traffic. For tests only. */
    int insecure_skip_verify;
} ws_tls_options;

/* What connections of one role share: settings, certificates, the random
 * generator. Plain data: read nothing directly. */
typedef struct ws_tls_config {
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca, cert;
    mbedtls_pk_context key;
    int server, insecure, live;
    char reason[256];
} ws_tls_config;

/* One connection's TLS session; the io_user of ws_tls_io(). */
typedef struct ws_tls {
    mbedtls_ssl_context ssl;
    ws_tls_config *tc;
    ws_conn *conn;       /* failures are reported through it when set */
    int fd;              /* -1: the host attached its own transport */
    int err;             /* the mbedTLS code of the failure, 0: none */
    size_t pending;      /* length given to a write that mbedTLS holds */
    unsigned char ip[16]; /* client: the server's address when given as one */
    unsigned char ip_len;
    unsigned char live, done, failed, eof, want_write, owned;
    char name[256];      /* client: the name verified */
    char reason[256];
} ws_tls;

/* Sets up tc for the server (server != 0) or client role: random generator,
 * TLS 1.2 or later, certificates. opt may be NULL (a client then trusts the
 * system bundle). Returns 0, or WS_E_TLS with ws_tls_config_reason(tc)
 * saying why (tc holds nothing to free then). */
WS_API int ws_tls_config_init(ws_tls_config *tc, int server, const ws_tls_options *opt);
WS_API void ws_tls_config_free(ws_tls_config *tc);
WS_API const char *ws_tls_config_reason(const ws_tls_config *tc);

/* Starts a session over the non-blocking socket fd (-1: attach your own
 * with mbedtls_ssl_set_bio(&t->ssl, ...)); t must not move afterwards.
 * server_name (client) is the host name or IP literal to verify and send
 * as SNI. Returns 0, WS_E_TLS or WS_E_INVALID (ws_tls_reason says why). */
WS_API int ws_tls_init(ws_tls *t, ws_tls_config *tc, int fd, const char *server_name);
/* Sends close_notify if it can and frees the session; the fd stays open. */
WS_API void ws_tls_free(ws_tls *t);
/* Why the session failed ("" if it did not). */
WS_API const char *ws_tls_reason(const ws_tls *t);
WS_API int ws_tls_fd(const ws_tls *t);
/* The transport: recv, send, sendv, random and (with sockets) a clock. */
WS_API const ws_io *ws_tls_io(void);
WS_API ptrdiff_t ws_tls_recv(void *tls, void *buf, size_t cap);
WS_API ptrdiff_t ws_tls_send(void *tls, const void *buf, size_t len);
WS_API int ws_tls_random(void *tls, void *buf, size_t len);
/* ws_conn_init with ws_tls_io(), and lets t report its failures through c
 * (on_error with WS_E_TLS and the reason). c must not move afterwards. */
WS_API void ws_tls_conn_init(ws_conn *c, const ws_config *cfg, ws_tls *t);
/* Whether to wait for the socket to be writable: during the TLS handshake
 * when mbedTLS waits for it, afterwards when bytes are queued. Any
 * connection (ws_wants_write for those without TLS). */
WS_API int ws_tls_wants_write(const ws_conn *c);
/* The socket under a connection with or without TLS (-1: none known). */
WS_API int ws_tls_conn_fd(const ws_conn *c);
#ifdef WS_HAVE_SOCKETS
/* ws_connect_url for ws:// and wss://; tls may be NULL (the system CAs).
 * The TLS state is allocated like the buffers and freed by
 * ws_tls_disconnect. A setup failure (unreadable CA file, ...) returns
 * WS_E_TLS after on_error told why. */
WS_API int ws_connect_url_tls(ws_conn *c, const ws_config *cfg, const char *url, const ws_client_options *opt,
                              const ws_tls_options *tls);
/* ws_poll and ws_disconnect for connections with or without TLS. */
WS_API int ws_tls_poll(ws_conn *c, int timeout_ms);
WS_API void ws_tls_disconnect(ws_conn *c);
#endif
#endif /* WS_MBEDTLS */

#ifdef __cplusplus
}
#endif
#endif /* WS_H_INCLUDED */

/* ===========================================================================
 * Implementation
 * ========================================================================= */
#ifdef WS_IMPLEMENTATION
#ifndef WS_IMPLEMENTATION_DONE
#define WS_IMPLEMENTATION_DONE

#if defined(__GNUC__) || defined(__clang__)
#define WS__LIKELY(x) __builtin_expect(!!(x), 1)
#define WS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WS__UNUSED __attribute__((unused))
#define WS__NOINLINE __attribute__((noinline))
#define WS__INLINE __inline__ __attribute__((always_inline))
#else
#define WS__NOINLINE
#define WS__LIKELY(x) (x)
#define WS__UNLIKELY(x) (x)
#define WS__UNUSED
#endif
#ifndef WS__INLINE
#ifdef _MSC_VER
#define WS__INLINE __forceinline
#else
#define WS__INLINE
#endif
#endif

#if defined(WS_SMALL) && !defined(WS_SMALL_USE_LIBC)
/* WS_SMALL brings its own byte-at-a-time helpers: a microcontroller's libc
 * versions are tuned for speed and cost more flash than the whole frame
 * codec (newlib-nano's memcpy, memmove and strlen: ~800 bytes on a
 * Cortex-M4). They move handshake text, SHA-1 input and fragments being
 * joined, none of it on a hot path that would repay the flash.
 * WS_SMALL_USE_LIBC keeps libc's when the firmware links them anyway. */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC would otherwise recognise the loops and call memcpy/memset again. */
#define WS__NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define WS__NO_LIBCALLS
#endif
WS__UNUSED static WS__NO_LIBCALLS void *ws__small_move(void *dst, const void *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if ((uintptr_t)d < (uintptr_t)s) /* also memcpy: objects may be unrelated */
        while (n--) *d++ = *s++;
    else
        while (n--) d[n] = s[n];
    return dst;
}
WS__UNUSED static WS__NO_LIBCALLS void *ws__small_set(void *dst, int v, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    while (n--) *d++ = (unsigned char)v;
    return dst;
}
WS__UNUSED static int ws__small_cmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}
WS__UNUSED static size_t ws__small_len(const char *s) {
    const char *e = s;
    while (*e) e++;
    return (size_t)(e - s);
}
#ifndef WS_MEMCPY
#define WS_MEMCPY ws__small_move
#endif
#ifndef WS_MEMMOVE
#define WS_MEMMOVE ws__small_move
#endif
#ifndef WS_MEMSET
#define WS_MEMSET ws__small_set
#endif
#ifndef WS_MEMCMP
#define WS_MEMCMP ws__small_cmp
#endif
#ifndef WS_STRLEN
#define WS_STRLEN ws__small_len
#endif
#elif !defined(WS_MEMCPY) || !defined(WS_MEMMOVE) || !defined(WS_MEMSET) || !defined(WS_MEMCMP) || \
    !defined(WS_STRLEN)
#include <string.h>
#endif
#ifndef WS_MEMCPY
#define WS_MEMCPY memcpy
#endif
#ifndef WS_MEMMOVE
#define WS_MEMMOVE memmove
#endif
#ifndef WS_MEMSET
#define WS_MEMSET memset
#endif
#ifndef WS_MEMCMP
#define WS_MEMCMP memcmp
#endif
#ifndef WS_STRLEN
#define WS_STRLEN strlen
#endif

#ifdef WS_STATIC
#define WS_DEF static WS__UNUSED /* a private copy need not use everything */
#else
#define WS_DEF
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* WS_SMALL leaves out the explanations (a fifth of the code on a
 * microcontroller); error and close codes stay exact. */
#ifdef WS_SMALL
#define WS__WHY(text) ""
#else
#define WS__WHY(text) text
#endif

WS_DEF const char *ws_strerror(int err) {
    switch (err) {
#define WS__CASE(name, value, text)                                                                \
    case value:                                                                                    \
        return text;
        WS_ERRORS(WS__CASE)
#undef WS__CASE
    default:
        return "unknown error";
    }
}

/* ===========================================================================
 * Primitives: SHA-1, base64, masking, UTF-8.
 * Only the handshake needs SHA-1 and base64; masking and UTF-8 sit on the
 * per-byte hot path, so they work a machine word at a time.
 * ========================================================================= */

static uint32_t ws__rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32u - n)); }

static void ws__sha1_block(uint32_t h[5], const unsigned char *p) {
    uint32_t w[16], a, b, c, d, e, t; /* the schedule kept as a 16-word ring */
    unsigned i;
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 16)
            w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
                   (uint32_t)p[4 * i + 3];
        else
            w[i & 15] = ws__rol(w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15], 1);
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999u;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1u;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
        else f = b ^ c ^ d, k = 0xCA62C1D6u;
        t = ws__rol(a, 5) + f + e + k + w[i & 15];
        e = d, d = c, c = ws__rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

WS_DEF void ws_sha1_init(ws_sha1 *s) {
    s->h[0] = 0x67452301u, s->h[1] = 0xEFCDAB89u, s->h[2] = 0x98BADCFEu;
    s->h[3] = 0x10325476u, s->h[4] = 0xC3D2E1F0u;
    s->total = 0;
}

WS_DEF void ws_sha1_update(ws_sha1 *s, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    size_t used = (size_t)(s->total & 63u);
    s->total += len;
    if (used) {
        size_t take = 64 - used < len ? 64 - used : len;
        WS_MEMCPY(s->block + used, p, take);
        p += take, len -= take, used += take;
        if (used < 64) return;
        ws__sha1_block(s->h, s->block);
    }
    for (; len >= 64; p += 64, len -= 64) ws__sha1_block(s->h, p);
    if (len) WS_MEMCPY(s->block, p, len);
}

WS_DEF void ws_sha1_final(ws_sha1 *s, unsigned char digest[20]) {
    unsigned char pad[72];
    uint64_t bits = s->total * 8u;
    size_t used = (size_t)(s->total & 63u), padlen = (used < 56 ? 56 : 120) - used, i;
    WS_MEMSET(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    ws_sha1_update(s, pad, padlen + 8);
    for (i = 0; i < 20; i++) digest[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

WS_DEF void ws_sha1_oneshot(const void *data, size_t len, unsigned char digest[20]) {
    ws_sha1 s;
    ws_sha1_init(&s);
    ws_sha1_update(&s, data, len);
    ws_sha1_final(&s, digest);
}

static const char ws__b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

WS_DEF int ws_base64_encode(const void *in, size_t len, char *out, size_t out_cap) {
    const unsigned char *p = (const unsigned char *)in;
    size_t i, o = 0;
    /* 4 characters per 3 bytes and a NUL must fit, and the count an int;
     * tested without a division (a Cortex-M0 has none): ceil(len / 3)
     * groups fit when len <= 3 * floor((out_cap - 1) / 4). */
    if (!out_cap || len > ((out_cap - 1) >> 2) * 3 || len > 0x5FFFFFFDu) return WS_E_NOMEM;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = ws__b64[v >> 18], out[o++] = ws__b64[(v >> 12) & 63];
        out[o++] = ws__b64[(v >> 6) & 63], out[o++] = ws__b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0u);
        out[o++] = ws__b64[v >> 18], out[o++] = ws__b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? ws__b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int ws__b64_value(unsigned char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

WS_DEF int ws_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_cap) {
    size_t i, o = 0, pad = 0, n;
    if (len % 4 || len / 4 * 3 > 0x7fffffffu) return WS_E_BASE64;
    if (len && in[len - 1] == '=') pad = in[len - 2] == '=' ? 2 : 1;
    /* Check everything first: an error must never leave a partial result. */
    for (i = 0; i < len - pad; i++)
        if (ws__b64_value((unsigned char)in[i]) < 0) return WS_E_BASE64;
    /* The bits that padding drops must be zero, or two inputs would decode
     * to the same bytes (RFC 4648 section 3.5, canonical encoding). */
    if (pad == 2 && (ws__b64_value((unsigned char)in[len - 3]) & 15)) return WS_E_BASE64;
    if (pad == 1 && (ws__b64_value((unsigned char)in[len - 2]) & 3)) return WS_E_BASE64;
    n = len / 4 * 3 - pad;
    if (n > out_cap) return WS_E_NOMEM;
    for (i = 0; i < len; i += 4) {
        uint32_t v = 0;
        unsigned j;
        for (j = 0; j < 4; j++) {
            int d = in[i + j] == '=' ? 0 : ws__b64_value((unsigned char)in[i + j]);
            v = v << 6 | (uint32_t)d;
        }
        if (o < n) out[o++] = (unsigned char)(v >> 16);
        if (o < n) out[o++] = (unsigned char)(v >> 8);
        if (o < n) out[o++] = (unsigned char)v;
    }
    return (int)n;
}

WS_DEF void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[20];
    ws_sha1 s;
    ws_sha1_init(&s);
    ws_sha1_update(&s, key, key_len);
    ws_sha1_update(&s, guid, sizeof guid - 1);
    ws_sha1_final(&s, digest);
    ws_base64_encode(digest, sizeof digest, out, WS_ACCEPT_LEN + 1);
}

/* SIMD, chosen at compile time from what the target guarantees; WS_NO_SIMD
 * keeps only the portable code, which is always there for the head and tail
 * of a buffer. x86-64 always has SSE2; AVX2 is used when the compiler may
 * emit it (-mavx2, -march=haswell or later); AArch64 always has NEON. Only
 * the vector type ws__v and a few one-line operations differ per target. */
#if !defined(WS_NO_SIMD) && defined(__AVX2__)
#include <immintrin.h>
#define WS__SIMD 32
#define WS__V_LOOKUP 1
typedef __m256i ws__v;
static ws__v ws__v_load(const unsigned char *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }
static void ws__v_store(unsigned char *p, ws__v v) { _mm256_storeu_si256((__m256i *)(void *)p, v); }
static ws__v ws__v_dup(unsigned char c) { return _mm256_set1_epi8((char)c); }
static ws__v ws__v_or(ws__v a, ws__v b) { return _mm256_or_si256(a, b); }
static ws__v ws__v_and(ws__v a, ws__v b) { return _mm256_and_si256(a, b); }
static ws__v ws__v_xor(ws__v a, ws__v b) { return _mm256_xor_si256(a, b); }
static ws__v ws__v_subs(ws__v a, ws__v b) { return _mm256_subs_epu8(a, b); }
static int ws__v_any(ws__v v) { return !_mm256_testz_si256(v, v); }
static int ws__v_ascii(ws__v v) { return _mm256_movemask_epi8(v) == 0; }
static ws__v ws__v_hi4(ws__v v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), ws__v_dup(15)); }
static ws__v ws__v_lookup(const unsigned char t[16], ws__v i) {
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)t)), i);
}
#elif !defined(WS_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
#include <emmintrin.h>
#define WS__SIMD 16
typedef __m128i ws__v;
static ws__v ws__v_load(const unsigned char *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }
static void ws__v_store(unsigned char *p, ws__v v) { _mm_storeu_si128((__m128i *)(void *)p, v); }
static ws__v ws__v_dup(unsigned char c) { return _mm_set1_epi8((char)c); }
static ws__v ws__v_or(ws__v a, ws__v b) { return _mm_or_si128(a, b); }
static ws__v ws__v_xor(ws__v a, ws__v b) { return _mm_xor_si128(a, b); }
static ws__v ws__v_subs(ws__v a, ws__v b) { return _mm_subs_epu8(a, b); }
static int ws__v_ascii(ws__v v) { return _mm_movemask_epi8(v) == 0; }
#ifdef __SSSE3__ /* a byte shuffle: table lookups (SSE2 alone compares) */
#include <tmmintrin.h>
#define WS__V_LOOKUP 1
static ws__v ws__v_and(ws__v a, ws__v b) { return _mm_and_si128(a, b); }
static int ws__v_any(ws__v v) { return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0xFFFF; }
static ws__v ws__v_hi4(ws__v v) { return _mm_and_si128(_mm_srli_epi16(v, 4), ws__v_dup(15)); }
static ws__v ws__v_lookup(const unsigned char t[16], ws__v i) {
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)t), i);
}
#else
static ws__v ws__v_eq(ws__v a, ws__v b) { return _mm_cmpeq_epi8(a, b); }
static ws__v ws__v_lts(ws__v a, ws__v b) { return _mm_cmplt_epi8(a, b); } /* signed a < b */
static ws__v ws__v_andn(ws__v a, ws__v b) { return _mm_andnot_si128(a, b); } /* ~a & b */
#endif
#elif !defined(WS_NO_SIMD) && (defined(__aarch64__) || defined(_M_ARM64))
#include <arm_neon.h>
#define WS__SIMD 16
#define WS__V_LOOKUP 1
typedef uint8x16_t ws__v;
static ws__v ws__v_load(const unsigned char *p) { return vld1q_u8(p); }
static void ws__v_store(unsigned char *p, ws__v v) { vst1q_u8(p, v); }
static ws__v ws__v_dup(unsigned char c) { return vdupq_n_u8(c); }
static ws__v ws__v_or(ws__v a, ws__v b) { return vorrq_u8(a, b); }
static ws__v ws__v_and(ws__v a, ws__v b) { return vandq_u8(a, b); }
static ws__v ws__v_xor(ws__v a, ws__v b) { return veorq_u8(a, b); }
static ws__v ws__v_subs(ws__v a, ws__v b) { return vqsubq_u8(a, b); }
static int ws__v_any(ws__v v) { return vmaxvq_u8(v) != 0; }
static int ws__v_ascii(ws__v v) { return vmaxvq_u8(v) < 0x80; }
static ws__v ws__v_hi4(ws__v v) { return vshrq_n_u8(v, 4); }
static ws__v ws__v_lookup(const unsigned char t[16], ws__v i) { return vqtbl1q_u8(vld1q_u8(t), i); }
#endif

#ifdef WS__SIMD
/* Whole vectors for ws_mask_copy; kw is the key rotated to the current
 * offset over a word, which a vector (whole words) leaves unchanged. */
static size_t ws__mask_simd(unsigned char *d, const unsigned char *s, size_t len, size_t kw) {
    unsigned char kb[WS__SIMD];
    size_t i = 0, j;
    ws__v k;
    for (j = 0; j < WS__SIMD; j += sizeof kw) WS_MEMCPY(kb + j, &kw, sizeof kw);
    k = ws__v_load(kb);
    for (; len - i >= 4 * WS__SIMD; i += 4 * WS__SIMD) {
        ws__v a = ws__v_load(s + i), b = ws__v_load(s + i + WS__SIMD);
        ws__v c = ws__v_load(s + i + 2 * WS__SIMD), e = ws__v_load(s + i + 3 * WS__SIMD);
        ws__v_store(d + i, ws__v_xor(a, k));
        ws__v_store(d + i + WS__SIMD, ws__v_xor(b, k));
        ws__v_store(d + i + 2 * WS__SIMD, ws__v_xor(c, k));
        ws__v_store(d + i + 3 * WS__SIMD, ws__v_xor(e, k));
    }
    for (; len - i >= WS__SIMD; i += WS__SIMD) ws__v_store(d + i, ws__v_xor(ws__v_load(s + i), k));
    return i;
}
#endif

/* Masking: the key rotated to the current offset, repeated over a word, is
 * XORed a word at a time; head and tail go byte by byte. Words are loaded
 * through memcpy, which compilers turn into plain (unaligned-safe) loads. */
WS_DEF size_t ws_mask_copy(void *dst, const void *src, size_t len, const unsigned char key[4],
                           size_t offset) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    offset &= 3;
#if defined(WS_SMALL) && !defined(WS__SIMD)
    /* The smallest form: byte by byte (the word loops below cost ~250 bytes
     * of flash). */
    for (; i < len; i++) d[i] = (unsigned char)(s[i] ^ key[(offset + i) & 3]);
    return (offset + len) & 3;
#else
#ifndef WS__SIMD
    /* Byte-wise until the destination is word aligned (a target without
     * SIMD may also lack fast unaligned access; SIMD targets have it). */
    while (i < len && ((uintptr_t)(d + i) & (sizeof(size_t) - 1))) {
        d[i] = (unsigned char)(s[i] ^ key[offset]);
        i++, offset = (offset + 1) & 3;
    }
#endif
    if (len - i >= 4) {
        unsigned char rot[4];
        uint32_t k4;
        size_t k;
        rot[0] = key[offset], rot[1] = key[(offset + 1) & 3];
        rot[2] = key[(offset + 2) & 3], rot[3] = key[(offset + 3) & 3];
        WS_MEMCPY(&k4, rot, 4);
        k = (size_t)k4 * (SIZE_MAX / 0xFFFFFFFFu); /* the 4 bytes again in each half */
#ifdef WS__SIMD
        if (len - i >= WS__SIMD) i += ws__mask_simd(d + i, s + i, len - i, k);
#endif
        for (; len - i >= 4 * sizeof(size_t); i += 4 * sizeof(size_t)) {
            size_t w[4];
            WS_MEMCPY(w, s + i, sizeof w);
            w[0] ^= k, w[1] ^= k, w[2] ^= k, w[3] ^= k;
            WS_MEMCPY(d + i, w, sizeof w);
        }
        for (; len - i >= sizeof(size_t); i += sizeof(size_t)) {
            size_t w;
            WS_MEMCPY(&w, s + i, sizeof w);
            w ^= k;
            WS_MEMCPY(d + i, &w, sizeof w);
        }
        if (len - i >= 4) {
            uint32_t w;
            WS_MEMCPY(&w, s + i, 4);
            w ^= k4;
            WS_MEMCPY(d + i, &w, 4);
            i += 4;
        }
        /* Words are whole multiples of 4 bytes: offset is unchanged. */
    }
    for (; i < len; i++) {
        d[i] = (unsigned char)(s[i] ^ key[offset]);
        offset = (offset + 1) & 3;
    }
    return offset;
#endif
}

WS_DEF size_t ws_mask(void *data, size_t len, const unsigned char key[4], size_t offset) {
    return ws_mask_copy(data, data, len, key, offset);
}

/* UTF-8: a small DFA over byte classes. States name what the next byte must
 * be, so the one byte that makes the input impossible is the one that moves
 * the DFA to REJECT: that is the fail-fast position.
 *   classes: 0 ASCII, 1 80-8F, 2 90-9F, 3 A0-BF, 4 C2-DF, 5 E0, 6 E1-EC/EE-EF,
 *            7 ED, 8 F0, 9 F1-F3, 10 F4, 11 C0 C1 F5-FF
 *   states:  0 accept, 1 reject, 2 one more 80-BF, 3 two more, 4 three more,
 *            5 after E0 (A0-BF), 6 after ED (80-9F), 7 after F0 (90-BF),
 *            8 after F4 (80-8F)
 * The state is stored pre-multiplied by 12 so a step is one table load. */
#define WS__U8_REJECT 12u

#ifdef WS_SMALL
/* The same DFA with its step computed rather than looked up: the tables
 * below cost 364 bytes of flash. */
static uint32_t ws__utf8_step(uint32_t st, unsigned b) {
    /* States 2-8 want one byte in [lo, hi], then go to the third entry. */
    static const unsigned char want[7][3] = {{0x80, 0xBF, 0},  {0x80, 0xBF, 24}, {0x80, 0xBF, 36},
                                             {0xA0, 0xBF, 24}, {0x80, 0x9F, 24}, {0x90, 0xBF, 36},
                                             {0x80, 0x8F, 36}};
    if (st) {
        const unsigned char *w = want[((st * 43u) >> 9) - 2]; /* st / 12, without a division */
        return b >= w[0] && b <= w[1] ? w[2] : WS__U8_REJECT;
    }
    if (b < 0x80) return 0;
    if (b < 0xC2) return WS__U8_REJECT; /* a continuation, or C0 C1 (overlong) */
    if (b < 0xE0) return 24;
    if (b == 0xE0) return 60;
    if (b == 0xED) return 72;
    if (b < 0xF0) return 36;
    if (b == 0xF0) return 84;
    if (b < 0xF4) return 48;
    return b == 0xF4 ? 96 : WS__U8_REJECT;
}
#else
static const unsigned char ws__utf8_class[256] = {
#define WS__R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    WS__R16(0), WS__R16(0), WS__R16(0), WS__R16(0), WS__R16(0), WS__R16(0), WS__R16(0), WS__R16(0),
    WS__R16(1), WS__R16(2), WS__R16(3), WS__R16(3),
    11, 11, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, WS__R16(4),
    5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 6, 6,
    8, 9, 9, 9, 10, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11
#undef WS__R16
};

static const unsigned char ws__utf8_next[9 * 12] = {
    /*        A   80  90  A0  C2  E0  E1  ED  F0  F1  F4  bad */
    /* 0 */ 0, 12, 12, 12, 24, 60, 36, 72, 84, 48, 96, 12,
    /* 1 */ 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 2 */ 12, 0, 0, 0, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 3 */ 12, 24, 24, 24, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 4 */ 12, 36, 36, 36, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 5 */ 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 6 */ 12, 24, 24, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 7 */ 12, 12, 36, 36, 12, 12, 12, 12, 12, 12, 12, 12,
    /* 8 */ 12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
};
#define ws__utf8_step(st, b) ws__utf8_next[(st) + ws__utf8_class[b]]
#endif

/* The portable path on a 64-bit core steps the same DFA in another form.
 * On a 32-bit one each of its steps is a 64-bit shift, ~13 instructions
 * (Cortex-M4, gcc -Os) against ~5 for a table step, and its loop 1 KB of
 * flash: there, as under WS_SMALL, the table DFA stays. */
#if !defined(WS__SIMD) && !defined(WS_SMALL) && SIZE_MAX > 0xFFFFFFFFu
#define WS__U8_SHIFT 1
#endif

#ifdef WS__U8_SHIFT
/* The portable path steps the same DFA in another form, a "shift DFA". A
 * table step is a load whose address needs the previous step's result, so
 * the DFA runs at one L1 load latency per byte (~5 cycles) however wide the
 * core. Here the loads depend on the byte alone: ws__utf8_row[class] packs,
 * for every state, the state that class leads to, 6 bits a state at bit
 * 6 * (state / 12), and the state is kept as a bit offset. A step is row >>
 * offset, whose low 6 bits are the next offset (the bits above are leftovers,
 * ignored): one shift on the chain. Each row is a column of ws__utf8_next,
 * listed for states 0-8 in its numbering; the macro halves them. */
#define WS__U8_ROW(s0, s1, s2, s3, s4, s5, s6, s7, s8)                                                  \
    ((uint64_t)((s0) / 2) | (uint64_t)((s1) / 2) << 6 | (uint64_t)((s2) / 2) << 12 |                    \
     (uint64_t)((s3) / 2) << 18 | (uint64_t)((s4) / 2) << 24 | (uint64_t)((s5) / 2) << 30 |            \
     (uint64_t)((s6) / 2) << 36 | (uint64_t)((s7) / 2) << 42 | (uint64_t)((s8) / 2) << 48)
#define WS__U8_LEAD(next) WS__U8_ROW(next, 12, 12, 12, 12, 12, 12, 12, 12) /* wanted in state 0 only */
static const uint64_t ws__utf8_row[12] = {
    WS__U8_LEAD(0),                                /* ASCII */
    WS__U8_ROW(12, 12, 0, 24, 36, 12, 24, 12, 36), /* 80-8F */
    WS__U8_ROW(12, 12, 0, 24, 36, 12, 24, 36, 12), /* 90-9F */
    WS__U8_ROW(12, 12, 0, 24, 36, 24, 12, 36, 12), /* A0-BF */
    WS__U8_LEAD(24),                               /* C2-DF */
    WS__U8_LEAD(60),                               /* E0 */
    WS__U8_LEAD(36),                               /* E1-EC EE-EF */
    WS__U8_LEAD(72),                               /* ED */
    WS__U8_LEAD(84),                               /* F0 */
    WS__U8_LEAD(48),                               /* F1-F3 */
    WS__U8_LEAD(96),                               /* F4 */
    WS__U8_LEAD(12),                               /* C0 C1 F5-FF */
};
#undef WS__U8_LEAD
#undef WS__U8_ROW
/* The & 63 keeps C's shift defined; x86 and AArch64 shifts mask the count
 * anyway, and the compilers drop it. */
#define ws__utf8_shift(t, b) (ws__utf8_row[ws__utf8_class[b]] >> ((t) & 63))
#define WS__U8_AT(t) ((t) & 63) /* the state's offset: its number / 2 */

/* Whether the 16 bytes at p are all ASCII (two words, no alignment needed). */
static WS__INLINE int ws__utf8_ascii16(const unsigned char *p) {
    uint64_t a, b;
    WS_MEMCPY(&a, p, 8);
    WS_MEMCPY(&b, p + 8, 8);
    return !((a | b) & 0x8080808080808080ull);
}

/* From p[i] in state *st to len: returns len, or the fail-fast position
 * with *st set to REJECT. Text goes in blocks of 16 steps and one test at
 * the end, since REJECT never leaves (a block that ends there is stepped
 * again byte by byte to find the byte). On x86-64 (gcc 12) this took mixed
 * text from 0.65 GB/s to ~3; the table DFA run as two independent chains
 * over the input's halves made 1.3, and as four 2.2, with more code (the
 * split, and a rerun to find the position). */
static size_t ws__utf8_run(const unsigned char *p, size_t i, size_t len, uint32_t *st) {
    uint64_t t = *st / 2, u;
    size_t k;
    for (;;) {
        if (WS__U8_AT(t) == 0) {
            while (len - i >= 16 && ws__utf8_ascii16(p + i)) i += 16;
            while (i < len && p[i] < 0x80) i++;
            /* After ASCII, a lone accent or emoji is likely: four steps
             * take any code point (not branching on its length, which text
             * does not predict), and the fast path goes on if ASCII
             * follows; without this, ASCII with an accent every 500 bytes
             * lost 15% to the table DFA. */
            if (len - i >= 20) {
                u = ws__utf8_shift(t, p[i]);
                u = ws__utf8_shift(u, p[i + 1]);
                u = ws__utf8_shift(u, p[i + 2]);
                u = ws__utf8_shift(u, p[i + 3]);
                if (WS__UNLIKELY(WS__U8_AT(u) == WS__U8_REJECT / 2)) goto find;
                t = u, i += 4;
                if (WS__U8_AT(t) == 0 && ws__utf8_ascii16(p + i)) continue;
            }
        }
        if (len - i < 16) break;
        while (len - i >= 16) {
            /* Eight steps written out: gcc -O2 does not unroll the loop,
             * and a turn per byte cost a third of the speed. */
            for (u = t, k = 0; k < 16; k += 8) {
                u = ws__utf8_shift(u, p[i + k]);
                u = ws__utf8_shift(u, p[i + k + 1]);
                u = ws__utf8_shift(u, p[i + k + 2]);
                u = ws__utf8_shift(u, p[i + k + 3]);
                u = ws__utf8_shift(u, p[i + k + 4]);
                u = ws__utf8_shift(u, p[i + k + 5]);
                u = ws__utf8_shift(u, p[i + k + 6]);
                u = ws__utf8_shift(u, p[i + k + 7]);
            }
            if (WS__UNLIKELY(WS__U8_AT(u) == WS__U8_REJECT / 2)) goto find;
            t = u, i += 16;
            /* Back to the fast path when 32 ASCII bytes follow a code point
             * boundary (16 left the blocks too often in sparse accents).
             * The bytes are tested first: in text they are almost never
             * ASCII, a predicted branch, while the state at a block's end
             * is as good as random. */
            if (len - i >= 32 && ws__utf8_ascii16(p + i) && ws__utf8_ascii16(p + i + 16) && WS__U8_AT(t) == 0)
                break;
        }
    }
    /* The last bytes, under 16, the same way: the steps, then one test. */
    for (u = t, k = i; k < len; k++) u = ws__utf8_shift(u, p[k]);
    if (WS__UNLIKELY(WS__U8_AT(u) == WS__U8_REJECT / 2)) goto find;
    *st = (uint32_t)WS__U8_AT(u) * 2;
    return len;
find: /* REJECT came in the steps from t at i: where? */
    while (WS__U8_AT(t = ws__utf8_shift(t, p[i])) != WS__U8_REJECT / 2) i++;
    *st = WS__U8_REJECT;
    return i;
}
#endif

#ifdef WS__SIMD
/* UTF-8 with vectors, after the idea of Keiser and Lemire ("Validating UTF-8
 * in less than one instruction per byte", 2021): every byte is checked
 * against the three before it in all lanes at once and the errors are ORed;
 * where exactly the input broke is left to the DFA. RFC 3629 in lanes:
 *  - structure: a byte is a continuation (80-BF) exactly when a lead before
 *    it still wants one (C0-FF one back, E0-FF two back, F0-FF three back);
 *  - second bytes: C0 C1 F5-FF start nothing, E0 needs A0-BF (else overlong),
 *    ED 80-9F (else a surrogate), F0 90-BF (overlong), F4 80-8F (> U+10FFFF).
 * With a byte shuffle (SSSE3, AVX2, NEON) each pair (byte before, byte) is
 * classified by three 16-entry tables, indexed by the earlier byte's two
 * nibbles and the byte's high nibble; a bit is a rule, and it stands where
 * all three tables have it:
 *   1 a lead not followed by 80-BF     2 80-BF after ASCII
 *   4 E0 80-9F    8 ED A0-BF    16 C0-C1 80-BF    32 F4-FF 90-BF
 *   64 F0 or F5-FF, then 80-8F     128 80-BF after 80-BF
 * Bit 128 is right exactly when no lead two or three back wants the byte,
 * so XOR with that want settles the third and fourth bytes. SSE2 alone has
 * no shuffle and compares instead. */
#ifdef WS__V_LOOKUP
static const unsigned char ws__u8_prev_hi[16] = {2, 2, 2, 2, 2, 2, 2, 2, 128, 128, 128, 128, 1 | 16, 1, 1 | 4 | 8, 1 | 32 | 64};
#define WS__U8_ANY (1 | 2 | 128) /* the rules that do not look at the low nibble */
static const unsigned char ws__u8_prev_lo[16] = {
    WS__U8_ANY | 4 | 16 | 64, WS__U8_ANY | 16, WS__U8_ANY, WS__U8_ANY, WS__U8_ANY | 32, WS__U8_ANY | 32 | 64,
    WS__U8_ANY | 32 | 64, WS__U8_ANY | 32 | 64, WS__U8_ANY | 32 | 64, WS__U8_ANY | 32 | 64, WS__U8_ANY | 32 | 64,
    WS__U8_ANY | 32 | 64, WS__U8_ANY | 32 | 64, WS__U8_ANY | 8 | 32 | 64, WS__U8_ANY | 32 | 64, WS__U8_ANY | 32 | 64};
static const unsigned char ws__u8_cur_hi[16] = {1, 1, 1, 1, 1, 1, 1, 1, 2 | 4 | 16 | 64 | 128, 2 | 4 | 16 | 32 | 128,
                                                2 | 8 | 16 | 32 | 128, 2 | 8 | 16 | 32 | 128, 1, 1, 1, 1};
#undef WS__U8_ANY

/* Nonzero lanes where a byte of cur, after the bytes p1, p2, p3 one, two
 * and three places before it, breaks a rule. */
static WS__INLINE ws__v ws__utf8_errors(ws__v cur, ws__v p1, ws__v p2, ws__v p3) {
    ws__v rules = ws__v_and(ws__v_and(ws__v_lookup(ws__u8_prev_hi, ws__v_hi4(p1)),
                                      ws__v_lookup(ws__u8_prev_lo, ws__v_and(p1, ws__v_dup(15)))),
                            ws__v_lookup(ws__u8_cur_hi, ws__v_hi4(cur)));
    /* 80 and up exactly where E0-FF is two back or F0-FF three back */
    ws__v want = ws__v_or(ws__v_subs(p2, ws__v_dup(0xE0 - 0x80)), ws__v_subs(p3, ws__v_dup(0xF0 - 0x80)));
    return ws__v_xor(rules, ws__v_and(want, ws__v_dup(0x80)));
}
#define WS__U8_FAILED(e) ws__v_any(e)
#else
/* SSE2: no lookups, so every rule costs compares, and the rules are cast to
 * need few: 21 operations a vector where a compare per special lead and per
 * bound took 30 (measured, the instruction count is what bounds this loop).
 * A lane's high bit says it broke a rule:
 *  - structure: x - t, saturated, is 80 or more exactly when x >= t + 80, so
 *    four subtractions mark C0-FF one back, E0-FF two back, F0-FF three back
 *    (a continuation is due), and F5-FF here; XOR with "is 80-BF" (a signed
 *    compare) flags a due byte that is no continuation, a continuation that
 *    is not due, and F5-FF whether due or not (it is no continuation);
 *  - second bytes: with lead = the byte before - 40 (saturated: 80-BF for
 *    C0-FF, under 80 for the rest), E0 is A0 and ED is AD. Flip lead by 0D
 *    where the byte is not 80-9F, and A0 is left exactly after E0 80-9F
 *    (overlong), ED A0-BF (surrogate) and ED then no continuation (which
 *    the structure rejects anyway); no other pair gives A0. Likewise F0 and
 *    F4 with 80-8F, 04 and B0: F0 80-8F (overlong), F4 90-BF (> U+10FFFF).
 *    So one compare covers two leads and both their bounds;
 *  - C0 and C1: lead 80 or 81, the only ones below 82 (signed). */
static WS__INLINE ws__v ws__utf8_errors(ws__v cur, ws__v p1, ws__v p2, ws__v p3) {
    ws__v lead = ws__v_subs(p1, ws__v_dup(0xC0 - 0x80));
    ws__v e3 = ws__v_xor(ws__v_andn(ws__v_lts(cur, ws__v_dup(0xA0)), ws__v_dup(0xE0 ^ 0xED)), lead);
    ws__v e4 = ws__v_xor(ws__v_andn(ws__v_lts(cur, ws__v_dup(0x90)), ws__v_dup(0xF0 ^ 0xF4)), lead);
    ws__v cont = ws__v_lts(cur, ws__v_dup(0xC0));
    e3 = ws__v_eq(e3, ws__v_dup(0xE0 - 0x40));
    e4 = ws__v_eq(e4, ws__v_dup(0xF0 - 0x40));
    e3 = ws__v_or(e3, ws__v_lts(lead, ws__v_dup(0xC2 - 0x40)));
    /* This order (measured) keeps the compilers from spilling or shuffling
     * registers: SSE2 has 16 and this takes 12 constants. */
    lead = ws__v_or(lead, ws__v_subs(p2, ws__v_dup(0xE0 - 0x80)));
    lead = ws__v_or(lead, ws__v_subs(p3, ws__v_dup(0xF0 - 0x80)));
    lead = ws__v_or(lead, ws__v_subs(cur, ws__v_dup(0xF5 - 0x80)));
    return ws__v_or(ws__v_or(e3, e4), ws__v_xor(lead, cont));
}
#define WS__U8_FAILED(e) (!ws__v_ascii(e)) /* a high bit */
#endif

/* Bytes of an unfinished sequence at the end of the valid p[0..i). */
static WS__INLINE size_t ws__utf8_tail(const unsigned char *p, size_t i) {
    if (i >= 1 && p[i - 1] >= 0xC0) return 1;
    if (i >= 2 && p[i - 2] >= 0xE0) return 2;
    if (i >= 3 && p[i - 3] >= 0xF0) return 3;
    return 0;
}

/* The vector at p + i (i >= 3) against the bytes before it: unaligned loads. */
#define WS__U8_BAD(p, i)                                                                                     \
    WS__U8_FAILED(ws__utf8_errors(ws__v_load((p) + (i)), ws__v_load((p) + (i)-1), ws__v_load((p) + (i)-2), \
                                  ws__v_load((p) + (i)-3)))

/* Past whole ASCII blocks of four vectors from i: only high bits to see. */
static WS__INLINE size_t ws__utf8_ascii(const unsigned char *p, size_t i, size_t len) {
    for (; len - i >= 4 * WS__SIMD; i += 4 * WS__SIMD) {
        ws__v a = ws__v_or(ws__v_load(p + i), ws__v_load(p + i + WS__SIMD));
        ws__v b = ws__v_or(ws__v_load(p + i + 2 * WS__SIMD), ws__v_load(p + i + 3 * WS__SIMD));
        if (!ws__v_ascii(ws__v_or(a, b))) break;
    }
    return i;
}

/* Dense text: four vectors a turn, each tested on its own (ORing the
 * errors of several before one test saves little and, with 16 registers,
 * spills), until the last of four is ASCII and the text may be thinning.
 * From i >= 3 with four vectors to go; returns where it stopped, *bad set
 * if that vector failed. A function of its own, so that the compiler gives
 * this loop the registers alone: inlined into the loop below, clang moved
 * the constants between registers at every turn (SSE2 lost 15%) and gcc
 * reloaded them for every vector of the loop below (AVX2 lost 20% on
 * ASCII with some accents). */
static WS__NOINLINE size_t ws__utf8_text(const unsigned char *p, size_t i, size_t len, int *bad) {
    for (;;) {
        if (WS__U8_BAD(p, i)) break;
        if (WS__U8_BAD(p, i + WS__SIMD)) {
            i += WS__SIMD;
            break;
        }
        if (WS__U8_BAD(p, i + 2 * WS__SIMD)) {
            i += 2 * WS__SIMD;
            break;
        }
        if (WS__U8_BAD(p, i + 3 * WS__SIMD)) {
            i += 3 * WS__SIMD;
            break;
        }
        i += 4 * WS__SIMD;
        if (len - i < 4 * WS__SIMD || ws__v_ascii(ws__v_load(p + i - WS__SIMD))) return i;
    }
    *bad = 1;
    return i;
}

/* From a code point boundary: the length of the longest prefix the vectors
 * prove valid that ends on a boundary too. The DFA goes on from there, so
 * an error, a chunk's end inside a sequence and the last partial vector all
 * get its exact position and state.
 * Vector by vector, an ASCII one (and a run of them four at a time) only
 * tested for high bits; after four text vectors in a row the text is taken
 * to be dense, and ws__utf8_text tests every vector in full without asking.
 * Asking costs mispredicted branches in mixed text (3% of its vectors are
 * ASCII); not asking costs four full tests for a lone accent in ASCII. The
 * call is outside the vector loop: a call inside makes the compiler reload
 * the constants at every vector. */
static size_t ws__utf8_simd(const unsigned char *p, size_t len) {
    size_t i;
    int open = 0, bad = 0; /* open: the last vector was not ASCII, a sequence may go on */
    /* Leading ASCII first: the loop below has its constants loaded up
     * front, which costs a short ASCII message (a chat line, a small JSON
     * document) 10-20%. */
    i = ws__utf8_ascii(p, 0, len);
    while (len - i >= WS__SIMD && ws__v_ascii(ws__v_load(p + i))) i += WS__SIMD;
    if (len - i < WS__SIMD) return i;
    do {
        unsigned run = 0; /* text vectors in a row */
        while (len - i >= WS__SIMD && (run < 4 || len - i < 4 * WS__SIMD)) {
            ws__v cur = ws__v_load(p + i);
            if (ws__v_ascii(cur)) {
                if (open && ws__utf8_tail(p, i)) goto done; /* a sequence cut short */
                open = 0, run = 0;
                i = ws__utf8_ascii(p, i + WS__SIMD, len);
                continue;
            }
            if (i) {
                if (WS__U8_BAD(p, i)) goto done;
            } else { /* what came before p does not count: ASCII will do */
                unsigned char head[3 + WS__SIMD] = {0};
                WS_MEMCPY(head + 3, p, WS__SIMD);
                if (WS__U8_FAILED(ws__utf8_errors(cur, ws__v_load(head + 2), ws__v_load(head + 1), ws__v_load(head))))
                    return 0;
            }
            open = 1, run++;
            i += WS__SIMD;
        }
        if (len - i < WS__SIMD) break;
        i = ws__utf8_text(p, i, len, &bad);
    } while (!bad);
done:
    return open ? i - ws__utf8_tail(p, i) : i;
}
#undef WS__U8_BAD
#undef WS__U8_FAILED
#endif

WS_DEF int ws_utf8_feed(ws_utf8_state *state, const void *data, size_t len, size_t *bad_at) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t st = *state;
    size_t i = 0;
    if (st == WS__U8_REJECT) {
        if (bad_at) *bad_at = 0;
        return WS_E_UTF8;
    }
#ifdef WS__U8_SHIFT
    i = ws__utf8_run(p, i, len, &st);
    *state = st;
    if (st != WS__U8_REJECT) return 0;
    if (bad_at) *bad_at = i;
    return WS_E_UTF8;
#else
    while (i < len) {
        if (st == 0) {
#ifdef WS__SIMD
            if (len - i >= WS__SIMD) i += ws__utf8_simd(p + i, len - i);
#elif !defined(WS_SMALL)
            /* ASCII fast path: 16 bytes per step while no high bit shows. */
            while (len - i >= 16) {
                uint64_t a, b;
                WS_MEMCPY(&a, p + i, 8);
                WS_MEMCPY(&b, p + i + 8, 8);
                if ((a | b) & 0x8080808080808080ull) break;
                i += 16;
            }
#endif
            while (i < len && p[i] < 0x80) i++;
            if (i == len) break;
        }
        st = ws__utf8_step(st, p[i]);
        if (WS__UNLIKELY(st == WS__U8_REJECT)) {
            *state = st;
            if (bad_at) *bad_at = i;
            return WS_E_UTF8;
        }
        i++;
    }
    *state = st;
    return 0;
#endif
}

WS_DEF int ws_utf8_finish(const ws_utf8_state *state) {
    return *state == WS_UTF8_ACCEPT ? 0 : WS_E_UTF8;
}

WS_DEF int ws_utf8_validate(const void *data, size_t len, size_t *bad_at) {
    ws_utf8_state st = WS_UTF8_ACCEPT;
    if (ws_utf8_feed(&st, data, len, bad_at) < 0) return WS_E_UTF8;
    if (st != WS_UTF8_ACCEPT) {
        if (bad_at) *bad_at = len;
        return WS_E_UTF8;
    }
    return 0;
}

/* ===========================================================================
 * Frame codec: RFC 6455 section 5.2 headers, parsed and written as bytes.
 * ========================================================================= */

WS_DEF int ws_frame_parse(const void *buf, size_t len, ws_frame_header *h) {
    const unsigned char *p = (const unsigned char *)buf;
    size_t need = 2, i;
    uint64_t n;
    if (len < 2) return WS_E_INCOMPLETE;
    n = p[1] & 0x7Fu;
    if (n == 126) need += 2;
    else if (n == 127) need += 8;
    if (p[1] & 0x80u) need += 4;
    if (len < need) return WS_E_INCOMPLETE;
    if (n == 126) n = (uint64_t)p[2] << 8 | p[3];
    else if (n == 127) {
        if (p[2] & 0x80u) return WS_E_PROTOCOL;
        for (n = 0, i = 2; i < 10; i++) n = n << 8 | p[i];
    }
    h->fin = (unsigned char)(p[0] >> 7);
    h->rsv = (unsigned char)((p[0] >> 4) & 7u);
    h->opcode = (unsigned char)(p[0] & 15u);
    h->masked = (unsigned char)(p[1] >> 7);
    h->payload_len = n;
    h->header_len = (unsigned char)need;
    if (h->masked) WS_MEMCPY(h->mask_key, p + need - 4, 4);
    else WS_MEMSET(h->mask_key, 0, 4);
    return (int)need;
}

WS_DEF size_t ws_frame_write(unsigned char out[WS_FRAME_HEADER_MAX], int fin, int rsv, int opcode,
                             uint64_t payload_len, const unsigned char *mask_key) {
    size_t n = 2, i;
    out[0] = (unsigned char)((fin ? 0x80u : 0u) | ((unsigned)rsv & 7u) << 4 | ((unsigned)opcode & 15u));
    if (payload_len < 126) {
        out[1] = (unsigned char)payload_len;
    } else if (payload_len <= 0xFFFFu) {
        out[1] = 126, out[2] = (unsigned char)(payload_len >> 8), out[3] = (unsigned char)payload_len;
        n = 4;
    } else {
        out[1] = 127;
        for (i = 0; i < 8; i++) out[2 + i] = (unsigned char)(payload_len >> (56 - 8 * i));
        n = 10;
    }
    if (mask_key) {
        out[1] |= 0x80u;
        WS_MEMCPY(out + n, mask_key, 4);
        n += 4;
    }
    return n;
}

WS_DEF int ws_frame_check(const ws_frame_header *h, int server, const char **why) {
    const char *w = NULL;
    if (h->rsv) w = WS__WHY("reserved bits set without a negotiated extension");
    else if ((h->opcode >= 3 && h->opcode <= 7) || h->opcode >= 11) w = WS__WHY("reserved opcode");
    else if (h->opcode >= 8 && !h->fin) w = WS__WHY("fragmented control frame");
    else if (h->opcode >= 8 && h->payload_len > 125) w = WS__WHY("control frame longer than 125 bytes");
    else if (server && !h->masked) w = WS__WHY("unmasked frame from a client");
    else if (!server && h->masked) w = WS__WHY("masked frame from a server");
    if (!w) return 0;
    if (why) *why = w;
    return WS_E_PROTOCOL;
}

WS_DEF int ws_close_code_valid(unsigned code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* ===========================================================================
 * Handshake: the HTTP/1.1 Upgrade exchange (RFC 6455 section 4). Parsing
 * is in place and bounded; every check that fails says which one it was.
 * ========================================================================= */

static int ws__lower(int ch) { return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch; }

static int ws__strieq(const char *a, const char *b) {
    while (*a && ws__lower((unsigned char)*a) == ws__lower((unsigned char)*b)) a++, b++;
    return *a == '\0' && *b == '\0';
}

/* RFC 9110 tchar: the characters a header name or a method may use. */
static int ws__is_tchar(unsigned char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return 1;
    switch (ch) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

WS_DEF const char *ws_header_find(const ws_header *h, unsigned n, const char *name) {
    unsigned i;
    for (i = 0; i < n; i++)
        if (ws__strieq(h[i].name, name)) return h[i].value;
    return NULL;
}

WS_DEF int ws_token_list_has(const char *list, const char *token, int nocase) {
    size_t tlen = WS_STRLEN(token);
    const char *p = list;
    if (!list) return 0;
    while (*p) {
        const char *start, *end;
        size_t i;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        start = p;
        while (*p && *p != ',') p++;
        end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if ((size_t)(end - start) != tlen || tlen == 0) continue;
        for (i = 0; i < tlen; i++) {
            int a = (unsigned char)start[i], b = (unsigned char)token[i];
            if (nocase) a = ws__lower(a), b = ws__lower(b);
            if (a != b) break;
        }
        if (i == tlen) return 1;
    }
    return 0;
}

WS_DEF int ws_request_offers(const ws_request *req, const char *proto) {
    unsigned i;
    for (i = 0; i < req->num_headers; i++)
        if (ws__strieq(req->headers[i].name, "Sec-WebSocket-Protocol") &&
            ws_token_list_has(req->headers[i].value, proto, 0))
            return 1;
    return 0;
}

/* Finds the blank line that ends a header block; returns the block length
 * (up to and including it) or 0. */
static size_t ws__header_end(const char *buf, size_t len) {
    size_t i;
    for (i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* The header fields the handshake checks, noted in one pass over the
 * lines instead of one search per check. */
enum {
    WS__H_HOST, WS__H_UPGRADE, WS__H_CONNECTION, WS__H_VERSION, WS__H_KEY, WS__H_ORIGIN,
    WS__H_PROTOCOL, WS__H_ACCEPT, WS__H_EXTENSIONS, WS__H_KNOWN
};
typedef struct ws__fields {
    const char *value[WS__H_KNOWN]; /* the first line of each field, or NULL */
    unsigned char lines[WS__H_KNOWN]; /* how many lines (counting stops at 2) */
    unsigned char websocket;        /* an Upgrade line lists websocket */
    unsigned char upgrade;          /* a Connection line lists upgrade */
} ws__fields;

/* A field sent on several lines is one comma-separated list (RFC 9110
 * section 5.3), so the token checks look at every line. */
static void ws__note_field(ws__fields *f, const char *name, const char *value) {
    /* One array rather than a table of pointers to literals: literals that
     * data points at share a section with unrelated strings, and a linker
     * that drops unused sections would then have to keep them all. */
    static const char known[] = "Host\0Upgrade\0Connection\0Sec-WebSocket-Version\0Sec-WebSocket-Key\0Origin\0"
                                "Sec-WebSocket-Protocol\0Sec-WebSocket-Accept\0Sec-WebSocket-Extensions";
    const char *s = known;
    unsigned k;
    for (k = 0; k < WS__H_KNOWN && !ws__strieq(name, s); k++) s += WS_STRLEN(s) + 1;
    if (k == WS__H_KNOWN) return;
    if (!f->value[k]) f->value[k] = value;
    if (f->lines[k] < 2) f->lines[k]++;
    if (k == WS__H_UPGRADE) f->websocket |= (unsigned char)ws_token_list_has(value, "websocket", 1);
    if (k == WS__H_CONNECTION) f->upgrade |= (unsigned char)ws_token_list_has(value, "upgrade", 1);
}

/* Splits the header lines of a block (after the start line) in place and
 * notes the fields the handshake checks in f. p points at the first header
 * line, end just past the blank line. Returns 0, or 400/431 with *why. */
WS__UNUSED static int ws__parse_headers(char *p, char *end, ws_header *h, unsigned *count, ws__fields *f,
                                        const char **why) {
    *count = 0;
    WS_MEMSET(f, 0, sizeof *f);
    while (p < end) {
        char *name = p, *value, *vend;
        if (p[0] == '\r' && p + 1 < end && p[1] == '\n') return 0; /* the blank line */
        if (*p == ' ' || *p == '\t') return *why = WS__WHY("obsolete header line folding"), 400;
        while (p < end && ws__is_tchar((unsigned char)*p)) p++;
        if (p == name || p >= end || *p != ':') return *why = WS__WHY("malformed header line"), 400;
        *p++ = '\0';
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        value = p;
        while (p < end && *p != '\r') {
            unsigned char ch = (unsigned char)*p;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return *why = WS__WHY("control character in a header"), 400;
            p++;
        }
        if (p + 1 >= end || p[1] != '\n') return *why = WS__WHY("header line not ended by CRLF"), 400;
        vend = p;
        while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t')) vend--;
        *vend = '\0';
        p += 2;
        if (*count == WS_MAX_HEADERS) return *why = WS__WHY("too many header lines"), 431;
        h[*count].name = name;
        h[*count].value = value;
        (*count)++;
        ws__note_field(f, name, value);
    }
    return *why = WS__WHY("header block not terminated"), 400;
}

/* "HTTP/x.y": returns 1 and the two digits, else 0. */
WS__UNUSED static int ws__http_version(const char *p, unsigned *major, unsigned *minor) {
    if (WS_MEMCMP(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' ||
        p[7] > '9')
        return 0;
    *major = (unsigned)(p[5] - '0'), *minor = (unsigned)(p[7] - '0');
    return 1;
}

WS__UNUSED static int ws__locate_block(const char *buf, size_t len, size_t max_header, size_t *block) {
    if (max_header == 0) max_header = 8192;
    *block = ws__header_end(buf, len < max_header ? len : max_header);
    if (*block) return 0;
    return len >= max_header ? WS_E_TOO_BIG : WS_E_INCOMPLETE;
}

#ifndef WS_NO_SERVER
/* base64 of exactly 16 bytes: 22 alphabet characters, the last of which
 * carries 2 bits (so its low 4 are zero, as canonical base64 has them),
 * then "==". Checked without decoding, which keeps the decoder out of a
 * server that does not otherwise need it. */
static int ws__key_valid(const char *k) {
    unsigned i;
    for (i = 0; i < 22; i++)
        if (ws__b64_value((unsigned char)k[i]) < 0) return 0;
    return !(ws__b64_value((unsigned char)k[21]) & 15) && k[22] == '=' && k[23] == '=' && !k[24];
}

WS_DEF int ws_request_parse(char *buf, size_t len, size_t max_header, ws_request *req, int *status,
                            const char **why) {
    size_t block;
    char *p = buf, *end, *sp;
    const char *w = "", *v;
    unsigned major = 0, minor = 0;
    ws__fields f;
    int st = 0, r = ws__locate_block(buf, len, max_header, &block);
    WS_MEMSET(req, 0, sizeof *req);
    if (r == WS_E_INCOMPLETE) {
        /* Bytes that cannot begin a request line are refused now rather
         * than when the handshake times out. */
        while (p < buf + len && ws__is_tchar((unsigned char)*p)) p++;
        if (p == buf + len || (p > buf && *p == ' ')) return r;
        st = 400, w = WS__WHY("malformed request line");
        goto fail;
    }
    if (r == WS_E_TOO_BIG) {
        st = 431, w = WS__WHY("request header block too large");
        goto fail;
    }
    end = buf + block;
    /* Request line: method SP target SP HTTP/x.y CRLF */
    req->method = p;
    while (ws__is_tchar((unsigned char)*p)) p++;
    if (p == buf || *p != ' ') {
        st = 400, w = WS__WHY("malformed request line");
        goto fail;
    }
    *p++ = '\0';
    req->target = p;
    while (p < end && (unsigned char)*p > 0x20 && *p != 0x7f) p++;
    sp = p;
    if (sp == req->target || *sp != ' ' || end - sp < 11 || !ws__http_version(sp + 1, &major, &minor) ||
        sp[9] != '\r' || sp[10] != '\n') {
        st = 400, w = WS__WHY("malformed request line");
        goto fail;
    }
    *sp = '\0';
    req->http_minor = minor;
    if (WS_MEMCMP(req->method, "GET", 4) != 0) { /* methods are case-sensitive */
        st = 405, w = WS__WHY("method is not GET");
        goto fail;
    }
    if (major < 1 || (major == 1 && minor < 1)) {
        st = 400, w = WS__WHY("HTTP version older than 1.1");
        goto fail;
    }
    st = ws__parse_headers(sp + 11, end, req->headers, &req->num_headers, &f, &w);
    if (st) goto fail;
    req->host = f.value[WS__H_HOST];
    req->key = f.value[WS__H_KEY];
    req->origin = f.value[WS__H_ORIGIN];
    st = 400;
    if (f.lines[WS__H_HOST] != 1) {
        w = WS__WHY("missing or repeated Host header");
        goto fail;
    }
    if (!f.websocket) {
        w = WS__WHY("Upgrade header does not name websocket");
        goto fail;
    }
    if (!f.upgrade) {
        w = WS__WHY("Connection header does not contain Upgrade");
        goto fail;
    }
    v = f.value[WS__H_VERSION];
    if (f.lines[WS__H_VERSION] != 1 || v[0] != '1' || v[1] != '3' || v[2]) {
        st = 426, w = WS__WHY("Sec-WebSocket-Version is not 13");
        goto fail;
    }
    if (f.lines[WS__H_KEY] != 1 || !ws__key_valid(f.value[WS__H_KEY])) {
        w = WS__WHY("Sec-WebSocket-Key is not base64 of 16 bytes");
        goto fail;
    }
    *status = 101;
    return (int)block;
fail:
    *status = st;
    if (why) *why = w;
    return WS_E_HANDSHAKE;
}
#endif

#ifndef WS_NO_CLIENT
WS_DEF int ws_response_parse(char *buf, size_t len, size_t max_header, const char *key,
                             const char *protocols, ws_response *resp, const char **why) {
    size_t block;
    char *p = buf, *end, expect[WS_ACCEPT_LEN + 1];
    const char *w, *v;
    unsigned major = 0, minor = 0, code = 0, i, st;
    ws__fields f;
    int r = ws__locate_block(buf, len, max_header, &block);
    WS_MEMSET(resp, 0, sizeof *resp);
    w = WS__WHY("malformed status line");
    /* Anything but the start of a status line is refused at once. */
    if (r == WS_E_INCOMPLETE) {
        if (WS_MEMCMP(buf, "HTTP/", len < 5 ? len : 5) == 0) return r;
        goto fail;
    }
    if (r == WS_E_TOO_BIG) {
        w = WS__WHY("response header block too large");
        goto fail;
    }
    end = buf + block;
    /* Status line: HTTP/x.y SP 3DIGIT SP reason CRLF */
    if (block < 14 || !ws__http_version(p, &major, &minor) || p[8] != ' ') goto fail;
    for (i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9') goto fail;
        code = code * 10 + (unsigned)(p[i] - '0');
    }
    if (p[12] != ' ' && p[12] != '\r') goto fail;
    resp->status = (int)code;
    p += 12;
    if (*p == ' ') p++;
    resp->reason = p;
    while (p < end && *p != '\r') {
        if ((unsigned char)*p < 0x20 && *p != '\t') goto fail;
        p++;
    }
    if (p + 1 >= end || p[1] != '\n') goto fail;
    *p = '\0';
    p += 2;
    if (major != 1 || minor < 1) {
        w = WS__WHY("response is not HTTP/1.1");
        goto fail;
    }
    if (code != 101) {
        w = WS__WHY("server answered with an HTTP status other than 101");
        goto fail;
    }
    st = (unsigned)ws__parse_headers(p, end, resp->headers, &resp->num_headers, &f, &w);
    if (st) goto fail;
    if (!f.websocket) {
        w = WS__WHY("Upgrade header does not name websocket");
        goto fail;
    }
    if (!f.upgrade) {
        w = WS__WHY("Connection header does not contain Upgrade");
        goto fail;
    }
    resp->accept = f.value[WS__H_ACCEPT];
    ws_accept_key(key, WS_STRLEN(key), expect);
    if (f.lines[WS__H_ACCEPT] != 1 || WS_STRLEN(resp->accept) != WS_ACCEPT_LEN ||
        WS_MEMCMP(resp->accept, expect, WS_ACCEPT_LEN) != 0) {
        w = WS__WHY("Sec-WebSocket-Accept does not match the key");
        goto fail;
    }
    v = f.value[WS__H_PROTOCOL];
    if (v) {
        if (f.lines[WS__H_PROTOCOL] != 1 || !*v ||
            !protocols || !ws_token_list_has(protocols, v, 0)) {
            w = WS__WHY("server chose a subprotocol that was not offered");
            goto fail;
        }
        for (i = 0; v[i]; i++)
            if (v[i] == ',' || v[i] == ' ' || v[i] == '\t') {
                w = WS__WHY("server chose more than one subprotocol");
                goto fail;
            }
        resp->subprotocol = v;
    }
    if (f.lines[WS__H_EXTENSIONS]) {
        w = WS__WHY("server chose an extension that was not offered");
        goto fail;
    }
    return (int)block;
fail:
    if (why) *why = w;
    return WS_E_HANDSHAKE;
}
#endif

/* A bounded string builder: appends stop at the capacity and remember it. */
typedef struct ws__sb {
    char *p;
    size_t cap, len;
    int overflow;
} ws__sb;

static void ws__sb_add(ws__sb *b, const char *s, size_t n) {
    if (b->overflow || n >= b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    WS_MEMCPY(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}
WS__UNUSED static void ws__sb_str(ws__sb *b, const char *s) { ws__sb_add(b, s, WS_STRLEN(s)); }
/* Decimal by subtraction: a Cortex-M0 has no divide instruction, and the
 * numbers written here (ports, statuses) are below 100000. */
WS__UNUSED static void ws__sb_uint(ws__sb *b, unsigned v) {
    static const unsigned short pow10[5] = {10000, 1000, 100, 10, 1};
    char d[5];
    size_t n = 0;
    unsigned i;
    for (i = 0; i < 5; i++) {
        char digit = '0';
        while (v >= pow10[i]) v -= pow10[i], digit++;
        if (n || digit != '0' || i == 4) d[n++] = digit;
    }
    ws__sb_add(b, d, n);
}
WS__UNUSED static int ws__sb_done(ws__sb *b) { return b->overflow || b->len > 0x7fffffffu ? WS_E_NOMEM : (int)b->len; }


/* Text going into a header must not smuggle in line breaks. */
WS__UNUSED static int ws__header_safe(const char *s) {
    if (!s) return 1;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n') return 0;
    return 1;
}

/* Extra header lines: each "Name: value\r\n", so no blank line inside. */
WS__UNUSED static int ws__extra_safe(const char *s) {
    size_t n;
    if (!s || !*s) return 1;
    n = WS_STRLEN(s);
    if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n' || s[0] == '\r') return 0;
    for (; *s; s++)
        if (s[0] == '\n' && s[1] == '\r') return 0;
    return 1;
}

#ifndef WS_NO_CLIENT
static int ws__has_colon(const char *s) {
    for (; *s; s++)
        if (*s == ':') return 1;
    return 0;
}

WS_DEF int ws_request_build(char *out, size_t cap, const ws_client_options *opt, const char *key) {
    ws__sb b;
    const char *path = opt->path && *opt->path ? opt->path : "/";
    unsigned default_port = opt->secure ? 443u : 80u;
    if (!cap || !opt->host || !*opt->host || !ws__header_safe(opt->host) || !ws__header_safe(path) ||
        !ws__header_safe(opt->origin) || !ws__header_safe(opt->subprotocols) ||
        !ws__extra_safe(opt->extra_headers) || opt->port > 65535u)
        return WS_E_INVALID;
    b.p = out, b.cap = cap, b.len = 0, b.overflow = 0;
    out[0] = '\0';
    ws__sb_str(&b, "GET ");
    if (path[0] != '/') ws__sb_str(&b, "/");
    ws__sb_str(&b, path);
    ws__sb_str(&b, " HTTP/1.1\r\nHost: ");
    if (opt->host[0] != '[' && ws__has_colon(opt->host)) { /* an IPv6 literal */
        ws__sb_str(&b, "["), ws__sb_str(&b, opt->host), ws__sb_str(&b, "]");
    } else {
        ws__sb_str(&b, opt->host);
    }
    if (opt->port && opt->port != default_port) ws__sb_str(&b, ":"), ws__sb_uint(&b, opt->port);
    ws__sb_str(&b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    ws__sb_str(&b, key);
    ws__sb_str(&b, "\r\nSec-WebSocket-Version: 13\r\n");
    if (opt->origin) ws__sb_str(&b, "Origin: "), ws__sb_str(&b, opt->origin), ws__sb_str(&b, "\r\n");
    if (opt->subprotocols && *opt->subprotocols)
        ws__sb_str(&b, "Sec-WebSocket-Protocol: "), ws__sb_str(&b, opt->subprotocols),
            ws__sb_str(&b, "\r\n");
    if (opt->extra_headers) ws__sb_str(&b, opt->extra_headers);
    ws__sb_str(&b, "\r\n");
    return ws__sb_done(&b);
}
#endif

WS_DEF const char *ws_http_reason(int status) {
#ifdef WS_SMALL
    (void)status;
    return ""; /* an empty reason phrase is valid HTTP/1.1 */
#else
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
#endif
}

#ifndef WS_NO_SERVER
WS_DEF int ws_response_build(char *out, size_t cap, const char *key, const char *subprotocol,
                             const char *extra_headers) {
    ws__sb b;
    char accept[WS_ACCEPT_LEN + 1];
    if (!cap || !ws__header_safe(subprotocol) || !ws__extra_safe(extra_headers)) return WS_E_INVALID;
    b.p = out, b.cap = cap, b.len = 0, b.overflow = 0;
    out[0] = '\0';
    ws_accept_key(key, WS_STRLEN(key), accept);
    ws__sb_str(&b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: ");
    ws__sb_str(&b, accept);
    ws__sb_str(&b, "\r\n");
    if (subprotocol && *subprotocol)
        ws__sb_str(&b, "Sec-WebSocket-Protocol: "), ws__sb_str(&b, subprotocol), ws__sb_str(&b, "\r\n");
    if (extra_headers) ws__sb_str(&b, extra_headers);
    ws__sb_str(&b, "\r\n");
    return ws__sb_done(&b);
}

WS_DEF int ws_error_response_build(char *out, size_t cap, int status, const char *extra_headers) {
    ws__sb b;
    if (!cap || status < 100 || status > 999 || !ws__extra_safe(extra_headers)) return WS_E_INVALID;
    b.p = out, b.cap = cap, b.len = 0, b.overflow = 0;
    out[0] = '\0';
    ws__sb_str(&b, "HTTP/1.1 ");
    ws__sb_uint(&b, (unsigned)status);
    ws__sb_str(&b, " ");
    ws__sb_str(&b, ws_http_reason(status));
    ws__sb_str(&b, "\r\n");
    if (status == 426) ws__sb_str(&b, "Sec-WebSocket-Version: 13\r\n");
    if (status == 405) ws__sb_str(&b, "Allow: GET\r\n");
    ws__sb_str(&b, "Connection: close\r\nContent-Length: 0\r\n");
    if (extra_headers) ws__sb_str(&b, extra_headers);
    ws__sb_str(&b, "\r\n");
    return ws__sb_done(&b);
}
#endif

/* ===========================================================================
 * Connection engine: the sans-I/O state machine for both roles. Bytes come
 * in through io->recv or ws_feed into the receive buffer, are parsed and
 * unmasked in place and handed to the callbacks; bytes go out through
 * io->send/sendv, and only what the transport does not take is queued.
 *
 * Receive buffer layout (offsets into c->rx):
 *   [msg_off, msg_off + msg_len)  the whole message assembled so far
 *   [rx_rd, rx_wr)                bytes not yet parsed
 * A fragment's payload is moved down to the end of the message as it
 * arrives, so a message that came in one frame is never copied.
 * ========================================================================= */

#define WS__F_CLOSE_SENT 1u
#define WS__F_CLOSE_RCVD 2u
#define WS__F_DROP 4u       /* close the transport once the queue is flushed */
#define WS__F_EOF 8u        /* the transport ended */
#define WS__F_REASON_RX 16u /* the peer's close reason lives at rx[0] */
#define WS__F_CLOSE_CB 32u  /* on_close was delivered */
#define WS__F_IO_DEAD 64u   /* the transport failed: nothing more to send */
#define WS__F_CLOSE_OWED 128u /* the close reply waits for room in the queue */
#define WS__F_DISCARD 256u    /* client failed: ignore input until the server closes */
#define WS__REASON_AREA 128u

#define WS__MIB ((size_t)1 << 20)
#define WS__EAGER_GROW ((uint64_t)1 << 20) /* see ws__on_header */

#ifndef WS_CORK_FRAMES
#ifdef WS_SMALL /* batching saves system calls, which firmware does not make */
#define WS_CORK_FRAMES 0
#else
#define WS_CORK_FRAMES 16
#endif
#endif
#if WS_CORK_FRAMES > 0 && !defined(WS_NO_SERVER)
#define WS__CORK 1
#else
#define WS__CORK 0
#endif

#if WS__CORK
/* Server frames sent while one read is processed, written together when
 * the read is done: an echo of several small messages costs one vectored
 * write, and payloads are taken from the receive buffer without a copy. */
typedef struct ws__cork {
    ws_iovec iov[2 * WS_CORK_FRAMES];
    unsigned char hdr[WS_CORK_FRAMES][WS_FRAME_HEADER_MAX];
    const void *text; /* the text message on_message is being given, or NULL */
    size_t text_len, bytes;
    int frames, n;
} ws__cork;
#endif

static uint64_t ws__now(const ws_conn *c) { return c->io->now_ms ? c->io->now_ms(c->io_user) : 0; }

/* WS_NO_ALLOC: buffers come only from ws_conn_set_buffers, so everything
 * that grows, shrinks or gives back a buffer compiles away. */
#ifdef WS_NO_ALLOC
#define WS__CAN_ALLOC 0
#define WS__OWNS_RX(c) 0
#define WS__OWNS_TX(c) 0
#else
#define WS__CAN_ALLOC 1
#define WS__OWNS_RX(c) ((c)->owns_rx)
#define WS__OWNS_TX(c) ((c)->owns_tx)
#endif

static void *ws__alloc(ws_conn *c, void *p, size_t n) {
#ifdef WS_NO_ALLOC
    (void)c, (void)p, (void)n;
    return NULL;
#else
    return c->realloc_fn ? c->realloc_fn(c->cfg->alloc_user, p, n) : NULL;
#endif
}

static size_t ws__max_header(const ws_conn *c) {
    size_t m = c->cfg->max_header ? c->cfg->max_header : 8192;
    if (!WS__OWNS_RX(c) && m > c->rx_cap) m = c->rx_cap;
    return m;
}

/* The largest whole message: the configured one, bounded by a fixed
 * buffer less room for a control frame between fragments. */
static uint64_t ws__max_message(const ws_conn *c) {
    uint64_t m = c->cfg->max_message;
    if (c->cfg->on_fragment) return m ? m : UINT64_MAX;
    if (!m) m = WS__OWNS_RX(c) || !c->rx ? 16 * WS__MIB : UINT64_MAX;
    if (!WS__OWNS_RX(c) && c->rx) {
        uint64_t fit = c->rx_cap > WS_RX_RESERVE ? c->rx_cap - WS_RX_RESERVE : 0;
        if (m > fit) m = fit;
    }
    return m;
}

/* Bytes of the message in progress that sit in the receive buffer; with
 * streaming delivery msg_len only counts what was delivered. */
static size_t ws__msg_held(const ws_conn *c) { return c->cfg->on_fragment ? 0 : c->msg_len; }

/* ---- closing ---- */

/* Entering CLOSING: the closing handshake gets close_timeout_ms to finish. */
static void ws__closing_deadline(ws_conn *c) {
    if (c->io->now_ms && !c->deadline)
        c->deadline = ws__now(c) + (c->cfg->close_timeout_ms ? c->cfg->close_timeout_ms : 5000);
}

static void ws__closed(ws_conn *c) {
    if (c->state == WS_CLOSED && (c->flags & WS__F_CLOSE_CB)) return;
    c->state = WS_CLOSED;
    c->deadline = 0;
    if (!(c->flags & WS__F_CLOSE_CB)) {
        c->flags |= WS__F_CLOSE_CB;
        if (!c->close_code) c->close_code = WS_CLOSE_ABNORMAL;
        if (c->cfg->on_close) c->cfg->on_close(c, c->close_code, c->reason ? c->reason : "");
    }
}

static void ws__error(ws_conn *c, int err, const char *why) {
    c->reason = why;
    if (c->cfg->on_error) c->cfg->on_error(c, err, why);
}

/* The transport failed or ended: nothing more can be exchanged. */
static void ws__dead(ws_conn *c, int err, const char *why) {
    c->flags |= WS__F_IO_DEAD;
    if (err) ws__error(c, err, why);
    else if (!c->reason) c->reason = why;
    ws__closed(c);
}

/* ---- sending ---- */

static ptrdiff_t ws__writev(ws_conn *c, const ws_iovec *iov, int n) {
    ptrdiff_t total = 0, r;
    int i;
    if (c->io->sendv) return c->io->sendv(c->io_user, iov, n);
    for (i = 0; i < n; i++) {
        if (!iov[i].len) continue;
        r = c->io->send(c->io_user, iov[i].base, iov[i].len);
        if (r < 0) return total ? total : r;
        total += r;
        if ((size_t)r < iov[i].len) break;
    }
    return total;
}

/* Room for `need` more contiguous bytes at the end of the send queue,
 * within the queue's bound. */
static size_t ws__send_bound(const ws_conn *c);

static int ws__tx_reserve(ws_conn *c, size_t need) {
    size_t bound = ws__send_bound(c);
    if (need > bound || c->tx_len > bound - need) return WS_E_FULL;
    if (c->tx_cap - c->tx_head - c->tx_len >= need) return 0;
    if (c->tx_cap - c->tx_len >= need) {
        WS_MEMMOVE(c->tx, c->tx + c->tx_head, c->tx_len);
        c->tx_head = 0;
        return 0;
    }
    if (WS__OWNS_TX(c)) {
        size_t cap = c->tx_cap * 2 > c->tx_len + need ? c->tx_cap * 2 : c->tx_len + need;
        unsigned char *p;
        if (cap < 1024) cap = 1024;
        if (cap > bound) cap = bound;
        if (c->tx_head) WS_MEMMOVE(c->tx, c->tx + c->tx_head, c->tx_len), c->tx_head = 0;
        p = (unsigned char *)ws__alloc(c, c->tx, cap);
        if (!p) return WS_E_NOMEM;
        c->tx = p, c->tx_cap = cap;
        return 0;
    }
    return WS_E_FULL;
}

static void ws__tx_append(ws_conn *c, const void *p, size_t n) {
    if (!n) return;
    WS_MEMCPY(c->tx + c->tx_head + c->tx_len, p, n);
    c->tx_len += n;
}

/* Room to build a handshake message in: an owned queue grows to the
 * estimate, a fixed one offers all it has and the builder says whether
 * that is enough (0: no room at all). */
WS__UNUSED static size_t ws__tx_text_room(ws_conn *c, size_t estimate) {
    if (WS__OWNS_TX(c)) return ws__tx_reserve(c, estimate) < 0 ? 0 : estimate;
    if (c->tx_head) WS_MEMMOVE(c->tx, c->tx + c->tx_head, c->tx_len), c->tx_head = 0;
    return c->tx_cap - c->tx_len;
}

static void ws__tx_release_idle(ws_conn *c) {
    if (WS__OWNS_TX(c) && c->tx && !c->tx_len) {
        ws__alloc(c, c->tx, 0);
        c->tx = NULL, c->tx_cap = 0, c->tx_head = 0;
    }
}

static int ws__send_close(ws_conn *c, unsigned code, const char *reason, size_t rlen);

WS_DEF int ws_flush(ws_conn *c) {
    if (c->state == WS_CLOSED) return WS_E_CLOSED; /* the host may have closed the transport */
    while (c->tx_len && !(c->flags & WS__F_IO_DEAD)) {
        ptrdiff_t n = c->io->send(c->io_user, c->tx + c->tx_head, c->tx_len);
        if (n == WS_E_AGAIN || n == 0) return WS_E_AGAIN;
        if (n < 0) {
            ws__dead(c, WS_E_IO, WS__WHY("transport send failed"));
            break;
        }
        c->tx_head += (size_t)n, c->tx_len -= (size_t)n;
    }
    if (!c->tx_len) c->tx_head = 0;
    if ((c->flags & WS__F_CLOSE_OWED) && !c->tx_len && !(c->flags & WS__F_IO_DEAD)) {
        /* The peer's close came while the queue was full; answer it now. */
        c->flags &= (unsigned short)~WS__F_CLOSE_OWED;
        if (ws__send_close(c, c->close_code == WS_CLOSE_NO_STATUS ? 0u : c->close_code, "", 0) == WS_E_CLOSED)
            return WS_E_CLOSED;
    }
    if ((c->flags & WS__F_IO_DEAD) || (!c->tx_len && (c->flags & WS__F_DROP))) ws__closed(c);
    return c->state == WS_CLOSED ? WS_E_CLOSED : 0;
}

static size_t ws__send_bound(const ws_conn *c) {
    return WS__OWNS_TX(c) ? (c->cfg->max_send_buffer ? c->cfg->max_send_buffer : 16 * WS__MIB) : c->tx_cap;
}

#if WS__CORK
/* Writes the batched frames; what the transport does not take is queued. */
static void ws__uncork(ws_conn *c) {
    ws__cork *k = (ws__cork *)c->cork;
    ptrdiff_t n;
    size_t done;
    int i;
    if (!k || !k->frames) return;
    n = ws__writev(c, k->iov, k->n);
    done = n > 0 ? (size_t)n : 0;
    if (n < 0 && n != WS_E_AGAIN) ws__dead(c, WS_E_IO, WS__WHY("transport send failed"));
    else if (done < k->bytes && ws__tx_reserve(c, k->bytes - done) < 0)
        ws__dead(c, WS_E_NOMEM, WS__WHY("out of memory while queueing a frame"));
    else
        for (i = 0; i < k->n; i++) {
            size_t skip = done < k->iov[i].len ? done : k->iov[i].len;
            done -= skip;
            ws__tx_append(c, (const unsigned char *)k->iov[i].base + skip, k->iov[i].len - skip);
        }
    k->frames = k->n = 0;
    k->bytes = 0;
}

/* Whether a payload may wait for the end of the read: it must lie in the
 * parsed part of the receive buffer, below anything that processing the
 * rest of the read could move (a fragmented message being assembled). */
static int ws__corkable(const ws_conn *c, const void *data, size_t len) {
    size_t below = c->msg_op && !c->cfg->on_fragment ? c->msg_off : c->rx_rd, off;
    ws__cork *k = (ws__cork *)c->cork;
    if (!k || k->frames >= WS_CORK_FRAMES) return 0;
    if (!len) return 1;
    if (!c->rx || (uintptr_t)data < (uintptr_t)c->rx || (uintptr_t)data >= (uintptr_t)(c->rx + c->rx_cap))
        return 0;
    off = (size_t)((uintptr_t)data - (uintptr_t)c->rx);
    return off <= below && len <= below - off;
}

/* Whether data is, whole, the text message on_message is being given. It
 * was validated on the way in; validating an echo of it again would cost
 * as much once more. */
static int ws__known_text(const ws_conn *c, const void *data, size_t len) {
    const ws__cork *k = (const ws__cork *)c->cork;
    return k && k->text == data && k->text_len == len;
}
#else
#define ws__uncork(c) ((void)0)
#define ws__known_text(c, data, len) 0
#endif

/* Puts one frame on the wire or in the queue, never half: the room for all
 * of it is checked first. A server with an empty queue writes header and
 * payload in one vectored call straight from the caller's buffer; a client
 * masks into the queue (the caller's buffer stays untouched). */
static int ws__send_frame(ws_conn *c, int opcode, int fin, const void *data, size_t len) {
    unsigned char hdr[WS_FRAME_HEADER_MAX], key[4];
    size_t hl, done = 0;
    int r;
    if (c->flags & WS__F_IO_DEAD) return WS_E_CLOSED;
    if (!c->server) {
        if (!c->io->random || c->io->random(c->io_user, key, 4) != 0) return WS_E_RANDOM;
        hl = ws_frame_write(hdr, fin, 0, opcode, len, key);
    } else {
        hl = ws_frame_write(hdr, fin, 0, opcode, len, NULL);
    }
    if (len > SIZE_MAX - hl || hl + len > ws__send_bound(c)) return WS_E_TOO_BIG; /* never fits */
#if WS__CORK
    if (c->cork) { /* only a server inside ws__process batches */
        ws__cork *k = (ws__cork *)c->cork;
        /* A batch forms only while nothing is queued, so order is kept. */
        if ((k->frames || !c->tx_len) && ws__corkable(c, data, len) && hl + len <= ws__send_bound(c) - k->bytes) {
            WS_MEMCPY(k->hdr[k->frames], hdr, hl);
            k->iov[k->n].base = k->hdr[k->frames], k->iov[k->n++].len = hl;
            if (len) k->iov[k->n].base = data, k->iov[k->n++].len = len;
            k->frames++, k->bytes += hl + len;
            return 0;
        }
        ws__uncork(c);
        if (c->flags & WS__F_IO_DEAD) return WS_E_CLOSED;
    }
#endif
    if (c->server && !c->tx_len) {
        /* The bound is checked before writing so the remainder surely fits. */
        ws_iovec iov[2];
        ptrdiff_t n;
        iov[0].base = hdr, iov[0].len = hl, iov[1].base = data, iov[1].len = len;
        n = ws__writev(c, iov, len ? 2 : 1);
        if (n < 0 && n != WS_E_AGAIN) {
            ws__dead(c, WS_E_IO, WS__WHY("transport send failed"));
            return WS_E_CLOSED;
        }
        done = n > 0 ? (size_t)n : 0;
        if (done == hl + len) return 0;
    }
    r = ws__tx_reserve(c, hl + len - done);
    if (r < 0) {
        if (!done) return r;
        /* Half a frame is on the wire and the allocator failed: the stream
         * cannot be continued. */
        ws__dead(c, WS_E_NOMEM, WS__WHY("out of memory while queueing a frame"));
        return WS_E_CLOSED;
    }
    if (done < hl) ws__tx_append(c, hdr + done, hl - done), done = hl;
    if (c->server) {
        if (len > done - hl) ws__tx_append(c, (const unsigned char *)data + (done - hl), len - (done - hl));
    } else if (len) {
        ws_mask_copy(c->tx + c->tx_head + c->tx_len, data, len, key, 0);
        c->tx_len += len;
    }
    r = ws_flush(c);
    return r == WS_E_CLOSED ? r : 0;
}

WS_DEF int ws_send_frame(ws_conn *c, int opcode, const void *data, size_t len, int fin) {
    int r;
    if ((!data && len) || opcode < 0 || (opcode > WS_OP_BINARY && opcode < WS_OP_PING) || opcode > WS_OP_PONG)
        return WS_E_INVALID;
    if (c->state != WS_OPEN) return WS_E_STATE;
    if (opcode == WS_OP_PING || opcode == WS_OP_PONG) {
        if (len > 125 || !fin) return WS_E_INVALID;
        return ws__send_frame(c, opcode, 1, data, len);
    }
    if (opcode == WS_OP_CONTINUATION ? !c->send_op
                                     : (opcode != WS_OP_TEXT && opcode != WS_OP_BINARY) || c->send_op)
        return WS_E_STATE;
    if ((opcode == WS_OP_TEXT || c->send_op == WS_OP_TEXT)) {
        ws_utf8_state st = opcode == WS_OP_TEXT ? WS_UTF8_ACCEPT : c->send_utf8;
        if (!(opcode == WS_OP_TEXT && fin && ws__known_text(c, data, len)) &&
            (ws_utf8_feed(&st, data, len, NULL) < 0 || (fin && st != WS_UTF8_ACCEPT)))
            return WS_E_UTF8;
        r = ws__send_frame(c, opcode, fin, data, len);
        if (r == 0) c->send_utf8 = st;
    } else {
        r = ws__send_frame(c, opcode, fin, data, len);
    }
    if (r == 0) c->send_op = fin ? 0 : (unsigned char)(c->send_op ? c->send_op : opcode);
    return r;
}

WS_DEF int ws_send(ws_conn *c, int opcode, const void *data, size_t len) {
    if (opcode != WS_OP_TEXT && opcode != WS_OP_BINARY) return WS_E_INVALID;
    return ws_send_frame(c, opcode, data, len, 1);
}

WS_DEF int ws_send_text(ws_conn *c, const char *text) {
    return ws_send_frame(c, WS_OP_TEXT, text, text ? WS_STRLEN(text) : 0, 1);
}

WS_DEF int ws_send_binary(ws_conn *c, const void *data, size_t len) {
    return ws_send_frame(c, WS_OP_BINARY, data, len, 1);
}

WS_DEF int ws_ping(ws_conn *c, const void *data, size_t len) {
    return ws_send_frame(c, WS_OP_PING, data, len, 1);
}

static int ws__send_close(ws_conn *c, unsigned code, const char *reason, size_t rlen) {
    unsigned char payload[125];
    int r;
    size_t n = 0;
    if (code) {
        payload[0] = (unsigned char)(code >> 8), payload[1] = (unsigned char)code;
        if (rlen) WS_MEMCPY(payload + 2, reason, rlen);
        n = 2 + rlen;
    }
    r = ws__send_frame(c, WS_OP_CLOSE, 1, payload, n);
    if (r == 0) {
        c->flags |= WS__F_CLOSE_SENT;
        if (c->state == WS_OPEN) c->state = WS_CLOSING;
    }
    return r;
}

WS_DEF int ws_close(ws_conn *c, int code, const char *reason) {
    size_t rlen = reason ? WS_STRLEN(reason) : 0;
    int r;
    if (c->state == WS_CONNECTING) {
        c->close_code = WS_CLOSE_ABNORMAL;
        c->reason = WS__WHY("closed before the handshake completed");
        c->flags |= WS__F_DROP;
        ws__closed(c);
        return 0;
    }
    if (c->state != WS_OPEN) return WS_E_STATE;
    if ((code && !ws_close_code_valid((unsigned)code)) || (!code && rlen) || rlen > 123 ||
        ws_utf8_validate(reason, rlen, NULL) < 0)
        return WS_E_INVALID;
    r = ws__send_close(c, (unsigned)code, reason, rlen);
    if (r == 0) {
        if (!(c->flags & WS__F_CLOSE_RCVD)) c->close_code = (unsigned short)(code ? code : WS_CLOSE_NO_STATUS);
        ws__closing_deadline(c);
    }
    return r;
}

/* _Fail the WebSocket Connection_ (RFC 6455 section 7.1.7): report, send a
 * close frame with the code if one can still go out, drop the transport once
 * it is flushed, and ignore whatever else the peer sends. */
static void ws__fail(ws_conn *c, int err, unsigned code, const char *why) {
    if (c->flags & (WS__F_DROP | WS__F_DISCARD)) return; /* the first failure is the one reported */
    c->close_code = (unsigned short)code;
    c->reason = why;
    if (c->state == WS_OPEN || (c->state == WS_CLOSING && !(c->flags & WS__F_CLOSE_SENT))) {
        size_t rlen = WS_STRLEN(why);
        (void)ws__send_close(c, code, why, rlen > 123 ? 123 : rlen);
        if (c->state == WS_CLOSED) return; /* that send found the transport dead: reported already */
    }
    if (c->state != WS_CLOSED) c->state = WS_CLOSING, ws__closing_deadline(c);
    /* A server drops the transport once the close is out; a client lets the
     * server close first (section 7.1.1), or unread bytes would make its
     * kernel reset the connection and lose the close frame. */
    c->flags |= c->server ? WS__F_DROP : WS__F_DISCARD;
    c->rx_rd = c->rx_wr;
    /* Reported last, so the event already sees readyState CLOSING. */
    if (c->cfg->on_error) c->cfg->on_error(c, err, why);
}

/* ---- receiving ---- */

static void ws__on_close_frame(ws_conn *c, const unsigned char *p, size_t len) {
    unsigned code = len >= 2 ? (unsigned)p[0] << 8 | p[1] : (unsigned)WS_CLOSE_NO_STATUS;
    if (len == 1) {
        ws__fail(c, WS_E_PROTOCOL, WS_CLOSE_PROTOCOL, WS__WHY("close frame with a 1-byte payload"));
        return;
    }
    if (len >= 2 && !ws_close_code_valid(code)) {
        ws__fail(c, WS_E_PROTOCOL, WS_CLOSE_PROTOCOL, WS__WHY("invalid close code"));
        return;
    }
    if (len > 2 && ws_utf8_validate(p + 2, len - 2, NULL) < 0) {
        ws__fail(c, WS_E_UTF8, WS_CLOSE_INVALID_DATA, WS__WHY("close reason is not valid UTF-8"));
        return;
    }
    /* Keep the reason at the front of the buffer for on_close: nothing else
     * is parsed once the close arrived. Batched frames may point there. */
    ws__uncork(c);
    if (c->flags & WS__F_IO_DEAD) return;
    c->flags |= WS__F_CLOSE_RCVD | WS__F_REASON_RX;
    if (len > 2) WS_MEMMOVE(c->rx, p + 2, len - 2);
    c->rx[len > 2 ? len - 2 : 0] = '\0';
    c->reason = (const char *)c->rx;
    c->rx_rd = c->rx_wr = WS__REASON_AREA;
    c->msg_off = c->msg_len = 0;
    c->close_code = (unsigned short)code;
    if (!(c->flags & WS__F_CLOSE_SENT) &&
        ws__send_close(c, code == WS_CLOSE_NO_STATUS ? 0 : code, "", 0) == WS_E_FULL)
        c->flags |= WS__F_CLOSE_OWED; /* answered by ws_flush once there is room */
    c->state = WS_CLOSING;
    /* The server closes the TCP connection first (section 7.1.1); the
     * client waits for that, within the close timeout. */
    if (c->server) c->flags |= WS__F_DROP;
    ws__closing_deadline(c);
}

static void ws__on_control(ws_conn *c, int opcode, const unsigned char *p, size_t len) {
    if (opcode == WS_OP_CLOSE) {
        ws__on_close_frame(c, p, len);
    } else if (opcode == WS_OP_PING) {
        if (c->cfg->on_ping) c->cfg->on_ping(c, p, len);
        if (!c->cfg->no_auto_pong && c->state == WS_OPEN) (void)ws__send_frame(c, WS_OP_PONG, 1, p, len);
    } else {
        c->pong_due = 0;
        if (c->cfg->ping_interval_ms) c->next_ping = ws__now(c) + c->cfg->ping_interval_ms;
        if (c->cfg->on_pong) c->cfg->on_pong(c, p, len);
    }
}

/* A new frame header at rx_rd. Returns 1 to go on, 0 for more bytes. */
static int ws__on_header(ws_conn *c) {
    ws_frame_header h;
    const char *why = NULL;
    size_t avail = c->rx_wr - c->rx_rd;
    uint64_t limit, frame_limit;
    int n = ws_frame_parse(c->rx + c->rx_rd, avail, &h);
    if (n == WS_E_INCOMPLETE) return 0;
    if (n < 0) return ws__fail(c, WS_E_PROTOCOL, WS_CLOSE_PROTOCOL, WS__WHY("frame length with the top bit set")), 0;
    if (ws_frame_check(&h, c->server, &why) < 0) return ws__fail(c, WS_E_PROTOCOL, WS_CLOSE_PROTOCOL, why), 0;
    if (h.opcode >= 8) {
        unsigned char *p = c->rx + c->rx_rd + n;
        if (avail - (size_t)n < h.payload_len) return 0; /* a control frame is handled whole */
        if (h.masked) ws_mask(p, (size_t)h.payload_len, h.mask_key, 0);
        c->rx_rd += (size_t)n + (size_t)h.payload_len;
        ws__on_control(c, h.opcode, p, (size_t)h.payload_len);
        return 1;
    }
    if (h.opcode == WS_OP_CONTINUATION && !c->msg_op)
        return ws__fail(c, WS_E_PROTOCOL, WS_CLOSE_PROTOCOL, WS__WHY("continuation frame without a message to continue")), 0;
    if (h.opcode != WS_OP_CONTINUATION && c->msg_op)
        return ws__fail(c, WS_E_PROTOCOL, WS_CLOSE_PROTOCOL, WS__WHY("new message inside a fragmented message")), 0;
    limit = ws__max_message(c);
    frame_limit = c->cfg->max_frame ? c->cfg->max_frame : limit;
    if (h.payload_len > frame_limit)
        return ws__fail(c, WS_E_TOO_BIG, WS_CLOSE_TOO_BIG, WS__WHY("frame exceeds the size limit")), 0;
    if (h.opcode != WS_OP_CONTINUATION) {
        c->msg_op = h.opcode;
        c->msg_first = 1;
        c->utf8 = WS_UTF8_ACCEPT;
        c->msg_len = 0;
        c->msg_off = c->rx_rd + (size_t)n;
    }
    if (h.payload_len > limit - c->msg_len)
        return ws__fail(c, WS_E_TOO_BIG, WS_CLOSE_TOO_BIG, WS__WHY("message exceeds the size limit")), 0;
    if (WS__OWNS_RX(c) && !c->cfg->on_fragment && h.payload_len <= WS__EAGER_GROW &&
        c->rx_rd + (size_t)n + (size_t)h.payload_len + WS_RX_RESERVE > c->rx_cap) {
        /* Take the room the announced frame needs in one step instead of
         * doubling toward it. Bounded, so a bare header cannot make a
         * connection take much more than the data it actually sends. */
        size_t cap = c->rx_rd + (size_t)n + (size_t)h.payload_len + WS_RX_RESERVE;
        unsigned char *q;
        ws__uncork(c); /* batched frames may point into the old buffer */
        if (c->flags & WS__F_IO_DEAD) return 0;
        q = (unsigned char *)ws__alloc(c, c->rx, cap);
        if (q) c->rx = q, c->rx_cap = cap;
    }
    c->rx_rd += (size_t)n;
    c->in_frame = 1;
    c->frame_left = h.payload_len;
    c->frame_fin = h.fin;
    c->frame_key_off = 0;
    WS_MEMCPY(c->frame_key, h.mask_key, 4);
    return 1;
}

/* Payload bytes of the current data frame. Returns 1 to go on, 0 for more. */
static int ws__on_payload(ws_conn *c) {
    size_t avail = c->rx_wr - c->rx_rd, take = avail;
    unsigned char *p = c->rx + c->rx_rd;
    int last, op = c->msg_op;
    if (take > c->frame_left) take = (size_t)c->frame_left;
    if (!take && c->frame_left) return 0;
    if (c->server) c->frame_key_off = (unsigned char)ws_mask(p, take, c->frame_key, c->frame_key_off);
    if (op == WS_OP_TEXT) {
        /* Fail fast: an impossible byte ends the connection at once, even
         * when the rest of the frame has not arrived. */
        if (ws_utf8_feed(&c->utf8, p, take, NULL) < 0)
            return ws__fail(c, WS_E_UTF8, WS_CLOSE_INVALID_DATA, WS__WHY("invalid UTF-8 in a text message")), 0;
    }
    c->frame_left -= take;
    c->rx_rd += take;
    last = c->frame_left == 0 && c->frame_fin;
    if (last && op == WS_OP_TEXT && c->utf8 != WS_UTF8_ACCEPT)
        return ws__fail(c, WS_E_UTF8, WS_CLOSE_INVALID_DATA, WS__WHY("text message ends inside a UTF-8 sequence")), 0;
    if (c->frame_left == 0) c->in_frame = 0;
    if (last) c->msg_op = 0;
    if (c->cfg->on_fragment) {
        c->msg_len += take; /* counts toward max_message only */
        if (take || last || c->msg_first) {
            int flags = (c->msg_first ? WS_FIRST : 0) | (last ? WS_LAST : 0);
            if (!take && !last) return 1; /* nothing to say yet */
            c->msg_first = 0;
            c->cfg->on_fragment(c, op, p, take, flags);
        }
        if (last) c->msg_len = 0;
    } else {
        unsigned char *end = c->rx + c->msg_off + c->msg_len;
        if (take && end != p) WS_MEMMOVE(end, p, take);
        c->msg_len += take;
        if (last) {
            size_t n = c->msg_len;
            c->msg_len = 0;
#if WS__CORK
            if (c->cork && op == WS_OP_TEXT) {
                ((ws__cork *)c->cork)->text = c->rx + c->msg_off;
                ((ws__cork *)c->cork)->text_len = n;
            }
#endif
            if (c->cfg->on_message) c->cfg->on_message(c, op, c->rx + c->msg_off, n);
#if WS__CORK
            if (c->cork) ((ws__cork *)c->cork)->text = NULL;
#endif
        }
    }
    return 1;
}

static void ws__on_open(ws_conn *c, const char *subprotocol) {
    uint64_t now = ws__now(c);
    c->state = WS_OPEN;
    c->deadline = 0;
    if (c->cfg->ping_interval_ms && c->io->now_ms) c->next_ping = now + c->cfg->ping_interval_ms;
    if (c->cfg->on_open) c->cfg->on_open(c, subprotocol ? subprotocol : "");
}

#ifndef WS_NO_SERVER
/* Queues an HTTP response built by `build` into the send queue. */
static int ws__queue_http(ws_conn *c, int status, const char *key, const char *sub, const char *extra) {
    size_t need = ws__tx_text_room(c, 256 + (sub ? WS_STRLEN(sub) : 0) + (extra ? WS_STRLEN(extra) : 0));
    int n;
    if (!need) return WS_E_NOMEM;
    n = status == 101 ? ws_response_build((char *)c->tx + c->tx_head + c->tx_len, need, key, sub, extra)
                      : ws_error_response_build((char *)c->tx + c->tx_head + c->tx_len, need, status, extra);
    if (n < 0) return n;
    c->tx_len += (size_t)n;
    return 0;
}

static int ws__server_handshake(ws_conn *c) {
    ws_request req;
    ws_accept acc;
    int status = 0, n, r;
    const char *why = "";
    n = ws_request_parse((char *)c->rx + c->rx_rd, c->rx_wr - c->rx_rd, ws__max_header(c), &req, &status, &why);
    if (n == WS_E_INCOMPLETE) return 0;
    acc.subprotocol = NULL, acc.extra_headers = NULL;
    if (n >= 0 && c->cfg->on_request) {
        r = c->cfg->on_request(c, &req, &acc);
        if (r) status = r < 100 || r > 999 ? 500 : r, why = WS__WHY("request rejected by the server");
        else if (acc.subprotocol && !ws_request_offers(&req, acc.subprotocol))
            status = 500, why = WS__WHY("server chose a subprotocol that was not offered");
    }
    if (status != 101) {
        (void)ws__queue_http(c, status, NULL, NULL, status >= 500 ? NULL : acc.extra_headers);
        c->http_status = (unsigned short)status;
        ws__error(c, WS_E_HANDSHAKE, why);
        c->flags |= WS__F_DROP;
        c->rx_rd = c->rx_wr;
        (void)ws_flush(c);
        return 0;
    }
    if (ws__queue_http(c, 101, req.key, acc.subprotocol, acc.extra_headers) < 0) {
        (void)ws__queue_http(c, 500, NULL, NULL, NULL);
        ws__error(c, WS_E_NOMEM, WS__WHY("response does not fit the send buffer"));
        c->flags |= WS__F_DROP;
        c->rx_rd = c->rx_wr;
        return 0;
    }
    c->http_status = 101;
    c->rx_rd += (size_t)n;
    ws__on_open(c, acc.subprotocol);
    (void)ws_flush(c);
    return 1;
}
#endif

#ifndef WS_NO_CLIENT
static int ws__client_handshake(ws_conn *c) {
    ws_response resp;
    char key[WS_KEY_LEN + 1];
    const char *why = "";
    int n;
    ws_base64_encode(c->key, 16, key, sizeof key);
    n = ws_response_parse((char *)c->rx + c->rx_rd, c->rx_wr - c->rx_rd, ws__max_header(c), key, c->protocols,
                          &resp, &why);
    if (n == WS_E_INCOMPLETE) return 0;
    c->http_status = (unsigned short)(resp.status > 0 && resp.status < 1000 ? resp.status : 0);
    if (n < 0) {
        ws__error(c, WS_E_HANDSHAKE, why);
        c->rx_rd = c->rx_wr;
        ws__dead(c, 0, why);
        return 0;
    }
    c->rx_rd += (size_t)n;
    c->protocols = NULL;
    ws__on_open(c, resp.subprotocol);
    return 1;
}
#endif

/* Parses and delivers everything complete in the receive buffer. */
static void ws__process_read(ws_conn *c);
#if WS__CORK
/* Kept out of line so the batch takes stack only while frames flow. */
static WS__NOINLINE void ws__process_batched(ws_conn *c) {
    ws__cork cork;
    cork.frames = cork.n = 0;
    cork.bytes = 0;
    cork.text = NULL;
    c->cork = &cork;
    ws__process_read(c);
    ws__uncork(c);
    c->cork = NULL; /* the batch lives on this stack frame only */
}
#endif

static void ws__process(ws_conn *c) {
#if WS__CORK
    if (c->server && !c->cork && c->state == WS_OPEN) {
        ws__process_batched(c);
        return;
    }
#endif
    ws__process_read(c);
}

static void ws__process_read(ws_conn *c) {
    for (;;) {
        if (c->state == WS_CLOSED || (c->flags & (WS__F_DROP | WS__F_CLOSE_RCVD | WS__F_DISCARD))) break;
        if (c->state == WS_CONNECTING) {
            int r = 0;
#ifndef WS_NO_SERVER
            if (c->server) r = ws__server_handshake(c);
#endif
#ifndef WS_NO_CLIENT
            if (!c->server) r = ws__client_handshake(c);
#endif
            if (!r) break;
            continue;
        }
        if (!(c->in_frame ? ws__on_payload(c) : ws__on_header(c))) break;
    }
    if (c->rx_rd == c->rx_wr && !(c->flags & WS__F_REASON_RX)) {
        /* Everything parsed: the next read starts at the front again,
         * unless a message in progress still sits in the buffer. */
        size_t held = ws__msg_held(c), keep = held ? c->msg_off + held : 0;
        if (!held) c->msg_off = 0;
        c->rx_rd = c->rx_wr = keep;
    }
}

/* Makes room to read into and returns how much there is (0: none). */
static size_t ws__rx_room(ws_conn *c) {
    size_t live, gap, limit, cap;
    unsigned char *p;
    if (!c->rx) {
        if (!WS__OWNS_RX(c)) return 0;
        cap = c->cfg->rx_chunk ? c->cfg->rx_chunk : 16384;
        if (cap < 256) cap = 256;
        p = (unsigned char *)ws__alloc(c, NULL, cap);
        if (!p) return 0;
        c->rx = p, c->rx_cap = cap, c->rx_rd = c->rx_wr = c->msg_off = 0;
    }
    if (c->rx_cap - c->rx_wr >= c->rx_cap / 4 && c->rx_wr < c->rx_cap) return c->rx_cap - c->rx_wr;
    if (c->flags & WS__F_REASON_RX) {
        c->rx_rd = c->rx_wr = WS__REASON_AREA;
        return c->rx_cap - c->rx_wr;
    }
    /* An owned buffer may grow up to what the largest message or header
     * needs; it grows rather than compacts when compacting would gain
     * little, so a large message is not moved over and over. */
    limit = ws__max_header(c) + 1;
    if (c->state != WS_CONNECTING) {
        uint64_t m = ws__max_message(c);
        if (c->cfg->on_fragment) m = 0;
        limit = m > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)m + WS_RX_RESERVE + WS_FRAME_HEADER_MAX;
        if (limit < 1024) limit = 1024;
    }
    live = ws__msg_held(c);
    gap = c->rx_rd - live;
    if (!WS__OWNS_RX(c) || c->rx_cap >= limit || c->msg_off + gap >= c->rx_cap / 4) {
        /* Compact: the message so far to the front, unparsed bytes after it. */
        if (c->msg_off && live) WS_MEMMOVE(c->rx, c->rx + c->msg_off, live);
        c->msg_off = 0;
        if (gap) {
            WS_MEMMOVE(c->rx + live, c->rx + c->rx_rd, c->rx_wr - c->rx_rd);
            c->rx_rd -= gap, c->rx_wr -= gap;
        }
    }
    /* A fixed buffer gives what it has; an owned one grows rather than
     * read in dribbles. */
    if (!WS__OWNS_RX(c) || c->rx_cap - c->rx_wr >= c->rx_cap / 4 || c->rx_cap >= limit) return c->rx_cap - c->rx_wr;
    cap = c->rx_cap * 2 < limit ? c->rx_cap * 2 : limit;
    p = (unsigned char *)ws__alloc(c, c->rx, cap);
    if (!p) return c->rx_cap - c->rx_wr;
    c->rx = p, c->rx_cap = cap;
    return c->rx_cap - c->rx_wr;
}

static void ws__rx_release_idle(ws_conn *c) {
    if (WS__OWNS_RX(c) && c->rx && c->rx_rd == c->rx_wr && !ws__msg_held(c) && c->state != WS_CLOSED &&
        !(c->flags & WS__F_REASON_RX)) {
        ws__alloc(c, c->rx, 0);
        c->rx = NULL, c->rx_cap = c->rx_rd = c->rx_wr = c->msg_off = 0;
    }
}

/* Nothing fits the receive buffer any more. Only a failed allocation gets
 * here: the header limit never exceeds the buffer, so the handshake parser
 * answers 431 (or fails the client) first, and the message limits keep a
 * whole message and a control frame inside a fixed buffer. (So coverage
 * shows these lines unreached unless an allocator refuses to grow.) */
static void ws__rx_full(ws_conn *c) {
    if (c->state == WS_CONNECTING) {
#ifndef WS_NO_SERVER
        if (c->server) {
            (void)ws__queue_http(c, 431, NULL, NULL, NULL);
            ws__error(c, WS_E_HANDSHAKE, WS__WHY("request header block too large"));
            c->flags |= WS__F_DROP;
            c->rx_rd = c->rx_wr = 0;
            return;
        }
#endif
        ws__error(c, WS_E_HANDSHAKE, WS__WHY("response header block too large"));
        ws__dead(c, 0, WS__WHY("response header block too large"));
        return;
    }
    ws__fail(c, WS_E_NOMEM, WS_CLOSE_TOO_BIG, WS__WHY("message does not fit the receive buffer"));
}

static void ws__timers(ws_conn *c) {
    uint64_t now;
    if (!c->io->now_ms || c->state == WS_CLOSED) return;
    if (!c->deadline && !(c->state == WS_OPEN && c->cfg->ping_interval_ms && c->next_ping)) return;
    now = ws__now(c);
    if (c->deadline && now >= c->deadline) {
        if (c->state == WS_CONNECTING) {
            ws__error(c, WS_E_TIMEOUT, WS__WHY("opening handshake timed out"));
            ws__dead(c, 0, WS__WHY("opening handshake timed out"));
        } else {
            if (!(c->flags & (WS__F_CLOSE_RCVD | WS__F_DISCARD))) {
                c->close_code = WS_CLOSE_ABNORMAL; /* no close frame came back */
                c->reason = WS__WHY("closing handshake timed out");
            }
            ws__closed(c);
        }
        return;
    }
    if (c->state == WS_OPEN && c->cfg->ping_interval_ms && c->next_ping && now >= c->next_ping) {
        if (c->pong_due) {
            ws__error(c, WS_E_TIMEOUT, WS__WHY("keepalive: no pong in time"));
            c->close_code = WS_CLOSE_ABNORMAL;
            ws__dead(c, 0, WS__WHY("keepalive: no pong in time"));
            return;
        }
        c->pong_due = 1;
        c->next_ping = now + (c->cfg->pong_timeout_ms ? c->cfg->pong_timeout_ms : c->cfg->ping_interval_ms);
        (void)ws__send_frame(c, WS_OP_PING, 1, NULL, 0);
    }
}

static int ws__after_input(ws_conn *c) {
    if (c->state != WS_CLOSED) {
        if (c->tx_len || (c->flags & WS__F_CLOSE_OWED)) (void)ws_flush(c);
        else if (c->flags & WS__F_DROP) ws__closed(c);
    }
    if (c->state != WS_CLOSED && (c->flags & WS__F_EOF)) {
        /* A handshake cut short is a failure to connect, reported as the
         * browser reports it: an error, then the close. */
        if (c->state == WS_CONNECTING)
            ws__error(c, WS_E_HANDSHAKE, WS__WHY("connection closed during the opening handshake"));
        if (!(c->flags & (WS__F_CLOSE_RCVD | WS__F_DISCARD))) c->close_code = WS_CLOSE_ABNORMAL;
        ws__dead(c, 0, (c->flags & WS__F_CLOSE_RCVD) ? "" : WS__WHY("connection closed without a close frame"));
    }
    if (c->state != WS_CLOSED) ws__rx_release_idle(c), ws__tx_release_idle(c);
    return c->state == WS_CLOSED ? WS_E_CLOSED : 0;
}

WS_DEF int ws_pump(ws_conn *c) {
    if (c->state == WS_CLOSED) return WS_E_CLOSED;
    if (c->tx_len && ws_flush(c) == WS_E_CLOSED) return WS_E_CLOSED;
    ws__timers(c);
    while (c->state != WS_CLOSED && !(c->flags & (WS__F_EOF | WS__F_DROP))) {
        size_t room = ws__rx_room(c);
        ptrdiff_t n;
        if (!room && (c->flags & WS__F_DISCARD)) {
            c->flags |= WS__F_DROP; /* cannot even watch for the server's close */
            break;
        }
        if (!room) {
            if (WS__OWNS_RX(c) && !c->rx) { /* allocation failed */
                ws__fail(c, WS_E_NOMEM, WS_CLOSE_INTERNAL, WS__WHY("out of memory for the receive buffer"));
                break;
            }
            ws__rx_full(c);
            break;
        }
        n = c->io->recv(c->io_user, c->rx + c->rx_wr, room);
        if (n == WS_E_AGAIN) break;
        if (n == 0) {
            c->flags |= WS__F_EOF;
            break;
        }
        if (n < 0) {
            ws__dead(c, WS_E_IO, WS__WHY("transport receive failed"));
            break;
        }
        if ((size_t)n > room) n = (ptrdiff_t)room;
        c->rx_wr += (size_t)n;
        if (!(c->flags & (WS__F_CLOSE_RCVD | WS__F_DISCARD))) ws__process(c);
        else if (c->flags & WS__F_REASON_RX) c->rx_rd = c->rx_wr = WS__REASON_AREA;
        else c->rx_rd = c->rx_wr = 0;
        /* A short read means the transport is drained: skip the call that
         * would only say so. */
        if ((size_t)n < room) break;
    }
    return ws__after_input(c);
}

WS_DEF int ws_feed(ws_conn *c, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    while (len && c->state != WS_CLOSED && !(c->flags & WS__F_DROP)) {
        size_t room, n;
        if (c->flags & (WS__F_CLOSE_RCVD | WS__F_DISCARD)) break; /* nothing after a close counts */
        room = ws__rx_room(c);
        if (!room) {
            if (WS__OWNS_RX(c) && !c->rx) ws__fail(c, WS_E_NOMEM, WS_CLOSE_INTERNAL, WS__WHY("out of memory for the receive buffer"));
            else ws__rx_full(c);
            break;
        }
        n = len < room ? len : room;
        WS_MEMCPY(c->rx + c->rx_wr, p, n);
        c->rx_wr += n, p += n, len -= n;
        ws__process(c);
    }
    return ws__after_input(c);
}

WS_DEF long ws_next_timeout(const ws_conn *c) {
    uint64_t now, t = 0;
    if (!c->io->now_ms || c->state == WS_CLOSED) return -1;
    if (c->deadline) t = c->deadline;
    if (c->state == WS_OPEN && c->cfg->ping_interval_ms && c->next_ping && (!t || c->next_ping < t))
        t = c->next_ping;
    if (!t) return -1;
    now = ws__now(c);
    return t <= now ? 0 : (t - now > 0x7fffffffu ? 0x7fffffffL : (long)(t - now));
}

/* Once CLOSED nothing more is written, whatever is still queued. */
WS_DEF int ws_wants_write(const ws_conn *c) { return c->tx_len != 0 && c->state != WS_CLOSED; }
WS_DEF ws_ready_state ws_state(const ws_conn *c) { return (ws_ready_state)c->state; }
WS_DEF size_t ws_buffered_amount(const ws_conn *c) {
#if WS__CORK
    /* Frames batched during this read are accepted but not yet written. */
    if (c->cork) return c->tx_len + ((const ws__cork *)c->cork)->bytes;
#endif
    return c->tx_len;
}
WS_DEF const char *ws_reason(const ws_conn *c) { return c->reason ? c->reason : ""; }
WS_DEF int ws_http_status(const ws_conn *c) { return c->http_status; }

WS_DEF void ws_conn_init(ws_conn *c, const ws_config *cfg, const ws_io *io, void *io_user) {
    WS_MEMSET(c, 0, sizeof *c);
    c->cfg = cfg, c->io = io, c->io_user = io_user;
    c->realloc_fn = cfg->realloc_fn;
    c->owns_rx = c->owns_tx = WS__CAN_ALLOC;
    c->state = WS_CONNECTING;
}

WS_DEF int ws_conn_set_buffers(ws_conn *c, void *rx, size_t rx_cap, void *tx, size_t tx_cap) {
    if ((rx && rx_cap < WS_MIN_BUFFER) || (tx && tx_cap < WS_MIN_BUFFER)) return WS_E_INVALID;
    if (rx) c->rx = (unsigned char *)rx, c->rx_cap = rx_cap, c->owns_rx = 0;
    if (tx) c->tx = (unsigned char *)tx, c->tx_cap = tx_cap, c->owns_tx = 0;
    return 0;
}

WS_DEF void ws_conn_release(ws_conn *c) {
    if (WS__OWNS_RX(c) && c->rx) ws__alloc(c, c->rx, 0);
    if (WS__OWNS_TX(c) && c->tx) ws__alloc(c, c->tx, 0);
    if (WS__OWNS_RX(c)) c->rx = NULL, c->rx_cap = 0;
    if (WS__OWNS_TX(c)) c->tx = NULL, c->tx_cap = 0;
    c->rx_rd = c->rx_wr = c->msg_off = c->msg_len = c->tx_head = c->tx_len = 0;
    if (c->flags & WS__F_REASON_RX) c->reason = "", c->flags &= (unsigned short)~WS__F_REASON_RX;
}

/* Without an allocator the host must have handed over both buffers. */
#define WS__NO_BUFFERS(c) (!WS__CAN_ALLOC && (!(c)->rx || !(c)->tx))

static void ws__start(ws_conn *c, int server) {
    c->server = (unsigned char)(server != 0);
    c->state = WS_CONNECTING;
    if (c->io->now_ms)
        c->deadline = ws__now(c) + (c->cfg->handshake_timeout_ms ? c->cfg->handshake_timeout_ms : 10000);
}

#ifndef WS_NO_CLIENT
WS_DEF int ws_client_start(ws_conn *c, const ws_client_options *opt) {
    char key[WS_KEY_LEN + 1];
    size_t need;
    int n;
    if (!opt || !opt->host || WS__NO_BUFFERS(c)) return WS_E_INVALID;
    if (!c->io->random || c->io->random(c->io_user, c->key, 16) != 0) return WS_E_RANDOM;
    ws_base64_encode(c->key, 16, key, sizeof key);
    need = 256 + WS_STRLEN(opt->host) + (opt->path ? WS_STRLEN(opt->path) : 0) +
           (opt->origin ? WS_STRLEN(opt->origin) : 0) + (opt->subprotocols ? WS_STRLEN(opt->subprotocols) : 0) +
           (opt->extra_headers ? WS_STRLEN(opt->extra_headers) : 0);
    need = ws__tx_text_room(c, need);
    if (!need) return WS_E_NOMEM;
    n = ws_request_build((char *)c->tx + c->tx_head + c->tx_len, need, opt, key);
    if (n < 0) return n;
    c->tx_len += (size_t)n;
    c->protocols = opt->subprotocols;
    ws__start(c, 0);
    return 0;
}
#endif

#ifndef WS_NO_SERVER
WS_DEF int ws_server_start(ws_conn *c) {
    if (WS__NO_BUFFERS(c)) return WS_E_INVALID;
    ws__start(c, 1);
    return 0;
}
#endif

WS_DEF int ws_start_open(ws_conn *c, int server) {
    if (WS__NO_BUFFERS(c)) return WS_E_INVALID;
    ws__start(c, server);
    ws__on_open(c, "");
    return 0;
}

/* ===========================================================================
 * Adapter: POSIX sockets. URL parsing, connect/listen/accept helpers and a
 * ws_io over a non-blocking socket (the fd travels in io_user).
 * ========================================================================= */
#ifdef WS_HAVE_SOCKETS
/* glibc fixes what it declares at its first header; __USE_XOPEN2K8 tells
 * whether POSIX.1-2008 made it in. */
#if defined(__GLIBC__) && !defined(__USE_XOPEN2K8)
#error "ws.h: a system header came first under strict C (-std=c99): include ws.h before any other header in the file that defines WS_IMPLEMENTATION, or build with -D_POSIX_C_SOURCE=200809L (or define WS_NO_SOCKETS)"
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#include <sys/random.h>
#define WS__HAVE_GETRANDOM 1
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* BSDs: SO_NOSIGPIPE is set on the socket instead */
#endif

static int ws__fd(void *user) { return (int)(intptr_t)user; }

static ptrdiff_t ws__posix_recv(void *user, void *buf, size_t cap) {
    for (;;) {
        ssize_t n = read(ws__fd(user), buf, cap);
        if (n >= 0) return (ptrdiff_t)n;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WS_E_AGAIN : WS_E_IO;
    }
}

static ptrdiff_t ws__posix_send(void *user, const void *buf, size_t len) {
    for (;;) {
        ssize_t n = send(ws__fd(user), buf, len, MSG_NOSIGNAL);
        if (n >= 0) return (ptrdiff_t)n;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WS_E_AGAIN : WS_E_IO;
    }
}

static ptrdiff_t ws__posix_sendv(void *user, const ws_iovec *iov, int count) {
    struct iovec v[64]; /* a partial write is fine: the engine queues the rest */
    struct msghdr m;
    int i;
    if (count > 64) count = 64;
    for (i = 0; i < count; i++) v[i].iov_base = (void *)(uintptr_t)iov[i].base, v[i].iov_len = iov[i].len;
    WS_MEMSET(&m, 0, sizeof m);
    m.msg_iov = v;
    m.msg_iovlen = (size_t)count;
    for (;;) {
        ssize_t n = sendmsg(ws__fd(user), &m, MSG_NOSIGNAL);
        if (n >= 0) return (ptrdiff_t)n;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WS_E_AGAIN : WS_E_IO;
    }
}

static int ws__posix_random(void *user, void *buf, size_t len) {
    unsigned char *p = (unsigned char *)buf;
    (void)user;
#ifdef WS__HAVE_GETRANDOM
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        p += n, len -= (size_t)n;
    }
    if (!len) return 0;
#endif
    {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd < 0) return WS_E_RANDOM;
        while (len) {
            ssize_t n = read(fd, p, len);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            p += n, len -= (size_t)n;
        }
        close(fd);
    }
    return len ? WS_E_RANDOM : 0;
}

static uint64_t ws__posix_now(void *user) {
    struct timespec ts;
    (void)user;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

WS_DEF const ws_io *ws_posix_io(void) {
    static const ws_io io = {ws__posix_recv, ws__posix_send, ws__posix_sendv, ws__posix_random, ws__posix_now};
    return &io;
}

WS_DEF int ws_conn_fd(const ws_conn *c) {
#ifdef WS_MBEDTLS
    if (c->io == ws_tls_io()) return ws_tls_conn_fd(c);
#endif
    return c->io == ws_posix_io() ? (int)(intptr_t)c->io_user : -1;
}

WS_DEF void *ws_libc_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    if (!size) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

WS_DEF int ws_url_parse(const char *url, ws_url *out) {
    const char *p = url, *h;
    unsigned long port = 0;
    WS_MEMSET(out, 0, sizeof *out);
    if (!url) return WS_E_URL;
    if ((p[0] | 32) == 'w' && (p[1] | 32) == 's' && p[2] == ':') p += 3, out->secure = 0;
    else if ((p[0] | 32) == 'w' && (p[1] | 32) == 's' && (p[2] | 32) == 's' && p[3] == ':') p += 4, out->secure = 1;
    else return WS_E_URL;
    if (p[0] != '/' || p[1] != '/') return WS_E_URL;
    p += 2;
    if (*p == '[') {
        h = ++p;
        while (*p && *p != ']') p++;
        if (*p != ']' || p == h) return WS_E_URL;
        out->host = h, out->host_len = (size_t)(p - h);
        p++;
    } else {
        h = p;
        while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '#') p++;
        if (p == h) return WS_E_URL;
        out->host = h, out->host_len = (size_t)(p - h);
    }
    for (h = out->host; h < out->host + out->host_len; h++)
        if ((unsigned char)*h <= 0x20 || *h == '@' || *h == 0x7f) return WS_E_URL;
    if (*p == ':') {
        p++;
        if (*p < '0' || *p > '9') return WS_E_URL;
        while (*p >= '0' && *p <= '9') {
            port = port * 10 + (unsigned long)(*p++ - '0');
            if (port > 65535) return WS_E_URL;
        }
        if (!port) return WS_E_URL;
    }
    out->port = port ? (unsigned)port : out->secure ? 443u : 80u;
    if (*p && *p != '/' && *p != '?') return WS_E_URL; /* fragments are not allowed */
    out->path = *p ? p : "/";
    out->path_len = *p ? WS_STRLEN(p) : 1;
    for (h = out->path; *h; h++)
        if ((unsigned char)*h <= 0x20 || *h == '#' || *h == 0x7f) return WS_E_URL;
    return 0;
}

static int ws__socket_setup(int fd) {
    int one = 1, fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return 0;
}

static int ws__resolve(const char *host, unsigned port, int passive, struct addrinfo **res) {
    struct addrinfo hints;
    char service[8];
    int i = 7;
    WS_MEMSET(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    service[i] = '\0';
    do service[--i] = (char)('0' + port % 10), port /= 10;
    while (port && i > 0);
    return getaddrinfo(host, service + i, &hints, res) == 0 ? 0 : WS_E_RESOLVE;
}

WS_DEF int ws_tcp_connect(const char *host, unsigned port) {
    struct addrinfo *res, *ai;
    int fd = WS_E_CONNECT;
    if (ws__resolve(host, port, 0, &res) < 0) return WS_E_RESOLVE;
    for (ai = res; ai; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) continue;
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0 && ws__socket_setup(s) == 0) {
            fd = s;
            break;
        }
        close(s);
    }
    freeaddrinfo(res);
    return fd;
}

WS_DEF int ws_tcp_listen(const char *host, unsigned port, int backlog) {
    struct addrinfo *res, *ai;
    int fd = WS_E_CONNECT;
    if (ws__resolve(host, port, 1, &res) < 0) return WS_E_RESOLVE;
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1, s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) continue;
        (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, backlog > 0 ? backlog : 128) == 0 &&
            ws__socket_setup(s) == 0) {
            fd = s;
            break;
        }
        close(s);
    }
    freeaddrinfo(res);
    return fd;
}

WS_DEF int ws_tcp_accept(int listen_fd) {
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd >= 0) {
            if (ws__socket_setup(fd) == 0) return fd;
            close(fd);
            return WS_E_IO;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WS_E_AGAIN : WS_E_IO;
    }
}

#ifndef WS_NO_CLIENT
WS_DEF int ws_connect_url(ws_conn *c, const ws_config *cfg, const char *url, const ws_client_options *opt) {
    ws_url u;
    ws_client_options o;
    char host[256], *path;
    int fd, r;
    if (ws_url_parse(url, &u) < 0) return WS_E_URL;
#ifdef WS_MBEDTLS
    if (u.secure) return ws_connect_url_tls(c, cfg, url, opt, NULL);
#endif
    if (u.secure) return WS_E_NO_TLS;
    if (u.host_len >= sizeof host) return WS_E_URL;
    WS_MEMCPY(host, u.host, u.host_len);
    host[u.host_len] = '\0';
    fd = ws_tcp_connect(host, u.port);
    if (fd < 0) return fd;
    ws_conn_init(c, cfg, ws_posix_io(), (void *)(intptr_t)fd);
    if (opt) c->user = opt->user;
    if (!c->realloc_fn) c->realloc_fn = ws_libc_realloc;
    if (opt) o = *opt;
    else WS_MEMSET(&o, 0, sizeof o);
    o.host = host, o.port = u.port, o.secure = u.secure;
    path = (char *)ws__alloc(c, NULL, u.path_len + 1);
    if (!path) {
        close(fd);
        return WS_E_NOMEM;
    }
    WS_MEMCPY(path, u.path, u.path_len + 1);
    o.path = path;
    r = ws_client_start(c, &o); /* the request is built now: host and path may go */
    ws__alloc(c, path, 0);
    if (r < 0) {
        ws_conn_release(c);
        close(fd);
        c->io_user = (void *)(intptr_t)-1;
        return r;
    }
    (void)ws_flush(c);
    return 0;
}
#endif

WS_DEF int ws_poll(ws_conn *c, int timeout_ms) {
    struct pollfd pfd;
    long t = ws_next_timeout(c);
#ifdef WS_MBEDTLS
    if (c->io == ws_tls_io()) return ws_tls_poll(c, timeout_ms);
#endif
    if (c->state == WS_CLOSED) return WS_E_CLOSED;
    pfd.fd = ws_conn_fd(c);
    pfd.events = (short)(POLLIN | (ws_wants_write(c) ? POLLOUT : 0));
    pfd.revents = 0;
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms)) timeout_ms = (int)t;
    if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
        ws__dead(c, WS_E_IO, WS__WHY("poll failed"));
        return WS_E_CLOSED;
    }
    return ws_pump(c);
}

WS_DEF void ws_disconnect(ws_conn *c) {
    int fd;
#ifdef WS_MBEDTLS
    if (c->io == ws_tls_io()) {
        ws_tls_disconnect(c);
        return;
    }
#endif
    fd = ws_conn_fd(c);
    if (fd >= 0) close(fd);
    if (c->io == ws_posix_io()) c->io_user = (void *)(intptr_t)-1;
    if (c->state != WS_CLOSED) {
        c->flags |= WS__F_IO_DEAD;
        ws__closed(c);
    }
    ws_conn_release(c);
}
#endif /* WS_HAVE_SOCKETS */

/* ===========================================================================
 * Adapter: mbedTLS. A ws_io over an mbedtls_ssl_context that runs the TLS
 * handshake from inside recv/send, maps mbedTLS's "want read/write" to
 * WS_E_AGAIN, and explains its failures in words; wss:// for ws_connect_url.
 * ========================================================================= */
#ifdef WS_MBEDTLS
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

/* Small pieces of a vectored send are gathered into one TLS record of at
 * most this size: a record apiece would cost 29 bytes and a TCP segment
 * for every 2-byte frame header. */
#define WS__TLS_STAGE 4096

static void ws__tls_puts(char *dst, size_t cap, const char *s) {
    size_t n = WS_STRLEN(dst);
    while (*s && n + 1 < cap) dst[n++] = *s++;
    dst[n] = '\0';
}

/* "<what>: <mbedTLS's text> (-0x7780)"; no stdio, which firmware may lack. */
static void ws__tls_explain(char *dst, size_t cap, const char *what, int err) {
    static const char hex[] = "0123456789abcdef";
    char code[16], *p = code;
    unsigned v = err < 0 ? 0u - (unsigned)err : (unsigned)err;
    int i;
    dst[0] = '\0';
    ws__tls_puts(dst, cap, what);
    if (!err) return;
    ws__tls_puts(dst, cap, ": ");
#ifdef MBEDTLS_ERROR_C
    {
        char text[160];
        mbedtls_strerror(err, text, sizeof text);
        ws__tls_puts(dst, cap, text);
        ws__tls_puts(dst, cap, " ");
    }
#endif
    *p++ = '(';
    if (err < 0) *p++ = '-';
    *p++ = '0', *p++ = 'x';
    for (i = 12; i >= 0; i -= 4) *p++ = hex[(v >> i) & 15u];
    *p++ = ')', *p = '\0';
    ws__tls_puts(dst, cap, code);
}

/* Certificates and keys from a file or a buffer; a buffer of length 0 is a
 * C string, whose NUL mbedTLS's PEM parser wants counted. */
static size_t ws__tls_len(const void *buf, size_t len) {
    return len ? len : WS_STRLEN((const char *)buf) + 1;
}

static int ws__tls_load_crt(mbedtls_x509_crt *crt, const char *file, const void *buf, size_t len) {
    int r = 0;
#ifdef MBEDTLS_FS_IO
    if (file) r = mbedtls_x509_crt_parse_file(crt, file);
#else
    if (file) return MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
#endif
    if (!file && buf) r = mbedtls_x509_crt_parse(crt, (const unsigned char *)buf, ws__tls_len(buf, len));
    /* A bundle may hold certificates mbedTLS cannot parse (r > 0 counts
     * them): the others are still good. */
    if (r > 0 && crt->version) r = 0;
    return r > 0 ? MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT : r;
}

/* Called with a key file or a key buffer given. */
static int ws__tls_load_key(ws_tls_config *tc, const ws_tls_options *o) {
    const char *pw = o->key_password;
#ifdef MBEDTLS_FS_IO
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (o->key_file) return mbedtls_pk_parse_keyfile(&tc->key, o->key_file, pw, mbedtls_ctr_drbg_random, &tc->drbg);
#else
    if (o->key_file) return mbedtls_pk_parse_keyfile(&tc->key, o->key_file, pw);
#endif
#else
    if (o->key_file) return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(&tc->key, (const unsigned char *)o->key, ws__tls_len(o->key, o->key_len),
                                (const unsigned char *)pw, pw ? WS_STRLEN(pw) : 0, mbedtls_ctr_drbg_random,
                                &tc->drbg);
#else
    return mbedtls_pk_parse_key(&tc->key, (const unsigned char *)o->key, ws__tls_len(o->key, o->key_len),
                                (const unsigned char *)pw, pw ? WS_STRLEN(pw) : 0);
#endif
}

static void ws__tls_config_drop(ws_tls_config *tc) {
    mbedtls_ssl_config_free(&tc->conf);
    mbedtls_x509_crt_free(&tc->ca);
    mbedtls_x509_crt_free(&tc->cert);
    mbedtls_pk_free(&tc->key);
    mbedtls_ctr_drbg_free(&tc->drbg);
    mbedtls_entropy_free(&tc->entropy);
    tc->live = 0;
}

static int ws__tls_config_fail(ws_tls_config *tc, const char *what, int err) {
    ws__tls_explain(tc->reason, sizeof tc->reason, what, err);
    ws__tls_config_drop(tc);
    return WS_E_TLS;
}

/* The same, naming the file when there is one: "<what> from <file>". */
static int ws__tls_file_fail(ws_tls_config *tc, const char *what, const char *file, int err) {
    char buf[200];
    buf[0] = '\0';
    ws__tls_puts(buf, sizeof buf, what);
    if (file) ws__tls_puts(buf, sizeof buf, " from "), ws__tls_puts(buf, sizeof buf, file);
    return ws__tls_config_fail(tc, buf, err);
}

WS_DEF int ws_tls_config_init(ws_tls_config *tc, int server, const ws_tls_options *opt) {
    static const char pers[] = "ws.h";
    ws_tls_options none;
    int r;
    WS_MEMSET(tc, 0, sizeof *tc);
    mbedtls_ssl_config_init(&tc->conf);
    mbedtls_entropy_init(&tc->entropy);
    mbedtls_ctr_drbg_init(&tc->drbg);
    mbedtls_x509_crt_init(&tc->ca);
    mbedtls_x509_crt_init(&tc->cert);
    mbedtls_pk_init(&tc->key);
    tc->live = 1;
    tc->server = server != 0;
    if (!opt) {
        WS_MEMSET(&none, 0, sizeof none);
        opt = &none;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    /* 3.x runs TLS 1.3 through PSA, which must be set up first. */
    if (psa_crypto_init() != PSA_SUCCESS) return ws__tls_config_fail(tc, "PSA crypto initialisation failed", 0);
#endif
    r = mbedtls_ctr_drbg_seed(&tc->drbg, mbedtls_entropy_func, &tc->entropy, (const unsigned char *)pers,
                              sizeof pers - 1);
    if (r) return ws__tls_config_fail(tc, "seeding the random generator failed", r);
    r = mbedtls_ssl_config_defaults(&tc->conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (r) return ws__tls_config_fail(tc, "TLS defaults failed", r);
    mbedtls_ssl_conf_rng(&tc->conf, mbedtls_ctr_drbg_random, &tc->drbg);
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    /* 2.x still speaks TLS 1.0 and 1.1, which browsers dropped long ago. */
    mbedtls_ssl_conf_min_version(&tc->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    if (opt->cert_file || opt->cert) {
        r = ws__tls_load_crt(&tc->cert, opt->cert_file, opt->cert, opt->cert_len);
        if (r) return ws__tls_file_fail(tc, "could not load the certificate", opt->cert_file, r);
        if (!opt->key_file && !opt->key)
            return ws__tls_config_fail(tc, "a certificate was given without its private key", 0);
        r = ws__tls_load_key(tc, opt);
        if (r) return ws__tls_file_fail(tc, "could not load the private key", opt->key_file, r);
        r = mbedtls_ssl_conf_own_cert(&tc->conf, &tc->cert, &tc->key);
        if (r) return ws__tls_config_fail(tc, "certificate and key do not fit together", r);
    } else if (server) {
        return ws__tls_config_fail(tc, "a TLS server needs a certificate and a key", 0);
    }
    if (server) return 0;
    if (opt->insecure_skip_verify) {
        tc->insecure = 1;
        mbedtls_ssl_conf_authmode(&tc->conf, MBEDTLS_SSL_VERIFY_NONE);
        return 0;
    }
    if (opt->ca_file || opt->ca) {
        r = ws__tls_load_crt(&tc->ca, opt->ca_file, opt->ca, opt->ca_len);
        if (r) return ws__tls_file_fail(tc, "could not load the trusted CA certificates", opt->ca_file, r);
    } else {
        static const char *const bundles[] = {"/etc/ssl/certs/ca-certificates.crt",
                                              "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"};
        size_t i;
        r = MBEDTLS_ERR_X509_FILE_IO_ERROR;
        for (i = 0; i < sizeof bundles / sizeof bundles[0] && r; i++) {
            mbedtls_x509_crt_free(&tc->ca);
            mbedtls_x509_crt_init(&tc->ca);
            r = ws__tls_load_crt(&tc->ca, bundles[i], NULL, 0);
        }
        if (r)
            return ws__tls_config_fail(tc, "no trusted CA certificates: no system bundle found, "
                                           "set ws_tls_options.ca_file", 0);
    }
    mbedtls_ssl_conf_ca_chain(&tc->conf, &tc->ca, NULL);
    mbedtls_ssl_conf_authmode(&tc->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    return 0;
}

WS_DEF void ws_tls_config_free(ws_tls_config *tc) {
    if (tc->live) ws__tls_config_drop(tc);
}

WS_DEF const char *ws_tls_config_reason(const ws_tls_config *tc) { return tc->reason; }

/* IP literals, dotted quad or RFC 4291 text (no zone, no embedded IPv4).
 * Returns the address length (4 or 16), 0 for anything else. */
static int ws__tls_hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if ((ch | 32) >= 'a' && (ch | 32) <= 'f') return (ch | 32) - 'a' + 10;
    return -1;
}

static unsigned ws__tls_parse_ip(const char *s, unsigned char out[16]) {
    const char *p = s;
    unsigned char w[16];
    int i, n = 0, gap = -1;
    for (i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) v = v * 10 + (unsigned)(*p++ - '0'), digits++;
        if (!digits || digits > 3 || v > 255 || *p != (i < 3 ? '.' : '\0')) break;
        out[i] = (unsigned char)v;
        if (i == 3) return 4;
        p++;
    }
    p = s;
    if (p[0] == ':' && p[1] == ':') gap = 0, p += 2;
    while (*p) {
        unsigned v = 0, digits = 0;
        int d;
        if (n == 16) return 0;
        while ((d = ws__tls_hexval(*p)) >= 0) {
            if (++digits > 4) return 0;
            v = v << 4 | (unsigned)d, p++;
        }
        if (!digits) return 0;
        w[n++] = (unsigned char)(v >> 8), w[n++] = (unsigned char)v;
        if (!*p) break;
        if (*p++ != ':') return 0;
        if (*p == ':') {
            if (gap >= 0) return 0;
            gap = n, p++;
        } else if (!*p) {
            return 0;
        }
    }
    if (gap < 0 ? n != 16 : n > 14) return 0;
    if (gap < 0) gap = n;
    WS_MEMSET(out, 0, 16);
    WS_MEMCPY(out, w, (size_t)gap);
    WS_MEMCPY(out + 16 - (n - gap), w + gap, (size_t)(n - gap));
    return 16;
}

/* mbedTLS 2.x checks host names only, so an address is matched here
 * against the certificate's iPAddress entries (RFC 6125 section 6.2). */
static int ws__tls_verify(void *user, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
    const ws_tls *t = (const ws_tls *)user;
    const mbedtls_x509_sequence *s;
    if (depth || !t->ip_len) return 0;
    for (s = &crt->subject_alt_names; s; s = s->next)
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && s->buf.len == t->ip_len &&
            WS_MEMCMP(s->buf.p, t->ip, t->ip_len) == 0)
            return 0;
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

#ifdef WS_HAVE_SOCKETS
/* The transport under mbedTLS: the non-blocking socket in t->fd. */
static int ws__tls_bio_send(void *user, const unsigned char *buf, size_t len) {
    const ws_tls *t = (const ws_tls *)user;
    for (;;) {
        ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return (int)n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_WRITE;
        return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

static int ws__tls_bio_recv(void *user, unsigned char *buf, size_t len) {
    const ws_tls *t = (const ws_tls *)user;
    for (;;) {
        ssize_t n = read(t->fd, buf, len);
        if (n >= 0) return (int)n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_READ;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
}
#endif

WS_DEF int ws_tls_init(ws_tls *t, ws_tls_config *tc, int fd, const char *server_name) {
    int r;
    WS_MEMSET(t, 0, sizeof *t);
    mbedtls_ssl_init(&t->ssl);
    t->tc = tc, t->fd = fd, t->live = 1;
    r = mbedtls_ssl_setup(&t->ssl, &tc->conf);
    if (r) {
        ws__tls_explain(t->reason, sizeof t->reason, "TLS session setup failed", r);
        ws_tls_free(t);
        return WS_E_TLS;
    }
    if (!tc->server) {
        size_t n = server_name ? WS_STRLEN(server_name) : 0;
        if (n >= sizeof t->name || (!n && !tc->insecure)) {
            ws__tls_puts(t->reason, sizeof t->reason,
                         n ? "server name too long" : "a TLS client needs the server's name to verify it");
            ws_tls_free(t);
            return WS_E_INVALID;
        }
        if (n) WS_MEMCPY(t->name, server_name, n + 1);
        t->ip_len = (unsigned char)ws__tls_parse_ip(t->name, t->ip);
        /* An address is neither sent as SNI (RFC 6066 section 3) nor left
         * to mbedTLS to compare; NULL also tells mbedTLS 3.6 that skipping
         * its name check is intended. */
        r = mbedtls_ssl_set_hostname(&t->ssl, n && !t->ip_len ? t->name : NULL);
        if (r) {
            ws__tls_explain(t->reason, sizeof t->reason, "invalid server name", r);
            ws_tls_free(t);
            return WS_E_INVALID;
        }
        if (!tc->insecure) mbedtls_ssl_set_verify(&t->ssl, ws__tls_verify, t);
    }
#ifdef WS_HAVE_SOCKETS
    if (fd >= 0) mbedtls_ssl_set_bio(&t->ssl, t, ws__tls_bio_send, ws__tls_bio_recv, NULL);
#endif
    return 0;
}

WS_DEF void ws_tls_free(ws_tls *t) {
    if (!t->live) return;
    /* Best effort: the socket is non-blocking and the peer may be gone. */
    if (t->done && !t->failed && !t->eof) (void)mbedtls_ssl_close_notify(&t->ssl);
    mbedtls_ssl_free(&t->ssl);
    t->live = 0;
}

WS_DEF const char *ws_tls_reason(const ws_tls *t) { return t->reason; }
WS_DEF int ws_tls_fd(const ws_tls *t) { return t->fd; }

static int ws__tls_again(int r) {
    return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
           r == MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS || r == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS;
}

/* The session cannot go on. With a connection to report through, the
 * engine hears it as WS_E_TLS with the text (a negative return would only
 * reach it as "transport receive failed"), and the transport call then
 * answers "would block" to a connection that is already CLOSED. */
static ptrdiff_t ws__tls_fail(ws_tls *t, const char *what, int err) {
    t->failed = 1, t->err = err;
    if (err == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char info[192], *p;
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        info[0] = '\0';
        mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        for (p = info; *p; p++) /* one line: "a\nb\n" -> "a; b" */
            if (*p == '\n') *p = p[1] ? ';' : '\0';
        t->reason[0] = '\0';
        ws__tls_puts(t->reason, sizeof t->reason, "TLS certificate verification failed for ");
        ws__tls_puts(t->reason, sizeof t->reason, t->name);
        ws__tls_puts(t->reason, sizeof t->reason, ": ");
        ws__tls_puts(t->reason, sizeof t->reason, info[0] ? info : "unknown reason");
    } else if (err == MBEDTLS_ERR_SSL_CONN_EOF || err == MBEDTLS_ERR_NET_CONN_RESET) {
        t->reason[0] = '\0';
        ws__tls_puts(t->reason, sizeof t->reason, what);
        ws__tls_puts(t->reason, sizeof t->reason, ": the peer closed the connection");
    } else {
        ws__tls_explain(t->reason, sizeof t->reason, what, err);
    }
    if (t->conn && t->conn->state != WS_CLOSED) {
        ws__dead(t->conn, WS_E_TLS, t->reason);
        return WS_E_AGAIN;
    }
    return WS_E_TLS;
}

/* Runs the handshake as far as the socket allows: 0 once it is done. */
static ptrdiff_t ws__tls_handshake(ws_tls *t) {
    int r;
    if (t->failed) return WS_E_TLS;
    if (t->done) return 0;
    r = mbedtls_ssl_handshake(&t->ssl);
    if (r == 0) {
        t->done = 1, t->want_write = 0;
        return 0;
    }
    if (ws__tls_again(r)) {
        t->want_write = r == MBEDTLS_ERR_SSL_WANT_WRITE;
        return WS_E_AGAIN;
    }
    return ws__tls_fail(t, "TLS handshake failed", r);
}

WS_DEF ptrdiff_t ws_tls_recv(void *tls, void *buf, size_t cap) {
    ws_tls *t = (ws_tls *)tls;
    unsigned char *p = (unsigned char *)buf;
    size_t got = 0;
    ptrdiff_t h = ws__tls_handshake(t);
    if (h < 0) return h;
    if (t->eof) return 0;
    /* Read until mbedTLS runs dry, so that a short read means "drained":
     * ws_pump stops at one, and poll cannot see records mbedTLS holds. */
    while (got < cap) {
        int r = mbedtls_ssl_read(&t->ssl, p + got, cap - got);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) continue; /* TLS 1.3, nothing to do */
#endif
        if (ws__tls_again(r)) break;
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF) {
            t->eof = 1; /* the engine tells a clean close from a cut */
            break;
        }
        if (got) break; /* deliver what came first; the error repeats */
        return ws__tls_fail(t, "TLS receive failed", r);
    }
    if (got) return (ptrdiff_t)got;
    return t->eof ? 0 : WS_E_AGAIN;
}

/* Writes len bytes as records. After "want write" mbedTLS holds a record
 * built from the first `pending` bytes and must be called again with that
 * length: the engine retries with the same bytes first, so they are at p. */
static ptrdiff_t ws__tls_write(ws_tls *t, const unsigned char *p, size_t len) {
    size_t done = 0;
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    /* A record mbedTLS queued by itself (an alert answering the peer) must
     * go first, or the next write would be taken as its retry. */
    if (!t->pending && t->ssl.out_left) {
        int r = mbedtls_ssl_write(&t->ssl, p, 0);
        if (ws__tls_again(r)) return WS_E_AGAIN;
        if (r < 0) return ws__tls_fail(t, "TLS send failed", r);
    }
#endif
    while (done < len) {
        size_t n = t->pending ? t->pending : len - done;
        int r = mbedtls_ssl_write(&t->ssl, p + done, n);
        if (r >= 0) {
            t->pending = 0;
            done += (size_t)r < len - done ? (size_t)r : len - done;
            if (!r) break;
            continue;
        }
        if (ws__tls_again(r)) {
            t->pending = n;
            break;
        }
        if (done) break;
        return ws__tls_fail(t, "TLS send failed", r);
    }
    return done || !len ? (ptrdiff_t)done : (ptrdiff_t)WS_E_AGAIN;
}

WS_DEF ptrdiff_t ws_tls_send(void *tls, const void *buf, size_t len) {
    ws_tls *t = (ws_tls *)tls;
    ptrdiff_t h = ws__tls_handshake(t);
    if (h < 0) return h;
    return ws__tls_write(t, (const unsigned char *)buf, len);
}

static ptrdiff_t ws__tls_sendv(void *tls, const ws_iovec *iov, int count) {
    ws_tls *t = (ws_tls *)tls;
    unsigned char stage[WS__TLS_STAGE];
    size_t total = 0, off = 0;
    int i = 0;
    ptrdiff_t r = ws__tls_handshake(t);
    if (r < 0) return r;
    while (i < count) {
        size_t left = iov[i].len - off, want;
        if (!left) {
            i++, off = 0;
            continue;
        }
        if (t->pending || left >= sizeof stage) {
            want = left;
            r = ws__tls_write(t, (const unsigned char *)iov[i].base + off, left);
        } else {
            /* Gather small pieces, cutting the last one where the stage ends. */
            int j = i;
            size_t o = off;
            want = 0;
            while (j < count && want < sizeof stage) {
                size_t take = iov[j].len - o;
                if (take > sizeof stage - want) take = sizeof stage - want;
                if (take) WS_MEMCPY(stage + want, (const unsigned char *)iov[j].base + o, take);
                want += take, o += take;
                if (o == iov[j].len) j++, o = 0;
            }
            r = ws__tls_write(t, stage, want);
        }
        if (r < 0) return total ? (ptrdiff_t)total : r;
        total += (size_t)r;
        if ((size_t)r < want) break;
        /* Step over what went out. */
        while (want && i < count) {
            size_t step = iov[i].len - off < want ? iov[i].len - off : want;
            want -= step, off += step;
            if (off == iov[i].len) i++, off = 0;
        }
    }
    return (ptrdiff_t)total;
}

WS_DEF int ws_tls_random(void *tls, void *buf, size_t len) {
    ws_tls *t = (ws_tls *)tls;
    unsigned char *p = (unsigned char *)buf;
    while (len) {
        size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&t->tc->drbg, p, n) != 0) return WS_E_RANDOM;
        p += n, len -= n;
    }
    return 0;
}

WS_DEF const ws_io *ws_tls_io(void) {
#ifdef WS_HAVE_SOCKETS
    static const ws_io io = {ws_tls_recv, ws_tls_send, ws__tls_sendv, ws_tls_random, ws__posix_now};
#else
    static const ws_io io = {ws_tls_recv, ws_tls_send, ws__tls_sendv, ws_tls_random, NULL};
#endif
    return &io;
}

WS_DEF void ws_tls_conn_init(ws_conn *c, const ws_config *cfg, ws_tls *t) {
    ws_conn_init(c, cfg, ws_tls_io(), t);
    t->conn = c;
}

WS_DEF int ws_tls_wants_write(const ws_conn *c) {
    const ws_tls *t = (const ws_tls *)c->io_user;
    if (c->io != ws_tls_io() || !t || t->done || t->failed) return ws_wants_write(c);
    return t->want_write;
}

WS_DEF int ws_tls_conn_fd(const ws_conn *c) {
    if (c->io == ws_tls_io()) return c->io_user ? ((const ws_tls *)c->io_user)->fd : -1;
#ifdef WS_HAVE_SOCKETS
    return ws_conn_fd(c);
#else
    return -1;
#endif
}

#ifdef WS_HAVE_SOCKETS
/* What ws_connect_url_tls allocates for a connection, freed as one. */
typedef struct ws__tls_owned {
    ws_tls t;
    ws_tls_config tc;
} ws__tls_owned;

#ifndef WS_NO_CLIENT
WS_DEF int ws_connect_url_tls(ws_conn *c, const ws_config *cfg, const char *url, const ws_client_options *opt,
                              const ws_tls_options *tls) {
    ws_url u;
    ws_client_options o;
    ws__tls_owned *b;
    void *(*alloc)(void *, void *, size_t) = cfg->realloc_fn ? cfg->realloc_fn : ws_libc_realloc;
    char host[256], *path;
    int fd, r;
    if (ws_url_parse(url, &u) < 0) return WS_E_URL;
    if (!u.secure) return ws_connect_url(c, cfg, url, opt);
    if (u.host_len >= sizeof host) return WS_E_URL;
    WS_MEMCPY(host, u.host, u.host_len);
    host[u.host_len] = '\0';
    b = (ws__tls_owned *)alloc(cfg->alloc_user, NULL, sizeof *b);
    if (!b) return WS_E_NOMEM;
    /* Set up before connecting: a bad CA file needs no network to fail. */
    ws_conn_init(c, cfg, ws_tls_io(), NULL);
    if (opt) c->user = opt->user;
    c->realloc_fn = alloc;
    r = ws_tls_config_init(&b->tc, 0, tls);
    if (r < 0) {
        ws__error(c, r, b->tc.reason);
        c->reason = "TLS setup failed";
        alloc(cfg->alloc_user, b, 0);
        return r;
    }
    fd = ws_tcp_connect(host, u.port);
    if (fd < 0) {
        ws_tls_config_free(&b->tc);
        alloc(cfg->alloc_user, b, 0);
        return fd;
    }
    r = ws_tls_init(&b->t, &b->tc, fd, host);
    if (r < 0) {
        ws__error(c, r, b->t.reason);
        c->reason = "TLS setup failed";
        ws_tls_config_free(&b->tc);
        alloc(cfg->alloc_user, b, 0);
        close(fd);
        return r;
    }
    b->t.owned = 1;
    ws_tls_conn_init(c, cfg, &b->t);
    c->realloc_fn = alloc;
    if (opt) c->user = opt->user;
    if (opt) o = *opt;
    else WS_MEMSET(&o, 0, sizeof o);
    o.host = host, o.port = u.port, o.secure = 1;
    path = (char *)ws__alloc(c, NULL, u.path_len + 1);
    r = WS_E_NOMEM;
    if (path) {
        WS_MEMCPY(path, u.path, u.path_len + 1);
        o.path = path;
        r = ws_client_start(c, &o); /* the request is built now: host and path may go */
        ws__alloc(c, path, 0);
    }
    if (r < 0) {
        ws_tls_free(&b->t);
        ws_tls_config_free(&b->tc);
        ws_conn_release(c);
        alloc(cfg->alloc_user, b, 0);
        close(fd);
        c->io_user = NULL;
        return r;
    }
    (void)ws_flush(c); /* sends the ClientHello; the request waits for the handshake */
    return 0;
}
#endif

WS_DEF int ws_tls_poll(ws_conn *c, int timeout_ms) {
    struct pollfd pfd;
    const ws_tls *t = (const ws_tls *)c->io_user;
    long tmo;
    if (c->io != ws_tls_io()) return ws_poll(c, timeout_ms);
    if (c->state == WS_CLOSED || !t) return WS_E_CLOSED;
    tmo = ws_next_timeout(c);
    pfd.fd = t->fd;
    pfd.events = (short)(POLLIN | (ws_tls_wants_write(c) ? POLLOUT : 0));
    pfd.revents = 0;
    if (tmo >= 0 && (timeout_ms < 0 || tmo < timeout_ms)) timeout_ms = (int)tmo;
    if (mbedtls_ssl_get_bytes_avail(&t->ssl)) timeout_ms = 0; /* decrypted bytes wait */
    if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
        ws__dead(c, WS_E_IO, "poll failed");
        return WS_E_CLOSED;
    }
    return ws_pump(c);
}

WS_DEF void ws_tls_disconnect(ws_conn *c) {
    ws_tls *t = (ws_tls *)c->io_user;
    if (c->io != ws_tls_io()) {
        ws_disconnect(c);
        return;
    }
    if (c->state != WS_CLOSED) {
        c->flags |= WS__F_IO_DEAD;
        ws__closed(c);
    }
    if (t) {
        /* The reason may live in t, which may be freed now. */
        uintptr_t r = (uintptr_t)c->reason, lo = (uintptr_t)t->reason;
        if (r >= lo && r < lo + sizeof t->reason) c->reason = "TLS error";
        ws_tls_free(t);
        if (t->fd >= 0) close(t->fd);
        t->fd = -1;
        if (t->owned) {
            ws_tls_config_free(t->tc);
            ws__alloc(c, t, 0);
        }
        c->io_user = NULL;
    }
    ws_conn_release(c);
}
#endif /* WS_HAVE_SOCKETS */
#endif /* WS_MBEDTLS */


#ifdef __cplusplus
}
#endif
#endif /* WS_IMPLEMENTATION_DONE */
#endif /* WS_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 the ws.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
