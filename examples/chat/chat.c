/* chat - a live chat room for browsers, on ws.h and its POSIX adapter.

   One single-threaded poll loop serves plain HTTP (the page, embedded at
   build time) and WebSocket (/ws, subprotocol chat.v1) on one port. Every
   text a user sends goes to everyone connected, and the server pushes its
   own feed (the time and the number of users) every few seconds.

   With --redis HOST:PORT (built when libhiredis is available) the room is
   shared through a Redis channel: chat messages are published there, and
   whatever arrives on the channel is pushed to every browser, so several
   chat processes serve one room. Losing Redis is reported to the pages and
   retried with backoff; the server keeps running.

   Wire format, server to browser: JSON text messages
     {"type":"chat","from":NAME,"time":ISO8601,"text":TEXT}
     {"type":"tick","time":ISO8601,"users":N}
     {"type":"status","you":NAME,"users":N,"redis":"up|down|connecting|off",
      "redis_error":WHY,"error":WHY}   (each field only when it applies)
   Browser to server: the message text itself.

   Usage: chat [--host H] [--port P] [--redis HOST:PORT] [--channel NAME]
               [--tick-ms N] [--max-queue BYTES] [--any-origin] [--test-hooks]
*/
#define _POSIX_C_SOURCE 200809L
#define WS_IMPLEMENTATION
#include "ws.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#ifdef CHAT_HAVE_REDIS
#include <hiredis/hiredis.h>
#endif

extern const unsigned char chat_page[];
extern const size_t chat_page_len;

#define MAX_CLIENTS 256
#define HTTP_MAX_HEADER 8192     /* request header block; beyond it: 431 */
#define HTTP_MAX_FIELDS 64       /* header lines; beyond them: 431 */
#define HTTP_TIMEOUT_MS 10000    /* to send a whole request header block */
#define LINGER_MS 2000           /* to let a response drain before close */
#define MAX_MESSAGE (2u << 20)   /* largest message a browser may send */
#define MAX_OUT (8u << 20)       /* largest JSON message we push */
#define DEFAULT_QUEUE (16u << 20) /* per-connection send queue (soft bound) */
#define REDIS_BACKOFF_MIN 250u
#define REDIS_BACKOFF_MAX 4000u
#define REDIS_TIMEOUT_MS 5000    /* to connect and get the first reply */

