/* fuzz_utf8: differential target. ws.h's UTF-8 validator (a DFA with an
 * ASCII fast path) against the plain reference decoder in fuzz_common.h.
 * Both must agree on validity and on the fail-fast position:
 *   - ws_utf8_validate over the whole input (*bad_at);
 *   - ws_utf8_feed over the input split at a fuzzer-chosen point, the state
 *     carried across (bad_at relative to the chunk that failed), then
 *     ws_utf8_finish;
 *   - ws_utf8_feed over fuzzer-chosen pieces of 1..16 bytes.
 * Input: byte 0 and 1 choose the split point, byte 2 the piece sizes; the
 * rest is the text. */
#define WS_IMPLEMENTATION
#define WS_STATIC
#define WS_NO_SOCKETS
#include "../ws.h"

#include "fuzz_common.h"

/* Feeds `text` in pieces given by `sizes` (cycled) and checks each result
 * against the reference position g (the first impossible byte, or none). */
static void check_pieces(const unsigned char *text, size_t len, int ref, size_t g, const unsigned char *sizes,
                         size_t nsizes) {
    ws_utf8_state st = WS_UTF8_ACCEPT;
    size_t off = 0, k = 0;
    int failed = 0;
    while (off < len) {
        size_t n = nsizes ? (size_t)(sizes[k++ % nsizes] % 16u) + 1u : len - off, bad = (size_t)-1;
        int r;
        if (n > len - off) n = len - off;
        r = ws_utf8_feed(&st, text + off, n, &bad);
        if (failed) {
            /* After an error the state stays failed and says so at once. */
            FUZZ_CHECK(r == WS_E_UTF8 && bad == 0);
        } else if (ref == REF_UTF8_INVALID && g < off + n) {
            FUZZ_CHECK(r == WS_E_UTF8);
            FUZZ_CHECK(bad == g - off);
            failed = 1;
        } else {
            FUZZ_CHECK(r == 0);
        }
        off += n;
    }
    if (ref == REF_UTF8_VALID) FUZZ_CHECK(ws_utf8_finish(&st) == 0);
    else FUZZ_CHECK(ws_utf8_finish(&st) == WS_E_UTF8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const unsigned char *text;
    size_t len, split, g = 0, bad;
    unsigned char sizes[8];
    int ref, r;
    ws_utf8_state st;
    if (size < 3) return 0;
    split = (size_t)data[0] << 8 | data[1];
    memcpy(sizes, data + 2, 1);
    text = data + 3;
    len = size - 3;
    split %= len + 1;

    ref = ref_utf8_scan(text, len, &g);

    /* One shot. */
    bad = (size_t)-1;
    r = ws_utf8_validate(text, len, &bad);
    if (ref == REF_UTF8_VALID) {
        FUZZ_CHECK(r == 0);
    } else {
        FUZZ_CHECK(r == WS_E_UTF8);
        FUZZ_CHECK(bad == g); /* truncated: g == len */
    }
    FUZZ_CHECK(ws_utf8_validate(text, len, NULL) == r);

    /* Split in two at the fuzzer's point, state carried across. */
    st = WS_UTF8_ACCEPT;
    bad = (size_t)-1;
    r = ws_utf8_feed(&st, text, split, &bad);
    if (ref == REF_UTF8_INVALID && g < split) {
        FUZZ_CHECK(r == WS_E_UTF8 && bad == g);
        bad = (size_t)-1;
        FUZZ_CHECK(ws_utf8_feed(&st, text + split, len - split, &bad) == WS_E_UTF8 && bad == 0);
        FUZZ_CHECK(ws_utf8_finish(&st) == WS_E_UTF8);
    } else {
        FUZZ_CHECK(r == 0);
        bad = (size_t)-1;
        r = ws_utf8_feed(&st, text + split, len - split, &bad);
        if (ref == REF_UTF8_INVALID) {
            FUZZ_CHECK(r == WS_E_UTF8 && bad == g - split);
        } else {
            FUZZ_CHECK(r == 0);
            FUZZ_CHECK(ws_utf8_finish(&st) == (ref == REF_UTF8_VALID ? 0 : WS_E_UTF8));
        }
    }

    /* Many small pieces, then byte by byte for short inputs. */
    sizes[1] = (unsigned char)(sizes[0] * 7u + 3u), sizes[2] = (unsigned char)(sizes[0] >> 4);
    check_pieces(text, len, ref, g, sizes, 3);
    if (len <= 256) {
        unsigned char one = 0;
        check_pieces(text, len, ref, g, &one, 1);
    }
    return 0;
}
