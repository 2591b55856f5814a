/* floor_echo - the system-call floor for bench/run_e2e.sh: an "echo server"
 * that makes the same system calls per message as examples/echo_server
 * (one read, one write, epoll_wait shared by a batch) and does no WebSocket
 * work in between, so whatever CPU it is charged is the cost of those calls
 * alone on this machine.
 *
 *   floor_echo --port P     (127.0.0.1; prints "listening on PORT")
 *
 * The upgrade is answered with ws.h's handshake functions (as wslay_echo
 * does). After that each read is scanned for frame boundaries only: every
 * client frame goes back with the mask bit cleared and the 4-byte key left
 * out, its payload still masked (nothing is unmasked, validated or
 * delivered). That is the same number of bytes a real echo writes, which
 * is all bench/loadgen checks, so the kernel does the same work; a real
 * client would see garbage. Like echo_server it writes large payloads
 * straight from the receive buffer (writev), copying only headers and small
 * pieces. One thread, level-triggered epoll, non-blocking sockets; bytes a
 * full socket does not take wait in a per-connection queue, and reading
 * stops until it drains. SIGTERM/SIGINT end it. */
#define _GNU_SOURCE
#define WS_NO_SOCKETS
#define WS_STATIC
#define WS_IMPLEMENTATION
#include "ws.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "peer_loop.h"

struct client {
    int fd, open;       /* open: the upgrade is done */
    uint64_t left;      /* payload bytes of the current frame still to come */
    unsigned char part[WS_FRAME_HEADER_MAX]; /* a header cut by a read */
    size_t part_len;
    unsigned char *out; /* bytes the socket did not take yet */
    size_t out_len;
};

static unsigned char in[1 << 16], outbuf[(1 << 16) + 1024];

/* What one read sends back: pieces of outbuf and of in, in order. */
#define OUT_IOV 64
static struct iovec iov[OUT_IOV];
static int niov;
static size_t nout, total; /* bytes of outbuf in use, bytes in iov */

static void out_add(const unsigned char *p, size_t n) {
    struct iovec *last = niov ? &iov[niov - 1] : NULL;
    total += n;
    /* Large: sent from where it lies, while that leaves an entry for what
     * follows (so a copy always finds one). */
    if (n >= 512 && niov <= OUT_IOV - 2) {
        iov[niov].iov_base = (void *)(uintptr_t)p, iov[niov++].iov_len = n;
        return;
    }
    memcpy(outbuf + nout, p, n); /* the output is never longer than the input */
    if (last && (unsigned char *)last->iov_base + last->iov_len == outbuf + nout) last->iov_len += n;
    else iov[niov].iov_base = outbuf + nout, iov[niov++].iov_len = n;
    nout += n;
}

static void drop(struct client *c) {
    (void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
    free(c);
}

static void set_events(struct client *c, unsigned ev) {
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = ev, e.data.ptr = c;
    (void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Queues n bytes the socket did not take and waits for it to drain. */
static int queue(struct client *c, const unsigned char *p, size_t n) {
    unsigned char *q = (unsigned char *)realloc(c->out, c->out_len + n);
    if (!q) return -1;
    memcpy(q + c->out_len, p, n);
    c->out = q, c->out_len += n;
    set_events(c, EPOLLOUT);
    return 0;
}

/* Writes the pieces in iov[0..niov) after anything still queued; 0, or -1
 * to drop. */
static int put(struct client *c) {
    ssize_t w = 0;
    int i;
    if (!c->out_len) {
        w = writev(c->fd, iov, niov);
        if (w < 0 && errno != EAGAIN && errno != EINTR) return -1;
        if (w < 0) w = 0;
        if ((size_t)w == total) return 0;
    }
    for (i = 0; i < niov; i++) { /* what the socket did not take */
        size_t skip = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
        w -= (ssize_t)skip;
        if (skip < iov[i].iov_len && queue(c, (unsigned char *)iov[i].iov_base + skip, iov[i].iov_len - skip) < 0)
            return -1;
    }
    return 0;
}

static int flush(struct client *c) {
    ssize_t w = write(c->fd, c->out, c->out_len);
    if (w < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    if (!(c->out_len -= (size_t)w)) set_events(c, EPOLLIN);
    return 0;
}

/* The upgrade: the request must come in one read (bench/loadgen's does). */
static int handshake(struct client *c) {
    ws_request req;
    char resp[512];
    int status = 0, r;
    const char *why;
    ssize_t n = read(c->fd, in, sizeof in);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0 || ws_request_parse((char *)in, (size_t)n, sizeof in, &req, &status, &why) < 0) return -1;
    r = ws_response_build(resp, sizeof resp, req.key, NULL, NULL);
    if (r < 0) return -1;
    niov = 0, nout = total = 0;
    out_add((const unsigned char *)resp, (size_t)r);
    if (put(c) < 0) return -1;
    c->open = 1;
    return 0;
}

/* One read, its frames re-headed, one write. */
static int echo(struct client *c) {
    ssize_t n = read(c->fd, in, sizeof in);
    size_t i = 0;
    if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    niov = 0, nout = total = 0;
    while (i < (size_t)n) {
        if (c->left) { /* payload: sent as it is */
            size_t take = (size_t)n - i < c->left ? (size_t)n - i : (size_t)c->left;
            out_add(in + i, take);
            i += take, c->left -= take;
        } else { /* a header, perhaps split across reads */
            unsigned char hdr[WS_FRAME_HEADER_MAX];
            ws_frame_header h;
            size_t take = (size_t)n - i < sizeof c->part - c->part_len ? (size_t)n - i : sizeof c->part - c->part_len;
            int hl;
            memcpy(c->part + c->part_len, in + i, take);
            hl = ws_frame_parse(c->part, c->part_len + take, &h);
            if (hl == WS_E_INCOMPLETE) {
                c->part_len += take, i += take;
                continue;
            }
            if (hl < 0 || !h.masked) return -1;
            i += (size_t)hl - c->part_len, c->part_len = 0;
            out_add(hdr, ws_frame_write(hdr, h.fin, h.rsv, h.opcode, h.payload_len, NULL));
            c->left = h.payload_len;
        }
    }
    return niov ? put(c) : 0;
}

static void service(struct client *c, unsigned events) {
    int r = 0;
    if (c->out_len) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) r = flush(c);
    } else {
        r = c->open ? echo(c) : handshake(c);
    }
    if (r < 0) drop(c);
}

static void *peer_accepted(int fd) {
    struct client *c = (struct client *)calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    return c;
}

static void peer_ready(void *client, unsigned events) {
    service((struct client *)client, events);
}

int main(int argc, char **argv) { return peer_main("floor_echo", argc, argv); }
