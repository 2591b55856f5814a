/* bench_micro - the per-byte hot paths and the whole receive path, from
 * memory, in one interleaved run (every contender once per round, rounds
 * repeated), printed as medians, min-max and ratios against a yardstick
 * measured in the same round:
 *   - masking 64 KiB, per path (portable, SSE2 or NEON, SSSE3, AVX2), vs memcpy;
 *   - UTF-8 validation of 64 KiB of ASCII and of mixed text, per path, vs
 *     memcpy and vs a byte-at-a-time DFA;
 *   - the engine (server role, ws_start_open, a recv callback that copies
 *     from a prebuilt buffer like a socket read would) parsing, unmasking,
 *     validating and delivering (a) 20-byte masked text frames and (b)
 *     64 KiB masked binary frames, vs the same bytes through wslay's event
 *     API (wslay_event_context_server_init + recv callback).
 * Nothing is asserted: the targets are printed next to the ratios.
 *
 *   bench_micro [--rounds N] [--ms M]   (defaults 7 rounds, 40 ms each) */
#define _POSIX_C_SOURCE 200809L
#define WS_NO_SOCKETS
#define WS_IMPLEMENTATION
#include "ws.h"

#include "prim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BENCH_HAVE_WSLAY
#include <wslay/wslay.h>
#endif

#define MAX_ROUNDS 64
#define MAX_CASES 40

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

typedef struct bench_case {
    const char *group, *name;
    void (*run)(const struct bench_case *bc);
    const struct prim *prim;
    size_t bytes, msgs; /* per run */
    unsigned long iters;
    double rate[MAX_ROUNDS]; /* bytes per second */
} bench_case;

static bench_case cases[MAX_CASES];
static int ncases, rounds = 7;
static double round_s = 0.04;

static bench_case *add(const char *group, const char *name, void (*run)(const bench_case *), const struct prim *p,
                       size_t bytes, size_t msgs) {
    bench_case *c = &cases[ncases++];
    c->group = group, c->name = name, c->run = run, c->prim = p, c->bytes = bytes, c->msgs = msgs;
    return c;
}

/* ---- data ---- */

#define BIG 65536
/* src and dst 2 KiB off a multiple of 4 KiB apart: a store to dst never
 * looks (to the CPU) like it aliases the next load from src. */
static unsigned char arena[2 * BIG + 4096 + 64], *src, *dst;
static unsigned char ascii_text[BIG], mixed_text[BIG];
static const unsigned char key[4] = {0x37, 0xFA, 0x21, 0x3D};

static uint64_t rng = 42;
static unsigned rnd(unsigned n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng >> 33) % n);
}

