/* wscat - a command-line WebSocket client built on ws.h.
 *
 *   wscat [options] URL
 *
 * Connects to URL (ws://host[:port][/path], or wss:// in a build with
 * -DWS_MBEDTLS: the server's certificate is checked against the system CAs
 * or --ca FILE; --insecure turns the check off, loudly), sends each line read from
 * standard input as a text message (binary with --binary) and prints each
 * message received on a line of its own (binary messages as they are).
 * When standard input ends, it sends a close with code 1000 and waits for
 * the server's answer (--keep-open waits for the server to close instead).
 *
 * Exit status: 0 after a clean close (1000, or a close frame without a
 * code), 1 when the connection or the opening handshake failed (the reason
 * goes to standard error), 2 for any other close.
 */
#define WS_IMPLEMENTATION
#include "ws.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_size.h"

static struct {
    int binary;
    int quiet;
    int opened;
    int closed;
    int close_code;
    char close_reason[128];
} st;

#ifdef WS_MBEDTLS
/* wss:// through ws.h's mbedTLS adapter; its forms of ws_conn_fd,
 * ws_wants_write and ws_disconnect serve ws:// connections as well. */
static ws_tls_options tls_opt;
static char tls_error[256]; /* a TLS setup failure, told through on_error */
static void on_error(ws_conn *c, int err, const char *reason) {
    (void)c;
    if (err == WS_E_TLS) snprintf(tls_error, sizeof tls_error, "%s", reason);
}
#define wscat_fd ws_tls_conn_fd
#define wscat_wants_write ws_tls_wants_write
#define wscat_disconnect ws_tls_disconnect
#else
#define wscat_fd ws_conn_fd
#define wscat_wants_write ws_wants_write
#define wscat_disconnect ws_disconnect
#endif

static void on_open(ws_conn *c, const char *subprotocol) {
    (void)c;
    st.opened = 1;
    if (!st.quiet) {
        if (*subprotocol) fprintf(stderr, "wscat: connected (subprotocol: %s)\n", subprotocol);
        else fprintf(stderr, "wscat: connected\n");
    }
}

static void on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    (void)c, (void)opcode;
    if (len) fwrite(data, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void on_close(ws_conn *c, int code, const char *reason) {
    size_t n = strlen(reason);
    (void)c;
    st.closed = 1;
    st.close_code = code;
    if (n >= sizeof st.close_reason) n = sizeof st.close_reason - 1;
    memcpy(st.close_reason, reason, n);
    st.close_reason[n] = '\0';
}

/* Appends s to a growing string; returns -1 when out of memory. */
static int append(char **dst, size_t *len, const char *s, size_t n) {
    char *p = (char *)realloc(*dst, *len + n + 1);
    if (!p) return -1;
    memcpy(p + *len, s, n);
    *len += n;
    p[*len] = '\0';
    *dst = p;
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: wscat [options] URL\n"
            "  --binary                send each line as a binary message\n"
            "  --subprotocol P[,P...]  offer subprotocols (repeatable)\n"
            "  --header 'Name: value'  add a request header (repeatable)\n"
            "  --origin ORIGIN         send an Origin header\n"
            "  --close-after-stdin     close with 1000 when stdin ends (the default)\n"
            "  --keep-open             at the end of stdin, wait for the server to close\n"
            "  --handshake-timeout MS  give up on the opening handshake after MS (default 10000)\n"
            "  --max-message BYTES     largest message accepted, suffix K/M/G (default 64M)\n"
            "  --quiet                 no status lines on stderr\n"
            "  --ca FILE               wss://: trust the CA certificates in FILE (PEM)\n"
            "                          instead of the system's\n"
            "  --insecure              wss://: do not check the server's certificate (INSECURE)\n"
            "exit status: 0 clean close (1000/1005), 1 connection or handshake failure, 2 other close\n");
}

