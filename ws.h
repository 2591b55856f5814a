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
    static void on_message(ws_conn *c, int opcode, const void *p, size_t n) {
        printf("%.*s\n", (int)n, (const char *)p);
        ws_close(c, 1000, "bye");
    }
    int main(void) {
        ws_config cfg = {0};  ws_conn c;
        cfg.on_message = on_message;
        if (ws_connect_url(&c, &cfg, "ws://127.0.0.1:9001/", NULL) < 0) return 1;
        ws_send_text(&c, "hello");
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
    WS_MAX_HEADERS      most header lines in a handshake (default 32)

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
     * data points into the receive buffer and is valid during the call. */
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
    /* A failure (before on_close): err is a WS_E_* code, reason says why. */
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
    unsigned char *rx;
    unsigned char *tx;
    size_t rx_cap, rx_rd, rx_wr, msg_off, msg_len, hs_scanned;
    size_t tx_cap, tx_head, tx_len;
    uint64_t frame_left;    /* payload bytes of the current frame not yet seen */
    uint64_t deadline;      /* handshake or close timeout, 0: none */
    uint64_t next_ping;     /* keepalive */
    ws_utf8_state utf8;
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
    unsigned char flags;      /* WS__F_* */
    unsigned char owns_rx, owns_tx;
    unsigned char pong_due;   /* keepalive: waiting for a pong */
    unsigned char in_cb;      /* inside an event callback */
};

/* Sets up c (zeroed, CLOSED) with a config and a transport; both must
 * outlive the connection. The user pointer is c->user. */
WS_API void ws_conn_init(ws_conn *c, const ws_config *cfg, const ws_io *io, void *io_user);
/* Hands fixed buffers to the engine (instead of cfg->realloc_fn). */
WS_API void ws_conn_set_buffers(ws_conn *c, void *rx, size_t rx_cap, void *tx, size_t tx_cap);
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
 * The caller's buffer is never modified. Returns 0, WS_E_FULL when the
 * frame does not fit the send queue (nothing is queued then), WS_E_STATE
 * when not OPEN, WS_E_INVALID for bad arguments. */
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

#if !defined(WS_MEMCPY) || !defined(WS_MEMMOVE) || !defined(WS_MEMSET) || !defined(WS_MEMCMP) ||    \
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
#define WS_DEF static
#else
#define WS_DEF
#endif

#if defined(__GNUC__) || defined(__clang__)
#define WS__LIKELY(x) __builtin_expect(!!(x), 1)
#define WS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WS__UNUSED __attribute__((unused))
#else
#define WS__LIKELY(x) (x)
#define WS__UNLIKELY(x) (x)
#define WS__UNUSED
#endif

#ifdef __cplusplus
extern "C" {
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
    uint32_t w[80], a, b, c, d, e, t;
    unsigned i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 80; i++) w[i] = ws__rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999u;
        else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1u;
        else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDCu;
        else f = b ^ c ^ d, k = 0xCA62C1D6u;
        t = ws__rol(a, 5) + f + e + k + w[i];
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
    size_t need = WS_BASE64_ENCODED_LEN(len), i, o = 0;
    if (need + 1 > out_cap || need > 0x7fffffffu) return WS_E_NOMEM;
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

/* Masking: the key rotated to the current offset, repeated over a word, is
 * XORed a word at a time; head and tail go byte by byte. Words are loaded
 * through memcpy, which compilers turn into plain (unaligned-safe) loads. */
WS_DEF size_t ws_mask_copy(void *dst, const void *src, size_t len, const unsigned char key[4],
                           size_t offset) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    offset &= 3;
    /* Byte-wise until the destination is word aligned. */
    while (i < len && ((uintptr_t)(d + i) & (sizeof(size_t) - 1))) {
        d[i] = (unsigned char)(s[i] ^ key[offset]);
        i++, offset = (offset + 1) & 3;
    }
    if (len - i >= sizeof(size_t)) {
        unsigned char rot[sizeof(size_t)];
        size_t k, j;
        for (j = 0; j < sizeof(size_t); j++) rot[j] = key[(offset + j) & 3];
        WS_MEMCPY(&k, rot, sizeof k);
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
        /* A word is a multiple of 4 bytes, so offset is unchanged here. */
    }
    for (; i < len; i++) {
        d[i] = (unsigned char)(s[i] ^ key[offset]);
        offset = (offset + 1) & 3;
    }
    return offset;
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

WS_DEF int ws_utf8_feed(ws_utf8_state *state, const void *data, size_t len, size_t *bad_at) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t st = *state;
    size_t i = 0;
    if (st == WS__U8_REJECT) {
        if (bad_at) *bad_at = 0;
        return WS_E_UTF8;
    }
    while (i < len) {
        if (st == 0) {
            /* ASCII fast path: 16 bytes per step while no high bit shows. */
            while (len - i >= 16) {
                uint64_t a, b;
                WS_MEMCPY(&a, p + i, 8);
                WS_MEMCPY(&b, p + i + 8, 8);
                if ((a | b) & 0x8080808080808080ull) break;
                i += 16;
            }
            while (i < len && p[i] < 0x80) i++;
            if (i == len) break;
        }
        st = ws__utf8_next[st + ws__utf8_class[p[i]]];
        if (WS__UNLIKELY(st == WS__U8_REJECT)) {
            *state = st;
            if (bad_at) *bad_at = i;
            return WS_E_UTF8;
        }
        i++;
    }
    *state = st;
    return 0;
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
    if (h->rsv) w = "reserved bits set without a negotiated extension";
    else if ((h->opcode >= 3 && h->opcode <= 7) || h->opcode >= 11) w = "reserved opcode";
    else if (h->opcode >= 8 && !h->fin) w = "fragmented control frame";
    else if (h->opcode >= 8 && h->payload_len > 125) w = "control frame longer than 125 bytes";
    else if (server && !h->masked) w = "unmasked frame from a client";
    else if (!server && h->masked) w = "masked frame from a server";
    if (!w) return 0;
    if (why) *why = w;
    return WS_E_PROTOCOL;
}

WS_DEF int ws_close_code_valid(unsigned code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* @@HANDSHAKE@@ */
/* @@ENGINE@@ */
/* @@ADAPTERS@@ */

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
