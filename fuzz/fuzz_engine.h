/* The engine harness shared by fuzz_server.c and fuzz_client.c (each sets
 * FUZZ_SERVER to 1 or 0 and includes this file). It runs the whole sans-I/O
 * engine in one role against peer bytes chosen by the fuzzer, delivered in
 * fuzzer-chosen pieces through ws_feed or through the recv callback of
 * ws_pump, with would-block injected on recv and send, partial sends, a
 * fake clock, fixed or allocator buffers (with an injected allocation
 * failure), small limits, and host actions (sends, fragments, pings,
 * closes) between the pieces and from inside the callbacks.
 *
 * Input layout:
 *   byte 0  flags: 1 streaming (on_fragment), 2 prepend a valid handshake,
 *           4 io->sendv, 8 io->now_ms, 16 no_auto_pong, 32 structured peer
 *           stream (see fz_encode_frames), 64 callbacks act (echo, close),
 *           128 start OPEN (ws_start_open, no handshake)
 *   byte 1  bits 0-3 receive buffer size, bits 4-7 max_message
 *   byte 2  bits 0-2 send buffer size, bit 3 random fails after the key,
 *           bits 4-5 max_frame, bits 6-7 max_header
 *   byte 3  bits 0-1 buffers: fixed / allocator / fixed rx + allocator tx /
 *           allocator rx + fixed tx; bits 2-4 fail the Nth allocation;
 *           bits 5-6 subprotocol scenario; bit 7 keepalive ping
 *   byte 4  bits 0-4 N: the schedule has N % 17 steps (0: all at once by
 *           ws_feed); bits 5-7 what acting callbacks also do: 1 on_error
 *           closes, 2 on_open closes at once, 4 ping/pong answer; in
 *           server scenario 2 they also pick the refusal status
 *   then    N pairs (piece, action), cycled:
 *             piece bits 0-3 size, bits 4-5 how (ws_feed, ws_pump, ws_pump
 *             after a would-block, ws_pump with short reads), bit 6 toggles
 *             send-side would-block / partial sends, bit 7 advances the clock
 *             action bits 0-2 what the host does after the piece, bits 3-7 a
 *             size or choice for it (0 with 31: sends fail from now on with
 *             WS_E_IO; 0 with 30: the next recv fails)
 *   rest    the peer's bytes (after the valid handshake when asked for).
 *
 * Invariants (abort on violation): the ready state only moves forward;
 * on_open at most once and only in OPEN; no message, ping, pong or error
 * after on_close; no delivery after a failure was reported; text handed to
 * the host is valid UTF-8 (reference validator); no message exceeds the
 * configured limit; on_close exactly once, in CLOSED, after which nothing is
 * sent; recv is only ever handed room inside the receive buffer; every byte
 * the engine writes is a valid handshake followed by a well-formed frame
 * stream for the other role (ws_frame_parse + ws_frame_check with the other
 * role's masking rule, minimal lengths, sequencing, valid close payloads,
 * valid UTF-8 in text), and nothing but the close frame ... i.e. nothing at
 * all follows a close frame; API results match the state; no leaks. */
#ifndef FUZZ_SERVER
#error "define FUZZ_SERVER to 1 or 0"
#endif

#define WS_IMPLEMENTATION
#define WS_STATIC
#define WS_NO_SOCKETS
#include "../ws.h"

#include "fuzz_common.h"

/* Known ws.h bugs, reported but not fixed yet, get a guard here that keeps
 * the harness away from their trigger (so campaigns go on finding new ones),
 * with the input kept in fuzz/regressions/<target>/ and FUZZ_KNOWN_BUGS=1
 * to see it fail. None are open now; the last two (bytes written after
 * on_close when a refused handshake was closed from on_error, and on_error
 * after on_close when failing found the transport dead) are fixed and their
 * inputs stay as regressions. */
#ifndef FUZZ_KNOWN_BUGS
#define FUZZ_KNOWN_BUGS 0
#endif

#define FZ_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define FZ_PEER_MAX (256u * 1024u)
#define FZ_ALLOC_MAX ((size_t)64 << 20)
#define FZ_CLOCK_STEP 2600u
#define FZ_MAX_STEPS 1024u

/* Fixed buffers below WS_MIN_BUFFER are refused by ws_conn_set_buffers (the
 * last entries): the engine then has no buffer of its own to use. */
static const size_t fz_rx_fixed[16] = {256, 257, 260, 264, 300, 383, 400, 512,
                                       600, 1024, 2048, 4096, 8192, 16384, 65536, 255};
static const size_t fz_rx_chunk[16] = {0, 1, 100, 256, 257, 300, 512, 1000, 0, 0, 2000, 4096, 256, 600, 8192, 0};
static const size_t fz_tx_fixed[8] = {256, 257, 300, 512, 1000, 4096, 65536, 255};
static const size_t fz_tx_max[8] = {0, 1, 64, 131, 300, 1000, 4096, 70000};
static const size_t fz_max_message[16] = {0, 0, 0, 0, 1, 10, 125, 126, 127, 200, 1000, 4096, 65535, 65536, 70000, 1u << 20};
static const size_t fz_max_frame[4] = {0, 0, 5, 300};
static const size_t fz_max_header[4] = {0, 0, 150, 400};
static const size_t fz_piece[16] = {1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 31, 64, 127, 256, 1000, 0};
static const int fz_close_codes[8] = {1000, 1001, 0, 4000, 3999, 999, 1005, 1011};
/* Valid UTF-8 with 1-, 2-, 3- and 4-byte sequences, for the host's texts. */
static const char fz_pattern[] = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";

typedef struct fz_block {
    void *p;
    size_t n;
} fz_block;