/* ---- small helpers ---- */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void iso_time(char out[32]) {
    struct timespec ts;
    struct tm tm;
    time_t t;
    clock_gettime(CLOCK_REALTIME, &ts);
    t = ts.tv_sec;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void logf_(const char *fmt, ...) {
    va_list ap;
    fputs("chat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A growable byte string for JSON messages. */
typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf;

static void buf_add(buf *b, const void *s, size_t n) {
    if (b->failed) return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        p = (char *)realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* A JSON string literal from valid UTF-8: only the quote, the backslash and
 * control characters need escaping. */
static void buf_json(buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    buf_add(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        buf_add(b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[ch >> 4], esc[5] = hex[ch & 15];
            elen = 6;
        }
        buf_add(b, esc, elen);
    }
    buf_add(b, s + run, n - run);
    buf_add(b, "\"", 1);
}

static void buf_uint(buf *b, unsigned long v) {
    char d[24];
    int n = snprintf(d, sizeof d, "%lu", v);
    buf_add(b, d, (size_t)n);
}

/* ---- state ---- */

enum { C_HTTP_READ, C_HTTP_WRITE, C_HTTP_LINGER, C_WS };

typedef struct client {
    int kind, fd;
    unsigned id;
    uint64_t deadline;  /* HTTP states: give up at this time */
    char *req;          /* HTTP_READ: the request so far */
    size_t req_len;
    char head[512];     /* HTTP_WRITE: response header, then body */
    char text[64];      /* the body of an error response */
    size_t head_len, head_off;
    const unsigned char *body;
    size_t body_len, body_off;
    ws_conn ws;
    int counted;        /* OPEN and counted in g.users */
    int drop;           /* to be cut off by the sweep (not from a callback,
                           where the connection may be mid-read) */
    char name[40];
} client;

#ifdef CHAT_HAVE_REDIS
typedef struct rlink {
    const char *what;   /* "subscriber" or "publisher" */
    redisContext *ctx;
    int up;             /* the first reply arrived */
    int want_write;
    size_t pending;     /* bytes appended since the output last drained */
    uint64_t retry_at, timeout_at;
    unsigned backoff;
} rlink;
#endif

static struct {
    const char *host;
    unsigned port;
    int listen_fd;
    ws_config cfg;
    client *clients[MAX_CLIENTS];
    int nclients;
    unsigned next_id, next_user;
    unsigned users;
    int users_changed;
    uint64_t next_tick;
    unsigned tick_ms;
    size_t max_queue;
    int test_hooks, any_origin;
    char tag[16];       /* names users uniquely across processes sharing Redis */
    const char *redis_addr;
    const char *channel;
#ifdef CHAT_HAVE_REDIS
    char redis_host[256];
    int redis_port;
    rlink sub, pub;
    int redis_shown;    /* -1 unknown, 0 down, 1 up: what the pages were told */
    char redis_why[160];
#endif
} g;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* ---- pushing to browsers ---- */

/* Whether the connection still takes messages: a reader that falls behind
 * by more than the queue bound is closed (1008), so one slow browser never
 * holds up the others and never makes the server grow without bound. */
static void deliver(client *cl, const char *data, size_t len) {
    int r;
    if (cl->kind != C_WS || cl->drop || ws_state(&cl->ws) != WS_OPEN) return;
    if (ws_buffered_amount(&cl->ws) + len > g.max_queue) {
        logf_("%s is too slow (%lu bytes queued): closing it with 1008", cl->name,
              (unsigned long)ws_buffered_amount(&cl->ws));
        /* The send queue's hard bound leaves room for the close frame. */
        if (ws_close(&cl->ws, WS_CLOSE_POLICY, "too slow: send queue full") < 0 &&
            ws_state(&cl->ws) != WS_CLOSED)
            cl->drop = 1;
        return;
    }
    r = ws_send(&cl->ws, WS_OP_TEXT, data, len);
    if (r == WS_E_FULL) {
        logf_("%s: send queue full: dropping the connection", cl->name);
        cl->drop = 1;
    }
    /* WS_E_CLOSED: the transport failed; the sweep removes it. */
}

static void broadcast(const char *data, size_t len) {
    int i;
    for (i = 0; i < g.nclients; i++) deliver(g.clients[i], data, len);
}

static const char *redis_state(void) {
#ifdef CHAT_HAVE_REDIS
    if (g.redis_addr) return g.sub.up && g.pub.up ? "up" : g.redis_shown < 0 ? "connecting" : "down";
#endif
    return "off";
}

/* To one client (its name, or an error about what it sent), or to all (the
 * number of users changed). */
static void send_status(client *to, const char *error) {
    buf b = {0};
    buf_str(&b, "{\"type\":\"status\",");
    if (!to) buf_str(&b, "\"users\":"), buf_uint(&b, g.users), buf_str(&b, ",");
    buf_str(&b, "\"redis\":\"");
    buf_str(&b, redis_state());
    buf_str(&b, "\"");
#ifdef CHAT_HAVE_REDIS
    if (g.redis_addr && g.redis_shown == 0) buf_str(&b, ",\"redis_error\":"), buf_json(&b, g.redis_why, strlen(g.redis_why));
#endif
    if (to) buf_str(&b, ",\"you\":"), buf_json(&b, to->name, strlen(to->name));
    if (error) buf_str(&b, ",\"error\":"), buf_json(&b, error, strlen(error));
    buf_str(&b, "}");
    if (!b.failed) {
        if (to) deliver(to, b.p, b.len);
        else broadcast(b.p, b.len);
    }
    free(b.p);
}

static void send_tick(void) {
    buf b = {0};
    char t[32];
    iso_time(t);
    buf_str(&b, "{\"type\":\"tick\",\"time\":\"");
    buf_str(&b, t);
    buf_str(&b, "\",\"users\":");
    buf_uint(&b, g.users);
    buf_str(&b, "}");
    if (!b.failed) broadcast(b.p, b.len);
    free(b.p);
}

/* ---- Redis (optional) ---- */

#ifdef CHAT_HAVE_REDIS
static void redis_report(void) {
    int up = g.sub.up && g.pub.up;
    buf b = {0};
    if (up == g.redis_shown) return;
    g.redis_shown = up;
    logf_("redis %s%s%s", up ? "up" : "down", up ? "" : ": ", up ? "" : g.redis_why);
    buf_str(&b, "{\"type\":\"status\",\"redis\":\"");
    buf_str(&b, up ? "up" : "down");
    buf_str(&b, "\"");
    if (!up) buf_str(&b, ",\"redis_error\":"), buf_json(&b, g.redis_why, strlen(g.redis_why));
    buf_str(&b, "}");
    if (!b.failed) broadcast(b.p, b.len);
    free(b.p);
}

static void rlink_fail(rlink *l, const char *why) {
    snprintf(g.redis_why, sizeof g.redis_why, "%s: %s", l->what, why && *why ? why : "connection lost");
    if (l->ctx) redisFree(l->ctx);
    l->ctx = NULL;
    l->up = 0;
    l->want_write = 0;
    l->pending = 0;
    l->retry_at = now_ms() + l->backoff;
    l->backoff = l->backoff * 2 > REDIS_BACKOFF_MAX ? REDIS_BACKOFF_MAX : l->backoff * 2;
    redis_report();
}

static void rlink_connect(rlink *l, int subscriber) {
    l->ctx = redisConnectNonBlock(g.redis_host, g.redis_port);
    if (!l->ctx || l->ctx->err) {
        rlink_fail(l, l->ctx ? l->ctx->errstr : "out of memory");
        return;
    }
    /* The first command doubles as the readiness check: the link is up when
     * its reply arrives. */
    if (subscriber) redisAppendCommand(l->ctx, "SUBSCRIBE %s", g.channel);
    else redisAppendCommand(l->ctx, "PING");
    l->want_write = 1;
    l->timeout_at = now_ms() + REDIS_TIMEOUT_MS;
}

static void rlink_write(rlink *l) {
    int done = 0;
    if (redisBufferWrite(l->ctx, &done) == REDIS_ERR) {
        rlink_fail(l, l->ctx->errstr);
        return;
    }
    l->want_write = !done;
    if (done) l->pending = 0;
}

/* Something arrived on the channel: push it to every browser. Our own chat
 * messages are JSON objects already; anything else someone published (say
 * with redis-cli) is wrapped as a chat line from "redis". */
static void redis_message(const char *p, size_t n) {
    buf b = {0};
    if (n > MAX_OUT / 2) {
        logf_("dropping a %lu-byte message from redis: too large", (unsigned long)n);
        return;
    }
    if (ws_utf8_validate(p, n, NULL) < 0) {
        char note[64];
        snprintf(note, sizeof note, "(%lu bytes that are not UTF-8 text)", (unsigned long)n);
        p = note, n = strlen(note);
        buf_str(&b, "{\"type\":\"chat\",\"from\":\"redis\",\"text\":");
        buf_json(&b, p, n);
        buf_str(&b, "}");
    } else if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
        buf_add(&b, p, n);
    } else {
        char t[32];
        iso_time(t);
        buf_str(&b, "{\"type\":\"chat\",\"from\":\"redis\",\"time\":\"");
        buf_str(&b, t);
        buf_str(&b, "\",\"text\":");
        buf_json(&b, p, n);
        buf_str(&b, "}");
    }
    if (!b.failed) broadcast(b.p, b.len);
    free(b.p);
}

static void rlink_read(rlink *l, int subscriber) {
    void *reply = NULL;
    if (redisBufferRead(l->ctx) == REDIS_ERR) {
        rlink_fail(l, l->ctx->errstr);
        return;
    }
    for (;;) {
        redisReply *r;
        if (redisGetReplyFromReader(l->ctx, &reply) == REDIS_ERR) {
            rlink_fail(l, l->ctx->errstr);
            return;
        }
        if (!reply) break;
        r = (redisReply *)reply;
        if (r->type == REDIS_REPLY_ERROR) {
            char why[128];
            snprintf(why, sizeof why, "redis said: %.100s", r->str);
            freeReplyObject(reply);
            rlink_fail(l, why);
            return;
        }
        if (!l->up) {
            l->up = 1;
            l->backoff = REDIS_BACKOFF_MIN;
            logf_("redis %s connected to %s:%d", l->what, g.redis_host, g.redis_port);
            redis_report();
        }
        if (subscriber && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "message") == 0 &&
            r->element[2]->type == REDIS_REPLY_STRING)
            redis_message(r->element[2]->str, r->element[2]->len);
        freeReplyObject(reply);
    }
}

/* Chat goes through the channel, so every process sharing it delivers it. */
static int redis_publish(const char *data, size_t len, const char **why) {
    rlink *l = &g.pub;
    if (!l->ctx || !l->up) return *why = "not delivered: redis is down", -1;
    if (l->pending + len > g.max_queue) return *why = "not delivered: redis is not keeping up", -1;
    if (redisAppendCommand(l->ctx, "PUBLISH %s %b", g.channel, data, len) != REDIS_OK)
        return *why = "not delivered: out of memory", -1;
    l->pending += len;
    l->want_write = 1;
    rlink_write(l);
    return 0;
}

static void redis_timers(uint64_t now, long *timeout) {
    rlink *links[2];
    int i;
    links[0] = &g.sub, links[1] = &g.pub;
    for (i = 0; i < 2; i++) {
        rlink *l = links[i];
        uint64_t at;
        if (!l->ctx && now >= l->retry_at) rlink_connect(l, i == 0);
        if (l->ctx && !l->up && now >= l->timeout_at) rlink_fail(l, "timed out connecting");
        at = l->ctx ? (l->up ? 0 : l->timeout_at) : l->retry_at;
        if (at) {
            long t = at > now ? (long)(at - now) : 0;
            if (*timeout < 0 || t < *timeout) *timeout = t;
        }
    }
}
#endif

/* ---- WebSocket callbacks ---- */

static int on_request(ws_conn *c, const ws_request *req, ws_accept *acc) {
    client *cl = (client *)c->user;
    /* A page from another site must not drive a user's browser into this
     * room (cross-site WebSocket hijacking): the Origin, when a browser sends
     * one, must be this server. */
    if (req->origin && !g.any_origin) {
        const char *o = req->origin;
        size_t skip = strncasecmp(o, "http://", 7) == 0 ? 7 : strncasecmp(o, "https://", 8) == 0 ? 8 : 0;
        if (!skip || strcasecmp(o + skip, req->host) != 0) {
            logf_("%s: rejected: Origin %s does not match Host %s", cl->name, o, req->host);
            return 403;
        }
    }
    if (ws_request_offers(req, "chat.v1")) acc->subprotocol = "chat.v1";
    return 0;
}

static void on_open(ws_conn *c, const char *subprotocol) {
    client *cl = (client *)c->user;
    snprintf(cl->name, sizeof cl->name, "user%u%s", ++g.next_user, g.tag);
    cl->counted = 1;
    g.users++;
    g.users_changed = 1;
    logf_("%s joined (subprotocol \"%s\", %u online)", cl->name, subprotocol, g.users);
    send_status(cl, NULL);
}

static void on_close(ws_conn *c, int code, const char *reason) {
    client *cl = (client *)c->user;
    if (cl->counted) {
        cl->counted = 0;
        g.users--;
        g.users_changed = 1;
        logf_("%s left: %d%s%s (%u online)", cl->name, code, *reason ? " " : "", reason, g.users);
    }
}

static void on_error(ws_conn *c, int err, const char *reason) {
    client *cl = (client *)c->user;
    logf_("%s: %s: %s", cl->name, ws_strerror(err), reason);
}

static void on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    client *cl = (client *)c->user;
    buf b = {0};
    char t[32];
    if (opcode != WS_OP_TEXT) {
        ws_close(c, WS_CLOSE_UNSUPPORTED, "text messages only");
        return;
    }
    if (g.test_hooks && len == 8 && memcmp(data, "/kick-me", 8) == 0) {
        ws_close(c, 4001, "bye");
        return;
    }
    iso_time(t);
    buf_str(&b, "{\"type\":\"chat\",\"from\":");
    buf_json(&b, cl->name, strlen(cl->name));
    buf_str(&b, ",\"time\":\"");
    buf_str(&b, t);
    buf_str(&b, "\",\"text\":");
    buf_json(&b, (const char *)data, len);
    buf_str(&b, "}");
    if (b.failed || b.len > MAX_OUT) {
        send_status(cl, "not delivered: the message is too large");
    } else {
#ifdef CHAT_HAVE_REDIS
        const char *why = NULL;
        if (g.redis_addr) {
            if (redis_publish(b.p, b.len, &why) < 0) send_status(cl, why);
        } else
#endif
            broadcast(b.p, b.len);
    }
    free(b.p);
}

/* ---- HTTP ---- */

static void client_free(client *cl) {
    if (cl->fd >= 0) close(cl->fd); /* -1 once ws_disconnect closed it */
    if (cl->kind == C_WS) ws_conn_release(&cl->ws);
    free(cl->req);
    free(cl);
}

/* Sends what it can of the response; once all is out, half-closes and
 * drains what the client still sends, so the close does not reset the
 * connection (which could destroy the response in flight). */
static void http_write(client *cl) {
    while (cl->head_off < cl->head_len || cl->body_off < cl->body_len) {
        const void *p;
        size_t n;
        ssize_t w;
        if (cl->head_off < cl->head_len) p = cl->head + cl->head_off, n = cl->head_len - cl->head_off;
        else p = cl->body + cl->body_off, n = cl->body_len - cl->body_off;
        w = send(cl->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                cl->kind = C_HTTP_WRITE;
                return;
            }
            cl->deadline = 1; /* broken: let the sweep remove it */
            cl->kind = C_HTTP_LINGER;
            return;
        }
        if (cl->head_off < cl->head_len) cl->head_off += (size_t)w;
        else cl->body_off += (size_t)w;
    }
    shutdown(cl->fd, SHUT_WR);
    cl->kind = C_HTTP_LINGER;
    cl->deadline = now_ms() + LINGER_MS;
}

