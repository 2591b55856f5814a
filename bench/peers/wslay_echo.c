/* wslay_echo - an echo server on wslay's event API, for bench/run_e2e.sh.
 *
 *   wslay_echo --port P     (127.0.0.1; prints "listening on PORT")
 *
 * One thread, epoll (level-triggered), non-blocking sockets. The HTTP
 * upgrade is parsed with ws.h's handshake functions (wslay has none); from
 * then on every byte goes through wslay: wslay_event_recv reads until the
 * socket would block, each message is queued back with wslay_event_queue_msg
 * and wslay_event_send writes it, EPOLLOUT being watched only while wslay
 * still wants to write. SIGTERM/SIGINT end it. */
#define _GNU_SOURCE
#define WS_NO_SOCKETS
#define WS_STATIC
#define WS_IMPLEMENTATION
#include "ws.h"

#include <wslay/wslay.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer_loop.h"

struct client {
    int fd;
    unsigned events;
    wslay_event_context_ptr ctx; /* NULL until the upgrade is done */
    size_t hs_len;
    char *hs; /* the request so far (freed after the upgrade) */
};


static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user) {
    struct client *c = (struct client *)user;
    ssize_t n;
    (void)flags;
    while ((n = recv(c->fd, buf, len, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
        wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user) {
    struct client *c = (struct client *)user;
    ssize_t n;
    int f = MSG_NOSIGNAL;
    if (flags & WSLAY_MSG_MORE) f |= MSG_MORE;
    while ((n = send(c->fd, data, len, f)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
        wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user) {
    (void)ctx, (void)user;
    memset(buf, 0, len); /* a server never masks */
    return 0;
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user) {
    struct wslay_event_msg m;
    (void)user;
    if (wslay_is_ctrl_frame(arg->opcode)) return; /* wslay answers pings and closes itself */
    m.opcode = arg->opcode, m.msg = arg->msg, m.msg_length = arg->msg_length;
    (void)wslay_event_queue_msg(ctx, &m); /* wslay copies the message */
}

static const struct wslay_event_callbacks callbacks = {cb_recv, cb_send, cb_genmask, NULL, NULL, NULL, cb_msg};

static void set_events(struct client *c, unsigned ev) {
    struct epoll_event e;
    if (ev == c->events) return;
    memset(&e, 0, sizeof e);
    e.events = ev, e.data.ptr = c;
    (void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void drop(struct client *c) {
    (void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->ctx) wslay_event_context_free(c->ctx);
    free(c->hs);
    free(c);
}

/* The upgrade: read the request, answer 101 (or drop). 0 go on, -1 drop. */
static int handshake(struct client *c) {
    ws_request req;
    char resp[512];
    int status = 0, n, r;
    const char *why;
    ssize_t got;
    if (!c->hs && !(c->hs = (char *)malloc(8192))) return -1;
    got = recv(c->fd, c->hs + c->hs_len, 8191 - c->hs_len, 0);
    if (got < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (got == 0) return -1;
    c->hs_len += (size_t)got;
    n = ws_request_parse(c->hs, c->hs_len, 8191, &req, &status, &why);
    if (n == WS_E_INCOMPLETE) return c->hs_len < 8191 ? 0 : -1;
    if (n < 0) return -1;
    r = ws_response_build(resp, sizeof resp, req.key, NULL, NULL);
    if (r < 0 || send(c->fd, resp, (size_t)r, MSG_NOSIGNAL) != r) return -1;
    free(c->hs), c->hs = NULL;
    if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) return -1;
    return 0;
}

static void service(struct client *c) {
    if (!c->ctx) {
        if (handshake(c) < 0) drop(c);
        return;
    }
    if (wslay_event_want_read(c->ctx) && wslay_event_recv(c->ctx) != 0) {
        drop(c);
        return;
    }
    if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0) {
        drop(c);
        return;
    }
    if (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx)) {
        drop(c); /* closed both ways */
        return;
    }
    set_events(c, (wslay_event_want_read(c->ctx) ? EPOLLIN : 0u) | (wslay_event_want_write(c->ctx) ? EPOLLOUT : 0u));
}

static void *peer_accepted(int fd) {
    struct client *c = (struct client *)calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd, c->events = EPOLLIN;
    return c;
}

static void peer_ready(void *client, unsigned events) {
    (void)events;
    service((struct client *)client);
}

int main(int argc, char **argv) { return peer_main("wslay_echo", argc, argv); }