typedef struct fz {
    ws_conn *c;
    ws_config cfg;
    ws_client_options opt;
    /* configuration */
    int streaming, clock, acts, mood, fixed_rx, fixed_tx, start_open, scenario, prepend;
    uint64_t limit;                /* largest message the host may be handed */
    unsigned char *rx_fixed, *tx_fixed;
    size_t rx_fixed_cap, tx_fixed_cap;
    /* the peer's bytes */
    unsigned char *peer;
    size_t peer_len, peer_cap, peer_pos, recv_allow, recv_max;
    int recv_again, eof;
    /* the send side */
    int send_block, send_fail, recv_fail;
    int dead_reported;             /* on_error said the transport died */
    unsigned long send_calls;
    unsigned long long sent_total;
    /* the checker of what the engine wrote */
    unsigned char *out;
    size_t out_len, out_cap;
    int chk_phase;                 /* 0 HTTP head, 1 frames, 2 nothing more */
    int chk_after_close, chk_in_msg, chk_text, chk_http_status;
    unsigned char *chk_msg;
    size_t chk_msg_len, chk_msg_cap;
    /* clock, randomness, allocator */
    uint64_t now;
    uint32_t rng;
    int random_fail;
    unsigned random_calls;
    unsigned char key_bytes[16];
    char key[WS_KEY_LEN + 1];
    unsigned alloc_calls, fail_at;
    fz_block blocks[8];
    /* callbacks */
    int last_state, opened, closed, errors;
    const char *chosen_sub;        /* server: what on_request chose */
    unsigned char *frag;           /* streaming: the message so far */
    size_t frag_len, frag_cap;
    int frag_active, frag_op;
    uint64_t frag_total;
    /* host sends */
    unsigned char *send_msg;       /* our fragmented text so far */
    size_t send_msg_len, send_msg_cap, pattern_pos;
    int send_active, send_text;
    int in_callback;
} fz;

static fz *fz_of(ws_conn *c) { return (fz *)c->user; }

/* WS_FUZZ_TRACE=1 in the environment prints the engine's events (for
 * understanding a crash or a seed; off while fuzzing). */
static int fz_tracing = -1;
static void fz_trace(const char *what, long a, const char *s) {
    if (fz_tracing < 0) fz_tracing = getenv("WS_FUZZ_TRACE") != NULL;
    if (fz_tracing) fprintf(stderr, "  [%s] %s %ld %s\n", FUZZ_SERVER ? "server" : "client", what, a, s ? s : "");
}

static void fz_grow(unsigned char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return;
    {
        size_t n = *cap ? *cap : 256;
        unsigned char *p;
        while (n < need) n *= 2;
        p = (unsigned char *)realloc(*buf, n);
        if (!p) abort();
        *buf = p, *cap = n;
    }
}

static void fz_append(unsigned char **buf, size_t *len, size_t *cap, const void *p, size_t n) {
    if (!n) return;
    fz_grow(buf, cap, *len + n);
    memcpy(*buf + *len, p, n);
    *len += n;
}

/* The ready state never goes back. */
static void fz_state(fz *f) {
    int s = (int)ws_state(f->c);
    FUZZ_CHECK(s >= WS_CONNECTING && s <= WS_CLOSED);
    FUZZ_CHECK(s >= f->last_state);
    f->last_state = s;
}

/* ---------------------------------------------------------------------------
 * The checker: everything the engine writes, parsed back as the peer would.
 * ------------------------------------------------------------------------- */
static size_t fz_find_crlf2(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i + 4 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return i + 4;
    return 0;
}

static void fz_check_head(fz *f, size_t end) {
    char *head = (char *)malloc(end + 1);
    if (!head) abort();
    memcpy(head, f->out, end);
    head[end] = '\0';
    if (FUZZ_SERVER) {
        /* "HTTP/1.1 NNN ..."; 101 is followed by frames, anything else by nothing. */
        FUZZ_CHECK(end > 13 && memcmp(head, "HTTP/1.1 ", 9) == 0);
        FUZZ_CHECK(head[9] >= '1' && head[9] <= '9' && head[10] >= '0' && head[10] <= '9' && head[11] >= '0' &&
                   head[11] <= '9' && head[12] == ' ');
        f->chk_http_status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
        fz_trace("wrote HTTP status", f->chk_http_status, NULL);
        f->chk_phase = f->chk_http_status == 101 ? 1 : 2;
        if (f->chk_http_status == 101 && f->prepend && !f->start_open) {
            /* Our own request came first: a client holding its key must
             * accept this response. */
            ws_response resp;
            const char *why = NULL;
            const char *offer = f->scenario ? "chat, superchat" : NULL;
            FUZZ_CHECK(ws_response_parse(head, end, 0, FZ_KEY, offer, &resp, &why) == (int)end);
        }
    } else {
        /* Our request: our own server parser must accept it with our key. */
        ws_request req;
        int status = 0;
        FUZZ_CHECK(ws_request_parse(head, end, 0, &req, &status, NULL) == (int)end);
        FUZZ_CHECK(status == 101 && strcmp(req.key, f->key) == 0);
        f->chk_phase = 1;
    }
    free(head);
}

static void fz_check_close_payload(const unsigned char *p, size_t n) {
    unsigned code;
    FUZZ_CHECK(n != 1);
    if (n < 2) return;
    code = (unsigned)p[0] << 8 | p[1];
    FUZZ_CHECK(ws_close_code_valid(code));
    FUZZ_CHECK(ref_utf8_ok(p + 2, n - 2));
}

/* Parses as much of the output as is complete; drops what it checked. */
static void fz_check_output(fz *f) {
    size_t pos = 0;
    for (;;) {
        size_t avail = f->out_len - pos;
        const unsigned char *p = f->out + pos;
        ws_frame_header h;
        const char *why = NULL;
        unsigned char *pl;
        size_t plen, minimal;
        int n;
        if (f->chk_phase == 0) {
            size_t end = fz_find_crlf2(f->out, f->out_len);
            if (!end) return;
            fz_check_head(f, end);
            pos = end;
            continue;
        }
        if (!avail) break;
        /* Nothing follows a close frame or an HTTP error response. */
        FUZZ_CHECK(f->chk_phase == 1);
        FUZZ_CHECK(!f->chk_after_close);
        n = ws_frame_parse(p, avail, &h);
        if (n == WS_E_INCOMPLETE) break;
        FUZZ_CHECK(n >= 2);
        /* Checked as the other role receives it. */
        FUZZ_CHECK(ws_frame_check(&h, !FUZZ_SERVER, &why) == 0);
        minimal = (h.payload_len < 126 ? 2u : h.payload_len <= 0xFFFFu ? 4u : 10u) + (h.masked ? 4u : 0u);
        FUZZ_CHECK((size_t)n == minimal);
        if ((uint64_t)(avail - (size_t)n) < h.payload_len) break;
        plen = (size_t)h.payload_len;
        pl = (unsigned char *)malloc(plen ? plen : 1);
        if (!pl) abort();
        memcpy(pl, p + n, plen);
        if (h.masked) ws_mask(pl, plen, h.mask_key, 0);
        fz_trace("wrote frame, opcode", h.opcode, NULL);
        if (h.opcode == WS_OP_CLOSE) {
            fz_check_close_payload(pl, plen);
            f->chk_after_close = 1;
        } else if (h.opcode < 8) {
            if (h.opcode == WS_OP_CONTINUATION) {
                FUZZ_CHECK(f->chk_in_msg);
            } else {
                FUZZ_CHECK(!f->chk_in_msg);
                f->chk_text = h.opcode == WS_OP_TEXT;
                f->chk_msg_len = 0;
            }
            if (f->chk_text) fz_append(&f->chk_msg, &f->chk_msg_len, &f->chk_msg_cap, pl, plen);
            f->chk_in_msg = !h.fin;
            if (h.fin && f->chk_text) FUZZ_CHECK(ref_utf8_ok(f->chk_msg, f->chk_msg_len));
        }
        free(pl);
        pos += (size_t)n + plen;
    }
    if (pos) {
        memmove(f->out, f->out + pos, f->out_len - pos);
        f->out_len -= pos;
    }
}

