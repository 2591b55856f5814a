/* lws_echo - an echo server on libwebsockets, for bench/run_e2e.sh.
 *
 *   lws_echo --port P     (127.0.0.1; prints "listening on PORT")
 *
 * The usual lws shape: one protocol (the default one, so clients need not
 * ask for it), messages gathered across receive callbacks into a buffer
 * with LWS_PRE bytes of headroom, lws_callback_on_writable, and the echo
 * written from LWS_CALLBACK_SERVER_WRITEABLE with the opcode it came with.
 * Reading pauses (lws_rx_flow_control) while an echo waits to be written.
 * SIGTERM/SIGINT end it. */
#include <libwebsockets.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
    unsigned char *buf; /* LWS_PRE headroom, then the message */
    size_t len, cap;
    int binary, ready;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct session *s = (struct session *)user;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        if (lws_is_first_fragment(wsi)) s->len = 0;
        if (LWS_PRE + s->len + len > s->cap) {
            size_t cap = (LWS_PRE + s->len + len) * 2;
            unsigned char *p = (unsigned char *)realloc(s->buf, cap);
            if (!p) return -1;
            s->buf = p, s->cap = cap;
        }
        memcpy(s->buf + LWS_PRE + s->len, in, len);
        s->len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            s->binary = lws_frame_is_binary(wsi);
            s->ready = 1;
            lws_rx_flow_control(wsi, 0);
            lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (s->ready) {
            int n = lws_write(wsi, s->buf + LWS_PRE, s->len, s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
            if (n < (int)s->len) return -1;
            s->ready = 0;
            lws_rx_flow_control(wsi, 1);
        }
        break;
    case LWS_CALLBACK_CLOSED:
        free(s->buf);
        s->buf = NULL, s->cap = s->len = 0;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"echo", callback_echo, sizeof(struct session), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv) {
    struct lws_context_creation_info info;
    struct lws_context *ctx;
    int i, port = 0; /* 0: a free port, printed */
    for (i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.fd_limit_per_thread = 4096;
    ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "lws_echo: lws_create_context failed\n");
        return 1;
    }
    printf("lws_echo listening on %d\n", lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default")));
    fflush(stdout);
    while (!stop && lws_service(ctx, 0) >= 0) {
    }
    lws_context_destroy(ctx);
    return 0;
}
