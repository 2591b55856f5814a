/* SHA-1 against the FIPS 180 example vectors, whole and in random pieces. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

#include <stdlib.h>

typedef struct vector {
    const char *name;
    const char *text; /* repeated `repeat` times */
    size_t repeat;
    const char *digest;
} vector;

static const vector vectors[] = {
    {"empty", "", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"abc", "abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    /* 448 bits: the padding no longer fits the first block. */
    {"448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {"896-bit",
     "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     1, "a49b2446a02c645bf419f995b67091253a04a259"},
    {"million a", "a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    /* Lengths around the padding boundaries (55/56 bytes into a block),
     * digests from an independent implementation (coreutils sha1sum). */
    {"55 a", "a", 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
    {"56 a", "a", 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
    {"57 a", "a", 57, "f08f24908d682555111be7ff6f004e78283d989a"},
    {"63 a", "a", 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
    {"64 a", "a", 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
    {"65 a", "a", 65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
    {"119 a", "a", 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
    {"120 a", "a", 120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
    {"128 a", "a", 128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
};

static unsigned char *expand(const vector *v, size_t *len) {
    size_t n = strlen(v->text), i;
    unsigned char *p = (unsigned char *)malloc(n * v->repeat + 1);
    if (!p) exit(2);
    for (i = 0; i < v->repeat; i++) memcpy(p + i * n, v->text, n);
    *len = n * v->repeat;
    return p;
}

static void check_digest(const unsigned char digest[20], const vector *v, const char *how) {
    char hex[41];
    test_hex(hex, digest, 20);
    CHECKF(strcmp(hex, v->digest) == 0, "%s (%s): got %s, want %s", v->name, how, hex, v->digest);
}

int main(void) {
    size_t vi;
    for (vi = 0; vi < sizeof vectors / sizeof vectors[0]; vi++) {
        const vector *v = &vectors[vi];
        unsigned char digest[20];
        size_t len, i;
        unsigned char *msg = expand(v, &len);
        ws_sha1 s;
        uint64_t seed;

        ws_sha1_oneshot(msg, len, digest);
        check_digest(digest, v, "one shot");

        ws_sha1_init(&s);
        for (i = 0; i < len; i++) ws_sha1_update(&s, msg + i, 1);
        ws_sha1_final(&s, digest);
        check_digest(digest, v, "byte by byte");

        /* Random pieces, including empty ones and pieces longer than a block;
         * small pieces for short inputs so every split point gets a chance. */
        for (seed = 1; seed <= 8; seed++) {
            test_rng rng;
            size_t off = 0, maxpiece = len < 200 ? 8 : (seed % 2 ? 70 : 5000);
            char how[32];
            rng.s = seed;
            ws_sha1_init(&s);
            while (off < len) {
                size_t n = test_below(&rng, maxpiece + 1);
                if (n > len - off) n = len - off;
                ws_sha1_update(&s, msg + off, n);
                off += n;
            }
            ws_sha1_final(&s, digest);
            snprintf(how, sizeof how, "random pieces, seed %u", (unsigned)seed);
            check_digest(digest, v, how);
        }

        /* A split at every position, for the short vectors. */
        if (len < 200) {
            int all = 1;
            for (i = 0; i <= len; i++) {
                char hex[41];
                ws_sha1_init(&s);
                ws_sha1_update(&s, msg, i);
                ws_sha1_update(&s, msg + i, len - i);
                ws_sha1_final(&s, digest);
                test_hex(hex, digest, 20);
                if (strcmp(hex, v->digest) != 0) all = 0;
            }
            CHECKF(all, "%s: some two-piece split gives another digest", v->name);
        }
        free(msg);
    }
    return test_report();
}