/* ---------------------------------------------------------------------------
 * The transport.
 * ------------------------------------------------------------------------- */
/* Is [p, p + n) inside the receive buffer the engine may use? */
static int fz_inside_rx(fz *f, const void *p, size_t n) {
    const unsigned char *q = (const unsigned char *)p;
    unsigned i;
    if (f->fixed_rx) return q >= f->rx_fixed && n <= f->rx_fixed_cap && q <= f->rx_fixed + f->rx_fixed_cap - n;
    for (i = 0; i < 8; i++) {
        const unsigned char *b = (const unsigned char *)f->blocks[i].p;
        if (b && q >= b && n <= f->blocks[i].n && q <= b + f->blocks[i].n - n) return 1;
    }
    return 0;
}

static ptrdiff_t fz_recv(void *user, void *buf, size_t cap) {
    fz *f = (fz *)user;
    size_t n;
    FUZZ_CHECK(!f->closed);
    FUZZ_CHECK(cap > 0 && fz_inside_rx(f, buf, cap));
    if (f->recv_again) {
        f->recv_again = 0;
        return WS_E_AGAIN;
    }
    if (f->recv_fail) {
        f->recv_fail = 0;
        return WS_E_IO;
    }
    if (f->eof) return 0;
    n = f->recv_allow < f->peer_len - f->peer_pos ? f->recv_allow : f->peer_len - f->peer_pos;
    if (n > cap) n = cap;
    if (f->recv_max && n > f->recv_max) n = f->recv_max;
    if (!n) return WS_E_AGAIN;
    memcpy(buf, f->peer + f->peer_pos, n);
    f->peer_pos += n, f->recv_allow -= n;
    return (ptrdiff_t)n;
}

/* How much of len the transport takes now: all, or (blocked) nothing every
 * other call and a few bytes otherwise; (size_t)-2 once it has failed. */
static size_t fz_take(fz *f, size_t len) {
    f->send_calls++;
    if (f->send_fail) return (size_t)-2;
    if (!f->send_block) return len;
    if (f->send_calls & 1) return (size_t)-1;
    {
        size_t n = 1 + (size_t)(f->send_calls * 7 % 13);
        return n < len ? n : len;
    }
}

static void fz_wrote(fz *f, const void *p, size_t n) {
    FUZZ_CHECK(!f->closed); /* nothing is sent once the connection is CLOSED */
    fz_append(&f->out, &f->out_len, &f->out_cap, p, n);
    f->sent_total += n;
    fz_check_output(f);
}

static ptrdiff_t fz_send(void *user, const void *buf, size_t len) {
    fz *f = (fz *)user;
    size_t n;
    FUZZ_CHECK(buf != NULL || len == 0);
    n = fz_take(f, len);
    if (n == (size_t)-1) return WS_E_AGAIN;
    if (n == (size_t)-2) return WS_E_IO;
    fz_wrote(f, buf, n);
    return (ptrdiff_t)n;
}

static ptrdiff_t fz_sendv(void *user, const ws_iovec *iov, int count) {
    fz *f = (fz *)user;
    size_t total = 0, n;
    int i;
    FUZZ_CHECK(count > 0);
    for (i = 0; i < count; i++) total += iov[i].len;
    n = fz_take(f, total);
    if (n == (size_t)-1) return WS_E_AGAIN;
    if (n == (size_t)-2) return WS_E_IO;
    total = n;
    for (i = 0; i < count && n; i++) {
        size_t k = iov[i].len < n ? iov[i].len : n;
        fz_wrote(f, iov[i].base, k);
        n -= k;
    }
    return (ptrdiff_t)total;
}

static int fz_random(void *user, void *buf, size_t len) {
    fz *f = (fz *)user;
    unsigned char *p = (unsigned char *)buf;
    size_t i;
    if (f->random_fail && f->random_calls > 0) return WS_E_RANDOM;
    for (i = 0; i < len; i++) {
        f->rng ^= f->rng << 13, f->rng ^= f->rng >> 17, f->rng ^= f->rng << 5;
        p[i] = (unsigned char)(f->rng >> 11);
    }
    if (f->random_calls == 0 && len == 16) memcpy(f->key_bytes, p, 16);
    f->random_calls++;
    return 0;
}

static uint64_t fz_now(void *user) { return ((fz *)user)->now; }

static void *fz_realloc(void *user, void *ptr, size_t size) {
    fz *f = (fz *)user;
    unsigned i, slot = 8;
    void *p;
    if (ptr) {
        for (i = 0; i < 8; i++)
            if (f->blocks[i].p == ptr) slot = i;
        FUZZ_CHECK(slot < 8); /* the engine only hands back what it got */
    }
    if (!size) {
        if (ptr) free(ptr), f->blocks[slot].p = NULL, f->blocks[slot].n = 0;
        return NULL;
    }
    f->alloc_calls++;
    if ((f->fail_at && f->alloc_calls == f->fail_at) || size > FZ_ALLOC_MAX) return NULL;
    if (slot == 8) {
        for (i = 0; i < 8 && slot == 8; i++)
            if (!f->blocks[i].p) slot = i;
        FUZZ_CHECK(slot < 8); /* a handful of live blocks at most */
    }
    p = realloc(ptr, size);
    if (!p) return NULL;
    f->blocks[slot].p = p, f->blocks[slot].n = size;
    return p;
}

