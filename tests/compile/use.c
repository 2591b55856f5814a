/* A translation unit that only includes the declarations (with WS_STATIC it
 * carries its own implementation, as it must) and calls into every layer
 * that the configuration compiles in. Linked with impl.c, it proves there
 * are no duplicate or missing symbols; run, it proves the calls work. */
#ifdef WS_STATIC
#define WS_IMPLEMENTATION
#endif
#include "ws.h"

#include <stdio.h>
#include <string.h>

int compile_impl_probe(void);

static int failures;
#define EXPECT(cond) expect((cond) ? 1 : 0, #cond, __LINE__)
static void expect(int ok, const char *what, int line) {
    if (!ok) {
        printf("use.c:%d: unexpected: %s\n", line, what);
        failures++;
    }
}

int main(void) {
    unsigned char digest[20], hdr[WS_FRAME_HEADER_MAX], payload[4] = {1, 2, 3, 4};
    static const unsigned char key[4] = {9, 9, 9, 9};
    char accept[WS_ACCEPT_LEN + 1], b64[16], buf[512];
    ws_frame_header h;
    ws_utf8_state st = WS_UTF8_ACCEPT;
    ws_config cfg;
    ws_conn c;

    ws_sha1_oneshot("abc", 3, digest);
    EXPECT(digest[19] == 0x9d);
    EXPECT(ws_base64_encode("f", 1, b64, sizeof b64) == 4);
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, accept);
    EXPECT(strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    EXPECT(ws_mask(payload, 4, key, 0) == 0 && payload[0] == (1 ^ 9));
    EXPECT(ws_utf8_validate("ok", 2, NULL) == 0);
    EXPECT(ws_utf8_feed(&st, "\xc3", 1, NULL) == 0 && ws_utf8_finish(&st) == WS_E_UTF8);
    EXPECT(ws_frame_parse(hdr, ws_frame_write(hdr, 1, 0, WS_OP_TEXT, 300, key), &h) == 8);
    EXPECT(ws_frame_check(&h, 1, NULL) == 0);
    EXPECT(strcmp(ws_strerror(WS_E_UTF8), "invalid UTF-8") == 0);

    memset(&cfg, 0, sizeof cfg);
    ws_conn_init(&c, &cfg, NULL, NULL);
    EXPECT(ws_state(&c) == WS_CONNECTING || ws_state(&c) == WS_CLOSED);
#ifndef WS_NO_CLIENT
    {
        ws_client_options opt;
        memset(&opt, 0, sizeof opt);
        opt.host = "example.com";
        EXPECT(ws_request_build(buf, sizeof buf, &opt, "dGhlIHNhbXBsZSBub25jZQ==") > 0);
    }
#endif
#ifndef WS_NO_SERVER
    EXPECT(ws_response_build(buf, sizeof buf, "dGhlIHNhbXBsZSBub25jZQ==", NULL, NULL) > 0);
    EXPECT(strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != NULL);
#endif
#ifdef WS_HAVE_SOCKETS
    {
        ws_url u;
        EXPECT(ws_url_parse("ws://127.0.0.1:9001/x", &u) == 0 && u.port == 9001);
    }
#endif
    (void)buf;
    EXPECT(compile_impl_probe() == 0);
    return failures ? 1 : 0;
}