static void http_respond(client *cl, int status, const char *type, const void *body, size_t len,
                         int head_only, const char *extra) {
    int n = snprintf(cl->head, sizeof cl->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, ws_http_reason(status), type, (unsigned long)len, extra ? extra : "");
    cl->head_len = n > 0 && (size_t)n < sizeof cl->head ? (size_t)n : 0;
    cl->head_off = 0;
    cl->body = (const unsigned char *)body;
    cl->body_len = head_only ? 0 : len;
    cl->body_off = 0;
    free(cl->req);
    cl->req = NULL;
    cl->deadline = now_ms() + HTTP_TIMEOUT_MS;
    logf_("%s: HTTP %d", cl->name, status);
    http_write(cl);
}

static void http_error(client *cl, int status, int head_only, const char *extra) {
    snprintf(cl->text, sizeof cl->text, "%d %s\n", status, ws_http_reason(status));
    http_respond(cl, status, "text/plain; charset=utf-8", cl->text, strlen(cl->text), head_only, extra);
}

static int is_tchar(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Hands the connection to the WebSocket engine with every byte read so
 * far: the engine parses the upgrade request itself (answering 101, or an
 * HTTP error) and then whatever frames came right behind it. */
static void upgrade(client *cl) {
    char *req = cl->req;
    size_t len = cl->req_len;
    cl->req = NULL;
    ws_conn_init(&cl->ws, &g.cfg, ws_posix_io(), (void *)(intptr_t)cl->fd);
    cl->ws.user = cl;
    cl->kind = C_WS;
    ws_server_start(&cl->ws);
    (void)ws_feed(&cl->ws, req, len);
    free(req);
}

/* A whole header block (block bytes) is in cl->req. It is parsed in a copy,
 * because an upgrade hands the original bytes to the engine. */
static void http_request(client *cl, size_t block) {
    char *r = (char *)malloc(block + 1), *p, *end, *method, *target, *q;
    int head_only, minor, hosts = 0, upgrade_ws = 0, fields = 0;
    if (!r) {
        http_error(cl, 500, 0, NULL);
        return;
    }
    memcpy(r, cl->req, block);
    r[block] = '\0';
    end = r + block;
    /* method SP request-target SP HTTP/1.x CRLF */
    method = p = r;
    while (is_tchar((unsigned char)*p)) p++;
    if (p == method || *p != ' ') goto bad;
    *p++ = '\0';
    target = p;
    while ((unsigned char)*p > 0x20 && *p != 0x7f) p++;
    if (p == target || *p != ' ') goto bad;
    *p++ = '\0';
    if (strncmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != '\r' || p[9] != '\n') goto bad;
    minor = p[7] - '0';
    p += 10;
    /* header fields: name ":" OWS value OWS CRLF, up to the blank line */
    while (!(p[0] == '\r' && p[1] == '\n')) {
        char *name = p, *value, *vend;
        while (is_tchar((unsigned char)*p)) p++;
        if (p == name || *p != ':') goto bad; /* also rejects obsolete line folding */
        *p++ = '\0';
        while (*p == ' ' || *p == '\t') p++;
        value = p;
        while (p < end && *p != '\r') {
            unsigned char ch = (unsigned char)*p;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) goto bad;
            p++;
        }
        if (p + 1 >= end || p[1] != '\n') goto bad;
        vend = p;
        while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t')) vend--;
        *vend = '\0';
        p += 2;
        if (++fields > HTTP_MAX_FIELDS) {
            free(r);
            http_error(cl, 431, 0, NULL);
            return;
        }
        if (strcasecmp(name, "Host") == 0) hosts++;
        if (strcasecmp(name, "Upgrade") == 0 && ws_token_list_has(value, "websocket", 1)) upgrade_ws = 1;
    }
    if (minor >= 1 && hosts != 1) goto bad; /* RFC 9112 section 3.2 */
    head_only = strcmp(method, "HEAD") == 0;
    if (!head_only && strcmp(method, "GET") != 0) {
        free(r);
        http_error(cl, 405, 0, "Allow: GET, HEAD\r\n");
        return;
    }
    if (target[0] != '/') goto bad;
    q = strchr(target, '?');
    if (q) *q = '\0';
    if (strcmp(target, "/ws") == 0) {
        free(r);
        if (upgrade_ws && !head_only) upgrade(cl);
        else http_error(cl, 426, head_only, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
        return;
    }
    if (strcmp(target, "/") == 0 || strcmp(target, "/index.html") == 0) {
        free(r);
        http_respond(cl, 200, "text/html; charset=utf-8", chat_page, chat_page_len, head_only, NULL);
        return;
    }
    free(r);
    http_error(cl, 404, head_only, NULL);
    return;
bad:
    free(r);
    http_error(cl, 400, 0, NULL);
}

static void http_read(client *cl) {
    for (;;) {
        size_t room = HTTP_MAX_HEADER - cl->req_len, from, i;
        ssize_t n;
        if (!room) {
            http_error(cl, 431, 0, NULL);
            return;
        }
        n = recv(cl->fd, cl->req + cl->req_len, room, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            cl->kind = C_HTTP_LINGER, cl->deadline = 1; /* gone: sweep it */
            return;
        }
        from = cl->req_len > 3 ? cl->req_len - 3 : 0;
        cl->req_len += (size_t)n;
        for (i = from; i + 3 < cl->req_len; i++)
            if (memcmp(cl->req + i, "\r\n\r\n", 4) == 0) {
                http_request(cl, i + 4);
                return;
            }
    }
}

static void linger_read(client *cl) {
    char sink[4096];
    for (;;) {
        ssize_t n = recv(cl->fd, sink, sizeof sink, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        cl->deadline = 1; /* EOF or error: done */
        return;
    }
}

static void accept_clients(void) {
    int i;
    for (i = 0; i < 64; i++) {
        client *cl;
        int fd = ws_tcp_accept(g.listen_fd);
        if (fd < 0) return;
        cl = (client *)calloc(1, sizeof *cl);
        if (cl) cl->req = (char *)malloc(HTTP_MAX_HEADER);
        if (!cl || !cl->req || g.nclients == MAX_CLIENTS) {
            static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                       "Connection: close\r\n\r\n";
            (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
            close(fd);
            if (cl) free(cl->req);
            free(cl);
            continue;
        }
        cl->fd = fd;
        cl->id = ++g.next_id;
        cl->kind = C_HTTP_READ;
        cl->deadline = now_ms() + HTTP_TIMEOUT_MS;
        snprintf(cl->name, sizeof cl->name, "conn%u", cl->id);
        g.clients[g.nclients++] = cl;
    }
}

/* Removes the clients that are done (cutting off those marked to drop). */
static void sweep(uint64_t now) {
    int i, j = 0;
    for (i = 0; i < g.nclients; i++) {
        client *cl = g.clients[i];
        int done;
        if (cl->kind == C_WS) {
            done = ws_state(&cl->ws) == WS_CLOSED || cl->drop;
            if (done && ws_state(&cl->ws) != WS_CLOSED) {
                ws_disconnect(&cl->ws); /* closes the socket, reports on_close */
                cl->fd = -1;
            }
        } else {
            done = cl->deadline && now >= cl->deadline;
        }
        if (done && cl->kind == C_HTTP_READ) {
            /* Too slow to send a request: say so, then linger. */
            http_error(cl, 408, 0, NULL);
            g.clients[j++] = cl;
            continue;
        }
        if (done) client_free(cl);
        else g.clients[j++] = cl;
    }
    g.nclients = j;
}

/* ---- main loop ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: chat [--host H] [--port P] [--redis HOST:PORT] [--channel NAME]\n"
            "            [--tick-ms N] [--max-queue BYTES] [--any-origin] [--test-hooks]\n"
            "  --host H           address to listen on (default 127.0.0.1)\n"
            "  --port P           port (default 8080; 0 picks a free one)\n"
            "  --redis HOST:PORT  share the room through Redis pub/sub%s\n"
            "  --channel NAME     Redis channel (default ws-demo)\n"
            "  --tick-ms N        push the server time every N ms (default 2000)\n"
            "  --max-queue BYTES  close a browser that falls this far behind (default 16 MiB)\n"
            "  --any-origin       accept WebSocket requests from pages of any origin\n"
            "  --test-hooks       a user sending \"/kick-me\" is closed with 4001 \"bye\"\n",
#ifdef CHAT_HAVE_REDIS
            ""
#else
            " (not compiled in: needs libhiredis)"
#endif
    );
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
    char *e;
    unsigned long v;
    if (!s || !*s || *s == '-') return -1;
    errno = 0;
    v = strtoul(s, &e, 10);
    if (errno || *e || v > max) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv) {
    int i;
    unsigned long v;
    g.host = "127.0.0.1", g.port = 8080, g.tick_ms = 2000, g.max_queue = DEFAULT_QUEUE;
    g.channel = "ws-demo";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--test-hooks")) {
            g.test_hooks = 1;
            continue;
        } else if (!strcmp(a, "--any-origin")) {
            g.any_origin = 1;
            continue;
        }
        if (!val) {
            fprintf(stderr, "chat: %s needs a value (or is unknown)\n", a);
            return -1;
        }
        i++;
        if (!strcmp(a, "--host")) g.host = val;
        else if (!strcmp(a, "--port") && parse_uint(val, 65535, &v) == 0) g.port = (unsigned)v;
        else if (!strcmp(a, "--tick-ms") && parse_uint(val, 3600000, &v) == 0 && v >= 10) g.tick_ms = (unsigned)v;
        else if (!strcmp(a, "--max-queue") && parse_uint(val, 1ul << 30, &v) == 0 && v >= 4096) g.max_queue = v;
        else if (!strcmp(a, "--channel") && *val) g.channel = val;
        else if (!strcmp(a, "--redis")) g.redis_addr = val;
        else {
            fprintf(stderr, "chat: bad option or value: %s %s\n", a, val);
            return -1;
        }
    }
    if (g.redis_addr) {
#ifdef CHAT_HAVE_REDIS
        const char *colon = strrchr(g.redis_addr, ':');
        size_t hl = colon ? (size_t)(colon - g.redis_addr) : 0;
        if (!colon || !hl || hl >= sizeof g.redis_host || parse_uint(colon + 1, 65535, &v) < 0 || !v) {
            fprintf(stderr, "chat: --redis wants HOST:PORT, got %s\n", g.redis_addr);
            return -1;
        }
        memcpy(g.redis_host, g.redis_addr, hl);
        g.redis_host[hl] = '\0';
        g.redis_port = (int)v;
#else
        fprintf(stderr, "chat: built without Redis support (libhiredis was not found at build time)\n");
        return -1;
#endif
    }
    return 0;
}

int main(int argc, char **argv) {
    struct sigaction sa;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    static struct pollfd pfd[MAX_CLIENTS + 3];
    static client *who[MAX_CLIENTS + 3];
    uint64_t stop_at = 0;
    int i;

    if (parse_args(argc, argv) < 0) {
        usage(stderr);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    g.listen_fd = ws_tcp_listen(g.host, g.port, 128);
    if (g.listen_fd < 0) {
        fprintf(stderr, "chat: cannot listen on %s port %u: %s\n", g.host, g.port, ws_strerror(g.listen_fd));
        return 1;
    }
    if (getsockname(g.listen_fd, (struct sockaddr *)&ss, &sl) == 0)
        g.port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);

    g.cfg.on_request = on_request;
    g.cfg.on_open = on_open;
    g.cfg.on_message = on_message;
    g.cfg.on_close = on_close;
    g.cfg.on_error = on_error;
    g.cfg.realloc_fn = ws_libc_realloc;
    g.cfg.max_message = MAX_MESSAGE;
    /* The hard bound sits a little above the soft one deliver() checks, so
     * a close frame always fits behind a full queue. */
    g.cfg.max_send_buffer = g.max_queue + 4096;
    g.cfg.ping_interval_ms = 30000;
    g.cfg.pong_timeout_ms = 30000;
    g.cfg.close_timeout_ms = 10000;
    g.next_tick = now_ms() + g.tick_ms;
#ifdef CHAT_HAVE_REDIS
    if (g.redis_addr) {
        snprintf(g.tag, sizeof g.tag, "@%u", g.port);
        g.sub.what = "subscriber", g.pub.what = "publisher";
        g.sub.backoff = g.pub.backoff = REDIS_BACKOFF_MIN;
        g.redis_shown = -1;
        snprintf(g.redis_why, sizeof g.redis_why, "connecting");
    }
#endif

    printf("chat: listening on http://%s%s%s:%u/ - open it in a browser%s%s\n", strchr(g.host, ':') ? "[" : "",
           g.host, strchr(g.host, ':') ? "]" : "", g.port, g.redis_addr ? "; redis " : "",
           g.redis_addr ? g.redis_addr : "");
    fflush(stdout);

    for (;;) {
        uint64_t now = now_ms();
        long timeout = g.next_tick > now ? (long)(g.next_tick - now) : 0;
        int n = 0, listen_at = -1, r;
#ifdef CHAT_HAVE_REDIS
        int sub_at = -1, pub_at = -1;
#endif
        if (g_stop && !stop_at) {
            /* Going away: say so to every browser, then give the closing
             * handshakes a moment. */
            logf_("shutting down");
            stop_at = now + 1500;
            for (i = 0; i < g.nclients; i++)
                if (g.clients[i]->kind == C_WS && ws_state(&g.clients[i]->ws) == WS_OPEN)
                    ws_close(&g.clients[i]->ws, WS_CLOSE_GOING_AWAY, "server shutting down");
            sweep(now);
        }
        if (stop_at && (!g.nclients || now >= stop_at)) break;

        if (!stop_at) { /* a full table still accepts, to answer 503 */
            listen_at = n;
            pfd[n].fd = g.listen_fd, pfd[n].events = POLLIN, who[n++] = NULL;
        }
        for (i = 0; i < g.nclients; i++) {
            client *cl = g.clients[i];
            short ev = POLLIN;
            long t = -1;
            if (cl->kind == C_WS) {
                if (ws_wants_write(&cl->ws)) ev |= POLLOUT;
                t = ws_next_timeout(&cl->ws);
            } else {
                if (cl->kind == C_HTTP_WRITE) ev = POLLOUT;
                t = cl->deadline > now ? (long)(cl->deadline - now) : 0;
            }
            if (t >= 0 && (timeout < 0 || t < timeout)) timeout = t;
            pfd[n].fd = cl->fd, pfd[n].events = ev, who[n++] = cl;
        }
#ifdef CHAT_HAVE_REDIS
        if (g.redis_addr && !stop_at) {
            redis_timers(now, &timeout);
            if (g.sub.ctx) {
                sub_at = n;
                pfd[n].fd = g.sub.ctx->fd, pfd[n].events = (short)(POLLIN | (g.sub.want_write ? POLLOUT : 0));
                who[n++] = NULL;
            }
            if (g.pub.ctx) {
                pub_at = n;
                pfd[n].fd = g.pub.ctx->fd, pfd[n].events = (short)(POLLIN | (g.pub.want_write ? POLLOUT : 0));
                who[n++] = NULL;
            }
        }
#endif
        if (stop_at && (timeout < 0 || timeout > 50)) timeout = 50;
        for (i = 0; i < n; i++) pfd[i].revents = 0;
        r = poll(pfd, (nfds_t)n, timeout > INT_MAX ? INT_MAX : (int)timeout);
        if (r < 0 && errno != EINTR) {
            perror("chat: poll");
            break;
        }
        now = now_ms();

        for (i = 0; i < n; i++) {
            client *cl = who[i];
            short rev = pfd[i].revents;
            if (!cl) continue;
            if (cl->kind == C_WS) {
                if (rev || ws_next_timeout(&cl->ws) == 0) (void)ws_pump(&cl->ws);
            } else if (rev) {
                if (cl->kind == C_HTTP_READ) http_read(cl);
                else if (cl->kind == C_HTTP_WRITE) http_write(cl);
                else linger_read(cl);
            }
        }
#ifdef CHAT_HAVE_REDIS
        if (sub_at >= 0 && g.sub.ctx && pfd[sub_at].revents) {
            if (g.sub.want_write && (pfd[sub_at].revents & (POLLOUT | POLLERR | POLLHUP))) rlink_write(&g.sub);
            if (g.sub.ctx && (pfd[sub_at].revents & (POLLIN | POLLERR | POLLHUP))) rlink_read(&g.sub, 1);
        }
        if (pub_at >= 0 && g.pub.ctx && pfd[pub_at].revents) {
            if (g.pub.want_write && (pfd[pub_at].revents & (POLLOUT | POLLERR | POLLHUP))) rlink_write(&g.pub);
            if (g.pub.ctx && (pfd[pub_at].revents & (POLLIN | POLLERR | POLLHUP))) rlink_read(&g.pub, 0);
        }
#endif
        if (listen_at >= 0 && (pfd[listen_at].revents & POLLIN)) accept_clients();
        if (!stop_at && now >= g.next_tick) {
            send_tick();
            g.next_tick = now + g.tick_ms;
        }
        sweep(now);
        if (g.users_changed && !stop_at) {
            g.users_changed = 0;
            send_status(NULL, NULL);
        }
    }

    for (i = 0; i < g.nclients; i++) {
        client *cl = g.clients[i];
        if (cl->kind == C_WS && ws_state(&cl->ws) != WS_CLOSED) {
            ws_disconnect(&cl->ws);
            cl->fd = -1;
        }
        client_free(cl);
    }
#ifdef CHAT_HAVE_REDIS
    if (g.sub.ctx) redisFree(g.sub.ctx);
    if (g.pub.ctx) redisFree(g.pub.ctx);
#endif
    close(g.listen_fd);
    logf_("bye");
    return 0;
}