/* ---------------------------------------------------------------------------
 * Callbacks.
 * ------------------------------------------------------------------------- */
/* Anything delivered to the host: the connection lives and nothing failed. */
static void fz_delivery(fz *f) {
    int s = (int)ws_state(f->c);
    fz_state(f);
    FUZZ_CHECK(f->opened && !f->closed && !f->errors);
    FUZZ_CHECK(s == WS_OPEN || s == WS_CLOSING);
}

/* What a send may answer. WS_E_TOO_BIG (a frame that can never fit the
 * send bound) is checked where the length is known: fz_check_send_len. */
static void fz_check_send_result(fz *f, int r) {
    FUZZ_CHECK(r == 0 || r == WS_E_FULL || r == WS_E_NOMEM || r == WS_E_CLOSED || r == WS_E_RANDOM ||
               r == WS_E_STATE || r == WS_E_TOO_BIG);
    if (r == WS_E_STATE) FUZZ_CHECK(ws_state(f->c) != WS_OPEN || f->send_active);
    fz_state(f);
}

/* The most a frame may take in the send queue: the fixed buffer, or
 * max_send_buffer (16 MiB by default) with the allocator. */
static uint64_t fz_send_bound(const fz *f) {
    if (f->fixed_tx) return f->tx_fixed_cap;
    return f->cfg.max_send_buffer ? f->cfg.max_send_buffer : (uint64_t)16 << 20;
}

/* A send of a len-byte payload: WS_E_TOO_BIG exactly when the frame can
 * never fit; a frame that can never fit is refused (TOO_BIG, or FULL from
 * engines that do not tell the two apart). */
static void fz_check_send_len(fz *f, int r, size_t len) {
    uint64_t frame = (uint64_t)len + 2 + (len >= 126 ? (len > 0xFFFF ? 8 : 2) : 0) + (FUZZ_SERVER ? 0 : 4);
    fz_check_send_result(f, r);
    if (r == WS_E_TOO_BIG) FUZZ_CHECK(frame > fz_send_bound(f));
    if (frame > fz_send_bound(f) && r != WS_E_STATE && r != WS_E_CLOSED && r != WS_E_RANDOM)
        FUZZ_CHECK(r == WS_E_TOO_BIG || r == WS_E_FULL);
}

static void fz_on_open(ws_conn *c, const char *sub) {
    fz *f = fz_of(c);
    fz_state(f);
    FUZZ_CHECK(!f->opened && !f->closed && !f->errors);
    FUZZ_CHECK(ws_state(c) == WS_OPEN && sub != NULL);
    f->opened = 1;
    fz_trace("open", 0, sub);
    if (FUZZ_SERVER) {
        FUZZ_CHECK(strcmp(sub, f->chosen_sub ? f->chosen_sub : "") == 0);
    } else if (*sub) {
        FUZZ_CHECK(f->opt.subprotocols && ws_token_list_has(f->opt.subprotocols, sub, 0));
    }
    if (f->acts && (f->mood & 2)) fz_check_send_result(f, ws_close(c, 1000, "bye"));
    else if (f->acts) fz_check_send_result(f, ws_send_text(c, "hello"));
}

static void fz_on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    fz *f = fz_of(c);
    fz_trace("message", (long)len, opcode == WS_OP_TEXT ? "text" : "binary");
    fz_delivery(f);
    FUZZ_CHECK(!f->streaming);
    FUZZ_CHECK(opcode == WS_OP_TEXT || opcode == WS_OP_BINARY);
    FUZZ_CHECK(data != NULL || len == 0);
    FUZZ_CHECK((uint64_t)len <= f->limit);
    if (opcode == WS_OP_TEXT) FUZZ_CHECK(ref_utf8_ok(data, len));
    if (len) {
        /* Readable, all of it (ASan checks). */
        volatile unsigned char sink = ((const unsigned char *)data)[0] ^ ((const unsigned char *)data)[len - 1];
        (void)sink;
    }
    if (f->acts) {
        if (len && ((const unsigned char *)data)[0] == 'C') fz_check_send_result(f, ws_close(c, 1000, "bye"));
        else fz_check_send_result(f, ws_send(c, opcode, data, len));
    }
}

static void fz_on_fragment(ws_conn *c, int opcode, const void *data, size_t len, int flags) {
    fz *f = fz_of(c);
    size_t at;
    fz_trace("fragment", (long)len, flags == 3 ? "first+last" : flags == 1 ? "first" : flags == 2 ? "last" : "middle");
    fz_delivery(f);
    FUZZ_CHECK(f->streaming);
    FUZZ_CHECK(opcode == WS_OP_TEXT || opcode == WS_OP_BINARY);
    FUZZ_CHECK((flags & ~(WS_FIRST | WS_LAST)) == 0);
    FUZZ_CHECK(data != NULL || len == 0);
    /* WS_FIRST exactly on a message's first piece, one opcode throughout. */
    FUZZ_CHECK(((flags & WS_FIRST) == 0) == (f->frag_active != 0));
    if (flags & WS_FIRST) f->frag_active = 1, f->frag_op = opcode, f->frag_len = 0, f->frag_total = 0;
    FUZZ_CHECK(opcode == f->frag_op);
    f->frag_total += len;
    if (f->cfg.max_message) FUZZ_CHECK(f->frag_total <= f->cfg.max_message);
    if (opcode == WS_OP_TEXT) {
        fz_append(&f->frag, &f->frag_len, &f->frag_cap, data, len);
        /* Valid so far; whole at the end. */
        if (flags & WS_LAST) FUZZ_CHECK(ref_utf8_ok(f->frag, f->frag_len));
        else FUZZ_CHECK(ref_utf8_scan(f->frag, f->frag_len, &at) != REF_UTF8_INVALID);
    }
    if (flags & WS_LAST) f->frag_active = 0;
    if (f->acts && (flags & WS_LAST) && opcode == WS_OP_BINARY)
        fz_check_send_result(f, ws_send_binary(c, data, len));
}

static void fz_on_ping(ws_conn *c, const void *data, size_t len) {
    fz *f = fz_of(c);
    fz_trace("ping", (long)len, NULL);
    fz_delivery(f);
    FUZZ_CHECK(len <= 125 && (data != NULL || len == 0));
    if (f->acts && len == 3) fz_check_send_result(f, ws_ping(c, data, len));
    if (f->acts && (f->mood & 4)) fz_check_send_result(f, ws_send_text(c, "pinged"));
}

