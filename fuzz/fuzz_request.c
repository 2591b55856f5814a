/* fuzz_request: ws_request_parse, the server side of the opening handshake.
 * Byte 0 picks max_header; the rest is what a client sent. Checks:
 *   - the result is a header-block length, WS_E_INCOMPLETE or
 *     WS_E_HANDSHAKE with an HTTP status we answer with and a reason;
 *   - the block ends with CRLF CRLF, fits len and max_header; INCOMPLETE
 *     only while no block end is there and the limit is not reached;
 *   - every string handed out lies inside the block, is NUL-terminated
 *     there and holds no CR, LF or NUL; names are tokens;
 *   - an accepted request has method GET, version 13 and a 24-character key
 *     that decodes to 16 bytes; Host, key and version appear once;
 *   - bytes after the block are left alone; every shorter prefix of an
 *     accepted block is INCOMPLETE;
 *   - ws_header_find / ws_request_offers / ws_token_list_has agree with the
 *     parsed headers. */
#define WS_IMPLEMENTATION
#define WS_STATIC
#define WS_NO_SOCKETS
#include "../ws.h"

#include "fuzz_common.h"
#include <ctype.h>

static const size_t max_headers[8] = {0, 16, 64, 120, 200, 512, 1024, 4096};

/* s points into [lo, hi) and its NUL comes before hi. */
static void check_string(const char *s, const char *lo, const char *hi) {
    const char *p;
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(s >= lo && s < hi);
    for (p = s; p < hi && *p; p++) FUZZ_CHECK(*p != '\r' && *p != '\n');
    FUZZ_CHECK(p < hi);
}

