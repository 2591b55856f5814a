/* autobahn_client - the testee client for an Autobahn|Testsuite fuzzing
 * server, built on ws.h.
 *
 *   autobahn_client [BASE_URL [AGENT]]     (defaults ws://127.0.0.1:9001, ws.h)
 *
 * Asks BASE_URL/getCaseCount for the number of cases (the single text
 * message of that connection), runs each one at
 * BASE_URL/runCase?case=N&agent=AGENT echoing every message with its own
 * opcode until the server closes, then asks BASE_URL/updateReports?agent=AGENT
 * to write the reports. The verdicts are the fuzzing server's to give; this
 * program only prints how each case's connection ended.
 */
#define WS_IMPLEMENTATION
#include "ws.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE ((size_t)64 << 20)
#define CASE_LIMIT_MS 300000u /* a case that outlives this is abandoned */

static struct {
    long count;      /* getCaseCount's answer, -1 until it came */
    int close_code;
    char close_reason[128];
} st;

static void echo_message(ws_conn *c, int opcode, const void *data, size_t len) {
    int r = ws_send(c, opcode, data, len);
    if (r == WS_E_FULL || r == WS_E_NOMEM) (void)ws_close(c, WS_CLOSE_INTERNAL, "echo does not fit the send buffer");
}

static void count_message(ws_conn *c, int opcode, const void *data, size_t len) {
    char buf[32];
    char *end;
    (void)c;
    if (opcode != WS_OP_TEXT || len == 0 || len >= sizeof buf) return;
    memcpy(buf, data, len);
    buf[len] = '\0';
    st.count = strtol(buf, &end, 10);
    if (*end || st.count < 0) st.count = -1;
}

static void on_close(ws_conn *c, int code, const char *reason) {
    size_t n = strlen(reason);
    (void)c;
    st.close_code = code;
    if (n >= sizeof st.close_reason) n = sizeof st.close_reason - 1;
    memcpy(st.close_reason, reason, n);
    st.close_reason[n] = '\0';
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One connection from start to close. Returns 0 when it opened and closed,
 * -1 when the connection or the handshake failed. */
static int run(const char *url, ws_config *cfg) {
    ws_conn c;
    uint64_t give_up = now_ms() + CASE_LIMIT_MS;
    int opened, r;
    st.close_code = 0;
    st.close_reason[0] = '\0';
    r = ws_connect_url(&c, cfg, url, NULL);
    if (r < 0) {
        fprintf(stderr, "autobahn_client: cannot connect to %s: %s\n", url, ws_strerror(r));
        return -1;
    }
    while (ws_poll(&c, 1000) != WS_E_CLOSED) {
        if (now_ms() > give_up) {
            fprintf(stderr, "autobahn_client: %s still running after %u s; giving up on it\n", url,
                    CASE_LIMIT_MS / 1000);
            break;
        }
    }
    opened = ws_http_status(&c) == 101;
    if (!opened)
        fprintf(stderr, "autobahn_client: %s: handshake failed: %s (HTTP status %d)\n", url, ws_reason(&c),
                ws_http_status(&c));
    ws_disconnect(&c);
    return opened ? 0 : -1;
}

/* Appends AGENT to out, percent-encoding what a query value cannot hold. */
static void encode(char *out, size_t cap, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(out);
    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%', out[n++] = hex[ch >> 4], out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

int main(int argc, char **argv) {
    char base[1024], url[2048];
    const char *agent = argc > 2 ? argv[2] : "ws.h";
    ws_config cfg;
    struct sigaction sa;
    size_t n;
    long i;
    int failed = 0;

    if (argc > 3 || (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))) {
        fprintf(argc > 3 ? stderr : stdout, "usage: autobahn_client [BASE_URL [AGENT]]\n");
        return argc > 3 ? 1 : 0;
    }
    n = strlen(argc > 1 ? argv[1] : "ws://127.0.0.1:9001");
    if (n >= sizeof base) {
        fprintf(stderr, "autobahn_client: base URL too long\n");
        return 1;
    }
    memcpy(base, argc > 1 ? argv[1] : "ws://127.0.0.1:9001", n + 1);
    while (n && base[n - 1] == '/') base[--n] = '\0';

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    memset(&cfg, 0, sizeof cfg);
    cfg.on_close = on_close;
    cfg.realloc_fn = ws_libc_realloc;
    cfg.max_message = MAX_MESSAGE;
    cfg.max_send_buffer = 2 * (MAX_MESSAGE + WS_FRAME_HEADER_MAX) + 4096;

    st.count = -1;
    cfg.on_message = count_message;
    snprintf(url, sizeof url, "%s/getCaseCount", base);
    if (run(url, &cfg) < 0 || st.count < 0) {
        fprintf(stderr, "autobahn_client: no case count from %s\n", url);
        return 1;
    }
    printf("autobahn_client: %ld cases\n", st.count);
    fflush(stdout);

    cfg.on_message = echo_message;
    for (i = 1; i <= st.count; i++) {
        snprintf(url, sizeof url, "%s/runCase?case=%ld&agent=", base, i);
        encode(url, sizeof url, agent);
        if (run(url, &cfg) < 0) failed++;
        printf("case %ld/%ld: closed %d%s%s\n", i, st.count, st.close_code, st.close_reason[0] ? " " : "",
               st.close_reason);
        fflush(stdout);
    }

    cfg.on_message = NULL;
    snprintf(url, sizeof url, "%s/updateReports?agent=", base);
    encode(url, sizeof url, agent);
    if (run(url, &cfg) < 0) {
        fprintf(stderr, "autobahn_client: updateReports failed\n");
        return 1;
    }
    printf("autobahn_client: ran %ld cases (%d could not connect), reports updated\n", st.count, failed);
    return 0;
}