static void fz_on_pong(ws_conn *c, const void *data, size_t len) {
    fz *f = fz_of(c);
    fz_trace("pong", (long)len, NULL);
    fz_delivery(f);
    FUZZ_CHECK(len <= 125 && (data != NULL || len == 0));
    if (f->acts && (f->mood & 4)) fz_check_send_result(f, ws_ping(c, "again", 5));
}

static void fz_on_close(ws_conn *c, int code, const char *reason) {
    fz *f = fz_of(c);
    fz_state(f);
    fz_trace("close", code, reason);
    FUZZ_CHECK(!f->closed); /* exactly once */
    f->closed = 1;
    FUZZ_CHECK(ws_state(c) == WS_CLOSED);
    FUZZ_CHECK(reason != NULL && strlen(reason) < 4096);
    FUZZ_CHECK(code == WS_CLOSE_NO_STATUS || code == WS_CLOSE_ABNORMAL || ws_close_code_valid((unsigned)code));
    /* Calls after CLOSED are refused without side effects. */
    FUZZ_CHECK(ws_send_text(c, "late") == WS_E_STATE);
    FUZZ_CHECK(ws_close(c, 1000, NULL) == WS_E_STATE);
}

static void fz_on_error(ws_conn *c, int err, const char *reason) {
    fz *f = fz_of(c);
    fz_state(f);
    fz_trace("error", err, reason);
    /* Errors come before on_close. */
    FUZZ_CHECK(!f->closed);
    if (!strcmp(reason, "transport send failed") || !strcmp(reason, "out of memory while queueing a frame"))
        f->dead_reported = 1;
    FUZZ_CHECK(err < 0 && err > WS_E_LAST_ && reason != NULL && reason[0] != '\0');
    /* The documented promise: with on_fragment, any message size works
     * with a receive buffer of 256 bytes or more. */
    if (f->streaming && f->fixed_rx && f->rx_fixed_cap >= 256)
        FUZZ_CHECK(strcmp(reason, "message does not fit the receive buffer") != 0);
    f->errors++;
    /* A host that answers a failure by closing (allowed from any callback):
     * in CONNECTING that drops the connection on the spot. */
    if (f->acts && (f->mood & 1)) {
        int r = ws_close(c, 1001, "error seen");
        FUZZ_CHECK(r == 0 || r == WS_E_STATE || r == WS_E_FULL || r == WS_E_NOMEM || r == WS_E_CLOSED ||
                   r == WS_E_RANDOM || r == WS_E_TOO_BIG);
        fz_state(f);
    }
}

#if FUZZ_SERVER
static int fz_on_request(ws_conn *c, const ws_request *req, ws_accept *acc) {
    fz *f = fz_of(c);
    fz_state(f);
    FUZZ_CHECK(ws_state(c) == WS_CONNECTING && !f->opened);
    FUZZ_CHECK(req->method && req->target && req->host && req->key && strlen(req->key) == WS_KEY_LEN);
    switch (f->scenario) {
    case 1:
        f->chosen_sub = ws_request_offers(req, "chat") ? "chat" : NULL;
        acc->subprotocol = f->chosen_sub;
        acc->extra_headers = "X-Fuzz: 1\r\n";
        return 0;
    case 2: {
        /* Refusals, including statuses the engine must turn into 500. */
        static const int statuses[8] = {403, 404, 408, 429, 503, 200, 42, 1000};
        acc->extra_headers = "X-Why: fuzz\r\n";
        return statuses[f->mood];
    }
    default:
        acc->subprotocol = "bogus"; /* not offered: the engine answers 500 */
        return 0;
    }
}
#endif

/* ---------------------------------------------------------------------------
 * The peer's bytes.
 * ------------------------------------------------------------------------- */
/* Structured mode: the tail is a list of 3-byte frame descriptions
 *   h: FIN(1) RSV(3) opcode(4); l: length (< 0xF0, else 126 + (l-0xF0)*331);
 *   m: 1 wrong masking for the role, 2 non-zero mask key, 4 non-minimal
 *      length encoding, 8 payload from the input (else generated: valid
 *      UTF-8 for text, a close code from a table for close), bits 5-7 the
 *      close code choice
 * turned into real frames, masked as the peer must (or must not). */
static void fz_encode_frames(fz *f, const unsigned char *t, size_t n) {
    static const unsigned close_codes[8] = {1000, 1001, 1005, 999, 3000, 4999, 1015, 1002};
    size_t i = 0;
    while (i + 3 <= n && f->peer_len < FZ_PEER_MAX - 20000) {
        unsigned h = t[i], l = t[i + 1], m = t[i + 2];
        size_t len = l < 0xF0 ? l : 126 + (size_t)(l - 0xF0) * 331, k, hl = 2;
        unsigned char hdr[14], key[4] = {0, 0, 0, 0}, *pl;
        int mask = (FUZZ_SERVER ? 1 : 0) ^ (int)(m & 1);
        i += 3;
        if (m & 2) key[0] = (unsigned char)m, key[1] = 0x5A, key[2] = (unsigned char)(h ^ 0xC3), key[3] = (unsigned char)l;
        hdr[0] = (unsigned char)h;
        if (len < 126 && !(m & 4)) {
            hdr[1] = (unsigned char)len;
        } else if (len <= 0xFFFF && !(len >= 126 && (m & 4))) {
            hdr[1] = 126, hdr[2] = (unsigned char)(len >> 8), hdr[3] = (unsigned char)len, hl = 4;
        } else {
            hdr[1] = 127, hl = 10;
            for (k = 0; k < 8; k++) hdr[2 + k] = (unsigned char)((uint64_t)len >> (56 - 8 * k));
        }
        if (mask) hdr[1] |= 0x80, memcpy(hdr + hl, key, 4), hl += 4;
        fz_grow(&f->peer, &f->peer_cap, f->peer_len + hl + len);
        memcpy(f->peer + f->peer_len, hdr, hl);
        pl = f->peer + f->peer_len + hl;
        if (m & 8) {
            for (k = 0; k < len; k++) pl[k] = i + k < n ? t[i + k] : (unsigned char)k;
            i += len < n - i ? len : n - i;
        } else if ((h & 15) == WS_OP_CLOSE && len >= 2) {
            unsigned code = close_codes[m >> 5];
            pl[0] = (unsigned char)(code >> 8), pl[1] = (unsigned char)code;
            for (k = 2; k < len; k++) pl[k] = (unsigned char)('a' + k % 26);
        } else {
            for (k = 0; k < len; k++) pl[k] = (unsigned char)fz_pattern[k % (sizeof fz_pattern - 1)];
        }
        if (mask) ws_mask(pl, len, key, 0);
        f->peer_len += hl + len;
    }
}

