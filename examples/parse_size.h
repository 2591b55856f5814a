/* examples/parse_size.h - a size on the command line, for the example
 * programs (echo_server --max-message, wscat --max-message).
 *
 * "65536", "64k", "16M", "1G": a positive number of bytes with an optional
 * binary suffix, at most SIZE_MAX / 4 so that the buffers it sizes can still
 * be doubled and added to. Returns 0 and sets *out, or -1 for anything else
 * (including values the suffix would carry past the limit). */
#ifndef WS_EXAMPLES_PARSE_SIZE_H
#define WS_EXAMPLES_PARSE_SIZE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static int parse_size(const char *s, size_t *out) {
    const unsigned long long limit = (unsigned long long)(SIZE_MAX / 4);
    unsigned shift = 0;
    unsigned long long v;
    char *end;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-') return -1;
    if (*end == 'k' || *end == 'K') shift = 10, end++;
    else if (*end == 'm' || *end == 'M') shift = 20, end++;
    else if (*end == 'g' || *end == 'G') shift = 30, end++;
    /* Checked before shifting, so a huge count cannot wrap into a small one. */
    if (*end || v == 0 || v > limit >> shift) return -1;
    *out = (size_t)(v << shift);
    return 0;
}

#endif
