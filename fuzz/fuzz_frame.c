/* fuzz_frame: the frame codec. The input starts with a frame header (and
 * whatever follows it is its payload). Checks:
 *   - ws_frame_parse against a plain re-reading of RFC 6455 section 5.2
 *     (lengths, fields, INCOMPLETE for every shorter prefix, PROTOCOL for a
 *     64-bit length with the top bit set);
 *   - ws_frame_check for both roles against the rules written out again;
 *   - a round trip through ws_frame_write (same fields back; the same bytes
 *     when the input used the minimal length encoding, as a sender must);
 *   - masking the payload: ws_mask / ws_mask_copy against a byte loop, split
 *     at a fuzzer-chosen point with the key offset carried, and back;
 *   - for a close frame, ws_close_code_valid against the RFC's ranges. */
#define WS_IMPLEMENTATION
#define WS_STATIC
#define WS_NO_SOCKETS
#include "../ws.h"

#include "fuzz_common.h"

/* The same header, read by hand. Returns the header length, 0 when more
 * bytes are needed, -1 for the forbidden top bit. */
static int ref_parse(const uint8_t *p, size_t len, ws_frame_header *h) {
    size_t need = 2, i;
    uint64_t n;
    if (len < 2) return 0;
    n = p[1] & 0x7Fu;
    if (n == 126) need = 4;
    if (n == 127) need = 10;
    if (p[1] & 0x80u) need += 4;
    if (len < need) return 0;
    if (n == 126) n = (uint64_t)p[2] * 256u + p[3];
    else if (n == 127) {
        n = 0;
        for (i = 0; i < 8; i++) n = n * 256u + p[2 + i];
        if (n >> 63) return -1;
    }
    memset(h, 0, sizeof *h);
    h->fin = (unsigned char)((p[0] & 0x80u) != 0);
    h->rsv = (unsigned char)((p[0] & 0x70u) >> 4);
    h->opcode = (unsigned char)(p[0] & 0x0Fu);
    h->masked = (unsigned char)((p[1] & 0x80u) != 0);
    h->payload_len = n;
    h->header_len = (unsigned char)need;
    if (h->masked) memcpy(h->mask_key, p + need - 4, 4);
    return (int)need;
}

static int same_header(const ws_frame_header *a, const ws_frame_header *b) {
    return a->fin == b->fin && a->rsv == b->rsv && a->opcode == b->opcode && a->masked == b->masked &&
           a->payload_len == b->payload_len && a->header_len == b->header_len &&
           (!a->masked || memcmp(a->mask_key, b->mask_key, 4) == 0);
}

/* RFC 6455: which headers a receiver in role `server` must reject. */
static int ref_check(const ws_frame_header *h, int server) {
    int control = h->opcode >= 8;
    if (h->rsv != 0) return 0;
    if (!(h->opcode <= 2 || (h->opcode >= 8 && h->opcode <= 10))) return 0;
    if (control && (!h->fin || h->payload_len > 125)) return 0;
    if (server ? !h->masked : h->masked) return 0;
    return 1;
}

static int ref_close_code(unsigned code) {
    if (code < 1000 || code >= 5000) return 0;
    if (code >= 3000) return 1;
    /* 1004 reserved, 1005/1006 never on the wire, 1015 TLS (reported only),
     * 1016-2999 unassigned or reserved for extensions. */
    return code <= 1003 || (code >= 1007 && code <= 1014);
}

