/* Socket helpers shared by the adapter tests (tests/adapter/). */
#ifndef WS_TEST_NET_H
#define WS_TEST_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

static void nap_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000, ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* The port a socket is bound to, IPv4 or IPv6 (0 when unknown). */
static unsigned local_port(int fd) {
    struct sockaddr_storage a;
    socklen_t n = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &n) != 0) return 0;
    if (a.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)(void *)&a)->sin_port);
    if (a.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)(void *)&a)->sin6_port);
    return 0;
}

#endif
