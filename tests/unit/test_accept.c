/* Sec-WebSocket-Accept: the RFC 6455 section 1.3 example, and more keys
 * checked against SHA-1 and base64 composed by hand. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

int main(void) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char out[WS_ACCEPT_LEN + 2];
    test_rng rng;
    int i, all = 1;

    memset(out, 'x', sizeof out);
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    CHECKF(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "RFC 6455 example: %s", out);
    CHECK(out[WS_ACCEPT_LEN] == '\0' && out[WS_ACCEPT_LEN + 1] == 'x');

    /* Only key_len bytes of the key count. (out is cleared first, or the
     * answer left by the call above would pass this check unwritten.) */
    memset(out, 'x', sizeof out);
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==trailing", 24, out);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);

    rng.s = 6455;
    for (i = 0; i < 200; i++) {
        unsigned char raw[16], digest[20];
        char key[WS_KEY_LEN + 1], cat[WS_KEY_LEN + sizeof guid], want[WS_ACCEPT_LEN + 1];
        test_fill(&rng, raw, sizeof raw);
        ws_base64_encode(raw, sizeof raw, key, sizeof key);
        memcpy(cat, key, WS_KEY_LEN);
        memcpy(cat + WS_KEY_LEN, guid, sizeof guid);
        ws_sha1_oneshot(cat, strlen(cat), digest);
        ws_base64_encode(digest, sizeof digest, want, sizeof want);
        ws_accept_key(key, WS_KEY_LEN, out);
        if (strcmp(out, want) != 0) all = 0;
    }
    CHECKF(all, "accept key differs from base64(sha1(key + GUID)) for a random key");
    return test_report();
}
