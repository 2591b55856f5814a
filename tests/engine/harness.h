/* In-memory harness for the engine tests: no sockets, no threads.
 *
 * A session (hsess) is one ws_conn wired to two byte pipes through a ws_io
 * whose callbacks can be calm, byte-at-a-time or chaotic (random chunk
 * sizes, would-block on recv and send, partial sends, optional sendv), a
 * seeded random source and a fake clock the test moves by hand. The engine's
 * callbacks are recorded as a text log ("open\"\" text\"hi\" close:1000") so a
 * table row states the expected events as one string; the bytes the engine
 * wrote are parsed back (HTTP head, then frames, unmasked) and rendered the
 * same way (">pong\"x\" >close:1002") and checked against RFC 6455 rules
 * for the sender's role.
 *
 * Every input can be delivered five ways (D_*): whole, one byte per recv,
 * random splits with would-block injected on both sides, ws_feed in one call
 * and ws_feed in random pieces. The log and the rendered output must be the
 * same whichever way the bytes arrived.
 *
 * Each test program includes this once and ends with h_report(), which prints
 * "N passed, N failed". */
#ifndef ENGINE_HARNESS_H
#define ENGINE_HARNESS_H

#ifndef WS_NO_SOCKETS
#define WS_NO_SOCKETS
#endif
#define WS_IMPLEMENTATION
#include "ws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__) || defined(__clang__)
#define H static __attribute__((unused))
#else
#define H static
#endif

/* ---------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------- */
static unsigned long h_passed, h_failed;
static char h_ctx[512]; /* the case being run, printed with each failure */

static unsigned long h_show = 60; /* failures printed in full (H_SHOW overrides) */

H int h_check(int ok, const char *expr, const char *file, int line) {
    if (ok) {
        h_passed++;
        return 1;
    }
    h_failed++;
    if (h_failed == 1 && getenv("H_SHOW")) h_show = strtoul(getenv("H_SHOW"), NULL, 10);
    if (h_failed <= h_show) printf("FAIL %s:%d: %s\n    in: %s\n", file, line, expr, h_ctx);
    else if (h_failed == h_show + 1) printf("(further failures not shown)\n");
    return 0;
}

#define CHECK(cond) h_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
/* WS_SMALL leaves the explanations out: where the full build must give a
 * reason, the small one must give "" (and no stray text). */
