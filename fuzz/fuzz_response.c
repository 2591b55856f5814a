/* fuzz_response: ws_response_parse, the client side of the opening
 * handshake, for the fixed key of RFC 6455 section 1.3. Byte 0 picks
 * max_header (bits 0-2) and the offered subprotocols (bits 3-4); the rest is
 * what the server sent. Checks:
 *   - the result is a block length, WS_E_INCOMPLETE or WS_E_HANDSHAKE with
 *     a reason; INCOMPLETE only while no block end is there;
 *   - an accepted response is HTTP/1.1 101 with exactly one
 *     Sec-WebSocket-Accept equal to the key's, Upgrade and Connection, no
 *     extension, and at most one subprotocol that was offered;
 *   - every string handed out lies inside the block, NUL-terminated there;
 *   - bytes after the block are left alone; a shorter prefix is INCOMPLETE. */
#define WS_IMPLEMENTATION
#define WS_STATIC
#define WS_NO_SOCKETS
#include "../ws.h"

#include "fuzz_common.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const size_t max_headers[8] = {0, 16, 64, 120, 200, 512, 1024, 4096};
/* The last offer has a token with a space inside: a server choosing it
 * still names more than one token. */
static const char *const offers[4] = {NULL, "chat", "chat, superchat", " v2.bin ,x,,a b,chat "};

static void check_string(const char *s, const char *lo, const char *hi) {
    const char *p;
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(s >= lo && s < hi);
    for (p = s; p < hi && *p; p++) FUZZ_CHECK(*p != '\r' && *p != '\n');
    FUZZ_CHECK(p < hi);
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

static size_t block_end(const char *p, size_t len) {
    size_t i;
    for (i = 0; i + 4 <= len; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) return i + 4;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ws_response resp;
    char *buf, expect[WS_ACCEPT_LEN + 1];
    const char *why = NULL, *offer;
    size_t len, max, limit, end;
    unsigned i, accepts = 0;
    int r, begins;
    if (size < 1) return 0;
    max = max_headers[data[0] & 7u];
    offer = offers[(data[0] >> 3) & 3u];
    limit = max ? max : 8192;
    len = size - 1;
    buf = (char *)malloc(len ? len : 1);
    if (!buf) abort();
    memcpy(buf, data + 1, len);
    ws_accept_key(KEY, strlen(KEY), expect);
    FUZZ_CHECK(strcmp(expect, ACCEPT) == 0);

    r = ws_response_parse(buf, len, max, KEY, offer, &resp, &why);
    end = block_end((const char *)data + 1, len < limit ? len : limit);
    /* Before its block has ended a response is refused only when too long
     * or when it cannot begin with "HTTP/". */
    begins = memcmp(data + 1, "HTTP/", len < 5 ? len : 5) == 0;
    if (r == WS_E_INCOMPLETE) {
        FUZZ_CHECK(end == 0 && len < limit && begins);
    } else if (r == WS_E_HANDSHAKE) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        FUZZ_CHECK(resp.status >= 0 && resp.status <= 999);
        if (end == 0) FUZZ_CHECK(len >= limit || !begins);
    } else {
        const char *lo = buf, *hi = buf + r;
        FUZZ_CHECK(r > 0 && (size_t)r == end);
        FUZZ_CHECK((size_t)r <= len && (size_t)r <= limit);
        FUZZ_CHECK(memcmp(buf + r, data + 1 + r, len - (size_t)r) == 0);
        FUZZ_CHECK(resp.status == 101);
        FUZZ_CHECK(memcmp(data + 1, "HTTP/1.", 7) == 0 && data[8] >= '1' && data[8] <= '9');
        check_string(resp.reason, lo, hi);
        check_string(resp.accept, lo, hi);
        FUZZ_CHECK(strcmp(resp.accept, ACCEPT) == 0);
        FUZZ_CHECK(resp.num_headers <= WS_MAX_HEADERS);
        for (i = 0; i < resp.num_headers; i++) {
            check_string(resp.headers[i].name, lo, hi);
            check_string(resp.headers[i].value, lo, hi);
            FUZZ_CHECK(resp.headers[i].name[0] != '\0');
            accepts += (unsigned)ieq(resp.headers[i].name, "Sec-WebSocket-Accept");
            FUZZ_CHECK(!ieq(resp.headers[i].name, "Sec-WebSocket-Extensions"));
        }
        FUZZ_CHECK(accepts == 1);
        FUZZ_CHECK(any_line_has(resp.headers, resp.num_headers, "upgrade", "websocket"));
        FUZZ_CHECK(any_line_has(resp.headers, resp.num_headers, "Connection", "UPGRADE"));
        if (resp.subprotocol) {
            const char *p;
            check_string(resp.subprotocol, lo, hi);
            FUZZ_CHECK(offer != NULL && resp.subprotocol[0] != '\0');
            for (p = resp.subprotocol; *p; p++) FUZZ_CHECK(*p != ',' && *p != ' ' && *p != '\t');
            FUZZ_CHECK(ws_token_list_has(offer, resp.subprotocol, 0));
        } else {
            FUZZ_CHECK(ws_header_find(resp.headers, resp.num_headers, "Sec-WebSocket-Protocol") == NULL);
        }
        if (r > 0) {
            size_t cut = (size_t)data[0] * 131u % (size_t)r;
            char *pre = (char *)malloc(cut ? cut : 1);
            ws_response resp2;
            if (!pre) abort();
            memcpy(pre, data + 1, cut);
            FUZZ_CHECK(ws_response_parse(pre, cut, max, KEY, offer, &resp2, NULL) == WS_E_INCOMPLETE);
            free(pre);
        }
    }
    free(buf);
    return 0;
}