/* ---------------------------------------------------------------------------
 * The host's own calls between the pieces.
 * ------------------------------------------------------------------------- */
static void fz_pattern_bytes(size_t start, unsigned char *out, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) out[i] = (unsigned char)fz_pattern[(start + i) % (sizeof fz_pattern - 1)];
}

static void fz_action(fz *f, unsigned a) {
    ws_conn *c = f->c;
    unsigned kind = a & 7, arg = a >> 3;
    int open = ws_state(c) == WS_OPEN, r;
    unsigned long long before = f->sent_total;
    static unsigned char buf[70000];
    size_t n, at;
    switch (kind) {
    case 0: /* nothing, or the transport breaks */
        if (arg == 31) f->send_fail = 1;
        if (arg == 30) f->recv_fail = 1;
        break;
    case 1: /* a whole text message, cut at a code point */
        n = (size_t)arg * 7;
        fz_pattern_bytes(0, buf, n);
        while (n && ref_utf8_scan(buf, n, &at) != REF_UTF8_VALID) n--;
        r = ws_send(c, WS_OP_TEXT, buf, n);
        if (!open || f->send_active) FUZZ_CHECK(r == WS_E_STATE);
        else fz_check_send_len(f, r, n);
        break;
    case 2: /* a binary message; the largest needs a 64-bit... 16-bit length */
        n = arg == 31 ? sizeof buf : (size_t)arg * 37;
        memset(buf, (int)arg, n);
        r = ws_send_binary(c, buf, n);
        if (!open || f->send_active) FUZZ_CHECK(r == WS_E_STATE);
        else fz_check_send_len(f, r, n);
        break;
    case 3: { /* a piece of a fragmented message (text may split a code point) */
        int fin = (int)((arg >> 1) & 1), op, text, rs;
        n = (size_t)(arg >> 2) * 5;
        if (!f->send_active) op = (arg & 1) ? WS_OP_TEXT : WS_OP_BINARY, text = op == WS_OP_TEXT;
        else op = WS_OP_CONTINUATION, text = f->send_text;
        fz_pattern_bytes(f->pattern_pos, buf, n);
        r = ws_send_frame(c, op, buf, n, fin);
        if (!open) {
            FUZZ_CHECK(r == WS_E_STATE);
            break;
        }
        if (text) {
            unsigned char *all = (unsigned char *)malloc(f->send_msg_len + n + 1);
            if (!all) abort();
            if (f->send_msg_len) memcpy(all, f->send_msg, f->send_msg_len);
            memcpy(all + f->send_msg_len, buf, n);
            rs = ref_utf8_scan(all, f->send_msg_len + n, &at);
            free(all);
            FUZZ_CHECK(rs != REF_UTF8_INVALID);
            if (fin && rs == REF_UTF8_TRUNCATED) {
                FUZZ_CHECK(r == WS_E_UTF8);
                FUZZ_CHECK(f->sent_total == before);
                break;
            }
        }
        fz_check_send_len(f, r, n);
        FUZZ_CHECK(r != WS_E_STATE);
        if (r == 0) {
            if (!f->send_active) f->send_text = text, f->send_msg_len = 0;
            if (text) fz_append(&f->send_msg, &f->send_msg_len, &f->send_msg_cap, buf, n);
            f->pattern_pos += n;
            f->send_active = !fin;
            if (fin) f->send_msg_len = 0, f->pattern_pos = 0;
        }
        break;
    }
    case 4: /* ping; longer than 125 is refused */
        n = arg < 26 ? (size_t)arg * 5 : 126;
        memset(buf, 'p', n);
        r = ws_ping(c, buf, n);
        if (!open) FUZZ_CHECK(r == WS_E_STATE);
        else if (n > 125) FUZZ_CHECK(r == WS_E_INVALID && f->sent_total == before);
        else fz_check_send_len(f, r, n);
        break;
    case 5: { /* close, with valid and invalid codes and reasons */
        static const char long_reason[] = "0123456789012345678901234567890123456789012345678901234567890123456789"
                                          "012345678901234567890123456789012345678901234567890123";
        int code = fz_close_codes[arg & 7];
        const char *reason = (arg & 8) ? long_reason : (arg & 16) ? "\xff" : code ? "bye" : NULL;
        int valid = (code == 0 && !reason) || (code && ws_close_code_valid((unsigned)code) && reason != long_reason &&
                                               ref_utf8_ok(reason, strlen(reason)));
        int was = (int)ws_state(c);
        r = ws_close(c, code, reason);
        if (was == WS_CONNECTING) {
            FUZZ_CHECK(r == 0 && ws_state(c) == WS_CLOSED && f->closed);
        } else if (was != WS_OPEN) {
            FUZZ_CHECK(r == WS_E_STATE);
        } else if (!valid) {
            FUZZ_CHECK(r == WS_E_INVALID && f->sent_total == before);
        } else {
            FUZZ_CHECK(r == 0 || r == WS_E_FULL || r == WS_E_NOMEM || r == WS_E_CLOSED || r == WS_E_RANDOM ||
                       r == WS_E_TOO_BIG);
            if (r == 0) FUZZ_CHECK(ws_state(c) >= WS_CLOSING);
        }
        break;
    }
    case 6: { /* a pump with nothing to read, a flush, and the queries */
        long t;
        r = ws_pump(c);
        FUZZ_CHECK((r == WS_E_CLOSED) == (ws_state(c) == WS_CLOSED) && (r == 0 || r == WS_E_CLOSED));
        if (ws_state(c) != WS_CLOSED) {
            r = ws_flush(c);
            FUZZ_CHECK(r == 0 || r == WS_E_AGAIN || r == WS_E_CLOSED);
        }
        t = ws_next_timeout(c);
        FUZZ_CHECK(t >= -1);
        if (!f->clock) FUZZ_CHECK(t == -1);
        /* Queued bytes want writing, unless the connection is over. */
        FUZZ_CHECK((ws_buffered_amount(c) != 0 && ws_state(c) != WS_CLOSED) == (ws_wants_write(c) != 0));
        FUZZ_CHECK(ws_reason(c) != NULL);
        FUZZ_CHECK(ws_http_status(c) >= 0 && ws_http_status(c) <= 999);
        break;
    }
    case 7: /* refused sends write nothing */
        if (arg & 1) {
            r = ws_send(c, WS_OP_TEXT, "\xc3\x28", 2);
            if (open && !f->send_active) FUZZ_CHECK(r == WS_E_UTF8);
            else FUZZ_CHECK(r == WS_E_STATE);
        } else if (arg & 2) {
            r = ws_send(c, WS_OP_PING, "x", 1);
            FUZZ_CHECK(r == WS_E_INVALID);
        } else if (arg & 4) {
            r = ws_send_frame(c, WS_OP_CLOSE, "xx", 2, 1);
            FUZZ_CHECK(r < 0);
        } else {
            /* Reserved opcodes are invalid anywhere; a continuation without
             * a message in progress is out of place. */
            FUZZ_CHECK(ws_send_frame(c, 3, "x", 1, 1) == WS_E_INVALID);
            FUZZ_CHECK(ws_send_frame(c, 11, "x", 1, 1) == WS_E_INVALID);
            if (!f->send_active) FUZZ_CHECK(ws_send_frame(c, WS_OP_CONTINUATION, "x", 1, 1) == WS_E_STATE);
        }
        FUZZ_CHECK(f->sent_total == before);
        break;
    default:
        break;
    }
    fz_state(f);
}