#ifdef WS_SMALL
#define REASONS_GIVEN 0
#else
#define REASONS_GIVEN 1
#endif
#define HAS_REASON(text) (((text)[0] != 0) == REASONS_GIVEN)
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (!h_check((cond) ? 1 : 0, #cond, __FILE__, __LINE__) && h_failed <= h_show) {               \
            printf("    ");                                                                        \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)
#define CHECK_STR(got, want)                                                                       \
    CHECKF(strcmp((got), (want)) == 0, "got  [%s]\n    want [%s]", (got), (want))
#define CHECK_INT(got, want)                                                                       \
    CHECKF((long long)(got) == (long long)(want), "got %lld, want %lld", (long long)(got),         \
           (long long)(want))

H void h_set_ctx(const char *fmt, ...) {
    static int buffered;
    va_list ap;
    if (!buffered) { /* so nothing is lost if a sanitizer aborts */
        setvbuf(stdout, NULL, _IOLBF, 0);
        buffered = 1;
    }
    va_start(ap, fmt);
    vsnprintf(h_ctx, sizeof h_ctx, fmt, ap);
    va_end(ap);
}

H int h_report(void) {
    printf("%lu passed, %lu failed\n", h_passed, h_failed);
    return h_failed ? 1 : 0;
}

/* ---------------------------------------------------------------------------
 * Bytes, random numbers
 * ------------------------------------------------------------------------- */
typedef struct hbuf {
    unsigned char *p;
    size_t len, cap;
} hbuf;

H void hb_reserve(hbuf *b, size_t more) {
    size_t cap = b->cap ? b->cap : 64;
    if (b->len + more + 1 <= b->cap) return;
    while (cap < b->len + more + 1) cap *= 2;
    b->p = (unsigned char *)realloc(b->p, cap);
    if (!b->p) {
        printf("out of memory in the test harness\n");
        exit(2);
    }
    b->cap = cap;
}

/* Appends and keeps a NUL after the data, so a buffer of text is a string. */
H void hb_add(hbuf *b, const void *p, size_t n) {
    hb_reserve(b, n);
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}
H void hb_str(hbuf *b, const char *s) { hb_add(b, s, strlen(s)); }
H void hb_byte(hbuf *b, unsigned v) {
    unsigned char ch = (unsigned char)v;
    hb_add(b, &ch, 1);
}
H void hb_printf(hbuf *b, const char *fmt, ...) {
    char tmp[1024];
    int n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) hb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
H void hb_clear(hbuf *b) {
    b->len = 0;
    if (b->p) b->p[0] = 0;
}
H void hb_free(hbuf *b) {
    free(b->p);
    b->p = NULL, b->len = b->cap = 0;
}
H const char *hb_cstr(hbuf *b) {
    hb_reserve(b, 0);
    b->p[b->len] = 0;
    return (const char *)b->p;
}

/* splitmix64 */
typedef struct hrng {
    uint64_t s;
} hrng;

H uint64_t hr_next(hrng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* [0, n), n > 0 */
H size_t hr_below(hrng *r, size_t n) { return n ? (size_t)(hr_next(r) % n) : 0; }
H void hr_fill(hrng *r, void *p, size_t n) {
    unsigned char *q = (unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) q[i] = (unsigned char)hr_next(r);
}
/* A chunk length in [1, n] that is small as often as it is large. */
H size_t hr_chunk(hrng *r, size_t n) {
    size_t k;
    if (n <= 1) return n;
    switch (hr_below(r, 4)) {
    case 0: k = 1 + hr_below(r, 3); break;
    case 1: k = 1 + hr_below(r, 32); break;
    case 2: k = 1 + hr_below(r, 700); break;
    default: k = 1 + hr_below(r, n); break;
    }
    return k < n ? k : n;
}

/* The deterministic payload byte at `pos` of message `id`, so a receiver can
 * check content without keeping a copy. */
H unsigned char h_pattern(uint64_t id, uint64_t pos) {
    uint64_t z = id * 0x9E3779B97F4A7C15ull + pos * 0xD6E8FEB86659FD93ull;
    z ^= z >> 29;
    z *= 0xBF58476D1CE4E5B9ull;
    return (unsigned char)(z >> 40);
}

/* ---------------------------------------------------------------------------
 * Independent helpers (so checks do not lean on the code under test)
 * ------------------------------------------------------------------------- */
H int h_b64val(int ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Decodes padded base64; returns the byte count or -1. */
H int h_b64decode(const char *s, size_t n, unsigned char *out, size_t cap) {
    size_t i, o = 0;
    if (n % 4) return -1;
    for (i = 0; i < n; i += 4) {
        int v[4], k, pad = 0;
        for (k = 0; k < 4; k++) {
            if (s[i + (size_t)k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0, pad++;
            } else {
                if (pad) return -1;
                v[k] = h_b64val((unsigned char)s[i + (size_t)k]);
                if (v[k] < 0) return -1;
            }
        }
        if (o + 3 - (size_t)pad > cap) return -1;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (pad < 2) out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (pad < 1) out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    return (int)o;
}

/* Case-insensitive search for a header line "Name: value" inside an HTTP
 * head; copies the value (trimmed) and returns 1, or returns 0. Returns the
 * number of such lines through *count when count is not NULL. */
H int h_http_header(const char *head, const char *name, char *value, size_t cap, int *count) {
    const char *p = strstr(head, "\r\n");
    size_t nlen = strlen(name);
    int found = 0;
    if (count) *count = 0;
    while (p && p[2] && !(p[2] == '\r' && p[3] == '\n')) {
        const char *line = p + 2, *eol = strstr(line, "\r\n");
        size_t i;
        if (!eol) break;
        for (i = 0; i < nlen && line + i < eol; i++) {
            int a = line[i], b = name[i];
            if (a >= 'A' && a <= 'Z') a += 32;
            if (b >= 'A' && b <= 'Z') b += 32;
            if (a != b) break;
        }
        if (i == nlen && line[nlen] == ':') {
            const char *v = line + nlen + 1, *e = eol;
            while (*v == ' ' || *v == '\t') v++;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            if (!found && value) {
                size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
                memcpy(value, v, n);
                value[n] = 0;
            }
            found = 1;
            if (count) (*count)++;
        }
        p = eol;
    }
    return found;
}

/* Short names for the WS_E_* codes, for the event log. */
H const char *h_errname(int e) {
    switch (e) {
    case WS_OK: return "OK";
    case WS_E_AGAIN: return "AGAIN";
    case WS_E_INCOMPLETE: return "INCOMPLETE";
    case WS_E_INVALID: return "INVALID";
    case WS_E_NOMEM: return "NOMEM";
    case WS_E_FULL: return "FULL";
    case WS_E_STATE: return "STATE";
    case WS_E_PROTOCOL: return "PROTOCOL";
    case WS_E_UTF8: return "UTF8";
    case WS_E_TOO_BIG: return "TOO_BIG";
    case WS_E_HANDSHAKE: return "HANDSHAKE";
    case WS_E_TIMEOUT: return "TIMEOUT";
    case WS_E_CLOSED: return "CLOSED";
    case WS_E_IO: return "IO";
    case WS_E_RANDOM: return "RANDOM";
    default: return "?";
    }
}

/* A payload in the log: short printable text as is, anything else escaped;
 * long payloads as length and a checksum. */
H void h_render(hbuf *b, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    if (n > 48) {
        uint32_t sum = 2166136261u;
        for (i = 0; i < n && p[i] == 'a' + i % 26; i++) continue;
        if (i == n) { /* the rows' pattern */
            hb_printf(b, "[%lu:az]", (unsigned long)n);
            return;
        }
        for (i = 0; i < n; i++) sum = (sum ^ p[i]) * 16777619u;
        hb_printf(b, "[%lu:%08lx]", (unsigned long)n, (unsigned long)sum);
        return;
    }
    hb_str(b, "\"");
    for (i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') hb_byte(b, p[i]);
        else hb_printf(b, "\\x%02x", p[i]);
    }
    hb_str(b, "\"");
}

/* ---------------------------------------------------------------------------
 * Frames the scripted peer sends
 * ------------------------------------------------------------------------- */
/* Writes one frame: b0 is the first header byte (FIN, RSV, opcode); the
 * length field announces `announce` bytes (encoded minimally unless len_bytes
 * is 2 or 8 to force the 16- or 64-bit form); `n` payload bytes follow,
 * masked with a random non-zero key when `mask`. Returns the key offset for
 * the byte after the payload (to mask a later part with h_mask_more). */
H void h_frame_ex(hbuf *b, hrng *r, int mask, unsigned b0, uint64_t announce, int len_bytes,
                  const void *data, size_t n, unsigned char key_out[4]) {
    unsigned char key[4] = {0, 0, 0, 0};
    size_t i;
    hb_byte(b, b0);
    if (len_bytes == 8 || (len_bytes == 0 && announce > 0xFFFFu)) {
        hb_byte(b, (mask ? 0x80u : 0u) | 127u);
        for (i = 0; i < 8; i++) hb_byte(b, (unsigned)(announce >> (56 - 8 * i)) & 0xFFu);
    } else if (len_bytes == 2 || (len_bytes == 0 && announce > 125)) {
        hb_byte(b, (mask ? 0x80u : 0u) | 126u);
        hb_byte(b, (unsigned)(announce >> 8) & 0xFFu);
        hb_byte(b, (unsigned)announce & 0xFFu);
    } else {
        hb_byte(b, (mask ? 0x80u : 0u) | (unsigned)announce);
    }
    if (mask) {
        do hr_fill(r, key, 4);
        while (!key[0] && !key[1] && !key[2] && !key[3]);
        hb_add(b, key, 4);
    }
    hb_reserve(b, n);
    for (i = 0; i < n; i++) {
        unsigned char ch = ((const unsigned char *)data)[i];
        b->p[b->len++] = mask ? (unsigned char)(ch ^ key[i & 3]) : ch;
    }
    b->p[b->len] = 0;
    if (key_out) memcpy(key_out, key, 4);
}

H void h_frame(hbuf *b, hrng *r, int mask, unsigned b0, const void *data, size_t n) {
    h_frame_ex(b, r, mask, b0, n, 0, data, n, NULL);
}

/* More payload of a frame begun with h_frame_ex, from payload offset `off`. */
H void h_mask_more(hbuf *b, const unsigned char key[4], int mask, size_t off, const void *data,
                   size_t n) {
    size_t i;
    hb_reserve(b, n);
    for (i = 0; i < n; i++) {
        unsigned char ch = ((const unsigned char *)data)[i];
        b->p[b->len++] = mask ? (unsigned char)(ch ^ key[(off + i) & 3]) : ch;
    }
    b->p[b->len] = 0;
}

/* A close frame payload: code (0 for none) and reason. */
H void h_close_frame(hbuf *b, hrng *r, int mask, unsigned code, const char *reason) {
    unsigned char p[130];
    size_t n = 0, rl = reason ? strlen(reason) : 0;
    if (code) {
        p[0] = (unsigned char)(code >> 8), p[1] = (unsigned char)code;
        memcpy(p + 2, reason, rl);
        n = 2 + rl;
    }
    h_frame(b, r, mask, 0x88, p, n);
}

/* ---------------------------------------------------------------------------
 * The transport
 * ------------------------------------------------------------------------- */
typedef struct hpipe {
    hbuf b;
    size_t rd;
    int eof; /* after the bytes, recv says the stream ended */
} hpipe;

enum { IO_CALM, IO_BYTE, IO_CHAOS };

typedef struct hio {
    hpipe *in, *out;
    int mode;
    hrng rng;            /* chaos decisions */
    unsigned again_pct;  /* chaos: share of calls that would block */
    int feed_only;       /* recv never has bytes (they come by ws_feed) */
    int send_blocked;    /* every send would block */
    size_t send_limit;   /* most bytes one send takes (0: any) */
    int use_budget;      /* 1: sends take at most send_budget bytes in all */
    size_t send_budget;
    int send_fail, recv_fail, random_fail;
    unsigned long send_calls, sendv_calls, recv_calls;
    uint64_t now;        /* the fake clock */
    hrng keys;           /* the random() source */
    hbuf random_log;     /* everything random() handed out */
} hio;

H size_t h_io_take(hio *e, size_t n) {
    if (e->send_limit && n > e->send_limit) n = e->send_limit;
    if (e->use_budget) {
        if (n > e->send_budget) n = e->send_budget;
        e->send_budget -= n;
    }
    if (e->mode == IO_BYTE) return n ? 1 : 0;
    if (e->mode == IO_CHAOS && n > 1 && hr_below(&e->rng, 3) == 0) return hr_chunk(&e->rng, n);
    return n;
}

H ptrdiff_t h_recv(void *user, void *buf, size_t cap) {
    hio *e = (hio *)user;
    hpipe *in = e->in;
    size_t avail = in->b.len - in->rd, n;
    e->recv_calls++;
    if (e->recv_fail) return WS_E_IO;
    if (e->feed_only || !avail) return in->eof && !avail ? 0 : WS_E_AGAIN;
    if (e->mode == IO_CHAOS && hr_below(&e->rng, 100) < e->again_pct) return WS_E_AGAIN;
    if (!cap) return WS_E_AGAIN;
    n = avail < cap ? avail : cap;
    if (e->mode == IO_BYTE) n = 1;
    else if (e->mode == IO_CHAOS) n = hr_chunk(&e->rng, n);
    memcpy(buf, in->b.p + in->rd, n);
    in->rd += n;
    return (ptrdiff_t)n;
}

H ptrdiff_t h_send(void *user, const void *buf, size_t len) {
    hio *e = (hio *)user;
    size_t n;
    e->send_calls++;
    if (e->send_fail) return WS_E_IO;
    if (e->send_blocked) return WS_E_AGAIN;
    if (e->mode == IO_CHAOS && hr_below(&e->rng, 100) < e->again_pct) return WS_E_AGAIN;
    if (e->use_budget && !e->send_budget && len) return WS_E_AGAIN;
    n = h_io_take(e, len);
    hb_add(&e->out->b, buf, n);
    return (ptrdiff_t)n;
}

H ptrdiff_t h_sendv(void *user, const ws_iovec *iov, int count) {
    hio *e = (hio *)user;
    size_t total = 0, n, done = 0;
    int i;
    e->sendv_calls++;
    if (e->send_fail) return WS_E_IO;
    if (e->send_blocked) return WS_E_AGAIN;
    if (e->mode == IO_CHAOS && hr_below(&e->rng, 100) < e->again_pct) return WS_E_AGAIN;
    for (i = 0; i < count; i++) total += iov[i].len;
    if (e->use_budget && !e->send_budget && total) return WS_E_AGAIN;
    n = h_io_take(e, total);
    for (i = 0; i < count && done < n; i++) {
        size_t k = iov[i].len < n - done ? iov[i].len : n - done;
        hb_add(&e->out->b, iov[i].base, k);
        done += k;
    }
    return (ptrdiff_t)n;
}

H int h_random(void *user, void *buf, size_t len) {
    hio *e = (hio *)user;
    if (e->random_fail) return WS_E_RANDOM;
    hr_fill(&e->keys, buf, len);
    hb_add(&e->random_log, buf, len);
    return 0;
}

H uint64_t h_now(void *user) { return ((hio *)user)->now; }

static const ws_io h_io_plain = {h_recv, h_send, NULL, h_random, h_now};
static const ws_io h_io_vec = {h_recv, h_send, h_sendv, h_random, h_now};
static const ws_io h_io_noclock = {h_recv, h_send, NULL, h_random, NULL};

/* ---------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------- */
enum { D_WHOLE, D_BYTE, D_RANDOM, D_FEED, D_FEED_SPLIT, D_COUNT };
static const char *const h_dname[D_COUNT] = {"whole", "byte", "random", "feed", "feed-split"};

typedef struct hsess hsess;
struct hsess {
    ws_conn c;
    ws_config cfg;
    hio io;
    hpipe in, out; /* in: to the engine; out: what it wrote */
    int server, delivery, streaming;
    hrng rng;      /* delivery decisions */
    unsigned char *rxbuf, *txbuf;
    /* allocator accounting */
    long live_allocs;
    size_t live_bytes, peak_bytes;
    unsigned long alloc_calls;
    long fail_alloc_at; /* the n-th allocation fails (0: never) */
    /* events */
    hbuf log;
    int opens, closes, errors, close_code, last_err, state_regressed, order_bad, cb_state_bad;
    int err_state; /* readyState inside the last on_error */
    int last_state;
    char close_reason[256], err_reason[256], open_sub[128];
    /* streaming assembly */
    hbuf msg;
    int msg_open, msg_op, frag_bad;
    unsigned long fragments;
    /* behaviour of the callbacks */
    int echo;             /* send every message back */
    int close_in_message; /* ws_close(1000, "done") from on_message */
    int echo_rc;          /* last ws_send result inside a callback */
    const char *open_send; /* text sent from on_open */
    void (*on_msg)(hsess *s, int op, const unsigned char *p, size_t n); /* instead of logging */
    void *user;
    /* the opening handshake */
    int (*on_request)(hsess *s, const ws_request *req, ws_accept *acc);
    char key[32];         /* client: the key it sent */
    size_t http_len;      /* bytes of the HTTP head at the start of out (0: none yet) */
    int no_http;          /* ws_start_open: no HTTP head */
    /* transport choices, made before the start */
    size_t rx_cap, tx_cap; /* fixed buffers (0: allocator) */
    int use_vec;           /* 1: io with sendv, 0: without, -1: by seed */
    int no_clock;          /* io without now_ms */
    uint64_t seed;
};

H hsess *h_sess(ws_conn *c) { return (hsess *)c->user; }

H void h_note_state(hsess *s) {
    int st = (int)ws_state(&s->c);
    if (st < s->last_state) s->state_regressed = 1;
    s->last_state = st;
}

H void h_log_sep(hsess *s) {
    if (s->log.len) hb_str(&s->log, " ");
}

H void hcb_open(ws_conn *c, const char *sub) {
    hsess *s = h_sess(c);
    if (ws_state(c) != WS_OPEN) s->cb_state_bad = 1;
    h_note_state(s);
    s->opens++;
    snprintf(s->open_sub, sizeof s->open_sub, "%s", sub ? sub : "(null)");
    h_log_sep(s);
    hb_str(&s->log, "open");
    h_render(&s->log, sub ? sub : "", sub ? strlen(sub) : 0);
    if (s->open_send) s->echo_rc = ws_send_text(c, s->open_send);
}

H void h_got_message(hsess *s, int op, const unsigned char *p, size_t n) {
    if (s->on_msg) {
        s->on_msg(s, op, p, n);
    } else {
        h_log_sep(s);
        hb_str(&s->log, op == WS_OP_TEXT ? "text" : op == WS_OP_BINARY ? "bin" : "op?");
        h_render(&s->log, p, n);
    }
    if (op == WS_OP_TEXT && ws_utf8_validate(p, n, NULL) != 0) s->frag_bad = 1;
    if (s->echo && ws_state(&s->c) == WS_OPEN) s->echo_rc = ws_send(&s->c, op, p, n);
    if (s->close_in_message && ws_state(&s->c) == WS_OPEN) s->echo_rc = ws_close(&s->c, 1000, "done");
}

H void hcb_message(ws_conn *c, int op, const void *p, size_t n) {
    hsess *s = h_sess(c);
    if (ws_state(c) != WS_OPEN && ws_state(c) != WS_CLOSING) s->cb_state_bad = 1;
    h_got_message(s, op, (const unsigned char *)p, n);
}

H void hcb_fragment(ws_conn *c, int op, const void *p, size_t n, int flags) {
    hsess *s = h_sess(c);
    s->fragments++;
    if (op != WS_OP_TEXT && op != WS_OP_BINARY) s->frag_bad = 1;
    if (flags & WS_FIRST) {
        if (s->msg_open) s->frag_bad = 1;
        s->msg_open = 1, s->msg_op = op;
        hb_clear(&s->msg);
    } else if (!s->msg_open || op != s->msg_op) {
        s->frag_bad = 1;
    }
    if (flags & ~(WS_FIRST | WS_LAST)) s->frag_bad = 1;
    hb_add(&s->msg, p, n);
    if (flags & WS_LAST) {
        s->msg_open = 0;
        h_got_message(s, op, s->msg.p, s->msg.len);
    }
}

H void hcb_ping(ws_conn *c, const void *p, size_t n) {
    hsess *s = h_sess(c);
    h_log_sep(s);
    hb_str(&s->log, "ping");
    h_render(&s->log, p, n);
}

H void hcb_pong(ws_conn *c, const void *p, size_t n) {
    hsess *s = h_sess(c);
    h_log_sep(s);
    hb_str(&s->log, "pong");
    h_render(&s->log, p, n);
}

H void hcb_close(ws_conn *c, int code, const char *reason) {
    hsess *s = h_sess(c);
    if (ws_state(c) != WS_CLOSED) s->cb_state_bad = 1;
    h_note_state(s);
    s->closes++;
    s->close_code = code;
    snprintf(s->close_reason, sizeof s->close_reason, "%s", reason ? reason : "(null)");
    h_log_sep(s);
    hb_printf(&s->log, "close:%d", code);
}

H void hcb_error(ws_conn *c, int err, const char *reason) {
    hsess *s = h_sess(c);
    if (s->closes) s->order_bad = 1; /* errors come before on_close */
    s->errors++;
    s->last_err = err;
    s->err_state = (int)ws_state(c);
    snprintf(s->err_reason, sizeof s->err_reason, "%s", reason ? reason : "(null)");
    h_log_sep(s);
    hb_printf(&s->log, "err:%s", h_errname(err));
}

H int hcb_request(ws_conn *c, const ws_request *req, ws_accept *acc) {
    hsess *s = h_sess(c);
    return s->on_request ? s->on_request(s, req, acc) : 0;
}

/* realloc_fn that counts live blocks and bytes (size kept in front). */
typedef union h_allochdr {
    size_t n;
    long double ld;
    void *p;
} h_allochdr;

H void *h_realloc(void *user, void *ptr, size_t size) {
    hsess *s = (hsess *)user;
    h_allochdr *h = ptr ? (h_allochdr *)ptr - 1 : NULL;
    size_t old = h ? h->n : 0;
    if (!size) {
        if (h) {
            s->live_allocs--;
            s->live_bytes -= old;
            free(h);
        }
        return NULL;
    }
    s->alloc_calls++;
    if (s->fail_alloc_at && (long)s->alloc_calls >= s->fail_alloc_at) return NULL;
    h = (h_allochdr *)realloc(h, sizeof *h + size);
    if (!h) return NULL;
    if (!ptr) s->live_allocs++;
    s->live_bytes += size - old;
    if (s->live_bytes > s->peak_bytes) s->peak_bytes = s->live_bytes;
    h->n = size;
    return h + 1;
}

/* Sets up a session. The config starts with every callback wired to the
 * recorder and the allocator set to h_realloc; change s->cfg before starting.
 * seed picks the delivery's random decisions. */
H void hs_init(hsess *s, int server, int delivery, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->server = server, s->delivery = delivery;
    s->rng.s = seed * 7919u + 17u;
    s->io.in = &s->in, s->io.out = &s->out;
    s->io.rng.s = seed * 104729u + 3u;
    s->io.keys.s = seed * 1299709u + 11u;
    s->io.now = 1000;
    s->io.again_pct = 30;
    s->io.mode = delivery == D_BYTE ? IO_BYTE : delivery == D_RANDOM || delivery == D_FEED_SPLIT ? IO_CHAOS : IO_CALM;
    s->io.feed_only = delivery == D_FEED || delivery == D_FEED_SPLIT;
    s->cfg.on_open = hcb_open;
    s->cfg.on_message = hcb_message;
    s->cfg.on_ping = hcb_ping;
    s->cfg.on_pong = hcb_pong;
    s->cfg.on_close = hcb_close;
    s->cfg.on_error = hcb_error;
    s->cfg.on_request = hcb_request;
    s->cfg.realloc_fn = h_realloc;
    s->cfg.alloc_user = s;
    s->close_code = -1;
    s->use_vec = -1;
    s->seed = seed;
}

/* Streaming delivery instead of on_message (the log stays the same). */
H void hs_streaming(hsess *s) {
    s->streaming = 1;
    s->cfg.on_fragment = hcb_fragment;
}

/* Fixed buffers instead of the allocator (0 keeps that one allocated). */
H void hs_fixed(hsess *s, size_t rx_cap, size_t tx_cap) { s->rx_cap = rx_cap, s->tx_cap = tx_cap; }

/* ws_conn_init and buffers; the start functions call it. */
H void hs_connect(hsess *s) {
    const ws_io *io;
    int vec = s->use_vec >= 0 ? s->use_vec : (s->delivery == D_RANDOM && (s->seed & 1));
    io = s->no_clock ? &h_io_noclock : vec ? &h_io_vec : &h_io_plain;
    ws_conn_init(&s->c, &s->cfg, io, &s->io);
    s->c.user = s;
    if (s->rx_cap) s->rxbuf = (unsigned char *)malloc(s->rx_cap);
    if (s->tx_cap) s->txbuf = (unsigned char *)malloc(s->tx_cap);
    if (s->rx_cap || s->tx_cap)
        CHECK(ws_conn_set_buffers(&s->c, s->rxbuf, s->rx_cap, s->txbuf, s->tx_cap) == 0);
    h_note_state(s);
}

/* Finds the end of the HTTP head at the start of out (once it is there). */
H size_t hs_http_len(hsess *s) {
    size_t i;
    if (s->no_http) return 0;
    if (s->http_len) return s->http_len;
    for (i = 3; i < s->out.b.len; i++)
        if (!memcmp(s->out.b.p + i - 3, "\r\n\r\n", 4)) return s->http_len = i + 1;
    return 0;
}

H int hs_pump(hsess *s) {
    int r = ws_pump(&s->c);
    h_note_state(s);
    return r;
}

/* Pumps until the engine has taken all input and written all it queued (or
 * it closed, or nothing moves any more), then once more with a calm io. */
H void hs_settle(hsess *s) {
    unsigned long iter, still = 0;
    size_t rd = (size_t)-1, outlen = (size_t)-1, queued = (size_t)-1;
    int st = -1, mode = s->io.mode;
    for (iter = 0; iter < 50000000ul && still < 500; iter++) {
        h_note_state(s);
        if (ws_state(&s->c) == WS_CLOSED) break;
        if ((s->io.feed_only || s->in.rd == s->in.b.len) && !ws_buffered_amount(&s->c) && !s->in.eof) break;
        if (rd == s->in.rd && outlen == s->out.b.len && queued == ws_buffered_amount(&s->c) &&
            st == (int)ws_state(&s->c))
            still++;
        else
            still = 0;
        rd = s->in.rd, outlen = s->out.b.len, queued = ws_buffered_amount(&s->c), st = (int)ws_state(&s->c);
        (void)hs_pump(s);
    }
    if (ws_state(&s->c) != WS_CLOSED && !s->io.send_blocked) {
        s->io.mode = IO_CALM;
        (void)hs_pump(s);
        s->io.mode = mode;
    }
    h_note_state(s);
}

/* Hands bytes to the engine the session's way. */
H void hs_deliver(hsess *s, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    size_t off = 0, k;
    switch (s->delivery) {
    case D_FEED:
        (void)ws_feed(&s->c, p, len);
        h_note_state(s);
        break;
    case D_FEED_SPLIT:
        while (off < len) {
            k = hr_chunk(&s->rng, len - off);
            (void)ws_feed(&s->c, p + off, k);
            h_note_state(s);
            off += k;
            if (hr_below(&s->rng, 3) == 0) (void)hs_pump(s);
        }
        break;
    default:
        hb_add(&s->in.b, p, len);
        break;
    }
    hs_settle(s);
}

/* The peer ends the stream. */
H void hs_eof(hsess *s) {
    s->in.eof = 1;
    hs_settle(s);
}

H int hs_start_server(hsess *s) {
    int r;
    hs_connect(s);
    r = ws_server_start(&s->c);
    h_note_state(s);
    return r;
}

/* Starts the client and flushes its request; remembers the key it sent. */
H int hs_start_client(hsess *s, const ws_client_options *opt) {
    int r;
    hs_connect(s);
    r = ws_client_start(&s->c, opt);
    h_note_state(s);
    if (r == 0) {
        unsigned long i;
        for (i = 0; i < 100000 && ws_buffered_amount(&s->c); i++) (void)hs_pump(s);
        if (hs_http_len(s)) {
            char head[8192];
            size_t n = s->http_len < sizeof head - 1 ? s->http_len : sizeof head - 1;
            memcpy(head, s->out.b.p, n);
            head[n] = 0;
            h_http_header(head, "Sec-WebSocket-Key", s->key, sizeof s->key, NULL);
        }
    }
    return r;
}

H void hs_start_open(hsess *s) {
    hs_connect(s);
    s->no_http = 1;
    CHECK(ws_start_open(&s->c, s->server) == 0);
    h_note_state(s);
}

static const ws_client_options h_client_opts = {"server.example.com", 0, "/chat", NULL, NULL, NULL, 0, NULL};

#define H_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define H_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" /* RFC 6455 section 1.3 */
#define H_REQUEST                                                                                  \
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"                     \
    "Connection: Upgrade\r\nSec-WebSocket-Key: " H_KEY "\r\nOrigin: http://example.com\r\n"        \
    "Sec-WebSocket-Version: 13\r\n\r\n"

/* The peer's half of the opening handshake: the request a browser sends
 * (server role) or a 101 answering the key the client sent (client role). */
H void hs_handshake_bytes(hsess *s, hbuf *in) {
    char accept[WS_ACCEPT_LEN + 1];
    if (s->server) {
        hb_str(in, H_REQUEST);
        return;
    }
    ws_accept_key(s->key, strlen(s->key), accept);
    hb_str(in, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: ");
    hb_str(in, accept);
    hb_str(in, "\r\n\r\n");
}

H void hs_free(hsess *s) {
    ws_conn_release(&s->c);
    CHECKF(s->live_allocs == 0, "%ld blocks still allocated after ws_conn_release", s->live_allocs);
    free(s->rxbuf), free(s->txbuf);
    hb_free(&s->in.b), hb_free(&s->out.b), hb_free(&s->log), hb_free(&s->msg);
    hb_free(&s->io.random_log);
}

/* Rules that hold for every session at any time. */
H void hs_invariants(hsess *s) {
    int st = (int)ws_state(&s->c);
    CHECKF(!s->state_regressed, "readyState went backwards");
    CHECKF(s->closes <= 1, "on_close fired %d times", s->closes);
    CHECKF((st == WS_CLOSED) == (s->closes == 1), "state %d but on_close fired %d times", st, s->closes);
    CHECKF(!s->order_bad, "on_error after on_close");
    CHECKF(!s->cb_state_bad, "a callback saw the wrong readyState");
    CHECKF(!s->frag_bad, "streaming flags or text validity wrong");
    CHECKF(s->opens <= 1, "on_open fired %d times", s->opens);
    if (s->errors) CHECKF(HAS_REASON(s->err_reason), "on_error without a reason");
}

/* ---------------------------------------------------------------------------
 * What the engine wrote
 * ------------------------------------------------------------------------- */
typedef struct hout {
    int status;          /* server: the response's status code (0: none) */
    char head[16384];    /* the HTTP head, NUL-terminated */
    hbuf frames;         /* rendered: ">pong\"x\" >close:1002" */
    int nframes, ncloses;
    int close_code;      /* the first close frame's code; 0: none given; -1: no close */
    char close_reason[130];
    const char *bad;     /* the first rule the output broke */
    size_t trailing;     /* bytes of an unfinished frame at the end */
    size_t after_head;   /* offset of the first frame */
} hout;

H int h_code_ok(unsigned code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* Parses out[from..] as frames sent by `server` (1) or a client (0). */
H void h_parse_frames(const unsigned char *p, size_t len, int server, hout *o) {
    size_t off = 0;
    int in_msg = 0, msg_text = 0;
    ws_utf8_state u = WS_UTF8_ACCEPT;
    o->close_code = -1;
    while (off < len) {
        size_t hl = 2, i;
        uint64_t n;
        unsigned b0, b1, op, fin, masked;
        unsigned char key[4] = {0, 0, 0, 0}, *pl;
        if (o->ncloses) {
            if (!o->bad) o->bad = "bytes after the close frame";
            break;
        }
        if (len - off < 2) {
            o->trailing = len - off;
            break;
        }
        b0 = p[off], b1 = p[off + 1];
        op = b0 & 15u, fin = b0 >> 7, masked = b1 >> 7;
        n = b1 & 127u;
        if (n == 126) hl += 2;
        if (n == 127) hl += 8;
        if (masked) hl += 4;
        if (len - off < hl) {
            o->trailing = len - off;
            break;
        }
        if (n == 126) {
            n = (uint64_t)p[off + 2] << 8 | p[off + 3];
            if (n < 126 && !o->bad) o->bad = "16-bit length for a short payload";
        } else if (n == 127) {
            for (n = 0, i = 0; i < 8; i++) n = n << 8 | p[off + 2 + i];
            if (n <= 0xFFFF && !o->bad) o->bad = "64-bit length for a short payload";
        }
        if (masked) memcpy(key, p + off + hl - 4, 4);
        if (n > len - off - hl) {
            o->trailing = len - off;
            break;
        }
        if (b0 & 0x70u && !o->bad) o->bad = "RSV bits set";
        if (server && masked && !o->bad) o->bad = "server masked a frame";
        if (!server && !masked && !o->bad) o->bad = "client sent an unmasked frame";
        pl = (unsigned char *)malloc((size_t)n + 1);
        for (i = 0; i < (size_t)n; i++) pl[i] = (unsigned char)(p[off + hl + i] ^ key[i & 3]);
        if (op >= 8) {
            if (!fin && !o->bad) o->bad = "fragmented control frame";
            if (n > 125 && !o->bad) o->bad = "control frame over 125 bytes";
        }
        if (op == 1 || op == 2) {
            if (in_msg && !o->bad) o->bad = "new message inside a fragmented one";
            in_msg = !fin, msg_text = op == 1, u = WS_UTF8_ACCEPT;
        } else if (op == 0) {
            if (!in_msg && !o->bad) o->bad = "continuation without a message";
            in_msg = !fin;
        }
        if ((op <= 2) && msg_text) {
            if (ws_utf8_feed(&u, pl, (size_t)n, NULL) != 0 && !o->bad) o->bad = "text frame with invalid UTF-8";
            if (fin && ws_utf8_finish(&u) != 0 && !o->bad) o->bad = "text message ends inside a sequence";
        }
        if (o->frames.len) hb_str(&o->frames, " ");
        switch (op) {
        case 0: hb_str(&o->frames, ">cont"); break;
        case 1: hb_str(&o->frames, ">text"); break;
        case 2: hb_str(&o->frames, ">bin"); break;
        case 8: hb_str(&o->frames, ">close"); break;
        case 9: hb_str(&o->frames, ">ping"); break;
        case 10: hb_str(&o->frames, ">pong"); break;
        default:
            hb_printf(&o->frames, ">op%u", op);
            if (!o->bad) o->bad = "reserved opcode";
        }
        if (!fin) hb_str(&o->frames, "~");
        if (op == 8) {
            o->ncloses++;
            if (n == 1 && !o->bad) o->bad = "close frame with a 1-byte payload";
            if (n >= 2) {
                unsigned code = (unsigned)pl[0] << 8 | pl[1];
                if (o->ncloses == 1) {
                    o->close_code = (int)code;
                    memcpy(o->close_reason, pl + 2, (size_t)n - 2);
                    o->close_reason[n - 2] = 0;
                }
                hb_printf(&o->frames, ":%u", code);
                if (!h_code_ok(code) && !o->bad) o->bad = "close frame with an invalid code";
                if (ws_utf8_validate(pl + 2, (size_t)n - 2, NULL) != 0 && !o->bad)
                    o->bad = "close reason is not UTF-8";
            } else if (o->ncloses == 1) {
                o->close_code = 0;
            }
        } else {
            h_render(&o->frames, pl, (size_t)n);
        }
        o->nframes++;
        free(pl);
        off += hl + (size_t)n;
    }
}

H void h_parse_out(hsess *s, hout *o) {
    size_t hl;
    memset(o, 0, sizeof *o);
    hb_str(&o->frames, "");
    hl = hs_http_len(s);
    if (!s->no_http) {
        size_t n = hl ? hl : s->out.b.len;
        if (n > sizeof o->head - 1) n = sizeof o->head - 1;
        memcpy(o->head, s->out.b.p ? (const char *)s->out.b.p : "", n);
        o->head[n] = 0;
        if (s->server && !strncmp(o->head, "HTTP/1.1 ", 9)) o->status = atoi(o->head + 9);
        if (!hl) {
            o->close_code = -1;
            return;
        }
    }
    o->after_head = hl;
    h_parse_frames(s->out.b.p + hl, s->out.b.len - hl, s->server, o);
}

H void h_out_free(hout *o) { hb_free(&o->frames); }

/* ---------------------------------------------------------------------------
 * Table rows: frames a scripted peer sends after the handshake
 * ------------------------------------------------------------------------- */
#define HF_UNMASKED 1u /* to a server: no mask (a protocol error) */
#define HF_MASKED 2u   /* to a client: masked (a protocol error) */
#define HF_LEN16 4u    /* force the 16-bit length form */
#define HF_LEN64 8u    /* force the 64-bit length form */
#define HF_ANNOUNCE 16u /* the length field says `num`; only `data` follows */
#define HF_RAW 32u     /* `data` as raw bytes */
#define HF_BIG 64u     /* payload: `num` bytes of pattern (text: 'a'..'z') */
#define HF_CODE 128u   /* close frame: code `num`, reason `data` */

typedef struct hfs {
    unsigned char b0, flags;
    const char *data;
    size_t len;
    uint64_t num;
} hfs;

#define FR(b0, s) {(b0), 0, (s), sizeof(s) - 1, 0}
#define FRF(b0, fl, s) {(b0), (fl), (s), sizeof(s) - 1, 0}
#define FBIG(b0, n) {(b0), HF_BIG, "", 0, (n)}
#define FANN(b0, n, s) {(b0), HF_ANNOUNCE, (s), sizeof(s) - 1, (n)}
#define FRAW(s) {0, HF_RAW, (s), sizeof(s) - 1, 0}
#define FCLOSE(code, reason) {0x88, HF_CODE, (reason), sizeof(reason) - 1, (code)}
#define FEND {0, 0, NULL, 0, 0}

H void h_build_frames(hsess *s, const hfs *f, hbuf *in) {
    int toserver = s->server;
    for (; f->data; f++) {
        int mask = toserver ? !(f->flags & HF_UNMASKED) : (f->flags & HF_MASKED) != 0;
        int lb = f->flags & HF_LEN16 ? 2 : f->flags & HF_LEN64 ? 8 : 0;
        if (f->flags & HF_RAW) {
            hb_add(in, f->data, f->len);
        } else if (f->flags & HF_BIG) {
            size_t n = (size_t)f->num, i;
            unsigned char *p = (unsigned char *)malloc(n ? n : 1);
            for (i = 0; i < n; i++) p[i] = (unsigned char)('a' + i % 26);
            h_frame_ex(in, &s->rng, mask, f->b0, n, lb, p, n, NULL);
            free(p);
        } else if (f->flags & HF_ANNOUNCE) {
            h_frame_ex(in, &s->rng, mask, f->b0, f->num, lb, f->data, f->len, NULL);
        } else if (f->flags & HF_CODE) {
            unsigned char p[140];
            p[0] = (unsigned char)(f->num >> 8), p[1] = (unsigned char)f->num;
            memcpy(p + 2, f->data, f->len);
            h_frame_ex(in, &s->rng, mask, f->b0, f->len + 2, lb, p, f->len + 2, NULL);
        } else {
            h_frame_ex(in, &s->rng, mask, f->b0, f->len, lb, f->data, f->len, NULL);
        }
    }
}

/* Config variants a row may ask for. */
enum {
    HC_DEFAULT,
    HC_NOPONG,     /* cfg.no_auto_pong */
    HC_MAXMSG100,  /* cfg.max_message = 100 */
    HC_MAXFRAME50, /* cfg.max_frame = 50 */
    HC_FIXED1K,    /* fixed receive buffer of 1024 bytes, message mode */
    HC_ECHO,       /* every message is sent back from on_message */
    HC_CLOSEMSG,   /* ws_close(1000, "done") from on_message */
    HC_STREAM1K    /* streaming delivery through a fixed 1024-byte buffer */
};

#define HR_SERVER 1u
#define HR_CLIENT 2u
#define HR_BOTH 3u
#define HO_NOSTREAM 1u /* the outcome depends on whole-message delivery */

#define HE_ROLE 10 /* the same as WS_CLOSED without eof: server CLOSED, client CLOSING until EOF */

typedef struct hrow {
    const char *name;
    unsigned roles;
    int cfg;
    unsigned opts;
    hfs f[14];
    int eof;
    const char *log; /* events after open"" */
    const char *out; /* frames the engine sends */
    int end;         /* state after the input: WS_OPEN; WS_CLOSED (without eof:
                        the client waits in CLOSING for the server's EOF, which
                        the runner then gives; the log is the final one) */
} hrow;

H void h_apply_cfg(hsess *s, int cfg, int fixed) {
    if (fixed) hs_fixed(s, 131072, 65536);
    switch (cfg) {
    case HC_NOPONG: s->cfg.no_auto_pong = 1; break;
    case HC_MAXMSG100: s->cfg.max_message = 100; break;
    case HC_MAXFRAME50: s->cfg.max_frame = 50; break;
    case HC_FIXED1K:
        hs_fixed(s, 1024, 4096);
        s->streaming = 0, s->cfg.on_fragment = NULL;
        break;
    case HC_STREAM1K:
        hs_fixed(s, 1024, 4096);
        hs_streaming(s);
        break;
    case HC_ECHO: s->echo = 1; break;
    case HC_CLOSEMSG: s->close_in_message = 1; break;
    default: break;
    }
}

H const char *h_state_name(int st) {
    switch (st) {
    case WS_CONNECTING: return "CONNECTING";
    case WS_OPEN: return "OPEN";
    case WS_CLOSING: return "CLOSING";
    case WS_CLOSED: return "CLOSED";
    default: return "?";
    }
}

/* One row, one role, one way of delivering. */
H void h_run_row(const hrow *r, int server, int fixed, int stream, int delivery, uint64_t seed) {
    hsess s;
    hbuf in = {0};
    hout o;
    const char *log;
    /* The server ends the TCP connection (RFC 6455 section 7.1.1): a client
     * that closed or failed waits in CLOSING for the server's EOF. */
    int role_wait = r->end == HE_ROLE || (r->end == WS_CLOSED && !r->eof);
    int want_end = role_wait ? (server ? WS_CLOSED : WS_CLOSING) : r->end;
    h_set_ctx("row '%s' [%s, %s, %s, %s, seed %lu]", r->name, server ? "server" : "client",
              fixed ? "fixed" : "alloc", stream ? "stream" : "message", h_dname[delivery],
              (unsigned long)seed);
    hs_init(&s, server, delivery, seed);
    if (stream) hs_streaming(&s);
    h_apply_cfg(&s, r->cfg, fixed);
    if (server) CHECK(hs_start_server(&s) == 0);
    else CHECK(hs_start_client(&s, &h_client_opts) == 0);
    hs_handshake_bytes(&s, &in);
    h_build_frames(&s, r->f, &in);
    hs_deliver(&s, in.p, in.len);
    if (r->eof) hs_eof(&s);
    CHECKF((int)ws_state(&s.c) == want_end, "state %s, want %s", h_state_name((int)ws_state(&s.c)),
           h_state_name(want_end));
    if (role_wait && !server && ws_state(&s.c) == WS_CLOSING) {
        /* The client waits for the server to end the TCP stream. */
        hs_eof(&s);
        CHECKF(ws_state(&s.c) == WS_CLOSED, "client not CLOSED after the server's EOF");
    }
    h_parse_out(&s, &o);
    if (server) CHECK_INT(o.status, 101);
    CHECKF(!o.bad, "engine output breaks a rule: %s", o.bad);
    CHECKF(!o.trailing, "unfinished frame at the end of the output (%lu bytes)", (unsigned long)o.trailing);
    CHECK_STR(hb_cstr(&o.frames), r->out);
    log = hb_cstr(&s.log);
    CHECKF(!strncmp(log, "open\"\"", 6), "log does not start with open: %s", log);
    CHECK_STR(log + (strlen(log) >= 7 ? 7 : strlen(log)), r->log);
    if (s.errors && o.close_code > 1000)
        CHECKF(HAS_REASON(o.close_reason), "failure close frame %d without a reason", o.close_code);
    hs_invariants(&s);
    h_out_free(&o);
    hb_free(&in);
    hs_free(&s);
}

/* Every row in every role it applies to, buffer mode, delivery mode (and a
 * few seeds of the random ones), with message and streaming delivery. */
H void h_run_table(const hrow *rows, size_t n, unsigned seeds, unsigned roles) {
    size_t i;
    int role, fixed, stream, d;
    unsigned k;
    for (i = 0; i < n; i++)
        for (role = 0; role < 2; role++) {
            if (!(rows[i].roles & roles & (role ? HR_SERVER : HR_CLIENT))) continue;
            for (fixed = 0; fixed < 2; fixed++)
                for (stream = 0; stream < 2; stream++) {
                    if (stream && (rows[i].opts & HO_NOSTREAM)) continue;
                    if (fixed && (rows[i].cfg == HC_FIXED1K || rows[i].cfg == HC_STREAM1K)) continue;
                    if (stream && rows[i].cfg == HC_STREAM1K) continue;
                    for (d = 0; d < D_COUNT; d++) {
                        unsigned nseeds = d == D_RANDOM ? seeds : d == D_FEED_SPLIT ? (seeds + 1) / 2 : 1;
                        for (k = 0; k < nseeds; k++)
                            h_run_row(&rows[i], role, fixed, stream, d, 1000u * (unsigned)i + 7u * k + (unsigned)d);
                    }
                }
        }
}

/* ---------------------------------------------------------------------------
 * Two engines wired to each other
 * ------------------------------------------------------------------------- */
/* b reads what a writes and the other way round. */
H void hp_wire(hsess *a, hsess *b) {
    a->io.in = &b->out;
    b->io.in = &a->out;
}

/* Drops what both readers consumed (keeps pipes small in long runs; the
 * output can no longer be parsed from the start afterwards). */
H void hp_compact(hpipe *p) {
    if (p->rd == p->b.len) {
        p->rd = 0, p->b.len = 0;
    } else if (p->rd > (1u << 20)) {
        memmove(p->b.p, p->b.p + p->rd, p->b.len - p->rd);
        p->b.len -= p->rd, p->rd = 0;
    }
}

/* Pumps both until neither has anything left to do (or both closed); an
 * engine that is CLOSED has its transport closed (the peer reads EOF). */
H void hp_settle(hsess *a, hsess *b) {
    unsigned long iter, still = 0;
    size_t sig = 0, last = (size_t)-1;
    for (iter = 0; iter < 20000000ul && still < 500; iter++) {
        int ca = ws_state(&a->c) == WS_CLOSED, cb = ws_state(&b->c) == WS_CLOSED;
        /* A host closes the transport once its engine is CLOSED. */
        if (ca) a->out.eof = 1;
        if (cb) b->out.eof = 1;
        if (ca && cb) break;
        if (!ca) (void)hs_pump(a);
        if (!cb) (void)hs_pump(b);
        sig = a->out.b.len * 31u + b->out.b.len * 17u + a->out.rd * 7u + b->out.rd * 3u +
              ws_buffered_amount(&a->c) + ws_buffered_amount(&b->c) * 5u + (size_t)ws_state(&a->c) * 11u +
              (size_t)ws_state(&b->c) * 13u;
        if (a->out.rd == a->out.b.len && b->out.rd == b->out.b.len && !ws_buffered_amount(&a->c) &&
            !ws_buffered_amount(&b->c) && !a->io.in->eof && !b->io.in->eof && sig == last)
            break;
        still = sig == last ? still + 1 : 0;
        last = sig;
    }
}

/* A server and a client wired to each other (recv-driven deliveries only:
 * D_WHOLE, D_BYTE, D_RANDOM), set up but not started. */
H void hp_init(hsess *srv, hsess *cli, int delivery, uint64_t seed) {
    hs_init(srv, 1, delivery, seed);
    hs_init(cli, 0, delivery, seed + 1);
    hp_wire(srv, cli);
}

/* Starts both and runs the handshake. */
H void hp_start(hsess *srv, hsess *cli) {
    CHECK(hs_start_server(srv) == 0);
    CHECK(hs_start_client(cli, &h_client_opts) == 0);
    hp_settle(srv, cli);
    CHECK(ws_state(&srv->c) == WS_OPEN && ws_state(&cli->c) == WS_OPEN);
}

#endif