static int is_tchar(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a, y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

/* A field sent on several lines is one list (RFC 9110 section 5.3): does
 * any line called name list token? */
static int any_line_has(const ws_header *h, unsigned n, const char *name, const char *token) {
    unsigned i;
    for (i = 0; i < n; i++)
        if (ieq(h[i].name, name) && ws_token_list_has(h[i].value, token, 1)) return 1;
    return 0;
}

static unsigned count_named(const ws_request *req, const char *name) {
    unsigned i, n = 0;
    for (i = 0; i < req->num_headers; i++) n += (unsigned)ieq(req->headers[i].name, name);
    return n;
}

/* Position of the first CRLF CRLF within the first `len` bytes, + 4; 0 if none. */
static size_t block_end(const char *p, size_t len) {
    size_t i;
    for (i = 0; i + 4 <= len; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) return i + 4;
    return 0;
}

/* Whether p[0..len) can still grow into a request line: a method of token
 * characters, then a space (or nothing yet after it). */
static int can_begin_request(const char *p, size_t len) {
    size_t i = 0;
    while (i < len && (isalnum((unsigned char)p[i]) || (p[i] && strchr("!#$%&'*+-.^_`|~", p[i])))) i++;
    return i == len || (i > 0 && p[i] == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ws_request req;
    char *buf;
    size_t len, max, limit, end;
    int status = -1, r;
    const char *why = NULL;
    unsigned i;
    if (size < 1) return 0;
    max = max_headers[data[0] & 7u];
    limit = max ? max : 8192;
    len = size - 1;
    buf = (char *)malloc(len ? len : 1); /* exact size: ASan sees any over-read */
    if (!buf) abort();
    memcpy(buf, data + 1, len);
    r = ws_request_parse(buf, len, max, &req, &status, &why);
    end = block_end((const char *)data + 1, len < limit ? len : limit);

    if (r == WS_E_INCOMPLETE) {
        FUZZ_CHECK(end == 0 && len < limit && can_begin_request((const char *)data + 1, len));
    } else if (r == WS_E_HANDSHAKE) {
        FUZZ_CHECK(status == 400 || status == 405 || status == 426 || status == 431);
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        /* Refused before the block ended: too long, or it cannot be a request. */
        if (end == 0)
            FUZZ_CHECK(len >= limit ? status == 431
                                    : status == 400 && !can_begin_request((const char *)data + 1, len));
    } else {
        const char *lo = buf, *hi = buf + r;
        FUZZ_CHECK(r > 0 && (size_t)r == end);
        FUZZ_CHECK(status == 101);
        FUZZ_CHECK((size_t)r <= len && (size_t)r <= limit);
        FUZZ_CHECK(memcmp(data + 1 + r - 4, "\r\n\r\n", 4) == 0);
        /* The bytes after the block are untouched. */
        FUZZ_CHECK(memcmp(buf + r, data + 1 + r, len - (size_t)r) == 0);
        check_string(req.method, lo, hi);
        FUZZ_CHECK(strcmp(req.method, "GET") == 0);
        check_string(req.target, lo, hi);
        FUZZ_CHECK(req.target[0] != '\0');
        check_string(req.host, lo, hi);
        check_string(req.key, lo, hi);
        FUZZ_CHECK(strlen(req.key) == WS_KEY_LEN);
        {
            unsigned char k[16];
            FUZZ_CHECK(ws_base64_decode(req.key, WS_KEY_LEN, k, sizeof k) == 16);
        }
        if (req.origin) check_string(req.origin, lo, hi);
        FUZZ_CHECK(req.http_minor <= 9);
        FUZZ_CHECK(req.num_headers <= WS_MAX_HEADERS);
        for (i = 0; i < req.num_headers; i++) {
            const char *n = req.headers[i].name, *v = req.headers[i].value, *p;
            size_t vl;
            check_string(n, lo, hi);
            check_string(v, lo, hi);
            FUZZ_CHECK(n[0] != '\0');
            for (p = n; *p; p++) FUZZ_CHECK(is_tchar((unsigned char)*p));
            vl = strlen(v);
            FUZZ_CHECK(vl == 0 || (v[0] != ' ' && v[0] != '\t' && v[vl - 1] != ' ' && v[vl - 1] != '\t'));
            /* ws_header_find returns the first header of that name. */
            FUZZ_CHECK(ws_header_find(req.headers, req.num_headers, n) != NULL);
        }
        FUZZ_CHECK(count_named(&req, "Host") == 1);
        FUZZ_CHECK(count_named(&req, "Sec-WebSocket-Key") == 1);
        FUZZ_CHECK(count_named(&req, "Sec-WebSocket-Version") == 1);
        FUZZ_CHECK(strcmp(ws_header_find(req.headers, req.num_headers, "sec-websocket-version"), "13") == 0);
        FUZZ_CHECK(any_line_has(req.headers, req.num_headers, "UPGRADE", "WebSocket"));
        FUZZ_CHECK(any_line_has(req.headers, req.num_headers, "connection", "Upgrade"));
        FUZZ_CHECK(ws_header_find(req.headers, req.num_headers, "") == NULL);
        /* Offered subprotocols: each token of each header is offered. */
        for (i = 0; i < req.num_headers; i++) {
            if (ieq(req.headers[i].name, "Sec-WebSocket-Protocol")) {
                char tok[64];
                const char *p = req.headers[i].value;
                while (*p) {
                    size_t tl = 0;
                    while (*p == ' ' || *p == '\t' || *p == ',') p++;
                    while (*p && *p != ',' && tl < sizeof tok - 1) tok[tl++] = *p++;
                    while (tl && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t')) tl--;
                    tok[tl] = '\0';
                    if (tl && *p != '\0' && *p != ',') break; /* token too long for us: skip the check */
                    if (tl) FUZZ_CHECK(ws_request_offers(&req, tok));
                }
            }
        }
        FUZZ_CHECK(!ws_request_offers(&req, ""));

        /* Every shorter prefix is incomplete (the block end is not there). */
        if (len > 0) {
            size_t cut = (size_t)data[0] * 131u % (size_t)r;
            char *pre = (char *)malloc(cut ? cut : 1);
            ws_request req2;
            int st2 = -1;
            if (!pre) abort();
            memcpy(pre, data + 1, cut);
            FUZZ_CHECK(ws_request_parse(pre, cut, max, &req2, &st2, NULL) == WS_E_INCOMPLETE);
            free(pre);
        }
    }
    free(buf);
    return 0;
}