int main(int argc, char **argv) {
    ws_config cfg;
    ws_client_options opt;
    ws_conn c;
    const char *url = NULL;
    char *protocols = NULL, *headers = NULL, *line = NULL;
    size_t protocols_len = 0, headers_len = 0, line_len = 0, line_cap = 0, max_message = (size_t)64 << 20;
    unsigned long handshake_ms = 0;
    int keep_open = 0, stdin_open = 1, close_sent = 0, blocked = 0, a, r, rc;
    unsigned long lineno = 0;
    struct sigaction sa;

    memset(&opt, 0, sizeof opt);
    for (a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(arg, "--binary") || !strcmp(arg, "-b")) {
            st.binary = 1;
        } else if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q")) {
            st.quiet = 1;
        } else if (!strcmp(arg, "--keep-open")) {
            keep_open = 1;
        } else if (!strcmp(arg, "--close-after-stdin")) {
            keep_open = 0;
        } else if (arg[0] == '-' && arg[1] == '-' && val &&
                   (!strcmp(arg, "--subprotocol") || !strcmp(arg, "--header") || !strcmp(arg, "--origin") ||
                    !strcmp(arg, "--handshake-timeout") || !strcmp(arg, "--max-message"))) {
            a++;
            if (!strcmp(arg, "--subprotocol")) {
                if ((protocols_len && append(&protocols, &protocols_len, ", ", 2) < 0) ||
                    append(&protocols, &protocols_len, val, strlen(val)) < 0)
                    return 1;
            } else if (!strcmp(arg, "--header")) {
                if (!strchr(val, ':') || strpbrk(val, "\r\n")) {
                    fprintf(stderr, "wscat: --header wants 'Name: value', got '%s'\n", val);
                    return 1;
                }
                if (append(&headers, &headers_len, val, strlen(val)) < 0 ||
                    append(&headers, &headers_len, "\r\n", 2) < 0)
                    return 1;
            } else if (!strcmp(arg, "--origin")) {
                opt.origin = val;
            } else if (!strcmp(arg, "--handshake-timeout")) {
                char *end;
                handshake_ms = strtoul(val, &end, 10);
                if (*end || end == val || handshake_ms == 0 || handshake_ms > 0xffffffffUL) {
                    fprintf(stderr, "wscat: bad timeout '%s'\n", val);
                    return 1;
                }
            } else if (parse_size(val, &max_message) < 0) {
                fprintf(stderr, "wscat: bad size '%s'\n", val);
                return 1;
            }
        } else if (!strcmp(arg, "--insecure") || (!strcmp(arg, "--ca") && val)) {
#ifdef WS_MBEDTLS
            if (!strcmp(arg, "--ca")) tls_opt.ca_file = val, a++;
            else tls_opt.insecure_skip_verify = 1;
#else
            fprintf(stderr, "wscat: %s: built without TLS (compile with -DWS_MBEDTLS, link mbedTLS)\n", arg);
            return 1;
#endif
        } else if (arg[0] == '-' && arg[1]) {
            usage(stderr);
            return 1;
        } else if (!url) {
            url = arg;
        } else {
            usage(stderr);
            return 1;
        }
    }
    if (!url) {
        usage(stderr);
        return 1;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    memset(&cfg, 0, sizeof cfg);
    cfg.on_open = on_open;
    cfg.on_message = on_message;
    cfg.on_close = on_close;
    cfg.realloc_fn = ws_libc_realloc;
    cfg.max_message = max_message;
    /* A client masks into its queue: a line needs its own size free. */
    cfg.max_send_buffer = 2 * (max_message + WS_FRAME_HEADER_MAX) + 4096;
    cfg.handshake_timeout_ms = (uint32_t)handshake_ms;
    opt.subprotocols = protocols; /* must live until the handshake is over: it does */
    opt.extra_headers = headers;

#ifdef WS_MBEDTLS
    cfg.on_error = on_error;
    if (tls_opt.insecure_skip_verify)
        fprintf(stderr, "wscat: WARNING: --insecure: the server's certificate is not checked; anyone on the "
                        "path can read and change this connection\n");
    r = ws_connect_url_tls(&c, &cfg, url, &opt, &tls_opt);
#else
    r = ws_connect_url(&c, &cfg, url, &opt);
#endif
    if (r < 0) {
        fprintf(stderr, "wscat: cannot connect to %s: %s\n", url, ws_strerror(r));
#ifdef WS_MBEDTLS
        if (tls_error[0]) fprintf(stderr, "wscat: %s\n", tls_error);
#endif
        free(protocols), free(headers);
        return 1;
    }

    for (;;) {
        struct pollfd pfd[2];
        long t = ws_next_timeout(&c);
        int nfds = 1;
        pfd[0].fd = wscat_fd(&c);
        pfd[0].events = (short)(POLLIN | (wscat_wants_write(&c) ? POLLOUT : 0));
        pfd[0].revents = 0;
        if (stdin_open && !blocked && ws_state(&c) == WS_OPEN) {
            pfd[1].fd = 0, pfd[1].events = POLLIN, pfd[1].revents = 0;
            nfds = 2;
        }
        if (poll(pfd, (nfds_t)nfds, t < 0 || t > 1000 ? 1000 : (int)t) < 0 && errno != EINTR) {
            perror("wscat: poll");
            break;
        }
        if (ws_pump(&c) == WS_E_CLOSED) break;
        if (blocked && ws_buffered_amount(&c) == 0) blocked = 0;

        if (nfds == 2 && pfd[1].revents) {
            ptrdiff_t n;
            if (line_cap - line_len < 65536) {
                size_t cap = line_cap ? line_cap * 2 : 131072;
                char *p = (char *)realloc(line, cap);
                if (!p) {
                    fprintf(stderr, "wscat: out of memory\n");
                    break;
                }
                line = p, line_cap = cap;
            }
            n = read(0, line + line_len, line_cap - line_len);
            if (n > 0) line_len += (size_t)n;
            else if (n == 0 || (errno != EINTR && errno != EAGAIN)) stdin_open = 0;
        }
        /* Send every complete line (and at the end of input the rest). */
        while (!blocked && line_len && ws_state(&c) == WS_OPEN) {
            char *nl = (char *)memchr(line, '\n', line_len);
            size_t take, len;
            if (!nl && stdin_open) break;
            take = nl ? (size_t)(nl - line) + 1 : line_len;
            len = nl ? take - 1 : take;
            if (len && line[len - 1] == '\r') len--;
            r = ws_send(&c, st.binary ? WS_OP_BINARY : WS_OP_TEXT, line, len);
            if (r == WS_E_FULL) {
                blocked = 1; /* resume once the queue has drained */
                break;
            }
            lineno++;
            if (r == WS_E_UTF8) fprintf(stderr, "wscat: line %lu is not valid UTF-8; not sent (try --binary)\n", lineno);
            else if (r < 0 && r != WS_E_CLOSED) fprintf(stderr, "wscat: send failed: %s\n", ws_strerror(r));
            memmove(line, line + take, line_len - take);
            line_len -= take;
        }
        if (!stdin_open && !line_len && !close_sent && !keep_open && ws_state(&c) == WS_OPEN) {
            (void)ws_close(&c, WS_CLOSE_NORMAL, "");
            close_sent = 1;
        }
    }

    if (!st.opened) {
        int status = ws_http_status(&c);
        if (status) fprintf(stderr, "wscat: handshake failed: %s (HTTP status %d)\n", ws_reason(&c), status);
        else fprintf(stderr, "wscat: handshake failed: %s\n", ws_reason(&c));
        rc = 1;
    } else if (st.close_code == WS_CLOSE_NORMAL || st.close_code == WS_CLOSE_NO_STATUS) {
        rc = 0;
    } else {
        fprintf(stderr, "wscat: closed with code %d%s%s\n", st.close_code, st.close_reason[0] ? ": " : "",
                st.close_reason);
        rc = 2;
    }
    if (st.opened && rc == 0 && !st.quiet)
        fprintf(stderr, "wscat: closed with code %d%s%s\n", st.close_code, st.close_reason[0] ? ": " : "",
                st.close_reason);
    wscat_disconnect(&c);
    free(line), free(protocols), free(headers);
    return rc;
}