static size_t put_cp(unsigned char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (unsigned char)cp, 1;
    if (cp < 0x800) return o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), o[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

/* Words of 2-8 letters, each from one script: 40% English (ASCII), 20%
 * Cyrillic, 10% accented Latin, 25% CJK, 5% emoji; spaces between. */
static void make_mixed(unsigned char *o, size_t cap) {
    size_t n = 0;
    while (n + 40 < cap) {
        unsigned script = rnd(100), len = 2 + rnd(7), k;
        for (k = 0; k < len; k++) {
            unsigned cp;
            if (script < 40) cp = 'a' + rnd(26);
            else if (script < 60) cp = 0x430 + rnd(32);
            else if (script < 70) cp = k % 2 ? 'a' + rnd(26) : 0xE0 + rnd(31);
            else if (script < 95) cp = 0x4E00 + rnd(0x5000);
            else cp = 0x1F600 + rnd(80);
            n += put_cp(o + n, cp);
        }
        o[n++] = ' ';
    }
    while (n < cap) o[n++] = '.';
}

/* ---- primitives ---- */

static void run_memcpy(const bench_case *bc) {
    memcpy(dst, src, bc->bytes);
    sink += dst[bc->bytes - 1];
}
static void run_mask(const bench_case *bc) { sink += bc->prim->mask_copy(dst, src, bc->bytes, key, 1); }
static void run_memcpy_ascii(const bench_case *bc) {
    memcpy(dst, ascii_text, bc->bytes);
    sink += dst[7];
}
static void run_ascii(const bench_case *bc) { sink += (size_t)(bc->prim->utf8_validate(ascii_text, bc->bytes) + 1); }
static void run_ascii_bytewise(const bench_case *bc) {
    sink += (size_t)(bc->prim->utf8_bytewise(ascii_text, bc->bytes) + 1);
}
static void run_mixed(const bench_case *bc) { sink += (size_t)(bc->prim->utf8_validate(mixed_text, bc->bytes) + 1); }
static void run_mixed_bytewise(const bench_case *bc) {
    sink += (size_t)(bc->prim->utf8_bytewise(mixed_text, bc->bytes) + 1);
}

/* ---- the engine, from memory ---- */

typedef struct feed {
    const unsigned char *buf;
    size_t len, pos, chunk;
    size_t msgs, bytes;
} feed;

static feed fd;
static unsigned char *text_frames, *bin_frames;
static size_t text_frames_len, bin_frames_len;
#define TEXT_FRAMES 40000
#define TEXT_LEN 20
#define BIN_FRAMES 64
#define BIN_LEN 65536
#define READ_CHUNK 65536 /* what one socket read would bring at most */

static size_t build_frames(unsigned char **out, int opcode, const unsigned char *payload, size_t len, size_t count) {
    unsigned char hdr[WS_FRAME_HEADER_MAX];
    size_t hl = ws_frame_write(hdr, 1, 0, opcode, len, key), total = (hl + len) * count, i;
    unsigned char *p = (unsigned char *)malloc(total);
    if (!p) exit(1);
    for (i = 0; i < count; i++) {
        memcpy(p + i * (hl + len), hdr, hl);
        ws_mask_copy(p + i * (hl + len) + hl, payload, len, key, 0);
    }
    *out = p;
    return total;
}

static ptrdiff_t mem_recv(void *user, void *buf, size_t cap) {
    feed *f = (feed *)user;
    size_t n = f->len - f->pos;
    if (!n) return WS_E_AGAIN;
    if (n > cap) n = cap;
    if (n > f->chunk) n = f->chunk;
    memcpy(buf, f->buf + f->pos, n);
    f->pos += n;
    return (ptrdiff_t)n;
}
static ptrdiff_t mem_send(void *user, const void *buf, size_t len) {
    (void)user, (void)buf;
    return (ptrdiff_t)len;
}
static int mem_random(void *user, void *buf, size_t len) {
    (void)user;
    memset(buf, 0x5A, len);
    return 0;
}
static void ws_on_message(ws_conn *c, int opcode, const void *data, size_t len) {
    feed *f = (feed *)c->io_user;
    (void)opcode, (void)data;
    f->msgs++, f->bytes += len;
}

static const ws_io mem_io = {mem_recv, mem_send, NULL, mem_random, NULL};
static ws_config ws_cfg;
static unsigned char ws_rx[1 << 20], ws_tx[1 << 16];

static void run_ws_engine(const bench_case *bc) {
    ws_conn c;
    fd.buf = bc->msgs == TEXT_FRAMES ? text_frames : bin_frames, fd.len = bc->bytes, fd.pos = 0;
    fd.chunk = READ_CHUNK, fd.msgs = fd.bytes = 0;
    ws_conn_init(&c, &ws_cfg, &mem_io, &fd);
    ws_conn_set_buffers(&c, ws_rx, sizeof ws_rx, ws_tx, sizeof ws_tx);
    ws_start_open(&c, 1);
    while (fd.pos < fd.len && ws_pump(&c) == 0) {
    }
    if (fd.msgs != bc->msgs) {
        fprintf(stderr, "ws.h engine delivered %zu of %zu messages (%s)\n", fd.msgs, bc->msgs, ws_reason(&c));
        exit(1);
    }
}

#ifdef BENCH_HAVE_WSLAY
static ssize_t wl_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user) {
    feed *f = (feed *)user;
    size_t n = f->len - f->pos;
    (void)flags;
    if (!n) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n > len) n = len;
    if (n > f->chunk) n = f->chunk;
    memcpy(buf, f->buf + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}
static ssize_t wl_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user) {
    (void)ctx, (void)data, (void)flags, (void)user;
    return (ssize_t)len;
}
static int wl_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user) {
    (void)ctx, (void)user;
    memset(buf, 0x5A, len);
    return 0;
}
static void wl_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user) {
    feed *f = (feed *)user;
    (void)ctx;
    f->msgs++, f->bytes += arg->msg_length;
}
static const struct wslay_event_callbacks wl_cbs = {wl_recv, wl_send, wl_genmask, NULL, NULL, NULL, wl_msg};

static void run_wslay(const bench_case *bc) {
    wslay_event_context_ptr ctx;
    fd.buf = bc->msgs == TEXT_FRAMES ? text_frames : bin_frames, fd.len = bc->bytes, fd.pos = 0;
    fd.chunk = READ_CHUNK, fd.msgs = fd.bytes = 0;
    if (wslay_event_context_server_init(&ctx, &wl_cbs, &fd) != 0) exit(1);
    while (fd.pos < fd.len && wslay_event_recv(ctx) == 0) {
    }
    wslay_event_context_free(ctx);
    if (fd.msgs != bc->msgs) {
        fprintf(stderr, "wslay delivered %zu of %zu messages\n", fd.msgs, bc->msgs);
        exit(1);
    }
}