static void fz_check_pump(fz *f, int r) {
    FUZZ_CHECK(r == 0 || r == WS_E_CLOSED);
    FUZZ_CHECK((r == WS_E_CLOSED) == (ws_state(f->c) == WS_CLOSED));
    fz_state(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f;
    ws_conn c;
    ws_io io;
    unsigned char cfgb[4];
    const unsigned char *sched = data + 5;
    size_t nsched, tail_off, i, k, steps, max_steps;
    unsigned rx_idx, tx_idx, bufmode;
    int r, started = 1;

    memset(&f, 0, sizeof f);
    memset(&io, 0, sizeof io);
    for (i = 0; i < 4; i++) cfgb[i] = i < size ? data[i] : 0;
    nsched = size > 4 ? (data[4] & 31u) % 17u : 0;
    if (5 + 2 * nsched > size) nsched = size > 5 ? (size - 5) / 2 : 0;
    tail_off = 5 + 2 * nsched;
    if (tail_off > size) tail_off = size;

    f.streaming = cfgb[0] & 1;
    f.prepend = (cfgb[0] >> 1) & 1;
    f.clock = (cfgb[0] >> 3) & 1;
    f.acts = (cfgb[0] >> 6) & 1;
    f.mood = size > 4 ? data[4] >> 5 : 0;
    f.start_open = (cfgb[0] >> 7) & 1;
    rx_idx = cfgb[1] & 15u;
    tx_idx = cfgb[2] & 7u;
    f.random_fail = (cfgb[2] >> 3) & 1;
    bufmode = cfgb[3] & 3u;
    f.fail_at = (cfgb[3] >> 2) & 7u;
    f.scenario = (cfgb[3] >> 5) & 3;
    f.fixed_rx = bufmode == 0 || bufmode == 2;
    f.fixed_tx = bufmode == 0 || bufmode == 3;

    f.cfg.on_open = fz_on_open;
    if (f.streaming) f.cfg.on_fragment = fz_on_fragment;
    else f.cfg.on_message = fz_on_message;
    f.cfg.on_ping = fz_on_ping;
    f.cfg.on_pong = fz_on_pong;
    f.cfg.on_close = fz_on_close;
    f.cfg.on_error = fz_on_error;
#if FUZZ_SERVER
    if (f.scenario) f.cfg.on_request = fz_on_request;
#endif
    if (!f.fixed_rx || !f.fixed_tx) f.cfg.realloc_fn = fz_realloc;
    f.cfg.alloc_user = &f;
    f.cfg.max_message = fz_max_message[cfgb[1] >> 4];
    f.cfg.max_frame = fz_max_frame[(cfgb[2] >> 4) & 3u];
    f.cfg.max_header = fz_max_header[cfgb[2] >> 6];
    f.cfg.rx_chunk = fz_rx_chunk[rx_idx];
    f.cfg.max_send_buffer = fz_tx_max[tx_idx];
    f.cfg.handshake_timeout_ms = 3000;
    f.cfg.close_timeout_ms = 2000;
    f.cfg.ping_interval_ms = (cfgb[3] & 0x80u) ? 1000u : 0u;
    f.cfg.no_auto_pong = (cfgb[0] >> 4) & 1;

    io.recv = fz_recv;
    io.send = fz_send;
    if (cfgb[0] & 4u) io.sendv = fz_sendv;
    io.random = fz_random;
    if (f.clock) io.now_ms = fz_now;
    f.rng = 0x2545F491u;
    f.now = 1000;

    ws_conn_init(&c, &f.cfg, &io, &f);
    c.user = &f;
    f.c = &c;
    f.last_state = WS_CONNECTING;
    if (f.fixed_rx) {
        f.rx_fixed_cap = fz_rx_fixed[rx_idx];
        f.rx_fixed = (unsigned char *)malloc(f.rx_fixed_cap);
    }
    if (f.fixed_tx) {
        f.tx_fixed_cap = fz_tx_fixed[tx_idx];
        f.tx_fixed = (unsigned char *)malloc(f.tx_fixed_cap);
    }
    if ((f.fixed_rx && !f.rx_fixed) || (f.fixed_tx && !f.tx_fixed)) abort();
    r = ws_conn_set_buffers(&c, f.rx_fixed, f.rx_fixed_cap, f.tx_fixed, f.tx_fixed_cap);
    if ((f.fixed_rx && f.rx_fixed_cap < WS_MIN_BUFFER) || (f.fixed_tx && f.tx_fixed_cap < WS_MIN_BUFFER)) {
        /* Refused, and nothing taken: go on without fixed buffers. */
        FUZZ_CHECK(r == WS_E_INVALID);
        free(f.rx_fixed);
        free(f.tx_fixed);
        f.rx_fixed = f.tx_fixed = NULL;
        f.rx_fixed_cap = f.tx_fixed_cap = 0;
        f.fixed_rx = f.fixed_tx = 0;
    } else {
        FUZZ_CHECK(r == 0);
    }

    /* The largest message the host may be handed. */
    if (f.streaming) {
        f.limit = f.cfg.max_message ? f.cfg.max_message : UINT64_MAX;
    } else {
        f.limit = f.cfg.max_message ? f.cfg.max_message : f.fixed_rx ? UINT64_MAX : (uint64_t)16 << 20;
        if (f.fixed_rx) {
            uint64_t fit = f.rx_fixed_cap > WS_RX_RESERVE ? f.rx_fixed_cap - WS_RX_RESERVE : 0;
            if (f.limit > fit) f.limit = fit;
        }
    }

    /* Start the role. */
    if (f.start_open) {
        f.chk_phase = 1;
        FUZZ_CHECK(ws_start_open(&c, FUZZ_SERVER) == 0);
        FUZZ_CHECK(f.opened && ws_state(&c) >= WS_OPEN); /* on_open may close at once */
    } else {
#if FUZZ_SERVER
        FUZZ_CHECK(ws_server_start(&c) == 0);
        if (f.prepend) {
            static const char req[] = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
                                      "Connection: Upgrade\r\nSec-WebSocket-Key: " FZ_KEY "\r\n"
                                      "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n";
            static const char protos[] = "Sec-WebSocket-Protocol: chat, superchat\r\n";
            fz_append(&f.peer, &f.peer_len, &f.peer_cap, req, sizeof req - 1);
            if (f.scenario) fz_append(&f.peer, &f.peer_len, &f.peer_cap, protos, sizeof protos - 1);
            fz_append(&f.peer, &f.peer_len, &f.peer_cap, "\r\n", 2);
        }
#else
        f.opt.host = "example.com";
        f.opt.port = 8080;
        f.opt.path = "/chat?x=1";
        f.opt.origin = "http://example.com";
        f.opt.subprotocols = f.scenario == 3 ? "chat" : f.scenario ? "chat, superchat" : NULL;
        f.opt.extra_headers = (f.scenario & 1) ? "X-Fuzz: 1\r\n" : NULL;
        r = ws_client_start(&c, &f.opt);
        if (r < 0) {
            FUZZ_CHECK(r == WS_E_NOMEM || r == WS_E_RANDOM);
            FUZZ_CHECK(f.sent_total == 0 && ws_state(&c) == WS_CONNECTING);
            started = 0;
        } else {
            FUZZ_CHECK(ws_state(&c) == WS_CONNECTING && ws_wants_write(&c));
        }
        ws_base64_encode(f.key_bytes, 16, f.key, sizeof f.key);
        if (started && f.prepend) {
            char accept[WS_ACCEPT_LEN + 1], head[512];
            int hn;
            ws_accept_key(f.key, WS_KEY_LEN, accept);
            hn = snprintf(head, sizeof head,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n%s\r\n",
                          accept,
                          f.scenario == 1   ? "Sec-WebSocket-Protocol: chat\r\n"
                          : f.scenario == 3 ? "Sec-WebSocket-Protocol: bogus\r\n"
                                            : "");
            fz_append(&f.peer, &f.peer_len, &f.peer_cap, head, (size_t)hn);
        }
#endif
    }
    if (!started) goto done;
    if (cfgb[0] & 32u) fz_encode_frames(&f, data + tail_off, size - tail_off);
    else fz_append(&f.peer, &f.peer_len, &f.peer_cap, data + tail_off, size - tail_off);

    /* Deliver the peer's bytes piece by piece, with the host's actions. */
    /* Bounded work per input: past the step budget the rest goes in whole. */
    max_steps = 4 * (f.peer_len + nsched) + 64;
    if (max_steps > FZ_MAX_STEPS) max_steps = FZ_MAX_STEPS;
    for (k = 0, steps = 0; ws_state(&c) != WS_CLOSED && (f.peer_pos < f.peer_len || k < nsched) && steps < max_steps;
         k++, steps++) {
        unsigned piece = nsched ? sched[2 * (k % nsched)] : 0x0Fu;
        unsigned action = nsched ? sched[2 * (k % nsched) + 1] : 0u;
        size_t want = fz_piece[piece & 15u], rem = f.peer_len - f.peer_pos;
        if (!want || want > rem) want = rem;
        if (piece & 0x40u) f.send_block = !f.send_block;
        if ((piece & 0x80u) && f.clock) f.now += FZ_CLOCK_STEP;
        switch ((piece >> 4) & 3u) {
        case 0:
            r = ws_feed(&c, f.peer ? f.peer + f.peer_pos : (const unsigned char *)"", want);
            f.peer_pos += want;
            break;
        case 1:
            f.recv_allow = want;
            r = ws_pump(&c);
            break;
        case 2:
            f.recv_allow = want;
            f.recv_again = 1;
            r = ws_pump(&c);
            if (r == 0) r = ws_pump(&c);
            break;
        default:
            f.recv_allow = want * 4;
            f.recv_max = want ? want : 1;
            r = ws_pump(&c);
            f.recv_max = 0;
            break;
        }
        f.recv_allow = 0;
        f.recv_again = 0;
        fz_check_pump(&f, r);
        fz_action(&f, action);
    }

    if (ws_state(&c) != WS_CLOSED && f.peer_pos < f.peer_len) {
        fz_check_pump(&f, ws_feed(&c, f.peer + f.peer_pos, f.peer_len - f.peer_pos));
        f.peer_pos = f.peer_len;
    }

    /* The end: the transport drains, the timers run out, the peer hangs up. */
    f.send_block = 0;
    for (i = 0; i < 4 && ws_state(&c) != WS_CLOSED; i++) {
        if (i == 1 && f.clock) f.now += 60000;
        if (i >= 2) f.eof = 1;
        fz_check_pump(&f, ws_pump(&c));
    }
    FUZZ_CHECK(ws_state(&c) == WS_CLOSED);
    FUZZ_CHECK(f.closed == 1);
    FUZZ_CHECK(ws_pump(&c) == WS_E_CLOSED && ws_feed(&c, "x", 1) == WS_E_CLOSED);

done:
    ws_conn_release(&c);
    for (i = 0; i < 8; i++) FUZZ_CHECK(f.blocks[i].p == NULL); /* nothing leaked */
    if (!started) FUZZ_CHECK(!f.closed);
    free(f.rx_fixed);
    free(f.tx_fixed);
    free(f.peer);
    free(f.out);
    free(f.chk_msg);
    free(f.frag);
    free(f.send_msg);
    return 0;
}