static void check_mask(const uint8_t *payload, size_t len, const unsigned char key[4], size_t split,
                       size_t offset) {
    unsigned char *a = (unsigned char *)malloc(len + 1), *b = (unsigned char *)malloc(len + 9);
    size_t i, off;
    if (!a || !b) abort();
    /* Reference: one byte at a time. */
    for (i = 0; i < len; i++) a[i] = (unsigned char)(payload[i] ^ key[(offset + i) & 3]);
    /* In place, in two pieces with the offset carried. */
    memcpy(b, payload, len);
    off = ws_mask(b, split, key, offset);
    FUZZ_CHECK(off == ((offset + split) & 3));
    off = ws_mask(b + split, len - split, key, off);
    FUZZ_CHECK(off == ((offset + len) & 3));
    FUZZ_CHECK(len == 0 || memcmp(a, b, len) == 0);
    /* Copying into a destination with another alignment. */
    off = ws_mask_copy(b + 1 + (split & 7), payload, len, key, offset);
    FUZZ_CHECK(off == ((offset + len) & 3));
    FUZZ_CHECK(len == 0 || memcmp(a, b + 1 + (split & 7), len) == 0);
    /* And back. */
    ws_mask(a, len, key, offset);
    FUZZ_CHECK(len == 0 || memcmp(a, payload, len) == 0);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ws_frame_header h, ref, back;
    unsigned char out[WS_FRAME_HEADER_MAX];
    const char *why;
    size_t wn, i, plen, split;
    int n, rn, role;

    memset(&h, 0xAA, sizeof h);
    n = ws_frame_parse(data, size, &h);
    rn = ref_parse(data, size, &ref);
    if (rn == 0) {
        FUZZ_CHECK(n == WS_E_INCOMPLETE);
        return 0;
    }
    if (rn < 0) {
        FUZZ_CHECK(n == WS_E_PROTOCOL);
        return 0;
    }
    FUZZ_CHECK(n == rn);
    FUZZ_CHECK(same_header(&h, &ref));
    FUZZ_CHECK(h.header_len >= 2 && h.header_len <= WS_FRAME_HEADER_MAX);
    if (!h.masked) FUZZ_CHECK(h.mask_key[0] == 0 && h.mask_key[1] == 0 && h.mask_key[2] == 0 && h.mask_key[3] == 0);
    /* Every shorter prefix is incomplete. */
    for (i = 0; i < (size_t)n; i++) {
        ws_frame_header t;
        FUZZ_CHECK(ws_frame_parse(data, i, &t) == WS_E_INCOMPLETE);
    }

    for (role = 0; role < 2; role++) {
        int want = ref_check(&h, role);
        why = NULL;
        if (want) {
            FUZZ_CHECK(ws_frame_check(&h, role, &why) == 0);
        } else {
            FUZZ_CHECK(ws_frame_check(&h, role, &why) == WS_E_PROTOCOL);
            FUZZ_CHECK(why != NULL && why[0] != '\0');
            FUZZ_CHECK(ws_frame_check(&h, role, NULL) == WS_E_PROTOCOL);
        }
    }

    /* Round trip through the writer. */
    wn = ws_frame_write(out, h.fin, h.rsv, h.opcode, h.payload_len, h.masked ? h.mask_key : NULL);
    FUZZ_CHECK(wn >= 2 && wn <= WS_FRAME_HEADER_MAX);
    FUZZ_CHECK(ws_frame_parse(out, wn, &back) == (int)wn);
    FUZZ_CHECK(back.fin == h.fin && back.rsv == h.rsv && back.opcode == h.opcode && back.masked == h.masked &&
               back.payload_len == h.payload_len);
    FUZZ_CHECK(!h.masked || memcmp(back.mask_key, h.mask_key, 4) == 0);
    {
        /* The minimal encoding of the length (RFC 6455 section 5.2). */
        size_t minimal = (h.payload_len < 126 ? 2u : h.payload_len <= 0xFFFFu ? 4u : 10u) + (h.masked ? 4u : 0u);
        FUZZ_CHECK(wn == minimal);
        if ((size_t)n == minimal) FUZZ_CHECK(memcmp(out, data, wn) == 0);
    }
    /* Out-of-range arguments are cut to their bits, never spill over. */
    wn = ws_frame_write(out, 2, h.rsv | 8, h.opcode | 16, h.payload_len, NULL);
    FUZZ_CHECK(ws_frame_parse(out, wn, &back) == (int)wn);
    FUZZ_CHECK(back.fin == 1 && back.rsv == h.rsv && back.opcode == h.opcode && !back.masked);

    /* The payload that is present. */
    plen = size - (size_t)n;
    if ((uint64_t)plen > h.payload_len) plen = (size_t)h.payload_len;
    split = plen ? (size_t)data[0] % (plen + 1) : 0;
    {
        /* Unmasked frames still exercise masking, with a key of their own. */
        unsigned char key[4];
        key[0] = data[0], key[1] = data[1], key[2] = (unsigned char)(data[0] ^ 0x5A), key[3] = 0xC3;
        check_mask(data + n, plen, h.masked ? h.mask_key : key, split, data[1] & 7u);
    }

    if (h.opcode == WS_OP_CLOSE && plen >= 2) {
        unsigned code = (unsigned)data[n] << 8 | data[n + 1];
        FUZZ_CHECK(!ws_close_code_valid(code) == !ref_close_code(code));
    }
    return 0;
}
