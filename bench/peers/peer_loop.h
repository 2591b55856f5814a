/* peer_loop.h - the listener and epoll loop shared by the C echo peers of
 * bench/run_e2e.sh (wslay_echo, floor_echo), so that they differ only in
 * what they do with a ready connection.
 *
 *   NAME --port P     (127.0.0.1; prints "NAME listening on PORT")
 *
 * One thread, level-triggered epoll, non-blocking sockets with TCP_NODELAY;
 * SIGTERM/SIGINT end the loop. The including file provides:
 *   void *peer_accepted(int fd)            a new client for fd, or NULL
 *   void peer_ready(void *client, unsigned events)
 * and uses `ep` (the epoll descriptor) to change what it waits for. */
#ifndef PEER_LOOP_H
#define PEER_LOOP_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int ep;
static volatile sig_atomic_t stop;

static void *peer_accepted(int fd);
static void peer_ready(void *client, unsigned events);

static void peer_on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* Serves until SIGTERM/SIGINT; returns main's exit status. */
static int peer_main(const char *name, int argc, char **argv) {
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    struct epoll_event evs[256];
    int lfd, one = 1, i;
    unsigned port = 0;
    for (i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--port")) port = (unsigned)atoi(argv[i + 1]);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, peer_on_signal);
    signal(SIGINT, peer_on_signal);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET, sa.sin_port = htons((unsigned short)port), sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1024) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
        fprintf(stderr, "%s: listen: ", name);
        perror(NULL);
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    memset(&evs[0], 0, sizeof evs[0]);
    evs[0].events = EPOLLIN, evs[0].data.ptr = NULL; /* NULL: the listener */
    (void)epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &evs[0]);
    printf("%s listening on %u\n", name, ntohs(sa.sin_port));
    fflush(stdout);
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, 500);
        for (i = 0; i < n; i++) {
            if (!evs[i].data.ptr) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    void *c;
                    struct epoll_event e;
                    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (!(c = peer_accepted(fd))) {
                        close(fd);
                        continue;
                    }
                    memset(&e, 0, sizeof e);
                    e.events = EPOLLIN, e.data.ptr = c;
                    (void)epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
            } else {
                peer_ready(evs[i].data.ptr, evs[i].events);
            }
        }
    }
    close(lfd);
    return 0;
}

#endif
