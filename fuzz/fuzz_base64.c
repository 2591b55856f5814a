/* fuzz_base64: ws_base64_decode on arbitrary text and ws_base64_encode on
 * arbitrary bytes. Checks:
 *   - decode agrees with a plain reference decoder (RFC 4648, padded,
 *     canonical: the bits that padding drops must be zero);
 *   - whatever decodes re-encodes to exactly the input;
 *   - an error (WS_E_BASE64 or WS_E_NOMEM for a fuzzer-chosen capacity)
 *     writes nothing: the output buffer keeps its fill pattern;
 *   - encode then decode gives the bytes back; encode into a buffer one
 *     byte short fails with WS_E_NOMEM and writes nothing.
 * Input: byte 0 picks the output capacity, the rest is the text / bytes. */
#define WS_IMPLEMENTATION
#define WS_STATIC
#define WS_NO_SOCKETS
#include "../ws.h"

#include "fuzz_common.h"

static int ref_value(unsigned char ch) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = ch ? strchr(alphabet, ch) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Returns the decoded length or -1 when the text is not canonical padded
 * base64. */
static long ref_decode(const unsigned char *in, size_t len, unsigned char *out) {
    size_t i, o = 0;
    if (len % 4) return -1;
    for (i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        size_t j;
        int last = i + 4 == len;
        for (j = 0; j < 4; j++) {
            if (in[i + j] == '=' && last && j >= 2) {
                v[j] = 0, pad++;
                continue;
            }
            if (pad) return -1; /* a character after '=' */
            v[j] = ref_value(in[i + j]);
            if (v[j] < 0) return -1;
        }
        if (pad == 1 && in[i + 3] != '=') return -1;
        if (pad == 2 && (v[1] & 15)) return -1;
        if (pad == 1 && (v[2] & 3)) return -1;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (pad < 2) out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (pad < 1) out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    return (long)o;
}

static int untouched(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != 0xA5) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const unsigned char *in;
    size_t len, cap, full, enc_len;
    unsigned char *out, *ref;
    char *enc;
    long want;
    int r;
    if (size < 1) return 0;
    in = data + 1, len = size - 1;
    full = len / 4 * 3 + 3;
    /* The capacity: enough, or a fuzzer-chosen amount that may be short. */
    cap = data[0] & 0x80u ? full : (size_t)(data[0] & 0x7Fu) % (full + 1);
    out = (unsigned char *)malloc(cap + 1);
    ref = (unsigned char *)malloc(full > len ? full : len + 1);
    enc_len = WS_BASE64_ENCODED_LEN(len) + 1;
    enc = (char *)malloc(enc_len > 4 * len / 3 + 8 ? enc_len : 4 * len / 3 + 8);
    if (!out || !ref || !enc) abort();

    /* Decode. The input is the text. */
    want = ref_decode(in, len, ref);
    memset(out, 0xA5, cap + 1);
    r = ws_base64_decode((const char *)in, len, out, cap);
    if (want < 0) {
        FUZZ_CHECK(r == WS_E_BASE64);
        FUZZ_CHECK(untouched(out, cap + 1));
    } else if ((size_t)want > cap) {
        FUZZ_CHECK(r == WS_E_NOMEM);
        FUZZ_CHECK(untouched(out, cap + 1));
    } else {
        FUZZ_CHECK(r == (int)want);
        FUZZ_CHECK(want == 0 || memcmp(out, ref, (size_t)want) == 0);
        FUZZ_CHECK(out[want] == 0xA5 && untouched(out + want, cap + 1 - (size_t)want));
        /* Canonical: re-encoding gives the very same text. */
        FUZZ_CHECK(ws_base64_encode(out, (size_t)r, enc, enc_len) == (int)len);
        FUZZ_CHECK(memcmp(enc, in, len) == 0 && enc[len] == '\0');
    }

    /* Encode. The input is the bytes. */
    {
        size_t need = WS_BASE64_ENCODED_LEN(len);
        unsigned char *back = (unsigned char *)malloc(len + 1);
        if (!back) abort();
        r = ws_base64_encode(in, len, enc, need + 1);
        FUZZ_CHECK(r == (int)need && enc[need] == '\0');
        FUZZ_CHECK(ref_decode((const unsigned char *)enc, need, ref) == (long)len);
        FUZZ_CHECK(len == 0 || memcmp(ref, in, len) == 0);
        FUZZ_CHECK(ws_base64_decode(enc, need, back, len) == (int)len);
        FUZZ_CHECK(len == 0 || memcmp(back, in, len) == 0);
        /* One byte short: an error and nothing written. */
        memset(enc, 0xA5, need + 1);
        FUZZ_CHECK(ws_base64_encode(in, len, enc, need) == WS_E_NOMEM);
        FUZZ_CHECK(untouched((const unsigned char *)enc, need + 1));
        free(back);
    }
    free(out);
    free(ref);
    free(enc);
    return 0;
}
