/* Socket helpers shared by the adapter tests (tests/adapter/). */
#ifndef WS_TEST_NET_H
#define WS_TEST_NET_H

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

static void nap_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000, ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* The port a socket is bound to (0 when unknown). */
static unsigned local_port(int fd) {
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &n) != 0) return 0;
    return ntohs(a.sin_port);
}

#endif