/* Does wslay reject a text message that is not UTF-8? (ws.h does.) */
static int wslay_checks_utf8(void) {
    static const unsigned char bad[2] = {0xC0, 0xAF};
    unsigned char *frame;
    size_t len = build_frames(&frame, WS_OP_TEXT, bad, sizeof bad, 1);
    wslay_event_context_ptr ctx;
    fd.buf = frame, fd.len = len, fd.pos = 0, fd.chunk = READ_CHUNK, fd.msgs = 0;
    if (wslay_event_context_server_init(&ctx, &wl_cbs, &fd) != 0) exit(1);
    (void)wslay_event_recv(ctx);
    wslay_event_context_free(ctx);
    free(frame);
    return fd.msgs == 0;
}
#endif

/* ---- measuring ---- */

static double measure(bench_case *c) {
    unsigned long i;
    double t0, t;
    if (!c->iters) { /* calibrate: enough runs for round_s */
        unsigned long n = 1;
        for (;;) {
            t0 = now_s();
            for (i = 0; i < n; i++) c->run(c);
            t = now_s() - t0;
            if (t > round_s / 4 || n > (1ul << 30)) break;
            n *= 2;
        }
        c->iters = (unsigned long)((double)n * round_s / (t > 1e-9 ? t : 1e-9)) + 1;
    }
    t0 = now_s();
    for (i = 0; i < c->iters; i++) c->run(c);
    t = now_s() - t0;
    return (double)c->bytes * (double)c->iters / t;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(const double *v, int n) {
    double tmp[MAX_ROUNDS];
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}
/* Median over rounds of a/b measured in the same round. */
static double ratio(const bench_case *a, const bench_case *b) {
    double r[MAX_ROUNDS];
    int k;
    for (k = 0; k < rounds; k++) r[k] = a->rate[k] / b->rate[k];
    return median(r, rounds);
}
static double minv(const double *v, int n) {
    double m = v[0];
    int k;
    for (k = 1; k < n; k++) m = v[k] < m ? v[k] : m;
    return m;
}
static double maxv(const double *v, int n) {
    double m = v[0];
    int k;
    for (k = 1; k < n; k++) m = v[k] > m ? v[k] : m;
    return m;
}

static bench_case *find(const char *group, const char *name) {
    int i;
    for (i = 0; i < ncases; i++)
        if (!strcmp(cases[i].group, group) && !strcmp(cases[i].name, name)) return &cases[i];
    return NULL;
}

static void target(const char *what, double measured, double goal) {
    printf("  %-58s %7.2fx  target >= %5.2fx  %s\n", what, measured, goal, measured >= goal ? "MET" : "MISSED");
}

int main(int argc, char **argv) {
    const struct prim *paths[4];
    int npaths = 0, i, k;
    const char *groups[] = {"mask 64 KiB", "UTF-8 ASCII 64 KiB", "UTF-8 mixed 64 KiB", "engine 20-byte text frames",
                            "engine 64 KiB binary frames"};
    unsigned char text_payload[TEXT_LEN], *bin_payload;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ms") && i + 1 < argc) round_s = atof(argv[++i]) / 1000.0;
        else {
            fprintf(stderr, "usage: bench_micro [--rounds N] [--ms M]\n");
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;

    ws_cfg.on_message = ws_on_message;
    paths[npaths++] = &prim_portable;
    paths[npaths++] = &prim_default;
#ifdef BENCH_HAVE_AVX2
    if (__builtin_cpu_supports("ssse3")) paths[npaths++] = &prim_ssse3;
    if (__builtin_cpu_supports("avx2")) paths[npaths++] = &prim_avx2;
#endif
    src = arena + (64 - (uintptr_t)arena % 64) % 64;
    dst = src + BIG + 2048;
    for (i = 0; i < BIG; i++) src[i] = (unsigned char)rnd(256);
    for (i = 0; i < BIG; i++) ascii_text[i] = (unsigned char)(' ' + rnd(95));
    make_mixed(mixed_text, BIG);
    if (prim_portable.utf8_validate(mixed_text, BIG) != 0) return 1;

    add(groups[0], "memcpy", run_memcpy, NULL, BIG, 0);
    for (i = 0; i < npaths; i++) add(groups[0], paths[i]->path, run_mask, paths[i], BIG, 0);
    add(groups[1], "memcpy", run_memcpy_ascii, NULL, BIG, 0);
    add(groups[1], "byte-at-a-time DFA", run_ascii_bytewise, &prim_portable, BIG, 0);
    for (i = 0; i < npaths; i++) add(groups[1], paths[i]->path, run_ascii, paths[i], BIG, 0);
    add(groups[2], "byte-at-a-time DFA", run_mixed_bytewise, &prim_portable, BIG, 0);
    for (i = 0; i < npaths; i++) add(groups[2], paths[i]->path, run_mixed, paths[i], BIG, 0);

    memset(text_payload, 'x', sizeof text_payload);
    memcpy(text_payload, "hello, websocket 42!", TEXT_LEN);
    bin_payload = (unsigned char *)malloc(BIN_LEN);
    if (!bin_payload) return 1;
    for (i = 0; i < BIN_LEN; i++) bin_payload[i] = (unsigned char)rnd(256);
    text_frames_len = build_frames(&text_frames, WS_OP_TEXT, text_payload, TEXT_LEN, TEXT_FRAMES);
    bin_frames_len = build_frames(&bin_frames, WS_OP_BINARY, bin_payload, BIN_LEN, BIN_FRAMES);
    add(groups[3], "ws.h", run_ws_engine, NULL, text_frames_len, TEXT_FRAMES);
    add(groups[4], "ws.h", run_ws_engine, NULL, bin_frames_len, BIN_FRAMES);
#ifdef BENCH_HAVE_WSLAY
    add(groups[3], "wslay", run_wslay, NULL, text_frames_len, TEXT_FRAMES);
    add(groups[4], "wslay", run_wslay, NULL, bin_frames_len, BIN_FRAMES);
#endif

    printf("bench_micro: %d rounds x %d cases, ~%.0f ms each, interleaved; ws.h engine built for the %s path\n",
           rounds, ncases, round_s * 1000, prim_default.path);
    for (k = 0; k < rounds; k++)
        for (i = 0; i < ncases; i++) cases[i].rate[k] = measure(&cases[i]);

    for (k = 0; k < (int)(sizeof groups / sizeof groups[0]); k++) {
        bench_case *base = NULL;
        printf("\n%s\n  %-22s %10s %20s %10s\n", groups[k], "", "GB/s", "min-max", "ratio");
        for (i = 0; i < ncases; i++) {
            bench_case *c = &cases[i];
            if (strcmp(c->group, groups[k])) continue;
            if (!base) base = c;
            printf("  %-22s %10.2f %9.2f-%-9.2f %9.2fx", c->name, median(c->rate, rounds) / 1e9,
                   minv(c->rate, rounds) / 1e9, maxv(c->rate, rounds) / 1e9, ratio(c, base));
            if (c->msgs) printf("  %.2f M frames/s", median(c->rate, rounds) / (double)c->bytes * (double)c->msgs / 1e6);
            printf("\n");
        }
        printf("  (ratio: against %s in the same round)\n", base ? base->name : "-");
    }

    printf("\nTargets (median of per-round ratios)\n");
    {
        bench_case *mc = find(groups[0], "memcpy"), *best = NULL, *c;
        for (i = 1; i < npaths; i++)
            if ((c = find(groups[0], paths[i]->path)) && (!best || ratio(c, mc) > ratio(best, mc))) best = c;
        if (best) {
            char what[96];
            snprintf(what, sizeof what, "masking 64 KiB (%s) vs memcpy", best->name);
            target(what, ratio(best, mc), 0.5);
        }
        for (i = 1; i < npaths; i++) {
            char what[96];
            bench_case *bw = find(groups[2], "byte-at-a-time DFA"), *am = find(groups[1], "memcpy");
            snprintf(what, sizeof what, "UTF-8 mixed (%s) vs byte-at-a-time DFA", paths[i]->path);
            target(what, ratio(find(groups[2], paths[i]->path), bw), 12.0);
            snprintf(what, sizeof what, "UTF-8 ASCII (%s) vs memcpy", paths[i]->path);
            target(what, ratio(find(groups[1], paths[i]->path), am), 0.5);
        }
        printf("  (for scale: the portable path, a shift DFA in blocks of 16 bytes, does mixed text at %.2fx the "
               "byte-at-a-time DFA)\n",
               ratio(find(groups[2], "portable"), find(groups[2], "byte-at-a-time DFA")));
#ifdef BENCH_HAVE_WSLAY
        printf("  engine vs wslay, 20-byte text frames: %.2fx; 64 KiB binary frames: %.2fx (no target)\n",
               ratio(find(groups[3], "ws.h"), find(groups[3], "wslay")),
               ratio(find(groups[4], "ws.h"), find(groups[4], "wslay")));
        printf("  note: wslay %s the UTF-8 of text messages; ws.h always does\n",
               wslay_checks_utf8() ? "checks" : "does not check");
#endif
    }
    free(text_frames), free(bin_frames), free(bin_payload);
    return 0;
}
